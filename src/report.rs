//! Check results, and how they are shown: a table per stage for people, a
//! versioned JSON document for machines (schema documented in the README).

use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::{Deserialize, Serialize};

use crate::i18n::tr;
use crate::lab::{CheckSpec, Lab, Stage};

/// Version of the JSON report. Bump it on any change that could break a
/// consumer (renamed or removed field, changed meaning); adding fields is fine.
pub(crate) const REPORT_SCHEMA: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Pass,
    Fail,
    /// A check it needs (`needs:` in lab.yaml) did not pass, which makes
    /// its own verdict meaningless: fix that one first.
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

    /// The status of several: an error anywhere is an error, else a failure
    /// anywhere is one, else a block; all passing (or none) is a pass.
    pub(crate) fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        let all: Vec<Status> = statuses.into_iter().collect();
        [Status::Error, Status::Fail, Status::Blocked]
            .into_iter()
            .find(|s| all.contains(s))
            .unwrap_or(Status::Pass)
    }

    /// The status in the run's language, for people.
    pub(crate) fn label(self) -> String {
        match self {
            Status::Pass => tr!("status-pass"),
            Status::Fail => tr!("status-fail"),
            Status::Blocked => tr!("status-blocked"),
            Status::Error => tr!("status-error"),
        }
    }

    /// The status as machines read it (JUnit, logs): never translated.
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
    /// A blocked check: the checks it needs that did not pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) blocked_by: Vec<String>,
    /// A blocked check: what its own verdict was (`observed` says what it
    /// saw), though it earns nothing until what blocks it passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) own_status: Option<Status>,
}

/// A check's verdict on one machine of a lab with several.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MachineResult {
    pub(crate) machine: String,
    pub(crate) status: Status,
    pub(crate) observed: String,
}

impl CheckResult {
    pub(crate) fn new(
        spec: &CheckSpec,
        status: Status,
        (expected, observed): (String, String),
    ) -> Self {
        let passed = status == Status::Pass;
        CheckResult {
            id: spec.id.clone(),
            title: spec.title.clone(),
            status,
            points: if passed { spec.points } else { 0 },
            max_points: spec.points,
            expected,
            observed,
            hint: (!passed).then(|| spec.hint.trim().to_string()),
            hint_more: (!passed)
                .then(|| spec.hint_more.as_ref().map(|h| h.trim().to_string()))
                .flatten(),
            machines: Vec::new(),
            blocked_by: Vec::new(),
            own_status: None,
        }
    }

