//! The local fake Heroku service (`../shared/design/fake-heroku.md`): only Heroku's
//! control plane is fake; builds and dynos are real containers running the
//! student's real app.
//!
//! One process (`deploylab heroku-serve`, started by `deploylab start
//! heroku`) runs it all, on loopback only:
//! - HTTPS (`tls`): the Platform API (`api`), git smart-HTTP (`git`) and log
//!   sessions (`logs`), every request behind the token;
//! - `build`: a push builds the app in a container from the stack image
//!   (`stack`), Heroku-style, and makes a release image;
//! - `dynos`: keeps the formation running as containers, restarts crashes;
//! - `router`: `http://<app>.localhost:<port>` to the web dynos, with
//!   Heroku's H10/H12/H14 errors and router log lines;
//! - `rendezvous`: the TLS socket `heroku run` attaches to.

pub(crate) mod addons;
pub(crate) mod api;
pub(crate) mod build;
pub(crate) mod data;
pub(crate) mod dynos;
pub(crate) mod git;
pub(crate) mod logs;
pub(crate) mod rendezvous;
pub(crate) mod router;
pub(crate) mod slug;
pub(crate) mod tls;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use bollard::Docker;
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, watch};

use crate::error::{Error, Result};

pub(crate) use fakekit::http::{Body, full};

/// The hidden `heroku-serve` command: the whole fake, on loopback.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServeArgs {
    /// Folder for the platform's state, repositories and certificates.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// Port of the HTTPS API and git (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// Port of the router (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub(crate) router_port: u16,
    /// File to write the bound ports to (JSON), once listening.
    #[arg(long)]
    pub(crate) ready_file: PathBuf,
    /// The API token every request must carry.
    #[arg(long, env = "DEPLOYLAB_HEROKU_TOKEN")]
    pub(crate) token: String,
    /// Label value of every container made (the deploylab home's instance).
    #[arg(long, default_value = "standalone")]
    pub(crate) instance: String,
    /// Docker network dynos run on.
    #[arg(long)]
    pub(crate) network: Option<String>,
    /// The stack images builds and dynos run from, one per Python
    /// (`3.13=IMAGE`), the default Python's first.
    #[arg(long, value_parser = crate::heroku::stack::Stack::parse)]
    pub(crate) stack: Vec<crate::heroku::stack::Stack>,
    /// Folder of offline wheels builds install from when there is no
    /// package proxy.
    #[arg(long)]
    pub(crate) wheels: Option<PathBuf>,
    /// The closed Docker network builds run on, and the address of the
    /// package proxy (on that network) they install from.
    #[arg(long, requires = "package_proxy")]
    pub(crate) build_network: Option<String>,
    #[arg(long, requires = "build_network")]
    pub(crate) package_proxy: Option<crate::packages::Endpoint>,
    /// The PostgreSQL image Heroku Postgres add-ons run.
    #[arg(long)]
    pub(crate) postgres: Option<String>,
}

/// The ports the fake listens on, written to the ready file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Ports {
    pub(crate) api: u16,
    pub(crate) router: u16,
    pub(crate) rendezvous: u16,
}

/// Everything the fake's parts share.
pub(crate) struct Fake {
    pub(crate) dir: PathBuf,
    pub(crate) token: String,
    pub(crate) ports: Ports,
    pub(crate) instance: String,
    /// What builds, dynos and add-ons run with; None in API-only tests
    /// (no stack image, no Docker).
    pub(crate) runtime: Option<Runtime>,
    pub(crate) platform: Mutex<api::Platform>,
    pub(crate) logs: logs::Logs,
    pub(crate) dynos: dynos::Dynos,
    /// Changes to apps, releases or formation asked of the dyno manager
    /// (a count), and how many it has carried out.
    pub(crate) changes: watch::Sender<u64>,
    pub(crate) applied: watch::Sender<u64>,
    pub(crate) sessions: std::sync::Mutex<HashMap<String, logs::Session>>,
    pub(crate) runs: rendezvous::Pending,
}

/// What the fake runs containers with.
pub(crate) struct Runtime {
    pub(crate) docker: Docker,
    /// The stack images builds run on, one per Python, the default's first
    /// (a slug names the one it was built on: its dynos run on it).
    pub(crate) stacks: Vec<crate::heroku::stack::Stack>,
    /// The Docker network dynos and add-ons join (None: Docker's bridge).
    pub(crate) network: Option<String>,
    /// The PostgreSQL image Heroku Postgres add-ons run, if the lab has one.
    pub(crate) postgres: Option<String>,
    /// Where builds install packages from.
    pub(crate) packages: BuildPackages,
}

