//! `submit`, `grade` and `selftest`: a student's work as a file, restored
//! and checked in fresh environments, hostile submissions contained.

use super::support::*;
use super::vm_nginx::Deployment;

/// `deploylab submit -o <dir>/<name>.submission`.
fn submit(d: &Deployment, dir: &std::path::Path, name: &str) -> PathBuf {
    let file = dir.join(format!("{name}.submission"));
    let out = d.lab.run(&["submit", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    file
}

/// Runs `grade` and returns its exit code, its JSON results and the pid it
/// ran as (its scratch homes are `grading/<pid>-<n>`).
fn grade(lab: &Lab, args: &[&str]) -> (Option<i32>, Value, u32) {
    let (code, results, pid, _) = grade_logged(lab, args, "warn,kube_client=off");
    (code, results, pid)
}

/// `grade`, with its log at `level` (`DEPLOYLAB_LOG`), returned too.
fn grade_logged(lab: &Lab, args: &[&str], level: &str) -> (Option<i32>, Value, u32, String) {
    let mut all = vec!["grade", "vm-nginx", "--format", "json"];
    all.extend_from_slice(args);
    let child = lab
        .cmd(&all)
        .env("DEPLOYLAB_LOG", level)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out.status.code(), json, pid, stderr(&out))
}

/// Nothing of the scratch homes a `grade` run used is left in the engine.
fn assert_nothing_left(grader: &Lab, pid: u32, submissions: usize) {
    let dir = grader.home.path().join("data").canonicalize().unwrap();
    for n in 0..submissions {
        let scratch = dir.join("grading").join(format!("{pid}-{n}"));
        assert!(!scratch.exists(), "{} is left", scratch.display());
        let instance = instance_of(&scratch);
        assert_eq!(
            labelled_containers(&instance, None),
            Vec::<String>::new(),
            "containers of submission {n} are left"
        );
    }
}

fn submission<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {results}"))
}

