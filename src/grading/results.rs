//! What `grade` produces, typed (one producer, several consumers), and
//! each format it is written in: a table for the instructor, JSON (merged
//! across shards), JUnit, a CSV gradebook, Markdown for a CI summary, and
//! the result GitHub Classroom's autograding reporter reads.

use base64::Engine;
use clap::ValueEnum;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::{Deserialize, Serialize};

use crate::report::{Report, Status};

/// How `grade` prints its results (`--format`, `--out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GradeFormat {
    /// One row per submission: points, checks passed/failed/blocked, and
    /// the first check to fix (the cause, not what it blocks).
    Table,
    /// Every submission's full report (schema in the README).
    Json,
    /// A test suite per submission.
    Junit,
    /// A gradebook: total and each stage's points per submission.
    Csv,
    /// For $GITHUB_STEP_SUMMARY.
    Markdown,
    /// What GitHub Classroom's autograding reporter reads.
    GithubClassroom,
}

/// Version of the JSON results. Bump it on any change that could break a
/// consumer; adding fields is fine.
pub(crate) const RESULTS_SCHEMA: u32 = 2;

/// Messages and column names, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) const HEADER: [&str; 6] = [
        "submission",
        "points",
        "checks",
        "first to fix",
        "time",
        "notes",
    ];
    pub(super) fn all_pass() -> String {
        tr!("grade-results-all-pass")
    }
    pub(super) fn not_graded() -> String {
        tr!("grade-results-not-graded")
    }

    pub(super) fn summary(graded: usize, total: usize, failed: usize) -> String {
        tr!(
            "grade-results-summary",
            graded = graded,
            total = total,
            failed = failed
        )
    }

    /// Checks passed, failed, blocked (and not judged, when some were not).
    pub(super) fn counts(counts: crate::report::Counts) -> String {
        let errors = match counts.errors {
            0 => String::new(),
            n => format!(" {n}!"),
        };
        format!(
            "{}✓ {}✗ {}·{errors}",
            counts.passed, counts.failed, counts.blocked
        )
    }

    pub(super) fn first_to_fix(stage: &str, check: &str, status: &str) -> String {
        tr!(
            "grade-results-first-to-fix",
            stage = stage,
            check = check,
            status = status
        )
    }

    pub(super) fn md_title(lab: &str) -> String {
        tr!("grade-results-md-title", lab = lab)
    }
}

/// The results of one `grade` run (or of several, merged).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Results {
    pub(crate) schema: u32,
    pub(crate) lab: String,
    pub(crate) max_points: u32,
    /// The stages of the lab, in order (the CSV's columns).
    pub(crate) stages: Vec<String>,
    pub(crate) submissions: Vec<Graded>,
}

/// One submission's grade.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Graded {
    /// How the instructor named it: the student's folder, or the file.
    pub(crate) id: String,
    pub(crate) path: String,
    /// The sha256 of the submission file (absent when it could not be read).
    pub(crate) sha256: Option<String>,
    /// Points earned: the report's, or 0 when it could not be graded.
    pub(crate) points: u32,
    pub(crate) max_points: u32,
    /// The checks run on the restored work.
    pub(crate) report: Option<Report>,
    /// Why the submission got no report, or why its points were withheld.
    pub(crate) error: Option<String>,
    /// The kind of failure behind `error`: `submission` (bad input: a
    /// damaged, edited or foreign file), `limits` (it outgrew what a
    /// graded environment may take), `environment` (the grader's side).
    pub(crate) error_kind: Option<ErrorKind>,
    /// What could not be restored exactly (shown, not scored).
    pub(crate) notes: Vec<String>,
    /// What the student's own check said at submit time (never used).
    pub(crate) self_reported_points: Option<u32>,
    pub(crate) timings: Timings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ErrorKind {
    Submission,
    Limits,
    Environment,
}

/// Milliseconds spent on each phase.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Timings {
    pub(crate) start_ms: u64,
    pub(crate) restore_ms: u64,
    pub(crate) check_ms: u64,
    pub(crate) total_ms: u64,
}

impl Graded {
    /// The report's first check to fix (its root failure), or the error.
    fn first_to_fix(&self) -> String {
        if let Some(error) = &self.error {
            return error.clone();
        }
        self.report
            .as_ref()
            .and_then(|r| r.first_failure())
            .map_or_else(text::all_pass, |(s, c)| {
                text::first_to_fix(&s.id, &c.id, c.status.word())
            })
    }

    fn counts(&self) -> String {
        self.report
            .as_ref()
            .map_or_else(String::new, |r| text::counts(r.counts))
    }

    fn stage_points(&self, stage: &str) -> u32 {
        self.report
            .as_ref()
            .and_then(|r| r.stages.iter().find(|s| s.id == stage))
            .map_or(0, |s| s.points)
    }
}

