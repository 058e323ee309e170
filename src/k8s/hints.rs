//! The words k8s hints may say (`{{deployment}}`, …): the student's own
//! names, from the cluster, or the course's where there is nothing yet.

use super::facts::Facts;

pub(super) const WORDS: &[&str] = &["deployment", "service", "image", "namespace"];

pub(super) fn words(facts: &Facts) -> Vec<(&'static str, String)> {
    let apps = facts.app_deployments();
    let first = apps.first();
    let deployment = first.map_or("blog".to_string(), |d| super::checks::name(d).to_string());
    let namespace = first
        .and_then(|d| d.metadata.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let image = first
        .and_then(|d| d.spec.as_ref()?.template.spec.as_ref()?.containers.first()?.image.clone())
        .unwrap_or_else(|| "blog:1".into());
    let service = first
        .and_then(|d| super::checks::services_of(facts, d).first()?.metadata.name.clone())
        .unwrap_or_else(|| deployment.clone());
    vec![
        ("deployment", deployment),
        ("service", service),
        ("image", image),
        ("namespace", namespace),
    ]
}
