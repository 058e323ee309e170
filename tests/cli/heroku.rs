//! The fake Heroku, driven by the real heroku CLI and git.

use super::support::*;

/// The real heroku CLI, unpacked once from `../shared/clients` into target/.
/// A test that needs it fails, saying how to get it, when the tarball or
/// node is absent: it never passes without checking. Whoever cannot have
/// them leaves those tests out with `NEXTEST_PROFILE=without-heroku-cli`
/// (`.config/nextest.toml`), and nextest counts them as skipped.
pub(crate) fn heroku_cli() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tarball = root.join("../shared/clients/heroku-cli-11.10.0.tar.xz");
    let dest = root.join("target/heroku-cli-11.10.0");
    let bin = dest.join("node_modules/.bin/heroku");
    if bin.exists() {
        return bin;
    }
    let node = Command::new("node").arg("--version").output().is_ok();
    assert!(
        tarball.exists() && node,
        "this test drives the real heroku CLI: it needs {} (the course's clients) and node 20 \
         (Debian: apt-get install nodejs). Without them, run the other tests with \
         NEXTEST_PROFILE=without-heroku-cli cargo nextest run",
        tarball.display()
    );
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
    bin
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
        self.get_host(&format!("{app}.localhost:{}", self.router_port), path)
    }

    /// The same, for any Host header (a custom domain).
    fn get_host(&self, host: &str, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.router_port)).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
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
    /// Destroying the apps removes their slugs and databases; `stop` (the
    /// Lab's drop) then ends the fake and its dynos.
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
            // A test that stopped the fake itself: its slugs' packages go
            // with the home's volumes (the Lab's drop).
        }
    }
}

