//! From outcomes to a report: pure, so every environment's checks are judged
//! the same way and the whole step is tested without Docker.
//!
//! Each environment turns its facts into one `Verdict` per check (and
//! machine); `judge` adds what the lab says about dependencies: a check
//! whose `needs:` did not all pass is reported as blocked — what it saw is
//! kept and shown, it earns nothing, and the check that blocks it is the
//! one to fix first. Nothing else withholds points: a check verified on its
//! own earns its points whatever else fails.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

use crate::lab::{CheckSpec, Lab};
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
///
/// Checks are settled in dependency order, so each check's needs are
/// settled before it.
pub(crate) fn judge(lab: &Lab, mut verdicts: Vec<Vec<OnMachines>>) -> Report {
    let mut results: Vec<Vec<Option<CheckResult>>> = lab
        .stages
        .iter()
        .map(|stage| vec![None; stage.checks.len()])
        .collect();
    let position = |id: &str| {
        lab.check_positions()
            .into_iter()
            .find(|&(s, c)| lab.stages[s].checks[c].id == id)
    };
    for (s, c) in lab.dependency_order() {
        let spec = &lab.stages[s].checks[c];
        let needs: Vec<&CheckResult> = spec
            .needs
            .iter()
            .filter_map(|need| position(need))
            .filter_map(|(ns, nc)| results[ns][nc].as_ref())
            .collect();
        let on_machines = std::mem::take(&mut verdicts[s][c]);
        let result = settle(lab, spec, on_machines, &needs);
        results[s][c] = Some(result);
    }
    let stages = lab
        .stages
        .iter()
        .zip(results)
        .map(|(stage, checks)| {
            let checks = checks.into_iter().map(|c| c.expect("every check settled"));
            StageResult::new(stage, checks.collect())
        })
        .collect();
    Report::new(lab, stages)
}

/// One check's result from its verdicts and its settled needs.
fn settle(
    lab: &Lab,
    spec: &CheckSpec,
    on_machines: OnMachines,
    needs: &[&CheckResult],
) -> CheckResult {
    let mut blocked_by: Vec<String> = Vec::new();
    let mut own: Vec<Status> = Vec::new();
    let judged: Vec<(String, Status, Outcome)> = on_machines
        .into_iter()
        .map(|(machine, verdict)| {
            let (status, outcome) = status_of(verdict);
            own.push(status);
            let blockers = needs.iter().filter(|need| !need.passed_on(&machine));
            let mut blocked = false;
            for need in blockers {
                blocked = true;
                if !blocked_by.contains(&need.id) {
                    blocked_by.push(need.id.clone());
                }
            }
            let status = match status {
                Status::Pass | Status::Fail if blocked => Status::Blocked,
                status => status,
            };
            (machine, status, outcome)
        })
        .collect();
    let mut result = if !lab.has_several_machines() && judged.len() == 1 {
        let (_, status, outcome) = judged.into_iter().next().expect("one verdict");
        CheckResult::new(spec, status, (outcome.expected, outcome.observed))
    } else {
        on_several(spec, judged)
    };
    if result.status == Status::Blocked {
        result.blocked_by = blocked_by;
        result.own_status = Some(Status::worst(own));
    }
    result
}

fn status_of(verdict: Verdict) -> (Status, Outcome) {
    match verdict {
        Ok(outcome) if outcome.passed => (Status::Pass, outcome),
        Ok(outcome) => (Status::Fail, outcome),
        Err(why) => (Status::Error, Outcome::fail("", why)),
    }
}

