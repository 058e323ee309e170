//! From outcomes to a report: pure, so every environment's checks are judged
//! the same way and the whole step is tested without Docker.
//!
//! Each environment turns its facts into one `Verdict` per check; `judge`
//! adds what the lab says about stages: a check that fails while a stage it
//! needs has not passed is reported as blocked (fix the earlier stage
//! first), and a blocked stage earns nothing.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

use crate::lab::Lab;
use crate::report::{CheckResult, Report, StageResult, Status};

/// What a check concluded: passed or not, and the two sides of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) passed: bool,
    pub(crate) expected: String,
    pub(crate) observed: String,
}

impl Outcome {
    pub(crate) fn new(
        passed: bool,
        expected: impl Into<String>,
        observed: impl Into<String>,
    ) -> Self {
        Outcome {
            passed,
            expected: expected.into(),
            observed: observed.into(),
        }
    }

    pub(crate) fn pass(expected: impl Into<String>, observed: impl Into<String>) -> Self {
        Outcome::new(true, expected, observed)
    }

    pub(crate) fn fail(expected: impl Into<String>, observed: impl Into<String>) -> Self {
        Outcome::new(false, expected, observed)
    }
}

/// A judged check, or why it could not be judged (a fact that could not be
/// gathered): the check is then reported as `error`, the others still run.
pub(crate) type Verdict = Result<Outcome, String>;

/// The report of one check run: `verdicts[stage][check]`, in lab order.
pub(crate) fn judge(lab: &Lab, verdicts: Vec<Vec<Verdict>>) -> Report {
    let mut stages: Vec<StageResult> = Vec::new();
    for ((index, stage), verdicts) in lab.stages.iter().enumerate().zip(verdicts) {
        let needs = lab.needs(index);
        let needs_met = stages
            .iter()
            .filter(|s| needs.contains(&s.id))
            .all(|s| s.status == Status::Pass);
        let checks: Vec<CheckResult> = stage
            .checks
            .iter()
            .zip(verdicts)
            .map(|(spec, verdict)| {
                let (status, outcome) = match verdict {
                    Ok(outcome) if outcome.passed => (Status::Pass, outcome),
                    Ok(outcome) if needs_met => (Status::Fail, outcome),
                    Ok(outcome) => (Status::Blocked, outcome),
                    Err(why) => (Status::Error, Outcome::fail("", why)),
                };
                CheckResult::new(
                    spec,
                    status,
                    (outcome.expected, outcome.observed),
                    needs_met,
                )
            })
            .collect();
        stages.push(StageResult::new(stage, needs, needs_met, checks));
    }
    Report::new(lab, stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Lab {
        crate::lab::parse(
            "x.yaml",
            r#"
schema: 1
id: x
title: X
environment: vm
stages:
  - id: first
    title: First
    checks:
      - { id: pkgs, title: P, expect: { packages_installed: { packages: [nginx] } }, hint: h }
  - id: second
    title: Second
    checks:
      - { id: banner, title: B, points: 3, expect: { ssh_banner: {} }, hint: h }
"#,
        )
        .unwrap()
    }

    #[test]
    fn a_stage_behind_a_failing_one_is_blocked_and_earns_nothing() {
        let report = judge(
            &lab(),
            vec![
                vec![Ok(Outcome::fail("nginx", "not installed"))],
                vec![Ok(Outcome::pass("a banner", "SSH-2.0"))],
            ],
        );
        assert_eq!(report.stages[0].status, Status::Fail);
        assert_eq!(report.stages[1].status, Status::Blocked);
        // Its check passes on its own, but the stage only counts once the
        // stage before it does.
        assert_eq!(report.stages[1].checks[0].status, Status::Pass);
        assert_eq!(report.points, 0);
        assert_eq!(report.first_failure().unwrap().1.id, "pkgs");
        assert!(!report.passed);
    }

    #[test]
    fn a_fact_that_could_not_be_gathered_is_an_error_of_its_check_only() {
        let report = judge(
            &lab(),
            vec![
                vec![Err("the probe failed: exit code 1".into())],
                vec![Ok(Outcome::pass("a banner", "SSH-2.0"))],
            ],
        );
        assert_eq!(report.stages[0].status, Status::Error);
        assert_eq!(report.stages[0].checks[0].status, Status::Error);
        assert_eq!(
            report.stages[0].checks[0].observed,
            "the probe failed: exit code 1"
        );
        assert_eq!(report.stages[1].status, Status::Blocked);
    }
}
