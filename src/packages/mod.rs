//! The package proxy: pip inside a lab's VM installs from it. It is a
//! pull-through cache of the package index the host's pip uses (PyPI unless
//! the host's pip configuration names another): a PEP 503 "simple" index on
//! the host, listening on the lab network's gateway address. Online, a
//! project's page lists every file the index lists (every version, with its
//! hash, `Requires-Python` and yanked marks), and a file is fetched from the
//! index on first request, checked against its hash and kept in a cache
//! shared by every lab. Offline, the page lists what the cache and the
//! image's wheels hold, so cached pins install and anything else fails at
//! once instead of waiting through network retries.
//!
//! It runs as its own process (`deploylab package-proxy`, hidden), started
//! by `start` and stopped by `stop`; it also exits by itself once the lab's
//! VM container is gone, so nothing outlives the lab.

mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};
use tokio_util::io::ReaderStream;

use upstream::{IndexFile, Upstream};

use fakekit::http::{self as http_server, Body, full};

use crate::error::{Error, Result};

/// Where a lab's containers reach the proxy: the host's address on their
/// network (a Linux host running the engine), or the name Docker Desktop
/// gives the host (`host.docker.internal`). Written as `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Endpoint {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.host.parse::<std::net::IpAddr>() {
            Ok(ip) => write!(f, "{}", SocketAddr::new(ip, self.port)),
            Err(_) => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

impl std::str::FromStr for Endpoint {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Endpoint, String> {
        if let Ok(address) = text.parse::<SocketAddr>() {
            return Ok(Endpoint::at(address));
        }
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("expected host:port, got {text}"))?;
        let port = port.parse().map_err(|_| format!("bad port in {text}"))?;
        Ok(Endpoint {
            host: host.to_string(),
            port,
        })
    }
}

impl TryFrom<String> for Endpoint {
    type Error = String;
    fn try_from(text: String) -> std::result::Result<Endpoint, String> {
        text.parse()
    }
}

impl From<Endpoint> for String {
    fn from(endpoint: Endpoint) -> String {
        endpoint.to_string()
    }
}

impl Endpoint {
    /// Whether containers reach it by Docker Desktop's name for the host.
    pub(crate) fn is_desktop_host(&self) -> bool {
        self.host == DESKTOP_HOST
    }

    pub(crate) fn at(address: SocketAddr) -> Endpoint {
        Endpoint {
            host: address.ip().to_string(),
            port: address.port(),
        }
    }
}

/// The name Docker Desktop's containers reach the host by.
const DESKTOP_HOST: &str = "host.docker.internal";

/// How a network's containers can reach a proxy of the host's: the one
/// place that decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// A Linux host running the engine: the host's address on the network
    /// is one of its own, to listen on.
    Gateway(std::net::IpAddr),
    /// Docker Desktop (macOS, Windows, WSL2): the engine's networks are in
    /// its VM; containers reach the host's loopback by `DESKTOP_HOST`.
    Desktop,
    /// Neither (deploylab in a container of its own, a remote engine): no
    /// proxy; pip installs from the images' offline wheels.
    Nowhere,
}

impl Reach {
    pub(crate) async fn of(docker: &bollard::Docker, network: &str) -> Result<(Reach, String)> {
        let (gateway, network_id) = crate::docker::gateway(docker, network).await?;
        let reach = if std::net::TcpListener::bind((gateway, 0)).is_ok() {
            Reach::Gateway(gateway)
        } else if crate::docker::is_desktop(docker).await {
            Reach::Desktop
        } else {
            Reach::Nowhere
        };
        Ok((reach, network_id))
    }

    /// Where the proxy listens and where containers reach it, for a port
    /// (0: any free one, known once it listens).
    pub(crate) fn addresses(&self, port: u16) -> Option<(SocketAddr, Endpoint)> {
        match self {
            Reach::Gateway(ip) => Some((
                SocketAddr::new(*ip, port),
                Endpoint::at(SocketAddr::new(*ip, port)),
            )),
            Reach::Desktop => Some((
                SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), port),
                Endpoint {
                    host: DESKTOP_HOST.to_string(),
                    port,
                },
            )),
            Reach::Nowhere => None,
        }
    }
}

