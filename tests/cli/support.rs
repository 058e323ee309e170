//! What the end-to-end tests share: a throwaway deploylab home (`Lab`), the
//! engine, the reference solutions, output helpers and snapshot redactions.

// What every topic uses, so `use super::support::*` is their one import.
pub(crate) use std::path::PathBuf;
pub(crate) use std::process::{Command, Output, Stdio};
pub(crate) use std::time::{Duration, Instant};

pub(crate) use insta_cmd::assert_cmd_snapshot;
pub(crate) use serde_json::Value;

pub(crate) const COURSE_PACKAGES: &str =
    "python3-dev python-is-python3 nginx git sqlite3 python3-venv";

/// A deploylab home of its own, so tests can run in parallel; stops every
/// lab it started when dropped, even when the test fails.
pub(crate) struct Lab {
    pub(crate) home: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

impl Lab {
    pub(crate) fn new() -> Lab {
        Lab {
            home: tempfile::tempdir().expect("temp home"),
            extra_env: Vec::new(),
        }
    }

    pub(crate) fn env(mut self, key: &str, value: impl Into<String>) -> Lab {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// `deploylab <args>` with only the environment it needs.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deploylab"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("DEPLOYLAB_HOME", self.home.path().join("data"))
            .env("DEPLOYLAB_CACHE", shared_cache())
            // No spare VMs booting behind the tests' backs (spare.rs turns
            // them on where it tests them).
            .env("DEPLOYLAB_SPARE", "off")
            .args(args)
            .stdin(Stdio::null());
        if let Ok(host) = std::env::var("DOCKER_HOST") {
            cmd.env("DOCKER_HOST", host);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("deploylab runs")
    }

    pub(crate) fn key(&self) -> PathBuf {
        self.home.path().join("data/ssh/id_ed25519")
    }

    /// The instance label deploylab puts on this home's containers.
    pub(crate) fn instance(&self) -> String {
        instance_of(&self.home.path().join("data").canonicalize().unwrap())
    }

    /// Runs a command in the VM over SSH with the real ssh client.
    pub(crate) fn ssh(&self, port: u16, command: &str) -> Output {
        Command::new("ssh")
            .arg("-i")
            .arg(self.key())
            .args(["-p", &port.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args([
                "-o",
                "LogLevel=ERROR",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .arg("student@127.0.0.1")
            .arg(command)
            .stdin(Stdio::null())
            .output()
            .expect("ssh runs")
    }

    pub(crate) fn containers(&self) -> Vec<String> {
        labelled_containers(&self.instance(), None)
    }

    pub(crate) fn vm_containers(&self) -> Vec<String> {
        labelled_containers(&self.instance(), Some("vm"))
    }
}

impl Lab {
    /// Package proxy processes serving this home's labs (found in /proc).
    pub(crate) fn proxies(&self) -> Vec<u32> {
        let instance = format!("--instance\0{}\0", self.instance());
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                cmdline.contains("package-proxy") && cmdline.contains(&instance)
            })
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run(&["stop", "--all"]);
        // The home is thrown away whole, and so are the volumes its labs
        // kept across `stop` (the heroku lab's slugs and databases).
        let listed = Command::new("docker")
            .args(["volume", "ls", "-q", "--filter"])
            .arg(format!("label=deploylab.instance={}", self.instance()))
            .output();
        if let Ok(listed) = listed {
            let names = String::from_utf8_lossy(&listed.stdout).into_owned();
            for name in names.split_whitespace() {
                let _ = Command::new("docker")
                    .args(["volume", "rm", "-f", name])
                    .output();
            }
        }
    }
}

/// The instance label of the deploylab home at `dir` (canonical).
pub(crate) fn instance_of(dir: &std::path::Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dir.to_string_lossy().as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..12]
        .to_string()
}

/// The image build cache every test shares (the one `deploylab images
/// build` filled before the tests, or the first test to need it fills).
pub(crate) fn shared_cache() -> PathBuf {
    std::env::var_os("DEPLOYLAB_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("deploylab")))
        .expect("a cache dir")
}

/// Containers of a deploylab home (all, or those of one role).
pub(crate) fn labelled_containers(instance: &str, role: Option<&str>) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = docker().await;
        let mut labels = vec![format!("deploylab.instance={instance}")];
        if let Some(role) = role {
            labels.push(format!("deploylab.role={role}"));
        }
        let filters = std::collections::HashMap::from([("label".to_string(), labels)]);
        let options = bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        docker
            .list_containers(Some(options))
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c| c.id)
            .collect()
    })
}

/// The Docker engine deploylab uses (`DOCKER_HOST`, else the local socket).
pub(crate) async fn docker() -> bollard::Docker {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.is_empty() => bollard::Docker::connect_with_host(&host),
        _ => bollard::Docker::connect_with_local_defaults(),
    }
    .expect("Docker engine")
}

