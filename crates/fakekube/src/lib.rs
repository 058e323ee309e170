//! The built-in single-node Kubernetes cluster: an API server the real
//! `kubectl` (and kube-rs) drive, the controllers that turn Deployments
//! into ReplicaSets and Pods with Kubernetes' own rolling-update rules,
//! and a kubelet whose pods are Docker containers running the student's
//! real image.
//!
//! Only the control plane is deploylab's. What it stores are the real
//! shapes: every object goes through its `k8s-openapi` type on the way in
//! (unknown fields are refused as the real server refuses them), gets the
//! real defaults, and is kept as JSON with a resourceVersion, so `kubectl
//! get -o yaml` shows what a real cluster would.
//!
//! - [`resources`]: the kinds served, discovery and the OpenAPI documents.
//! - [`store`]: objects, resourceVersions, watches.
//! - [`admit`]: decoding, defaults, validation, the pod security rules.
//! - [`patch`]: strategic-merge, JSON-merge and JSON patches.
//! - [`protobuf`]: the few objects kubectl sends as protobuf.
//! - [`api`]: the HTTP API (CRUD, watch, scale, logs, proxies).
//! - [`table`]: what `kubectl get` prints (server-side Tables).
//! - [`controllers`]: Deployment, ReplicaSet, endpoints, garbage collection.
//! - [`kubelet`]: pods as containers, probes, restarts.
//! - [`exec`]: `kubectl exec` over WebSocket.
//! - [`kubeproxy`]: Services inside the cluster, by DNS name and port.
//! - [`nodeport`]: NodePort Services answering on the host.

pub mod admit;
pub mod api;
pub mod controllers;
pub mod exec;
pub mod kubelet;
pub mod kubeproxy;
pub mod nodeport;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod selector;
pub mod store;
pub mod table;
pub mod time;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// What the cluster is told when it starts (the lab decides all of it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// The cluster's own folder: its CA, certificates and volumes' files.
    pub dir: PathBuf,
    /// The API server's port on loopback.
    pub port: u16,
    /// The bearer token clients must present (kubeconfig's user).
    pub token: String,
    /// The Docker network pods run on.
    pub network: String,
    /// Where pods' ports are published for probes, proxies and NodePorts.
    pub publish_host: IpAddr,
    /// Labels on everything the kubelet creates in Docker (so the lab
    /// removes it all by label).
    pub labels: HashMap<String, String>,
    /// Prefix of the names of the kubelet's containers.
    pub name_prefix: String,
    /// Where to write the port the API listens on once it serves (the
    /// parent's readiness signal).
    pub ready: Option<PathBuf>,
    /// An image with python3 for the Services' forwarders (None: pods
    /// reach no Service by name).
    pub proxy_image: Option<String>,
}

/// What went wrong starting the cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("port {port} is taken")]
    PortTaken { port: u16 },
    #[error(transparent)]
    Kit(#[from] fakekit::Error),
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        source: std::io::Error,
    },
    #[error("the Docker engine: {0}")]
    Docker(#[from] bollard::errors::Error),
}

/// The cluster's shared parts.
pub struct Cluster {
    pub config: Config,
    pub store: store::Store,
    pub kubelet: kubelet::Kubelet,
    pub nodeports: nodeport::NodePorts,
}

/// The name of the one node.
pub const NODE: &str = "deploylab-control-plane";

/// Serves the cluster until the process ends.
pub async fn serve(config: Config, docker: bollard::Docker) -> Result<(), Error> {
    let mut config = config;
    let address = SocketAddr::from(([127, 0, 0, 1], config.port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => Error::PortTaken { port: config.port },
            _ => Error::Io {
                context: "listening for the API",
                source: e,
            },
        })?;
    config.port = listener
        .local_addr()
        .map_err(|e| Error::Io {
            context: "listening for the API",
            source: e,
        })?
        .port();
    let tls = fakekit::tls::server_config(&config.dir)?;
    let gateway = kubelet::gateway(&docker, &config.network).await?;
    let cluster = Arc::new(Cluster {
        store: store::Store::new(),
        kubelet: kubelet::Kubelet::new(docker, gateway),
        nodeports: nodeport::NodePorts::default(),
        config,
    });
    cluster.store.bootstrap();
    tokio::spawn(controllers::run(cluster.clone()));
    tokio::spawn(kubelet::run(cluster.clone()));
    tokio::spawn(nodeport::run(cluster.clone()));
    tokio::spawn(kubeproxy::run(cluster.clone()));
    if let Some(ready) = &cluster.config.ready {
        fakekit::store::write_atomically(ready, cluster.config.port.to_string().as_bytes())?;
    }
    let security = fakekit::http::Security::Tls(tokio_rustls::TlsAcceptor::from(tls));
    fakekit::http::serve(listener, security, 256, move |req, _peer| {
        api::handle(cluster.clone(), req)
    })
    .await;
    Ok(())
}