/// How the VM's pip reaches the proxy, written to its /etc/pip.conf.
pub(crate) fn pip_conf(address: &Endpoint) -> String {
    format!(
        "# deploylab: packages come from the host's package proxy (cached wheels,\n\
         # and anything else fetched by the host when it is online).\n\
         [global]\n\
         index-url = http://{address}/simple/\n\
         trusted-host = {host}\n\
         timeout = 60\n\
         retries = 1\n\
         disable-pip-version-check = true\n",
        host = address.host
    )
}

/// The same, as environment variables for one pip run (a container's
/// build), in place of any pip.conf; `DEPLOYLAB_PACKAGE_INDEX` tells
/// deploylab's own scripts where to ask what the index has.
pub(crate) fn pip_env(address: &Endpoint) -> Vec<String> {
    let index = format!("http://{address}/simple/");
    vec![
        "PIP_CONFIG_FILE=/dev/null".into(),
        format!("PIP_INDEX_URL={index}"),
        format!("PIP_TRUSTED_HOST={}", address.host),
        "PIP_TIMEOUT=60".into(),
        "PIP_RETRIES=1".into(),
        "PIP_DISABLE_PIP_VERSION_CHECK=1".into(),
        format!("DEPLOYLAB_PACKAGE_INDEX={index}"),
    ]
}

/// Set on a project page listing only the cache's files (the index did
/// not answer).
const OFFLINE_HEADER: &str = "x-deploylab-offline";

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
    /// The id of the lab's network, whose lifetime the proxy follows: gone
    /// with `stop`, replaced (another id) by `start --fresh`.
    #[arg(long)]
    pub(crate) network: String,
    /// Serve every deploylab home's lab of this id on this machine, and
    /// follow all their networks instead (the container lab's proxy has a
    /// fixed address that images carry).
    #[arg(long)]
    pub(crate) shared: bool,
    /// The lab and the deploylab home it serves (for its log, and to tell
    /// proxies apart in `ps`).
    #[arg(long)]
    pub(crate) lab: String,
    #[arg(long)]
    pub(crate) instance: String,
}

struct Proxy {
    args: ProxyArgs,
    /// Read on the first request, not at the proxy's start: asking the
    /// host's pip for its configuration takes a Python start (~0.3 CPU-s),
    /// which would slow the VM booting beside it; most labs' first pip
    /// comes minutes later, or never.
    upstream: std::sync::OnceLock<Upstream>,
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
    fn upstream(&self) -> &Upstream {
        self.upstream.get_or_init(|| {
            let upstream = tokio::task::block_in_place(Upstream::from_pip_config);
            tracing::info!("package index {}", upstream.index());
            upstream
        })
    }

    /// Files of the project `name` (normalized) on disk: the image's wheels
    /// and the shared cache.
    fn files_for(&self, name: &str) -> Vec<String> {
        let mut files: Vec<String> = self
            .args
            .dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(std::iter::Iterator::flatten)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| upstream::is_file_name(f) && file_matches(f, name))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    fn path_of(&self, file: &str) -> Option<PathBuf> {
        if !upstream::is_file_name(file) {
            return None;
        }
        self.args
            .dirs
            .iter()
            .map(|d| d.join(file))
            .find(|p| p.is_file())
    }

    /// Where the index's last listing of a project is kept, for offline use
    /// and to find a file's origin.
    fn listing_path(&self, name: &str) -> PathBuf {
        // Per index: a listing names the index's own file URLs.
        let index = <sha2::Sha256 as sha2::Digest>::digest(self.upstream().index());
        let index = &crate::state::hex(&index)[..12];
        (self.args.download_to.join(".index").join(index)).join(format!("{name}.json"))
    }