/// A check judged on several machines: it passes where it passes on each;
/// an error anywhere is an error, else a failure anywhere is one. What it
/// observed is said per machine, the ones that did not pass first.
fn on_several(spec: &CheckSpec, judged: Vec<(String, Status, Outcome)>) -> CheckResult {
    let status = Status::worst(judged.iter().map(|(_, s, _)| *s));
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
    let mut result = CheckResult::new(spec, status, (expected, observed));
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
        crate::i18n::tr!("verdict-on-machine", machine = machine, observed = observed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = r#"
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
"#;

    fn lab() -> Lab {
        crate::lab::parse("x.yaml", LAB).unwrap()
    }

    /// A stage behind a failing one earns what its checks earn: nothing
    /// blocks them unless they say what they need.
    #[test]
    fn a_check_that_needs_nothing_earns_its_points_whatever_fails_before_it() {
        let report = judge(
            &lab(),
            vec![
                vec![one(Ok(Outcome::fail("nginx", "not installed")))],
                vec![one(Ok(Outcome::pass("a banner", "SSH-2.0")))],
            ],
        );
        assert_eq!(report.stages[0].status, Status::Fail);
        assert_eq!(report.stages[1].status, Status::Pass);
        assert_eq!(report.points, 3);
        assert_eq!(report.first_failure().unwrap().1.id, "pkgs");
        assert!(!report.passed);
        let counts = report.counts;
        assert_eq!((counts.passed, counts.failed, counts.blocked), (1, 1, 0));
    }

    /// A check whose need fails is blocked, whether it would pass or fail,
    /// keeps what it saw, and is never the one to fix first.
    #[test]
    fn a_check_whose_need_fails_is_blocked_and_earns_nothing() {
        let lab = crate::lab::parse(
            "x.yaml",
            &LAB.replace(
                "expect: { ssh_banner: {} }",
                "needs: [pkgs], expect: { ssh_banner: {} }",
            ),
        )
        .unwrap();
        for own in [
            Outcome::pass("a banner", "SSH-2.0"),
            Outcome::fail("a banner", "nothing on port 22"),
        ] {
            let passed = own.passed;
            let report = judge(
                &lab,
                vec![
                    vec![one(Ok(Outcome::fail("nginx", "not installed")))],
                    vec![one(Ok(own.clone()))],
                ],
            );
            let banner = &report.stages[1].checks[0];
            assert_eq!(banner.status, Status::Blocked);
            assert_eq!(banner.points, 0);
            assert_eq!(banner.blocked_by, ["pkgs"]);
            assert_eq!(banner.observed, own.observed);
            let expected_own = if passed { Status::Pass } else { Status::Fail };
            assert_eq!(banner.own_status, Some(expected_own));
            assert_eq!(report.first_failure().unwrap().1.id, "pkgs");
            assert_eq!(report.counts.blocked, 1);
            let json = report.to_json();
            assert!(
                json.contains("\"blocked_by\": [\n            \"pkgs\""),
                "{json}"
            );
            let junit = report.to_junit(1);
            assert!(
                junit.contains("message=\"blocked by pkgs; on its own: "),
                "{junit}"
            );
            let table = report.to_table(1);
            assert!(table.contains("blocked by: pkgs\n"), "{table}");
            assert!(table.contains("1 blocked"), "{table}");
        }
    }

    /// The check to fix first is the earliest root in dependency order, not
    /// in file order: one that a failing earlier check needs comes first.
    #[test]
    fn the_first_to_fix_is_the_cause_not_the_first_in_the_file() {
        let lab = crate::lab::parse(
            "x.yaml",
            &LAB.replace(
                "expect: { packages_installed: { packages: [nginx] } }",
                "needs: [banner], expect: { packages_installed: { packages: [nginx] } }",
            ),
        )
        .unwrap();
        let report = judge(
            &lab,
            vec![
                vec![one(Ok(Outcome::fail("nginx", "not installed")))],
                vec![one(Ok(Outcome::fail("a banner", "nothing")))],
            ],
        );
        assert_eq!(report.stages[0].checks[0].status, Status::Blocked);
        assert_eq!(report.first_failure().unwrap().1.id, "banner");
        assert_eq!(report.first_failure.as_ref().unwrap().stage, "second");
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
        assert_eq!(report.stages[1].status, Status::Pass);
        assert_eq!(report.counts.errors, 1);
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
