//! git over HTTPS, as `git push heroku main` speaks it: smart HTTP served
//! by git's own `git http-backend` (CGI) behind the token, one bare
//! repository per app. The repository's pre-receive hook is deploylab
//! itself (`deploylab heroku-hook`): it hands the push to the fake, which
//! builds while git waits and streams the build's output back as the
//! `remote:` lines; a failed build declines the push.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::{Body, Fake, full};
use crate::error::{Error, Result};

/// Messages of git's side, kept together for translation.
mod text {
    pub(crate) const UNAUTHORIZED: &str = "Invalid credentials provided.\n";
    pub(crate) fn no_app(app: &str) -> String {
        format!(" !  No such app as {app}.\n")
    }
}

/// `/<app>.git/info/refs`, `/<app>.git/git-receive-pack`, ...
pub(crate) fn is_git_path(path: &str) -> bool {
    app_of(path).is_some()
}

fn app_of(path: &str) -> Option<&str> {
    let first = path.trim_start_matches('/').split('/').next()?;
    first.strip_suffix(".git")
}

pub(crate) fn repo_path(dir: &Path, app: &str) -> PathBuf {
    dir.join("repos").join(format!("{app}.git"))
}

/// The socket the pre-receive hook reaches the fake through.
pub(crate) fn hook_socket(dir: &Path) -> PathBuf {
    dir.join("hook.sock")
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(full(text))
        .expect("a valid response")
}

/// Whether a request carries the token as git's Basic credentials (any
/// user name, the token as password; what the CLI's credential helper gives).
fn authorized(fake: &Fake, req: &Request<hyper::body::Incoming>) -> bool {
    let Some(value) = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    if let Some(token) = value.strip_prefix("Bearer ") {
        return token.trim() == fake.token;
    }
    value
        .strip_prefix("Basic ")
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|d| String::from_utf8(d).ok())
        .and_then(|d| d.split_once(':').map(|(_, p)| p.to_string()))
        .is_some_and(|password| password == fake.token)
}

pub(crate) async fn answer(fake: &Fake, req: Request<hyper::body::Incoming>) -> Response<Body> {
    if !authorized(fake, &req) {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", "Basic realm=\"Heroku\"")
            .body(full(text::UNAUTHORIZED))
            .expect("a valid response");
    }
    let path = req.uri().path().to_string();
    let app = app_of(&path).unwrap_or_default().to_string();
    if fake.platform.lock().await.find(&app).is_none() {
        return plain(StatusCode::NOT_FOUND, text::no_app(&app));
    }
    match http_backend(fake, &app, req).await {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!("git for {app}: {e}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n"))
        }
    }
}

