//! Check results, and how they are shown: a table per stage for people, a
//! versioned JSON document for machines (schema documented in the README).

use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::{Deserialize, Serialize};

use crate::lab::{CheckSpec, Lab, Stage};

/// Version of the JSON report. Bump it on any change that could break a
/// consumer (renamed or removed field, changed meaning); adding fields is fine.
pub(crate) const REPORT_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Pass,
    Fail,
    /// Failing, but a stage it needs failed first: fix that one.
    Blocked,
    /// Could not be evaluated (the VM did not answer).
    Error,
}

impl Status {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Blocked => "·",
            Status::Error => "!",
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Blocked => "blocked",
            Status::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CheckResult {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) status: Status,
    pub(crate) points: u32,
    pub(crate) max_points: u32,
    pub(crate) expected: String,
    pub(crate) observed: String,
    /// The hint, for checks that did not pass.
    pub(crate) hint: Option<String>,
    #[serde(skip)]
    pub(crate) hint_more: Option<String>,
    /// How the check went on each machine, in a lab with several (else
    /// absent): the check passes where it passes on each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) machines: Vec<MachineResult>,
}

/// A check's verdict on one machine of a lab with several.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MachineResult {
    pub(crate) machine: String,
    pub(crate) status: Status,
    pub(crate) observed: String,
}

