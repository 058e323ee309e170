//! A lab with several machines (`machines:` in lab.yaml): each machine
//! booted, reached by name from the others, checked on its own; `ssh`,
//! `shell` and `restart` take a machine; solution steps say where they run;
//! a submission carries every machine's work and a grade restores each.

use super::support::*;

const LAB: &str = "two-vms";

/// The lab: access checked on both machines, nginx only on `web`.
const LAB_YAML: &str = r#"schema: 1
id: two-vms
title: Two machines, one network
environment: vm
machines: [control, web]
stages:
  - id: access
    title: Both machines answer over SSH and allow sudo
    checks:
      - { id: ssh, title: SSH answers, expect: { ssh_banner: {} }, hint: Is the lab running? }
      - { id: sudo, title: student may use sudo, expect: { sudo_allowed: {} }, hint: Put student back in the group sudo. }
  - id: web
    title: nginx serves on web
    checks:
      - id: nginx
        title: nginx is installed on web
        on: [web]
        expect: { packages_installed: { packages: [nginx] } }
        hint: Install nginx on web.
      - id: listening
        title: nginx listens on port 80 of web
        on: [web]
        expect: { tcp_listening: { port: 80, program: nginx } }
        hint: Start nginx on web.
"#;

/// The reference solution: the access stage passes on a fresh lab; nginx
/// goes on `web` only.
const STEPS: &[(&str, &str)] = &[
    (
        "01-access.sh",
        "# deploylab: a fresh lab passes this stage\ntrue\n",
    ),
    (
        "02-web.sh",
        "# deploylab: on web\nsudo apt-get update -qq\nsudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null\n",
    ),
];

/// A catalog of the built-in labs (so the VM image is the one every test
/// shares) and the two-machine lab with its solution.
fn catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let copied = Command::new("cp")
        .arg("-r")
        .arg(root.join("labs"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success());
    let lab = dir.path().join("labs").join(LAB);
    std::fs::create_dir_all(&lab).unwrap();
    std::fs::write(lab.join("lab.yaml"), LAB_YAML).unwrap();
    let solution = dir.path().join("solutions").join(LAB);
    std::fs::create_dir_all(&solution).unwrap();
    std::fs::write(solution.join("env.sh"), "set -eu\n").unwrap();
    for (name, text) in STEPS {
        std::fs::write(solution.join(name), text).unwrap();
    }
    dir
}

fn lab_with(catalog: &tempfile::TempDir) -> Lab {
    Lab::new().env(
        "DEPLOYLAB_LABS",
        catalog.path().join("labs").to_string_lossy(),
    )
}