    fn cached_listing(&self, name: &str) -> Vec<IndexFile> {
        std::fs::read(self.listing_path(name))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// The index's listing when it was read in the last minutes: a lab's
    /// pips ask for the same pages again and again (every install, every
    /// build's isolated environment), and a project's page changes rarely.
    fn recent_listing(&self, name: &str) -> Option<Vec<IndexFile>> {
        let age = std::fs::metadata(self.listing_path(name))
            .and_then(|m| m.modified())
            .ok()?
            .elapsed()
            .ok()?;
        (age < LISTING_FRESH)
            .then(|| self.cached_listing(name))
            .filter(|files| !files.is_empty())
    }

    fn keep_listing(&self, name: &str, files: &[IndexFile]) {
        let json = serde_json::to_vec(files).expect("a listing serializes");
        // Not kept is only slower next time (and offline, less to offer).
        if let Err(e) = crate::state::write_atomically(&self.listing_path(name), &json) {
            tracing::warn!("{e}");
        }
    }

    /// Drops a cached file whose content is not what the index now lists
    /// under its name (an index that replaced a file): it is fetched again.
    fn forget_stale(&self, listed: &[IndexFile]) {
        let dir = &self.args.download_to;
        for file in listed {
            let (Some(want), true) = (&file.sha256, dir.join(&file.filename).is_file()) else {
                continue;
            };
            if upstream::cached_hash(dir, &file.filename)
                .is_some_and(|have| !have.eq_ignore_ascii_case(want))
            {
                tracing::info!("{}: changed on the index, fetching it again", file.filename);
                let _ = std::fs::remove_file(dir.join(&file.filename));
                let _ = std::fs::remove_file(dir.join(".sha256").join(&file.filename));
            }
        }
    }

    /// `/simple/<project>/`: every file the index lists, and those on disk
    /// it does not (the image's wheels); offline, those on disk only.
    async fn project_page(&self, project: &str) -> Response<Body> {
        if !is_project_name(project) {
            return respond(StatusCode::BAD_REQUEST, text::BAD_NAME.to_string());
        }
        let name = normalize(project);
        let on_disk = self.files_for(&name);
        let recent = self.recent_listing(&name);
        let upstream = match recent {
            Some(files) => Ok(Some(files)),
            None => self.upstream().listing(&name).await,
        };
        let (mut listed, online) = match upstream {
            Ok(Some(files)) => {
                self.keep_listing(&name, &files);
                self.forget_stale(&files);
                (files, true)
            }
            Ok(None) => (Vec::new(), true),
            Err(upstream::Unavailable::Offline) => {
                // The hashes and markers the index gave last time, for the
                // files the cache holds.
                let known = self.cached_listing(&name);
                let held = known.into_iter().filter(|f| on_disk.contains(&f.filename));
                (held.collect(), false)
            }
        };
        for file in &on_disk {
            if !listed.iter().any(|f| &f.filename == file) {
                listed.push(IndexFile {
                    filename: file.clone(),
                    url: String::new(),
                    sha256: None,
                    requires_python: None,
                    yanked: None,
                });
            }
        }
        if listed.is_empty() && online {
            tracing::info!("{name}: no such project");
            let why = text::no_such_project(&name, self.upstream().index());
            return respond(StatusCode::NOT_FOUND, why);
        }
        if listed.is_empty() {
            // pip prints an unexpected Content-Type verbatim in a warning
            // ("Skipping page … because the GET request got Content-Type:
            // …"), and says nothing of a 404: the one line that tells the
            // student why, beside pip's own "No matching distribution".
            tracing::info!("{name}: offline, not cached");
            return Response::builder()
                .header("content-type", text::offline(&name))
                .body(full(String::new()))
                .expect("a valid response");
        }
        let links: String = listed.iter().map(|f| link(&name, f)).collect();
        let page = format!(
            "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\">\
             <title>Links for {name}</title></head><body>\n{links}</body></html>\n"
        );
        let mut response = html(page);
        if !online {
            // For deploylab's own scripts (a build's list of what it could
            // not install): this page is the cache's, not the index's.
            response
                .headers_mut()
                .insert(OFFLINE_HEADER, hyper::header::HeaderValue::from_static("1"));
        }
        response
    }

    /// `/files/<project>/<file>`: from disk, else fetched from the index
    /// (and kept), as its last listing of the project says.
    async fn file(&self, project: &str, file: &str) -> Response<Body> {
        if let Some(path) = self.path_of(file) {
            if path.starts_with(&self.args.download_to) {
                // Used again: the last to go when the cache is full.
                let _ = std::fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            }
            return stream(&path).await;
        }
        let name = normalize(project);
        let Some(origin) = self
            .cached_listing(&name)
            .into_iter()
            .find(|f| f.filename == file)
        else {
            return respond(StatusCode::NOT_FOUND, text::NO_SUCH_FILE.to_string());
        };
        match self.upstream().fetch(&origin, &self.args.download_to).await {
            Ok(path) => {
                tracing::info!("fetched {file}");
                bound_cache(&self.args.download_to);
                stream(&path).await
            }
            Err(why) => {
                tracing::warn!("{why}");
                respond(StatusCode::BAD_GATEWAY, format!("{why}\n"))
            }
        }
    }

    async fn handle(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["simple", project] => self.project_page(project).await,
            ["files", project, file] => self.file(project, file).await,
            // The image's wheels, as older pip.conf links name them.
            ["files", file] => match self.path_of(file) {
                Some(path) => stream(&path).await,
                None => respond(StatusCode::NOT_FOUND, text::NO_SUCH_FILE.to_string()),
            },
            ["simple"] => html(text::ROOT_PAGE.to_string()),
            _ => respond(StatusCode::NOT_FOUND, text::ROOT_PAGE.to_string()),
        }
    }
}

