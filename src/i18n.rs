//! The language people read: English or Brazilian Portuguese, picked once
//! per run (`--lang`, else `DEPLOYLAB_LANG`, else the locale), and the
//! catalogs that hold deploylab's own words.
//!
//! deploylab's messages are Fluent catalogs (`locales/<lang>/deploylab.ftl`,
//! compiled in); code asks for a message by id with [`tr!`]. Labs carry
//! their own translations as gettext catalogs beside `lab.yaml`
//! (`lab_text`), so a lab author adds a language without touching Rust.
//! Machine outputs (JSON field names, ids, exit codes) never change with
//! the language; what a person reads does.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

/// The languages deploylab speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Lang {
    #[default]
    #[value(name = "en")]
    En,
    #[value(name = "pt-BR", alias = "pt", alias = "pt_BR", alias = "pt-br")]
    PtBr,
}

impl Lang {
    pub(crate) const ALL: [Lang; 2] = [Lang::En, Lang::PtBr];

    /// The BCP 47 tag: file names, the book's folders, `<html lang>`.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::PtBr => "pt-BR",
        }
    }

    /// A language by tag, as given to `--lang` or `DEPLOYLAB_LANG`.
    pub(crate) fn from_tag(tag: &str) -> Option<Lang> {
        <Lang as clap::ValueEnum>::from_str(tag, true).ok()
    }

    /// A POSIX locale (`pt_BR.UTF-8`, `en_US`, `C`): Portuguese for any
    /// `pt…` (Brazilian is the only Portuguese we have), else English.
    fn of_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("pt") {
            Lang::PtBr
        } else {
            Lang::En
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en/deploylab.ftl"),
            Lang::PtBr => include_str!("../locales/pt-BR/deploylab.ftl"),
        }
    }
}

/// The language of this run, picked in [`pick`]: the flag (clap reads
/// `DEPLOYLAB_LANG` into it too), else the first locale variable set
/// (`LC_ALL`, `LC_MESSAGES`, `LANG`: POSIX's order), else English.
pub(crate) fn pick(flag: Option<Lang>) -> Lang {
    flag.unwrap_or_else(|| {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.is_empty())
            .map_or(Lang::En, |locale| Lang::of_locale(&locale))
    })
}

/// This run's language, by its index in [`Lang::ALL`].
static CURRENT: AtomicU8 = AtomicU8::new(0);

/// Sets this run's language: at start, from [`pick`]; the book's
/// preprocessor sets the book's.
pub(crate) fn set(lang: Lang) {
    let index = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    CURRENT.store(index as u8, Ordering::Relaxed);
}

/// This run's language (English until [`set`]; tests run in English).
pub(crate) fn current() -> Lang {
    Lang::ALL[usize::from(CURRENT.load(Ordering::Relaxed)) % Lang::ALL.len()]
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static BUNDLES: [OnceLock<FluentBundle<FluentResource>>; 2] =
        [OnceLock::new(), OnceLock::new()];
    let index = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    BUNDLES[index].get_or_init(|| {
        let id: LanguageIdentifier = lang.tag().parse().expect("a valid language tag");
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Terminal text: no Unicode isolation marks around arguments.
        bundle.set_use_isolating(false);
        let resource = FluentResource::try_new(lang.source().to_string())
            .expect("the catalogs parse (tested in i18n::tests)");
        bundle
            .add_resource(resource)
            .expect("no message is defined twice (tested)");
        bundle
    })
}

/// The command line's help texts in languages other than English (the
/// English is clap's own definitions).
fn cli_bundle(lang: Lang) -> Option<&'static FluentBundle<FluentResource>> {
    static PT_BR: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let source = match lang {
        Lang::En => return None,
        Lang::PtBr => include_str!("../locales/pt-BR/cli.ftl"),
    };
    Some(PT_BR.get_or_init(|| {
        let id: LanguageIdentifier = lang.tag().parse().expect("a valid language tag");
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        bundle.set_use_isolating(false);
        let resource =
            FluentResource::try_new(source.to_string()).expect("cli.ftl parses (tested)");
        bundle
            .add_resource(resource)
            .expect("no help text twice (tested)");
        bundle
    }))
}

/// A help text of the command line in `lang`, if that language has it.
pub(crate) fn cli_text(lang: Lang, key: &str) -> Option<String> {
    let bundle = cli_bundle(lang)?;
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    Some(
        bundle
            .format_pattern(pattern, None, &mut errors)
            .into_owned(),
    )
}

