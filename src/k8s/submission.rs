//! The k8s lab's work as a submission, and back: the student's repository
//! (the app folder, as the container lab hands it in), the objects they
//! applied to the cluster (each as kubectl last applied it), and the app's
//! image tags. `grade` builds those tags again from the repository's
//! Dockerfile on a fresh built-in cluster, applies the objects in the
//! order a cluster needs them, and waits for the rollouts before the
//! checks run.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::compose::submission::ContainerWork;
use crate::error::Result;

/// How long `grade` waits for a build, and for the rollouts.
const BUILD_WITHIN: Duration = Duration::from_secs(900);
const ROLLOUT_WITHIN: Duration = Duration::from_secs(180);

/// The kinds handed in, in the order they are applied again.
const KINDS: &[&str] = &["Namespace", "Secret", "ConfigMap", "Service", "Deployment", "Pod"];

mod text {
    use crate::i18n::tr;

    pub(super) fn built(image: &str) -> String {
        tr!("notes-k8s-built", image = image)
    }
    pub(super) fn not_built(image: &str, why: &str) -> String {
        tr!("notes-k8s-not-built", image = image, why = why)
    }
    pub(super) fn applied(count: usize) -> String {
        tr!("notes-k8s-applied", count = count)
    }
    pub(super) fn refused(what: &str, why: &str) -> String {
        tr!("notes-k8s-refused", what = what, why = why)
    }
    pub(super) fn not_rolled_out() -> String {
        tr!("notes-k8s-not-rolled-out")
    }
}

/// What a submission says of the work besides its files.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct K8sWork {
    pub(crate) repo: ContainerWork,
    /// What the student applied, in the order to apply it again.
    pub(crate) objects: Vec<Value>,
    /// The app's images, to build again from the repository.
    pub(crate) images: Vec<String>,
}

/// The app folder, and what the cluster holds of the student's.
pub(crate) async fn capture(dir: &Path, kubeconfig: &Path) -> Result<(K8sWork, Vec<u8>)> {
    let (repo, files) = crate::compose::submission::capture(dir)?;
    let facts = super::facts::gather_objects(kubeconfig).await;
    let mut objects = Vec::new();
    for kind in KINDS {
        for object in facts.iter().filter(|o| o["kind"] == *kind) {
            if let Some(applied) = as_applied(object) {
                objects.push(applied);
            }
        }
    }
    let images = super::facts::app_images(kubeconfig).await;
    Ok((K8sWork { repo, objects, images }, files))
}

/// An object as its author wrote it: kubectl's last-applied configuration
/// where there is one, else its own fields without what the server adds.
fn as_applied(object: &Value) -> Option<Value> {
    let name = object["metadata"]["name"].as_str()?;
    let generated = name == "kubernetes" && object["kind"] == "Service"
        || name == "kube-root-ca.crt"
        || object["metadata"]["ownerReferences"].is_array()
        || matches!(object["type"].as_str(), Some(t) if t.starts_with("kubernetes.io/service-account"))
        || object["kind"] == "Namespace" && matches!(name, "default" | "kube-system" | "kube-public" | "kube-node-lease");
    if generated {
        return None;
    }
    let annotation = object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].as_str();
    if let Some(applied) = annotation.and_then(|a| serde_json::from_str::<Value>(a).ok()) {
        return Some(applied);
    }
    let mut own = json!({"apiVersion": object["apiVersion"], "kind": object["kind"],
        "metadata": {"name": name, "namespace": object["metadata"]["namespace"],
                     "labels": object["metadata"]["labels"], "annotations": object["metadata"]["annotations"]}});
    for field in ["spec", "data", "binaryData", "type"] {
        if !object[field].is_null() {
            own[field] = object[field].clone();
        }
    }
    if let Some(spec) = own["spec"].as_object_mut() {
        // What the server allocated is allocated again.
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    Some(own)
}

/// Whose builds a grade makes (removed with the lab).
pub(crate) struct Labels {
    pub(crate) instance: String,
    pub(crate) lab: String,
}

/// The tag a graded build of `image` gets: its own, so submissions graded
/// side by side never share one (the cluster maps the student's name to
/// it).
fn graded_tag(instance: &str, image: &str) -> String {
    let clean: String = image
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' })
        .collect();
    format!("deploylab/graded-{}-{clean}:built", crate::docker::short(instance))
}

/// Builds the images, applies the objects, waits for the rollouts; notes
/// for the instructor.
pub(crate) async fn restore(
    dir: &Path,
    cluster: &super::cluster::Builtin,
    labels: &Labels,
    work: &K8sWork,
) -> Vec<String> {
    let kubeconfig = cluster.kubeconfig();
    let kubeconfig = kubeconfig.as_path();
    let mut notes = Vec::new();
    let mut aliases = std::collections::BTreeMap::new();
    for image in &work.images {
        let tag = graded_tag(&labels.instance, image);
        let mut build = tokio::process::Command::new("docker");
        build
            .args(["build", "-q", "-t", &tag])
            .arg("--label")
            .arg(format!("{}={}", crate::docker::LABEL_INSTANCE, labels.instance))
            .arg("--label")
            .arg(format!("{}={}", crate::docker::LABEL_LAB, labels.lab))
            .arg(".")
            .current_dir(dir);
        aliases.insert(image.clone(), tag);
        match crate::compose::output_within(build, BUILD_WITHIN, "timed out").await {
            Ok(out) if out.status.success() => notes.push(text::built(image)),
            Ok(out) => {
                let tail: String = String::from_utf8_lossy(&out.stderr).lines().rev().take(5).collect::<Vec<_>>().join(" / ");
                notes.push(text::not_built(image, &tail));
            }
            Err(why) => notes.push(text::not_built(image, &why)),
        }
    }
    if let Err(e) = fakekube::kubelet::write_image_aliases(&cluster.dir, &aliases) {
        notes.push(e);
    }
    let refused = super::facts::apply(kubeconfig, &work.objects).await;
    notes.push(text::applied(work.objects.len() - refused.len()));
    notes.extend(refused.iter().map(|(what, why)| text::refused(what, why)));
    if !super::facts::await_rollouts(kubeconfig, ROLLOUT_WITHIN).await {
        notes.push(text::not_rolled_out());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_handed_in_as_last_applied_and_generated_ones_left_out() {
        let applied = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "blog"}, "spec": {"replicas": 2}});
        let stored = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "blog", "namespace": "default", "uid": "u",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied.to_string()}},
            "spec": {"replicas": 3}, "status": {"replicas": 3}});
        assert_eq!(as_applied(&stored), Some(applied));
        let created = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "default"},
            "spec": {"clusterIP": "10.96.0.11", "ports": [{"port": 5432}]}});
        let own = as_applied(&created).unwrap();
        assert!(own["spec"]["clusterIP"].is_null());
        assert!(own["status"].is_null());
        let kubernetes = json!({"kind": "Service", "metadata": {"name": "kubernetes"}});
        assert!(as_applied(&kubernetes).is_none());
        let pod = json!({"kind": "Pod", "metadata": {"name": "blog-x", "ownerReferences": [{"uid": "r"}]}});
        assert!(as_applied(&pod).is_none());
    }
}
