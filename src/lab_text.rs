//! A lab's words in another language: a gettext catalog beside its
//! `lab.yaml` (`labs/<id>/pt-BR.po`). English stays in lab.yaml, the one
//! source of truth; each text of it is a message whose context says where
//! it is (`check/nginx-installed/hint`) and whose msgid is the English, so a
//! changed English text finds no translation (English is shown, and the
//! completeness test fails) rather than a stale one. Lab authors edit these
//! files with any gettext tool; `deploylab labs --po <lab>` writes a fresh one.

use std::collections::BTreeMap;

use polib::catalog::Catalog;
use polib::message::Message;
use polib::metadata::CatalogMetadata;

use crate::i18n::Lang;
use crate::lab::Lab;

/// One text of a lab: where it is, and its English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text {
    pub(crate) context: String,
    pub(crate) english: String,
}

/// Every text of a lab a person reads, in lab.yaml's order: its title and
/// summary, each stage's title, each check's title, hint and `hint --more`,
/// and the hints a stage tells its own way for checks it takes by `from:`.
pub(crate) fn texts(lab: &Lab) -> Vec<Text> {
    let mut out = Vec::new();
    let mut add = |context: String, english: &str| {
        let english = english.trim();
        if !english.is_empty() {
            out.push(Text {
                context,
                english: english.to_string(),
            });
        }
    };
    add("title".into(), &lab.title);
    add("summary".into(), &lab.summary);
    for stage in &lab.stages {
        add(format!("stage/{}", stage.id), &stage.title);
        // Only the stage's own checks: taken ones are translated by the
        // lab they come from.
        let own = stage
            .imported
            .as_ref()
            .map_or(stage.checks.len(), |i| i.own);
        for check in stage.checks.iter().take(own) {
            add(format!("check/{}", check.id), &check.title);
            add(format!("check/{}/hint", check.id), &check.hint);
            if let Some(more) = &check.hint_more {
                add(format!("check/{}/hint_more", check.id), more);
            }
        }
        if let Some(from) = &stage.from {
            for (id, told) in &from.hints {
                add(format!("from/{id}/hint"), &told.hint);
                if let Some(more) = &told.hint_more {
                    add(format!("from/{id}/hint_more"), more);
                }
            }
        }
    }
    out
}

/// A lab's catalog for one language, read: translations by context, each
/// with the English it translates.
#[derive(Debug, Default)]
pub(crate) struct Translations {
    by_context: BTreeMap<String, (String, String)>,
}

impl Translations {
    /// Reads a `.po` file's text; `file` names it in errors.
    pub(crate) fn parse(file: &str, text: &str) -> Result<Translations, String> {
        let catalog = polib::po_file::parse_from_reader(text.as_bytes())
            .map_err(|e| format!("{file}: {e}"))?;
        let mut by_context = BTreeMap::new();
        for message in catalog.messages() {
            if message.is_translated() && !message.flags().is_fuzzy() {
                by_context.insert(
                    message.msgctxt().unwrap_or_default().to_string(),
                    (
                        message.msgid().to_string(),
                        message.msgstr().unwrap_or_default().to_string(),
                    ),
                );
            }
        }
        Ok(Translations { by_context })
    }

    /// The translation of `text`, if there is one of this very English.
    pub(crate) fn of(&self, text: &Text) -> Option<&str> {
        self.by_context
            .get(&text.context)
            .filter(|(english, _)| *english == text.english)
            .map(|(_, translated)| translated.as_str())
    }

    /// Contexts the catalog translates that the lab no longer has, or whose
    /// English changed since (for the completeness test).
    #[cfg(test)]
    pub(crate) fn stale<'a>(&'a self, texts: &[Text]) -> Vec<&'a str> {
        self.by_context
            .iter()
            .filter(|(context, (english, _))| {
                !texts
                    .iter()
                    .any(|t| &t.context == *context && &t.english == english)
            })
            .map(|(context, _)| context.as_str())
            .collect()
    }
}

/// Puts a lab's translated texts in place of the English ones; a text
/// without a translation stays English.
pub(crate) fn localise(lab: &mut Lab, translations: &Translations) {
    let texts = texts(lab);
    let find = |context: &str| {
        texts
            .iter()
            .find(|t| t.context == context)
            .and_then(|t| translations.of(t))
            .map(str::to_string)
    };
    if let Some(t) = find("title") {
        lab.title = t;
    }
    if let Some(t) = find("summary") {
        lab.summary = t;
    }
    for stage in &mut lab.stages {
        if let Some(t) = find(&format!("stage/{}", stage.id)) {
            stage.title = t;
        }
        for check in &mut stage.checks {
            if let Some(t) = find(&format!("check/{}", check.id)) {
                check.title = t;
            }
            if let Some(t) = find(&format!("check/{}/hint", check.id)) {
                check.hint = t;
            }
            if let Some(t) = find(&format!("check/{}/hint_more", check.id)) {
                check.hint_more = Some(t);
            }
        }
        if let Some(from) = &mut stage.from {
            for (id, told) in &mut from.hints {
                if let Some(t) = find(&format!("from/{id}/hint")) {
                    told.hint = t;
                }
                if let Some(t) = find(&format!("from/{id}/hint_more")) {
                    told.hint_more = Some(t);
                }
            }
        }
    }
}

