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
    use std::path::Path;

    pub(super) const NO_MACHINE: &str = "the k8s lab has no VM: your pods run as containers on your own Docker engine (`kubectl exec deploy/<name> -- sh` opens a shell in one).";
    pub(super) const NO_REPO: &str =
        "here your own folder is the work: run start in it, or give it with --dir";
    pub(super) const NO_PORTS: &str = "the cluster's ports are its own (the API's is in the kubeconfig; NodePorts answer on 127.0.0.1)";
    pub(super) const ALIVE: &str = "running";
    pub(super) const DEAD: &str = "stopped (`start` again)";
    pub(super) const NO_KIND: &str = "kind is not installed here (https://kind.sigs.k8s.io): use the built-in cluster (--backend builtin, the default without kind)";

    pub(super) fn place(dir: &Path) -> String {
        format!("built-in cluster, {}", dir.display())
    }

    pub(super) fn builtin(server: &str, why: Option<&str>) -> String {
        let why = why.map_or(String::new(), |w| format!("; kind was not used: {w}"));
        format!(
            "deploylab's built-in single-node cluster answers at {server}\n(your pods run as containers on your Docker engine{why})."
        )
    }

    pub(super) fn kind(name: &str) -> String {
        format!(
            "a kind cluster, `{name}`.\nImages you build reach its node with `kind load docker-image IMAGE --name {name}`."
        )
    }

    pub(super) fn ready(dir: &Path, kubeconfig: &Path, cluster: &str, standins: &str, proxy: &str) -> String {
        format!(
            "The k8s lab is ready for {dir}: {cluster}\n\
             \nPoint kubectl at it in your shell:\n\n  eval \"$(deploylab k8s env)\"     # export KUBECONFIG={kubeconfig}\n  kubectl get nodes\n\
             \nOffline stand-ins for the official images (made by deploylab from Debian's packages):\n{standins}\
             `pip install` in a Dockerfile asks deploylab's package proxy at {proxy}.\n\
             \nNext, in {dir}: build your image with a tag (`docker build -t blog:1 .`), write a Deployment\n\
             and a Service, `kubectl apply -f` them, then `kubectl rollout status deployment/<name>`.\n\
             `deploylab check` checks the cluster through its API; `deploylab stop` removes it.",
            dir = dir.display(),
            kubeconfig = kubeconfig.display(),
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
