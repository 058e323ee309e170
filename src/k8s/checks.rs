//! The k8s lab's check kinds and their judgement, pure, from the API
//! objects in `facts.rs` (`k8s-openapi` types, whichever backend served
//! them). The rollout rule is kubectl's own (`rollout status`); a pod of
//! an old ReplicaSet never counts as the Deployment's.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, Pod, Service};
use serde::Deserialize;

use super::facts::Facts;
use crate::i18n::tr;
use crate::verdict::{Outcome, Verdict};

/// What the checks observe, in words of their own, kept together for
/// translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn no_cluster() -> String {
        tr!("k8s-no-cluster")
    }
    pub(super) fn no_deployment() -> String {
        tr!("k8s-no-deployment")
    }
    pub(super) fn no_service() -> String {
        tr!("k8s-no-service")
    }
    pub(super) fn waiting_observed(name: &str) -> String {
        tr!("k8s-waiting-observed", name = name)
    }
    pub(super) fn deadline(name: &str) -> String {
        tr!("k8s-deadline", name = name)
    }
    pub(super) fn not_updated(name: &str, updated: i32, replicas: i32) -> String {
        tr!("k8s-not-updated", name = name, updated = updated, replicas = replicas)
    }
    pub(super) fn old_pending(name: &str, old: i32) -> String {
        tr!("k8s-old-pending", name = name, old = old)
    }
    pub(super) fn not_available(name: &str, available: i32, updated: i32) -> String {
        tr!("k8s-not-available", name = name, available = available, updated = updated)
    }
    pub(super) fn rolled_out(name: &str) -> String {
        tr!("k8s-rolled-out", name = name)
    }
    pub(super) fn pull_back_off(image: &str, policy: &str) -> String {
        tr!("k8s-pull-back-off", image = image, policy = policy)
    }
    pub(super) fn missing_image(image: &str) -> String {
        tr!("k8s-missing-image", image = image)
    }
    pub(super) fn crash_loop(pod: &str, restarts: i32, log: &str) -> String {
        let lines: Vec<&str> = log.trim().lines().collect();
        let last = lines[lines.len().saturating_sub(3)..].join("\n");
        let log = match last.is_empty() {
            true => String::new(),
            false => format!("; its last lines:\n{last}"),
        };
        format!("pod {pod} is in CrashLoopBackOff ({restarts} restarts): it exits soon after it starts (`kubectl logs {pod} --previous`){log}")
    }
    pub(super) fn not_ready(pod: &str, why: &str) -> String {
        tr!("k8s-not-ready", pod = pod, why = why)
    }
    pub(super) fn no_endpoints(service: &str) -> String {
        tr!("k8s-no-endpoints", service = service)
    }
    pub(super) fn disallowed(service: &str) -> String {
        tr!("k8s-disallowed", service = service)
    }
    pub(super) fn target_port(service: &str, why: &str) -> String {
        tr!("k8s-target-port", service = service, why = why)
    }
}

/// The kinds of check a k8s lab.yaml may use.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Check {
    /// The cluster's API answers with the kubeconfig deploylab wrote.
    ClusterReachable {},
    /// The app's images are in the cluster's image store, pullable by
    /// its pull policy.
    ImageAvailable {},
    /// A Deployment of the app exists (any name, any namespace).
    DeploymentApplied {},
    /// The Deployment is rolled out, by kubectl's `rollout status` rule.
    RolledOut {},
    /// The pods of the Deployment's current ReplicaSet are all Ready.
    PodsReady {},
    /// A Service selects the ready pods (it has ready endpoints).
    ServiceSelects {},
    /// The Service answers through the API server's service proxy with a
    /// live Django page (twice, each with a fresh CSRF cookie).
    ServiceAnswers {
        #[serde(default = "admin_login")]
        path: String,
    },
    /// The app's containers have a readiness probe.
    ReadinessProbe {},
    /// The app's containers have CPU and memory requests and limits.
    Resources {},
    /// Settings come from the environment: a Secret gives at least one.
    SettingsFromSecret {},
}

fn admin_login() -> String {
    "/admin/login/".into()
}