/// A catalog of a lab's texts for `lang`: each text with the translation
/// `old` has for it (empty where none), for a lab author to fill in.
pub(crate) fn po_file(lab: &Lab, lang: Lang, old: &Translations) -> String {
    let mut metadata = CatalogMetadata::new();
    metadata.project_id_version = format!("deploylab lab {}", lab.id);
    metadata.language = lang.tag().to_string();
    metadata.mime_version = "1.0".into();
    metadata.content_type = "text/plain; charset=UTF-8".into();
    metadata.content_transfer_encoding = "8bit".into();
    let mut catalog = Catalog::new(metadata);
    for text in texts(lab) {
        let translated = old.of(&text).unwrap_or_default().to_string();
        catalog.append_or_update(
            Message::build_singular()
                .with_msgctxt(text.context)
                .with_msgid(text.english)
                .with_msgstr(translated)
                .done(),
        );
    }
    let mut out = Vec::new();
    {
        let mut writer = std::io::BufWriter::new(&mut out);
        polib::po_file::write(&catalog, &mut writer).expect("writing to memory");
    }
    String::from_utf8(out).expect("the catalog is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    /// The `{{word}}`s a text says (filled in, so a translation keeps
    /// each) and how many `code` spans it has (typed, so a translation
    /// keeps them; their placeholders may be translated).
    fn kept_parts(text: &str) -> (Vec<&str>, usize) {
        let mut words: Vec<&str> = text
            .split("{{")
            .skip(1)
            .filter_map(|piece| piece.split_once("}}").map(|(word, _)| word))
            .collect();
        words.sort_unstable();
        (words, text.matches('`').count() / 2)
    }

    /// Every lab has every text in every language, each translation of the
    /// English lab.yaml says now, and nothing else: a lab added, or a text
    /// changed, fails here until it is translated.
    #[test]
    fn every_lab_text_exists_in_every_language() {
        let catalog = Catalog::BuiltIn;
        let labs = catalog.all_in(Lang::En).unwrap();
        assert!(labs.len() >= 5, "the built-in labs");
        let mut problems = Vec::new();
        for lab in &labs {
            let texts = texts(lab);
            for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
                let file = format!("labs/{}/{}.po", lab.id, lang.tag());
                let translations = catalog.translations(lab, lang).unwrap();
                for text in &texts {
                    match translations.of(text) {
                        None => problems.push(format!("{file}: no translation of {}", text.context)),
                        Some(t) if kept_parts(t) != kept_parts(&text.english) => problems.push(format!(
                            "{file}: {} does not keep the {{{{words}}}} and `code` of the English",
                            text.context
                        )),
                        Some(_) => {}
                    }
                }
                for context in translations.stale(&texts) {
                    problems.push(format!(
                        "{file}: {context} translates a text the lab no longer has"
                    ));
                }
            }
        }
        assert!(
            problems.is_empty(),
            "{}\n(`deploylab --lang <lang> labs --po <lab>` writes the catalog to fill in)",
            problems.join("\n")
        );
    }

    #[test]
    fn a_changed_english_text_finds_no_translation() {
        let translations = Translations::parse(
            "t.po",
            "msgid \"\"\nmsgstr \"Language: pt-BR\\n\"\n\nmsgctxt \"title\"\nmsgid \"Old\"\nmsgstr \"Velho\"\n",
        )
        .unwrap();
        let old = Text {
            context: "title".into(),
            english: "Old".into(),
        };
        let new = Text {
            context: "title".into(),
            english: "New".into(),
        };
        assert_eq!(translations.of(&old), Some("Velho"));
        assert_eq!(translations.of(&new), None);
        assert_eq!(translations.stale(&[new]), vec!["title"]);
    }

    #[test]
    fn the_portuguese_lab_reads_portuguese_and_keeps_its_checks() {
        let catalog = Catalog::BuiltIn;
        let en = catalog.get_in("vm-nginx", Lang::En).unwrap();
        let pt = catalog.get_in("vm-nginx", Lang::PtBr).unwrap();
        assert_eq!(pt.title, "Blog Django atrás do nginx numa VM Debian, à mão");
        let ids = |lab: &Lab| -> Vec<String> {
            lab.stages
                .iter()
                .flat_map(|s| &s.checks)
                .map(|c| c.id.clone())
                .collect()
        };
        assert_eq!(ids(&en), ids(&pt));
        // A check taken by another lab comes with its translation, and the
        // hint that lab tells its own way in that lab's language.
        let ansible = catalog.get_in("vm-ansible", Lang::PtBr).unwrap();
        let venv = ansible
            .stages
            .iter()
            .flat_map(|s| &s.checks)
            .find(|c| c.id == "venv")
            .unwrap();
        assert_eq!(venv.title, "~/.venv é um ambiente virtual que funciona");
        assert!(
            venv.hint
                .starts_with("Crie o ambiente virtual com o usuário do deploy"),
            "{}",
            venv.hint
        );
    }

    #[test]
    fn a_fresh_catalog_keeps_what_is_translated() {
        let catalog = Catalog::BuiltIn;
        let lab = catalog.get_in("heroku", Lang::En).unwrap();
        let kept = catalog.translations(&lab, Lang::PtBr).unwrap();
        let written = po_file(&lab, Lang::PtBr, &kept);
        let again = Translations::parse("again.po", &written).unwrap();
        for text in texts(&lab) {
            assert_eq!(again.of(&text), kept.of(&text), "{}", text.context);
        }
        assert!(written.contains("Language: pt-BR"), "{written}");
    }
}
