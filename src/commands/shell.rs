//! `deploylab shell`: a shell in the VM as the student, through Docker.

use super::running_lab;
use crate::docker;
use crate::error::Result;
use crate::seam::Ctx;

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, machine: Option<&str>) -> Result<i32> {
    let (loaded, running) = running_lab(ctx, lab)?;
    let target = loaded.shell(&running, machine)?;
    let docker = docker::connect().await?;
    crate::shell::interactive(&docker, &target.container, &target.user).await
}