/// The reference solution earns every point when graded; a fresh lab's
/// submission only the stage that needs no work; one breakage fails
/// exactly what it failed on the student's machine, naming the same cause;
/// a regrade of the same submission gives the same points.
#[test]
fn graded_submissions_earn_what_the_work_earns() {
    let d = Deployment::start();
    let dir = tempfile::tempdir().unwrap();
    let fresh = submit(&d, dir.path(), "fresh");
    let out = d.lab.run(&["solve", "reboot"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let full = submit(&d, dir.path(), "full");
    let size = std::fs::metadata(&full).unwrap().len();
    assert!(
        size <= 10_000_000,
        "the reference submission is {size} bytes"
    );
    // The venv as graded is each submission's own, though the grader
    // starts from an image carrying the first one's (`vm/carry.rs`): a
    // file the student deleted, or changed, breaks the app in the grade
    // as it did on their machine.
    let app = "f=$(ls -d /home/student/.venv/lib/python3*/site-packages/gunicorn/app)/wsgiapp.py";
    let kept = "/var/tmp/wsgiapp.py";
    // Each seen after a reboot, as the grade sees it.
    d.sh(&format!("{app}; cp -p $f {kept}; rm $f"));
    d.restart();
    let deleted_fails = not_passing(&d.check());
    assert!(!deleted_fails.is_empty());
    let deleted = submit(&d, dir.path(), "venv-deleted");
    // The same size, owner, mode and time: only the content differs (so
    // its bytecode, which Python trusts by size and time, goes too).
    let bytecode = "rm -f $(dirname $f)/__pycache__/wsgiapp.*";
    d.sh(&format!(
        "{app}; n=$(stat -c %s {kept})\n\
         {{ echo 'raise SystemExit(3)'; head -c $((n - 20)) /dev/zero | tr '\\0' '#'; }} > $f\n\
         touch -r {kept} $f; test $(stat -c %s $f) = $n; {bytecode}"
    ));
    d.restart();
    let changed_fails = not_passing(&d.check());
    assert!(!changed_fails.is_empty());
    let changed = submit(&d, dir.path(), "venv-changed");
    d.sh(&format!("{app}; cp -p {kept} $f; {bytecode}"));
    d.restart();
    assert_eq!(not_passing(&d.check()), Vec::<String>::new());
    d.sh("sudo systemctl disable --now gunicorn.socket gunicorn.service");
    let own = d.check();
    let broken_fails = not_passing(&own);
    assert_eq!(first_failure(&own), "app-server/socket-unit");
    let broken = submit(&d, dir.path(), "broken");
    let again = dir.path().join("again.submission");
    std::fs::copy(&broken, &again).unwrap();

    let grader = Lab::new();
    let csv = dir.path().join("grades.csv");
    let (code, results, pid, log) = grade_logged(
        &grader,
        &[
            fresh.to_str().unwrap(),
            full.to_str().unwrap(),
            broken.to_str().unwrap(),
            again.to_str().unwrap(),
            deleted.to_str().unwrap(),
            changed.to_str().unwrap(),
            "--jobs",
            "2",
            "--out",
            &format!("csv={}", csv.display()),
        ],
        "deploylab::vm=debug",
    );
    assert_eq!(code, Some(0), "{results}");
    let full = submission(&results, "full");
    assert_eq!(full["error"], Value::Null, "{full}");
    assert_eq!(
        full["points"],
        full["max_points"],
        "{:?}",
        failing(&full["report"])
    );
    let fresh = submission(&results, "fresh");
    let statuses = stage_statuses(&fresh["report"]);
    assert_eq!(statuses[0], ("access".into(), "pass".into()));
    assert!(
        statuses[1..].iter().all(|(_, s)| s != "pass"),
        "{statuses:?}"
    );
    let broken = submission(&results, "broken");
    assert_eq!(not_passing(&broken["report"]), broken_fails);
    assert_eq!(first_failure(&broken["report"]), "app-server/socket-unit");
    assert_eq!(broken["self_reported_points"], own["points"]);
    assert_eq!(broken["points"], own["points"]);
    let again = submission(&results, "again");
    assert_eq!(again["points"], broken["points"], "{again}");
    assert_eq!(not_passing(&again["report"]), broken_fails);

    for (id, fails) in [
        ("venv-deleted", deleted_fails),
        ("venv-changed", changed_fails),
    ] {
        let graded = submission(&results, id);
        assert_eq!(graded["error"], Value::Null, "{graded}");
        assert_eq!(not_passing(&graded["report"]), fails, "{id}");
    }
    // The five with the venv had most of it carried, not unpacked.
    let carried: Vec<usize> = (log.lines())
        .filter_map(|line| line.split("restore: carried ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .filter(|&n| n > 1000)
        .collect();
    assert_eq!(carried.len(), 5, "{log}");
    // Each graded VM waited unbooted for its work, then booted once: no
    // boot before the restore, no reboot after it.
    assert_eq!(log.matches("restore: first boot in").count(), 6, "{log}");
    assert_eq!(log.matches("restore: reboot in").count(), 0, "{log}");

    let gradebook = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = gradebook.lines().collect();
    assert_eq!(rows.len(), 7, "{gradebook}");
    assert!(rows[0].starts_with("submission,sha256,points,max_points,access,"));
    assert_nothing_left(&grader, pid, 6);
}

/// A unit that fork-bombs at boot, one that fills the disk, one that
/// never lets the VM finish booting: each gets 0 with its reason, within
/// its limits, and a well-behaved submission in the same batch is graded.
#[test]
fn hostile_submissions_get_zero_and_the_batch_goes_on() {
    let d = Deployment::start();
    let dir = tempfile::tempdir().unwrap();
    let good = submit(&d, dir.path(), "good");
    // Each unit is enabled by hand, never started in the student's lab.
    // The bomb lifts systemd's own per-unit task limit, which would
    // otherwise contain it, and every process of it stays (a bomb whose
    // processes exit can die out before the grade looks).
    let unit = |name: &str, body: &str| {
        format!(
            "printf '{body}' | sudo tee /etc/systemd/system/{name}.service >/dev/null\n\
             sudo ln -sf /etc/systemd/system/{name}.service \
             /etc/systemd/system/multi-user.target.wants/{name}.service"
        )
    };
    d.sh(&unit(
        "bomb",
        r#"[Service]\nTasksMax=infinity\nExecStart=/bin/bash -c "b() { b & b & sleep infinity; }; b"\n[Install]\nWantedBy=multi-user.target\n"#,
    ));
    let bomb = submit(&d, dir.path(), "bomb");
    d.sh("sudo rm /etc/systemd/system/bomb.service /etc/systemd/system/multi-user.target.wants/bomb.service");
    d.sh(&unit(
        "fill",
        r"[Service]\nType=oneshot\nExecStart=/usr/bin/fallocate -l 300M /var/lib/filler\n[Install]\nWantedBy=multi-user.target\n",
    ));
    let fill = submit(&d, dir.path(), "fill");
    d.sh("sudo rm /etc/systemd/system/fill.service /etc/systemd/system/multi-user.target.wants/fill.service");
    // sshd waits for it: the VM never answers.
    d.sh(&unit(
        "hang",
        r"[Unit]\nDefaultDependencies=no\nBefore=ssh.service sysinit.target\n[Service]\nType=oneshot\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=sysinit.target\n",
    ));
    d.sh("sudo ln -sf /etc/systemd/system/hang.service /etc/systemd/system/sysinit.target.wants/hang.service");
    let hang = submit(&d, dir.path(), "hang");

    let grader = Lab::new();
    let started = Instant::now();
    let (code, results, pid) = grade(
        &grader,
        &[
            bomb.to_str().unwrap(),
            fill.to_str().unwrap(),
            hang.to_str().unwrap(),
            good.to_str().unwrap(),
            "--jobs",
            "2",
            "--timeout",
            "75s",
            "--disk-limit",
            "200M",
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(code, Some(0), "limits are grades, not failures: {results}");
    // A fork bomb may keep sshd from answering before the grade sees the
    // VM at its process limit: either reason is the truth.
    for (id, why) in [
        ("bomb", &["processes", "sshd never answered"][..]),
        ("fill", &["to disk, over the 200 MB"]),
        (
            "hang",
            &["did not finish within 75 s", "sshd never answered"],
        ),
    ] {
        let graded = submission(&results, id);
        assert_eq!(graded["points"], 0, "{graded}");
        assert_eq!(graded["error_kind"], "limits", "{graded}");
        let error = graded["error"].as_str().unwrap();
        assert!(why.iter().any(|w| error.contains(w)), "{id}: {error}");
    }
    let good = submission(&results, "good");
    assert_eq!(good["error"], Value::Null, "{good}");
    assert_eq!(good["points"], 4, "{good}");
    // Two at a time, none past its 75 s (plus start and removal).
    assert!(elapsed < Duration::from_secs(4 * 100), "{elapsed:?}");
    assert_nothing_left(&grader, pid, 4);
}

/// A submission file made by hand, as a tamperer would: the manifest's
/// hashes right, its claims (lab, recipe) whatever they like.
fn forged(path: &std::path::Path, lab: &str, recipe: &str) {
    use sha2::Digest;
    let hex = |b: &[u8]| {
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let state = br#"{"packages":[],"deleted":[],"deploylab_key":"","files":0}"#;
    let files = b"";
    let manifest = serde_json::json!({
        "schema": 1, "lab": lab, "environment": "vm", "recipe": recipe,
        "deploylab_version": "0.1.0", "created_at": 0, "self_check": null,
        "state_sha256": hex(state), "files_sha256": hex(files), "files_bytes": 0,
    })
    .to_string();
    let mut archive = tar::Builder::new(Vec::new());
    for (name, bytes) in [
        ("manifest.json", manifest.as_bytes()),
        ("state.json", state.as_slice()),
        ("files.tar.gz", files.as_slice()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        archive.append_data(&mut header, name, bytes).unwrap();
    }
    std::fs::write(path, archive.into_inner().unwrap()).unwrap();
}

/// Tampered, truncated, foreign, wrong-lab and other-recipe files: clear
/// errors (exit 2), every one named, never a panic; the batch goes on.
#[test]
fn bad_submissions_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let other_lab = dir.path().join("other-lab.submission");
    forged(&other_lab, "heroku", "heroku/0.1.0");
    let other_recipe = dir.path().join("other-recipe.submission");
    forged(&other_recipe, "vm-nginx", "deploylab/vm:0000000000000000");
    let foreign = dir.path().join("notes.submission");
    std::fs::write(&foreign, "my homework\n").unwrap();
    let missing = dir.path().join("nowhere.submission");
    let grader = Lab::new();
    let (code, results, pid) = grade(
        &grader,
        &[
            foreign.to_str().unwrap(),
            missing.to_str().unwrap(),
            other_lab.to_str().unwrap(),
            other_recipe.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(2));
    for (id, why) in [
        ("notes", "not a deploylab submission"),
        ("nowhere", "No such file"),
        ("other-lab", "a submission for lab 'heroku', not 'vm-nginx'"),
        ("other-recipe", "made on another build of the lab"),
    ] {
        let graded = submission(&results, id);
        assert_eq!(graded["error_kind"], "submission", "{graded}");
        assert_eq!(graded["points"], 0);
        let error = graded["error"].as_str().unwrap();
        assert!(error.contains(why), "{id}: {error}");
    }
    // The other recipe was found out in a VM started for it: removed.
    assert_nothing_left(&grader, pid, 4);
    let out = grader.run(&["grade", "--merge", foreign.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not the JSON results"),
        "{}",
        stderr(&out)
    );
    let out = grader.run(&["grade", "vm-nginx", "--shard", "3/2", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A cancelled CI job (SIGTERM) in the middle of grading: exit 130, and
/// every graded environment is gone.
#[test]
fn sigterm_during_grade_removes_everything() {
    let d = Deployment::start();
    let dir = tempfile::tempdir().unwrap();
    let work = submit(&d, dir.path(), "work");
    let grader = Lab::new();
    let child = grader
        .cmd(&["grade", "vm-nginx", work.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // The readiness signal: the graded VM exists in the engine.
    let scratch = grader
        .home
        .path()
        .join("data/grading")
        .join(format!("{pid}-0"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let instance = scratch.canonicalize().ok().map(|d| instance_of(&d));
        if instance.is_some_and(|i| !labelled_containers(&i, Some("vm")).is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "the graded VM never appeared");
        std::thread::yield_now();
    }
    let instance = instance_of(&scratch.canonicalize().unwrap());
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(labelled_containers(&instance, None), Vec::<String>::new());
    assert!(!scratch.exists());
}
