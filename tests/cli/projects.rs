//! vm-nginx judges the course's deploy of projects that are not the lab's
//! blog: `tests/projects/` holds two (see its README for how they differ),
//! each served with `start --repo` and deployed the course's way by its
//! script. Every stage passes, also after a reboot; the blind spots a
//! checker that knows only the blog had are tricks that must fail.

use super::support::*;
use super::vm_nginx::Deployment;

/// A git repository made from `tests/projects/<folder>`, as a student's
/// own would be.
pub(crate) fn repository(folder: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/projects")
        .join(folder);
    let copy = Command::new("cp")
        .arg("-r")
        .arg(&source)
        .arg(dir.path().join(folder))
        .status()
        .unwrap();
    assert!(copy.success());
    let repo = dir.path().join(folder);
    for args in [
        &["init", "--quiet", "--initial-branch=main"][..],
        &["add", "--all"],
        &["commit", "--quiet", "--message", "A student's project"],
    ] {
        let out = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "student")
            .env("GIT_AUTHOR_EMAIL", "student@example.org")
            .env("GIT_COMMITTER_NAME", "student")
            .env("GIT_COMMITTER_EMAIL", "student@example.org")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    }
    dir
}

/// A fresh lab serving the project's repository, deployed by its script
/// (one SSH session per part: the course logs in again after usermod), then
/// rebooted as the last stage asks.
fn deployed(folder: &str, script: &str) -> (Deployment, tempfile::TempDir) {
    let repo = repository(folder);
    let path = repo.path().join(folder);
    let d = Deployment::start_with(&["--repo", path.to_str().unwrap()]);
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/projects")
            .join(script),
    )
    .unwrap();
    for part in text.split("\n# --- new login ---\n") {
        let out = d.run_script("bash -s", part);
        assert!(
            out.status.success(),
            "{script}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    d.restart();
    (d, repo)
}

fn assert_all_green(d: &Deployment, what: &str) {
    let report = d.check();
    assert_eq!(report["passed"], true, "{what}: {:?}", failing(&report));
    assert_eq!(report["points"], report["max_points"], "{what}");
}

/// A sub-folder of a larger repository, `setup.py`, settings from an
/// environment file, `/` redirecting, its own hosts and STATIC_URL, the
/// course's root-owned folder, units named after it, a multi-line ExecStart.
#[test]
fn a_project_in_a_subfolder_with_setup_py_and_an_environment_file() {
    let (d, _repo) = deployed("examples", "shop.sh");
    assert_all_green(&d, "shop");
    let report = d.check();
    let installed = observed(&report, "install", "app-installed");
    assert!(
        installed.contains("shopsite.wsgi") && installed.contains("'shop-site'"),
        "{installed}"
    );
    assert_eq!(
        observed(&report, "settings", "allowed-hosts"),
        "ALLOWED_HOSTS = ['shop.test', 'www.shop.test']"
    );
    let service = observed(&report, "app-server", "service");
    assert!(
        service.contains("--workers 2 --access-logfile - --bind"),
        "joined: {service}"
    );
    d.restart();
    assert_all_green(&d, "shop after another reboot");

    // The project's own django-insecure- key in production: the course's
    // own mistake, a true lesson.
    // It costs that check's point and nothing else: the site works, before
    // and after a reboot.
    d.sh("sudo sed -i '/^SHOP_SECRET_KEY=/d' /etc/shop/shop.env && sudo systemctl restart shop.service");
    d.restart();
    let report = d.check();
    assert_eq!(not_passing(&report), vec!["settings/secret-key"]);
    assert_eq!(first_failure(&report), "settings/secret-key");
    let max = report["max_points"].as_u64().unwrap();
    assert_eq!(report["points"].as_u64().unwrap(), max - 1);
    assert!(observed(&report, "settings", "secret-key").contains("django-insecure"));
}

/// Requirements only, run from the checkout, settings in `Environment=`,
/// hosts that are not localhost, STATIC_ROOT outside the project.
#[test]
fn a_requirements_only_project_run_from_its_checkout() {
    let (d, _repo) = deployed("notes", "notes.sh");
    assert_all_green(&d, "notes");
    let report = d.check();
    let installed = observed(&report, "install", "app-installed");
    assert!(
        installed.contains("from /opt/notes/notes_project/wsgi.py"),
        "{installed}"
    );
    assert_eq!(
        observed(&report, "static", "collectstatic"),
        "127 files in /var/www/notes-static"
    );

    // Blind spot: another project's migration that was never applied (the
    // site answers 500 where it needs the column).
    d.sh(
        r#"cat > /opt/notes/notes/migrations/0002_note_title.py <<'PY'
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]
    operations = [migrations.AddField("note", "title", models.CharField(max_length=80, default=""))]
PY
sudo systemctl restart notes.service"#,
    );
    let report = d.check();
    assert_eq!(first_failure(&report), "database/migrations");
    assert_eq!(status(&report, "database", "migrations"), "fail");
    assert!(
        observed(&report, "database", "migrations").ends_with("e.g. notes.0002_note_title"),
        "{}",
        observed(&report, "database", "migrations")
    );
    // Applied as the course does it: green again.
    d.sh("cd /opt/notes && NOTES_PRODUCTION=1 NOTES_DATABASE=/opt/notes/db.sqlite3 ~/.venv/bin/python manage.py migrate --noinput");
    assert_all_green(&d, "notes after migrate");
}

/// `--repo` refuses what is not a repository, before anything starts.
#[test]
fn start_repo_refuses_what_is_not_a_git_repository() {
    let lab = Lab::new();
    let empty = tempfile::tempdir().unwrap();
    let out = lab.run(&[
        "start",
        "vm-nginx",
        "--repo",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a git repository"),
        "{}",
        stderr(&out)
    );
    let out = lab.run(&["start", "vm-nginx", "--repo", "/no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such folder"), "{}", stderr(&out));
    assert!(lab.containers().is_empty());
}
