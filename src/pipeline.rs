//! One check run, for any environment: gather the facts every check of the
//! lab reads (one pass), judge each check against them, report. `check`,
//! `hint` and `solve` use it, and `grade` will.
//!
//! `DEPLOYLAB_RECORD_FACTS=<file>` writes the facts of the run to a file:
//! that is how the fixtures of the fixture tests are recorded from real
//! labs (`src/vm/fixtures.rs`).

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

use bollard::Docker;

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::report::Report;
use crate::seam::{Ctx, Environment};
use crate::verdict;

pub(crate) async fn run<E: Environment>(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    checks: &[Vec<E::Check>],
    running: &E::Running,
) -> Result<Report> {
    let all: Vec<&E::Check> = checks.iter().flatten().collect();
    let facts = E::gather(ctx, docker, lab, running, &all).await?;
    if let Some(file) = std::env::var_os("DEPLOYLAB_RECORD_FACTS").filter(|f| !f.is_empty()) {
        let text = serde_json::to_string_pretty(&facts).expect("facts serialize");
        std::fs::write(&file, text).map_err(Error::io(format!(
            "recording facts to {}",
            std::path::Path::new(&file).display()
        )))?;
    }
    let mut report = judge::<E>(lab, checks, &facts);
    report.why_slow = E::why_slow(&facts);
    report.warnings = E::warnings(&facts);
    report.facts = serde_json::to_value(&facts).ok();
    Ok(report)
}

/// The pure half: facts in, report out.
pub(crate) fn judge<E: Environment>(
    lab: &Lab,
    checks: &[Vec<E::Check>],
    facts: &E::Facts,
) -> Report {
    let verdicts = checks
        .iter()
        .zip(&lab.stages)
        .map(|(stage, spec)| {
            stage
                .iter()
                .zip(&spec.checks)
                .map(|(check, spec)| {
                    lab.machines_of(spec)
                        .into_iter()
                        .map(|machine| {
                            let verdict = E::evaluate(lab, check, facts, &machine);
                            (machine, verdict)
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut report = verdict::judge(lab, verdicts);
    let first = lab.machines().into_iter().next().unwrap_or_default();
    report.fill_hints(&E::hint_words(lab, facts, &first));
    report
}
