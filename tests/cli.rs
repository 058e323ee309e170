//! End-to-end tests: the real `deploylab` binary, with a clean environment
//! and a throwaway home, against the real Docker engine, real systemd, sshd,
//! apt and the real `ssh` client. The VM image is built once (shared cache)
//! and reused by every test.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use insta_cmd::assert_cmd_snapshot;
use serde_json::Value;

const COURSE_PACKAGES: &str = "python3-dev python-is-python3 nginx git sqlite3 python3-venv";

/// A deploylab home of its own, so tests can run in parallel; stops every
/// lab it started when dropped, even when the test fails.
struct Lab {
    home: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            home: tempfile::tempdir().expect("temp home"),
            extra_env: Vec::new(),
        }
    }

    fn env(mut self, key: &str, value: impl Into<String>) -> Lab {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// `deploylab <args>` with only the environment it needs.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deploylab"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("DEPLOYLAB_HOME", self.home.path().join("data"))
            .env("DEPLOYLAB_CACHE", shared_cache())
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

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("deploylab runs")
    }

    fn key(&self) -> PathBuf {
        self.home.path().join("data/ssh/id_ed25519")
    }

    /// The instance label deploylab puts on this home's containers.
    fn instance(&self) -> String {
        use sha2::Digest;
        let dir = self.home.path().join("data").canonicalize().unwrap();
        let digest = sha2::Sha256::digest(dir.to_string_lossy().as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()[..12]
            .to_string()
    }

    /// Runs a command in the VM over SSH with the real ssh client.
    fn ssh(&self, port: u16, command: &str) -> Output {
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

    fn containers(&self) -> Vec<String> {
        labelled_containers(&self.instance(), None)
    }

    fn vm_containers(&self) -> Vec<String> {
        labelled_containers(&self.instance(), Some("vm"))
    }
}

impl Lab {
    /// Package proxy processes serving this home's labs (found in /proc).
    fn proxies(&self) -> Vec<u32> {
        let container = format!("deploylab-vm-nginx-{}", &self.instance()[..8]);
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                cmdline.contains("package-proxy") && cmdline.contains(&container)
            })
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run(&["stop", "--all"]);
    }
}

/// The image build cache every test shares (the one `deploylab images
/// build` filled before the tests, or the first test to need it fills).
fn shared_cache() -> PathBuf {
    std::env::var_os("DEPLOYLAB_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("deploylab")))
        .expect("a cache dir")
}

/// Containers of a deploylab home (all, or those of one role).
fn labelled_containers(instance: &str, role: Option<&str>) -> Vec<String> {
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
async fn docker() -> bollard::Docker {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.is_empty() => bollard::Docker::connect_with_host(&host),
        _ => bollard::Docker::connect_with_local_defaults(),
    }
    .expect("Docker engine")
}

/// The reference solution's steps of a lab: (stage, `env.sh` + step), in order.
fn solution_steps(lab: &str) -> Vec<(String, String)> {
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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The SSH port from `start`'s output (`… -p PORT …`).
fn ssh_port(start_output: &str) -> u16 {
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
            (r"-i \S+/id_ed25519", "-i [KEY]"),
            (r"/tmp/\.tmp\w+", "[TMP]"),
        ]}, { $($body)* });
    };
}

// --- no Docker needed -----------------------------------------------------

#[test]
fn labs_lists_the_built_in_labs() {
    assert_cmd_snapshot!(Lab::new().cmd(&["labs"]));
}

#[test]
fn unknown_lab_suggests_the_nearest_name() {
    assert_cmd_snapshot!(Lab::new().cmd(&["start", "vm-ngnix"]));
}