/// A project name as PEP 508 allows it; anything else never reaches the
/// network or the disk.
fn is_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// One anchor of a PEP 503 page, pointing back at the proxy.
fn link(project: &str, file: &IndexFile) -> String {
    let name = escape(&file.filename);
    let hash = file
        .sha256
        .as_ref()
        .map_or_else(String::new, |h| format!("#sha256={}", escape(h)));
    let python = file.requires_python.as_ref().map_or_else(String::new, |r| {
        format!(" data-requires-python=\"{}\"", escape(r))
    });
    let yanked = file
        .yanked
        .as_ref()
        .map_or_else(String::new, |r| format!(" data-yanked=\"{}\"", escape(r)));
    format!("<a href=\"/files/{project}/{name}{hash}\"{python}{yanked}>{name}</a><br>\n")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(page: String) -> Response<Body> {
    Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(full(page))
        .expect("a valid response")
}

fn respond(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(full(body))
        .expect("a valid response")
}

/// A file from disk, streamed (wheels can be large).
async fn stream(path: &Path) -> Response<Body> {
    match tokio::fs::File::open(path).await {
        Ok(file) => {
            let frames = futures_util::TryStreamExt::map_ok(ReaderStream::new(file), Frame::data);
            Response::builder()
                .header("content-type", "application/octet-stream")
                .body(BodyExt::boxed(StreamBody::new(frames)))
                .expect("a valid response")
        }
        Err(_) => respond(StatusCode::NOT_FOUND, text::NO_SUCH_FILE.to_string()),
    }
}

/// Messages of this module, in one place for translation.
mod text {
    pub(super) const BAD_NAME: &str = "not a project name\n";
    pub(super) const NO_SUCH_FILE: &str = "no such file\n";
    pub(super) const ROOT_PAGE: &str = "deploylab package proxy\n";
    pub(super) const STOPPED: &str = "stopped (`start` again)";
    pub(super) const NONE: &str = "none (offline wheels only)";

    pub(super) fn listening(port: u16) -> String {
        format!("port {port}")
    }

    pub(super) fn no_such_project(name: &str, index: &str) -> String {
        format!("deploylab: {index} has no project {name}\n")
    }

    /// One line, as a header value.
    pub(super) fn offline(name: &str) -> String {
        format!(
            "deploylab/offline (the host's package index does not answer, and {name} is not in deploylab's cache)"
        )
    }
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
    let network = args.network.clone();
    let (shared, lab) = (args.shared, args.lab.clone());
    tracing::info!(
        "package proxy of lab {} (home {}) on port {port}",
        args.lab,
        args.instance,
    );
    let proxy = Arc::new(Proxy {
        args,
        upstream: std::sync::OnceLock::new(),
    });
    let accept = http_server::serve(
        listener,
        http_server::Security::Plain,
        MAX_CONNECTIONS,
        move |req, _| proxy.clone().handle(req),
    );
    tokio::select! {
        () = accept => Ok(()),
        () = follow_network(&network), if !shared => Ok(()),
        () = follow_lab(&lab), if shared => Ok(()),
    }
}

/// Returns once the engine has had no network of the lab (of any home)
/// twice in a row.
async fn follow_lab(lab: &str) {
    let label = format!("{}={lab}", crate::docker::LABEL_LAB);
    let filters = std::collections::HashMap::from([("label", vec![label.as_str()])]);
    let mut empty = 0;
    while empty < 2 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Ok(docker) = crate::docker::connect().await else {
            continue;
        };
        let options = bollard::query_parameters::ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        match docker.list_networks(Some(options)).await {
            Ok(networks) if networks.is_empty() => empty += 1,
            Ok(_) => empty = 0,
            Err(_) => {}
        }
    }
}

