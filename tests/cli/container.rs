//! The container lab on the real engine with real Compose (Debian's
//! docker-compose 1.29, the course's spelling; `docker compose` v2 too
//! where it is installed): the reference solution scores every point, and
//! each classic failure fails its check with its lesson. No registry and
//! no network inside containers: the stand-ins and the package proxy.
//!
//! These tests hold the host's port 80 and the proxy's port 3141 (nextest
//! runs them one at a time, `.config/nextest.toml`).

use std::path::Path;

use super::support::*;

/// A copy of the course's blog (or another project) in a folder of the
/// test's; its Compose project (containers, networks, volumes, built
/// images) goes when dropped.
pub(crate) struct AppFolder {
    root: tempfile::TempDir,
    folder: String,
    compose: Vec<String>,
}

impl AppFolder {
    pub(crate) fn new(compose: &[&str]) -> AppFolder {
        AppFolder::of("labs/shared/blog", "app", compose)
    }

    /// A copy of a project of this repository into `<temp>/<folder>` (the
    /// Compose project's name).
    pub(crate) fn of(project: &str, folder: &str, compose: &[&str]) -> AppFolder {
        let root = tempfile::tempdir().unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(project);
        let copied = Command::new("cp")
            .arg("-r")
            .arg(&source)
            .arg(root.path().join(folder))
            .status()
            .unwrap();
        assert!(copied.success());
        AppFolder {
            root,
            folder: folder.to_string(),
            compose: compose.iter().map(ToString::to_string).collect(),
        }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.root.path().join(&self.folder)
    }

    pub(crate) fn arg(&self) -> String {
        self.path().display().to_string()
    }

