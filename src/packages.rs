//! The package proxy: pip inside a lab's VM installs from it. It is a small
//! PEP 503 "simple" index on the host, listening on the lab network's
//! gateway address, that serves the wheels built with the image and, for a
//! package it does not have, downloads it with the host's own pip (so the
//! host's pip configuration applies) into a cache shared by every lab. Online,
//! any package works and is kept for next time; offline, the cached ones work
//! and the others fail at once instead of waiting through network retries.
//!
//! It runs as its own process (`deploylab package-proxy`, hidden), started
//! by `start` and stopped by `stop`; it also exits by itself once the lab's
//! VM container is gone, so nothing outlives the lab.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// How the VM's pip reaches the proxy, written to its /etc/pip.conf.
pub(crate) fn pip_conf(address: SocketAddr) -> String {
    format!(
        "# deploylab: packages come from the host's package proxy (cached wheels,\n\
         # and anything else fetched by the host when it is online).\n\
         [global]\n\
         index-url = http://{address}/simple/\n\
         trusted-host = {ip}\n\
         timeout = 60\n\
         retries = 1\n\
         disable-pip-version-check = true\n",
        ip = address.ip()
    )
}

/// What the proxy serves and for which Python.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ProxyArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long)]
    pub(crate) listen: SocketAddr,
    /// File to write the bound port to, once listening.
    #[arg(long)]
    pub(crate) ready_file: PathBuf,
    /// Folders of wheels to serve (the image's; the shared download cache).
    #[arg(long = "dir", required = true)]
    pub(crate) dirs: Vec<PathBuf>,
    /// Where downloads go (must be one of --dir).
    #[arg(long)]
    pub(crate) download_to: PathBuf,
    /// The VM's CPU architecture as pip names it (x86_64, aarch64).
    #[arg(long, default_value = "x86_64")]
    pub(crate) arch: String,
    /// The container whose lifetime the proxy follows.
    #[arg(long)]
    pub(crate) container: String,
}

struct Proxy {
    args: ProxyArgs,
    /// Names already asked of the host's pip in this run (once is enough).
    tried: Mutex<HashSet<String>>,
}

/// PEP 503 normal form: lowercase, runs of `-_.` as one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Whether a wheel or sdist file belongs to the project `name` (normalized):
/// its normalized file name is the name, a dash, then the version's digit.
fn file_matches(file: &str, name: &str) -> bool {
    let file = normalize(file);
    file.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

impl Proxy {
    fn files_for(&self, name: &str) -> Vec<String> {
        let mut files: Vec<String> = self
            .args
            .dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(std::iter::Iterator::flatten)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".whl") || f.ends_with(".tar.gz") || f.ends_with(".zip"))
            .filter(|f| file_matches(f, name))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    fn path_of(&self, file: &str) -> Option<PathBuf> {
        if file.contains('/') || file.contains("..") {
            return None;
        }
        self.args
            .dirs
            .iter()
            .map(|d| d.join(file))
            .find(|p| p.is_file())
    }

    /// Asks the host's pip for a wheel the VM can use, else the sdist.
    async fn download(&self, name: &str) {
        let arch = &self.args.arch;
        let dest = &self.args.download_to;
        let wheel = [
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            "3.11",
        ]
        .map(String::from)
        .into_iter()
        .chain(
            [
                format!("manylinux2014_{arch}"),
                format!("manylinux_2_36_{arch}"),
                "any".to_string(),
            ]
            .into_iter()
            .flat_map(|p| ["--platform".to_string(), p]),
        )
        .collect::<Vec<_>>();
        for extra in [wheel, vec!["--no-binary=:all:".to_string()]] {
            let status = tokio::process::Command::new("python3")
                .args(["-m", "pip", "download", "--quiet", "--no-deps"])
                .args([
                    "--disable-pip-version-check",
                    "--retries",
                    "0",
                    "--timeout",
                    "15",
                ])
                .args(&extra)
                .arg("--dest")
                .arg(dest)
                .arg(name)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
            if status.is_ok_and(|s| s.success()) {
                tracing::info!("fetched {name} for the VM");
                return;
            }
        }
        tracing::info!("could not fetch {name} (offline, or no such package)");
    }

    async fn handle(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_string();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["simple", project] => {
                let name = normalize(project);
                let mut files = self.files_for(&name);
                if files.is_empty() && self.tried.lock().await.insert(name.clone()) {
                    self.download(&name).await;
                    files = self.files_for(&name);
                }
                if files.is_empty() {
                    return respond(
                        StatusCode::NOT_FOUND,
                        "text/plain",
                        format!("no {name} here\n"),
                    );
                }
                let links: String = files
                    .iter()
                    .map(|f| format!("<a href=\"/files/{f}\">{f}</a><br>\n"))
                    .collect();
                let page = format!("<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n");
                respond(StatusCode::OK, "text/html", page)
            }
            ["files", file] => match self.path_of(file).map(std::fs::read) {
                Some(Ok(bytes)) => Response::builder()
                    .header("content-type", "application/octet-stream")
                    .body(Full::new(Bytes::from(bytes)))
                    .expect("a valid response"),
                _ => respond(StatusCode::NOT_FOUND, "text/plain", "no such file\n".into()),
            },
            _ => respond(
                StatusCode::NOT_FOUND,
                "text/plain",
                "deploylab package proxy\n".into(),
            ),
        }
    }
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