/// A shared proxy already listening on `address` (another home's
/// container lab): its pid.
pub(crate) fn shared_on(address: SocketAddr) -> Option<u32> {
    let listen = format!("--listen\0{address}\0");
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        (cmdline.contains(SUBCOMMAND) && cmdline.contains(&listen) && cmdline.contains("--shared"))
            .then_some(pid)
    })
}

/// Returns once the engine says the lab's network is gone (an engine that
/// does not answer for a while is not taken for that).
async fn follow_network(network: &str) {
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Ok(docker) = crate::docker::connect().await else {
            continue;
        };
        let inspected = docker
            .inspect_network(
                network,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await;
        if let Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) = inspected
        {
            return;
        }
    }
}

/// A running proxy, as `start` sees it: its process and where the lab's
/// containers reach it.
pub(crate) struct Running {
    pub(crate) pid: u32,
    pub(crate) address: Endpoint,
}

/// Which lab a proxy serves: where it listens (port 0: any free one) and
/// the network whose lifetime it follows.
pub(crate) struct ForLab<'a> {
    pub(crate) lab: &'a str,
    pub(crate) instance: &'a str,
    pub(crate) listen: SocketAddr,
    /// Where containers reach it (its port is the one it binds).
    pub(crate) reach: Endpoint,
    pub(crate) network_id: &'a str,
}

/// Starts the proxy for a lab as a process of its own and waits until it
/// listens (its ready file names the port).
pub(crate) async fn spawn(
    target: &ForLab<'_>,
    shared: bool,
    wheels: &Path,
    cache: &Path,
    arch: &str,
    log: &Path,
) -> Result<Running> {
    let ForLab {
        lab,
        instance,
        listen,
        ref reach,
        network_id,
    } = *target;
    let ready = tempfile::NamedTempFile::new().map_err(Error::io("creating a temporary file"))?;
    let ready_path = ready.path().to_path_buf();
    std::fs::write(&ready_path, "").map_err(Error::io("creating a temporary file"))?;
    let downloads = cache.join("pypi");
    let mut cmd = crate::background::command(SUBCOMMAND)?;
    cmd.arg("--listen")
        .arg(listen.to_string())
        .arg("--ready-file")
        .arg(&ready_path)
        .arg("--dir")
        .arg(wheels)
        .arg("--dir")
        .arg(&downloads)
        .arg("--download-to")
        .arg(&downloads)
        .args(["--arch", arch, "--network", network_id])
        .args(["--lab", lab, "--instance", instance]);
    if shared {
        cmd.arg("--shared");
    }
    // Ready when the port is written; failed if the process ended first.
    let (pid, port) = crate::background::start(cmd, "the package proxy", &ready_path, log, |t| {
        t.trim().parse::<u16>().ok()
    })
    .await?;
    Ok(Running {
        pid,
        address: Endpoint {
            host: reach.host.clone(),
            port,
        },
    })
}

/// Where a lab wants its proxy: the network whose host address it listens
/// on (and whose lifetime it follows), a port (None: any free one; a
/// restarted proxy keeps the port its clients were told) and the image's
/// wheels.
pub(crate) struct OnNetwork<'a> {
    pub(crate) network: &'a str,
    /// One proxy for the lab in every home (`ProxyArgs::shared`): the
    /// container lab listens on Docker's default bridge, which outlives
    /// every lab, at an address its images carry.
    pub(crate) shared: bool,
    pub(crate) lab: &'a str,
    pub(crate) port: Option<u16>,
    pub(crate) wheels: &'a Path,
}