#[test]
fn heroku_cli_manages_apps_on_the_fake() {
    let cli = heroku_cli();
    let fake = FakeHeroku::start(Lab::new(), cli);

    // Loopback only: the kernel's socket table shows the API on 127.0.0.1.
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let listening = format!("0100007F:{:04X} 00000000:0000 0A", fake.api_port);
    assert!(tcp.contains(&listening), "API not on loopback only");

    let created = fake.ok(&["create", "meu-blog"]);
    assert!(created.contains("Creating meu-blog... done"), "{created}");
    // The CLI's credential helper for the fake went into the lab's own
    // global git config, not the student's.
    let own = std::fs::read_to_string(fake.lab.home.path().join(".gitconfig")).unwrap_or_default();
    assert!(
        !own.contains("localhost"),
        "the student's ~/.gitconfig: {own}"
    );
    let remotes = fake.git(&["remote", "-v"]);
    assert!(stdout(&remotes).contains(&format!(
        "heroku\thttps://localhost:{}/meu-blog.git",
        fake.api_port
    )));

    assert!(fake.ok(&["apps"]).contains("meu-blog"));
    let info = fake.ok(&["info", "-a", "meu-blog"]);
    assert!(
        info.contains("Web URL:") && info.contains("https://meu-blog.localhost:"),
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
    assert!(set.contains("done, v3"), "{set}");
    let config = fake.ok(&["config", "-a", "meu-blog"]);
    assert!(
        config.contains("SECRET_KEY:") && config.contains("s3cr3t"),
        "{config}"
    );
    let unset = fake.ok(&["config:unset", "DEBUG", "-a", "meu-blog"]);
    assert!(unset.contains("done, v4"), "{unset}");
    let releases = fake.ok(&["releases", "-a", "meu-blog"]);
    assert!(releases.contains("Current: v4"), "{releases}");
    assert!(releases.contains("Remove DEBUG config vars"), "{releases}");
    assert!(releases.contains("Initial release"), "{releases}");

    // Maintenance mode: Heroku's page (H80) until it is off.
    fake.ok(&["maintenance:on", "-a", "meu-blog"]);
    assert!(fake.ok(&["maintenance", "-a", "meu-blog"]).contains("on"));
    let (status, head) = fake.get("meu-blog", "/");
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("x-deploylab-router-error: H80"), "{head}");
    fake.ok(&["maintenance:off", "-a", "meu-blog"]);
    let (_, head) = fake.get("meu-blog", "/");
    assert!(head.contains("x-deploylab-router-error: H14"), "{head}");
    // Domains: the app's own, and a custom one the router sends to it.
    let added = fake.ok(&["domains:add", "www.loja-exemplo.test", "-a", "meu-blog"]);
    assert!(added.contains("DNS Target meu-blog.localhost"), "{added}");
    let domains = fake.ok(&["domains", "-a", "meu-blog"]);
    assert!(
        domains.contains("meu-blog.localhost") && domains.contains("www.loja-exemplo.test"),
        "{domains}"
    );
    let (status, head) = fake.get_host("www.loja-exemplo.test", "/");
    assert_eq!(status, 503, "the app's router answers, H14: {head}");
    fake.ok(&["domains:remove", "www.loja-exemplo.test", "-a", "meu-blog"]);
    let (status, _) = fake.get_host("www.loja-exemplo.test", "/");
    assert_eq!(status, 404);
    let stacks = fake.ok(&["apps:stacks", "-a", "meu-blog"]);
    assert!(stacks.contains("heroku-24"), "{stacks}");
    let set = fake.ok(&["stack:set", "heroku-24", "-a", "meu-blog"]);
    assert!(set.contains("Setting stack to heroku-24... done"), "{set}");
    assert!(
        !set.contains("redeploy"),
        "the same stack needs no build: {set}"
    );
    let other = fake
        .command("heroku")
        .args(["stack:set", "heroku-22", "-a", "meu-blog"])
        .output()
        .unwrap();
    assert!(!other.status.success());
    assert!(
        stderr(&other).contains("Stack heroku-22 is not offered"),
        "{}",
        stderr(&other)
    );

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
    let cli = heroku_cli();
    let fake = FakeHeroku::start(Lab::new(), cli);
    let before = fake.check_json();
    assert_eq!(check_status(&before, "app-created"), "fail");
    // Submissions graded at the end: this fresh lab's, and one breakage's.
    let submissions = tempfile::tempdir().unwrap();
    let submit = |name: &str| {
        let file = submissions.path().join(format!("{name}.submission"));
        let out = fake.lab.run(&["submit", "-o", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        file
    };
    let fresh = submit("fresh");

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
    // The same port speaks HTTPS, with a certificate `heroku env` makes
    // curl trust; a scheme header a client forges is replaced.
    let url = format!("https://{app}.localhost:{}/", fake.router_port);
    let code = |args: &[&str]| {
        let out = fake
            .command("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(args)
            .output()
            .unwrap();
        format!("{}{}", stdout(&out), stderr(&out))
    };
    assert_eq!(code(&[&url]), "200");
    let plain = url.replace("https://", "http://");
    assert_eq!(code(&["-H", "X-Forwarded-Proto: https", &plain]), "200");
    let info = fake.ok(&["apps:info", "-a", app]);
    assert!(info.contains(&url), "web_url is the https one: {info}");

    // A slug's packages are a volume of the app's, read-only in dynos; the
    // rest of /app is the dyno's own.
    let volumes = Command::new("docker")
        .args([
            "volume",
            "ls",
            "-q",
            "--filter",
            "label=deploylab.role=slug-packages",
        ])
        .arg("--filter")
        .arg(format!("label=deploylab.instance={}", fake.lab.instance()))
        .output()
        .unwrap();
    assert!(!stdout(&volumes).trim().is_empty(), "no packages volume");
    let writes = fake.ok(&[
        "run",
        "touch /app/.heroku/x || echo packages-read-only; touch /app/mine && echo app-writable",
        "-a",
        app,
    ]);
    assert!(writes.contains("packages-read-only"), "{writes}");
    assert!(writes.contains("app-writable"), "{writes}");
    let images = stdout(&fake.lab.run(&["images", "list"]));
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

    // One breakage, submitted: the web process scaled to zero.
    fake.ok(&["ps:scale", "web=0", "-a", app]);
    let broken_own = fake.check_json();
    let broken = submit("broken");
    fake.ok(&["ps:scale", "web=1", "-a", app]);
    fake.wait_for_web(app, "up");

    // Rollback: an older release becomes current; the check sees it.
    let releases = fake.ok(&["releases", "-a", app]);
    assert!(releases.contains("Deploy "), "{releases}");
    assert!(releases.contains("Enable Logplex"), "{releases}");
    let rolled = fake.ok(&["rollback", "v4", "-a", app]);
    assert!(
        rolled.contains("Rolling back meu-blog to v4... done"),
        "{rolled}"
    );
    fake.wait_for_web(app, "up");
    let report = fake.check_json();
    assert_eq!(check_status(&report, "released"), "fail");
    // releases:info reads the release and its config vars.
    let info = fake.ok(&["releases:info", "-a", app]);
    assert!(info.contains("Rollback to v"), "{info}");
    assert!(
        info.contains("Eligible for Rollback?") && info.contains("Yes"),
        "{info}"
    );
    assert!(info.contains("DATABASE_URL"), "its config vars: {info}");
    // `rollback` with no version: to the release before the current one
    // that can be rolled back to (the deploy before the rollback).
    let back = fake.ok(&["rollback", "-a", app]);
    assert!(back.contains("Rolling back meu-blog to v"), "{back}");
    fake.wait_for_web(app, "up");
    let report = fake.check_json();
    assert_eq!(check_status(&report, "released"), "pass", "{report:#}");

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

    // Graded on a fresh fake of their own: the fresh lab earns nothing,
    // the breakage fails exactly what it failed on the student's machine.
    let grader = Lab::new();
    let args = [
        "grade",
        "heroku",
        fresh.to_str().unwrap(),
        broken.to_str().unwrap(),
        "--format",
        "json",
    ];
    let out = grader.run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let graded = |id: &str| {
        results["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let fresh = graded("fresh");
    assert_eq!(fresh["error"], Value::Null, "{fresh}");
    assert_eq!(fresh["points"], 0, "{fresh}");
    let broken = graded("broken");
    assert_eq!(broken["error"], Value::Null, "{broken}");
    assert_eq!(
        not_passing(&broken["report"]),
        not_passing(&broken_own),
        "{broken}"
    );
    assert_eq!(first_failure(&broken_own), "dyno/web-dyno-up");
    assert_eq!(first_failure(&broken["report"]), "dyno/web-dyno-up");
    assert_eq!(broken["points"], broken_own["points"], "{broken}");
}

/// The failures students meet on the way, with Heroku's own messages.
#[test]
fn heroku_classic_failures_get_herokus_messages() {
    let cli = heroku_cli();
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
    assert!(out.contains("Available: Python 3.11, 3.13, 3.14."), "{out}");
    // A version past its end of life says so, as Heroku does.
    fake.commit(&[(".python-version", "3.8\n")], "Python 3.8");
    let (ok, out) = fake.push();
    assert!(!ok, "{out}");
    assert!(
        out.contains("The requested Python version has reached end-of-life."),
        "{out}"
    );

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
    let report = fake.check_json();
    let dyno = check_result(&report, "web-dyno-up");
    assert!(
        dyno["observed"]
            .as_str()
            .unwrap()
            .contains("R10 (Boot timeout), the web process did not bind to $PORT within 5 s"),
        "{dyno}"
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

    // The slug's packages removed while the fake was stopped (`docker
    // volume prune`): no dyno starts on an empty volume; the log says why.
    assert!(fake.lab.run(&["stop", "heroku"]).status.success());
    let packages = || {
        let listed = Command::new("docker")
            .args(["volume", "ls", "-q", "--filter", "name=packages"])
            .arg("--filter")
            .arg(format!("label=deploylab.instance={}", fake.lab.instance()))
            .output()
            .unwrap();
        stdout(&listed)
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let removed = packages();
    assert!(!removed.is_empty());
    for volume in &removed {
        let rm = Command::new("docker")
            .args(["volume", "rm", volume])
            .output()
            .unwrap();
        assert!(rm.status.success(), "{}", stderr(&rm));
    }
    assert!(fake.lab.run(&["start", "heroku"]).status.success());
    fake.wait_for_web(app, "crashed");
    let logs = fake.ok(&["logs", "-n", "50", "-a", app]);
    assert!(logs.contains("are gone: push again"), "{logs}");
    let names = Command::new("docker")
        .args(["volume", "ls", "-q"])
        .output()
        .unwrap();
    for volume in &removed {
        assert!(
            !stdout(&names).contains(volume.as_str()),
            "{volume} made again, empty"
        );
    }
}

/// A five-line Flask app, written here: not the course's blog.
const FLASK_APP: &str = "import time\nimport dlsample\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get('/')\ndef home():\n    return f'flask with dlsample {dlsample.VERSION}'\n\n\n@app.get('/slow')\ndef slow():\n    time.sleep(6)\n    return 'late'\n";

/// Builds install through the package proxy: what the host's index has
/// (here an index the test serves) beside the offline wheels, over a build
/// network that reaches nothing else; what can't be had is named all at
/// once, online and offline.
#[test]
fn heroku_builds_install_through_the_package_proxy() {
    let cli = heroku_cli();
    let mut index = super::packages::FakeIndex::start();
    // H12 after 3 s instead of Heroku's 30, to keep the test short.
    let lab = Lab::new()
        .env("PIP_INDEX_URL", index.url.clone())
        .env("DEPLOYLAB_HEROKU_REQUEST_TIMEOUT", "3");
    let fake = FakeHeroku::start(lab, cli);
    let closed = Command::new("docker")
        .args(["network", "ls", "--format", "{{.Name}} {{.Internal}}"])
        .arg("--filter")
        .arg(format!("label=deploylab.instance={}", fake.lab.instance()))
        .output()
        .unwrap();
    let networks = stdout(&closed);
    assert!(
        networks.lines().any(|l| l.ends_with("-closed true")),
        "builds get an internal network: {networks}"
    );
    let app = "flask-proxy";
    fake.ok(&["create", app]);
    fake.commit(
        &[
            ("app.py", FLASK_APP),
            ("requirements.txt", "flask\ngunicorn\ndlsample==1.0\n"),
            ("Procfile", "web: gunicorn app:app\n"),
        ],
        "flask",
    );
    let (ok, out) = fake.push();
    assert!(ok, "{out}");
    fake.wait_for_web(app, "up");
    let url = format!("https://{app}.localhost:{}/", fake.router_port);
    let page = fake.command("curl").args(["-sS", &url]).output().unwrap();
    assert_eq!(
        stdout(&page),
        "flask with dlsample 1.0",
        "{}",
        stderr(&page)
    );
    // A request slower than the router waits: H12, with the dyno it reached.
    let (status, head) = fake.get(app, "/slow");
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("x-deploylab-router-error: H12"), "{head}");
    let logs = fake.ok(&["logs", "--source", "heroku", "--dyno", "router", "-a", app]);
    assert!(
        logs.contains("at=error code=H12 desc=\"Request timeout\" method=GET path=\"/slow\"")
            && logs.contains("dyno=web.1 connect="),
        "{logs}"
    );
    // A Flask app: judged live, and not on Django's settings or migrations.
    let report = fake.check_json();
    assert_eq!(check_status(&report, "home-page"), "pass", "{report:#}");
    for django in ["migrated", "debug-off", "secret-key", "allowed-hosts"] {
        let result = check_result(&report, django);
        assert_eq!(result["status"], "pass", "{result}");
        assert!(
            result["observed"]
                .as_str()
                .unwrap()
                .contains("not a Django project"),
            "{result}"
        );
    }

    // A push whose requirements can't all be had: declined, each named.
    let declined = |requirements: &str, named: &[&str], fine: &[&str]| {
        fake.commit(&[("requirements.txt", requirements)], requirements);
        let (ok, out) = fake.push();
        assert!(!ok, "{out}");
        assert!(
            out.contains("These requirements can't be installed"),
            "{out}"
        );
        for line in named {
            assert!(out.contains(line), "{line}: {out}");
        }
        for requirement in fine {
            assert!(
                !out.contains(&format!("{requirement}:")),
                "{requirement}: {out}"
            );
        }
    };
    // Online: a version the index lacks and a project it lacks.
    declined(
        "flask\ngunicorn\ndlsample==9.9\ndlnever\n",
        &[
            "dlsample==9.9: no version matches (the index offers 1.0, 2.0)",
            "dlnever: the package index has no project of that name",
        ],
        &["flask", "gunicorn"],
    );
    // Offline: the cached pin and the offline wheels still install; what
    // was never fetched is named, with why.
    index.stop();
    declined(
        "flask\ngunicorn\ndlsample==1.0\ndlnowhere\n",
        &[
            "dlnowhere: not in deploylab's offline cache, and the host's package index does not answer",
        ],
        &["dlsample==1.0", "flask"],
    );

    assert!(fake.lab.run(&["stop", "heroku"]).status.success());
    assert!(fake.lab.proxies().is_empty(), "stop left the proxy running");
}

/// A Flask app saying which Python serves it.
const FLASK_VERSION_APP: &str = "import sys\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get('/')\ndef home():\n    return 'flask on python %d.%d' % sys.version_info[:2]\n";

/// A small Django project saying which Python serves it.
const DJANGO_VERSION_APP: &[(&str, &str)] = &[
    ("requirements.txt", "django>=5.2,<6\ngunicorn\n"),
    ("Procfile", "web: gunicorn site_v.wsgi\n"),
    (
        "manage.py",
        "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_v.settings')\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n",
    ),
    ("site_v/__init__.py", ""),
    (
        "site_v/settings.py",
        "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\nSECRET_KEY = 'a-test-key-only'\nDEBUG = False\nALLOWED_HOSTS = ['.localhost']\nINSTALLED_APPS = ['django.contrib.staticfiles']\nROOT_URLCONF = 'site_v.urls'\nSTATIC_URL = 'static/'\nSTATIC_ROOT = BASE_DIR / 'staticfiles'\n",
    ),
    (
        "site_v/urls.py",
        "import sys\nfrom django.http import HttpResponse\nfrom django.urls import path\n\ndef home(request):\n    return HttpResponse('django on python %d.%d' % sys.version_info[:2])\n\nurlpatterns = [path('', home)]\n",
    ),
    (
        "site_v/wsgi.py",
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_v.settings')\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
    ),
];

/// Apps pin the Python they need: a Flask app 3.13 (`.python-version`), a
/// Django app 3.14 (`runtime.txt`, with Heroku's deprecation warning), both
/// built with the real CLI and git from the offline wheels alone (the
/// host's index does not answer) and served over HTTPS by that Python. A
/// version no Debian release ships names the ones there are.
#[test]
fn heroku_apps_pin_python_3_13_and_3_14() {
    let cli = heroku_cli();
    let lab = Lab::new().env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/");
    let fake = FakeHeroku::start(lab, cli);
    let serves = |app: &str, expected: &str| {
        fake.wait_for_web(app, "up");
        let url = format!("https://{app}.localhost:{}/", fake.router_port);
        let page = fake.command("curl").args(["-sS", &url]).output().unwrap();
        assert_eq!(stdout(&page), expected, "{}", stderr(&page));
    };

    fake.ok(&["create", "flask-313"]);
    fake.commit(
        &[
            ("app.py", FLASK_VERSION_APP),
            ("requirements.txt", "flask\ngunicorn\n"),
            ("Procfile", "web: gunicorn app:app\n"),
            (".python-version", "3.13\n"),
        ],
        "flask on 3.13",
    );
    let (ok, out) = fake.push();
    assert!(ok, "{out}");
    assert!(
        out.contains("Using Python 3.13 specified in .python-version"),
        "{out}"
    );
    serves("flask-313", "flask on python 3.13");

    // One that no Debian release ships: refused, naming those there are.
    fake.commit(&[(".python-version", "3.12\n")], "3.12");
    let (ok, out) = fake.push();
    assert!(!ok, "{out}");
    assert!(
        out.contains("The requested Python version isn't available"),
        "{out}"
    );
    assert!(out.contains("Available: Python 3.11, 3.13, 3.14."), "{out}");

    assert!(
        fake.git(&["rm", "-q", "app.py", ".python-version"])
            .status
            .success()
    );
    assert!(fake.git(&["remote", "remove", "heroku"]).status.success());
    fake.ok(&["create", "django-314"]);
    let mut files = DJANGO_VERSION_APP.to_vec();
    files.push(("runtime.txt", "python-3.14\n"));
    fake.commit(&files, "django on 3.14");
    let (ok, out) = fake.push();
    assert!(ok, "{out}");
    assert!(
        out.contains("Using Python 3.14 specified in runtime.txt"),
        "{out}"
    );
    assert!(out.contains("runtime.txt file is deprecated"), "{out}");
    assert!(
        out.contains("$ python manage.py collectstatic --noinput"),
        "{out}"
    );
    serves("django-314", "django on python 3.14");
    // The Flask app still runs on its own Python.
    serves("flask-313", "flask on python 3.13");
}

/// A Django project written for Heroku, as Heroku's guides write one (not
/// the course's blog): HTTPS redirect, `DATABASE_URL` read with
/// `ssl_require`, `runtime.txt`, WhiteNoise, migrations in the release phase.
const SHOP: &[(&str, &str)] = &[
    (
        "requirements.txt",
        "django>=5.2,<6\ngunicorn\ndj-database-url\npsycopg[binary]\nwhitenoise\n",
    ),
    ("runtime.txt", "python-3.11\n"),
    (
        "Procfile",
        "web: gunicorn shop.wsgi\nrelease: python manage.py migrate --noinput\n",
    ),
    (
        "manage.py",
        "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n",
    ),
    ("shop/__init__.py", ""),
    (
        "shop/settings.py",
        "import os\nfrom pathlib import Path\nimport dj_database_url\nBASE_DIR = Path(__file__).resolve().parent.parent\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = False\nALLOWED_HOSTS = ['.localhost']\nINSTALLED_APPS = ['django.contrib.auth', 'django.contrib.contenttypes', 'django.contrib.staticfiles']\nMIDDLEWARE = ['django.middleware.security.SecurityMiddleware', 'whitenoise.middleware.WhiteNoiseMiddleware']\nROOT_URLCONF = 'shop.urls'\nDATABASES = {'default': dj_database_url.config(conn_max_age=600, ssl_require=True)}\nSECURE_SSL_REDIRECT = True\nSECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')\nSTATIC_URL = 'static/'\nSTATIC_ROOT = BASE_DIR / 'staticfiles'\n",
    ),
    (
        "shop/urls.py",
        "from django.contrib.auth.models import User\nfrom django.db import connection\nfrom django.http import HttpResponse\nfrom django.urls import path\n\ndef home(request):\n    with connection.cursor() as c:\n        c.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')\n        ssl = c.fetchone()[0]\n    return HttpResponse(f'users={User.objects.count()} ssl={ssl}')\n\nurlpatterns = [path('', home)]\n",
    ),
    (
        "shop/wsgi.py",
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
    ),
];

/// A Django app written for Heroku deploys onto Heroku Postgres: the
/// add-on is real PostgreSQL over SSL, migrated by the release phase, its
/// data outlives dynos and a restart of the fake, the app's HTTPS redirect
/// works through the router; `addons`, `addons:info`, `config` show it;
/// without the add-on there is no DATABASE_URL (and the migration check
/// says why); the add-on comes with a graded submission, data included.
#[test]
fn heroku_postgres_add_on_serves_a_django_app_written_for_heroku() {
    let cli = heroku_cli();
    let mut fake = FakeHeroku::start(Lab::new(), cli);
    let app = "loja-pg";
    fake.ok(&["create", app]);
    let config = fake.ok(&["config", "-a", app]);
    assert!(
        !config.contains("DATABASE_URL"),
        "no add-on, no database: {config}"
    );
    let refused = fake
        .command("heroku")
        .args(["addons:create", "heroku-postgresql:hobby-dev", "-a", app])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("hobby-dev"),
        "{}",
        stderr(&refused)
    );
    let created = fake.ok(&["addons:create", "heroku-postgresql:essential-0", "-a", app]);
    assert!(created.contains("as DATABASE_URL"), "{created}");
    let config = fake.ok(&["config:get", "DATABASE_URL", "-a", app]);
    assert!(config.trim().starts_with("postgres://"), "{config}");
    let listed = fake.ok(&["addons", "-a", app]);
    assert!(listed.contains("heroku-postgresql"), "{listed}");
    assert!(listed.contains("essential-0"), "{listed}");
    let info = fake.ok(&["addons:info", "DATABASE", "-a", app]);
    assert!(info.contains("created"), "{info}");
    assert!(info.contains(&format!("{app}::DATABASE")), "{info}");

    fake.ok(&[
        "config:set",
        "SECRET_KEY=shop-secret-for-the-test-only-0123456789abcdef-0123456789abcdef",
        "-a",
        app,
    ]);
    fake.commit(SHOP, "a Django shop written for Heroku");
    let (ok, out) = fake.push();
    assert!(ok, "{out}");
    assert!(
        out.contains("Using Python 3.11 specified in runtime.txt"),
        "{out}"
    );
    assert!(
        out.contains("Warning: The runtime.txt file is deprecated."),
        "{out}"
    );
    assert!(out.contains("Waiting for release.... done."), "{out}");
    fake.wait_for_web(app, "up");
    let made = fake.ok(&[
        "run",
        "--exit-code",
        "-a",
        app,
        "--",
        "python",
        "manage.py",
        "shell",
        "-c",
        "from django.contrib.auth.models import User; User.objects.create_user('ana')",
    ]);
    assert!(!made.contains("Error"), "{made}");
    let url = format!("https://{app}.localhost:{}/", fake.router_port);
    let page = |fake: &FakeHeroku, url: &str| {
        let out = fake
            .command("curl")
            .args(["-sS", "-o", "-", "-w", " %{http_code} %{redirect_url}", url])
            .output()
            .unwrap();
        format!("{}{}", stdout(&out), stderr(&out))
    };
    assert_eq!(page(&fake, &url), "users=1 ssl=True 200 ");
    let plain = url.replace("https://", "http://");
    assert_eq!(
        page(&fake, &plain),
        format!(" 301 {url}"),
        "the app's redirect keeps the port"
    );
    let report = fake.check_json();
    assert_eq!(check_status(&report, "migrated"), "pass", "{report:#}");
    assert_eq!(check_status(&report, "secret-key"), "pass", "{report:#}");
    assert_eq!(check_status(&report, "home-page"), "pass", "{report:#}");
    // `pg:info` asks the data API, which asks the server itself.
    let pg = fake.ok(&["pg:info", "-a", app]);
    assert!(pg.contains("DATABASE_URL"), "{pg}");
    assert!(pg.contains("Essential 0"), "{pg}");
    assert!(pg.contains("PG Version:") && pg.contains(" 15."), "{pg}");
    let tables = |pg: &str| -> u32 {
        let line = pg
            .lines()
            .find(|l| l.starts_with("Tables:"))
            .unwrap_or_default();
        let count = line.trim_start_matches("Tables:").trim().split('/').next();
        count
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{pg}"))
    };
    // django_migrations, django_content_type and auth's six tables.
    assert_eq!(tables(&pg), 8, "{pg}");

    // The data outlives the dynos and a restart of the fake.
    fake.ok(&["ps:restart", "-a", app]);
    fake.restart();
    fake.wait_for_web(app, "up");
    assert_eq!(page(&fake, &url), "users=1 ssl=True 200 ");

    // A graded submission brings the database with it.
    let file = fake.work.path().join("shop.submission");
    let out = fake.lab.run(&["submit", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let graded = Lab::new().run(&[
        "grade",
        "heroku",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let graded: Value =
        serde_json::from_slice(&graded.stdout).unwrap_or_else(|_| panic!("{}", stderr(&graded)));
    let result = &graded["submissions"][0];
    assert_eq!(result["error"], Value::Null, "{result:#}");
    assert_eq!(
        check_result(&result["report"], "migrated")["status"],
        "pass",
        "{result:#}"
    );

    // `check --app` judges another app than the one pushed to last; an
    // unknown one is a clear error.
    fake.ok(&["create", "outra-loja"]);
    let other = fake
        .lab
        .run(&["check", "--app", "outra-loja", "--format", "json"]);
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(check_status(&other, "app-created"), "pass", "{other:#}");
    assert_ne!(check_status(&other, "build-succeeded"), "pass", "{other:#}");
    assert_eq!(check_status(&fake.check_json(), "migrated"), "pass");
    let unknown = fake.lab.run(&["check", "--app", "nenhuma"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no app named 'nenhuma' (its apps: loja-pg, outra-loja)"),
        "{}",
        stderr(&unknown)
    );

    // `pg:reset` empties the database: the check sees it unmigrated.
    fake.ok(&["pg:reset", "DATABASE", "-a", app, "--confirm", app]);
    assert_eq!(tables(&fake.ok(&["pg:info", "-a", app])), 0);
    assert_eq!(check_status(&fake.check_json(), "migrated"), "fail");

    // Destroyed with the app: its server and its volumes.
    fake.ok(&["apps:destroy", app, "--confirm", app]);
    let volumes = Command::new("docker")
        .args(["volume", "ls", "-q", "--filter"])
        .arg(format!("label=deploylab.instance={}", fake.lab.instance()))
        .output()
        .unwrap();
    assert_eq!(stdout(&volumes).trim(), "", "the database's volume stayed");
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

/// The fake's process (`heroku-serve`) of a home.
fn fake_pid(lab: &Lab) -> u32 {
    let home = lab.home.path().join("data").display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("heroku-serve") && cmdline.contains(&home)
        })
        .expect("the fake runs")
}

fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kib / 1024
}

/// Any local user reaches the fake, token or not: unauthenticated large
/// bodies are refused before they are read, bodies over the limit are
/// refused, connections that never finish their handshake are closed, and
/// config var names a process environment cannot hold are refused as
/// Heroku refuses invalid parameters.
#[test]
fn the_fake_heroku_holds_against_hostile_local_clients() {
    let lab = Lab::new();
    let started = lab.run(&["start", "heroku"]);
    assert!(started.status.success(), "{}", stderr(&started));
    let env_out = stdout(&lab.run(&["heroku", "env"]));
    let value = |key: &str| {
        env_out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {key}=")))
            .map(|v| v.trim_matches('\'').to_string())
            .unwrap_or_else(|| panic!("{key} in {env_out}"))
    };
    let (host, token) = (value("HEROKU_HOST"), value("HEROKU_API_KEY"));
    let api = host.trim_end_matches('/').to_string();
    let port: u16 = api.rsplit(':').next().unwrap().parse().unwrap();
    let pid = fake_pid(&lab);
    let rss_before = rss_mib(pid);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // A connection of its own per request: the fake closes one whose
        // body it refused, and a pooled one could be that one.
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let big = vec![b'x'; 50 * 1024 * 1024];
        let posts = (0..4).map(|_| {
            client
                .post(format!("{api}/apps"))
                .header("accept", "application/vnd.heroku+json; version=3")
                .body(big.clone())
                .send()
        });
        // Refused at once: 401, or the connection closed mid-upload.
        for answer in futures_util::future::join_all(posts)
            .await
            .into_iter()
            .flatten()
        {
            assert_eq!(answer.status(), 401);
        }
        let authed = |method: reqwest::Method, path: &str| {
            client
                .request(method, format!("{api}{path}"))
                .bearer_auth(&token)
                .header("accept", "application/vnd.heroku+json; version=3")
        };
        // Over the limit: refused (413, or the connection closed while the
        // client still sent), and nothing of it happened.
        let padded = serde_json::json!({ "name": "too-large", "pad": "x".repeat(2 << 20) });
        let too_big = authed(reqwest::Method::POST, "/apps")
            .header("content-type", "application/json")
            .body(padded.to_string())
            .send()
            .await;
        if let Ok(answer) = too_big {
            assert_eq!(answer.status(), 413);
        }
        let missing = authed(reqwest::Method::GET, "/apps/too-large")
            .send()
            .await
            .unwrap();
        assert_eq!(
            missing.status(),
            404,
            "a request over the limit was carried out"
        );
        let created = authed(reqwest::Method::POST, "/apps")
            .header("content-type", "application/json")
            .body(serde_json::json!({ "name": "hardened" }).to_string())
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
        for bad in [
            serde_json::json!({ "A=B": "1" }),
            serde_json::json!({ "": "1" }),
            serde_json::json!({ "X\nY": "1" }),
            serde_json::json!({ "BIG": "v".repeat(40 * 1024) }),
        ] {
            let answer = authed(reqwest::Method::PATCH, "/apps/hardened/config-vars")
                .header("content-type", "application/json")
                .body(bad.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 422, "{bad}");
        }
        let good = authed(reqwest::Method::PATCH, "/apps/hardened/config-vars")
            .header("content-type", "application/json")
            .body(serde_json::json!({ "GOOD": "1" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(good.status(), 200);

        // Ten connections that never start their TLS handshake are closed
        // by the fake (its deadline is 10 s), not held forever.
        let mut idle = Vec::new();
        for _ in 0..10 {
            idle.push(
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap(),
            );
        }
        for mut stream in idle {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 16];
            let read = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf)).await;
            assert!(
                matches!(read, Ok(Ok(0) | Err(_))),
                "an idle connection was held"
            );
        }
    });
    let rss_after = rss_mib(pid);
    assert!(
        rss_after < rss_before + 40,
        "the fake grew from {rss_before} MiB to {rss_after} MiB"
    );
}

/// Every test that needs the real heroku CLI is one the
/// `without-heroku-cli` profile leaves out (and counts as skipped), and
/// the profile leaves out nothing else.
#[test]
fn tests_needing_the_heroku_cli_are_the_profiles_skipped_ones() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut needing = Vec::new();
    for file in ["heroku", "grading", "portability"] {
        let text = std::fs::read_to_string(root.join(format!("tests/cli/{file}.rs"))).unwrap();
        let mut current = None;
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("fn ").and_then(|l| l.split('(').next()) {
                current = Some(format!("{file}::{name}"));
            }
            if line.contains("heroku_cli()") && !line.contains("fn heroku_cli()") {
                needing.extend(current.clone());
            }
        }
    }
    needing.sort();
    needing.dedup();
    let config = std::fs::read_to_string(root.join(".config/nextest.toml")).unwrap();
    let filter = config
        .split("[profile.without-heroku-cli]")
        .nth(1)
        .and_then(|p| p.lines().find(|l| l.starts_with("default-filter")))
        .expect("the without-heroku-cli profile has a default-filter");
    let mut listed: Vec<String> = filter
        .split("test(=")
        .skip(1)
        .map(|t| t.split(')').next().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, needing);
}