    /// Whether the check passed on a machine: its verdict there, where it
    /// was judged there, else its verdict as a whole.
    pub(crate) fn passed_on(&self, machine: &str) -> bool {
        match self.machines.iter().find(|m| m.machine == machine) {
            Some(on) => on.status == Status::Pass,
            None => self.status == Status::Pass,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StageResult {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) status: Status,
    pub(crate) points: u32,
    pub(crate) max_points: u32,
    pub(crate) checks: Vec<CheckResult>,
}

impl StageResult {
    /// A stage passes when each of its checks does; else it is in error,
    /// failing or blocked, by its worst check in that order.
    pub(crate) fn new(stage: &Stage, checks: Vec<CheckResult>) -> Self {
        let status = Status::worst(checks.iter().map(|c| c.status));
        StageResult {
            id: stage.id.clone(),
            title: stage.title.clone(),
            status,
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
    /// How many checks passed, failed, were blocked, could not be judged.
    pub(crate) counts: Counts,
    /// The check to fix first: the earliest failing check, in dependency
    /// order, that nothing blocks (its cause is its own).
    pub(crate) first_failure: Option<CheckRef>,
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

/// Checks by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Counts {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) blocked: usize,
    pub(crate) errors: usize,
}

impl Counts {
    fn of(stages: &[StageResult]) -> Counts {
        let mut counts = Counts::default();
        for check in stages.iter().flat_map(|s| &s.checks) {
            match check.status {
                Status::Pass => counts.passed += 1,
                Status::Fail => counts.failed += 1,
                Status::Blocked => counts.blocked += 1,
                Status::Error => counts.errors += 1,
            }
        }
        counts
    }
}

/// A check, by its stage's id and its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckRef {
    pub(crate) stage: String,
    pub(crate) check: String,
}

impl Report {
    pub(crate) fn new(lab: &Lab, stages: Vec<StageResult>) -> Self {
        // The earliest root in dependency order: a check that fails (or
        // could not be judged) on its own, with everything it needs passing.
        let first_failure = lab
            .dependency_order()
            .into_iter()
            .filter_map(|(s, c)| Some((stages.get(s)?, stages.get(s)?.checks.get(c)?)))
            .find(|(_, c)| matches!(c.status, Status::Fail | Status::Error))
            .map(|(s, c)| CheckRef {
                stage: s.id.clone(),
                check: c.id.clone(),
            });
        Report {
            schema: REPORT_SCHEMA,
            lab: lab.id.clone(),
            passed: stages.iter().all(|s| s.status == Status::Pass),
            points: stages.iter().map(|s| s.points).sum(),
            max_points: stages.iter().map(|s| s.max_points).sum(),
            counts: Counts::of(&stages),
            first_failure,
            stages,
            why_slow: None,
            warnings: Vec::new(),
            facts: None,
        }
    }

    /// Says each `{{word}}` of the hints as the student's project has it.
    pub(crate) fn fill_hints(&mut self, words: &[(&str, String)]) {
        let fill = |text: &mut String| {
            for (word, value) in words {
                *text = text.replace(&format!("{{{{{word}}}}}"), value);
            }
        };
        for check in self.stages.iter_mut().flat_map(|s| &mut s.checks) {
            check.hint.iter_mut().for_each(fill);
            check.hint_more.iter_mut().for_each(fill);
        }
    }

    /// Keeps only the named stage (for `check --stage`). The check to fix
    /// first stays the lab's: when it is elsewhere, what blocks this
    /// stage's checks is still the thing to fix.
    pub(crate) fn only_stage(mut self, stage: &str) -> Self {
        self.stages.retain(|s| s.id == stage);
        self.passed = self.stages.iter().all(|s| s.status == Status::Pass);
        self.points = self.stages.iter().map(|s| s.points).sum();
        self.max_points = self.stages.iter().map(|s| s.max_points).sum();
        self.counts = Counts::of(&self.stages);
        if self.passed {
            self.first_failure = None;
        }
        self
    }

    /// The check to fix first (see `first_failure`), with its stage; in a
    /// report cut to one stage, the stage's own when the lab's is elsewhere.
    pub(crate) fn first_failure(&self) -> Option<(&StageResult, &CheckResult)> {
        let all = || {
            self.stages
                .iter()
                .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        };
        let first = self.first_failure.as_ref()?;
        all()
            .find(|(s, c)| s.id == first.stage && c.id == first.check)
            .or_else(|| all().find(|(_, c)| matches!(c.status, Status::Fail | Status::Error)))
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
                        xml(&observed),
                        xml(&check.expected),
                        xml(&observed),
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
            if stage.checks.iter().all(|c| c.status == Status::Blocked) {
                // Nothing to do here yet: one line per check is kinder than
                // a table, and still says how each went on its own (what
                // it saw is in the JSON and JUnit).
                out.push_str(&tr!(
                    "report-stage-blocked",
                    symbol = stage.status.symbol(),
                    number = i + 1,
                    count = count,
                    id = stage.id,
                    title = stage.title,
                    by = blockers(&stage.checks).join(", "),
                ));
                out.push('\n');
                for check in &stage.checks {
                    out.push_str(&text::blocked_line(&check.title, &own_verdict(check)));
                }
                continue;
            }
            out.push_str(&tr!(
                "report-stage",
                symbol = stage.status.symbol(),
                number = i + 1,
                count = count,
                id = stage.id,
                title = stage.title,
                points = stage.points,
                max = stage.max_points,
            ));
            out.push('\n');
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
                    Status::Blocked => {
                        text::blocked_detail(&check.blocked_by.join(", "), &own_verdict(check))
                    }
                    _ => check.observed.clone(),
                };
                table.add_row(vec![
                    Cell::new(check.status.symbol()),
                    Cell::new(&check.title),
                    Cell::new(check.status.label()),
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
                        Cell::new(on.status.label()),
                        Cell::new(detail),
                    ]);
                }
            }
            out.push_str(&table.to_string());
            out.push('\n');
        }
        match self.first_failure() {
            Some((stage, check)) => {
                out.push_str(&text::first_to_fix(&stage.id, check));
            }
            None => out.push_str(&format!("\n{}\n", tr!("report-all-pass"))),
        }
        let passed = self
            .stages
            .iter()
            .filter(|s| s.status == Status::Pass)
            .count();
        for warning in &self.warnings {
            out.push_str(&tr!("report-warning", text = warning));
            out.push('\n');
        }
        if let Some(why) = self.why_slow.as_deref().filter(|_| elapsed_ms >= 1000) {
            out.push_str(&format!("({why})\n"));
        }
        out.push_str(&text::summary(
            (passed, count),
            (self.points, self.max_points),
            self.counts,
            elapsed_ms,
        ));
        out
    }
}