/// Runs the proxy until the lab's container is gone (the hidden
/// `package-proxy` command).
pub(crate) async fn serve(args: ProxyArgs) -> Result<()> {
    std::fs::create_dir_all(&args.download_to).map_err(Error::io(format!(
        "creating {}",
        args.download_to.display()
    )))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(Error::io(format!("listening on {}", args.listen)))?;
    let port = listener
        .local_addr()
        .map_err(Error::io("reading the proxy's address"))?
        .port();
    std::fs::write(&args.ready_file, format!("{port}\n"))
        .map_err(Error::io("writing the proxy's ready file"))?;
    let container = args.container.clone();
    let proxy = Arc::new(Proxy {
        args,
        tried: Mutex::new(HashSet::new()),
    });
    let accept = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let proxy = proxy.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let proxy = proxy.clone();
                    async move { Ok::<_, Infallible>(proxy.handle(req).await) }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    };
    tokio::select! {
        () = accept => Ok(()),
        () = follow_container(&container) => Ok(()),
    }
}

/// Returns once the container has existed and is now gone (or never
/// appeared within two minutes).
async fn follow_container(container: &str) {
    let mut seen = false;
    let started = std::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let exists = match crate::docker::connect().await {
            Ok(docker) => docker.inspect_container(container, None).await.is_ok(),
            Err(_) => false,
        };
        seen |= exists;
        if (seen && !exists) || (!seen && started.elapsed() > Duration::from_secs(120)) {
            return;
        }
    }
}

/// A running proxy, as `start` sees it.
pub(crate) struct Running {
    pub(crate) pid: u32,
    pub(crate) address: SocketAddr,
}

/// Starts the proxy for a lab as a process of its own and waits until it
/// listens (its ready file names the port).
pub(crate) async fn spawn(
    gateway: IpAddr,
    port: u16,
    wheels: &Path,
    cache: &Path,
    arch: &str,
    container: &str,
    log: &Path,
) -> Result<Running> {
    let ready = tempfile::NamedTempFile::new().map_err(Error::io("creating a temporary file"))?;
    let ready_path = ready.path().to_path_buf();
    std::fs::write(&ready_path, "").map_err(Error::io("creating a temporary file"))?;
    let downloads = cache.join("pypi");
    let mut cmd = crate::background::command(SUBCOMMAND)?;
    cmd.arg("--listen")
        .arg(SocketAddr::new(gateway, port).to_string())
        .arg("--ready-file")
        .arg(&ready_path)
        .arg("--dir")
        .arg(wheels)
        .arg("--dir")
        .arg(&downloads)
        .arg("--download-to")
        .arg(&downloads)
        .args(["--arch", arch, "--container", container]);
    // Ready when the port is written; failed if the process ended first.
    let (pid, port) = crate::background::start(cmd, "the package proxy", &ready_path, log, |t| {
        t.trim().parse::<u16>().ok()
    })
    .await?;
    Ok(Running {
        pid,
        address: SocketAddr::new(gateway, port),
    })
}

/// The proxy's (hidden) subcommand, by which its process is recognised.
const SUBCOMMAND: &str = "package-proxy";

/// Stops a proxy started by `spawn` (a pid that is no longer ours is left alone).
pub(crate) fn stop(pid: u32) {
    crate::background::stop(pid, SUBCOMMAND);
}

/// Whether the proxy process still runs.
pub(crate) fn is_running(pid: u32) -> bool {
    crate::background::is_running(pid, SUBCOMMAND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_files_match_as_pep_503_says() {
        assert_eq!(normalize("Django"), "django");
        assert_eq!(normalize("dj_database.url"), "dj-database-url");
        assert!(file_matches("Django-5.2.19-py3-none-any.whl", "django"));
        assert!(file_matches(
            "dj_database_url-3.1.2-py3-none-any.whl",
            "dj-database-url"
        ));
        assert!(!file_matches(
            "django_extensions-3.2.3-py3-none-any.whl",
            "django"
        ));
        assert!(file_matches("six-1.17.0.tar.gz", "six"));
    }
}
