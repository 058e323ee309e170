//! The controllers of the one control plane, as one loop woken by every
//! change (and each second, for time-based conditions): Deployments own
//! ReplicaSets named by their template's hash, rolled with the real
//! rules (maxSurge/maxUnavailable, revisions, undo reusing an old
//! ReplicaSet under a new revision); ReplicaSets own Pods; Services get
//! Endpoints and EndpointSlices of the pods they select; what lost its
//! owner is collected. Each records the events `kubectl describe` shows.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Cluster;
use crate::resources::Resource;
use crate::selector::Labels;
use crate::store::Store;

/// Annotations the Deployment controller keeps.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const HASH_LABEL: &str = "pod-template-hash";

fn kind(name: &str) -> &'static Resource {
    Resource::of_kind(name).expect("served")
}

/// Runs the controllers until the process ends.
pub async fn run(cluster: Arc<Cluster>) {
    let mut revisions = cluster.store.revisions();
    loop {
        sync(&cluster.store);
        tokio::select! {
            _ = revisions.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// One pass of every controller.
pub fn sync(store: &Store) {
    collect_orphans(store);
    for d in store.list(kind("Deployment"), None).0 {
        deployment(store, &d);
    }
    for rs in store.list(kind("ReplicaSet"), None).0 {
        replica_set(store, &rs);
    }
    for svc in store.list(kind("Service"), None).0 {
        endpoints(store, &svc);
    }
}

fn meta<'a>(o: &'a Value, field: &str) -> &'a str {
    o["metadata"][field].as_str().unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// Whether `owner` is `o`'s controller.
fn controlled_by(o: &Value, owner: &Value) -> bool {
    o["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["controller"] == true && r["uid"] == owner["metadata"]["uid"])
}

fn owner_reference(owner: &Value) -> Value {
    json!([{"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
}

/// Records an event about `involved` (a repeat raises the count of the
/// last one).
pub fn record(
    store: &Store,
    involved: &Value,
    kind_of_event: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let events = kind("Event");
    let namespace = match meta(involved, "namespace") {
        "" => "default",
        ns => ns,
    };
    let uid = &involved["metadata"]["uid"];
    let now = crate::time::now();
    let repeat = store.list(events, Some(namespace)).0.into_iter().find(|e| {
        e["involvedObject"]["uid"] == *uid && e["reason"] == reason && e["message"] == message
    });
    if let Some(e) = repeat {
        store.modify(events, namespace, meta(&e, "name"), |e| {
            e["count"] = json!(int(&e["count"]) + 1);
            e["lastTimestamp"] = json!(now);
        });
        return;
    }
    let name = format!(
        "{}.{:x}",
        meta(involved, "name"),
        rand::random::<u64>() >> 8
    );
    let event = json!({"metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"kind": involved["kind"], "namespace": namespace, "name": involved["metadata"]["name"],
                           "uid": uid, "apiVersion": involved["apiVersion"],
                           "resourceVersion": involved["metadata"]["resourceVersion"]},
        "reason": reason, "message": message, "type": kind_of_event,
        "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "reportingComponent": component, "reportingInstance": ""});
    let _ = store.create(events, namespace, event);
}

/// Objects whose controller is gone go too (background propagation).
fn collect_orphans(store: &Store) {
    for (child, parent) in [("Pod", "ReplicaSet"), ("ReplicaSet", "Deployment")] {
        let owners = store.list(kind(parent), None).0;
        for o in store.list(kind(child), None).0 {
            let refs = o["metadata"]["ownerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(controller) = refs
                .iter()
                .find(|r| r["controller"] == true && r["kind"] == parent)
            else {
                continue;
            };
            if !owners
                .iter()
                .any(|p| p["metadata"]["uid"] == controller["uid"])
            {
                store.delete(kind(child), meta(&o, "namespace"), meta(&o, "name"));
            }
        }
    }
    for (child, label) in [
        ("Endpoints", None),
        ("EndpointSlice", Some("kubernetes.io/service-name")),
    ] {
        let services = store.list(kind("Service"), None).0;
        for o in store.list(kind(child), None).0 {
            let service = match label {
                Some(l) => o["metadata"]["labels"][l]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                None => meta(&o, "name").to_string(),
            };
            let exists = services.iter().any(|s| {
                meta(s, "name") == service
                    && meta(s, "namespace") == meta(&o, "namespace")
                    && !s["spec"]["selector"].is_null()
            });
            if !exists
                && (label.is_some()
                    || o["metadata"]["labels"]["endpoints.deploylab/managed"] == "true")
            {
                store.delete(kind(child), meta(&o, "namespace"), meta(&o, "name"));
            }
        }
    }
}

/// The hash that names a template's ReplicaSet and labels its pods.
pub fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digest = Sha256::digest(serde_json::to_vec(template).expect("JSON encodes"));
    digest
        .iter()
        .take(10)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// A template as its Deployment wrote it (without the hash label the
/// ReplicaSet adds).
fn without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove(HASH_LABEL);
    }
    t
}

fn revision_of(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// `25%` of `total`, rounded up or down; or a plain number.
fn resolve(value: &Value, total: i64, round_up: bool) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(percent) => {
                let scaled = total * percent;
                match round_up {
                    true => (scaled + 99) / 100,
                    false => scaled / 100,
                }
            }
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// maxSurge and maxUnavailable of a Deployment, resolved.
pub fn surge_and_unavailable(d: &Value) -> (i64, i64) {
    let replicas = int(&d["spec"]["replicas"]);
    if d["spec"]["strategy"]["type"] == "Recreate" {
        return (0, replicas);
    }
    let rolling = &d["spec"]["strategy"]["rollingUpdate"];
    let surge = resolve(&rolling["maxSurge"], replicas, true);
    let unavailable = resolve(&rolling["maxUnavailable"], replicas, false);
    match (surge, unavailable) {
        (0, 0) => (0, 1),
        pair => pair,
    }
}

fn set_replicas(store: &Store, rs: &Value, replicas: i64, deployment: &Value) {
    if int(&rs["spec"]["replicas"]) == replicas {
        return;
    }
    let from = int(&rs["spec"]["replicas"]);
    let (surge, _) = surge_and_unavailable(deployment);
    let desired = int(&deployment["spec"]["replicas"]);
    store.modify(
        kind("ReplicaSet"),
        meta(rs, "namespace"),
        meta(rs, "name"),
        |rs| {
            rs["spec"]["replicas"] = json!(replicas);
            rs["metadata"]["annotations"][DESIRED] = json!(desired.to_string());
            rs["metadata"]["annotations"][MAX_REPLICAS] = json!((desired + surge).to_string());
        },
    );
    let direction = if replicas > from { "up" } else { "down" };
    record(
        store,
        deployment,
        "Normal",
        "ScalingReplicaSet",
        &format!(
            "Scaled {direction} replica set {} from {from} to {replicas}",
            meta(rs, "name")
        ),
        "deployment-controller",
    );
}

fn deployment(store: &Store, d: &Value) {
    let (ns, name) = (meta(d, "namespace"), meta(d, "name"));
    let replicas = int(&d["spec"]["replicas"]);
    let template = d["spec"]["template"].clone();
    let mut owned: Vec<Value> = store
        .list(kind("ReplicaSet"), Some(ns))
        .0
        .into_iter()
        .filter(|rs| controlled_by(rs, d))
        .collect();
    owned.sort_by_key(revision_of);
    let max_revision = owned.iter().map(revision_of).max().unwrap_or(0);
    let mut new_rs = owned
        .iter()
        .find(|rs| without_hash(&rs["spec"]["template"]) == template)
        .cloned();
    let paused = d["spec"]["paused"] == true;
    if new_rs.is_none() && !paused {
        let hash = template_hash(&template);
        let mut rs_template = template.clone();
        rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
        let mut selector = d["spec"]["selector"].clone();
        selector["matchLabels"][HASH_LABEL] = json!(hash);
        let old_running: i64 = owned.iter().map(|rs| int(&rs["spec"]["replicas"])).sum();
        let (surge, _) = surge_and_unavailable(d);
        let start = match (old_running, d["spec"]["strategy"]["type"].as_str()) {
            (0, _) => replicas,
            (_, Some("Recreate")) => 0,
            (running, _) => (replicas + surge - running).clamp(0, replicas),
        };
        let rs = json!({"metadata": {"name": format!("{name}-{hash}"), "namespace": ns,
                "labels": rs_template["metadata"]["labels"],
                "annotations": {REVISION: (max_revision + 1).to_string(), DESIRED: replicas.to_string(),
                                MAX_REPLICAS: (replicas + surge).to_string()},
                "ownerReferences": owner_reference(d)},
            "spec": {"replicas": start, "minReadySeconds": d["spec"]["minReadySeconds"].as_i64().unwrap_or(0),
                     "selector": selector, "template": rs_template},
            "status": {"replicas": 0}});
        if let Ok(created) = store.create(kind("ReplicaSet"), ns, rs) {
            record(
                store,
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!(
                    "Scaled up replica set {} from 0 to {start}",
                    meta(&created, "name")
                ),
                "deployment-controller",
            );
            owned.push(created.clone());
            new_rs = Some(created);
        }
    } else if let Some(rs) = new_rs.as_ref().filter(|rs| revision_of(rs) < max_revision) {
        // A rollback (or a template set back by hand): the old ReplicaSet
        // becomes the newest revision.
        new_rs = store.modify(kind("ReplicaSet"), ns, meta(rs, "name"), |rs| {
            rs["metadata"]["annotations"][REVISION] = json!((max_revision + 1).to_string());
        });
    }
    let Some(new_rs) = new_rs else {
        return;
    };
    let revision = revision_of(&new_rs);
    let olds: Vec<&Value> = owned
        .iter()
        .filter(|rs| meta(rs, "uid") != meta(&new_rs, "uid"))
        .collect();
    if !paused {
        roll(store, d, &new_rs, &olds, replicas);
    }
    // The status, from the ReplicaSets as they are now.
    let owned: Vec<Value> = store
        .list(kind("ReplicaSet"), Some(ns))
        .0
        .into_iter()
        .filter(|rs| controlled_by(rs, d))
        .collect();
    let new_now = owned
        .iter()
        .find(|rs| meta(rs, "uid") == meta(&new_rs, "uid"));
    let sum = |field: &str| {
        owned
            .iter()
            .map(|rs| int(&rs["status"][field]))
            .sum::<i64>()
    };
    let (total, available, ready) = (
        sum("replicas"),
        sum("availableReplicas"),
        sum("readyReplicas"),
    );
    let updated = new_now
        .map(|rs| int(&rs["status"]["replicas"]))
        .unwrap_or(0);
    let (_, max_unavailable) = surge_and_unavailable(d);
    let complete = updated == replicas && total == replicas && available == replicas;
    let now = crate::time::now();
    let old_status = d["status"].clone();
    let counts = json!([total, updated, available, ready]);
    let progressed = old_status["replicas"] != counts[0]
        || old_status["updatedReplicas"] != counts[1]
        || old_status["availableReplicas"] != counts[2]
        || old_status["readyReplicas"] != counts[3]
        || old_status["observedGeneration"] != d["metadata"]["generation"];
    let previous = condition(&old_status, "Progressing");
    let last_progress = match progressed {
        true => now.clone(),
        false => previous["lastUpdateTime"]
            .as_str()
            .unwrap_or(&now)
            .to_string(),
    };
    let rs_name = meta(&new_rs, "name");
    let deadline = int(&d["spec"]["progressDeadlineSeconds"]).max(1) as u64;
    let progressing = if complete {
        (
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        )
    } else if crate::time::seconds_since(&last_progress) > deadline {
        (
            "False",
            "ProgressDeadlineExceeded",
            format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
        )
    } else {
        (
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs_name}\" is progressing."),
        )
    };
    let available_condition = match available >= replicas - max_unavailable {
        true => (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        ),
        false => (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        ),
    };
    let conditions = json!([
        made_condition(
            &old_status,
            "Available",
            available_condition.0,
            available_condition.1,
            available_condition.2,
            &now,
            None
        ),
        made_condition(
            &old_status,
            "Progressing",
            progressing.0,
            progressing.1,
            &progressing.2,
            &now,
            Some(&last_progress)
        ),
    ]);
    let mut status = json!({"observedGeneration": d["metadata"]["generation"], "replicas": total,
        "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
        "conditions": conditions});
    if replicas - available > 0 {
        status["unavailableReplicas"] = json!(replicas - available);
    }
    for field in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        if status[field] == 0 {
            status.as_object_mut().expect("an object").remove(field);
        }
    }
    let annotation = revision.to_string();
    if d["status"] != status || d["metadata"]["annotations"][REVISION] != annotation.as_str() {
        store.modify(kind("Deployment"), ns, name, |d| {
            d["status"] = status;
            d["metadata"]["annotations"][REVISION] = json!(annotation);
        });
    }
    history_limit(store, d, &owned, meta(&new_rs, "uid"));
}

/// One step of the rollout: the new ReplicaSet up within the surge, the
/// old ones down within what may be unavailable.
fn roll(store: &Store, d: &Value, new_rs: &Value, olds: &[&Value], replicas: i64) {
    let old_replicas: i64 = olds.iter().map(|rs| int(&rs["spec"]["replicas"])).sum();
    if d["spec"]["strategy"]["type"] == "Recreate" {
        for rs in olds.iter().filter(|rs| int(&rs["spec"]["replicas"]) > 0) {
            set_replicas(store, rs, 0, d);
        }
        let old_pods: i64 = olds.iter().map(|rs| int(&rs["status"]["replicas"])).sum();
        if old_replicas == 0 && old_pods == 0 {
            set_replicas(store, new_rs, replicas, d);
        }
        return;
    }
    let (surge, max_unavailable) = surge_and_unavailable(d);
    let new_replicas = int(&new_rs["spec"]["replicas"]);
    if old_replicas == 0 {
        set_replicas(store, new_rs, replicas, d);
        return;
    }
    let total = new_replicas + old_replicas;
    if new_replicas < replicas && total < replicas + surge {
        let wanted = (new_replicas + replicas + surge - total).min(replicas);
        set_replicas(store, new_rs, wanted, d);
        return;
    }
    if new_replicas > replicas {
        set_replicas(store, new_rs, replicas, d);
    }
    let min_available = replicas - max_unavailable;
    let new_unavailable = new_replicas - int(&new_rs["status"]["availableReplicas"]);
    let mut budget = total - min_available - new_unavailable;
    // The unhealthy old pods go first: they serve nobody.
    let mut lowered: Vec<(String, i64)> = olds
        .iter()
        .map(|rs| (meta(rs, "name").to_string(), int(&rs["spec"]["replicas"])))
        .collect();
    for (rs, (_, count)) in olds.iter().zip(lowered.iter_mut()) {
        let unhealthy = (*count - int(&rs["status"]["availableReplicas"])).max(0);
        let cut = unhealthy.min(budget).max(0);
        *count -= cut;
        budget -= cut;
    }
    let available: i64 = int(&new_rs["status"]["availableReplicas"])
        + olds
            .iter()
            .map(|rs| int(&rs["status"]["availableReplicas"]))
            .sum::<i64>();
    let mut down = (available - min_available).max(0);
    for (_, count) in lowered.iter_mut() {
        let cut = (*count).min(down);
        *count -= cut;
        down -= cut;
    }
    for (rs, (_, count)) in olds.iter().zip(lowered) {
        set_replicas(store, rs, count, d);
    }
}

fn condition(status: &Value, kind_of: &str) -> Value {
    status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == kind_of)
        .cloned()
        .unwrap_or(Value::Null)
}

/// A condition, keeping its transition time while its status stays.
fn made_condition(
    old: &Value,
    kind_of: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    updated: Option<&str>,
) -> Value {
    let previous = condition(old, kind_of);
    let transition = match previous["status"] == status {
        true => previous["lastTransitionTime"]
            .as_str()
            .unwrap_or(now)
            .to_string(),
        false => now.to_string(),
    };
    let update = match (
        updated,
        previous["reason"] == reason && previous["message"] == message,
    ) {
        (Some(u), _) => u.to_string(),
        (None, true) => previous["lastUpdateTime"]
            .as_str()
            .unwrap_or(now)
            .to_string(),
        (None, false) => now.to_string(),
    };
    json!({"type": kind_of, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": transition, "lastUpdateTime": update})
}

/// Old ReplicaSets beyond `revisionHistoryLimit`, scaled to nothing, go.
fn history_limit(store: &Store, d: &Value, owned: &[Value], new_uid: &str) {
    let limit = d["spec"]["revisionHistoryLimit"]
        .as_i64()
        .unwrap_or(10)
        .max(0) as usize;
    let mut idle: Vec<&Value> = owned
        .iter()
        .filter(|rs| {
            meta(rs, "uid") != new_uid
                && int(&rs["spec"]["replicas"]) == 0
                && int(&rs["status"]["replicas"]) == 0
        })
        .collect();
    if idle.len() <= limit {
        return;
    }
    idle.sort_by_key(|rs| revision_of(rs));
    for rs in &idle[..idle.len() - limit] {
        store.delete(kind("ReplicaSet"), meta(rs, "namespace"), meta(rs, "name"));
    }
}

/// A pod's Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    condition(&pod["status"], "Ready")["status"] == "True"
}

fn replica_set(store: &Store, rs: &Value) {
    let (ns, name) = (meta(rs, "namespace"), meta(rs, "name"));
    let Some(selector) = Labels::of(&rs["spec"]["selector"]) else {
        return;
    };
    let pods: Vec<Value> = store
        .list(kind("Pod"), Some(ns))
        .0
        .into_iter()
        .filter(|p| controlled_by(p, rs) && selector.selects(p))
        .collect();
    let wanted = int(&rs["spec"]["replicas"]);
    let have = pods.len() as i64;
    let mut failure = None;
    if have < wanted {
        let spec = rs["spec"]["template"]["spec"].clone();
        let violations = crate::admit::pod_security(&spec);
        for _ in have..wanted {
            let pod_name = format!("{name}-{}", crate::api::suffix(5));
            if !violations.is_empty() {
                let message = format!(
                    "Error creating: pods \"{pod_name}\" is forbidden: violates PodSecurity \"{}\": {}",
                    crate::admit::POD_SECURITY,
                    violations.join(", ")
                );
                record(
                    store,
                    rs,
                    "Warning",
                    "FailedCreate",
                    &message,
                    "replicaset-controller",
                );
                failure = Some(message);
                break;
            }
            let mut metadata = rs["spec"]["template"]["metadata"].clone();
            metadata["name"] = json!(pod_name);
            metadata["namespace"] = json!(ns);
            metadata["generateName"] = json!(format!("{name}-"));
            metadata["ownerReferences"] = owner_reference(rs);
            let mut spec = spec.clone();
            spec["nodeName"] = json!(crate::NODE);
            let pod = json!({"metadata": metadata, "spec": spec,
                "status": {"phase": "Pending", "qosClass": crate::kubelet::qos_class(&spec)}});
            if let Ok(created) = store.create(kind("Pod"), ns, pod) {
                record(
                    store,
                    rs,
                    "Normal",
                    "SuccessfulCreate",
                    &format!("Created pod: {}", meta(&created, "name")),
                    "replicaset-controller",
                );
            }
        }
    } else if have > wanted {
        let mut doomed = pods.clone();
        // Not ready first, then the youngest.
        doomed.sort_by(|a, b| {
            is_ready(a)
                .cmp(&is_ready(b))
                .then(meta(b, "creationTimestamp").cmp(meta(a, "creationTimestamp")))
        });
        for pod in doomed.iter().take((have - wanted) as usize) {
            store.delete(kind("Pod"), ns, meta(pod, "name"));
            record(
                store,
                rs,
                "Normal",
                "SuccessfulDelete",
                &format!("Deleted pod: {}", meta(pod, "name")),
                "replicaset-controller",
            );
        }
    }
    let pods: Vec<Value> = store
        .list(kind("Pod"), Some(ns))
        .0
        .into_iter()
        .filter(|p| controlled_by(p, rs))
        .collect();
    let min_ready = int(&rs["spec"]["minReadySeconds"]).max(0) as u64;
    let ready = pods.iter().filter(|p| is_ready(p)).count() as i64;
    let available = pods
        .iter()
        .filter(|p| {
            is_ready(p)
                && condition(&p["status"], "Ready")["lastTransitionTime"]
                    .as_str()
                    .is_some_and(|t| crate::time::seconds_since(t) >= min_ready)
        })
        .count() as i64;
    let mut status = json!({"replicas": pods.len(), "fullyLabeledReplicas": pods.len(),
        "readyReplicas": ready, "availableReplicas": available,
        "observedGeneration": rs["metadata"]["generation"]});
    if let Some(message) = failure {
        status["conditions"] = json!([{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": message, "lastTransitionTime": crate::time::now()}]);
    } else if rs["status"]["conditions"].is_array() && have >= wanted {
        status["conditions"] = Value::Null;
    } else if rs["status"]["conditions"].is_array() {
        status["conditions"] = rs["status"]["conditions"].clone();
    }
    for field in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
        if status[field] == 0 {
            status.as_object_mut().expect("an object").remove(field);
        }
    }
    if let Some(m) = status.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    if rs["status"] != status {
        store.modify(kind("ReplicaSet"), ns, name, |rs| rs["status"] = status);
    }
}

/// The container port a Service port's `targetPort` names in `pod`.
pub fn target_port(pod: &Value, target: &Value) -> Option<i64> {
    match target {
        Value::Number(n) => n.as_i64(),
        Value::String(named) => named.parse().ok().or_else(|| {
            pod["spec"]["containers"]
                .as_array()?
                .iter()
                .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
                .find(|p| p["name"] == named.as_str())
                .and_then(|p| p["containerPort"].as_i64())
        }),
        _ => None,
    }
}

fn endpoints(store: &Store, svc: &Value) {
    let (ns, name) = (meta(svc, "namespace"), meta(svc, "name"));
    let Some(selector) = Labels::of_map(&svc["spec"]["selector"]) else {
        return;
    };
    let pods: Vec<Value> = store
        .list(kind("Pod"), Some(ns))
        .0
        .into_iter()
        .filter(|p| selector.selects(p) && p["status"]["podIP"].is_string())
        .collect();
    let ports: Vec<Value> = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let resolved = |pod: &Value| -> Vec<Value> {
        ports
            .iter()
            .filter_map(|p| {
                let port = target_port(pod, &p["targetPort"])?;
                // An unnamed port is named "" (kubectl's describe reads the
                // name of every slice port).
                let name = p["name"].as_str().unwrap_or_default();
                Some(json!({"name": name, "port": port, "protocol": p["protocol"]}))
            })
            .collect()
    };
    let address = |pod: &Value| {
        json!({"ip": pod["status"]["podIP"], "nodeName": crate::NODE,
               "targetRef": {"kind": "Pod", "namespace": ns, "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}})
    };
    let (ready, waiting): (Vec<&Value>, Vec<&Value>) = pods.iter().partition(|p| is_ready(p));
    let port_list = pods.first().map(&resolved).unwrap_or_default();
    let mut subset = json!({"ports": port_list});
    if !ready.is_empty() {
        subset["addresses"] = json!(ready.iter().map(|p| address(p)).collect::<Vec<_>>());
    }
    if !waiting.is_empty() {
        subset["notReadyAddresses"] = json!(waiting.iter().map(|p| address(p)).collect::<Vec<_>>());
    }
    let subsets = match pods.is_empty() {
        true => json!([]),
        false => json!([subset]),
    };
    let eps = kind("Endpoints");
    match store.get(eps, ns, name) {
        Some(current)
            if current["subsets"] == subsets
                || (current["subsets"].is_null() && pods.is_empty()) => {}
        Some(_) => {
            store.modify(eps, ns, name, |e| {
                e["subsets"] = subsets.clone();
                if pods.is_empty()
                    && let Some(m) = e.as_object_mut()
                {
                    m.remove("subsets");
                }
            });
        }
        None => {
            let mut e = json!({"metadata": {"name": name, "namespace": ns,
                "labels": {"endpoints.deploylab/managed": "true"}}, "subsets": subsets});
            if pods.is_empty()
                && let Some(m) = e.as_object_mut()
            {
                m.remove("subsets");
            }
            let _ = store.create(eps, ns, e);
        }
    }
    let slice_name = format!("{name}-{}", &template_hash(&json!(name))[..5]);
    let endpoints: Vec<Value> = pods
        .iter()
        .map(|p| {
            json!({"addresses": [p["status"]["podIP"]],
                   "conditions": {"ready": is_ready(p), "serving": is_ready(p), "terminating": false},
                   "nodeName": crate::NODE,
                   "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"], "uid": p["metadata"]["uid"]}})
        })
        .collect();
    let slice_ports = pods.first().map(resolved).unwrap_or_default();
    let slices = kind("EndpointSlice");
    let wanted = json!({"endpoints": endpoints, "ports": slice_ports});
    match store.get(slices, ns, &slice_name) {
        Some(current)
            if current["endpoints"] == wanted["endpoints"]
                && current["ports"] == wanted["ports"] => {}
        Some(_) => {
            store.modify(slices, ns, &slice_name, |s| {
                s["endpoints"] = wanted["endpoints"].clone();
                s["ports"] = wanted["ports"].clone();
            });
        }
        None => {
            let slice = json!({"metadata": {"name": slice_name, "namespace": ns,
                    "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                    "ownerReferences": owner_reference(svc)},
                "addressType": "IPv4", "endpoints": wanted["endpoints"], "ports": wanted["ports"]});
            let _ = store.create(slices, ns, slice);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(replicas: i64, image: &str) -> Value {
        let d = json!({"metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}}});
        let (mut d, _) = crate::admit::decode(kind("Deployment"), d).unwrap();
        crate::admit::defaults(kind("Deployment"), &mut d);
        d
    }

    /// Marks every pod ready, as a kubelet would once probes pass.
    fn ready_all(store: &Store) {
        for p in store.list(kind("Pod"), None).0 {
            store.modify(kind("Pod"), "default", meta(&p, "name"), |p| {
                p["status"]["podIP"] = json!("10.244.0.9");
                p["status"]["conditions"] = json!([{"type": "Ready", "status": "True",
                    "lastTransitionTime": "2020-01-01T00:00:00Z"}]);
            });
        }
    }

    fn settle(store: &Store, with_ready: bool) {
        for _ in 0..30 {
            sync(store);
            if with_ready {
                ready_all(store);
            }
        }
    }

    #[test]
    fn a_deployment_rolls_to_a_new_template_and_back_under_new_revisions() {
        let store = Store::new();
        store.bootstrap();
        store
            .create(kind("Deployment"), "default", web(2, "blog:1"))
            .unwrap();
        settle(&store, true);
        let d = store.get(kind("Deployment"), "default", "web").unwrap();
        assert_eq!(d["status"]["availableReplicas"], 2);
        assert_eq!(d["status"]["observedGeneration"], 1);
        assert_eq!(d["metadata"]["annotations"][REVISION], "1");
        // set image: a second ReplicaSet, the first scaled to zero.
        store.modify(kind("Deployment"), "default", "web", |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("blog:2");
        });
        // Before pods are ready, the surge is respected: at most 3 pods.
        sync(&store);
        sync(&store);
        assert!(store.list(kind("Pod"), None).0.len() <= 3);
        settle(&store, true);
        let rss = store.list(kind("ReplicaSet"), None).0;
        assert_eq!(rss.len(), 2);
        let d = store.get(kind("Deployment"), "default", "web").unwrap();
        assert_eq!(d["metadata"]["annotations"][REVISION], "2");
        assert_eq!(d["status"]["updatedReplicas"], 2);
        assert_eq!(d["status"]["replicas"], 2);
        let pods = store.list(kind("Pod"), None).0;
        assert!(
            pods.iter()
                .all(|p| p["spec"]["containers"][0]["image"] == "blog:2"),
            "{pods:#?}"
        );
        // undo: the first ReplicaSet again, as revision 3.
        store.modify(kind("Deployment"), "default", "web", |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("blog:1");
        });
        settle(&store, true);
        let rss = store.list(kind("ReplicaSet"), None).0;
        assert_eq!(rss.len(), 2);
        let first = rss
            .iter()
            .find(|rs| rs["spec"]["template"]["spec"]["containers"][0]["image"] == "blog:1")
            .unwrap();
        assert_eq!(first["metadata"]["annotations"][REVISION], "3");
        assert_eq!(first["spec"]["replicas"], 2);
    }

    #[test]
    fn pods_that_never_get_ready_hold_the_old_ones() {
        let store = Store::new();
        store.bootstrap();
        store
            .create(kind("Deployment"), "default", web(2, "blog:1"))
            .unwrap();
        settle(&store, true);
        store.modify(kind("Deployment"), "default", "web", |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("blog:broken");
        });
        settle(&store, false);
        let d = store.get(kind("Deployment"), "default", "web").unwrap();
        // maxUnavailable 25% of 2 rounds to 0: both old pods stay available.
        assert_eq!(d["status"]["availableReplicas"], 2);
        assert_eq!(d["status"]["updatedReplicas"], 1);
        assert_eq!(d["status"]["replicas"], 3);
    }

    #[test]
    fn services_list_ready_and_waiting_pods_apart() {
        let store = Store::new();
        store.bootstrap();
        store
            .create(kind("Deployment"), "default", web(1, "blog:1"))
            .unwrap();
        let svc = json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
            "ports": [{"port": 80, "targetPort": 8000, "protocol": "TCP"}]}});
        store.create(kind("Service"), "default", svc).unwrap();
        settle(&store, false);
        for p in store.list(kind("Pod"), None).0 {
            store.modify(kind("Pod"), "default", meta(&p, "name"), |p| {
                p["status"]["podIP"] = json!("10.244.0.7");
            });
        }
        sync(&store);
        let e = store.get(kind("Endpoints"), "default", "web").unwrap();
        assert_eq!(e["subsets"][0]["notReadyAddresses"][0]["ip"], "10.244.0.7");
        assert_eq!(e["subsets"][0]["ports"][0]["port"], 8000);
        ready_all(&store);
        sync(&store);
        let e = store.get(kind("Endpoints"), "default", "web").unwrap();
        assert_eq!(e["subsets"][0]["addresses"][0]["ip"], "10.244.0.9");
        // The Deployment's deletion takes its ReplicaSet and pods.
        store.delete(kind("Deployment"), "default", "web");
        sync(&store);
        sync(&store);
        assert!(store.list(kind("Pod"), None).0.is_empty());
    }
}
