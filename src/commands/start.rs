//! `deploylab start <lab>`: the lab's environment, Ctrl-C safe: on failure
//! or interruption, whatever this start created is removed.

use crate::docker;
use crate::environment::{self, State};
use crate::error::{Error, Result, exit};
use crate::seam::{Ctx, StartOptions};

pub(super) async fn run(ctx: &Ctx<'_>, lab: &str, options: StartOptions) -> Result<i32> {
    if let (Some(ssh), Some(http)) = (options.ssh_port, options.http_port)
        && ssh == http
    {
        return Err(Error::SamePort { port: ssh });
    }
    let fresh = options.fresh;
    let spare = options.spare;
    let loaded = environment::load(ctx.catalog, lab)?;
    let lab = &loaded.lab;
    let docker = docker::connect().await?;
    crate::interrupt::watch();
    // One start or stop at a time per home: what exists and the state are
    // read once it is held.
    let _held = ctx.home.lock(ctx.progress).await?;
    let instance = ctx.home.instance();
    let existed = !docker::labelled_containers(&docker, &instance, Some(&lab.id))
        .await?
        .is_empty();
    let mut state: State = ctx.home.load()?;
    let previous = state.labs.get(&lab.id).cloned();
    let result = loaded.start(ctx, &docker, previous, options).await;
    ctx.progress.finish();
    let running = match result {
        Ok(running) => running,
        // Only what this command created goes: a lab that was already
        // there before `start` (and not being replaced) stays.
        Err(e) => {
            if !existed || fresh {
                docker::remove_lab_resources(&docker, &instance, &lab.id).await?;
                state.labs.remove(&lab.id);
                ctx.home.save(&state)?;
            }
            return Err(e);
        }
    };
    state.labs.insert(lab.id.clone(), running.clone());
    ctx.home.save(&state)?;
    println!("{}", running.ready_text(ctx, lab));
    if spare {
        super::spare::keep(ctx, &loaded);
    }
    Ok(exit::OK)
}
