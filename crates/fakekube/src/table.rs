//! What `kubectl get` prints: the server renders a `Table` (kubectl 1.32
//! has no printers of its own for built-in kinds), with the real columns
//! per kind; `priority: 1` columns show only with `-o wide`.

use serde_json::{Value, json};

use crate::resources::Resource;
use crate::selector::Labels;
use crate::time::age_of;

fn column(name: &str, kind: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": kind, "format": format, "description": "", "priority": priority})
}

/// The Table of `items` of `resource`.
pub fn render(resource: &Resource, items: &[Value], revision: u64) -> Value {
    let columns: Vec<Value> = match resource.kind {
        "Pod" => vec![
            column("Name", "string", 0),
            column("Ready", "string", 0),
            column("Status", "string", 0),
            column("Restarts", "string", 0),
            column("Age", "string", 0),
            column("IP", "string", 1),
            column("Node", "string", 1),
            column("Nominated Node", "string", 1),
            column("Readiness Gates", "string", 1),
        ],
        "Deployment" => vec![
            column("Name", "string", 0),
            column("Ready", "string", 0),
            column("Up-to-date", "integer", 0),
            column("Available", "integer", 0),
            column("Age", "string", 0),
            column("Containers", "string", 1),
            column("Images", "string", 1),
            column("Selector", "string", 1),
        ],
        "ReplicaSet" => vec![
            column("Name", "string", 0),
            column("Desired", "integer", 0),
            column("Current", "integer", 0),
            column("Ready", "integer", 0),
            column("Age", "string", 0),
            column("Containers", "string", 1),
            column("Images", "string", 1),
            column("Selector", "string", 1),
        ],
        "Service" => vec![
            column("Name", "string", 0),
            column("Type", "string", 0),
            column("Cluster-IP", "string", 0),
            column("External-IP", "string", 0),
            column("Port(s)", "string", 0),
            column("Age", "string", 0),
            column("Selector", "string", 1),
        ],
        "Namespace" => vec![
            column("Name", "string", 0),
            column("Status", "string", 0),
            column("Age", "string", 0),
        ],
        "ConfigMap" => vec![
            column("Name", "string", 0),
            column("Data", "string", 0),
            column("Age", "string", 0),
        ],
        "Secret" => vec![
            column("Name", "string", 0),
            column("Type", "string", 0),
            column("Data", "string", 0),
            column("Age", "string", 0),
        ],
        "Event" => vec![
            column("Last Seen", "string", 0),
            column("Type", "string", 0),
            column("Reason", "string", 0),
            column("Object", "string", 0),
            column("Message", "string", 0),
        ],
        "Endpoints" => vec![
            column("Name", "string", 0),
            column("Endpoints", "string", 0),
            column("Age", "string", 0),
        ],
        "Node" => vec![
            column("Name", "string", 0),
            column("Status", "string", 0),
            column("Roles", "string", 0),
            column("Age", "string", 0),
            column("Version", "string", 0),
        ],
        _ => vec![column("Name", "string", 0), column("Age", "string", 0)],
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut metadata = o["metadata"].clone();
            if let Some(m) = metadata.as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": cells(resource, o),
                   "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
           "metadata": {"resourceVersion": revision.to_string()},
           "columnDefinitions": columns, "rows": rows})
}

fn name(o: &Value) -> Value {
    o["metadata"]["name"].clone()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn containers_and_images(spec: &Value) -> (String, String) {
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let images: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["image"].as_str())
        .collect();
    (names.join(","), images.join(","))
}

