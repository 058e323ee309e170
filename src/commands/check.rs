//! `deploylab check`: every check of the lab, as a table, JSON or JUnit.

use super::run_checks;
use crate::cli::Format;
use crate::error::{Result, exit};
use crate::seam::Ctx;

pub(super) async fn run(
    ctx: &Ctx<'_>,
    lab: Option<&str>,
    stage: Option<&str>,
    format: Format,
) -> Result<i32> {
    let checked = run_checks(ctx, lab).await?;
    let (report, elapsed) = (checked.report, checked.elapsed);
    let report = match stage {
        Some(stage) => {
            checked.loaded.lab.stage_index(stage)?;
            report.only_stage(stage)
        }
        None => report,
    };
    match format {
        Format::Table => print!("{}", report.to_table(elapsed)),
        Format::Json => println!("{}", report.to_json()),
        Format::Junit => print!("{}", report.to_junit(elapsed)),
    }
    Ok(if report.passed {
        exit::OK
    } else {
        exit::CHECKS_FAILED
    })
}
