//! The course book's generated parts (`mdbook/`): a chapter's
//! `{{#deploylab …}}` directives become pages made from the program itself,
//! so the book never says what `check` does not do.
//!
//! - `{{#deploylab lab <id>}}`: the lab page (stages, checks, points,
//!   first-level hints) from its lab.yaml, in the book's language;
//! - `{{#deploylab check-kinds}}`: every check kind of every environment
//!   with its fields, from the check enums' own definitions (JSON Schema);
//! - `{{#deploylab cli}}`: every command and option, from clap;
//! - `{{#deploylab main-command}}`, `{{#deploylab test-command}}`: the
//!   README's two commands, word for word.
//!
//! And each page gets a link to the same page in the other language.
//! `commands/book.rs` speaks mdbook's preprocessor protocol around this.

use serde_json::Value;

use crate::catalog::Catalog;
use crate::environment;
use crate::error::{Error, Result};
use crate::i18n::{Lang, tr};
use crate::lab::Lab;

/// The README, whose two commands the quick start shows.
const README: &str = include_str!("../README.md");

/// One chapter's text with its directives replaced, in the run's language
/// (the book's, set by the caller). `path` is the chapter's source path in
/// the book (`labs/vm-nginx.md`), for the language switch.
pub(crate) fn render(
    catalog: &Catalog,
    chapter: &str,
    path: &str,
    content: &str,
) -> Result<String> {
    let lang = crate::i18n::current();
    let mut out = language_switch(lang, path);
    let mut rest = content;
    while let Some(at) = rest.find("{{#deploylab") {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find("}}") else {
            return Err(directive_error(chapter, &rest[at..]));
        };
        let directive = &rest[at + "{{#deploylab".len()..at + end];
        let words: Vec<&str> = directive.split_whitespace().collect();
        let page = match words.as_slice() {
            ["lab", id] => lab_page(&catalog.get(id)?),
            ["check-kinds"] => check_kinds(),
            ["cli"] => cli_reference(),
            ["main-command"] => readme_command(0)?,
            ["test-command"] => readme_command(1)?,
            _ => return Err(directive_error(chapter, &rest[at..at + end + 2])),
        };
        out.push_str(&page);
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn directive_error(chapter: &str, directive: &str) -> Error {
    Error::Book {
        why: tr!(
            "book-bad-directive",
            chapter = chapter,
            directive = directive
        ),
    }
}

/// A line linking to this page in the other languages. The books are
/// built side by side (`<out>/en/`, `<out>/pt-BR/`), with the same paths.
fn language_switch(lang: Lang, path: &str) -> String {
    let up = "../".repeat(path.matches('/').count() + 1);
    let page = path.strip_suffix(".md").unwrap_or(path);
    let page = if page.ends_with("README") || page == "index" {
        page.trim_end_matches("README")
            .trim_end_matches("index")
            .to_string()
            + "index"
    } else {
        page.to_string()
    };
    let links: Vec<String> = Lang::ALL
        .into_iter()
        .filter(|l| *l != lang)
        .map(|other| {
            format!(
                "<a class=\"deploylab-lang\" href=\"{up}{tag}/{page}.html\" hreflang=\"{tag}\" lang=\"{tag}\">{name}</a>",
                tag = other.tag(),
                name = crate::i18n::message_in(other, "book-language-name", None),
            )
        })
        .collect();
    format!("<p class=\"deploylab-langs\">{}</p>\n\n", links.join(" · "))
}

/// `{{word}}`s of a hint as a reader of the book sees them: the word, as
/// a placeholder the student's own deploy fills in.
fn placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        let Some(end) = rest[at..].find("}}") else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push('‹');
        out.push_str(&rest[at + 2..at + end]);
        out.push('›');
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    out
}

/// Text for a Markdown table cell or list item: one line, no column
/// break, and `<words>` outside code shown, not taken for HTML tags.
fn cell(text: &str) -> String {
    let line = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|");
    line.split('`')
        .enumerate()
        .map(|(i, part)| match i % 2 {
            0 => part.replace('<', "&lt;").replace('>', "&gt;"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A lab's page: what it is, how to start it, then each stage with its
/// checks, points, what they need and their first hint (never `hint
/// --more`, never the reference solution).
fn lab_page(lab: &Lab) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "> {}\n>\n> {}\n\n",
        tr!(
            "book-lab-facts",
            id = lab.id,
            environment = lab.environment.name(),
            stages = lab.stages.len(),
            points = lab.max_points(),
        ),
        tr!("book-lab-start", id = lab.id),
    ));
    out.push_str(&format!("{}\n\n", lab.summary.trim()));
    if lab.has_several_machines() {
        out.push_str(&format!(
            "{}\n\n",
            tr!("book-lab-machines", machines = lab.machines().join(", "))
        ));
    }
    for (i, stage) in lab.stages.iter().enumerate() {
        out.push_str(&format!(
            "### {}. {} — {}\n\n",
            i + 1,
            stage.id,
            stage.title
        ));
        if let Some(from) = &stage.from {
            out.push_str(&format!("{}\n\n", tr!("book-stage-from", lab = from.lab)));
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n|---|---|---:|---|\n",
            tr!("book-column-check"),
            tr!("book-column-title"),
            tr!("book-column-points"),
            tr!("book-column-needs"),
        ));
        for check in &stage.checks {
            let needs: Vec<String> = check.needs.iter().map(|n| format!("`{n}`")).collect();
            let mut title = cell(&check.title);
            if let Some(on) = &check.on {
                title.push_str(&format!(
                    " ({})",
                    tr!("book-check-on", machines = on.join(", "))
                ));
            }
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                check.id,
                title,
                check.points,
                needs.join(", ")
            ));
        }
        out.push_str(&format!("\n{}\n\n", tr!("book-hints")));
        for check in &stage.checks {
            out.push_str(&format!(
                "- **{}** — {}\n",
                cell(&check.title),
                cell(&placeholders(check.hint.trim()))
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!("{}\n", tr!("book-placeholders")));
    out
}

/// Every check kind of every environment, from the JSON Schemas of their
/// definitions: name, what it judges, its fields.
fn check_kinds() -> String {
    let mut out = String::new();
    for (environment, schema) in environment::check_kinds() {
        out.push_str(&format!(
            "### {}\n\n",
            tr!("book-kinds-environment", environment = environment)
        ));
        let schema = schema.as_value();
        let variants = schema["oneOf"].as_array().cloned().unwrap_or_default();
        for variant in variants {
            let Some((kind, body)) = variant["properties"]
                .as_object()
                .and_then(|p| p.iter().next())
            else {
                continue;
            };
            let about = variant["description"]
                .as_str()
                .or(body["description"].as_str())
                .unwrap_or_default();
            out.push_str(&format!("#### `{kind}`\n\n{}\n\n", cell(about)));
            let fields = body["properties"].as_object().cloned().unwrap_or_default();
            if fields.is_empty() {
                out.push_str(&format!("{}\n\n", tr!("book-kinds-no-fields", kind = kind)));
                continue;
            }
            let required: Vec<&str> = body["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            out.push_str(&format!(
                "| {} | {} | {} |\n|---|---|---|\n",
                tr!("book-kinds-field"),
                tr!("book-kinds-type"),
                tr!("book-kinds-required"),
            ));
            for (name, field) in &fields {
                let needed = match (required.contains(&name.as_str()), field.get("default")) {
                    (_, Some(default)) => tr!("book-kinds-default", value = default),
                    (true, None) => tr!("book-kinds-yes"),
                    (false, None) => tr!("book-kinds-no"),
                };
                out.push_str(&format!("| `{name}` | {} | {needed} |\n", type_of(field)));
            }
            let example: Vec<String> = fields
                .keys()
                .filter(|f| required.contains(&f.as_str()))
                .map(|f| format!("{f}: …"))
                .collect();
            out.push_str(&format!(
                "\n`expect: {{ {kind}: {{ {} }} }}`\n\n",
                example.join(", ")
            ));
        }
    }
    out
}

/// A field's type in a few words.
fn type_of(field: &Value) -> String {
    let one = |t: &Value| match t.as_str() {
        Some("array") => {
            let item = field["items"]["type"].as_str().unwrap_or("value");
            tr!("book-kinds-list-of", item = item)
        }
        Some("integer") => tr!("book-kinds-integer"),
        Some("string") => tr!("book-kinds-text"),
        Some(other) => other.to_string(),
        None => "?".to_string(),
    };
    match &field["type"] {
        Value::Array(types) => types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .map(one)
            .collect::<Vec<_>>()
            .join(" / "),
        t => one(t),
    }
}

/// Every command, its usage and its options, from clap.
fn cli_reference() -> String {
    let mut out = String::new();
    let mut root = crate::cli::command();
    root.build();
    out.push_str(&format!("{}\n\n", tr!("book-cli-intro")));
    let globals: Vec<&clap::Arg> = root.get_arguments().filter(|a| a.is_global_set()).collect();
    out.push_str(&format!("### {}\n\n", tr!("book-cli-global")));
    for arg in globals {
        out.push_str(&argument(arg));
    }
    out.push('\n');
    for command in root.get_subcommands().filter(|c| !c.is_hide_set()) {
        command_reference(&mut out, command, "deploylab");
    }
    out
}

fn command_reference(out: &mut String, command: &clap::Command, parent: &str) {
    let name = format!("{parent} {}", command.get_name());
    out.push_str(&format!("### `{name}`\n\n"));
    let about = command
        .get_long_about()
        .or(command.get_about())
        .map(ToString::to_string)
        .unwrap_or_default();
    out.push_str(&format!("{}\n\n", cell(about.trim())));
    let usage = command.clone().bin_name(&name).render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ");
    out.push_str(&format!("```text\n{usage}\n```\n\n"));
    for arg in command
        .get_arguments()
        .filter(|a| !a.is_global_set() && !a.is_hide_set())
    {
        if arg.get_id() == "help" {
            continue;
        }
        out.push_str(&argument(arg));
    }
    out.push('\n');
    for sub in command
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
    {
        command_reference(out, sub, &name);
    }
}

fn argument(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .map(|v| v.iter().map(|n| format!(" <{n}>")).collect::<String>())
        .unwrap_or_default();
    let name = match (arg.get_long(), arg.get_short()) {
        (Some(long), Some(short)) => format!("-{short}, --{long}{value}"),
        (Some(long), None) => format!("--{long}{value}"),
        (None, Some(short)) => format!("-{short}{value}"),
        (None, None) => format!("<{}>", arg.get_id().as_str().to_uppercase()),
    };
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    let values = match values.is_empty() {
        true => String::new(),
        false => format!(" ({})", tr!("book-cli-values", values = values.join(", "))),
    };
    format!("- `{name}`: {}{values}\n", cell(&help))
}

/// The README's command under "The two commands": the first (main job) or
/// the second (tests).
fn readme_command(which: usize) -> Result<String> {
    let section = README
        .split("## The two commands")
        .nth(1)
        .ok_or_else(|| Error::Book {
            why: tr!("book-no-readme-commands"),
        })?;
    section
        .split("```sh\n")
        .skip(1)
        .nth(which)
        .and_then(|block| block.split("```").next())
        .map(|command| format!("```sh\n{command}```\n"))
        .ok_or_else(|| Error::Book {
            why: tr!("book-no-readme-commands"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_page_shows_every_check_and_first_hints_only() {
        let lab = Catalog::BuiltIn.get_in("vm-nginx", Lang::En).unwrap();
        let page = lab_page(&lab);
        for check in lab.stages.iter().flat_map(|s| &s.checks) {
            assert!(
                page.contains(&format!("| `{}` |", check.id)),
                "{}",
                check.id
            );
            if let Some(more) = &check.hint_more {
                assert!(
                    !page.contains(more.trim()),
                    "hint --more of {} shown",
                    check.id
                );
            }
        }
        assert!(page.contains("‹app_dir›") || !page.contains("{{"), "{page}");
        assert!(page.contains("33"), "the lab's points");
    }

    #[test]
    fn every_check_kind_is_in_the_guide_with_its_fields() {
        let guide = check_kinds();
        for kind in [
            "ssh_banner",
            "tcp_listening",
            "heroku_http",
            "service_answers",
            "web_static",
        ] {
            assert!(guide.contains(&format!("#### `{kind}`")), "{kind}");
        }
        assert!(guide.contains("| `port` |"), "{guide}");
        assert!(guide.contains("| `packages` |"), "{guide}");
    }

    #[test]
    fn the_cli_reference_names_every_command() {
        let reference = cli_reference();
        for command in [
            "start",
            "check",
            "hint",
            "grade",
            "stop",
            "completions",
            "book",
        ] {
            assert!(
                reference.contains(&format!("### `deploylab {command}`")),
                "{command}"
            );
        }
        assert!(reference.contains("--lang <LANG>"), "{reference}");
    }

    /// Every lab has its chapter in every language's book, every book has
    /// the same chapters (the language switch leads somewhere), and each
    /// quick start shows the README's two commands.
    #[test]
    fn every_lab_has_its_page_in_every_language() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mdbook");
        let chapters = |lang: Lang| -> Vec<(String, String)> {
            let src = root.join(lang.tag()).join("src");
            let mut out = Vec::new();
            let mut stack = vec![src.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        let name = path.strip_prefix(&src).unwrap().display().to_string();
                        out.push((name, std::fs::read_to_string(&path).unwrap()));
                    }
                }
            }
            out.sort();
            out
        };
        let labs = Catalog::BuiltIn.all_in(Lang::En).unwrap();
        let names = |lang| {
            chapters(lang)
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
        };
        for lang in Lang::ALL {
            assert_eq!(
                names(lang),
                names(Lang::En),
                "{}: the same chapters",
                lang.tag()
            );
            let book = chapters(lang);
            let text: String = book.iter().map(|(_, t)| t.as_str()).collect();
            for lab in &labs {
                let page = format!("labs/{}.md", lab.id);
                let (_, chapter) = book
                    .iter()
                    .find(|(n, _)| *n == page)
                    .unwrap_or_else(|| panic!("{}: no {page}", lang.tag()));
                assert!(
                    chapter.contains(&format!("{{{{#deploylab lab {}}}}}", lab.id)),
                    "{page}"
                );
                assert!(
                    text.contains(&format!("]({page})")),
                    "{}: SUMMARY.md lists {page}",
                    lang.tag()
                );
            }
            let (_, start) = book.iter().find(|(n, _)| n == "index.md").unwrap();
            assert!(
                start.contains("{{#deploylab main-command}}"),
                "{}",
                lang.tag()
            );
            assert!(
                start.contains("{{#deploylab test-command}}"),
                "{}",
                lang.tag()
            );
        }
    }

    #[test]
    fn the_readme_commands_are_found() {
        assert!(readme_command(0).unwrap().contains("start vm-nginx"));
        assert_eq!(
            readme_command(1).unwrap(),
            "```sh\ncargo nextest run\n```\n"
        );
    }

    #[test]
    fn the_language_switch_points_at_the_same_page() {
        assert!(
            language_switch(Lang::En, "labs/vm-nginx.md")
                .contains("href=\"../../pt-BR/labs/vm-nginx.html\"")
        );
        assert!(language_switch(Lang::PtBr, "index.md").contains("href=\"../en/index.html\""));
    }

    #[test]
    fn an_unknown_directive_is_an_error_naming_the_chapter() {
        let err = render(&Catalog::BuiltIn, "x.md", "x.md", "a {{#deploylab nope}} b").unwrap_err();
        assert!(err.to_string().contains("x.md"), "{err}");
        let err = render(&Catalog::BuiltIn, "x.md", "x.md", "{{#deploylab lab nope}}").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
