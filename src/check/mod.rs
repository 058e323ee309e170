//! Checks: what each kind verifies, the facts it needs, and how a whole check
//! run is evaluated into a `Report`.
//!
//! A run gathers every in-VM fact with ONE probe execution (`probe.rs`), runs
//! the host-side checks (those that must come from outside the VM), and then
//! evaluates each check against those facts. Evaluation is pure, so it is unit
//! tested here without Docker.

mod deploy;
pub mod http;

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use crate::lab::Lab;
use crate::report::{CheckResult, Report, StageResult, Status};

/// The kinds of check a lab.yaml may use (`expect: { <kind>: { … } }`).
/// `user` defaults to the lab's user.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// From the host: the VM's published SSH port answers with an SSH banner.
    SshBanner {},
    /// A program (matched by executable name) listens on a TCP port, per the
    /// kernel's socket table and `/proc/<pid>/fd`.
    TcpListening { port: u16, program: String },
    /// The user exists and has a home directory.
    UserExists {
        #[serde(default)]
        user: Option<String>,
    },
    /// The user may run commands as root through sudo (setuid sudo and a rule
    /// for the user or one of its groups).
    SudoAllowed {
        #[serde(default)]
        user: Option<String>,
    },
    /// deploylab's SSH key is in the user's authorized_keys, with modes sshd
    /// accepts.
    SshKeyAuthorized {
        #[serde(default)]
        user: Option<String>,
    },
    /// Every listed Debian package is installed, per dpkg's database, and the
    /// files it installed are present.
    PackagesInstalled { packages: Vec<String> },
    /// The checks of a Python web app deployed the course's way (venv, code,
    /// settings, database, gunicorn under systemd, nginx): `check/deploy.rs`.
    #[serde(untagged)]
    Deploy(deploy::DeployCheck),
    /// The heroku lab's checks, from the fake's records, a one-off dyno and
    /// the router: `heroku/checks.rs`.
    #[serde(untagged)]
    Heroku(crate::heroku::checks::HerokuCheck),
}

/// What the host measured itself, outside the VM.
#[derive(Debug, Clone)]
pub struct HostFacts {
    /// The first line sshd sent through the published port, or why none came.
    pub ssh_banner: Result<String, String>,
    /// The public key deploylab logs in with (OpenSSH format).
    pub public_key: String,
    /// Answers to HTTP requests sent to the VM's port 80 (`http::gather`),
    /// or null when the lab has no check that reads them.
    pub http: Value,
}

/// What a check concluded: passed or not, and the two sides of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub passed: bool,
    pub expected: String,
    pub observed: String,
}

impl Outcome {
    fn new(passed: bool, expected: impl Into<String>, observed: impl Into<String>) -> Self {
        Outcome {
            passed,
            expected: expected.into(),
            observed: observed.into(),
        }
    }
}

impl Check {
    /// The probe arguments (facts) this check reads.
    pub fn facts(&self, lab_user: &str) -> Vec<String> {
        let user = |u: &Option<String>| u.clone().unwrap_or_else(|| lab_user.to_string());
        match self {
            Check::SshBanner {} => vec![],
            Check::TcpListening { .. } => vec!["tcp-listen".into()],
            Check::UserExists { user: u } => vec![format!("user:{}", user(u))],
            Check::SudoAllowed { user: u } => vec![format!("user:{}", user(u)), "sudoers".into()],
            // The owner check compares with the user's uid.
            Check::SshKeyAuthorized { user: u } => {
                vec![format!("ssh-keys:{}", user(u)), format!("user:{}", user(u))]
            }
            Check::PackagesInstalled { packages } => {
                packages.iter().map(|p| format!("pkg:{p}")).collect()
            }
            Check::Heroku(_) => vec![],
            Check::Deploy(_) => vec![
                format!("deploy:{lab_user}"),
                format!("user:{lab_user}"),
                "tcp-listen".into(),
            ],
        }
    }

    /// Whether the check reads the host's HTTP requests to the VM.
    pub fn needs_http(&self) -> bool {
        matches!(self, Check::Deploy(_))
    }

