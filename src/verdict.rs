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
use crate::report::{CheckResult, MachineResult, Report, StageResult, Status};

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

/// A check's verdict on each machine it judges (one, for most labs).
pub(crate) type OnMachines = Vec<(String, Verdict)>;

/// The report of one check run: `verdicts[stage][check]`, in lab order.
pub(crate) fn judge(lab: &Lab, verdicts: Vec<Vec<OnMachines>>) -> Report {
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
            .map(|(spec, on_machines)| {
                let mut judged: Vec<(String, Status, Outcome)> = on_machines
                    .into_iter()
                    .map(|(machine, verdict)| {
                        let (status, outcome) = status_of(verdict, needs_met);
                        (machine, status, outcome)
                    })
                    .collect();
                if !lab.has_several_machines() && judged.len() == 1 {
                    let (_, status, outcome) = judged.remove(0);
                    return CheckResult::new(
                        spec,
                        status,
                        (outcome.expected, outcome.observed),
                        needs_met,
                    );
                }
                on_several(spec, judged, needs_met)
            })
            .collect();
        stages.push(StageResult::new(stage, needs, needs_met, checks));
    }
    Report::new(lab, stages)
}

fn status_of(verdict: Verdict, needs_met: bool) -> (Status, Outcome) {
    match verdict {
        Ok(outcome) if outcome.passed => (Status::Pass, outcome),
        Ok(outcome) if needs_met => (Status::Fail, outcome),
        Ok(outcome) => (Status::Blocked, outcome),
        Err(why) => (Status::Error, Outcome::fail("", why)),
    }
}

/// A check judged on several machines: it passes where it passes on each;
/// an error anywhere is an error, else a failure anywhere is one. What it
/// observed is said per machine, the ones that did not pass first.
fn on_several(
    spec: &crate::lab::CheckSpec,
    judged: Vec<(String, Status, Outcome)>,
    needs_met: bool,
) -> CheckResult {
    let any = |s: Status| judged.iter().any(|(_, status, _)| *status == s);
    let status = [Status::Error, Status::Fail, Status::Blocked]
        .into_iter()
        .find(|s| any(*s))
        .unwrap_or(Status::Pass);
    let expected = judged
        .iter()
        .map(|(_, _, o)| o.expected.clone())
        .find(|e| !e.is_empty())
        .unwrap_or_default();
    let mut order: Vec<&(String, Status, Outcome)> = judged.iter().collect();
    order.sort_by_key(|(_, status, _)| *status == Status::Pass);
    let observed = order
        .iter()
        .map(|(machine, _, o)| text::on(machine, &o.observed))
        .collect::<Vec<_>>()
        .join("; ");
    let mut result = CheckResult::new(spec, status, (expected, observed), needs_met);
    result.machines = judged
        .into_iter()
        .map(|(machine, status, outcome)| MachineResult {
            machine,
            status,
            observed: outcome.observed,
        })
        .collect();
    result
}

/// Messages of the verdicts, kept together for translation.
mod text {
    pub(super) fn on(machine: &str, observed: &str) -> String {
        format!("on {machine}: {observed}")
    }
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
                vec![one(Ok(Outcome::fail("nginx", "not installed")))],
                vec![one(Ok(Outcome::pass("a banner", "SSH-2.0")))],
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
                vec![one(Err("the probe failed: exit code 1".into()))],
                vec![one(Ok(Outcome::pass("a banner", "SSH-2.0")))],
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

    /// The verdict of a lab with one machine, named after the lab.
    fn one(verdict: Verdict) -> OnMachines {
        vec![("x".to_string(), verdict)]
    }

    #[test]
    fn a_check_on_several_machines_passes_where_it_passes_on_each() {
        let lab = crate::lab::parse(
            "lab.yaml",
            r#"
schema: 1
id: two
title: Two
environment: vm
machines: [control, web]
stages:
  - id: first
    title: First
    checks:
      - { id: pkgs, title: P, expect: { packages_installed: { packages: [nginx] } }, hint: h }
      - { id: banner, title: B, on: [web], expect: { ssh_banner: {} }, hint: h }
"#,
        )
        .unwrap();
        let pkgs = lab.machines_of(&lab.stages[0].checks[0]);
        assert_eq!(pkgs, ["control", "web"]);
        assert_eq!(lab.machines_of(&lab.stages[0].checks[1]), ["web"]);
        let report = judge(
            &lab,
            vec![vec![
                vec![
                    ("control".into(), Ok(Outcome::pass("nginx", "installed"))),
                    ("web".into(), Ok(Outcome::fail("nginx", "not installed"))),
                ],
                vec![("web".into(), Ok(Outcome::pass("a banner", "SSH-2.0")))],
            ]],
        );
        let [pkgs, banner] = &report.stages[0].checks[..] else {
            panic!("two checks");
        };
        assert_eq!(pkgs.status, Status::Fail);
        assert_eq!(pkgs.points, 0);
        assert_eq!(
            pkgs.observed,
            "on web: not installed; on control: installed"
        );
        let on: Vec<(&str, Status)> = pkgs
            .machines
            .iter()
            .map(|m| (m.machine.as_str(), m.status))
            .collect();
        assert_eq!(on, [("control", Status::Pass), ("web", Status::Fail)]);
        assert_eq!(banner.status, Status::Pass);
        assert_eq!(banner.machines.len(), 1);
        let json = report.to_json();
        assert!(json.contains("\"machine\": \"web\""), "{json}");
        let junit = report.to_junit(10);
        assert!(junit.contains("name=\"pkgs on web: P\">"), "{junit}");
        assert!(junit.contains("name=\"pkgs on control: P\"/>"), "{junit}");
        assert!(junit.contains("tests=\"3\" failures=\"1\""), "{junit}");
        let table = report.to_table(10);
        assert!(table.contains("on web"), "{table}");
    }

    /// A lab with one machine reports as it always did: no machines.
    #[test]
    fn a_lab_with_one_machine_says_nothing_of_machines() {
        let report = judge(
            &lab(),
            vec![
                vec![one(Ok(Outcome::fail("nginx", "not installed")))],
                vec![one(Ok(Outcome::pass("a banner", "SSH-2.0")))],
            ],
        );
        assert!(report.stages[0].checks[0].machines.is_empty());
        assert!(!report.to_json().contains("machine"));
    }
}
