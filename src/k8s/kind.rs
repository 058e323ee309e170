//! The kind backend: a real Kubernetes cluster in a Docker container
//! (https://kind.sigs.k8s.io), where the `kind` tool is installed and its
//! node image is in the engine (or, when asked for by name, pullable).
//! The student's kubectl and the checks reach it through the kubeconfig
//! kind writes; images built locally reach its node with `kind load
//! docker-image`, as on any kind cluster.
//!
//! Not proven here: these machines have no kind, no node image and no
//! registry to pull one from (the README says so).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The repository of kind's node images.
const NODE_IMAGE: &str = "kindest/node";

/// Why kind does not serve the lab here (said by `start` and `doctor`).
pub(crate) mod why {
    pub(crate) const NOT_INSTALLED: &str = "kind is not installed";
    pub(crate) const NO_NODE_IMAGE: &str =
        "kind's node image (kindest/node) is not in the engine, and a classroom may have no registry to pull it from";
}

/// A kind cluster the lab made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Kind {
    /// kind's name of the cluster (its node container is `<name>-control-plane`).
    pub(crate) name: String,
    /// The lab's folder for it: the kubeconfig kind writes.
    pub(crate) dir: PathBuf,
}

/// The node image to use when kind can serve the lab without a registry:
/// kind installed and a node image in the engine; else why not.
pub(crate) fn usable() -> std::result::Result<String, &'static str> {
    crate::images::which("kind").ok_or(why::NOT_INSTALLED)?;
    let listed = Command::new("docker")
        .args(["images", NODE_IMAGE, "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
        .map_err(|_| why::NO_NODE_IMAGE)?;
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.ends_with(":<none>"))
        .map(String::from)
        .ok_or(why::NO_NODE_IMAGE)
}

/// Creates the cluster `name` (kind pulls its default node image when
/// `image` is None).
pub(crate) fn start(name: &str, dir: &Path, image: Option<&str>) -> Result<Kind> {
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let kind = Kind {
        name: name.to_string(),
        dir: dir.to_path_buf(),
    };
    // A cluster of this name left by an earlier run goes first.
    stop(&kind);
    let mut create = Command::new("kind");
    create
        .args(["create", "cluster", "--name", name, "--wait", "180s", "--kubeconfig"])
        .arg(kind.kubeconfig());
    if let Some(image) = image {
        create.args(["--image", image]);
    }
    run(create, "creating the kind cluster")?;
    Ok(kind)
}

impl Kind {
    pub(crate) fn kubeconfig(&self) -> PathBuf {
        super::cluster::kubeconfig_path(&self.dir)
    }

    /// The node's container (where its images are).
    pub(crate) fn node(&self) -> String {
        format!("{}-control-plane", self.name)
    }

    pub(crate) fn is_running(&self) -> bool {
        Command::new("docker")
            .args(["container", "inspect", "-f", "{{.State.Running}}", &self.node()])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
    }

    /// Whether the node has `image` (as containerd names it:
    /// `blog:1` is `docker.io/library/blog:1`).
    pub(crate) fn has_image(&self, image: &str) -> bool {
        let listed = Command::new("docker")
            .args(["exec", &self.node(), "crictl", "images", "-o", "json"])
            .output();
        let Ok(listed) = listed else {
            return false;
        };
        let tags: Vec<String> = serde_json::from_slice::<serde_json::Value>(&listed.stdout)
            .ok()
            .and_then(|v| v["images"].as_array().cloned())
            .into_iter()
            .flatten()
            .flat_map(|i| i["repoTags"].as_array().cloned().unwrap_or_default())
            .filter_map(|t| t.as_str().map(String::from))
            .collect();
        tags.contains(&containerd_name(image))
    }
}

/// An image reference as containerd writes it.
pub(crate) fn containerd_name(image: &str) -> String {
    let tagged = match image.rsplit('/').next().is_some_and(|last| last.contains(':') || last.contains('@')) {
        true => image.to_string(),
        false => format!("{image}:latest"),
    };
    let first = tagged.split('/').next().unwrap_or_default();
    let has_registry = tagged.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    match (has_registry, tagged.contains('/')) {
        (true, _) => tagged,
        (false, true) => format!("docker.io/{tagged}"),
        (false, false) => format!("docker.io/library/{tagged}"),
    }
}

/// Deletes the cluster (nothing when it is gone).
pub(crate) fn stop(kind: &Kind) {
    let _ = Command::new("kind")
        .args(["delete", "cluster", "--name", &kind.name, "--kubeconfig"])
        .arg(kind.kubeconfig())
        .output();
}

fn run(mut command: Command, context: &str) -> Result<()> {
    let out = command.output().map_err(Error::io(context.to_string()))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(Error::Program {
            context: context.to_string(),
            program: "kind",
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_read_as_containerd_writes_them() {
        for (image, named) in [
            ("blog:1", "docker.io/library/blog:1"),
            ("blog", "docker.io/library/blog:latest"),
            ("me/blog:2", "docker.io/me/blog:2"),
            ("localhost:5000/blog:3", "localhost:5000/blog:3"),
            ("registry.example.org/team/blog:4", "registry.example.org/team/blog:4"),
        ] {
            assert_eq!(containerd_name(image), named, "{image}");
        }
    }
}
