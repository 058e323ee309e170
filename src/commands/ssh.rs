//! `deploylab ssh [-- COMMAND]`: the system's ssh client, into the lab's VM.

use super::running_lab;
use crate::error::{Error, Result, exit};
use crate::seam::Ctx;

pub(super) fn run(
    ctx: &Ctx<'_>,
    lab: Option<&str>,
    machine: Option<&str>,
    command: &[String],
) -> Result<i32> {
    let (loaded, running) = running_lab(ctx, lab)?;
    let status = loaded
        .ssh(ctx, &running, machine)?
        .args(command)
        .status()
        .map_err(Error::io("running ssh"))?;
    Ok(status.code().unwrap_or(exit::ENVIRONMENT))
}