impl Check {
    pub(crate) fn path(&self) -> Option<&str> {
        match self {
            Check::ServiceAnswers { path } => Some(path),
            _ => None,
        }
    }

    pub(crate) fn evaluate(&self, facts: &Facts) -> Verdict {
        if let Err(why) = &facts.api {
            return Ok(Outcome::fail(tr!("k8s-cluster-expected"), format!("{}: {why}", text::no_cluster())));
        }
        if let Check::ClusterReachable {} = self {
            let version = facts.api.as_deref().unwrap_or_default();
            return Ok(Outcome::pass(tr!("k8s-cluster-expected"), format!("Kubernetes {version}")));
        }
        let apps = facts.app_deployments();
        if apps.is_empty() {
            return Ok(Outcome::fail(tr!("k8s-deployment-expected"), text::no_deployment()));
        }
        let mut outcomes = apps.iter().map(|d| match self {
            Check::ImageAvailable {} => image_available(facts, d),
            Check::DeploymentApplied {} => Outcome::pass(tr!("k8s-deployment-expected"), format!("deployment {}", name(d))),
            Check::RolledOut {} => rolled_out(d),
            Check::PodsReady {} => pods_ready(facts, d),
            Check::ServiceSelects {} => service_selects(facts, d),
            Check::ServiceAnswers { .. } => service_answers(facts, d),
            Check::ReadinessProbe {} => per_container(d, &tr!("k8s-readiness-expected"), |c| {
                c.readiness_probe.is_some()
            }),
            Check::Resources {} => per_container(d, &tr!("k8s-resources-expected"), |c| {
                let r = c.resources.clone().unwrap_or_default();
                let has = |m: &Option<std::collections::BTreeMap<String, _>>| {
                    m.as_ref().is_some_and(|m| m.contains_key("cpu") && m.contains_key("memory"))
                };
                has(&r.requests) && has(&r.limits)
            }),
            Check::SettingsFromSecret {} => settings_from_secret(d),
            Check::ClusterReachable {} => unreachable!("judged above"),
        });
        // Every app Deployment must pass; the first that does not tells.
        let first = outcomes.next().expect("at least one");
        Ok(outcomes.fold(first, |acc, o| match acc.passed {
            true if !o.passed => o,
            true => Outcome::pass(acc.expected, format!("{}; {}", acc.observed, o.observed)),
            false => acc,
        }))
    }
}

pub(crate) fn name(d: &Deployment) -> &str {
    d.metadata.name.as_deref().unwrap_or_default()
}

fn containers(d: &Deployment) -> Vec<Container> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.clone())
        .unwrap_or_default()
}

/// kubectl's `rollout status` verdict: Ok when rolled out, else the line
/// it prints while it waits (or its error).
pub(crate) fn rollout(d: &Deployment) -> Result<String, String> {
    let name = name(d);
    let status = d.status.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    if generation > status.observed_generation.unwrap_or(0) {
        return Err(text::waiting_observed(name));
    }
    let deadline = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
    if deadline {
        return Err(text::deadline(name));
    }
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < replicas {
        return Err(text::not_updated(name, updated, replicas));
    }
    if total > updated {
        return Err(text::old_pending(name, total - updated));
    }
    if available < updated {
        return Err(text::not_available(name, available, updated));
    }
    Ok(text::rolled_out(name))
}

fn rolled_out(d: &Deployment) -> Outcome {
    let expected = tr!("k8s-rollout-expected");
    match rollout(d) {
        Ok(done) => Outcome::pass(expected, done),
        Err(waiting) => Outcome::fail(expected, waiting),
    }
}

/// The ReplicaSet of the Deployment's current template: its controller
/// is the Deployment and its revision is the Deployment's.
pub(crate) fn current_replica_set<'a>(facts: &'a Facts, d: &Deployment) -> Option<&'a ReplicaSet> {
    let revision = |annotations: &Option<std::collections::BTreeMap<String, String>>| {
        annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).cloned()
    };
    let wanted = revision(&d.metadata.annotations)?;
    facts.replica_sets.iter().find(|rs| {
        controlled_by(&rs.metadata.owner_references, d.metadata.uid.as_deref())
            && revision(&rs.metadata.annotations).as_deref() == Some(wanted.as_str())
    })
}