/// The checks that block any of `checks`, each once, in order.
fn blockers(checks: &[CheckResult]) -> Vec<&str> {
    let mut all: Vec<&str> = Vec::new();
    for id in checks.iter().flat_map(|c| &c.blocked_by) {
        if !all.contains(&id.as_str()) {
            all.push(id);
        }
    }
    all
}

/// How a blocked check went on its own, in a word or two for the table.
fn own_verdict(check: &CheckResult) -> String {
    match check.own_status {
        Some(Status::Pass) => text::own_pass(),
        _ => text::own_fail(),
    }
}

/// A check's JUnit test cases: one, or one per machine in a lab with
/// several (the machine in the test's name).
/// A blocked case's message says what blocks it, then what it saw.
fn junit_cases(check: &CheckResult) -> Vec<(String, Status, String)> {
    let observed = |status: Status, observed: &str| match status {
        Status::Blocked => text::blocked_observed(&check.blocked_by.join(", "), observed),
        _ => observed.to_string(),
    };
    if check.machines.is_empty() {
        let name = text::case(&check.id, &check.title);
        return vec![(name, check.status, observed(check.status, &check.observed))];
    }
    check
        .machines
        .iter()
        .map(|on| {
            let name = text::case_on(&check.id, &on.machine, &check.title);
            (name, on.status, observed(on.status, &on.observed))
        })
        .collect()
}

/// Messages of the report, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn on_machine(machine: &str) -> String {
        format!("  {}", tr!("report-on-machine", machine = machine))
    }

    pub(super) fn first_to_fix(stage: &str, check: &super::CheckResult) -> String {
        let mut out = format!(
            "\n{}\n  {}\n  {}\n  {}\n",
            tr!("report-first-to-fix", stage = stage, title = check.title),
            tr!("report-expected", text = check.expected),
            tr!("report-observed", text = check.observed),
            tr!(
                "report-hint",
                text = check.hint.as_deref().unwrap_or_default()
            ),
        );
        if check.hint_more.is_some() {
            out.push_str(&format!("  {}\n", tr!("report-hint-more-exists")));
        }
        out
    }

    pub(super) fn case(id: &str, title: &str) -> String {
        format!("{id}: {title}")
    }

    pub(super) fn case_on(id: &str, machine: &str, title: &str) -> String {
        format!("{id} on {machine}: {title}")
    }

    pub(super) fn own_pass() -> String {
        tr!("report-own-pass")
    }

    pub(super) fn own_fail() -> String {
        tr!("report-own-fail")
    }

    pub(super) fn blocked_line(title: &str, own: &str) -> String {
        format!(
            "    · {}\n",
            tr!("report-blocked-line", title = title, own = own)
        )
    }

    pub(super) fn blocked_detail(by: &str, own: &str) -> String {
        tr!("report-blocked-detail", by = by, own = own)
    }

    pub(super) fn blocked_observed(by: &str, observed: &str) -> String {
        tr!("report-blocked-observed", by = by, observed = observed)
    }

    pub(super) fn summary(
        (passed, stages): (usize, usize),
        (points, max): (u32, u32),
        counts: super::Counts,
        elapsed_ms: u128,
    ) -> String {
        let errors = match counts.errors {
            0 => String::new(),
            n => tr!("report-not-judged", count = n),
        };
        let line = tr!(
            "report-summary",
            passed = passed,
            stages = stages,
            points = points,
            max = max,
            checks_passed = counts.passed,
            checks_failed = counts.failed,
            checks_blocked = counts.blocked,
            errors = errors,
            ms = elapsed_ms,
        );
        format!("{line}\n")
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
            counts: Counts::default(),
            first_failure: None,
            stages: vec![StageResult {
                id: "web".into(),
                title: "Web".into(),
                status: Status::Fail,
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
                        blocked_by: Vec::new(),
                        own_status: None,
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
                        blocked_by: Vec::new(),
                        own_status: None,
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
