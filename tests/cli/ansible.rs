//! The vm-ansible lab: two fresh VMs, the inventory deploylab writes, the
//! real ansible-playbook run both ways (the host's own Ansible with the
//! settings `deploylab ansible env` prints, and `deploylab ansible-playbook`
//! in a control container), and checks that judge every host, a second
//! run of the playbook and a reboot. The reference playbook and variants
//! of it that students write.

use super::support::*;

const LAB: &str = "vm-ansible";

/// A student's project folder: the reference playbook, its templates and
/// the course's hello-world playbook, changed by `edit` (file, from, to).
fn project(edits: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("solutions/vm-ansible/files");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", files.display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success());
    for (file, from, to) in edits {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    dir
}

/// The settings `deploylab ansible env` prints, as (name, value).
fn ansible_env(lab: &Lab) -> Vec<(String, String)> {
    let out = lab.run(&["ansible", "env"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .map(|l| {
            let (name, value) = l.split_once('=').unwrap();
            (name.to_string(), value.trim_matches('\'').to_string())
        })
        .collect()
}

/// Runs `program args` in `dir`, with `input` on stdin.
fn run_in(mut cmd: Command, dir: &std::path::Path, input: &str) -> Output {
    cmd.current_dir(dir);
    with_input(cmd, input)
}

/// The host's own ansible-playbook, as a student runs it after
/// `eval "$(deploylab ansible env)"`; the become password on stdin.
fn host_playbook(lab: &Lab, dir: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("ansible-playbook");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", lab.home.path())
        .env("LANG", "C.UTF-8")
        .envs(ansible_env(lab))
        .args(args);
    run_in(cmd, dir, "student\n")
}

/// `deploylab ansible-playbook args` in `dir`; the become password on stdin.
fn deploylab_playbook(lab: &Lab, dir: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["ansible-playbook"];
    all.extend(args);
    run_in(lab.cmd(&all), dir, "student\n")
}

fn check(lab: &Lab) -> Value {
    let out = lab.run(&["check", "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)))
}

/// A check's status and observed text on one machine.
fn on(report: &Value, check: &str, machine: &str) -> (String, String) {
    let result = check_result(report, check);
    let found = result["machines"]
        .as_array()
        .unwrap_or_else(|| panic!("{check} has no machines: {result:#}"))
        .iter()
        .find(|m| m["machine"] == machine)
        .unwrap_or_else(|| panic!("{check} has no {machine}: {result:#}"))
        .clone();
    (
        found["status"].as_str().unwrap().to_string(),
        found["observed"].as_str().unwrap().to_string(),
    )
}

fn inventory(start: &str) -> String {
    start
        .lines()
        .find_map(|l| l.trim().strip_prefix("Ansible: the inventory "))
        .and_then(|l| l.split_whitespace().next())
        .expect("start names the inventory")
        .to_string()
}

fn passes(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(out), stderr(out));
}

/// The course's flow with the host's own Ansible: hello-world, the whole
/// playbook, deploylab's second run, a reboot; then the folder submitted
/// and graded on two fresh hosts (through the control container).
#[test]
fn vm_ansible_course_flow_with_the_hosts_own_ansible() {
    let lab = Lab::new();
    let started = lab.run(&["start", LAB]);
    passes(&started);
    let ready = stdout(&started);
    assert!(ready.contains("2 Debian 12 \"VMs\", web1, web2"), "{ready}");
    let inventory = inventory(&ready);
    let written = std::fs::read_to_string(&inventory).unwrap();
    assert!(
        written.contains("[webservers]\nweb1 ansible_host=127.0.0.1 ansible_port="),
        "{written}"
    );
    assert!(written.contains("StrictHostKeyChecking=yes"), "{written}");
    assert!(!written.contains("host_key_checking"), "{written}");

    // Nothing run yet: the reach check says how to run, not a crash.
    let fresh = check(&lab);
    let (status, observed) = on(&fresh, "reached", "web1");
    assert_eq!(status, "fail");
    assert!(
        observed.contains("no ansible-playbook run seen yet"),
        "{observed}"
    );

    // The course's hello-world: both hosts reached, nothing deployed.
    let dir = project(&[]);
    passes(&host_playbook(
        &lab,
        dir.path(),
        &["-i", &inventory, "ping.yaml"],
    ));
    let hello = check(&lab);
    assert_eq!(on(&hello, "reached", "web2").0, "pass", "{hello:#}");
    assert_eq!(on(&hello, "apt-packages", "web1").0, "fail");
    assert_eq!(check_status(&hello, "second-run"), "blocked");

    // The whole playbook, with the course's --ask-become-pass.
    let first = host_playbook(
        &lab,
        dir.path(),
        &["-i", &inventory, "playbook.yaml", "--ask-become-pass"],
    );
    passes(&first);
    assert!(
        stdout(&first).contains("web2                       : ok="),
        "{}",
        stdout(&first)
    );
    let deployed = check(&lab);
    assert_eq!(failing(&deployed), ["reboot/rebooted"], "{deployed:#}");
    for machine in ["web1", "web2"] {
        let (status, observed) = on(&deployed, "second-run", machine);
        assert_eq!(status, "pass", "{observed}");
        assert!(
            observed.contains(&format!("changed nothing on {machine}")),
            "{observed}"
        );
        let (status, observed) = on(&deployed, "blog-on-80", machine);
        assert_eq!(status, "pass", "{observed}");
    }
    passes(&lab.run(&["restart"]));
    let rebooted = check(&lab);
    assert!(rebooted["passed"].as_bool().unwrap(), "{rebooted:#}");
    assert_eq!(rebooted["points"], 34);

    // The folder of the last run, handed in and graded on fresh hosts.
    let submission = lab.home.path().join("work.submission");
    passes(&lab.run(&["submit", "--output", submission.to_str().unwrap()]));
    let graded = lab.run(&[
        "grade",
        LAB,
        submission.to_str().unwrap(),
        "--format",
        "json",
    ]);
    passes(&graded);
    let results: Value = serde_json::from_slice(&graded.stdout).unwrap();
    let result = &results["submissions"][0];
    assert_eq!(result["error"], Value::Null, "{result:#}");
    assert_eq!(result["points"], 34, "{result:#}");
    let notes = result["notes"].to_string();
    assert!(
        notes.contains(
            "ran `ansible-playbook playbook.yaml --ask-become-pass` against web1, web2 (exit 0)"
        ),
        "{notes}"
    );

    // `stop` leaves nothing: no container, no Ansible folder.
    passes(&lab.run(&["stop", LAB]));
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());
    assert!(!std::path::Path::new(&inventory).exists());
}

/// What goes wrong, with `deploylab ansible-playbook` (no Ansible on the
/// host): a host unreachable, a typo in a module's arguments, and a
/// playbook for web1 only that runs gunicorn as root, migrates on every
/// run and restarts nginx every time.
#[test]
fn vm_ansible_failures_name_the_task_and_the_host() {
    let lab = Lab::new();
    let started = lab.run(&["start", LAB]);
    passes(&started);
    let inventory = inventory(&stdout(&started));

    // web2 at a port where nothing answers: Ansible cannot reach it.
    let dir = project(&[]);
    let written = std::fs::read_to_string(&inventory).unwrap();
    let web2_port = written
        .lines()
        .find_map(|l| l.strip_prefix("web2 ansible_host=127.0.0.1 ansible_port="))
        .unwrap()
        .to_string();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    std::fs::write(
        dir.path().join("hosts"),
        written.replace(
            &format!("ansible_port={web2_port}"),
            &format!("ansible_port={closed_port}"),
        ),
    )
    .unwrap();
    let unreachable = deploylab_playbook(&lab, dir.path(), &["-i", "hosts", "ping.yaml"]);
    assert_eq!(
        unreachable.status.code(),
        Some(4),
        "{}",
        stdout(&unreachable)
    );
    let report = check(&lab);
    assert_eq!(on(&report, "reached", "web1").0, "pass");
    let (status, observed) = on(&report, "reached", "web2");
    assert_eq!(status, "fail");
    assert!(
        observed.starts_with(
            "Ansible could not reach web2 (play 'Hello, servers' › task 'Gathering Facts'): "
        ),
        "{observed}"
    );

    // A typo in a module's arguments: the task, the host, Ansible's words.
    let typo = project(&[(
        "playbook.yaml",
        "        update_cache: true\n",
        "        update_cach: true\n",
    )]);
    let failed = deploylab_playbook(
        &lab,
        typo.path(),
        &["-i", &inventory, "playbook.yaml", "-K"],
    );
    assert_eq!(failed.status.code(), Some(2), "{}", stdout(&failed));
    let report = check(&lab);
    for machine in ["web1", "web2"] {
        let (status, observed) = on(&report, "run-succeeded", machine);
        assert_eq!(status, "fail");
        assert!(
            observed.starts_with(&format!("play 'Deploy the blog behind gunicorn and nginx' › task 'The course's packages' failed on {machine}: Unsupported parameters for (ansible.builtin.apt) module: update_cach (did you mean update_cache?)")),
            "{observed}"
        );
    }

    // web1 only, gunicorn as root, migrate and restart on every run.
    let sloppy = project(&[
        ("playbook.yaml", "  hosts: webservers\n", "  hosts: web1\n"),
        (
            "playbook.yaml",
            "      register: migrate\n      changed_when: \"'No migrations to apply' not in migrate.stdout\"\n",
            "",
        ),
        (
            "playbook.yaml",
            "        name: nginx\n        state: started\n",
            "        name: nginx\n        state: restarted\n",
        ),
        (
            "templates/gunicorn.service.j2",
            "User={{ app_user }}",
            "User=root",
        ),
    ]);
    passes(&deploylab_playbook(
        &lab,
        sloppy.path(),
        &["-i", &inventory, "playbook.yaml", "--ask-become-pass"],
    ));
    let report = check(&lab);
    let (status, observed) = on(&report, "reached", "web2");
    assert_eq!(status, "fail");
    assert!(
        observed.starts_with(
            "no play of your last run ran on web2 (`web2` in the inventory); the plays' hosts: web1"
        ),
        "{observed}"
    );
    assert_eq!(on(&report, "blog-on-80", "web1").0, "pass");
    assert_eq!(on(&report, "apt-packages", "web2").0, "fail");
    assert_eq!(on(&report, "service", "web1").0, "fail");
    let service = check_result(&report, "service");
    assert!(
        service["hint"].as_str().unwrap().contains("become_user"),
        "{service:#}"
    );
    // Judged on web1: the second run's changes; blocked on web2.
    assert_eq!(check_status(&report, "second-run"), "fail");
    let (status, observed) = on(&report, "second-run", "web1");
    assert_eq!(status, "fail");
    assert!(
        observed.starts_with("a second run changed 2 task(s) on web1:"),
        "{observed}"
    );
    for task in [
        "task 'The database's tables' (playbook.yaml:",
        "): command and shell tasks report a change every time they run",
        "task 'nginx, running now and at every boot' (playbook.yaml:",
        "): it restarts the service on every run",
    ] {
        assert!(observed.contains(task), "{task} in {observed}");
    }
    let (status, observed) = on(&report, "second-run", "web2");
    assert_eq!(status, "blocked");
    assert_eq!(observed, "the second run ran no task on web2");

    // SIGTERM halfway (a cancelled CI job): exit 130, the control container
    // gone, and the run seen as far as it went.
    let mut run = lab.cmd(&["ansible-playbook", "-i", &inventory, "playbook.yaml"]);
    let mut child = run
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    assert!(lines.any(|l| l.unwrap().starts_with("TASK [The course's packages]")));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(labelled_containers(&lab.instance(), Some("ansible")).is_empty());
    let report = check(&lab);
    let (_, observed) = on(&report, "run-succeeded", "web2");
    assert!(
        observed.starts_with("your last run stopped before its end (interrupted?) on web2, during play 'Deploy the blog behind gunicorn and nginx' › task '"),
        "{observed}"
    );
}

/// Another project (`notes`: requirements only, run from its checkout in
/// /opt/notes, settings in an EnvironmentFile, its own units and hosts) by
/// a playbook with a role, `command` tasks the course's way, handlers, and
/// passwordless sudo (no --ask-become-pass): every point on both hosts.
#[test]
fn vm_ansible_another_project_by_a_role_with_passwordless_sudo() {
    let repo = super::projects::repository("notes");
    let lab = Lab::new();
    let notes = repo.path().join("notes");
    let started = lab.run(&["start", LAB, "--repo", notes.to_str().unwrap()]);
    passes(&started);
    let inventory = inventory(&stdout(&started));
    let dir = tempfile::tempdir().unwrap();
    let playbook =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/notes-playbook");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", playbook.display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success());
    passes(&host_playbook(
        &lab,
        dir.path(),
        &["-i", &inventory, "site.yml"],
    ));
    let deployed = check(&lab);
    assert_eq!(failing(&deployed), ["reboot/rebooted"], "{deployed:#}");
    for machine in ["web1", "web2"] {
        let (status, observed) = on(&deployed, "second-run", machine);
        assert_eq!(status, "pass", "{observed}");
        let (_, observed) = on(&deployed, "app-installed", machine);
        assert!(observed.contains("notes_project"), "{observed}");
    }
    passes(&lab.run(&["restart"]));
    let rebooted = check(&lab);
    assert!(
        rebooted["passed"].as_bool().unwrap(),
        "{:?}",
        failing(&rebooted)
    );
    assert_eq!(rebooted["points"], 34);
}
