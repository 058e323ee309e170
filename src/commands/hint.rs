//! `deploylab hint [--more]`: the hint of the first check to fix.

use super::run_checks;
use crate::error::{Result, exit};
use crate::seam::Ctx;

/// Messages shown here, kept together for translation.
mod text {
    pub(super) const NO_HINT: &str = "Nothing to hint: every check passes.";
    pub(super) const NO_DEEPER_HINT: &str = "(this check has no deeper hint)";
}

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, more: bool) -> Result<i32> {
    let report = run_checks(ctx, lab).await?.report;
    match report.first_failure() {
        None => println!("{}", text::NO_HINT),
        Some((stage, check)) => {
            println!("{} › {}: {}", stage.id, check.title, check.observed);
            println!("hint: {}", check.hint.as_deref().unwrap_or_default());
            if more {
                println!(
                    "more: {}",
                    check.hint_more.as_deref().unwrap_or(text::NO_DEEPER_HINT)
                );
            }
        }
    }
    Ok(if report.passed {
        exit::OK
    } else {
        exit::CHECKS_FAILED
    })
}
