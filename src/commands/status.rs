//! `deploylab status`: the running labs, their state and ports.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::docker;
use crate::environment::State;
use crate::error::{Result, exit};
use crate::state::{Home, now};
use crate::vm::disk;

/// Messages shown here, kept together for translation.
mod text {
    pub(super) const NONE: &str =
        "No lab is running. `deploylab labs` lists them; `deploylab start <lab>` starts one.";
    pub(super) const HEADER: [&str; 8] = [
        "lab",
        "state",
        "ssh",
        "http",
        "disk written",
        "up since",
        "container",
        "package proxy",
    ];

    pub(super) fn left_behind(lab: &str) -> String {
        format!("left behind: `deploylab stop {lab}` removes it")
    }

    pub(super) fn since(ago: u64) -> String {
        match ago {
            0..=119 => format!("{ago} s ago"),
            120..=7199 => format!("{} min ago", ago / 60),
            _ => format!("{} h ago", ago / 3600),
        }
    }
}

pub(super) async fn run(home: &Home) -> Result<i32> {
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
        println!("{}", text::NONE);
        return Ok(exit::OK);
    }
    let containers = docker::labelled_containers(&docker, &home.instance(), None).await?;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(text::HEADER.to_vec());
    for (lab, running) in &state.labs {
        let row = running.status(&containers);
        // What a VM has written (its disk is not bounded, so it is watched).
        let written = match running.machine() {
            Ok(m) if row.state == "running" => disk::for_check(&docker, home, &m.container_id)
                .await
                .map_or_else(String::new, |d| disk::human(d.bytes)),
            _ => "-".into(),
        };
        table.add_row(vec![
            lab.clone(),
            row.state,
            row.ssh,
            row.http,
            written,
            text::since(now().saturating_sub(running.started_at())),
            row.place,
            row.proxy,
        ]);
    }
    for lab in unknown {
        let mut row = vec![String::new(); text::HEADER.len()];
        row[1] = text::left_behind(&lab);
        row[0] = lab;
        table.add_row(row);
    }
    println!("{table}");
    Ok(exit::OK)
}
