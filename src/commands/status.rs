//! `deploylab status`: the running labs, their state and where they answer.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::docker;
use crate::environment::State;
use crate::error::{Result, exit};
use crate::seam::{Ctx, StatusRow};
use crate::state::now;
use crate::units;

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn none() -> String {
        tr!("cmd-status-none")
    }
    pub(super) fn lab() -> String {
        tr!("cmd-status-lab")
    }
    pub(super) fn state() -> String {
        tr!("cmd-status-state")
    }
    pub(super) fn written() -> String {
        tr!("cmd-status-written")
    }
    pub(super) fn up_since() -> String {
        tr!("cmd-status-since")
    }
    pub(super) fn place() -> String {
        tr!("cmd-status-place")
    }
    pub(super) fn proxy() -> String {
        tr!("cmd-status-proxy")
    }
    /// A cell of a column the lab has nothing for.
    pub(super) fn nothing() -> String {
        tr!("cmd-status-nothing")
    }

    pub(super) fn left_behind(lab: &str) -> String {
        tr!("cmd-status-left-behind", lab = lab)
    }

    pub(super) fn since(ago: u64) -> String {
        match ago {
            0..=119 => tr!("cmd-status-seconds-ago", count = ago),
            120..=7199 => tr!("cmd-status-minutes-ago", count = ago / 60),
            _ => tr!("cmd-status-hours-ago", count = ago / 3600),
        }
    }
}

pub(super) async fn run(ctx: &Ctx<'_>) -> Result<i32> {
    let home = ctx.home;
    let docker = docker::connect().await?;
    let state: State = home.load()?;
    // What the engine holds of this home that the state file does not know
    // (a start killed with SIGKILL, a lost state file) is shown too.
    let unknown: Vec<String> = docker::labelled_lab_ids(&docker, &home.instance())
        .await?
        .into_iter()
        .filter(|id| !state.labs.contains_key(id))
        .collect();
    if state.labs.is_empty() && unknown.is_empty() {
        println!("{}", text::none());
        return Ok(exit::OK);
    }
    let containers = docker::labelled_containers(&docker, &home.instance(), None).await?;
    let mut rows = Vec::new();
    for (lab, running) in &state.labs {
        let row = running.status(ctx, &docker, &containers).await;
        rows.push((lab.clone(), row, running.started_at()));
    }
    let columns = Columns::of(rows.iter().map(|(_, row, _)| row));
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(columns.header());
    for (lab, row, started_at) in rows {
        table.add_row(columns.cells(lab, row, started_at));
    }
    for lab in unknown {
        let mut row = vec![String::new(); columns.header().len()];
        row[1] = text::left_behind(&lab);
        row[0] = lab;
        table.add_row(row);
    }
    println!("{table}");
    Ok(exit::OK)
}

/// The table's columns: the environments' endpoints by name, in the order
/// they first appear, and "disk written" only where some lab's is watched.
struct Columns {
    endpoints: Vec<&'static str>,
    written: bool,
}

impl Columns {
    fn of<'a>(rows: impl Iterator<Item = &'a StatusRow>) -> Columns {
        let mut columns = Columns {
            endpoints: Vec::new(),
            written: false,
        };
        for row in rows {
            for (name, _) in &row.endpoints {
                if !columns.endpoints.contains(name) {
                    columns.endpoints.push(name);
                }
            }
            columns.written |= row.written.is_some();
        }
        columns
    }

    fn header(&self) -> Vec<String> {
        let mut header = vec![text::lab(), text::state()];
        header.extend(self.endpoints.iter().map(ToString::to_string));
        if self.written {
            header.push(text::written());
        }
        header.extend([text::up_since(), text::place(), text::proxy()]);
        header
    }

    fn cells(&self, lab: String, row: StatusRow, started_at: u64) -> Vec<String> {
        let mut cells = vec![lab, row.state];
        for name in &self.endpoints {
            let value = row.endpoints.iter().find(|(n, _)| n == name);
            cells.push(value.map_or_else(text::nothing, |(_, v)| v.clone()));
        }
        if self.written {
            cells.push(row.written.map_or_else(text::nothing, units::human_bytes));
        }
        cells.extend([
            text::since(now().saturating_sub(started_at)),
            row.place,
            row.proxy,
        ]);
        cells
    }
}
