//! `deploylab restart`: reboots the lab's VM (systemd shuts down and boots
//! again; files are kept).

use std::time::Instant;

use super::running_lab;
use crate::docker;
use crate::error::{Result, exit};
use crate::seam::Ctx;

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn rebooting(lab: &str) -> String {
        tr!("cmd-restart-rebooting", lab = lab)
    }

    pub(super) fn rebooted(lab: &str, seconds: f64) -> String {
        tr!(
            "cmd-restart-rebooted",
            lab = lab,
            seconds = format!("{seconds:.1}")
        )
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, machine: Option<&str>) -> Result<i32> {
    let (loaded, running) = running_lab(ctx, lab)?;
    let id = &loaded.lab.id;
    let docker = docker::connect().await?;
    ctx.progress.set(&text::rebooting(id));
    let started = Instant::now();
    loaded.restart(&docker, &running, machine).await?;
    ctx.progress.finish();
    println!("{}", text::rebooted(id, started.elapsed().as_secs_f64()));
    Ok(exit::OK)
}