    pub(crate) fn write(&self, file: &str, text: &str) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub(crate) fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).unwrap()
    }

    /// Copies a file of the reference solution into the folder.
    fn put(&self, file: &str) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("solutions/container/files");
        self.write(file, &std::fs::read_to_string(from.join(file)).unwrap());
    }

    fn compose(&self, args: &[&str]) -> Output {
        Command::new(&self.compose[0])
            .args(&self.compose[1..])
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn compose_ok(&self, args: &[&str]) {
        let out = self.compose(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}

impl Drop for AppFolder {
    fn drop(&mut self) {
        if self.path().join("docker-compose.yml").exists() {
            let _ = self.compose(&["down", "-v", "--rmi", "local", "--remove-orphans"]);
        }
    }
}

/// `deploylab check --format json` for the lab.
pub(crate) fn check(lab: &Lab) -> Value {
    let out = lab.run(&["check", "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out)))
}

/// The check fails, says `observed`, and gives its own hint.
pub(crate) fn fails_with(report: &Value, check: &str, observed: &str, hint: &str) {
    let result = check_result(report, check);
    assert_ne!(result["status"], "pass", "{result:#}");
    let said = result["observed"].as_str().unwrap_or_default();
    assert!(said.contains(observed), "{check}: {said}");
    let given = result["hint"].as_str().unwrap_or_default();
    assert!(given.contains(hint), "{check}: {given}");
}

/// The Compose commands installed: v1 always (the course's), v2 when the
/// plugin answers.
fn compose_v2() -> bool {
    Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn container_lab_reference_solution_and_compose_failures() {
    let lab = Lab::new();
    let app = AppFolder::new(&["docker-compose"]);
    let started = lab.run(&["start", "container", "--dir", &app.arg()]);
    let said = stdout(&started);
    assert!(started.status.success(), "{}", stderr(&started));
    for name in ["python:3.11-slim", "postgres:15", "nginx:latest", "3141"] {
        assert!(said.contains(name), "{said}");
    }
    let fresh = check(&lab);
    fails_with(&fresh, "builds", "no Dockerfile", "Write a Dockerfile");
    // The stand-ins are listed as such, and pruning keeps current ones.
    let listed = stdout(&lab.run(&["images", "list"]));
    for kind in ["python-standin", "postgres-standin", "nginx-standin"] {
        assert!(listed.contains(kind), "{listed}");
    }

    let solved = lab
        .cmd(&["solve", "persistence"])
        .env("COMPOSE", "docker-compose")
        .output()
        .unwrap();
    assert!(
        solved.status.success(),
        "{}{}",
        stdout(&solved),
        stderr(&solved)
    );
    let report = check(&lab);
    assert_eq!(report["points"], report["max_points"], "{report:#}");

    // Inside the app's container, localhost is the app itself.
    let compose = app.read("docker-compose.yml");
    app.write(
        "docker-compose.yml",
        &compose.replacen("@db:5432/blog", "@localhost:5432/blog", 1),
    );
    app.compose_ok(&["up", "-d"]);
    fails_with(&check(&lab), "db-url", "names localhost", "service name");

    // A static folder of the host mounted over the collected files.
    app.write(
        "docker-compose.yml",
        &compose
            .replace("- static:/app/static", "- ./static-files:/app/static")
            .replace("- static:/static:ro", "- ./static-files:/static:ro"),
    );
    app.compose_ok(&["up", "-d"]);
    fails_with(
        &check(&lab),
        "static",
        "static volume is empty",
        "Share a named volume",
    );

    // depends_on starts the database first, but does not wait for it.
    let racing = compose
        .replace(
            "    depends_on:\n      db:\n        condition: service_healthy\n    restart: unless-stopped\n",
            "    command: [\"sh\", \"-c\", \"python manage.py migrate --noinput && exec gunicorn blog.wsgi\"]\n    depends_on:\n      - db\n",
        )
        .replace(
            "    image: postgres:15\n",
            // Long enough that the app reaches migrate first even on a
            // loaded machine (10 s was not, once: the app stayed up).
            "    image: postgres:15\n    command: [\"sh\", \"-c\", \"sleep 30 && exec docker-entrypoint.sh postgres\"]\n",
        );
    assert_ne!(racing, compose);
    app.write("docker-compose.yml", &racing);
    app.compose_ok(&["up", "-d", "--force-recreate"]);
    wait_until_exited(&app, "app");
    fails_with(&check(&lab), "app-up", "exit code", "does not wait");

    // Port 80 of the host held by another program: nginx never starts.
    app.write("docker-compose.yml", &compose);
    app.compose_ok(&["up", "-d", "--force-recreate"]);
    app.compose_ok(&["rm", "-sf", "nginx"]);
    let holder = std::net::TcpListener::bind("0.0.0.0:80").expect("port 80 free for the test");
    assert!(!app.compose(&["up", "-d"]).status.success());
    fails_with(
        &check(&lab),
        "published",
        "never started",
        "another program holds port 80",
    );
    drop(holder);
    app.compose_ok(&["up", "-d"]);

    // Compose v2 (`docker compose`), where it is installed, finds the same
    // project by the same labels.
    if compose_v2() {
        // Both folders are named app, so Compose names both projects app:
        // the first one's database volume goes too.
        app.compose_ok(&["down", "-v"]);
        let v2 = AppFolder::new(&["docker", "compose"]);
        for file in [
            "Dockerfile",
            ".dockerignore",
            "gunicorn.conf.py",
            "deploy/entrypoint.sh",
            "deploy/nginx.conf",
            "docker-compose.yml",
        ] {
            v2.put(file);
        }
        std::fs::set_permissions(
            v2.path().join("deploy/entrypoint.sh"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        v2.write(
            ".env",
            "BLOG_SECRET_KEY=a-key-for-the-test-only-0123456789\nPOSTGRES_PASSWORD=test\n",
        );
        let moved = lab.run(&["start", "container", "--dir", &v2.arg()]);
        assert!(moved.status.success(), "{}", stderr(&moved));
        v2.compose_ok(&["up", "-d", "--build", "--wait"]);
        v2.compose_ok(&[
            "exec",
            "-T",
            "app",
            "python",
            "manage.py",
            "migrate",
            "--noinput",
        ]);
        let report = check(&lab);
        for id in [
            "services",
            "db-volume",
            "db-url",
            "migrated",
            "live",
            "static",
        ] {
            assert_eq!(check_status(&report, id), "pass", "{id}: {report:#}");
        }
    }
}

/// Waits (up to a minute) until Compose says a service's container exited.
fn wait_until_exited(app: &AppFolder, service: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = app.compose(&["ps", "-a", service]);
        if stdout(&out).contains("Exit") {
            return;
        }
        assert!(Instant::now() < deadline, "{}", stdout(&out));
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn container_lab_judges_the_image_alone_before_compose() {
    let lab = Lab::new();
    let app = AppFolder::new(&["docker-compose"]);
    let started = lab.run(&["start", "container", "--dir", &app.arg()]);
    assert!(started.status.success(), "{}", stderr(&started));
    // A base image no registry can give: the hint names the stand-ins.
    app.write("Dockerfile", "FROM python:3.12-slim\nCMD [\"python\"]\n");
    fails_with(
        &check(&lab),
        "builds",
        "python:3.12-slim is not on this machine",
        "Dockerfile",
    );
    let said = check_result(&check(&lab), "builds")["observed"].to_string();
    for offered in ["python:3.11-slim", "python:3.13-slim", "python:3.14-slim"] {
        assert!(said.contains(offered), "{said}");
    }
    // Python 3.14's stand-in builds, pip installing through the proxy.
    app.write(
        "Dockerfile",
        "FROM python:3.14-slim\n\
         RUN python -c 'import sys; assert sys.version_info[:2] == (3, 14), sys.version'\n\
         RUN pip install --no-cache-dir gunicorn && gunicorn --version\n\
         CMD [\"python\"]\n",
    );
    let report = check(&lab);
    assert_eq!(check_status(&report, "builds"), "pass", "{report:#}");

    // The course's Dockerfile with four classic mistakes: no .dockerignore
    // (history and a local database go in), a secret in ENV, gunicorn left
    // on its default bind, and no database named (SQLite).
    app.put("Dockerfile");
    app.put("deploy/entrypoint.sh");
    let dockerfile = app.read("Dockerfile").replace(
        "ENV BLOG_DATABASE_URL=postgres://blog@db:5432/blog\n",
        "ENV BLOG_SECRET_KEY=not-so-secret\n",
    );
    app.write("Dockerfile", &dockerfile);
    std::fs::set_permissions(
        app.path().join("deploy/entrypoint.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    app.write("db.sqlite3", "");
    app.write(".git/HEAD", "ref: refs/heads/main\n");
    let report = check(&lab);
    assert_eq!(check_status(&report, "builds"), "pass", "{report:#}");
    assert_eq!(check_status(&report, "non-root"), "pass", "{report:#}");
    assert_eq!(check_status(&report, "collectstatic"), "pass", "{report:#}");
    fails_with(&report, "no-secrets", "BLOG_SECRET_KEY", "environment");
    fails_with(&report, "context", "/app/db.sqlite3", ".dockerignore");
    assert_eq!(check_status(&report, "port"), "pass", "{report:#}");
    assert_eq!(check_status(&report, "workers"), "pass", "{report:#}");
    fails_with(&report, "all-interfaces", "127.0.0.1:8000 only", "0.0.0.0");
    fails_with(&report, "database-error", "SQLite", "PostgreSQL");
    // Nothing of the probe is left: deploylab's own containers and
    // networks go with each check, its build with `stop`.
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());
    let stopped = lab.run(&["stop", "container"]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert!(lab.proxies().is_empty());
}

/// Another project than the course's blog (`tests/projects/notes`, the
/// vm-nginx tests' second project), containerised its own way: database
/// settings from separate variables, uvicorn's workers from an ASGI module
/// it gains, its own user, services `notes`/`pg`/`front`, static files at
/// its own STATIC_ROOT served by nginx with `root`, other image tags. Every
/// point; then a proxy to the wrong port fails `live` and nothing else.
#[test]
fn container_lab_judges_another_project_deployed_its_own_way() {
    let lab = Lab::new();
    let app = AppFolder::of("tests/projects/notes", "notes", &["docker-compose"]);
    let started = lab.run(&["start", "container", "--dir", &app.arg()]);
    assert!(started.status.success(), "{}", stderr(&started));
    // The student's changes: PostgreSQL, localhost among the hosts, uvicorn.
    let settings = app.read("notes_project/settings.py");
    let settings = settings
        .replace(
            r#"["notes.example.org", ".notes.test"]"#,
            r#"["notes.example.org", ".notes.test", "localhost"]"#,
        )
        .replace(
            r#"        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("NOTES_DATABASE", str(BASE_DIR / "db.sqlite3")),"#,
            r#"        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("NOTES_DB_HOST", "pg"),
        "NAME": "notes",
        "USER": "notes",
        "PASSWORD": os.environ.get("NOTES_DB_PASSWORD", ""),"#,
        );
    assert!(settings.contains("backends.postgresql"));
    app.write("notes_project/settings.py", &settings);
    app.write(
        "notes_project/asgi.py",
        "import os\n\nfrom django.core.asgi import get_asgi_application\n\n\
         os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"notes_project.settings\")\n\
         application = get_asgi_application()\n",
    );
    app.write(
        "requirements.txt",
        "django>=5.2,<6\npsycopg[binary]\nuvicorn\n",
    );
    app.write(
        ".dockerignore",
        ".git\n.env\ndb.sqlite3\n**/__pycache__\nstaticfiles\n",
    );
    app.write(
        "Dockerfile",
        "FROM python:3.13-slim-trixie\n\
         RUN python -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version'\n\
         ENV PYTHONUNBUFFERED=1 NOTES_PRODUCTION=1 NOTES_STATIC_ROOT=/var/www/notes-static\n\
         RUN useradd --uid 1500 --create-home web\n\
         WORKDIR /srv/notes\n\
         COPY requirements.txt .\n\
         RUN pip install --no-cache-dir -r requirements.txt\n\
         COPY . .\n\
         RUN python manage.py collectstatic --noinput && chown -R web /var/www/notes-static\n\
         USER web\n\
         EXPOSE 8000\n\
         CMD exec uvicorn notes_project.asgi:application --host 0.0.0.0 --port ${PORT:-8000} --workers ${WEB_CONCURRENCY:-2}\n",
    );
    app.write(
        "front.conf",
        "server {\n    listen 80;\n    location /static/ { root /usr/share/nginx/html; }\n\
         location / { proxy_pass http://notes:8000; proxy_set_header Host $host; }\n}\n",
    );
    app.write(
        "docker-compose.yml",
        "services:\n\
         \x20 notes:\n\
         \x20   build: .\n\
         \x20   environment:\n\
         \x20     NOTES_SECRET_KEY: ${NOTES_SECRET_KEY:?}\n\
         \x20     NOTES_DB_PASSWORD: ${NOTES_DB_PASSWORD:?}\n\
         \x20   volumes: [\"assets:/var/www/notes-static\"]\n\
         \x20   depends_on: {pg: {condition: service_healthy}}\n\
         \x20 pg:\n\
         \x20   image: postgres:15-bookworm\n\
         \x20   environment: {POSTGRES_USER: notes, POSTGRES_DB: notes, POSTGRES_PASSWORD: \"${NOTES_DB_PASSWORD:?}\"}\n\
         \x20   volumes: [\"notes-data:/var/lib/postgresql/data\"]\n\
         \x20   healthcheck: {test: [\"CMD\", \"pg_isready\", \"-U\", \"notes\"], interval: 2s, retries: 30}\n\
         \x20 front:\n\
         \x20   image: nginx:stable\n\
         \x20   ports: [\"80:80\"]\n\
         \x20   volumes: [\"assets:/usr/share/nginx/html/static:ro\", \"./front.conf:/etc/nginx/conf.d/default.conf:ro\"]\n\
         \x20   depends_on: [notes]\n\
         volumes:\n\
         \x20 assets:\n\
         \x20 notes-data:\n",
    );
    app.write(
        ".env",
        "NOTES_SECRET_KEY=a-key-for-the-test-only-0123456789abcdef\nNOTES_DB_PASSWORD=test\n",
    );
    app.compose_ok(&["up", "-d", "--build"]);
    app.compose_ok(&[
        "exec",
        "-T",
        "notes",
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]);
    app.compose_ok(&["down"]);
    app.compose_ok(&["up", "-d"]);
    let report = check(&lab);
    assert_eq!(
        report["points"],
        report["max_points"],
        "{:?}",
        failing(&report)
    );

    // nginx sends to a port nothing listens on: the page is not live.
    app.write(
        "front.conf",
        &app.read("front.conf").replace("notes:8000", "notes:8001"),
    );
    app.compose_ok(&["up", "-d", "--force-recreate", "front"]);
    let report = check(&lab);
    fails_with(&report, "live", "502", "proxy_pass");
    assert_eq!(failing(&report), ["web/live"], "{report:#}");
}

/// The course's own layout: the Compose file in `docker/`, building the
/// project root (`context: ..`), services and volumes named its own way.
/// Started in the project root or in `docker/`, the lab finds that stack,
/// judges it whole and names its services in the hints.
#[test]
fn container_lab_finds_a_compose_file_in_a_sub_folder() {
    let lab = Lab::new();
    let app = AppFolder::new(&["docker-compose"]);
    let started = lab.run(&["start", "container", "--dir", &app.arg()]);
    assert!(started.status.success(), "{}", stderr(&started));
    let solved = lab
        .cmd(&["solve", "alone"])
        .env("COMPOSE", "docker-compose")
        .output()
        .unwrap();
    assert!(
        solved.status.success(),
        "{}{}",
        stdout(&solved),
        stderr(&solved)
    );
    let compose = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("solutions/container/files/docker-compose.yml"),
    )
    .unwrap()
    .replace(
        "  app:\n    build: .\n",
        "  web:\n    build:\n      context: ..\n",
    )
    .replace("@db:5432", "@database:5432")
    .replace(
        "      db:\n        condition",
        "      database:\n        condition",
    )
    .replace(
        "  db:\n    image: postgres",
        "  database:\n    image: postgres",
    )
    .replace("  nginx:\n    image: nginx", "  proxy:\n    image: nginx")
    .replace("      - app\n", "      - web\n")
    .replace("./deploy/nginx.conf", "../deploy/nginx.conf")
    .replace("pgdata", "blog-data");
    assert!(
        compose.contains("context: ..") && compose.contains("  proxy:"),
        "{compose}"
    );
    app.write("docker/docker-compose.yaml", &compose);
    let solution = Path::new(env!("CARGO_MANIFEST_DIR")).join("solutions/container/files");
    let nginx = std::fs::read_to_string(solution.join("deploy/nginx.conf")).unwrap();
    app.write(
        "deploy/nginx.conf",
        &nginx.replace("server app:8000;", "server web:8000;"),
    );
    app.write(
        "docker/.env",
        "BLOG_SECRET_KEY=a-key-for-the-test-only-0123456789abcdefghijklmnopqrstuvwxyz\nPOSTGRES_PASSWORD=test\n",
    );
    // Secrets next to the Compose file stay out of the image built from
    // `..` (the no-secrets check finds them otherwise, rightly).
    let ignore = app.read(".dockerignore");
    app.write(".dockerignore", &format!("{ignore}docker/.env\n"));
    let stack = SubFolderStack(app.path().join("docker"));
    stack.ok(&["up", "-d", "--build"]);
    stack.ok(&[
        "exec",
        "-T",
        "web",
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]);
    stack.ok(&["down"]);
    stack.ok(&["up", "-d"]);
    wait_for_port_80();

    let report = check(&lab);
    assert_eq!(
        report["points"],
        report["max_points"],
        "{:?}",
        not_passing(&report)
    );

    // Its services by their names in the hints: the app's stopped.
    stack.ok(&["stop", "web"]);
    let report = check(&lab);
    assert_eq!(first_failure(&report), "compose/services");
    let hint = check_result(&report, "db-url")["hint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(hint.contains("@database:5432/blog"), "{hint}");
    let observed = check_result(&report, "services")["observed"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(observed.contains("web"), "{observed}");
    stack.ok(&["start", "web"]);
    wait_for_port_80();

    // Started in docker/ itself: the same stack, built from `..`.
    let stopped = lab.run(&["stop"]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let docker = app.path().join("docker").display().to_string();
    let started = lab.run(&["start", "container", "--dir", &docker]);
    assert!(started.status.success(), "{}", stderr(&started));
    let report = check(&lab);
    assert_eq!(
        report["points"],
        report["max_points"],
        "{:?}",
        not_passing(&report)
    );
}

/// A Compose project run from a sub-folder of the app, taken down with
/// everything it made when the test ends.
struct SubFolderStack(PathBuf);

impl SubFolderStack {
    fn ok(&self, args: &[&str]) {
        let out = Command::new("docker-compose")
            .args(args)
            .current_dir(&self.0)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}

impl Drop for SubFolderStack {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .args(["down", "-v", "--rmi", "local", "--remove-orphans"])
            .current_dir(&self.0)
            .output();
    }
}

/// Until the host's port 80 answers the admin's login page.
fn wait_for_port_80() {
    let script = r#"
import time, urllib.request
deadline = time.time() + 120
while True:
    try:
        request = urllib.request.Request("http://127.0.0.1/admin/login/", headers={"Host": "localhost"})
        urllib.request.urlopen(request, timeout=5)
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.5)
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(out.status.success(), "port 80: {}", stderr(&out));
}