/// Where builds install packages from.
pub(crate) enum BuildPackages {
    /// The package proxy, on a closed network that reaches it and nothing
    /// else.
    Proxy {
        network: String,
        address: crate::packages::Endpoint,
    },
    /// No network: the offline wheels folder, if there is one.
    Offline { wheels: Option<PathBuf> },
}

impl Fake {
    /// The Docker engine, where the fake runs containers.
    pub(crate) fn docker(&self) -> Option<&Docker> {
        self.runtime.as_ref().map(|r| &r.docker)
    }

    /// `https://localhost:<port>`: where the API and git answer.
    pub(crate) fn api_url(&self) -> String {
        format!("https://localhost:{}", self.ports.api)
    }

    /// A snapshot of every app, taken under the platform's lock.
    pub(crate) async fn apps(&self) -> Vec<api::App> {
        let platform = self.platform.lock().await;
        platform.state.apps.values().cloned().collect()
    }

    pub(crate) fn web_url(&self, app: &str) -> String {
        format!("https://{app}.localhost:{}/", self.ports.router)
    }

    /// Tells the dyno manager that apps, releases or formation changed and
    /// waits until it has acted: old dynos stopped, new ones starting. So
    /// when `heroku ps:scale` or a push returns, `heroku ps` tells the truth.
    pub(crate) async fn apply_changes(&self) {
        if self.runtime.is_none() {
            return;
        }
        let mut wanted = 0;
        self.changes.send_modify(|n| {
            *n += 1;
            wanted = *n;
        });
        let mut applied = self.applied.subscribe();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            applied.wait_for(|n| *n >= wanted),
        )
        .await;
    }

    /// Writes the dynos as they are now to `dynos.json`, for `deploylab
    /// check` (which runs in another process): each app's dynos and the
    /// last line its web processes printed.
    pub(crate) fn save_dynos(&self) {
        let mut records = std::collections::BTreeMap::new();
        for (app, dynos) in self.dynos.all() {
            let filter = logs::Filter {
                source: Some("app".into()),
                dyno: Some("web".into()),
            };
            let last = self.logs.read(&app, &filter, 1).0.pop();
            let last_app_line = last
                .as_deref()
                .and_then(|l| l.split_once("]: "))
                .map(|(_, t)| t.to_string());
            let dynos = dynos
                .iter()
                .map(|d| dynos::DynoRecord {
                    name: d.name.clone(),
                    kind: d.kind.clone(),
                    state: d.state,
                    release: d.release,
                    crash: d.crash,
                })
                .collect();
            records.insert(
                app,
                dynos::AppRecord {
                    dynos,
                    last_app_line,
                },
            );
        }
        dynos::write_records(&self.dir, &records);
    }
}

async fn bind(port: u16) -> Result<tokio::net::TcpListener> {
    // Loopback only: the fake has a token, but no business being reachable.
    tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|_| Error::PortTaken { port })
}

fn port_of(listener: &tokio::net::TcpListener) -> Result<u16> {
    Ok(listener
        .local_addr()
        .map_err(Error::io("reading a listener's address"))?
        .port())
}

pub(crate) async fn serve(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.dir)
        .map_err(Error::io(format!("creating {}", args.dir.display())))?;
    let tls = tls::server_config(&args.dir)?;
    let api_listener = bind(args.port).await?;
    let router_listener = bind(args.router_port).await?;
    let rendezvous_listener = bind(0).await?;
    let ports = Ports {
        api: port_of(&api_listener)?,
        router: port_of(&router_listener)?,
        rendezvous: port_of(&rendezvous_listener)?,
    };
    // Without a stack image (API-only tests) there is no Docker to talk to.
    let runtime = match args.stack.is_empty() {
        false => Some(Runtime {
            docker: crate::docker::connect().await?,
            stacks: args.stack,
            network: args.network,
            postgres: args.postgres,
            packages: match (args.build_network, args.package_proxy) {
                (Some(network), Some(address)) => BuildPackages::Proxy { network, address },
                _ => BuildPackages::Offline { wheels: args.wheels },
            },
        }),
        true => None,
    };
    let platform = api::Platform::load(
        args.dir.join("state.json"),
        args.token.clone(),
        ports.api,
        ports.router,
    );
    let fake = Arc::new(Fake {
        dir: args.dir.clone(),
        token: args.token,
        ports,
        instance: args.instance,
        runtime,
        platform: Mutex::new(platform),
        logs: logs::Logs::default(),
        dynos: dynos::Dynos::default(),
        changes: watch::Sender::new(0),
        applied: watch::Sender::new(0),
        sessions: std::sync::Mutex::new(HashMap::new()),
        runs: rendezvous::Pending::default(),
    });
    let hooks = git::hook_socket(&fake.dir);
    let _ = std::fs::remove_file(&hooks);
    let hook_listener = tokio::net::UnixListener::bind(&hooks)
        .map_err(Error::io(format!("listening on {}", hooks.display())))?;
    tokio::spawn(build::serve_hooks(fake.clone(), hook_listener));
    if fake.runtime.is_some() {
        dynos::remove_leftovers(&fake).await?;
        addons::resume(&fake).await;
        tokio::spawn(dynos::manage(fake.clone()));
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let router_tls = tokio_rustls::TlsAcceptor::from(tls::router_config(&fake.dir)?);
    tokio::spawn(router::serve(fake.clone(), router_listener, router_tls));
    tokio::spawn(rendezvous::serve(
        fake.clone(),
        rendezvous_listener,
        acceptor.clone(),
    ));
    let ready = serde_json::to_string(&ports).expect("ports serialize");
    std::fs::write(&args.ready_file, ready).map_err(Error::io("writing the ready file"))?;
    fakekit::http::serve(
        api_listener,
        fakekit::http::Security::Tls(acceptor),
        MAX_CONNECTIONS,
        move |req, peer| answer(fake.clone(), req, peer),
    )
    .await;
    Ok(())
}