/// Every key of a language's help texts (for the completeness test).
#[cfg(test)]
pub(crate) fn cli_keys(lang: Lang) -> Vec<String> {
    let source = match lang {
        Lang::En => return Vec::new(),
        Lang::PtBr => include_str!("../locales/pt-BR/cli.ftl"),
    };
    let resource = fluent_syntax::parser::parse(source).expect("cli.ftl parses");
    resource
        .body
        .iter()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

/// Message `id` in `lang`, its arguments filled in. A message missing in
/// `lang` falls back to English; missing in English it shows its id (the
/// tests make both impossible).
pub(crate) fn message_in(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> String {
    for lang in [lang, Lang::En] {
        let bundle = bundle(lang);
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle
                .format_pattern(pattern, args, &mut errors)
                .into_owned();
        }
    }
    id.to_string()
}

/// Message `id` in this run's language.
pub(crate) fn message(id: &str, args: Option<&FluentArgs<'_>>) -> String {
    message_in(current(), id, args)
}

/// `tr!("id")` or `tr!("id", name = value, …)`: a message of
/// `locales/<lang>/deploylab.ftl` in this run's language. Values are
/// anything that displays; numbers are passed as text so Fluent does not
/// format them by locale (ports and ids must not read `8.080`).
macro_rules! tr {
    ($id:literal) => {
        $crate::i18n::message($id, None)
    };
    ($id:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = fluent_bundle::FluentArgs::new();
        $(args.set(stringify!($name), ($value).to_string());)+
        $crate::i18n::message($id, Some(&args))
    }};
}
pub(crate) use tr;

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast;

    /// Every message id with the names of its variables, per language.
    fn messages(lang: Lang) -> std::collections::BTreeMap<String, Vec<String>> {
        let resource = fluent_syntax::parser::parse(lang.source())
            .unwrap_or_else(|(_, errors)| panic!("{} does not parse: {errors:?}", lang.tag()));
        let mut out = std::collections::BTreeMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = Vec::new();
                if let Some(pattern) = &m.value {
                    variables(pattern, &mut vars);
                }
                vars.sort();
                vars.dedup();
                assert!(
                    out.insert(m.id.name.to_string(), vars).is_none(),
                    "{}: '{}' is defined twice",
                    lang.tag(),
                    m.id.name
                );
            }
        }
        out
    }

    fn variables(pattern: &ast::Pattern<&str>, out: &mut Vec<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    fn expression_variables(expression: &ast::Expression<&str>, out: &mut Vec<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for variant in variants {
                    variables(&variant.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_variables(inline, out),
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut Vec<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => out.push(id.name.to_string()),
            ast::InlineExpression::Placeable { expression } => {
                expression_variables(expression, out);
            }
            _ => {}
        }
    }

    #[test]
    fn both_catalogs_have_the_same_messages_with_the_same_variables() {
        let en = messages(Lang::En);
        let pt = messages(Lang::PtBr);
        let only_en: Vec<_> = en.keys().filter(|k| !pt.contains_key(*k)).collect();
        let only_pt: Vec<_> = pt.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(
            only_en.is_empty(),
            "English only (translate them): {only_en:?}"
        );
        assert!(only_pt.is_empty(), "Portuguese only: {only_pt:?}");
        for (id, vars) in &en {
            assert_eq!(vars, &pt[id], "'{id}' uses other variables in pt-BR");
        }
    }

    /// Every `tr!("id"…)` in the code names a message of the catalogs, and
    /// every message is used: a message only in the code would print its
    /// id, one only in the catalogs is dead text to translate.
    #[test]
    fn the_code_and_the_catalogs_name_the_same_messages() {
        let en = messages(Lang::En);
        let mut used = std::collections::BTreeSet::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (at, call) in text.match_indices("tr!(") {
                        let before = text[..at].chars().next_back().unwrap_or(' ');
                        let Some(rest) = text[at + call.len()..].trim_start().strip_prefix('"')
                        else {
                            continue;
                        };
                        if before.is_alphanumeric() || before == '_' || path.ends_with("i18n.rs") {
                            continue; // include_str!, or this module's own docs
                        }
                        let id = rest.split('"').next().unwrap();
                        assert!(en.contains_key(id), "{}: no message '{id}'", path.display());
                        used.insert(id.to_string());
                    }
                    // A message in a named language: `message_in(lang, "id", …)`.
                    for piece in text.split("message_in(").skip(1) {
                        if let Some(id) = piece.split('"').nth(1) {
                            used.insert(id.to_string());
                        }
                    }
                }
            }
        }
        let unused: Vec<_> = en.keys().filter(|k| !used.contains(*k)).collect();
        assert!(unused.is_empty(), "messages no code uses: {unused:?}");
    }

    #[test]
    fn the_locale_picks_portuguese_for_any_pt_and_english_otherwise() {
        assert_eq!(Lang::of_locale("pt_BR.UTF-8"), Lang::PtBr);
        assert_eq!(Lang::of_locale("pt_PT"), Lang::PtBr);
        assert_eq!(Lang::of_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::of_locale("C"), Lang::En);
        assert_eq!(Lang::from_tag("pt-BR"), Some(Lang::PtBr));
        assert_eq!(Lang::from_tag("pt_BR"), Some(Lang::PtBr));
        assert_eq!(Lang::from_tag("fr"), None);
    }

    #[test]
    fn arguments_are_filled_in_without_isolation_marks() {
        let mut args = FluentArgs::new();
        args.set("by", "venv");
        args.set("own", "x");
        let text = message_in(Lang::PtBr, "report-blocked-detail", Some(&args));
        assert_eq!(text, "bloqueada por: venv (x)");
        assert_eq!(
            message_in(Lang::En, "report-blocked-detail", Some(&args)),
            "blocked by: venv (x)"
        );
    }
}