    /// Judges the check against the facts of one run.
    pub fn evaluate(&self, lab_user: &str, facts: &Value, host: &HostFacts) -> Outcome {
        let user = |u: &Option<String>| u.clone().unwrap_or_else(|| lab_user.to_string());
        match self {
            Check::Deploy(check) => check.evaluate(facts, lab_user, host),
            Check::Heroku(check) => check.evaluate(facts),
            Check::SshBanner {} => match &host.ssh_banner {
                Ok(line) if line.starts_with("SSH-2.0-") => {
                    Outcome::new(true, "an SSH-2.0 banner", line.clone())
                }
                Ok(line) => Outcome::new(false, "an SSH-2.0 banner", format!("'{line}'")),
                Err(why) => Outcome::new(false, "an SSH-2.0 banner", why.clone()),
            },
            Check::TcpListening { port, program } => {
                let expected = format!("{program} listening on TCP port {port}");
                let listeners = facts["tcp-listen"].as_array().cloned().unwrap_or_default();
                let on_port: Vec<&Value> = listeners
                    .iter()
                    .filter(|s| s["port"].as_u64() == Some(u64::from(*port)))
                    .collect();
                let programs: BTreeSet<String> = on_port
                    .iter()
                    .flat_map(|s| s["programs"].as_array().cloned().unwrap_or_default())
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect();
                let by_program = programs
                    .iter()
                    .any(|exe| exe.rsplit('/').next() == Some(program.as_str()));
                let observed = if on_port.is_empty() {
                    format!("nothing listens on TCP port {port}")
                } else if programs.is_empty() {
                    format!("port {port} is open but no process holds it")
                } else {
                    format!(
                        "port {port} is held by {}",
                        programs.into_iter().collect::<Vec<_>>().join(", ")
                    )
                };
                Outcome::new(by_program, expected, observed)
            }
            Check::UserExists { user: u } => {
                let name = user(u);
                let fact = &facts[format!("user:{name}")];
                let expected = format!("user '{name}' exists");
                if fact["exists"] == Value::Bool(true) {
                    let home = fact["home"].as_str().unwrap_or_default();
                    Outcome::new(
                        true,
                        expected,
                        format!("'{name}' (uid {}, home {home})", fact["uid"]),
                    )
                } else {
                    Outcome::new(false, expected, format!("no user '{name}' in /etc/passwd"))
                }
            }
            Check::SudoAllowed { user: u } => {
                let name = user(u);
                let fact = &facts[format!("user:{name}")];
                let expected = format!("'{name}' may use sudo");
                if fact["exists"] != Value::Bool(true) {
                    return Outcome::new(false, expected, format!("no user '{name}'"));
                }
                let groups: Vec<&str> = fact["groups"]
                    .as_array()
                    .map(|g| g.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let sudoers = &facts["sudoers"];
                if sudoers["sudo_setuid_root"] != Value::Bool(true) {
                    return Outcome::new(
                        false,
                        expected,
                        "/usr/bin/sudo is missing or not setuid root",
                    );
                }
                let rules: Vec<&str> = sudoers["rules"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                match rules.iter().find(|rule| grants(rule, &name, &groups)) {
                    Some(rule) => Outcome::new(true, expected, format!("rule '{rule}'")),
                    None => Outcome::new(
                        false,
                        expected,
                        format!(
                            "no sudo rule for '{name}' or its groups ({})",
                            groups.join(", ")
                        ),
                    ),
                }
            }
            Check::SshKeyAuthorized { user: u } => {
                let name = user(u);
                let fact = &facts[format!("ssh-keys:{name}")];
                let expected = format!("deploylab's key in ~{name}/.ssh/authorized_keys");
                let key_body = host.public_key.split_whitespace().nth(1).unwrap_or("\u{0}");
                let content = fact["content"].as_str();
                let uid = facts[format!("user:{name}")]["uid"].as_u64();
                let observed = match content {
                    None if fact["home"].is_null() => format!("no user '{name}'"),
                    None => "the file does not exist".to_string(),
                    Some(text) if !text.lines().any(|l| l.contains(key_body)) => {
                        "the file does not contain deploylab's key".to_string()
                    }
                    Some(_) => match strict_modes_problem(fact, uid) {
                        Some(problem) => problem,
                        None => return Outcome::new(true, expected, "present"),
                    },
                };
                Outcome::new(false, expected, observed)
            }
            Check::PackagesInstalled { packages } => {
                let expected = format!("installed: {}", packages.join(", "));
                let mut missing = Vec::new();
                let mut broken = Vec::new();
                for p in packages {
                    let fact = &facts[format!("pkg:{p}")];
                    // Every real package installs files (its docs at least):
                    // none listed, or some gone, means dpkg's word is not enough.
                    let files_gone = fact["files_listed"].as_u64().unwrap_or(0) == 0
                        || fact["files_missing"]
                            .as_array()
                            .is_some_and(|m| !m.is_empty());
                    if fact["installed"] != Value::Bool(true) {
                        missing.push(p.as_str());
                    } else if files_gone {
                        broken.push(p.as_str());
                    }
                }
                let observed = match (missing.is_empty(), broken.is_empty()) {
                    (true, true) => return Outcome::new(true, expected, "all installed"),
                    (false, _) => format!("not installed: {}", missing.join(", ")),
                    (true, false) => format!("files missing from: {}", broken.join(", ")),
                };
                Outcome::new(false, expected, observed)
            }
        }
    }
}

/// Whether one sudoers line lets `user` (a member of `groups`) run as root.
/// Handles the common forms: `user ALL=(ALL:ALL) ALL`, `%group ALL=…`.
fn grants(rule: &str, user: &str, groups: &[&str]) -> bool {
    let mut words = rule.split_whitespace();
    let Some(who) = words.next() else {
        return false;
    };
    let rest: String = words.collect::<Vec<_>>().join(" ");
    let applies =
        who == user || who == "ALL" || who.strip_prefix('%').is_some_and(|g| groups.contains(&g));
    applies && rest.starts_with("ALL") && rest.trim_end().ends_with("ALL")
}

/// sshd (StrictModes) ignores authorized_keys that others could write.
fn strict_modes_problem(fact: &Value, uid: Option<u64>) -> Option<String> {
    let writable_by_others = |v: &Value| v["mode"].as_u64().is_some_and(|m| m & 0o022 != 0);
    let wrong_owner = |v: &Value| match (uid, v["uid"].as_u64()) {
        (Some(u), Some(owner)) => owner != u && owner != 0,
        _ => false,
    };
    for (label, v) in [
        ("your home folder", &fact["home_dir"]),
        ("~/.ssh", &fact["ssh_dir"]),
        ("authorized_keys", fact),
    ] {
        if writable_by_others(v) {
            return Some(format!(
                "{label} is writable by group or others (sshd ignores the keys)"
            ));
        }
        if wrong_owner(v) {
            return Some(format!(
                "{label} belongs to another user (sshd ignores the keys)"
            ));
        }
    }
    None
}

/// Every probe argument a lab's checks need, without duplicates.
pub fn facts_for(lab: &Lab) -> Vec<String> {
    let mut facts: BTreeSet<String> = BTreeSet::new();
    for check in lab.stages.iter().flat_map(|s| &s.checks) {
        facts.extend(check.expect.facts(&lab.user));
    }
    facts.into_iter().collect()
}

/// Evaluates every check of the lab into a report. A check that fails while a
/// stage it needs has not passed is reported as blocked: the student should
/// fix the earlier stage first.
pub fn evaluate(lab: &Lab, facts: &Value, host: &HostFacts) -> Report {
    let mut stages: Vec<StageResult> = Vec::new();
    for (index, stage) in lab.stages.iter().enumerate() {
        let needs = lab.needs(index);
        let needs_met = stages
            .iter()
            .filter(|s| needs.contains(&s.id))
            .all(|s| s.status == Status::Pass);
        let checks: Vec<CheckResult> = stage
            .checks
            .iter()
            .map(|spec| {
                let outcome = spec.expect.evaluate(&lab.user, facts, host);
                let status = match (outcome.passed, needs_met) {
                    (true, _) => Status::Pass,
                    (false, true) => Status::Fail,
                    (false, false) => Status::Blocked,
                };
                CheckResult::new(spec, status, outcome, needs_met)
            })
            .collect();
        stages.push(StageResult::new(stage, needs, needs_met, checks));
    }
    Report::new(lab, stages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host() -> HostFacts {
        HostFacts {
            ssh_banner: Ok("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".into()),
            public_key: "ssh-ed25519 AAAAKEY deploylab".into(),
            http: Value::Null,
        }
    }

    #[test]
    fn tcp_listening_needs_the_named_program_on_the_port() {
        let check = Check::TcpListening {
            port: 22,
            program: "sshd".into(),
        };
        let facts = json!({"tcp-listen": [
            {"address": "0.0.0.0", "port": 22, "programs": ["/usr/bin/python3.11"]}
        ]});
        let out = check.evaluate("student", &facts, &host());
        assert!(!out.passed);
        assert_eq!(out.observed, "port 22 is held by /usr/bin/python3.11");

        let facts = json!({"tcp-listen": [
            {"address": "0.0.0.0", "port": 22, "programs": ["/usr/sbin/sshd"]}
        ]});
        assert!(check.evaluate("student", &facts, &host()).passed);
        let out = check.evaluate("student", &json!({"tcp-listen": []}), &host());
        assert_eq!(out.observed, "nothing listens on TCP port 22");
    }

    #[test]
    fn packages_report_what_is_missing() {
        let check = Check::PackagesInstalled {
            packages: vec!["nginx".into(), "git".into(), "sqlite3".into()],
        };
        let facts = json!({
            "pkg:nginx": {"installed": false},
            "pkg:git": {"installed": true, "files_listed": 9, "files_missing": []},
            "pkg:sqlite3": {"installed": false},
        });
        let out = check.evaluate("student", &facts, &host());
        assert!(!out.passed);
        assert_eq!(out.observed, "not installed: nginx, sqlite3");

        // A status file edited by hand is not an installed package.
        let facts = json!({
            "pkg:nginx": {"installed": true, "files_listed": 9, "files_missing": ["/usr/sbin/nginx"]},
            "pkg:git": {"installed": true, "files_listed": 9, "files_missing": []},
            "pkg:sqlite3": {"installed": true, "files_listed": 0, "files_missing": []},
        });
        let out = check.evaluate("student", &facts, &host());
        assert_eq!(out.observed, "files missing from: nginx, sqlite3");
    }

    #[test]
    fn sudo_rules_for_user_or_group() {
        assert!(grants(
            "%sudo ALL=(ALL:ALL) ALL",
            "student",
            &["student", "sudo"]
        ));
        assert!(grants(
            "student ALL=(ALL:ALL) NOPASSWD: ALL",
            "student",
            &[]
        ));
        assert!(!grants("%sudo ALL=(ALL:ALL) ALL", "student", &["student"]));
        assert!(!grants(
            "student ALL=(ALL) /usr/bin/apt-get",
            "student",
            &[]
        ));
        assert!(!grants("Defaults env_reset", "student", &[]));
    }

    #[test]
    fn authorized_keys_must_hold_the_key_with_safe_modes() {
        let check = Check::SshKeyAuthorized { user: None };
        let good = json!({
            "user:student": {"exists": true, "uid": 1000},
            "ssh-keys:student": {
                "exists": true, "mode": 0o600, "uid": 1000,
                "content": "ssh-ed25519 AAAAKEY deploylab\n",
                "home": "/home/student",
                "home_dir": {"mode": 0o755, "uid": 1000},
                "ssh_dir": {"mode": 0o700, "uid": 1000},
            }
        });
        assert!(check.evaluate("student", &good, &host()).passed);

        let mut loose = good.clone();
        loose["ssh-keys:student"]["ssh_dir"]["mode"] = json!(0o777);
        let out = check.evaluate("student", &loose, &host());
        assert!(!out.passed);
        assert!(
            out.observed.starts_with("~/.ssh is writable"),
            "{}",
            out.observed
        );

        let mut other_key = good.clone();
        other_key["ssh-keys:student"]["content"] = json!("ssh-ed25519 AAAAOTHER x\n");
        assert!(!check.evaluate("student", &other_key, &host()).passed);
    }

    #[test]
    fn a_stage_behind_a_failing_one_is_blocked_and_earns_nothing() {
        let lab = crate::lab::parse(
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
        .unwrap();
        let report = evaluate(&lab, &json!({"pkg:nginx": {"installed": false}}), &host());
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
    fn ssh_banner_from_the_host() {
        let check = Check::SshBanner {};
        assert!(check.evaluate("student", &Value::Null, &host()).passed);
        let down = HostFacts {
            ssh_banner: Err("connection refused".into()),
            ..host()
        };
        let out = check.evaluate("student", &Value::Null, &down);
        assert_eq!(out.observed, "connection refused");
    }
}