/// Makes an app's bare repository, with deploylab as its pre-receive hook.
pub(crate) fn ensure_repo(dir: &Path, app: &str) -> Result<PathBuf> {
    let repo = repo_path(dir, app);
    let hook = repo.join("hooks/pre-receive");
    if hook.is_file() {
        return Ok(repo);
    }
    let output = std::process::Command::new("git")
        .args(["init", "--quiet", "--bare", "--initial-branch=main"])
        .arg(&repo)
        .output()
        .map_err(Error::io("running git init"))?;
    if !output.status.success() {
        return Err(Error::program(
            format!("creating the repository of {app}"),
            "git",
            &output,
        ));
    }
    let script = "#!/bin/sh\n# deploylab: builds the push; a failed build declines it.\nexec \"$DEPLOYLAB_EXE\" heroku-hook\n";
    std::fs::write(&hook, script).map_err(Error::io("writing the pre-receive hook"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .map_err(Error::io("writing the pre-receive hook"))?;
    }
    Ok(repo)
}

/// Runs `git http-backend` for one request and streams its answer.
async fn http_backend(
    fake: &Fake,
    app: &str,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>> {
    let repo = ensure_repo(&fake.dir, app)?;
    let exe = std::env::current_exe().map_err(Error::io("finding deploylab's executable"))?;
    // Linux names a replaced executable "<path> (deleted)"; the hook wants
    // the deploylab now at that path (an upgrade while the fake runs).
    let exe = PathBuf::from(exe.to_string_lossy().trim_end_matches(" (deleted)"));
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", repo.parent().expect("repos folder"))
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_HTTP_MAX_REQUEST_BUFFER", "100M")
        .env("REQUEST_METHOD", req.method().as_str())
        .env("PATH_INFO", req.uri().path())
        .env("QUERY_STRING", req.uri().query().unwrap_or_default())
        .env("CONTENT_TYPE", header("content-type"))
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        // Receive-pack is only served to an authenticated user.
        .env("REMOTE_USER", "heroku")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("DEPLOYLAB_EXE", exe)
        .env("DEPLOYLAB_HEROKU_SOCKET", hook_socket(&fake.dir))
        .env("DEPLOYLAB_HEROKU_APP", app)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(Error::io("running git http-backend"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let body = req.into_body();
    // The request body goes in while the answer comes out: git may start
    // answering (progress, the hook's output) before it has read it all.
    tokio::spawn(async move {
        let mut body = body;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data()
                && stdin.write_all(&data).await.is_err()
            {
                return;
            }
        }
        let _ = stdin.shutdown().await;
    });
    let stderr = child.stderr.take().expect("piped");
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::info!("git http-backend: {line}");
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    // CGI: header lines, a blank line, then the body.
    let mut builder = Response::builder();
    loop {
        let mut line = String::new();
        if stdout
            .read_line(&mut line)
            .await
            .map_err(Error::io("reading git http-backend"))?
            == 0
        {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("status") {
                let code = value.split(' ').next().and_then(|c| c.parse().ok());
                builder = builder.status(code.unwrap_or(500));
            } else {
                builder = builder.header(name, value);
            }
        }
    }
    let stream = futures_util::stream::unfold((stdout, child), |(mut out, child)| async move {
        let mut buf = vec![0u8; 16 * 1024];
        match out.read(&mut buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Frame::data(Bytes::from(buf))), (out, child)))
            }
        }
    });
    builder
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .map_err(|source| Error::Http { source })
}

/// The hidden `heroku-hook` command: git's pre-receive hook. Sends the
/// pushed refs to the fake and prints what it answers (git shows each line
/// as `remote: ...`); exits with the fake's verdict.
pub(crate) fn hook() -> Result<i32> {
    let socket = std::env::var_os("DEPLOYLAB_HEROKU_SOCKET").unwrap_or_default();
    let app = std::env::var("DEPLOYLAB_HEROKU_APP").unwrap_or_default();
    let mut updates = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(Error::io("reading the pushed refs"))?;
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [old, new, name] = parts[..] {
            updates.push(serde_json::json!({ "old": old, "new": new, "ref": name }));
        }
    }
    let mut stream = std::os::unix::net::UnixStream::connect(&socket)
        .map_err(Error::io("reaching the fake Heroku from the git hook"))?;
    let git_env: serde_json::Map<String, serde_json::Value> = std::env::vars()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "GIT_OBJECT_DIRECTORY" | "GIT_ALTERNATE_OBJECT_DIRECTORIES" | "GIT_QUARANTINE_PATH"
            )
        })
        .map(|(k, v)| (k, v.into()))
        .collect();
    let request = serde_json::json!({ "app": app, "updates": updates, "git_env": git_env });
    writeln!(stream, "{request}").map_err(Error::io("talking to the fake Heroku"))?;
    let mut out = std::io::stdout().lock();
    for line in std::io::BufReader::new(stream).lines() {
        let line = line.map_err(Error::io("reading the build's output"))?;
        if let Some(code) = line.strip_prefix(EXIT_MARK) {
            return Ok(code.trim().parse().unwrap_or(1));
        }
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    // The fake went away mid-build: decline.
    Ok(1)
}

/// The last line the fake sends a hook: this mark and the exit code.
pub(crate) const EXIT_MARK: &str = "\u{0}exit ";
