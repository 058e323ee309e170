//! The k8s lab (course section 5): the student's image, a Deployment and
//! a Service, applied with the real kubectl to a local cluster. The
//! cluster is deploylab's built-in one (`fakekube`: its own API server,
//! controllers and a kubelet whose pods are Docker containers running the
//! student's image), run as a background process of its own
//! (`cluster.rs`); the student's kubectl reaches it through the kubeconfig
//! `deploylab k8s env` points at. As in the container lab, the student
//! builds the image on their own engine from the offline stand-ins, with
//! `pip install` through the package proxy.
//!
//! Checks read the cluster through the Kubernetes API with kube-rs
//! (`facts.rs`) and judge purely (`checks.rs`).

pub(crate) mod checks;
pub(crate) mod cli;
pub(crate) mod cluster;
pub(crate) mod facts;
#[cfg(test)]
mod fixtures;
mod hints;
pub(crate) mod kind;
mod lab;
pub(crate) mod submission;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::compose::StandIn;

pub(crate) const LAB: &str = "k8s";

/// Messages of the k8s lab, kept together for translation.
mod text {
    use crate::i18n::tr;

    use std::path::Path;

    pub(super) fn no_machine() -> String {
        tr!("k8s-start-no-machine")
    }
    pub(super) fn no_repo() -> String {
        tr!("k8s-start-no-repo")
    }
    pub(super) fn no_ports() -> String {
        tr!("k8s-start-no-ports")
    }
    pub(super) fn alive() -> String {
        tr!("k8s-start-alive")
    }
    pub(super) fn dead() -> String {
        tr!("k8s-start-dead")
    }
    pub(super) fn no_kind() -> String {
        tr!("k8s-start-no-kind")
    }

    pub(super) fn place(dir: &Path) -> String {
        tr!("k8s-place", dir = dir.display())
    }

    pub(super) fn builtin(server: &str, why: Option<&str>) -> String {
        let why = why.map_or(String::new(), |w| tr!("k8s-kind-not-used", why = w));
        format!(
            "{}\n({}).",
            tr!("k8s-builtin", server = server),
            tr!("k8s-builtin-pods", why = why)
        )
    }

    pub(super) fn kind(name: &str) -> String {
        format!("{}\n{}", tr!("k8s-kind", name = name), tr!("k8s-kind-load", name = name))
    }

    pub(super) fn ready(dir: &Path, kubeconfig: &Path, cluster: &str, standins: &str, proxy: &str) -> String {
        let dir = dir.display();
        format!(
            "{}\n\n{}\n\n  eval \"$(deploylab k8s env)\"     # export KUBECONFIG={}\n  kubectl get nodes\n\n{}\n{standins}{}\n\n{}\n{}\n{}",
            tr!("k8s-ready", dir = dir, cluster = cluster),
            tr!("k8s-ready-env"),
            kubeconfig.display(),
            tr!("ready-standins"),
            tr!("k8s-ready-pip", proxy = proxy),
            tr!("k8s-ready-next", dir = dir),
            tr!("k8s-ready-apply"),
            tr!("k8s-ready-check"),
        )
    }
}

/// The k8s lab's environment.
pub(crate) struct K8s;

/// What `start` leaves: the cluster, the app folder, the proxy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Running {
    pub(crate) lab: String,
    /// The student's app folder (absolute).
    pub(crate) dir: PathBuf,
    /// The lab's own folder in the deploylab home.
    pub(crate) work: PathBuf,
    pub(crate) cluster: cluster::Cluster,
    /// Why the built-in cluster serves the lab rather than kind (None:
    /// kind does, or the student asked for the built-in one).
    pub(crate) why_builtin: Option<String>,
    pub(crate) proxy_pid: Option<u32>,
    pub(crate) proxy: Option<crate::packages::Endpoint>,
    pub(crate) standins: Vec<StandIn>,
    /// What the environment was built from (the VM image's hash).
    pub(crate) recipe: String,
    pub(crate) started_at: u64,
}