/// Starts a lab's package proxy where the containers of one of its
/// networks reach it (`Reach`). None where they cannot reach the host:
/// the lab keeps its offline-only wheels.
pub(crate) async fn start_on(
    docker: &bollard::Docker,
    home: &crate::state::Home,
    on: &OnNetwork<'_>,
) -> Result<Option<Running>> {
    let (reach, network_id) = Reach::of(docker, on.network).await?;
    let Some((listen, reach)) = reach.addresses(on.port.unwrap_or(0)) else {
        return Ok(None);
    };
    let arch = crate::docker::arch(docker).await;
    let log = home.dir.join(format!("package-proxy-{}.log", on.lab));
    let target = ForLab {
        lab: on.lab,
        instance: &home.instance(),
        listen,
        reach,
        network_id: &network_id,
    };
    spawn(&target, on.shared, on.wheels, &home.cache, &arch, &log)
        .await
        .map(Some)
}

/// The proxy's cell in `status`.
pub(crate) fn status(pid: Option<u32>, port: Option<u16>) -> String {
    match (pid, port) {
        (Some(pid), Some(port)) if is_running(pid) => text::listening(port),
        (_, Some(_)) => text::STOPPED.into(),
        _ => text::NONE.into(),
    }
}

/// Stops a package proxy when dropped, unless disarmed (`.0 = None`): a
/// start that fails or is interrupted leaves no proxy behind.
pub(crate) struct Guard(pub(crate) Option<u32>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            stop(pid);
        }
    }
}

/// The shared cache of fetched packages is kept under this size: past it,
/// the files used longest ago go first (down to `CACHE_KEEP`).
const CACHE_LIMIT: u64 = 4 << 30;
const CACHE_KEEP: u64 = 3 << 30;

/// The package files of a cache folder, with size and last use (mtime:
/// set when fetched, and when served again).
fn cached_files(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| upstream::is_file_name(&e.file_name().to_string_lossy()))
                .filter_map(|e| {
                    let meta = e.metadata().ok()?;
                    Some((e.path(), meta.len(), meta.modified().ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Keeps the shared cache under `CACHE_LIMIT`.
fn bound_cache(dir: &Path) {
    let mut files = cached_files(dir);
    let mut total: u64 = files.iter().map(|(_, size, _)| size).sum();
    if total <= CACHE_LIMIT {
        return;
    }
    files.sort_by_key(|(_, _, used)| *used);
    for (path, size, _) in files {
        if total <= CACHE_KEEP {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= size;
            tracing::info!("cache full: removed {}", path.display());
        }
    }
}

/// Empties the shared cache of fetched packages (`images prune
/// --packages`): how many files and bytes went.
pub(crate) fn clear_cache(cache: &Path) -> Result<(usize, u64)> {
    let dir = cache.join("pypi");
    let files = cached_files(&dir);
    let bytes = files.iter().map(|(_, size, _)| size).sum();
    for (path, _, _) in &files {
        std::fs::remove_file(path).map_err(Error::io(format!("removing {}", path.display())))?;
    }
    for kept in [".index", ".sha256"] {
        let _ = std::fs::remove_dir_all(dir.join(kept));
    }
    Ok((files.len(), bytes))
}

/// How long a project's listing is served without asking the index again.
const LISTING_FRESH: Duration = Duration::from_secs(600);

/// Connections served at once (pip opens a few per install).
const MAX_CONNECTIONS: usize = 64;

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
    fn the_cache_is_bounded_and_cleared() {
        let cache = tempfile::tempdir().unwrap();
        let dir = cache.path().join("pypi");
        std::fs::create_dir_all(dir.join(".sha256")).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for (name, age) in [
            ("a-1.0-py3-none-any.whl", old),
            ("b-1.0.tar.gz", std::time::SystemTime::now()),
        ] {
            let file = std::fs::File::create(dir.join(name)).unwrap();
            file.set_len(CACHE_LIMIT / 2 + 1).unwrap();
            file.set_modified(age).unwrap();
        }
        std::fs::write(dir.join("notes.txt"), "not a package").unwrap();
        // Over the limit: the one used longest ago goes.
        bound_cache(&dir);
        assert!(!dir.join("a-1.0-py3-none-any.whl").exists());
        assert!(dir.join("b-1.0.tar.gz").exists());
        let (files, bytes) = clear_cache(cache.path()).unwrap();
        assert_eq!((files, bytes), (1, CACHE_LIMIT / 2 + 1));
        assert!(!dir.join("b-1.0.tar.gz").exists() && !dir.join(".sha256").exists());
        assert!(
            dir.join("notes.txt").exists(),
            "only package files are removed"
        );
    }

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
