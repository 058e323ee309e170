//! `deploylab labs`: the labs there are.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::catalog::Catalog;
use crate::environment;
use crate::error::{Result, exit};

pub(super) fn run(catalog: &Catalog) -> Result<i32> {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec!["lab", "environment", "stages", "points", "title"]);
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