fn check(lab: &Lab) -> Value {
    let out = lab.run(&["check", "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)))
}

/// Each machine's status of a check, by machine.
fn on_machines(report: &Value, check: &str) -> Vec<(String, String)> {
    check_result(report, check)["machines"]
        .as_array()
        .unwrap_or_else(|| panic!("{check} has no machines: {report:#}"))
        .iter()
        .map(|m| {
            (
                m["machine"].as_str().unwrap().to_string(),
                m["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ssh_on(lab: &Lab, machine: &str, command: &str) -> Output {
    lab.run(&["ssh", "--machine", machine, "--", command])
}

#[test]
fn a_lab_with_two_machines_checks_each_and_grades_both() {
    let catalog = catalog();
    let lab = lab_with(&catalog);
    let out = lab.run(&["start", LAB]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ready = stdout(&out);
    assert!(
        ready.contains("2 Debian 12 \"VMs\", control, web"),
        "{ready}"
    );
    assert!(
        ready.contains("\n  control: ssh -i ") && ready.contains("\n  web: ssh -i "),
        "{ready}"
    );
    assert_eq!(lab.vm_containers().len(), 2);
    let status = stdout(&lab.run(&["status"]));
    assert!(
        status.contains("control 127.0.0.1:") && status.contains("web 127.0.0.1:"),
        "{status}"
    );

    // Each machine is itself, and reaches the other by name.
    let hostname = ssh_on(&lab, "web", "hostname");
    assert_eq!(stdout(&hostname).trim(), "web", "{}", stderr(&hostname));
    let peer = ssh_on(
        &lab,
        "control",
        "getent hosts web && ssh-keyscan -T 5 web 2>/dev/null | head -1",
    );
    assert_eq!(peer.status.code(), Some(0), "{}", stderr(&peer));
    assert!(stdout(&peer).contains("ssh-ed25519"), "{}", stdout(&peer));
    let unknown = ssh_on(&lab, "db", "true");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown)
            .contains("lab 'two-vms' has no machine 'db'; its machines are: control, web"),
        "{}",
        stderr(&unknown)
    );

    // Fresh: access passes on both machines; nginx is missing on web.
    let fresh = check(&lab);
    let both = |status: &str| {
        vec![
            ("control".to_string(), status.to_string()),
            ("web".to_string(), status.to_string()),
        ]
    };
    assert_eq!(on_machines(&fresh, "sudo"), both("pass"));
    assert_eq!(
        on_machines(&fresh, "nginx"),
        [("web".into(), "fail".into())]
    );
    assert_eq!(failing(&fresh), ["web/nginx", "web/listening"]);

    // The solution's step runs on web only.
    let solved = lab.run(&["solve", "web"]);
    assert_eq!(solved.status.code(), Some(0), "{}", stderr(&solved));
    let on_control = ssh_on(
        &lab,
        "control",
        "dpkg -s nginx >/dev/null 2>&1 && echo yes || echo no",
    );
    assert_eq!(stdout(&on_control).trim(), "no");
    let all = check(&lab);
    assert!(all["passed"].as_bool().unwrap(), "{all:#}");
    let restarted = lab.run(&["restart"]);
    assert_eq!(restarted.status.code(), Some(0), "{}", stderr(&restarted));
    assert!(check(&lab)["passed"].as_bool().unwrap());

    // One machine broken: only its verdicts fail, and they say where.
    let broken = ssh_on(
        &lab,
        "control",
        "sudo gpasswd -d student sudo && sudo rm /etc/sudoers.d/90-deploylab-student",
    );
    assert_eq!(broken.status.code(), Some(0), "{}", stderr(&broken));
    let report = check(&lab);
    assert_eq!(failing(&report), ["access/sudo"]);
    assert_eq!(
        on_machines(&report, "sudo"),
        [
            ("control".into(), "fail".into()),
            ("web".into(), "pass".into())
        ]
    );
    let observed = check_result(&report, "sudo")["observed"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(observed.starts_with("on control: "), "{observed}");
    let junit = stdout(&lab.run(&["check", "--format", "junit"]));
    assert!(
        junit.contains("name=\"sudo on control: student may use sudo\">"),
        "{junit}"
    );
    assert!(
        junit.contains("name=\"sudo on web: student may use sudo\"/>"),
        "{junit}"
    );
    let table = stdout(&lab.run(&["check"]));
    assert!(table.contains("on control"), "{table}");

    // The submission carries both machines' work; a grade restores each
    // into a fresh lab and judges it as the student's check did.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.submission");
    let submitted = lab.run(&["submit", "-o", file.to_str().unwrap()]);
    assert_eq!(submitted.status.code(), Some(0), "{}", stderr(&submitted));
    let grader = lab_with(&catalog);
    let graded = grader.run(&["grade", LAB, file.to_str().unwrap(), "--format", "json"]);
    let results: Value = serde_json::from_slice(&graded.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&graded), stderr(&graded)));
    let result = &results["submissions"][0];
    assert_eq!(result["error"], Value::Null, "{result:#}");
    assert_eq!(failing(&result["report"]), ["access/sudo"], "{result:#}");
    assert_eq!(
        on_machines(&result["report"], "sudo"),
        [
            ("control".into(), "fail".into()),
            ("web".into(), "pass".into())
        ]
    );
    assert_eq!(result["points"], report["points"], "{result:#}");
}

/// A lab's machines are checked where the environment has them: the
/// check of an unknown machine's name is a located lab-file error.
#[test]
fn a_check_on_a_machine_the_lab_lacks_is_a_lab_file_error() {
    let catalog = catalog();
    let file = catalog.path().join("labs").join(LAB).join("lab.yaml");
    std::fs::write(&file, LAB_YAML.replace("on: [web]", "on: [db]")).unwrap();
    let out = lab_with(&catalog).run(&["labs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "check 'nginx' is on machine 'db', which the lab does not have (it has: control, web)"
        ),
        "{}",
        stderr(&out)
    );
}