impl Results {
    pub(crate) fn render(&self, format: GradeFormat) -> String {
        match format {
            GradeFormat::Table => self.to_table(),
            GradeFormat::Json => {
                serde_json::to_string_pretty(self).expect("results serialize") + "\n"
            }
            GradeFormat::Junit => self.to_junit(),
            GradeFormat::Csv => self.to_csv(),
            GradeFormat::Markdown => self.to_markdown(),
            GradeFormat::GithubClassroom => self.to_classroom(),
        }
    }

    fn to_table(&self) -> String {
        let mut table = Table::new();
        table.load_style(UTF8_FULL_CONDENSED);
        table.set_header(text::HEADER.to_vec());
        for g in &self.submissions {
            table.add_row(vec![
                g.id.clone(),
                format!("{}/{}", g.points, g.max_points),
                g.counts(),
                g.first_to_fix(),
                format!("{:.1} s", g.timings.total_ms as f64 / 1000.0),
                g.notes.join("; "),
            ]);
        }
        let failed = self
            .submissions
            .iter()
            .filter(|g| g.error.is_some())
            .count();
        format!(
            "{table}\n{}\n",
            text::summary(
                self.submissions.len() - failed,
                self.submissions.len(),
                failed
            )
        )
    }

    /// A gradebook: one row per submission, the total and each stage.
    fn to_csv(&self) -> String {
        let mut header = vec!["submission", "sha256", "points", "max_points"];
        header.extend(self.stages.iter().map(String::as_str));
        header.push("error");
        let mut out = csv_row(header.iter().map(|s| (*s).to_string()));
        for g in &self.submissions {
            let mut row = vec![
                g.id.clone(),
                g.sha256.clone().unwrap_or_default(),
                g.points.to_string(),
                g.max_points.to_string(),
            ];
            row.extend(self.stages.iter().map(|s| g.stage_points(s).to_string()));
            row.push(g.error.clone().unwrap_or_default());
            out.push_str(&csv_row(row.into_iter()));
        }
        out
    }

    fn to_markdown(&self) -> String {
        let mut out = format!(
            "{}\n\n| submission | points | checks | first to fix |\n|---|---:|---|---|\n",
            text::md_title(&self.lab)
        );
        for g in &self.submissions {
            out.push_str(&format!(
                "| {} | {}/{} | {} | {} |\n",
                md_cell(&g.id),
                g.points,
                g.max_points,
                md_cell(&g.counts()),
                md_cell(&g.first_to_fix())
            ));
        }
        out
    }

    /// A test suite per submission, a test case per check.
    fn to_junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        for g in &self.submissions {
            let seconds = g.timings.total_ms as f64 / 1000.0;
            let Some(report) = &g.report else {
                out.push_str(&format!(
                    "  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"{seconds:.3}\">\n    <testcase classname=\"{}\" name=\"grade\"><error message=\"{}\"/></testcase>\n  </testsuite>\n",
                    xml(&g.id),
                    xml(&g.id),
                    xml(g.error.as_deref().unwrap_or(&text::not_graded()))
                ));
                continue;
            };
            let checks: Vec<_> = report
                .stages
                .iter()
                .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
                .collect();
            let failures = checks
                .iter()
                .filter(|(_, c)| c.status != Status::Pass)
                .count();
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{seconds:.3}\">\n",
                xml(&g.id),
                checks.len()
            ));
            for (stage, check) in checks {
                let name = format!("{}/{}", stage.id, check.id);
                match check.status {
                    Status::Pass => out.push_str(&format!(
                        "    <testcase classname=\"{}\" name=\"{}\"/>\n",
                        xml(&g.id),
                        xml(&name)
                    )),
                    status => out.push_str(&format!(
                        "    <testcase classname=\"{}\" name=\"{}\"><failure message=\"{}\">{}</failure></testcase>\n",
                        xml(&g.id),
                        xml(&name),
                        xml(status.word()),
                        xml(&check.observed)
                    )),
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// The result GitHub Classroom's autograding reporter reads from a
    /// step's output (`<ID>_RESULTS`): base64 of a JSON document, one line
    /// per submission (a Classroom workflow grades one: the student's).
    fn to_classroom(&self) -> String {
        let mut out = String::new();
        for g in &self.submissions {
            let tests: Vec<ClassroomTest> = match &g.report {
                Some(report) => report
                    .stages
                    .iter()
                    .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
                    .map(|(stage, check)| ClassroomTest {
                        name: format!("{} › {}", stage.title, check.title),
                        status: match check.status {
                            Status::Pass => "pass",
                            Status::Error => "error",
                            Status::Fail | Status::Blocked => "fail",
                        },
                        score: if g.error.is_some() { 0 } else { check.points },
                        message: match check.status {
                            Status::Pass => String::new(),
                            _ => format!(
                                "expected: {}\nobserved: {}",
                                check.expected, check.observed
                            ),
                        },
                        test_code: format!("deploylab check ({}/{})", stage.id, check.id),
                        filename: String::new(),
                        line_no: 0,
                        execution_time: String::new(),
                    })
                    .collect(),
                None => vec![ClassroomTest {
                    name: "deploylab grade".into(),
                    status: "error",
                    score: 0,
                    message: g.error.clone().unwrap_or_default(),
                    test_code: "deploylab grade".into(),
                    filename: String::new(),
                    line_no: 0,
                    execution_time: String::new(),
                }],
            };
            let status = match (&g.error, g.points == g.max_points) {
                (Some(_), _) => "error",
                (None, true) => "pass",
                (None, false) => "fail",
            };
            let result = ClassroomResult {
                version: 1,
                status,
                max_score: g.max_points,
                tests,
            };
            let json = serde_json::to_vec(&result).expect("a result serializes");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(json));
            out.push('\n');
        }
        out
    }
}

