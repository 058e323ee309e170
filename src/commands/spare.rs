//! `deploylab spare <lab>` (hidden): boots the lab's spare VM. `start` and
//! `stop` launch it in the background.

use crate::config::Config;
use crate::docker;
use crate::environment::{self, LoadedLab};
use crate::error::{Result, exit};
use crate::seam::Ctx;

pub(super) async fn run(ctx: &Ctx<'_>, lab: &str) -> Result<i32> {
    let loaded = environment::load(ctx.catalog, lab)?;
    if !loaded.keeps_spare() || !Config::spares(ctx.home)? {
        return Ok(exit::OK);
    }
    let docker = docker::connect().await?;
    loaded.make_spare(ctx, &docker).await?;
    Ok(exit::OK)
}

/// After a `start` or `stop` of `lab`: its next start's spare, booted in
/// the background, if the lab keeps one.
pub(super) fn keep(ctx: &Ctx<'_>, lab: &LoadedLab) {
    if lab.keeps_spare() {
        crate::spare::launch(ctx.home, &lab.lab.id);
    }
}