#[test]
fn broken_lab_yaml_is_reported_with_file_line_and_column() {
    let labs = tempfile::tempdir().unwrap();
    std::fs::create_dir(labs.path().join("broken")).unwrap();
    std::fs::write(
        labs.path().join("broken/lab.yaml"),
        "schema: 1\nid: broken\ntitle: Broken\nenvironment: vm\nstages:\n  - id: one\n    titel: One\n    checks: []\n",
    )
    .unwrap();
    let lab = Lab::new().env("DEPLOYLAB_LABS", labs.path().to_string_lossy());
    let out = lab.run(&["labs"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let expected = format!("{}:7:5: ", labs.path().join("broken/lab.yaml").display());
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    assert!(stderr(&out).contains("titel"), "{}", stderr(&out));
}

#[test]
fn docker_unreachable_is_an_environment_error() {
    let lab = Lab::new().env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    redacted! {
        assert_cmd_snapshot!(lab.cmd(&["start", "vm-nginx"]));
    }
    let doctor = lab.run(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(3));
    assert!(stdout(&doctor).contains("✗ Docker engine at unix:///nonexistent/docker.sock"));
}

#[test]
fn commands_on_a_lab_need_one_running() {
    assert_cmd_snapshot!(Lab::new().cmd(&["check"]));
    assert_cmd_snapshot!(Lab::new().cmd(&["stop"]));
}

#[test]
fn usage_errors_exit_2() {
    let out = Lab::new().run(&["check", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

// --- against the Docker engine ----------------------------------------------

/// The whole student loop: start, a failing check with the right hint, the
/// course's apt-get over real SSH (offline), a passing check, a reboot that
/// keeps the work, and a stop that leaves nothing behind.
#[test]
fn start_check_install_check_restart_stop() {
    let lab = Lab::new();
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    redacted! { insta::assert_snapshot!("start_output", stdout(&started)); }

    // The printed command works as printed, checking the VM's own host key,
    // which deploylab pinned at start.
    let printed = stdout(&started)
        .lines()
        .find(|l| l.trim_start().starts_with("ssh -i "))
        .unwrap()
        .trim()
        .to_string();
    let mut words = printed.split_whitespace();
    let mut ssh = Command::new(words.next().unwrap());
    let args: Vec<&str> = words.collect();
    let (destination, options) = args.split_last().unwrap();
    let out = ssh
        .args(options)
        .args(["-o", "BatchMode=yes", destination, "hostname"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{printed}: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "vm-nginx");
    let known = std::fs::read_to_string(lab.home.path().join("data/ssh/known_hosts")).unwrap();
    assert!(
        known.contains(&format!("[127.0.0.1]:{port} ssh-ed25519 ")),
        "{known}"
    );

    // Starting again only repeats the connection details.
    let again = lab.run(&["start", "vm-nginx"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(ssh_port(&stdout(&again)), port);
    assert_eq!(lab.containers().len(), 2, "the VM and the lab's git server");

    // Fresh VM: access works, the packages are not there yet.
    redacted! { assert_cmd_snapshot!("check_fresh_vm", lab.cmd(&["check"])); }
    let json: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["passed"], false);
    assert_eq!(json["stages"][0]["status"], "pass");
    assert_eq!(json["stages"][1]["status"], "fail");
    let junit = lab.run(&["check", "--format", "junit"]);
    assert_eq!(junit.status.code(), Some(1));
    let junit = stdout(&junit);
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(
        junit.contains(r#"<testsuite name="packages" tests="1" failures="1">"#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<failure type="fail" message="not installed: python3-dev"#),
        "{junit}"
    );
    let hint = lab.run(&["hint", "--more"]);
    assert_eq!(hint.status.code(), Some(1));
    assert!(
        stdout(&hint).contains("sudo apt-get update"),
        "{}",
        stdout(&hint)
    );

    // The course's commands, typed over SSH, with no network in the VM.
    let update = lab.ssh(port, "sudo apt-get update");
    assert!(update.status.success(), "{}", stderr(&update));
    assert!(
        !stderr(&update).contains("W:"),
        "apt-get update warned: {}",
        stderr(&update)
    );
    let install = lab.ssh(port, &format!("sudo apt-get install -y {COURSE_PACKAGES}"));
    assert!(install.status.success(), "{}", stderr(&install));
    let pip = lab.ssh(
        port,
        "python3 -m venv ~/.venv && ~/.venv/bin/python -m pip install --upgrade pip",
    );
    assert!(pip.status.success(), "offline pip: {}", stderr(&pip));

    redacted! { assert_cmd_snapshot!("check_after_install", lab.cmd(&["check"])); }
    let only = lab.run(&["check", "--stage", "packages", "--format", "json"]);
    assert_eq!(only.status.code(), Some(0));
    let only: Value = serde_json::from_slice(&only.stdout).unwrap();
    assert_eq!(only["stages"].as_array().unwrap().len(), 1);

    // A reboot keeps the disk (the packages, the venv) and the ports.
    let restart = lab.run(&["restart"]);
    assert_eq!(restart.status.code(), Some(0), "{}", stderr(&restart));
    let after: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    let statuses = stage_statuses(&after);
    assert_eq!(
        &statuses[..3],
        &[
            ("access".to_string(), "pass".to_string()),
            ("packages".to_string(), "pass".to_string()),
            ("virtualenv".to_string(), "pass".to_string()),
        ]
    );

    let stop = lab.run(&["stop"]);
    assert_eq!(stop.status.code(), Some(0), "{}", stderr(&stop));
    assert!(lab.containers().is_empty());
    assert_eq!(lab.run(&["check"]).status.code(), Some(2));
}

/// The student is root: a package marked installed in dpkg's status file by
/// hand, with none of its files, does not pass.
#[test]
fn hand_edited_dpkg_status_does_not_pass() {
    let lab = Lab::new();
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    let mut fake = String::new();
    for package in COURSE_PACKAGES.split(' ') {
        fake.push_str(&format!(
            "\\nPackage: {package}\\nStatus: install ok installed\\nVersion: 1.0\\nArchitecture: all\\n"
        ));
    }
    let out = lab.ssh(
        port,
        &format!("printf '{fake}' | sudo tee -a /var/lib/dpkg/status >/dev/null"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let check = lab.run(&["check", "--format", "json"]);
    assert_eq!(check.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&check.stdout).unwrap();
    let observed = json["stages"][1]["checks"][0]["observed"].as_str().unwrap();
    assert!(
        observed.starts_with("files missing from: python3-dev"),
        "{observed}"
    );
}

#[test]
fn a_port_already_taken_is_refused_and_nothing_is_left() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let lab = Lab::new();
    let out = lab.run(&["start", "vm-nginx", "--ssh-port", &port]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{}",
        stderr(&out)
    );
    assert!(lab.containers().is_empty());
}

#[test]
fn ctrl_c_during_start_removes_the_container() {
    let hold = tempfile::tempdir().unwrap();
    let release = hold.path().join("release");
    let lab = Lab::new().env("DEPLOYLAB_TEST_HOLD_BOOT", release.to_string_lossy());
    // Build the image first, so the interruption lands while booting.
    assert_eq!(lab.run(&["images", "build"]).status.code(), Some(0));
    let mut child = lab
        .cmd(&["start", "vm-nginx"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The container exists (and deploylab holds before booting it).
    let deadline = Instant::now() + Duration::from_secs(120);
    while lab.containers().is_empty() {
        assert!(
            Instant::now() < deadline,
            "start never created its container"
        );
        assert!(child.try_wait().unwrap().is_none(), "start ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    std::fs::write(&release, "").unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert!(
        lab.containers().is_empty(),
        "the interrupted start left a container"
    );
    assert!(
        lab.proxies().is_empty(),
        "the interrupted start left its package proxy"
    );
}

#[test]
fn a_container_removed_behind_deploylabs_back_is_handled() {
    let lab = Lab::new();
    assert_eq!(lab.run(&["start", "vm-nginx"]).status.code(), Some(0));
    let ids = lab.vm_containers();
    assert_eq!(ids.len(), 1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let options = bollard::query_parameters::RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        docker()
            .await
            .remove_container(&ids[0], Some(options))
            .await
            .unwrap();
    });
    let check = lab.run(&["check"]);
    assert_eq!(check.status.code(), Some(3));
    assert!(
        stderr(&check).contains("no longer exists"),
        "{}",
        stderr(&check)
    );
    let again = lab.run(&["start", "vm-nginx"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(lab.run(&["check"]).status.code(), Some(1));
}

#[test]
fn doctor_reports_a_working_setup() {
    let lab = Lab::new();
    assert_eq!(lab.run(&["images", "build"]).status.code(), Some(0));
    let out = lab.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("✓ Docker engine"), "{text}");
    assert!(text.contains("the VM runs systemd with"), "{text}");
    assert!(
        text.contains("✓ a throwaway VM booted systemd and sshd"),
        "{text}"
    );
    assert!(lab.containers().is_empty(), "doctor left its trial VM");
}

// --- the vm-nginx lab, stage by stage ----------------------------------------

/// A started vm-nginx lab with helpers to apply the reference solution and
/// read the checks.
struct Deployment {
    lab: Lab,
    port: u16,
}

impl Deployment {
    fn start() -> Deployment {
        let lab = Lab::new();
        let out = lab.run(&["start", "vm-nginx"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let port = ssh_port(&stdout(&out));
        Deployment { lab, port }
    }

    fn solve(&self, stage: &str) {
        let out = self.lab.run(&["solve", stage]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "solve {stage}: {}",
            stderr(&out)
        );
    }

    /// Runs the reference solution with variables changed (a variation).
    fn solve_with(&self, env: &str) {
        for (stage, script) in solution_steps("vm-nginx") {
            let out = self.run_script(&format!("env {env} bash -s"), &script);
            assert!(
                out.status.success(),
                "{stage} with {env}: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        // The last stage asks for a reboot after the deployment.
        self.restart();
    }

    fn restart(&self) {
        let out = self.lab.run(&["restart"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }

    fn run_script(&self, command: &str, script: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new("ssh")
            .arg("-i")
            .arg(self.lab.key())
            .args(["-p", &self.port.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "BatchMode=yes"])
            .arg("student@127.0.0.1")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs shell commands in the VM (as the student, sudo available).
    fn sh(&self, script: &str) {
        let out = self.run_script("bash -s", &format!("set -euo pipefail\n{script}"));
        assert!(
            out.status.success(),
            "{script}\n{}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    fn check(&self) -> Value {
        let out = self.lab.run(&["check", "--format", "json"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn stage_statuses(report: &Value) -> Vec<(String, String)> {
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
fn failing(report: &Value) -> Vec<String> {
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

fn observed(report: &Value, stage: &str, check: &str) -> String {
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
        .map(|c| c["observed"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no check {stage}/{check}"))
}

/// The reference solution, one stage at a time: after solving up to stage
/// k exactly the stages up to k pass; at the end everything passes, and
/// still does after a reboot.
#[test]
fn vm_nginx_solution_passes_exactly_the_stages_it_reached() {
    let d = Deployment::start();
    let fresh = d.check();
    let stages: Vec<String> = stage_statuses(&fresh)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        stage_statuses(&fresh)[0].1,
        "pass",
        "access works on a fresh VM"
    );
    for stage in fresh["stages"].as_array().unwrap().iter().skip(1) {
        assert_ne!(
            stage["status"], "pass",
            "{} passes on a fresh VM",
            stage["id"]
        );
        for check in stage["checks"].as_array().unwrap() {
            if check["status"] != "pass" {
                assert!(
                    !check["hint"].as_str().unwrap_or_default().is_empty(),
                    "{} has no hint",
                    check["id"]
                );
            }
        }
    }
    for (k, stage) in stages.iter().enumerate().skip(1) {
        d.solve(stage);
        let report = d.check();
        let statuses = stage_statuses(&report);
        for (i, (id, status)) in statuses.iter().enumerate() {
            if i <= k {
                assert_eq!(
                    status,
                    "pass",
                    "after solving {stage}, {id} should pass: {:?}",
                    failing(&report)
                );
            } else {
                assert_ne!(
                    status, "pass",
                    "after solving {stage}, {id} should not pass yet"
                );
            }
        }
    }
    redacted! { assert_cmd_snapshot!("vm_nginx_all_green", d.lab.cmd(&["check"])); }
    let restart = d.lab.run(&["restart"]);
    assert_eq!(restart.status.code(), Some(0), "{}", stderr(&restart));
    let after = d.check();
    assert_eq!(
        after["passed"],
        true,
        "after a reboot: {:?}",
        failing(&after)
    );
}

fn assert_variation_passes(env: &str) {
    let d = Deployment::start();
    d.solve_with(env);
    let report = d.check();
    assert_eq!(report["passed"], true, "{env}: {:?}", failing(&report));
}

#[test]
fn variation_another_user_runs_the_app() {
    assert_variation_passes("APP_USER=blog");
}

#[test]
fn variation_another_socket_path() {
    assert_variation_passes("SOCKET=/run/blog/app.sock");
}

#[test]
fn variation_uvicorn_instead_of_gunicorn() {
    assert_variation_passes("APP_SERVER=uvicorn");
}

#[test]
fn variation_app_in_another_folder() {
    assert_variation_passes("APP_DIR=/srv/blog");
}

/// The student is root in the VM; none of these fakes a pass.
#[test]
fn tricks_do_not_pass() {
    let d = Deployment::start();

    // Fake tools earlier on PATH change nothing: the probe reads dpkg's files.
    d.sh(r#"for tool in dpkg-query systemctl ss curl; do
        printf '#!/bin/sh\necho "ii  nginx 1.0 all"\nexit 0\n' | sudo tee /usr/local/bin/$tool >/dev/null
        sudo chmod +x /usr/local/bin/$tool
    done"#);
    let report = d.check();
    assert_eq!(failing(&report), vec!["packages/apt-packages"]);
    d.sh("sudo rm /usr/local/bin/dpkg-query /usr/local/bin/systemctl /usr/local/bin/ss /usr/local/bin/curl");
    d.solve("reboot");
    assert_eq!(d.check()["passed"], true);

    // A stale socket file after the socket unit stopped.
    d.sh("sudo systemctl stop gunicorn.socket gunicorn.service; test -S /run/gunicorn.sock");
    let report = d.check();
    assert!(
        failing(&report).contains(&"app-server/socket-listening".to_string()),
        "{:?}",
        failing(&report)
    );
    assert!(
        observed(&report, "app-server", "socket-listening")
            .starts_with("nothing listens on /run/gunicorn.sock")
    );

    // A Python one-liner bound to the socket path, answering like a web page.
    d.sh(r#"sudo rm -f /run/gunicorn.sock
sudo nohup python3 -c '
import socket, os
s = socket.socket(socket.AF_UNIX); s.bind("/run/gunicorn.sock"); os.chmod("/run/gunicorn.sock", 0o777); s.listen(8)
while True:
    c, _ = s.accept()
    try:
        c.recv(65536)
        c.sendall(b"HTTP/1.0 200 OK\r\nSet-Cookie: csrftoken=fixed\r\n\r\n<form>csrfmiddlewaretoken</form>")
    except OSError:
        pass
    c.close()
' </dev/null >/dev/null 2>&1 &
until python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("/run/gunicorn.sock")' 2>/dev/null; do sleep 0.05; done"#);
    let report = d.check();
    let fails = failing(&report);
    assert!(
        fails.contains(&"app-server/socket-listening".to_string()),
        "{fails:?}"
    );
    assert!(
        fails.contains(&"app-server/socket-answers".to_string()),
        "{fails:?}"
    );
    let socket = observed(&report, "app-server", "socket-listening");
    assert!(socket.contains("not by systemd"), "{socket}");
    d.sh("sudo pkill -f '[s]ocket.AF_UNIX' || true; sudo rm -f /run/gunicorn.sock; sudo systemctl start gunicorn.socket");
    assert_eq!(d.check()["passed"], true);

    // nginx serving a saved copy of the blog's page, the app stopped.
    d.sh(r#"curl -s http://localhost/ | sudo tee /var/www/html/saved.html >/dev/null
grep -q csrfmiddlewaretoken /var/www/html/saved.html
sudo sed -i 's|proxy_pass http://unix:/run/gunicorn.sock;|root /var/www/html; try_files /saved.html =404;|' /etc/nginx/sites-available/blog
sudo systemctl stop gunicorn.socket gunicorn.service
sudo systemctl restart nginx"#);
    let report = d.check();
    let fails = failing(&report);
    assert!(
        fails.contains(&"app-server/socket-listening".to_string()),
        "{fails:?}"
    );
    let blog = observed(&report, "web-server", "blog-on-80");
    assert!(blog.contains("not live"), "{blog}");
    d.solve("reboot");
    assert_eq!(d.check()["passed"], true);

    // gunicorn started by hand with nohup instead of by systemd.
    d.sh(r#"sudo systemctl disable --now gunicorn.socket gunicorn.service
sudo rm -f /run/gunicorn.sock
sudo install -d -o student /run/by-hand
cd /app
BLOG_ENV=production DJANGO_SETTINGS_MODULE=blog.settings nohup ~/.venv/bin/gunicorn --bind unix:/run/by-hand/gunicorn.sock blog.wsgi </dev/null >/dev/null 2>&1 &
until test -S /run/by-hand/gunicorn.sock; do sleep 0.05; done
sudo sed -i 's|/run/gunicorn.sock|/run/by-hand/gunicorn.sock|' /etc/nginx/sites-available/blog
sudo systemctl restart nginx
until curl -sf http://localhost/ >/dev/null; do sleep 0.05; done"#);
    let report = d.check();
    let reboot: Vec<String> = report["stages"][10]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(reboot.contains(&"enabled".to_string()), "{reboot:?}");
    assert!(reboot.contains(&"under-systemd".to_string()), "{reboot:?}");
    assert!(observed(&report, "reboot", "under-systemd").starts_with("started by hand"));
}

/// One thing broken at a time: exactly the check that watches it fails,
/// and what stands behind it is blocked, not failed.
#[test]
fn single_breakages_fail_exactly_their_check() {
    let d = Deployment::start();
    d.solve("reboot");
    assert_eq!(d.check()["passed"], true);

    d.sh("sudo systemctl stop gunicorn.socket gunicorn.service");
    assert_eq!(
        failing(&d.check()),
        vec!["app-server/socket-listening", "app-server/socket-answers"]
    );
    d.sh("sudo systemctl start gunicorn.socket");

    d.sh("sudo rm /etc/nginx/sites-enabled/blog && sudo systemctl restart nginx");
    let report = d.check();
    assert_eq!(
        failing(&report),
        vec![
            "web-server/proxy",
            "web-server/blog-on-80",
            "web-server/static-by-nginx",
            "web-server/debug-off-live"
        ]
    );
    d.sh("sudo ln -s /etc/nginx/sites-available/blog /etc/nginx/sites-enabled/blog && sudo systemctl restart nginx");
    assert_eq!(d.check()["passed"], true);

    d.sh("sed -i '/allowed_hosts/d' /app/blog_settings.toml && sudo systemctl restart gunicorn.service");
    let report = d.check();
    assert_eq!(failing(&report), vec!["settings/allowed-hosts"]);
    assert!(
        stage_statuses(&report)[6..]
            .iter()
            .all(|(_, s)| s == "blocked")
    );
    d.sh(r#"sed -i 's/^debug = false/debug = false\nallowed_hosts = ["*"]/' /app/blog_settings.toml && sudo systemctl restart gunicorn.service"#);
    // The settings changed since the last reboot: the last stage wants one.
    assert_eq!(failing(&d.check()), vec!["reboot/rebooted"]);
    d.restart();
    assert_eq!(d.check()["passed"], true);

    d.sh("sed -i 's/^debug = false/debug = true/' /app/blog_settings.toml && sudo systemctl restart gunicorn.service");
    let report = d.check();
    assert_eq!(failing(&report), vec!["settings/debug-off"]);
}

// --- Python packages in the VM through the host -------------------------------

const VENV: &str = "sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv >/dev/null && python3 -m venv /tmp/v";

/// Online (as this machine's host is), pip in the VM installs any package:
/// the host's pip fetches it, and the shared cache keeps it for next time.
/// `stop` ends the proxy.
#[test]
fn pip_in_the_vm_gets_any_package_through_the_host() {
    let lab = Lab::new();
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    assert_eq!(lab.proxies().len(), 1);
    let out = lab.ssh(port, &format!("{VENV} && /tmp/v/bin/pip install six"));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let cached = std::fs::read_dir(shared_cache().join("pypi"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("six-"));
    assert!(cached, "six was not kept in the shared cache");
    assert_eq!(lab.run(&["stop"]).status.code(), Some(0));
    assert!(
        lab.proxies().is_empty(),
        "stop left the package proxy running"
    );
}

/// Offline (the host's index unreachable), cached packages still install and
/// any other fails at once with pip's own message, no retries.
#[test]
fn offline_pip_serves_the_cache_and_fails_fast_otherwise() {
    let lab = Lab::new().env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/");
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    let out = lab.ssh(
        port,
        &format!("{VENV} && /tmp/v/bin/pip install 'django>=5.2,<6' gunicorn"),
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = lab.ssh(port, "/tmp/v/bin/pip install idna");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("No matching distribution found for idna"),
        "{}",
        stderr(&out)
    );
}

// --- the fake Heroku's API, driven by the real heroku CLI ---------------------

/// The real heroku CLI, unpacked once from `../shared/clients` into target/.
/// None (and a clear message) when the tarball or node is absent.
fn heroku_cli() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tarball = root.join("../shared/clients/heroku-cli-11.10.0.tar.xz");
    let dest = root.join("target/heroku-cli-11.10.0");
    let bin = dest.join("node_modules/.bin/heroku");
    if bin.exists() {
        return Some(bin);
    }
    if !tarball.exists() || Command::new("node").arg("--version").output().is_err() {
        // In CI a missing client is a broken setup, never a silent pass.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: the real heroku CLI ({}) and node are needed",
            tarball.display()
        );
        eprintln!(
            "NOTE: the real heroku CLI ({}) or node is absent: the real-CLI tests check nothing",
            tarball.display()
        );
        return None;
    }
    // Tests run as parallel processes: each unpacks into a folder of its
    // own and renames it into place; the first rename wins.
    let partial = root.join(format!("target/heroku-cli.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).unwrap();
    let status = Command::new("tar")
        .arg("xJf")
        .arg(&tarball)
        .arg("-C")
        .arg(&partial)
        .status()
        .unwrap();
    assert!(status.success(), "unpacking {}", tarball.display());
    if std::fs::rename(&partial, &dest).is_err() {
        // Another test put it in place first.
        let _ = std::fs::remove_dir_all(&partial);
    }
    assert!(bin.exists(), "{} after unpacking", bin.display());
    Some(bin)
}

/// The fake Heroku of a throwaway home, started with `deploylab start
/// heroku`, and the real CLI and git set up by `deploylab heroku env`.
struct FakeHeroku {
    lab: Lab,
    cli: PathBuf,
    env: Vec<(String, String)>,
    api_port: u16,
    router_port: u16,
    /// The course's blog, as `start` offers it to clone.
    blog_repo: String,
    work: tempfile::TempDir,
}

impl FakeHeroku {
    fn start(lab: Lab, cli: PathBuf) -> FakeHeroku {
        let started = lab.run(&["start", "heroku"]);
        assert!(
            started.status.success(),
            "start heroku: {}{}",
            stdout(&started),
            stderr(&started)
        );
        let text = stdout(&started);
        let router_port = text
            .split(".localhost:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .expect("the router's port in start's output");
        let blog_repo = text
            .split("git clone ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the blog's repository in start's output")
            .to_string();
        let env_out = lab.run(&["heroku", "env"]);
        assert!(env_out.status.success(), "{}", stderr(&env_out));
        let env: Vec<(String, String)> = stdout(&env_out)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('\'').replace("'\\''", "'")))
            .collect();
        let api_port = env
            .iter()
            .find(|(k, _)| k == "HEROKU_HOST")
            .and_then(|(_, v)| v.rsplit(':').next()?.parse().ok())
            .expect("HEROKU_HOST");
        let work = tempfile::tempdir().unwrap();
        let fake = FakeHeroku {
            lab,
            cli,
            env,
            api_port,
            router_port,
            blog_repo,
            work,
        };
        let init = fake.git(&["init", "-q", "--initial-branch=main"]);
        assert!(init.status.success());
        fake
    }

    /// A program run the way a student's terminal runs it after
    /// `eval "$(deploylab heroku env)"`, in the work repository.
    fn command(&self, program: &str) -> Command {
        let bin = self.cli.parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", path)
            .env("HOME", self.lab.home.path())
            .envs(self.env.iter().cloned())
            .env("GIT_AUTHOR_NAME", "student")
            .env("GIT_AUTHOR_EMAIL", "student@deploylab.test")
            .env("GIT_COMMITTER_NAME", "student")
            .env("GIT_COMMITTER_EMAIL", "student@deploylab.test")
            .current_dir(self.work.path())
            .stdin(Stdio::null());
        cmd
    }

    fn heroku(&self, args: &[&str], token: &str) -> Output {
        self.command("heroku")
            .args(args)
            .env("HEROKU_API_KEY", token)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.command("heroku").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "heroku {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        format!("{}{}", stdout(&out), stderr(&out))
    }

    fn git(&self, args: &[&str]) -> Output {
        self.command("git").args(args).output().unwrap()
    }

    /// Writes files into the work repository and commits them.
    fn commit(&self, files: &[(&str, &str)], message: &str) {
        for (path, text) in files {
            let path = self.work.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        assert!(self.git(&["add", "-A"]).status.success());
        let out = self.git(&["commit", "-q", "-m", message]);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    /// `git push heroku main`: whether git accepted it, and all it printed.
    fn push(&self) -> (bool, String) {
        let out = self.git(&["push", "heroku", "main"]);
        (
            out.status.success(),
            format!("{}{}", stdout(&out), stderr(&out)),
        )
    }

    /// A request through the router as a browser sends it: status and the
    /// response's head.
    fn get(&self, app: &str, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.router_port)).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: {app}.localhost:{}\r\n\r\n",
            self.router_port
        )
        .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let head = answer
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string();
        (status, head)
    }

    /// Waits until `heroku ps` shows web.1 in `state` (Heroku's own view).
    fn wait_for_web(&self, app: &str, state: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let ps = self.ok(&["ps", "web", "-a", app]);
            if ps.contains(&format!("web.1: {state}")) {
                return;
            }
            assert!(Instant::now() < deadline, "web.1 never {state}: {ps}");
        }
    }

    fn check_json(&self) -> Value {
        let out = self.lab.run(&["check", "--format", "json"]);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out)))
    }

    fn restart(&mut self) {
        assert!(self.lab.run(&["stop", "heroku"]).status.success());
        let started = self.lab.run(&["start", "heroku"]);
        assert!(started.status.success(), "{}", stderr(&started));
    }
}

impl Drop for FakeHeroku {
    /// Destroying the apps removes their slug images and databases; `stop`
    /// (the Lab's drop) then ends the fake and its dynos.
    fn drop(&mut self) {
        let state = self.lab.home.path().join("data/heroku/state.json");
        let state: Value = std::fs::read_to_string(state)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        if let Some(apps) = state["apps"].as_object() {
            for app in apps.keys() {
                let _ = self
                    .command("heroku")
                    .args(["apps:destroy", app, "--confirm", app])
                    .output();
            }
        }
    }
}

/// One check's result in `check --format json`.
fn check_result(report: &Value, check: &str) -> Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .find(|c| c["id"] == check)
        .cloned()
        .unwrap_or_else(|| panic!("no check {check}"))
}

fn check_status(report: &Value, check: &str) -> String {
    check_result(report, check)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn heroku_cli_manages_apps_on_the_fake() {
    let Some(cli) = heroku_cli() else { return };
    let fake = FakeHeroku::start(Lab::new(), cli);

    // Loopback only: the kernel's socket table shows the API on 127.0.0.1.
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let listening = format!("0100007F:{:04X} 00000000:0000 0A", fake.api_port);
    assert!(tcp.contains(&listening), "API not on loopback only");

    let created = fake.ok(&["create", "meu-blog"]);
    assert!(created.contains("Creating meu-blog... done"), "{created}");
    let remotes = fake.git(&["remote", "-v"]);
    assert!(stdout(&remotes).contains(&format!(
        "heroku\thttps://localhost:{}/meu-blog.git",
        fake.api_port
    )));

    assert!(fake.ok(&["apps"]).contains("meu-blog"));
    let info = fake.ok(&["info", "-a", "meu-blog"]);
    assert!(
        info.contains("Web URL:") && info.contains("http://meu-blog.localhost:"),
        "{info}"
    );

    // Config vars, each change a release, as `heroku releases` shows.
    let set = fake.ok(&[
        "config:set",
        "DEBUG=False",
        "SECRET_KEY=s3cr3t",
        "-a",
        "meu-blog",
    ]);
    assert!(set.contains("done, v2"), "{set}");
    let config = fake.ok(&["config", "-a", "meu-blog"]);
    assert!(
        config.contains("SECRET_KEY:") && config.contains("s3cr3t"),
        "{config}"
    );
    let unset = fake.ok(&["config:unset", "DEBUG", "-a", "meu-blog"]);
    assert!(unset.contains("done, v3"), "{unset}");
    let releases = fake.ok(&["releases", "-a", "meu-blog"]);
    assert!(releases.contains("Current: v3"), "{releases}");
    assert!(releases.contains("Remove DEBUG config vars"), "{releases}");
    assert!(releases.contains("Initial release"), "{releases}");

    // Heroku's errors, as the CLI prints them.
    let missing = fake.heroku(&["info", "-a", "nao-existe"], "test-token");
    assert!(!missing.status.success());
    let missing = fake
        .command("heroku")
        .args(["info", "-a", "nao-existe"])
        .output()
        .unwrap();
    assert!(
        stderr(&missing).contains("Couldn't find that app.")
            && stderr(&missing).contains("not_found"),
        "{}",
        stderr(&missing)
    );
    let bad_name = fake
        .command("heroku")
        .args(["create", "Nome_Invalido"])
        .output()
        .unwrap();
    assert!(!bad_name.status.success());
    assert!(
        stderr(&bad_name).contains("invalid_params"),
        "{}",
        stderr(&bad_name)
    );
    let taken = fake
        .command("heroku")
        .args(["create", "meu-blog"])
        .output()
        .unwrap();
    assert!(
        stderr(&taken).contains("Name meu-blog is already taken"),
        "{}",
        stderr(&taken)
    );
    // Nothing pushed: no process types to scale.
    let scale = fake
        .command("heroku")
        .args(["ps:scale", "web=1", "-a", "meu-blog"])
        .output()
        .unwrap();
    assert!(
        stderr(&scale).contains("Couldn't find that process type (web)."),
        "{}",
        stderr(&scale)
    );
    let wrong_token = fake.heroku(&["apps"], "not-the-token");
    assert!(!wrong_token.status.success());
    assert!(
        stderr(&wrong_token).contains("token provided to HEROKU_API_KEY is invalid"),
        "{}",
        stderr(&wrong_token)
    );

    // The heroku lab has no VM to ssh into.
    let ssh = fake.lab.run(&["ssh"]);
    assert_eq!(ssh.status.code(), Some(2));
    assert!(
        stderr(&ssh).contains("not available for lab 'heroku'"),
        "{}",
        stderr(&ssh)
    );

    // State survives a restart of the fake, on the same ports.
    let mut fake = fake;
    fake.restart();
    assert!(fake.ok(&["apps"]).contains("meu-blog"));
    let destroyed = fake.ok(&["apps:destroy", "meu-blog", "--confirm", "meu-blog"]);
    assert!(destroyed.contains("Destroying meu-blog"), "{destroyed}");
    assert!(!fake.ok(&["apps"]).contains("meu-blog"));
}

/// The reference solution (real CLI, real git) turns every check green; the
/// course's other commands then work as on Heroku, and undoing steps turns
/// the matching checks red.
#[test]
fn heroku_course_flow_with_the_real_cli_and_git() {
    let Some(cli) = heroku_cli() else { return };
    let fake = FakeHeroku::start(Lab::new(), cli);
    let before = fake.check_json();
    assert_eq!(check_status(&before, "app-created"), "fail");

    let solved = fake
        .command(env!("CARGO_BIN_EXE_deploylab"))
        .env("DEPLOYLAB_HOME", fake.lab.home.path().join("data"))
        .env("DEPLOYLAB_CACHE", shared_cache())
        .args(["solve", "static"])
        .output()
        .unwrap();
    assert!(
        solved.status.success(),
        "solve: {}{}",
        stdout(&solved),
        stderr(&solved)
    );
    let report = fake.check_json();
    assert_eq!(report["passed"], true, "{report:#}");

    let app = "meu-blog";
    let (status, head) = fake.get(app, "/");
    assert_eq!(status, 200, "{head}");

    // Releases are images deploylab lists (and `images prune` keeps).
    let images = stdout(&fake.lab.run(&["images", "list"]));
    assert!(images.contains("heroku-slug"), "{images}");
    let stack = images
        .lines()
        .find(|l| l.contains("heroku-stack") && l.contains("✓"));
    assert!(
        stack.is_some(),
        "the current stack is marked current: {images}"
    );
    assert!(head.contains("x-deploylab-release:"), "{head}");

    // Logs: the router's line for that request, the dyno's own output.
    let logs = fake.ok(&["logs", "-n", "200", "-a", app]);
    assert!(
        logs.contains("heroku[router]: at=info method=GET path=\"/\""),
        "{logs}"
    );
    assert!(logs.contains("status=200"), "{logs}");
    assert!(logs.contains("app[web.1]:"), "{logs}");
    assert!(logs.contains("app[api]: Deploy"), "{logs}");
    let router_only = fake.ok(&["logs", "--source", "heroku", "--dyno", "router", "-a", app]);
    assert!(!router_only.contains("app[web.1]"), "{router_only}");

    // heroku run: output, stdin, and the exit code.
    let run = fake.ok(&[
        "run",
        "--exit-code",
        "-a",
        app,
        "--",
        "python",
        "manage.py",
        "showmigrations",
        "posts",
    ]);
    assert!(run.contains("[X] 0001_initial"), "{run}");
    let piped = fake
        .command("heroku")
        .args(["run", "-a", app, "python"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = piped.stdin.as_ref().unwrap();
        stdin.write_all(b"print(6 * 7)\n").unwrap();
    }
    let mut piped = piped;
    drop(piped.stdin.take());
    let piped = piped.wait_with_output().unwrap();
    assert!(
        stdout(&piped).contains("42"),
        "{}{}",
        stdout(&piped),
        stderr(&piped)
    );
    let failed = fake
        .command("heroku")
        .args([
            "run",
            "--exit-code",
            "-a",
            app,
            "--",
            "bash",
            "-c",
            "exit 3",
        ])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(3), "{}", stderr(&failed));

    // ps:restart replaces the dyno.
    fake.ok(&["ps:restart", "-a", app]);
    fake.wait_for_web(app, "up");
    let logs = fake.ok(&["logs", "-n", "300", "-a", app]);
    assert!(
        logs.contains("heroku[web.1]: Stopping all processes with SIGTERM"),
        "{logs}"
    );

    // Rollback: an older release becomes current; the check sees it.
    let releases = fake.ok(&["releases", "-a", app]);
    assert!(releases.contains("Deploy "), "{releases}");
    let rolled = fake.ok(&["rollback", "v3", "-a", app]);
    assert!(
        rolled.contains("Rolling back meu-blog to v3... done"),
        "{rolled}"
    );
    fake.wait_for_web(app, "up");
    let report = fake.check_json();
    assert_eq!(check_status(&report, "released"), "fail");

    // Scaled to zero: H14 from the router, and the check says so.
    let scaled = fake.ok(&["ps:scale", "web=0", "-a", app]);
    assert!(scaled.contains("now running web at 0"), "{scaled}");
    let (status, head) = fake.get(app, "/");
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("x-deploylab-router-error: H14"), "{head}");
    let logs = fake.ok(&["logs", "-n", "20", "-a", app]);
    assert!(
        logs.contains("code=H14 desc=\"No web processes running\""),
        "{logs}"
    );
    let report = fake.check_json();
    let dyno = check_result(&report, "web-dyno-up");
    assert!(dyno["observed"].as_str().unwrap().contains("H14"), "{dyno}");
}

/// The failures students meet on the way, with Heroku's own messages.
#[test]
fn heroku_classic_failures_get_herokus_messages() {
    let Some(cli) = heroku_cli() else { return };
    // R10 after 5 s instead of Heroku's 60, to keep the test short.
    let lab = Lab::new().env("DEPLOYLAB_HEROKU_BOOT_TIMEOUT", "5");
    let fake = FakeHeroku::start(lab, cli);
    let app = "blog-falhas";
    fake.ok(&["create", app]);

    // Not a Python app at all.
    fake.commit(&[("NOTAS.md", "# notas\n")], "notes");
    let (ok, out) = fake.push();
    assert!(!ok, "{out}");
    assert!(
        out.contains("No default language could be detected"),
        "{out}"
    );
    assert!(out.contains("pre-receive hook declined"), "{out}");

    // The blog, asking for a Python the stack lacks, without gunicorn.
    let clone = fake.git(&[
        "pull",
        "-q",
        "--allow-unrelated-histories",
        "--no-rebase",
        "--no-edit",
        &fake.blog_repo,
        "main",
    ]);
    assert!(
        clone.status.success(),
        "{}{}",
        stdout(&clone),
        stderr(&clone)
    );
    fake.commit(
        &[
            (
                "requirements.txt",
                "django>=5.2,<6\ndynaconf\ndj-database-url\n",
            ),
            (".python-version", "3.12\n"),
            ("Procfile", "web: gunicorn blog.wsgi\n"),
        ],
        "Heroku files",
    );
    let (ok, out) = fake.push();
    assert!(!ok, "{out}");
    assert!(
        out.contains("The requested Python version isn't available"),
        "{out}"
    );
    assert!(out.contains("Available: Python 3.11"), "{out}");

    // The right Python: it builds, but the web dyno crashes (H10).
    fake.commit(&[(".python-version", "3.11\n")], "Python 3.11");
    let (ok, out) = fake.push();
    assert!(ok, "{out}");
    assert!(out.contains("Procfile declares types -> web"), "{out}");
    assert!(out.contains("Verifying deploy... done."), "{out}");
    fake.wait_for_web(app, "crashed");
    let logs = fake.ok(&["logs", "-n", "100", "-a", app]);
    assert!(logs.contains("gunicorn: command not found"), "{logs}");
    assert!(logs.contains("Process exited with status 127"), "{logs}");
    assert!(
        logs.contains("State changed from starting to crashed"),
        "{logs}"
    );
    let (status, head) = fake.get(app, "/");
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("x-deploylab-router-error: H10"), "{head}");
    let report = fake.check_json();
    let dyno = check_result(&report, "web-dyno-up");
    assert_ne!(dyno["status"], "pass");
    assert!(
        dyno["observed"].as_str().unwrap().contains("crashed"),
        "{dyno}"
    );

    // collectstatic failing fails the build, with Heroku's advice.
    fake.ok(&["config:set", "BLOG_STATIC_ROOT=", "-a", app]);
    fake.commit(
        &[(
            "requirements.txt",
            "django>=5.2,<6\ndynaconf\ndj-database-url\ngunicorn\n",
        )],
        "gunicorn",
    );
    let (ok, out) = fake.push();
    assert!(!ok, "{out}");
    assert!(
        out.contains("Unable to generate Django static files"),
        "{out}"
    );
    assert!(out.contains("DISABLE_COLLECTSTATIC=1"), "{out}");
    let report = fake.check_json();
    assert_eq!(check_status(&report, "build-succeeded"), "fail");
    fake.ok(&["config:set", "DISABLE_COLLECTSTATIC=1", "-a", app]);
    let (ok, out) = fake.push();
    assert!(ok, "{out}");
    assert!(out.contains("Skipping Django collectstatic"), "{out}");
    fake.wait_for_web(app, "up");

    // DEBUG off without ALLOWED_HOSTS: Django's DisallowedHost, a 400.
    fake.ok(&["config:set", "BLOG_DEBUG=false", "-a", app]);
    fake.wait_for_web(app, "up");
    let (status, head) = fake.get(app, "/");
    assert_eq!(status, 400, "{head}");
    let report = fake.check_json();
    assert_ne!(check_status(&report, "allowed-hosts"), "pass");
    assert_eq!(check_status(&report, "debug-off"), "pass");

    // A web process that listens on its own port, not $PORT: R10.
    fake.commit(
        &[("Procfile", "web: python -m http.server 8000\n")],
        "a port of its own",
    );
    let (ok, out) = fake.push();
    assert!(ok, "{out}");
    fake.wait_for_web(app, "crashed");
    let logs = fake.ok(&["logs", "-n", "50", "-a", app]);
    assert!(
        logs.contains("Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 5 seconds of launch"),
        "{logs}"
    );

    // Only main (or master) deploys.
    let other = fake.git(&["push", "heroku", "main:feature"]);
    assert!(other.status.success());
    assert!(
        stderr(&other).contains("non-deploy branch feature"),
        "{}",
        stderr(&other)
    );

    // git with the wrong token is refused.
    let refused = fake
        .command("git")
        .args(["push", "heroku", "main"])
        .env("HEROKU_API_KEY", "wrong")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("Authentication failed"),
        "{}",
        stderr(&refused)
    );
}

/// `start heroku` on a router port that is taken: one clear error, exit 3,
/// no fake left running.
#[test]
fn heroku_start_on_a_taken_port_is_a_clear_error() {
    let lab = Lab::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = lab.run(&["start", "heroku", "--http-port", &port]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{}",
        stderr(&out)
    );
    let status = lab.run(&["status"]);
    assert!(
        stdout(&status).contains("No lab is running"),
        "{}",
        stdout(&status)
    );
    let home = lab.home.path().join("data").display().to_string();
    let fakes = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("heroku-serve") && cmdline.contains(&home)
        })
        .count();
    assert_eq!(fakes, 0);
}
