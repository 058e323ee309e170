//! `deploylab book preprocess`: mdbook's preprocessor protocol around
//! `book.rs`. mdbook first asks `… supports <renderer>` (every renderer is:
//! the pages are Markdown), then writes `[context, book]` as JSON on our
//! input and reads the book back from our output.

use std::io::Read;

use serde_json::Value;

use crate::book;
use crate::catalog::Catalog;
use crate::error::{Error, Result, exit};
use crate::i18n::{self, Lang, tr};

pub(super) fn preprocess(catalog: &Catalog, supports: bool) -> Result<i32> {
    if supports {
        return Ok(exit::OK);
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(Error::io("reading mdbook's book"))?;
    let out = run(catalog, &input)?;
    println!("{out}");
    Ok(exit::OK)
}

/// The book mdbook sent, its chapters rendered in the book's language
/// (`book.language` in book.toml).
pub(crate) fn run(catalog: &Catalog, input: &str) -> Result<String> {
    let bad = |why: String| Error::Book { why };
    let (context, mut book) = match serde_json::from_str::<Value>(input) {
        Ok(Value::Array(mut pair)) if pair.len() == 2 => {
            let book = pair.pop().unwrap_or_default();
            (pair.pop().unwrap_or_default(), book)
        }
        Ok(_) => return Err(bad(tr!("book-not-mdbook"))),
        Err(e) => return Err(bad(tr!("book-not-json", error = e))),
    };
    let tag = context["config"]["book"]["language"]
        .as_str()
        .unwrap_or("en");
    let lang =
        Lang::from_tag(tag).ok_or_else(|| bad(tr!("book-unknown-language", language = tag)))?;
    i18n::set(lang);
    // mdbook 0.5 calls the chapters `items`, 0.4 `sections`.
    for key in ["items", "sections"] {
        if let Some(items) = book.get_mut(key).and_then(Value::as_array_mut) {
            chapters(catalog, items)?;
        }
    }
    serde_json::to_string(&book).map_err(|e| bad(e.to_string()))
}

fn chapters(catalog: &Catalog, items: &mut [Value]) -> Result<()> {
    for item in items {
        let Some(chapter) = item.get_mut("Chapter") else {
            continue;
        };
        let name = chapter["name"].as_str().unwrap_or_default().to_string();
        let path = chapter["source_path"]
            .as_str()
            .or(chapter["path"].as_str())
            .unwrap_or_default()
            .to_string();
        if let Some(content) = chapter["content"].as_str() {
            chapter["content"] = Value::String(book::render(catalog, &name, &path, content)?);
        }
        if let Some(sub) = chapter.get_mut("sub_items").and_then(Value::as_array_mut) {
            chapters(catalog, sub)?;
        }
    }
    Ok(())
}