/// The reference solution's steps of a lab: (stage, `env.sh` + step), in order.
pub(crate) fn solution_steps(lab: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("solutions")
        .join(lab);
    let prelude = std::fs::read_to_string(dir.join("env.sh")).unwrap();
    let mut steps: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "env.sh" && n.ends_with(".sh"))
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).unwrap();
            (n, format!("{prelude}\n{text}"))
        })
        .collect();
    steps.sort();
    steps
        .into_iter()
        .map(|(name, script)| {
            let stage = name.trim_end_matches(".sh").split_once('-').unwrap().1;
            (stage.to_string(), script)
        })
        .collect()
}

/// One check's result in a `check --format json` report.
pub(crate) fn check_result(report: &Value, check: &str) -> Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .find(|c| c["id"] == check)
        .cloned()
        .unwrap_or_else(|| panic!("no check {check}"))
}

pub(crate) fn check_status(report: &Value, check: &str) -> String {
    check_result(report, check)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The SSH port from `start`'s output (`… -p PORT …`).
pub(crate) fn ssh_port(start_output: &str) -> u16 {
    let after = start_output
        .split(" -p ")
        .nth(1)
        .expect("start prints -p PORT");
    after.split_whitespace().next().unwrap().parse().unwrap()
}

/// Ports, timings, paths and ids change every run; snapshots must not.
macro_rules! redacted {
    ($($body:tt)*) => {
        insta::with_settings!({filters => vec![
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
            (r"-p \d+", "-p [PORT]"),
            (r"in \d+ ms", "in [MS] ms"),
            (r"em \d+ ms", "em [MS] ms"),
            (r"-i \S+/id_ed25519", "-i [KEY]"),
            (r"/tmp/\.tmp\w+", "[TMP]"),
        ]}, { $($body)* });
    };
}

// --- reading `check --format json` ---------------------------------------

pub(crate) fn stage_statuses(report: &Value) -> Vec<(String, String)> {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// "stage/check" of every check whose status is exactly `fail`.
pub(crate) fn failing(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for stage in report["stages"].as_array().unwrap() {
        for check in stage["checks"].as_array().unwrap() {
            if check["status"] == "fail" {
                out.push(format!(
                    "{}/{}",
                    stage["id"].as_str().unwrap(),
                    check["id"].as_str().unwrap()
                ));
            }
        }
    }
    out
}

/// "stage/check" of every check that did not pass: failed, blocked or
/// not judged.
pub(crate) fn not_passing(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for stage in report["stages"].as_array().unwrap() {
        for check in stage["checks"].as_array().unwrap() {
            if check["status"] != "pass" {
                out.push(format!(
                    "{}/{}",
                    stage["id"].as_str().unwrap(),
                    check["id"].as_str().unwrap()
                ));
            }
        }
    }
    out
}

/// "stage/check" of the report's first check to fix (its root failure).
pub(crate) fn first_failure(report: &Value) -> String {
    let first = &report["first_failure"];
    format!(
        "{}/{}",
        first["stage"]
            .as_str()
            .unwrap_or_else(|| panic!("no first failure: {report}")),
        first["check"].as_str().unwrap()
    )
}

/// A check's status: pass, fail, blocked or error.
pub(crate) fn status(report: &Value, stage: &str, check: &str) -> String {
    check_of(report, stage, check)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) fn observed(report: &Value, stage: &str, check: &str) -> String {
    check_of(report, stage, check)["observed"]
        .as_str()
        .unwrap()
        .to_string()
}

fn check_of<'r>(report: &'r Value, stage: &str, check: &str) -> &'r Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == stage)
        .and_then(|s| {
            s["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == check)
        })
        .unwrap_or_else(|| panic!("no check {stage}/{check}"))
}

/// Whether two reports have the same structure, as machines read it: the
/// same keys, the same lengths, the same ids, statuses and numbers; only
/// the texts a person reads may differ. Returns how many of those differ.
pub(crate) fn same_structure(a: &Value, b: &Value, path: &str) -> usize {
    const TEXTS: &[&str] = &["title", "expected", "observed", "hint", "summary"];
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "keys at {path}");
            x.iter()
                .map(|(k, v)| match (v, &y[k]) {
                    (Value::String(s), Value::String(t)) if TEXTS.contains(&k.as_str()) => {
                        usize::from(s != t)
                    }
                    (_, w) => same_structure(v, w, &format!("{path}.{k}")),
                })
                .sum()
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length at {path}");
            x.iter()
                .zip(y)
                .enumerate()
                .map(|(i, (v, w))| same_structure(v, w, &format!("{path}[{i}]")))
                .sum()
        }
        (x, y) => {
            // elapsed times are measured, not structure
            if !path.ends_with("elapsed_ms") && !path.contains("timings") {
                assert_eq!(x, y, "value at {path}");
            }
            0
        }
    }
}

/// Runs a command with `input` on its standard input, its output kept.
pub(crate) fn with_input(mut cmd: Command, input: &str) -> Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("it runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
