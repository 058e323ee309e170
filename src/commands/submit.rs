//! `deploylab submit`: the student's work in the running lab as one file to
//! hand in (`submission.rs` says what is inside).

use std::path::PathBuf;

use super::{run_checks, running_lab};
use crate::docker;
use crate::error::{Result, exit};
use crate::seam::Ctx;
use crate::submission::{self, Manifest};
use crate::units;

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn capturing() -> String {
        tr!("cmd-submit-capturing")
    }

    pub(super) fn written(path: &str, size: &str, points: Option<(u32, u32)>) -> String {
        let checked = match points {
            Some((points, max)) => format!(
                "\n{}",
                tr!("cmd-submit-own-check", points = points, max = max)
            ),
            None => String::new(),
        };
        format!(
            "{}{checked}\n{}",
            tr!("cmd-submit-wrote", path = path, size = size),
            tr!("cmd-submit-next", path = path)
        )
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, output: Option<PathBuf>) -> Result<i32> {
    let (loaded, running) = running_lab(ctx, lab)?;
    let docker = docker::connect().await?;
    // The student's own check, kept for the instructor to compare: a
    // failing check does not stop a submission.
    let own = run_checks(ctx, Some(&loaded.lab.id)).await.ok();
    ctx.progress.set(&text::capturing());
    let captured = loaded.capture(ctx, &docker, &running).await?;
    ctx.progress.finish();
    let path =
        output.unwrap_or_else(|| PathBuf::from(format!("deploylab-{}.submission", loaded.lab.id)));
    let self_check = own
        .as_ref()
        .and_then(|c| serde_json::to_value(&c.report).ok());
    let manifest = Manifest::new(
        &loaded.lab.id,
        running.kind().name(),
        running.recipe(),
        self_check,
    );
    let bytes = submission::write(&path, manifest, &captured.state, &captured.files)?;
    let points = own.map(|c| (c.report.points, c.report.max_points));
    println!(
        "{}",
        text::written(
            &path.display().to_string(),
            &units::human_bytes(bytes),
            points
        )
    );
    Ok(exit::OK)
}