fn cells(resource: &Resource, o: &Value) -> Vec<Value> {
    let age = json!(age_of(o));
    match resource.kind {
        "Pod" => {
            let statuses = o["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let total = o["spec"]["containers"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            let ready = statuses.iter().filter(|s| s["ready"] == true).count();
            let restarts: i64 = statuses.iter().map(|s| int(&s["restartCount"])).sum();
            let ip = o["status"]["podIP"].as_str().unwrap_or("<none>");
            let node = o["spec"]["nodeName"].as_str().unwrap_or("<none>");
            vec![
                name(o),
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts.to_string()),
                age,
                json!(ip),
                json!(node),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        "Deployment" => {
            let (containers, images) = containers_and_images(&o["spec"]["template"]["spec"]);
            let selector = Labels::of(&o["spec"]["selector"])
                .map(|s| s.to_text())
                .unwrap_or_default();
            vec![
                name(o),
                json!(format!(
                    "{}/{}",
                    int(&o["status"]["readyReplicas"]),
                    int(&o["spec"]["replicas"])
                )),
                json!(int(&o["status"]["updatedReplicas"])),
                json!(int(&o["status"]["availableReplicas"])),
                age,
                json!(containers),
                json!(images),
                json!(selector),
            ]
        }
        "ReplicaSet" => {
            let (containers, images) = containers_and_images(&o["spec"]["template"]["spec"]);
            let selector = Labels::of(&o["spec"]["selector"])
                .map(|s| s.to_text())
                .unwrap_or_default();
            vec![
                name(o),
                json!(int(&o["spec"]["replicas"])),
                json!(int(&o["status"]["replicas"])),
                json!(int(&o["status"]["readyReplicas"])),
                age,
                json!(containers),
                json!(images),
                json!(selector),
            ]
        }
        "Service" => {
            let spec = &o["spec"];
            let ports: Vec<String> = spec["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let protocol = p["protocol"].as_str().unwrap_or("TCP");
                    match p["nodePort"].as_i64() {
                        Some(node) => format!("{}:{node}/{protocol}", int(&p["port"])),
                        None => format!("{}/{protocol}", int(&p["port"])),
                    }
                })
                .collect();
            let selector = Labels::of_map(&spec["selector"])
                .map(|s| s.to_text())
                .unwrap_or("<none>".into());
            let external = match spec["type"].as_str() {
                Some("LoadBalancer") => "<pending>",
                _ => "<none>",
            };
            vec![
                name(o),
                spec["type"].clone(),
                json!(spec["clusterIP"].as_str().unwrap_or("<none>")),
                json!(external),
                json!(if ports.is_empty() {
                    "<none>".into()
                } else {
                    ports.join(",")
                }),
                age,
                json!(selector),
            ]
        }
        "Namespace" => vec![name(o), o["status"]["phase"].clone(), age],
        "ConfigMap" => {
            let n = o["data"].as_object().map(serde_json::Map::len).unwrap_or(0)
                + o["binaryData"]
                    .as_object()
                    .map(serde_json::Map::len)
                    .unwrap_or(0);
            vec![name(o), json!(n.to_string()), age]
        }
        "Secret" => {
            let n = o["data"].as_object().map(serde_json::Map::len).unwrap_or(0);
            vec![name(o), o["type"].clone(), json!(n.to_string()), age]
        }
        "Event" => {
            let involved = &o["involvedObject"];
            let object = format!(
                "{}/{}",
                involved["kind"].as_str().unwrap_or_default().to_lowercase(),
                involved["name"].as_str().unwrap_or_default()
            );
            let last = o["lastTimestamp"]
                .as_str()
                .map(|t| crate::time::age(crate::time::seconds_since(t)));
            vec![
                json!(last.unwrap_or_else(|| "<unknown>".into())),
                o["type"].clone(),
                o["reason"].clone(),
                json!(object),
                o["message"].clone(),
            ]
        }
        "Endpoints" => {
            let mut addresses = Vec::new();
            for subset in o["subsets"].as_array().into_iter().flatten() {
                for a in subset["addresses"].as_array().into_iter().flatten() {
                    for p in subset["ports"].as_array().into_iter().flatten() {
                        addresses.push(format!(
                            "{}:{}",
                            a["ip"].as_str().unwrap_or_default(),
                            int(&p["port"])
                        ));
                    }
                }
            }
            let shown = if addresses.is_empty() {
                "<none>".into()
            } else {
                addresses.join(",")
            };
            vec![name(o), json!(shown), age]
        }
        "Node" => vec![
            name(o),
            json!("Ready"),
            json!("control-plane"),
            age,
            json!(crate::api::GIT_VERSION),
        ],
        _ => vec![name(o), age],
    }
}

/// The STATUS column of a pod: the reason a container waits or ended,
/// else the phase (as kubectl's printer derives it).
pub fn pod_status(pod: &Value) -> String {
    if pod["metadata"]["deletionTimestamp"].is_string() {
        return "Terminating".into();
    }
    let mut status = pod["status"]["phase"]
        .as_str()
        .unwrap_or("Pending")
        .to_string();
    if let Some(reason) = pod["status"]["reason"].as_str() {
        status = reason.to_string();
    }
    for s in pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(reason) = s["state"]["waiting"]["reason"].as_str() {
            status = reason.to_string();
        } else if let Some(reason) = s["state"]["terminated"]["reason"].as_str() {
            status = reason.to_string();
        } else if s["state"]["terminated"].is_object() {
            status = format!("ExitCode:{}", int(&s["state"]["terminated"]["exitCode"]));
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_show_ready_status_and_restarts() {
        let pod = json!({"metadata": {"name": "web-1", "creationTimestamp": crate::time::now()},
            "spec": {"containers": [{"name": "web"}], "nodeName": "n"},
            "status": {"phase": "Running", "podIP": "10.244.0.5",
                       "containerStatuses": [{"ready": false, "restartCount": 3,
                           "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let table = render(Resource::of_kind("Pod").unwrap(), &[pod], 7);
        let cells = &table["rows"][0]["cells"];
        assert_eq!(cells[1], "0/1");
        assert_eq!(cells[2], "CrashLoopBackOff");
        assert_eq!(cells[3], "3");
        assert_eq!(cells[5], "10.244.0.5");
        assert_eq!(table["metadata"]["resourceVersion"], "7");
    }
}
