//! `deploylab hint [--more]`: the hint of the first check to fix.

use super::run_checks;
use crate::error::{Result, exit};
use crate::i18n::tr;
use crate::seam::Ctx;

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, more: bool) -> Result<i32> {
    let report = run_checks(ctx, lab).await?.report;
    match report.first_failure() {
        None => println!("{}", tr!("hint-nothing")),
        Some((stage, check)) => {
            println!("{} › {}: {}", stage.id, check.title, check.observed);
            println!(
                "{}",
                tr!(
                    "report-hint",
                    text = check.hint.as_deref().unwrap_or_default()
                )
            );
            if more {
                let deeper = check
                    .hint_more
                    .clone()
                    .unwrap_or_else(|| tr!("hint-no-deeper"));
                println!("{}", tr!("hint-more", text = deeper));
            }
        }
    }
    Ok(if report.passed {
        exit::OK
    } else {
        exit::CHECKS_FAILED
    })
}
