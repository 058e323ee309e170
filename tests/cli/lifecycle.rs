//! A lab's life on the real engine: start, check, SSH, reboot, stop; ports, Ctrl-C, a VM removed behind deploylab's back, doctor.

use super::support::*;

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
    // The same in Portuguese, from the locale: the table, the blocked
    // lines, the first failure and its hint; `--lang en` wins over it.
    let mut in_portuguese = lab.cmd(&["check"]);
    in_portuguese.env("LANG", "pt_BR.UTF-8");
    redacted! { assert_cmd_snapshot!("check_fresh_vm_pt_br", in_portuguese); }
    let mut by_flag = lab.cmd(&["check", "--lang", "en"]);
    by_flag.env("LANG", "pt_BR.UTF-8");
    let english = stdout(&by_flag.output().unwrap());
    assert!(
        english.contains("First to fix: packages › The six packages"),
        "{english}"
    );
    assert!(!english.contains("Etapa"), "{english}");
    let json: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    let mut json_pt = lab.cmd(&["check", "--format", "json"]);
    json_pt.env("DEPLOYLAB_LANG", "pt-BR");
    let json_pt: Value = serde_json::from_slice(&json_pt.output().unwrap().stdout).unwrap();
    let translated = same_structure(&json, &json_pt, "");
    assert!(
        translated > 50,
        "only {translated} texts differ in Portuguese"
    );
    assert_eq!(json["schema"], 2);
    assert_eq!(json["passed"], false);
    // A fresh VM earns its access only; the packages are the first cause.
    assert_eq!(json["points"], 4);
    assert_eq!(first_failure(&json), "packages/apt-packages");
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
    assert_eq!(first_failure(&json), "packages/apt-packages");
}

/// The probe each VM carries read-only (so a check uploads nothing) is out
/// of a hostile root's reach: it cannot be removed, moved, overwritten or
/// covered, and a check still runs the real one.
#[test]
fn root_in_the_vm_cannot_replace_the_probe() {
    let lab = Lab::new();
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    let before: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    let attempts = [
        "sudo rm -f /.deploylab-probe-*",
        "sudo mv /.deploylab-probe-* /tmp/moved",
        "printf '#!/bin/sh\\necho {}\\n' | sudo tee /.deploylab-probe-*",
        "sudo mount --bind /bin/true /.deploylab-probe-*",
        "sudo umount /.deploylab-probe-*",
        "sudo chmod 000 /.deploylab-probe-*",
    ];
    for attempt in attempts {
        let out = lab.ssh(port, attempt);
        assert!(!out.status.success(), "{attempt} worked: {}", stdout(&out));
    }
    let out = lab.ssh(port, "ls /.deploylab-probe-* | wc -l");
    assert_eq!(stdout(&out).trim(), "1");
    let after: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    assert_eq!(stage_statuses(&after), stage_statuses(&before));
    assert_eq!(after["points"], before["points"]);
}

/// The VM's disk is not bounded by the storage driver, so it is watched:
/// `status` shows what the VM wrote (measured by the engine) and `check`
/// warns past the threshold (its wording: the unit test in `vm/disk.rs`).
#[test]
fn status_shows_what_the_vm_wrote_to_disk() {
    let lab = Lab::new();
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    let out = lab.ssh(port, "sudo fallocate -l 300M /var/tmp/big");
    assert!(out.status.success(), "{}", stderr(&out));
    // The figure a start remembers is measured again once forgotten.
    std::fs::remove_dir_all(lab.home.path().join("data/disk")).expect("remembered figures");
    let status = stdout(&lab.run(&["status"]));
    let row = status
        .lines()
        .find(|l| l.contains("vm-nginx"))
        .expect("a row");
    let written = row.split('┆').nth(4).expect("a disk column").trim();
    let megabytes: f64 = written
        .strip_suffix(" MB")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{written}"));
    assert!(megabytes >= 300.0, "{status}");
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
    interrupted_start_leaves_nothing("INT");
}

/// What `timeout`, a cancelled CI job or systemd sends, and a closed
/// terminal: the same as Ctrl-C.
#[test]
fn sigterm_and_sighup_during_start_remove_the_container() {
    interrupted_start_leaves_nothing("TERM");
    interrupted_start_leaves_nothing("HUP");
}