fn controlled_by(owners: &Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>, uid: Option<&str>) -> bool {
    owners
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && Some(o.uid.as_str()) == uid)
}

/// The pods of a ReplicaSet.
pub(crate) fn pods_of<'a>(facts: &'a Facts, rs: &ReplicaSet) -> Vec<&'a Pod> {
    facts
        .pods
        .iter()
        .filter(|p| controlled_by(&p.metadata.owner_references, rs.metadata.uid.as_deref()))
        .collect()
}

pub(crate) fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Why a pod is not Ready, in the words that help most: an image that
/// cannot be pulled, a crash loop with its last log lines, a probe.
fn why_not_ready(facts: &Facts, pod: &Pod) -> String {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
    for s in &statuses {
        let waiting = s.state.as_ref().and_then(|st| st.waiting.as_ref());
        match waiting.and_then(|w| w.reason.as_deref()) {
            Some("ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull") => {
                let policy = pod_policy(pod, &s.name);
                return text::pull_back_off(&s.image, &policy);
            }
            Some("CrashLoopBackOff") => {
                let log = facts.logs.get(pod_name).map(String::as_str).unwrap_or_default();
                return text::crash_loop(pod_name, s.restart_count, log);
            }
            Some(reason) => {
                let message = waiting.and_then(|w| w.message.clone()).unwrap_or_default();
                return format!("{reason} {message}").trim().to_string();
            }
            None => {}
        }
    }
    let probe = facts
        .events_of(pod)
        .into_iter()
        .rev()
        .find(|e| e.reason.as_deref() == Some("Unhealthy"))
        .and_then(|e| e.message.clone());
    match probe {
        Some(message) => tr!("k8s-probe-failing", message = message),
        None => tr!("k8s-starting"),
    }
}

fn pod_policy(pod: &Pod, container: &str) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.iter().find(|c| c.name == container))
        .and_then(|c| c.image_pull_policy.clone())
        .unwrap_or_default()
}

fn pods_ready(facts: &Facts, d: &Deployment) -> Outcome {
    let expected = tr!("k8s-ready-expected");
    let Some(rs) = current_replica_set(facts, d) else {
        return Outcome::fail(expected, tr!("k8s-no-replica-set", deployment = name(d)));
    };
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let pods = pods_of(facts, rs);
    let ready: Vec<&&Pod> = pods.iter().filter(|p| is_ready(p)).collect();
    if replicas > 0 && ready.len() as i32 >= replicas {
        return Outcome::pass(expected, format!("{}/{replicas} pods of {} Ready", ready.len(), rs.metadata.name.as_deref().unwrap_or_default()));
    }
    match pods.iter().find(|p| !is_ready(p)) {
        Some(pod) => Outcome::fail(expected, text::not_ready(pod.metadata.name.as_deref().unwrap_or_default(), &why_not_ready(facts, pod))),
        None => Outcome::fail(expected, format!("{}/{replicas} pods Ready", ready.len())),
    }
}

fn image_available(facts: &Facts, d: &Deployment) -> Outcome {
    let expected = tr!("k8s-image-expected");
    for c in containers(d) {
        let image = c.image.clone().unwrap_or_default();
        let policy = c.image_pull_policy.clone().unwrap_or_default();
        if !facts.images.get(&image).copied().unwrap_or(false) {
            return Outcome::fail(expected, text::missing_image(&image));
        }
        // A local image with policy Always is pulled, and fails.
        if policy == "Always" {
            let failing = facts.pods.iter().any(|p| {
                p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).is_some_and(|ss| {
                    ss.iter().any(|s| {
                        s.image == image
                            && matches!(
                                s.state.as_ref().and_then(|st| st.waiting.as_ref()).and_then(|w| w.reason.as_deref()),
                                Some("ErrImagePull" | "ImagePullBackOff")
                            )
                    })
                })
            });
            if failing {
                return Outcome::fail(expected, text::pull_back_off(&image, &policy));
            }
        }
    }
    let images: Vec<String> = containers(d).iter().filter_map(|c| c.image.clone()).collect();
    Outcome::pass(expected, images.join(", "))
}

