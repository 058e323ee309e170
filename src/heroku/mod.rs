//! The local fake Heroku (`../shared/design/fake-heroku.md`): only Heroku's
//! control plane is fake; builds and dynos will be real containers. This is
//! its foundation: the HTTPS listener with a local CA (`tls`) and the
//! Platform API (`api`), driven in tests by the real heroku CLI. Builds, git
//! push, dynos, the router and `deploylab start heroku` come next.

pub mod api;
pub mod tls;

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// The hidden `heroku-api` command: serves the Platform API on loopback.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Folder for the platform's state and certificates.
    #[arg(long)]
    pub dir: PathBuf,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// File to write the bound port to, once listening.
    #[arg(long)]
    pub ready_file: PathBuf,
    /// The API token every request must carry.
    #[arg(long, env = "DEPLOYLAB_HEROKU_TOKEN")]
    pub token: String,
    /// The router's port, for apps' web URLs.
    #[arg(long, default_value_t = 5080)]
    pub router_port: u16,
}

pub async fn serve(args: ServeArgs) -> Result<()> {
    let tls = tls::server_config(&args.dir)?;
    // Loopback only: the fake has a token, but no business being reachable.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .await
        .map_err(|_| Error::PortTaken { port: args.port })?;
    let port = listener
        .local_addr()
        .map_err(Error::io("reading the API's address"))?
        .port();
    let platform = Arc::new(Mutex::new(api::Platform::load(
        args.dir.join("state.json"),
        args.token.clone(),
        port,
        args.router_port,
    )));
    std::fs::write(&args.ready_file, format!("{port}\n"))
        .map_err(Error::io("writing the ready file"))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let platform = platform.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let platform = platform.clone();
                async move { Ok::<_, Infallible>(answer(platform, req, peer).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    platform: Arc<Mutex<api::Platform>>,
    req: Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header(hyper::header::AUTHORIZATION);
    let range = header(hyper::header::RANGE);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (status, json) = platform.lock().await.handle(
        &method,
        &path,
        authorization.as_deref(),
        range.as_deref(),
        &body,
    );
    tracing::info!("{peer} {method} {path} -> {}", status.as_u16());
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("request-id", uuid::Uuid::new_v4().to_string())
        .header("ratelimit-remaining", "4500")
        .body(Full::new(Bytes::from(json.to_string())))
        .expect("a valid response")
}