impl CheckResult {
    /// `counts`: whether the check's stage may earn points (its needs pass).
    pub(crate) fn new(
        spec: &CheckSpec,
        status: Status,
        (expected, observed): (String, String),
        counts: bool,
    ) -> Self {
        let passed = status == Status::Pass;
        CheckResult {
            id: spec.id.clone(),
            title: spec.title.clone(),
            status,
            points: if passed && counts { spec.points } else { 0 },
            max_points: spec.points,
            expected,
            observed,
            hint: (!passed).then(|| spec.hint.trim().to_string()),
            hint_more: (!passed)
                .then(|| spec.hint_more.as_ref().map(|h| h.trim().to_string()))
                .flatten(),
            machines: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StageResult {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) status: Status,
    pub(crate) needs: Vec<String>,
    pub(crate) points: u32,
    pub(crate) max_points: u32,
    pub(crate) checks: Vec<CheckResult>,
}

impl StageResult {
    /// A stage whose needs are not met is blocked even where its own checks
    /// pass: it only counts once the stages before it do.
    pub(crate) fn new(
        stage: &Stage,
        needs: Vec<String>,
        needs_met: bool,
        checks: Vec<CheckResult>,
    ) -> Self {
        let any = |s: Status| checks.iter().any(|c| c.status == s);
        let status = if any(Status::Error) {
            Status::Error
        } else if !needs_met {
            Status::Blocked
        } else if any(Status::Fail) {
            Status::Fail
        } else {
            Status::Pass
        };
        StageResult {
            id: stage.id.clone(),
            title: stage.title.clone(),
            status,
            needs,
            points: checks.iter().map(|c| c.points).sum(),
            max_points: checks.iter().map(|c| c.max_points).sum(),
            checks,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Report {
    pub(crate) schema: u32,
    pub(crate) lab: String,
    pub(crate) passed: bool,
    pub(crate) points: u32,
    pub(crate) max_points: u32,
    pub(crate) stages: Vec<StageResult>,
    /// Why this run may have been slow, from the environment (the table
    /// says it when the run took a second or more).
    #[serde(skip)]
    pub(crate) why_slow: Option<String>,
    /// What the student should know though no check fails (the VM's disk
    /// filling up).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
    /// The facts the checks were judged on (kept as a grade's evidence).
    #[serde(skip)]
    pub(crate) facts: Option<serde_json::Value>,
}

impl Report {
    pub(crate) fn new(lab: &Lab, stages: Vec<StageResult>) -> Self {
        Report {
            schema: REPORT_SCHEMA,
            lab: lab.id.clone(),
            passed: stages.iter().all(|s| s.status == Status::Pass),
            points: stages.iter().map(|s| s.points).sum(),
            max_points: stages.iter().map(|s| s.max_points).sum(),
            stages,
            why_slow: None,
            warnings: Vec::new(),
            facts: None,
        }
    }

    /// Keeps only the named stage (for `check --stage`).
    pub(crate) fn only_stage(mut self, stage: &str) -> Self {
        self.stages.retain(|s| s.id == stage);
        self.passed = self.stages.iter().all(|s| s.status == Status::Pass);
        self.points = self.stages.iter().map(|s| s.points).sum();
        self.max_points = self.stages.iter().map(|s| s.max_points).sum();
        self
    }

    /// The check to fix first: the first that fails outright (a blocked
    /// check's hint would send the student to the wrong place).
    pub(crate) fn first_failure(&self) -> Option<(&StageResult, &CheckResult)> {
        let all = || {
            self.stages
                .iter()
                .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        };
        all()
            .find(|(_, c)| matches!(c.status, Status::Fail | Status::Error))
            .or_else(|| all().find(|(_, c)| c.status != Status::Pass))
    }

    /// JUnit XML for CI dashboards: a test suite per stage, a test case per
    /// check; a failing or blocked check is a `<failure>` with its type.
    pub(crate) fn to_junit(&self, elapsed_ms: u128) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let cases = |checks: &[CheckResult]| -> (usize, usize) {
            let all: Vec<Status> = checks
                .iter()
                .flat_map(junit_cases)
                .map(|(_, status, _)| status)
                .collect();
            let failing = all.iter().filter(|s| **s != Status::Pass).count();
            (all.len(), failing)
        };
        let (tests, failures) = self
            .stages
            .iter()
            .map(|s| cases(&s.checks))
            .fold((0, 0), |(t, f), (t2, f2)| (t + t2, f + f2));
        out.push_str(&format!(
            "<testsuites name=\"deploylab {}\" tests=\"{tests}\" failures=\"{failures}\" time=\"{:.3}\">\n",
            xml(&self.lab),
            elapsed_ms as f64 / 1000.0
        ));
        for stage in &self.stages {
            let (tests, failing) = cases(&stage.checks);
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failing}\">\n",
                xml(&stage.id),
            ));
            for check in &stage.checks {
                for (name, status, observed) in junit_cases(check) {
                    out.push_str(&format!(
                        "    <testcase classname=\"{}.{}\" name=\"{}\"",
                        xml(&self.lab),
                        xml(&stage.id),
                        xml(&name)
                    ));
                    if status == Status::Pass {
                        out.push_str("/>\n");
                        continue;
                    }
                    out.push_str(&format!(
                        ">\n      <failure type=\"{}\" message=\"{}\">expected: {}\nobserved: {}\nhint: {}</failure>\n    </testcase>\n",
                        status.word(),
                        xml(observed),
                        xml(&check.expected),
                        xml(observed),
                        xml(check.hint.as_deref().unwrap_or_default())
                    ));
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The report for people: one table per stage, then the one hint that
    /// matters now, then the score.
    pub(crate) fn to_table(&self, elapsed_ms: u128) -> String {
        let mut out = String::new();
        let count = self.stages.len();
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.status == Status::Blocked {
                // Its checks are in the JSON; here one line is kinder, and
                // names what will still fail once the stage is unblocked.
                let ready = stage
                    .checks
                    .iter()
                    .filter(|c| c.status == Status::Pass)
                    .count();
                let failing: Vec<&str> = stage
                    .checks
                    .iter()
                    .filter(|c| c.status != Status::Pass)
                    .map(|c| c.id.as_str())
                    .collect();
                out.push_str(&format!(
                    "{} Stage {}/{count} · {} — {}   blocked by: {}{}\n",
                    stage.status.symbol(),
                    i + 1,
                    stage.id,
                    stage.title,
                    stage.needs.join(", "),
                    match ready {
                        0 => String::new(),
                        n => format!(" ({n} of {} checks already pass)", stage.checks.len()),
                    }
                ));
                // None passing: all of them are; all passing: nothing is.
                if ready > 0 && !failing.is_empty() {
                    out.push_str(&format!("    still failing: {}\n", failing.join(", ")));
                }
                continue;
            }
            out.push_str(&format!(
                "{} Stage {}/{count} · {} — {}   [{}/{} pts]\n",
                stage.status.symbol(),
                i + 1,
                stage.id,
                stage.title,
                stage.points,
                stage.max_points
            ));
            let mut table = Table::new();
            table
                .load_style(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(100);
            for check in &stage.checks {
                let detail = match check.status {
                    Status::Pass => String::new(),
                    // Said on the machines' own rows below.
                    _ if !check.machines.is_empty() => String::new(),
                    Status::Blocked => format!(
                        "blocked by: {} — {}",
                        stage.needs.join(", "),
                        check.observed
                    ),
                    _ => check.observed.clone(),
                };
                table.add_row(vec![
                    Cell::new(check.status.symbol()),
                    Cell::new(&check.title),
                    Cell::new(check.status.word()),
                    Cell::new(detail),
                ]);
                for on in &check.machines {
                    let detail = match on.status {
                        Status::Pass => String::new(),
                        _ => on.observed.clone(),
                    };
                    table.add_row(vec![
                        Cell::new(on.status.symbol()),
                        Cell::new(text::on_machine(&on.machine)),
                        Cell::new(on.status.word()),
                        Cell::new(detail),
                    ]);
                }
            }
            out.push_str(&table.to_string());
            out.push('\n');
        }
        match self.first_failure() {
            Some((stage, check)) => {
                out.push_str(&format!(
                    "\nFirst to fix: {} › {}\n  expected: {}\n  observed: {}\n  hint: {}\n",
                    stage.id,
                    check.title,
                    check.expected,
                    check.observed,
                    check.hint.as_deref().unwrap_or("")
                ));
                if check.hint_more.is_some() {
                    out.push_str("  (`deploylab hint --more` goes one step further)\n");
                }
            }
            None => out.push_str("\nAll stages pass. Well done!\n"),
        }
        let passed = self
            .stages
            .iter()
            .filter(|s| s.status == Status::Pass)
            .count();
        for warning in &self.warnings {
            out.push_str(&format!("warning: {warning}\n"));
        }
        if let Some(why) = self.why_slow.as_deref().filter(|_| elapsed_ms >= 1000) {
            out.push_str(&format!("({why})\n"));
        }
        out.push_str(&format!(
            "{passed}/{count} stages passed · {}/{} points · checked in {elapsed_ms} ms\n",
            self.points, self.max_points
        ));
        out
    }
}

/// A check's JUnit test cases: one, or one per machine in a lab with
/// several (the machine in the test's name).
fn junit_cases(check: &CheckResult) -> Vec<(String, Status, &str)> {
    if check.machines.is_empty() {
        let name = text::case(&check.id, &check.title);
        return vec![(name, check.status, check.observed.as_str())];
    }
    check
        .machines
        .iter()
        .map(|on| {
            let name = text::case_on(&check.id, &on.machine, &check.title);
            (name, on.status, on.observed.as_str())
        })
        .collect()
}

/// Messages of the report, kept together for translation.
mod text {
    pub(super) fn on_machine(machine: &str) -> String {
        format!("  on {machine}")
    }

    pub(super) fn case(id: &str, title: &str) -> String {
        format!("{id}: {title}")
    }

    pub(super) fn case_on(id: &str, machine: &str, title: &str) -> String {
        format!("{id} on {machine}: {title}")
    }
}

/// Text escaped for XML attributes and content.
pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn why_a_check_was_slow_is_said_only_when_it_was() {
        let lab = crate::fixtures::lab(
            "schema: 1\nid: x\ntitle: X\nenvironment: vm\nstages:\n  - { id: s, title: S, checks: [{ id: c, title: C, hint: h, expect: { ssh_banner: {} } }] }\n",
        );
        let mut report = Report::new(&lab.lab, vec![]);
        report.why_slow = Some("Django was asked afresh".into());
        assert!(!report.to_table(300).contains("asked afresh"));
        assert!(
            report
                .to_table(1500)
                .contains("(Django was asked afresh)\n")
        );
    }

    #[test]
    fn warnings_are_printed_and_kept_in_json_only_when_there_are_some() {
        let lab = crate::fixtures::lab(
            "schema: 1\nid: x\ntitle: X\nenvironment: vm\nstages:\n  - { id: s, title: S, checks: [{ id: c, title: C, hint: h, expect: { ssh_banner: {} } }] }\n",
        );
        let mut report = Report::new(&lab.lab, vec![]);
        assert!(!serde_json::to_string(&report).unwrap().contains("warnings"));
        report.warnings = vec!["the disk fills".into()];
        assert!(report.to_table(10).contains("warning: the disk fills\n"));
        assert!(
            serde_json::to_string(&report)
                .unwrap()
                .contains("\"warnings\":[\"the disk fills\"]")
        );
    }

    #[test]
    fn junit_escapes_and_counts() {
        let report = Report {
            schema: REPORT_SCHEMA,
            lab: "vm-nginx".into(),
            passed: false,
            points: 1,
            max_points: 2,
            why_slow: None,
            warnings: Vec::new(),
            facts: None,
            stages: vec![StageResult {
                id: "web".into(),
                title: "Web".into(),
                status: Status::Fail,
                needs: vec![],
                points: 1,
                max_points: 2,
                checks: vec![
                    CheckResult {
                        id: "ok".into(),
                        title: "fine".into(),
                        status: Status::Pass,
                        points: 1,
                        max_points: 1,
                        expected: String::new(),
                        observed: String::new(),
                        hint: None,
                        hint_more: None,
                        machines: Vec::new(),
                    },
                    CheckResult {
                        id: "bad".into(),
                        title: "nginx <80> & \"co\"".into(),
                        status: Status::Fail,
                        points: 0,
                        max_points: 1,
                        expected: "a <b>".into(),
                        observed: "502 & more".into(),
                        hint: Some("fix 'it'".into()),
                        hint_more: None,
                        machines: Vec::new(),
                    },
                ],
            }],
        };
        let xml = report.to_junit(1500);
        assert!(
            xml.contains(
                r#"<testsuites name="deploylab vm-nginx" tests="2" failures="1" time="1.500">"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"name="bad: nginx &lt;80&gt; &amp; &quot;co&quot;""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure type="fail" message="502 &amp; more">"#),
            "{xml}"
        );
        assert!(xml.contains("hint: fix &apos;it&apos;</failure>"), "{xml}");
    }
}