/// The Services that select the Deployment's pods.
pub(crate) fn services_of<'a>(facts: &'a Facts, d: &Deployment) -> Vec<&'a Service> {
    let labels = d
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let namespace = d.metadata.namespace.as_deref();
    facts
        .services
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == namespace)
        .filter(|s| {
            let selector = s.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
            !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
        .collect()
}

fn ready_endpoints(facts: &Facts, service: &Service) -> usize {
    let name = service.metadata.name.as_deref().unwrap_or_default();
    facts
        .endpoint_slices
        .iter()
        .filter(|s| s.metadata.namespace == service.metadata.namespace)
        .filter(|s| s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str) == Some(name))
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false))
        .count()
}

fn service_selects(facts: &Facts, d: &Deployment) -> Outcome {
    let expected = tr!("k8s-selects-expected");
    let services = services_of(facts, d);
    let Some(first) = services.first() else {
        let others: Vec<&str> = facts.services.iter().filter_map(|s| s.metadata.name.as_deref()).filter(|n| *n != "kubernetes").collect();
        return Outcome::fail(expected, match others.is_empty() {
            true => text::no_service(),
            false => format!("{}: {} select other labels than the pods' (selector vs. template labels)", text::no_service(), others.join(", ")),
        });
    };
    for s in &services {
        let n = ready_endpoints(facts, s);
        if n > 0 {
            return Outcome::pass(expected, tr!("k8s-endpoints", service = s.metadata.name.as_deref().unwrap_or_default(), count = n));
        }
    }
    Outcome::fail(expected, text::no_endpoints(first.metadata.name.as_deref().unwrap_or_default()))
}

fn service_answers(facts: &Facts, d: &Deployment) -> Outcome {
    let expected = tr!("k8s-answers-expected");
    let services = services_of(facts, d);
    if services.is_empty() {
        return Outcome::fail(expected, text::no_service());
    }
    let mut last = String::new();
    for s in services {
        let name = s.metadata.name.as_deref().unwrap_or_default();
        let key = format!("{}/{name}", s.metadata.namespace.as_deref().unwrap_or_default());
        let Some(answers) = facts.answers.get(&key) else {
            continue;
        };
        let cookies: Vec<&str> = answers
            .iter()
            .filter(|a| a.status == Some(200))
            .flat_map(|a| a.cookies.iter())
            .filter(|c| c.starts_with("csrftoken="))
            .map(|c| c.split(';').next().unwrap_or_default())
            .collect();
        if answers.len() >= 2 && cookies.len() >= 2 && cookies[0] != cookies[1] {
            return Outcome::pass(expected, tr!("k8s-answers-live", service = name, url = answers[0].url));
        }
        last = match answers.first() {
            Some(a) if a.status == Some(400) => text::disallowed(name),
            Some(a) if a.status == Some(503) => text::target_port(name, &a.body.chars().take(300).collect::<String>()),
            Some(a) => match (&a.status, &a.error) {
                (Some(code), _) => tr!("k8s-answers-not-live", service = name, code = code, url = a.url),
                (None, Some(e)) => format!("service {name}: {e}"),
                (None, None) => tr!("k8s-answers-none", service = name),
            },
            None => tr!("k8s-answers-not-asked", service = name),
        };
    }
    Outcome::fail(expected, last)
}

fn per_container(d: &Deployment, expected: &str, has: impl Fn(&Container) -> bool) -> Outcome {
    let missing: Vec<String> = containers(d).iter().filter(|c| !has(c)).map(|c| c.name.clone()).collect();
    match missing.is_empty() {
        true => Outcome::pass(expected, tr!("k8s-every-container", deployment = name(d))),
        false => Outcome::fail(expected, tr!("k8s-not-on", deployment = name(d), containers = missing.join(", "))),
    }
}