/// A `start` held after creating its container (and before booting it),
/// killed with `signal`: the lab, the file that releases the hold, and
/// the start's output.
fn start_killed_while_booting(signal: &str) -> (Lab, tempfile::TempDir, Output) {
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
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    std::fs::write(&release, "").unwrap();
    (lab, hold, out)
}

/// SIGKILL cannot be caught: the lab stays, unknown to the state file. The
/// engine's labels still say whose it is, so `status` shows it and a plain
/// `stop` removes it; its package proxy ends by itself.
#[test]
fn a_start_killed_with_sigkill_is_found_and_stopped() {
    let (lab, _hold, out) = start_killed_while_booting("KILL");
    assert_eq!(out.status.code(), None, "killed");
    assert!(!lab.containers().is_empty());
    let status = lab.run(&["status"]);
    assert!(
        stdout(&status).contains("left behind"),
        "{}",
        stdout(&status)
    );
    let stop = lab.run(&["stop"]);
    assert_eq!(stop.status.code(), Some(0), "{}", stderr(&stop));
    assert!(
        stdout(&stop).contains("Stopped vm-nginx"),
        "{}",
        stdout(&stop)
    );
    assert!(lab.containers().is_empty(), "stop left containers");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lab.proxies().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the package proxy outlived its lab"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends `signal` to a `start` held after creating its container.
fn interrupted_start_leaves_nothing(signal: &str) {
    let (lab, _hold, out) = start_killed_while_booting(signal);
    assert_eq!(out.status.code(), Some(130), "{signal}: {}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted"),
        "{signal}: {}",
        stderr(&out)
    );
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

/// `start --quiet` prints only how to log in.
#[test]
fn quiet_start_prints_only_the_ssh_command() {
    let lab = Lab::new();
    let out = lab.run(&["start", "vm-nginx", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("ssh -i "), "{text}");
    assert!(ssh_port(&text) > 0);
}

#[test]
fn doctor_reports_a_working_setup() {
    let lab = Lab::new();
    assert_eq!(lab.run(&["images", "build"]).status.code(), Some(0));
    let out = lab.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("✓ Docker engine"), "{text}");
    // What this OS and engine allow, said as such.
    for line in [
        "✓ Linux: every lab runs here",
        "✓ images are built with mmdebstrap",
        "✓ lab ports are published on 127.0.0.1 and reached there",
        "✓ package proxy: containers reach it at this host's address",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert!(text.contains("the VM runs systemd with"), "{text}");
    assert!(
        text.contains("✓ a throwaway VM booted systemd and sshd"),
        "{text}"
    );
    assert!(lab.containers().is_empty(), "doctor left its trial VM");
}

/// Two `start`s on one home at once (two terminals, a double-clicked
/// script): the second waits for the first and finds its lab; one VM, one
/// state, no raw Docker error. Every container it made is bounded in
/// memory, processes and CPUs.
#[test]
fn two_starts_at_once_make_one_bounded_lab() {
    let lab = Lab::new();
    let first = lab
        .cmd(&["start", "vm-nginx"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let second = lab
        .cmd(&["start", "vm-nginx"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(ssh_port(&stdout(&first)), ssh_port(&stdout(&second)));
    assert_eq!(lab.vm_containers().len(), 1);

    let containers = lab.containers();
    assert!(
        containers.len() >= 2,
        "the VM and its git server: {containers:?}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = docker().await;
        for id in containers {
            let host = docker
                .inspect_container(&id, None)
                .await
                .unwrap()
                .host_config
                .unwrap();
            let name = id.chars().take(12).collect::<String>();
            assert!(
                host.memory.is_some_and(|m| m > 0),
                "{name}: no memory limit"
            );
            assert!(
                host.pids_limit.is_some_and(|p| p > 0),
                "{name}: no pids limit"
            );
            assert!(
                host.nano_cpus.is_some_and(|c| c > 0),
                "{name}: no CPU limit"
            );
        }
    });

    // `--fresh` replaces the lab, its network and so its package proxy: the
    // old one ends by itself, one is left.
    let fresh = lab.run(&["start", "vm-nginx", "--fresh"]);
    assert_eq!(fresh.status.code(), Some(0), "{}", stderr(&fresh));
    let deadline = Instant::now() + Duration::from_secs(60);
    while lab.proxies().len() != 1 {
        assert!(Instant::now() < deadline, "proxies: {:?}", lab.proxies());
        std::thread::sleep(Duration::from_millis(100));
    }
}
