//! `deploylab stop [LAB] [--all]`: a lab's processes and every container,
//! network and volume labelled for it.

use crate::docker;
use crate::environment::State;
use crate::error::{Error, Result, exit};
use crate::seam::Ctx;

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn nothing_to_stop() -> String {
        tr!("cmd-stop-nothing-to-stop")
    }

    pub(super) fn stopped(lab: &str, containers: usize) -> String {
        tr!("cmd-stop-stopped", lab = lab, containers = containers)
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, all: bool) -> Result<i32> {
    let home = ctx.home;
    let docker = docker::connect().await?;
    let _held = home.lock(ctx.progress).await?;
    let mut state: State = home.load()?;
    let instance = home.instance();
    // The engine's truth, not only the state file's: a lab whose `start`
    // was killed, or whose state was lost, still carries this home's labels.
    let mut known: Vec<String> = state.labs.keys().cloned().collect();
    for id in docker::labelled_lab_ids(&docker, &instance).await? {
        if !known.contains(&id) {
            known.push(id);
        }
    }
    let labs: Vec<String> = match (all, lab) {
        (true, _) => known,
        (false, Some(id)) if known.iter().any(|k| k == id) => vec![id.to_string()],
        (false, Some(id)) => {
            let e = Error::LabNotRunning { lab: id.into() };
            return Err(super::unknown_or(ctx.catalog, e));
        }
        (false, None) => match known.as_slice() {
            [] => {
                println!("{}", text::nothing_to_stop());
                return Ok(exit::OK);
            }
            [only] => vec![only.clone()],
            several => {
                return Err(Error::WhichLab {
                    running: several.join(", "),
                });
            }
        },
    };
    if labs.is_empty() {
        println!("{}", text::nothing_to_stop());
    }
    for lab in &labs {
        // A spare being made meanwhile would lose its network to this stop.
        let _spare = crate::spare::lock(home, lab, true).await?;
        if let Some(running) = state.labs.get(lab) {
            running.stop(home);
        }
        let removed = docker::remove_lab_resources(&docker, &instance, lab).await?;
        state.labs.remove(lab);
        home.save(&state)?;
        println!("{}", text::stopped(lab, removed));
    }
    // `--all` leaves nothing, spares included; a lab stopped alone keeps
    // its next start's spare coming.
    if all {
        crate::spare::remove_all(&docker, home).await?;
    } else if crate::config::Config::spares(home)? {
        for lab in &labs {
            if let Ok(loaded) = crate::environment::load(ctx.catalog, lab) {
                super::spare::keep(ctx, &loaded);
            }
        }
    }
    Ok(exit::OK)
}
