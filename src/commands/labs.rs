//! `deploylab labs`: the labs there are.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::catalog::Catalog;
use crate::environment;
use crate::error::{Error, Result, exit};
use crate::i18n::{self, Lang, tr};
use crate::lab_text;

pub(super) fn run(catalog: &Catalog, po: Option<&str>) -> Result<i32> {
    if let Some(id) = po {
        return print_po(catalog, id);
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        tr!("labs-header-lab"),
        tr!("labs-header-environment"),
        tr!("labs-header-stages"),
        tr!("labs-header-points"),
        tr!("labs-header-title"),
    ]);
    for loaded in environment::load_all(catalog)? {
        let lab = &loaded.lab;
        table.add_row(vec![
            lab.id.clone(),
            lab.environment.name().to_string(),
            lab.stages.len().to_string(),
            lab.max_points().to_string(),
            lab.title.clone(),
        ]);
    }
    println!("{table}");
    Ok(exit::OK)
}

/// A lab's catalog for the run's language: its English texts with the
/// translations kept from its `<lang>.po`. In English there is nothing to
/// translate.
fn print_po(catalog: &Catalog, id: &str) -> Result<i32> {
    let lang = i18n::current();
    if lang == Lang::En {
        return Err(Error::PoNeedsLanguage);
    }
    let english = catalog.get_in(id, Lang::En)?;
    let kept = catalog.translations(&english, lang)?;
    print!("{}", lab_text::po_file(&english, lang, &kept));
    Ok(exit::OK)
}