fn settings_from_secret(d: &Deployment) -> Outcome {
    let expected = tr!("k8s-secret-expected");
    let from_secret = containers(d).iter().any(|c| {
        c.env.iter().flatten().any(|e| e.value_from.as_ref().is_some_and(|v| v.secret_key_ref.is_some()))
            || c.env_from.iter().flatten().any(|e| e.secret_ref.is_some())
    });
    match from_secret {
        true => Outcome::pass(expected, tr!("k8s-reads-secret", deployment = name(d))),
        false => Outcome::fail(expected, tr!("k8s-reads-no-secret", deployment = name(d))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64, status: &serde_json::Value) -> Deployment {
        serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "default", "uid": "d1", "generation": generation,
                "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "blog:1", "imagePullPolicy": "IfNotPresent"}]}}},
            "status": status})).unwrap()
    }

    #[test]
    fn rollout_follows_kubectls_rule_line_by_line() {
        let cases = [
            (2, json!({"observedGeneration": 1}), "Waiting for deployment spec update to be observed..."),
            (1, json!({"observedGeneration": 1, "updatedReplicas": 1, "replicas": 3}), "1 out of 2 new replicas have been updated..."),
            (1, json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 3}), "1 old replicas are pending termination..."),
            (1, json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1}), "1 of 2 updated replicas are available..."),
        ];
        for (generation, status, line) in cases {
            let waiting = rollout(&deployment(generation, &status)).unwrap_err();
            assert!(waiting.ends_with(line), "{waiting}");
        }
        let done = json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2});
        assert_eq!(rollout(&deployment(1, &done)).unwrap(), "deployment \"web\" successfully rolled out");
        let stuck = json!({"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]});
        assert_eq!(rollout(&deployment(1, &stuck)).unwrap_err(), "deployment \"web\" exceeded its progress deadline");
    }

    fn replica_set(name: &str, revision: &str, uid: &str) -> ReplicaSet {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default", "uid": uid,
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d1", "controller": true}]}}))
        .unwrap()
    }

    fn pod(name: &str, rs_uid: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": rs_uid, "controller": true}]},
            "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}}))
        .unwrap()
    }

    #[test]
    fn ready_pods_of_an_old_replica_set_do_not_count() {
        let d = deployment(1, &json!({}));
        let facts = Facts {
            api: Ok("v1.32.0".into()),
            deployments: vec![d.clone()],
            replica_sets: vec![replica_set("web-old", "1", "r1"), replica_set("web-new", "2", "r2")],
            pods: vec![pod("web-old-a", "r1", true), pod("web-old-b", "r1", true), pod("web-new-a", "r2", true), pod("web-new-b", "r2", false)],
            ..Facts::default()
        };
        let outcome = pods_ready(&facts, &d);
        assert!(!outcome.passed, "{outcome:?}");
        assert!(outcome.observed.contains("web-new-b"), "{outcome:?}");
        let mut all = facts.clone();
        all.pods[3] = pod("web-new-b", "r2", true);
        assert!(pods_ready(&all, &d).passed);
    }

    #[test]
    fn a_crash_loop_shows_its_last_lines_and_a_pull_failure_names_the_policy() {
        let d = deployment(1, &json!({}));
        let mut crashing = pod("web-new-a", "r2", false);
        crashing.spec = Some(serde_json::from_value(json!({"containers": [{"name": "web", "image": "blog:1", "imagePullPolicy": "IfNotPresent"}]})).unwrap());
        crashing.status.as_mut().unwrap().container_statuses = Some(vec![serde_json::from_value(json!({
            "name": "web", "image": "blog:1", "imageID": "", "ready": false, "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}})).unwrap()]);
        let mut facts = Facts {
            api: Ok("v1.32.0".into()),
            deployments: vec![d.clone()],
            replica_sets: vec![replica_set("web-new", "2", "r2")],
            pods: vec![crashing.clone()],
            ..Facts::default()
        };
        facts.logs.insert("web-new-a".into(), "django.db.utils.OperationalError: no such table".into());
        let outcome = pods_ready(&facts, &d);
        assert!(outcome.observed.contains("CrashLoopBackOff (4 restarts)"), "{outcome:?}");
        assert!(outcome.observed.contains("no such table"), "{outcome:?}");
        let status = &mut facts.pods[0].status.as_mut().unwrap().container_statuses.as_mut().unwrap()[0];
        status.state = Some(serde_json::from_value(json!({"waiting": {"reason": "ImagePullBackOff"}})).unwrap());
        let outcome = pods_ready(&facts, &d);
        assert!(outcome.observed.contains("imagePullPolicy IfNotPresent"), "{outcome:?}");
    }
}
