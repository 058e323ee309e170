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
        deploylab::state::hex(&digest)[..12].to_string()
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
        labelled_containers(&self.instance())
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

fn labelled_containers(instance: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = deploylab::docker::connect().await.expect("Docker engine");
        deploylab::docker::labelled_containers(&docker, instance, None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c| c.id)
            .collect()
    })
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

    // Starting again only repeats the connection details.
    let again = lab.run(&["start", "vm-nginx"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(ssh_port(&stdout(&again)), port);
    assert_eq!(lab.containers().len(), 1);

    // Fresh VM: access works, the packages are not there yet.
    redacted! { assert_cmd_snapshot!("check_fresh_vm", lab.cmd(&["check"])); }
    let json: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["passed"], false);
    assert_eq!(json["stages"][0]["status"], "pass");
    assert_eq!(json["stages"][1]["status"], "fail");
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

    // A reboot keeps the disk and the ports.
    let restart = lab.run(&["restart"]);
    assert_eq!(restart.status.code(), Some(0), "{}", stderr(&restart));
    assert_eq!(lab.run(&["check"]).status.code(), Some(0));

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
}

#[test]
fn a_container_removed_behind_deploylabs_back_is_handled() {
    let lab = Lab::new();
    assert_eq!(lab.run(&["start", "vm-nginx"]).status.code(), Some(0));
    let ids = lab.containers();
    assert_eq!(ids.len(), 1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = deploylab::docker::connect().await.unwrap();
        deploylab::docker::remove_container(&docker, &ids[0])
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
