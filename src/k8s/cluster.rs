//! The built-in cluster as the lab runs it: `deploylab k8s-serve` (the
//! `fakekube` API server, controllers and kubelet) as a background process
//! of its own, a network for its pods, and the kubeconfig the student's
//! kubectl and deploylab's checks use.

use std::path::{Path, PathBuf};

use bollard::Docker;
use serde::{Deserialize, Serialize};

use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE};
use crate::error::{Error, Result};

/// The server's (hidden) subcommand, by which its process is recognised.
pub(crate) const SUBCOMMAND: &str = "k8s-serve";

/// The kubeconfig's names for the cluster, its user and the context.
pub(crate) const CONTEXT: &str = "deploylab";
const USER: &str = "deploylab-student";

/// The lab's cluster, by backend.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub(crate) enum Cluster {
    Builtin(Builtin),
    Kind(super::kind::Kind),
}

impl Cluster {
    /// The kubeconfig the student's kubectl and the checks use.
    pub(crate) fn kubeconfig(&self) -> PathBuf {
        match self {
            Cluster::Builtin(b) => b.kubeconfig(),
            Cluster::Kind(k) => k.kubeconfig(),
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        match self {
            Cluster::Builtin(b) => b.is_running(),
            Cluster::Kind(k) => k.is_running(),
        }
    }

    /// Where its API answers, as `status` shows it.
    pub(crate) fn api(&self) -> String {
        match self {
            Cluster::Builtin(b) => format!("https://127.0.0.1:{}", b.port),
            Cluster::Kind(k) => format!("kind cluster {}", k.name),
        }
    }

    pub(crate) fn stop(&self) {
        match self {
            Cluster::Builtin(b) => stop(b),
            Cluster::Kind(k) => super::kind::stop(k),
        }
    }

    /// Whether the cluster has `image` where its pods get theirs.
    pub(crate) async fn has_image(&self, docker: &Docker, image: &str) -> bool {
        match self {
            Cluster::Builtin(b) => {
                let local = fakekube::kubelet::resolve_image(&b.dir, image);
                docker.inspect_image(&local).await.is_ok()
            }
            Cluster::Kind(k) => k.has_image(image),
        }
    }
}

/// What runs of the built-in cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Builtin {
    pub(crate) pid: u32,
    pub(crate) port: u16,
    /// The Docker network its pods run on.
    pub(crate) network: String,
    /// Its folder: CA, certificates, the kubeconfig, pods' volumes.
    pub(crate) dir: PathBuf,
}

impl Builtin {
    pub(crate) fn kubeconfig(&self) -> PathBuf {
        kubeconfig_path(&self.dir)
    }

    pub(crate) fn is_running(&self) -> bool {
        crate::background::is_running(self.pid, SUBCOMMAND)
    }
}

pub(crate) fn kubeconfig_path(dir: &Path) -> PathBuf {
    dir.join("kubeconfig")
}

/// Starts the built-in cluster for `lab` of this `instance`, in `dir`.
/// `proxy_image`: an image with python3 (the Python stand-in) for the
/// Services' forwarders.
pub(crate) async fn start(
    docker: &Docker,
    instance: &str,
    lab: &str,
    dir: &Path,
    proxy_image: Option<String>,
) -> Result<Builtin> {
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let network = crate::docker::create_network(docker, instance, lab).await?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let ready = dir.join("ready");
    let _ = std::fs::remove_file(&ready);
    let config = fakekube::Config {
        dir: dir.to_path_buf(),
        port: 0,
        token: token.clone(),
        network: network.clone(),
        publish_host: crate::docker::published_host(),
        labels: [
            (LABEL_LAB.to_string(), lab.to_string()),
            (LABEL_INSTANCE.to_string(), instance.to_string()),
            (LABEL_ROLE.to_string(), "pod".to_string()),
        ]
        .into(),
        name_prefix: format!("deploylab-{lab}-{}", crate::docker::short(instance)),
        ready: Some(ready.clone()),
        proxy_image,
    };
    // The token is the cluster's one credential: in a file only its owner
    // reads, never on a command line.
    let config_file = dir.join("server.json");
    fakekit::write_private(&config_file, &serde_json::to_vec(&config).expect("encodes"))
        .map_err(Error::io(format!("writing {}", config_file.display())))?;
    let mut cmd = crate::background::command(SUBCOMMAND)?;
    cmd.arg("--config").arg(&config_file);
    let log = dir.join("server.log");
    let (pid, port) = crate::background::start(cmd, "the built-in Kubernetes API server", &ready, &log, |text| {
        text.trim().parse::<u16>().ok()
    })
    .await?;
    let running = Builtin {
        pid,
        port,
        network,
        dir: dir.to_path_buf(),
    };
    write_kubeconfig(&running, &token)?;
    Ok(running)
}

/// Stops the server (its pods' containers go with the lab's labels).
pub(crate) fn stop(running: &Builtin) {
    crate::background::stop(running.pid, SUBCOMMAND);
}

fn write_kubeconfig(running: &Builtin, token: &str) -> Result<()> {
    use base64::Engine;
    let ca = std::fs::read(fakekit::tls::ca_path(&running.dir))
        .map_err(Error::io("reading the cluster's CA"))?;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {CONTEXT}\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {ca}\nusers:\n- name: {USER}\n  user:\n    token: {token}\ncontexts:\n- name: {CONTEXT}\n  context:\n    cluster: {CONTEXT}\n    user: {USER}\n    namespace: default\ncurrent-context: {CONTEXT}\npreferences: {{}}\n",
        port = running.port
    );
    fakekit::write_private(&running.kubeconfig(), text.as_bytes())
        .map_err(Error::io("writing the kubeconfig"))
}

/// `deploylab k8s-serve --config FILE`: the server itself.
pub(crate) async fn serve(config_file: &Path) -> Result<()> {
    let text = std::fs::read(config_file).map_err(Error::io(format!("reading {}", config_file.display())))?;
    let config: fakekube::Config = serde_json::from_slice(&text).map_err(|e| Error::Io {
        context: format!("reading {}", config_file.display()),
        source: std::io::Error::other(e),
    })?;
    let docker = crate::docker::connect().await?;
    fakekube::serve(config, docker).await.map_err(|e| match e {
        fakekube::Error::PortTaken { port } => Error::PortTaken { port },
        other => Error::Io {
            context: "serving the built-in cluster".into(),
            source: std::io::Error::other(other.to_string()),
        },
    })
}