/// GitHub Classroom's autograding result, as its reporter reads it.
#[derive(Serialize)]
struct ClassroomResult {
    version: u32,
    status: &'static str,
    max_score: u32,
    tests: Vec<ClassroomTest>,
}

#[derive(Serialize)]
struct ClassroomTest {
    name: String,
    status: &'static str,
    score: u32,
    message: String,
    test_code: String,
    filename: String,
    line_no: u32,
    execution_time: String,
}

/// One CSV line (RFC 4180: quoted when needed, quotes doubled).
fn csv_row(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells
        .map(|c| {
            // A leading =, +, - or @ makes a spreadsheet run the cell as a
            // formula: a student's folder name must stay text.
            let c = match c.starts_with(['=', '+', '-', '@']) {
                true => format!("'{c}"),
                false => c,
            };
            match c.contains([',', '"', '\n', '\r']) {
                true => format!("\"{}\"", c.replace('"', "\"\"")),
                false => c,
            }
        })
        .collect();
    cells.join(",") + "\r\n"
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn xml(text: &str) -> String {
    crate::report::xml(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> Results {
        let graded = |id: &str, points: u32, error: Option<&str>| Graded {
            id: id.into(),
            path: format!("{id}/deploylab-vm-nginx.submission"),
            sha256: Some("ab".repeat(32)),
            points,
            max_points: 33,
            report: None,
            error: error.map(str::to_string),
            error_kind: error.map(|_| ErrorKind::Submission),
            notes: vec![],
            self_reported_points: None,
            timings: Timings::default(),
        };
        Results {
            schema: RESULTS_SCHEMA,
            lab: "vm-nginx".into(),
            max_points: 33,
            stages: vec!["access".into(), "packages".into()],
            submissions: vec![
                graded("=cmd|evil", 0, Some("edited, \"badly\"")),
                graded("ana", 4, None),
            ],
        }
    }

    /// The instructor's table names each submission's cause (its first
    /// root failure, not what it blocks) and counts its checks.
    #[test]
    fn the_table_shows_the_first_root_failure_and_the_counts() {
        let lab = crate::environment::load(&crate::catalog::Catalog::BuiltIn, "vm-nginx").unwrap();
        let facts = std::fs::read_to_string("src/vm/fixtures/fresh.json").unwrap();
        let report = lab.judge_recorded(&facts);
        let mut results = results();
        results.submissions[1].points = report.points;
        results.submissions[1].report = Some(report);
        let table = results.render(GradeFormat::Table);
        assert!(table.contains("packages › apt-packages (fail)"), "{table}");
        assert!(table.contains("4✓ 12✗ 14·"), "{table}");
        let md = results.render(GradeFormat::Markdown);
        assert!(
            md.contains("| ana | 4/33 | 4✓ 12✗ 14· | packages › apt-packages (fail) |"),
            "{md}"
        );
    }

    #[test]
    fn the_gradebook_is_csv_a_spreadsheet_reads_as_text() {
        let csv = results().render(GradeFormat::Csv);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "submission,sha256,points,max_points,access,packages,error"
        );
        assert!(
            lines[1].starts_with("'=cmd|evil,"),
            "a formula stays text: {}",
            lines[1]
        );
        assert!(
            lines[1].ends_with(",\"edited, \"\"badly\"\"\""),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("ana,"));
    }

    #[test]
    fn classroom_results_are_base64_json_the_reporter_reads() {
        let out = results().render(GradeFormat::GithubClassroom);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let json = base64::engine::general_purpose::STANDARD
            .decode(lines[0])
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["status"], "error");
        assert_eq!(value["max_score"], 33);
        assert_eq!(value["tests"][0]["score"], 0);
    }

    #[test]
    fn results_survive_a_round_trip_through_json_for_merging() {
        let json = results().render(GradeFormat::Json);
        let back: Results = serde_json::from_str(&json).unwrap();
        assert_eq!(back.submissions.len(), 2);
        assert_eq!(back.submissions[1].points, 4);
    }

    #[test]
    fn markdown_and_junit_escape_what_students_name() {
        let md = results().render(GradeFormat::Markdown);
        assert!(md.contains("| =cmd\\|evil | 0/33 |"), "{md}");
        let junit = results().render(GradeFormat::Junit);
        assert!(
            junit.contains("message=\"edited, &quot;badly&quot;\""),
            "{junit}"
        );
    }
}