/// One of Heroku's time limits, shortened by an environment variable in
/// tests (a whole number of seconds; anything else: Heroku's own).
pub(crate) fn seconds_from_env(variable: &str, default: u64) -> std::time::Duration {
    let seconds = std::env::var(variable)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    std::time::Duration::from_secs(seconds)
}

/// Connections each of the fake's listeners serves at once.
pub(crate) const MAX_CONNECTIONS: usize = 256;

/// The largest Platform API request body the fake reads (Heroku's config
/// vars are 32 kB per app; every other body is smaller still).
const API_BODY_LIMIT: usize = 1024 * 1024;

fn json_response(status: StatusCode, json: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("request-id", uuid::Uuid::new_v4().to_string())
        .header("ratelimit-remaining", "4500")
        .body(full(json.to_string()))
        .expect("a valid response")
}

/// One HTTPS request: git, a log session's stream, or the Platform API.
async fn answer(
    fake: Arc<Fake>,
    req: Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if git::is_git_path(&path) {
        let response = git::answer(&fake, req).await;
        tracing::info!("{peer} git {method} {path} -> {}", response.status());
        return response;
    }
    if let Some(id) = path.strip_prefix("/log-sessions/") {
        // The session's id is its secret, as Logplex URLs are: the CLI
        // sends no token there.
        return logs::stream(&fake, id);
    }
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header(hyper::header::AUTHORIZATION);
    let range = header(hyper::header::RANGE);
    // The token first, from the headers: a request without it is answered
    // before its body is read.
    if !fake
        .platform
        .lock()
        .await
        .authorized(authorization.as_deref())
    {
        let (status, json) = api::unauthorized();
        tracing::info!("{peer} {method} {path} -> {}", status.as_u16());
        return json_response(status, &json);
    }
    let Some(body) = fakekit::http::read_body(req.into_body(), API_BODY_LIMIT).await else {
        let (status, json) = api::too_large();
        tracing::info!("{peer} {method} {path} -> {}", status.as_u16());
        return json_response(status, &json);
    };
    let answered = match addons::answer(&fake, &method, &path, &body).await {
        Some(answer) => Some(answer),
        None => match data::answer(&fake, &method, &path, &body).await {
            Some(answer) => Some(answer),
            None => dynos::answer(&fake, &method, &path, authorization.as_deref(), &body).await,
        },
    };
    // Everything but dynos and log sessions is the platform's bookkeeping.
    let (status, json) = match answered {
        Some(answer) => answer,
        None => fake.platform.lock().await.handle(
            &method,
            &path,
            authorization.as_deref(),
            range.as_deref(),
            &body,
        ),
    };
    if method != Method::GET && status.is_success() {
        api_log(&fake, &method, &path, &json);
        fake.apply_changes().await;
    }
    tracing::info!("{peer} {method} {path} -> {}", status.as_u16());
    json_response(status, &json)
}

/// `app[api]` lines, as Heroku writes them for changes made through the API.
fn api_log(fake: &Fake, method: &Method, path: &str, json: &serde_json::Value) {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let line = match (method, segments.as_slice()) {
        (&Method::PATCH, ["apps", app, "config-vars"]) => Some((
            app.to_string(),
            "Set config vars by user student@deploylab.test".to_string(),
        )),
        (&Method::POST, ["apps", app, "releases"]) => Some((
            app.to_string(),
            format!(
                "{} by user student@deploylab.test",
                json["description"].as_str().unwrap_or("Rollback")
            ),
        )),
        (&Method::PATCH, ["apps", app, "formation", ..]) => Some((
            app.to_string(),
            "Scaled by user student@deploylab.test".to_string(),
        )),
        _ => None,
    };
    if let Some((app, line)) = line {
        fake.logs.add(&app, "app", "api", &line);
    }
}
