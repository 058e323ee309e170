//! `deploylab stop [LAB] [--all]`: a lab's processes and every container,
//! network and volume labelled for it.

use crate::docker;
use crate::environment::State;
use crate::error::{Error, Result, exit};
use crate::seam::Ctx;

/// Messages shown here, kept together for translation.
mod text {
    pub(super) const NOTHING_TO_STOP: &str = "Nothing to stop: no lab is running.";

    pub(super) fn stopped(lab: &str, containers: usize) -> String {
        format!("Stopped {lab}: removed {containers} container(s).")
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, all: bool) -> Result<i32> {
    let home = ctx.home;
    let docker = docker::connect().await?;
    let mut state: State = home.load()?;
    let instance = home.instance();
    let labs: Vec<String> = if all {
        // Everything labelled for this home, known to the state file or not.
        let mut ids: Vec<String> = state.labs.keys().cloned().collect();
        for c in docker::labelled_containers(&docker, &instance, None).await? {
            if let Some(id) = c.labels.as_ref().and_then(|l| l.get(docker::LABEL_LAB))
                && !ids.contains(id)
            {
                ids.push(id.clone());
            }
        }
        ids
    } else {
        match state.pick(lab) {
            Ok((id, _)) => vec![id],
            Err(Error::NothingRunning) => {
                println!("{}", text::NOTHING_TO_STOP);
                return Ok(exit::OK);
            }
            Err(e) => return Err(super::unknown_or(ctx.catalog, e)),
        }
    };
    if labs.is_empty() {
        println!("{}", text::NOTHING_TO_STOP);
    }
    for lab in labs {
        if let Some(running) = state.labs.get(&lab) {
            running.stop();
        }
        let removed = docker::remove_lab_resources(&docker, &instance, &lab).await?;
        state.labs.remove(&lab);
        home.save(&state)?;
        println!("{}", text::stopped(&lab, removed));
    }
    Ok(exit::OK)
}
