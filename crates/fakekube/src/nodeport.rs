// A refused Service is answered at once: the `Err` is the answer itself.
#![allow(clippy::result_large_err)]

//! How a Service is reached from outside the pods: ClusterIPs and
//! NodePorts allocated as the real server allocates them, NodePorts
//! answering on the host's loopback (as kind maps them), and the API
//! server's service and pod proxies (`…/services/web:80/proxy/…`). Both
//! go to a ready endpoint through the port the kubelet published; the
//! proxies send the endpoint's own address as `Host`, as the real API
//! server does (a Django app must allow it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fakekit::http::Body;
use http_body_util::BodyExt;
use hyper::{Request, StatusCode, header};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::Cluster;
use crate::api::{Answer, failure};
use crate::resources::Resource;

const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

/// A NodePort's Service (namespace, name) and the task listening for it.
type Listener = (String, String, JoinHandle<()>);

/// The NodePort listeners running, by port.
#[derive(Default)]
pub struct NodePorts {
    listening: Mutex<HashMap<u16, Listener>>,
}

fn services() -> &'static Resource {
    Resource::of_kind("Service").expect("served")
}

fn invalid(field: &str, message: &str) -> Answer {
    failure(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid",
        &format!("Service \"\" is invalid: {field}: {message}"),
        None,
    )
}

/// Gives a Service its ClusterIP and NodePorts (kept from `old` where it
/// had them; a NodePort asked for must be free and in range).
pub fn allocate(
    cluster: &Cluster,
    namespace: &str,
    svc: &mut Value,
    old: Option<&Value>,
) -> Result<(), Answer> {
    let name = svc["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let others: Vec<Value> = cluster
        .store
        .list(services(), None)
        .0
        .into_iter()
        .filter(|s| {
            !(s["metadata"]["name"] == name.as_str() && s["metadata"]["namespace"] == namespace)
        })
        .collect();
    let spec = &mut svc["spec"];
    if spec["type"] == "ExternalName" {
        return Ok(());
    }
    let kept = old
        .and_then(|o| o["spec"]["clusterIP"].as_str())
        .map(String::from);
    if spec["clusterIP"].as_str().is_none_or(str::is_empty) {
        let ip = kept.unwrap_or_else(|| {
            let used: Vec<&str> = others
                .iter()
                .filter_map(|s| s["spec"]["clusterIP"].as_str())
                .collect();
            (10..65000u32)
                .map(|n| format!("10.96.{}.{}", n / 250, n % 250 + 1))
                .find(|ip| !used.contains(&ip.as_str()))
                .expect("a free address")
        });
        spec["clusterIP"] = json!(ip);
    }
    spec["clusterIPs"] = json!([spec["clusterIP"]]);
    let wants_node_ports = matches!(spec["type"].as_str(), Some("NodePort" | "LoadBalancer"));
    let used: Vec<i64> = others
        .iter()
        .flat_map(|s| s["spec"]["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["nodePort"].as_i64())
        .collect();
    let old_ports: Vec<Value> = old
        .and_then(|o| o["spec"]["ports"].as_array().cloned())
        .unwrap_or_default();
    let mut taken = used.clone();
    for (i, port) in spec["ports"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if !wants_node_ports {
            if let Some(m) = port.as_object_mut() {
                m.remove("nodePort");
            }
            continue;
        }
        if let Some(asked) = port["nodePort"].as_i64() {
            if !NODE_PORTS.contains(&asked) {
                return Err(invalid(
                    &format!("spec.ports[{i}].nodePort"),
                    &format!(
                        "Invalid value: {asked}: provided port is not in the valid range. The range of valid ports is 30000-32767"
                    ),
                ));
            }
            if taken.contains(&asked) {
                return Err(invalid(
                    &format!("spec.ports[{i}].nodePort"),
                    &format!("Invalid value: {asked}: provided port is already allocated"),
                ));
            }
            taken.push(asked);
            continue;
        }
        let before = old_ports
            .iter()
            .find(|p| p["port"] == port["port"])
            .and_then(|p| p["nodePort"].as_i64());
        let chosen = before.filter(|p| !taken.contains(p)).or_else(|| {
            (0..200).find_map(|_| {
                let candidate = rand::random_range(NODE_PORTS);
                let free = !taken.contains(&candidate)
                    && std::net::TcpListener::bind(("127.0.0.1", candidate as u16)).is_ok();
                free.then_some(candidate)
            })
        });
        if let Some(chosen) = chosen {
            port["nodePort"] = json!(chosen);
            taken.push(chosen);
        }
    }
    Ok(())
}

/// Keeps a listener on 127.0.0.1 per NodePort until the process ends.
pub async fn run(cluster: Arc<Cluster>) {
    let mut revisions = cluster.store.revisions();
    loop {
        let mut wanted: HashMap<u16, (String, String)> = HashMap::new();
        for s in cluster.store.list(services(), None).0 {
            for p in s["spec"]["ports"].as_array().into_iter().flatten() {
                if let Some(node) = p["nodePort"].as_u64() {
                    let ns = s["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let name = s["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    wanted.insert(node as u16, (ns, name));
                }
            }
        }
        {
            let mut listening = cluster.nodeports.listening.lock().expect("not poisoned");
            listening.retain(|port, (ns, name, task)| {
                let keep = wanted.get(port) == Some(&(ns.clone(), name.clone()));
                if !keep {
                    task.abort();
                }
                keep
            });
            for (port, (ns, name)) in wanted {
                if listening.contains_key(&port) {
                    continue;
                }
                let task = tokio::spawn(listen(cluster.clone(), port, ns.clone(), name.clone()));
                listening.insert(port, (ns, name, task));
            }
        }
        tokio::select! {
            _ = revisions.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

async fn listen(cluster: Arc<Cluster>, port: u16, namespace: String, name: String) {
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("NodePort {port} of {namespace}/{name}: {e}");
            return;
        }
    };
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        let cluster = cluster.clone();
        let (namespace, name) = (namespace.clone(), name.clone());
        tokio::spawn(async move {
            let Some(svc) = cluster.store.get(services(), &namespace, &name) else {
                return;
            };
            let service_port = svc["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["nodePort"].as_u64() == Some(port as u64))
                .cloned()
                .unwrap_or_default();
            let Some((at, _)) = endpoint(&cluster, &svc, &service_port) else {
                return;
            };
            if let Ok(mut upstream) = tokio::net::TcpStream::connect(at).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        });
    }
}

/// A ready endpoint of `svc` for `port`: where its pod's target port is
/// published, and the `podIP:port` it answers as. Spread over the ready
/// pods.
fn endpoint(cluster: &Cluster, svc: &Value, port: &Value) -> Option<(SocketAddr, String)> {
    let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = svc["metadata"]["name"].as_str().unwrap_or_default();
    let endpoints = cluster
        .store
        .get(Resource::of_kind("Endpoints").expect("served"), ns, name)?;
    let pods = Resource::of_kind("Pod").expect("served");
    let ready: Vec<Value> = endpoints["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["addresses"].as_array().cloned().unwrap_or_default())
        .collect();
    if ready.is_empty() {
        return None;
    }
    let start = rand::random_range(0..ready.len());
    ready
        .iter()
        .cycle()
        .skip(start)
        .take(ready.len())
        .find_map(|address| {
            let pod_name = address["targetRef"]["name"].as_str()?;
            let pod = cluster.store.get(pods, ns, pod_name)?;
            let target = crate::controllers::target_port(&pod, &port["targetPort"])? as u16;
            let reach = cluster.kubelet.reach(ns, pod_name)?;
            let at = *reach.ports.get(&target)?;
            Some((
                at,
                format!("{}:{target}", address["ip"].as_str().unwrap_or_default()),
            ))
        })
}

/// The API server's proxy to a Service (`web`, `web:80`, `web:http`,
/// `http:web:80`) or a pod (`web-abc:8000`).
pub async fn proxy(
    cluster: &Cluster,
    resource: &Resource,
    namespace: &str,
    target: &str,
    rest: &str,
    req: Request<hyper::body::Incoming>,
) -> Answer {
    let parts: Vec<&str> = target.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, None),
        [name, port] => (*name, Some(*port)),
        [_scheme, name, port] => (*name, Some(*port)),
        _ => (target, None),
    };
    let reached = match resource.kind {
        "Service" => {
            let Some(svc) = cluster.store.get(services(), namespace, name) else {
                return failure(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("services \"{name}\" not found"),
                    None,
                );
            };
            let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
            let chosen = match port {
                Some(p) => ports.iter().find(|sp| {
                    sp["name"] == p
                        || sp["port"].as_i64().map(|n| n.to_string()).as_deref() == Some(p)
                }),
                None => ports.first(),
            };
            let Some(chosen) = chosen else {
                return failure(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    &format!("no endpoints available for service \"{name}\""),
                    None,
                );
            };
            match endpoint(cluster, &svc, chosen) {
                Some(found) => found,
                None => {
                    return failure(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailable",
                        &format!("no endpoints available for service \"{name}\""),
                        None,
                    );
                }
            }
        }
        _ => {
            let Some(pod) = cluster.store.get(resource, namespace, name) else {
                return failure(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("pods \"{name}\" not found"),
                    None,
                );
            };
            let reach = cluster.kubelet.reach(namespace, name).unwrap_or_default();
            let first = pod["spec"]["containers"][0]["ports"][0]["containerPort"]
                .as_u64()
                .map(|p| p as u16);
            let number = port
                .and_then(|p| p.parse::<u16>().ok())
                .or(first)
                .unwrap_or(80);
            match reach.ports.get(&number) {
                Some(at) => (
                    *at,
                    format!(
                        "{}:{number}",
                        reach.pod_ip.map(|i| i.to_string()).unwrap_or_default()
                    ),
                ),
                None => {
                    return failure(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailable",
                        &format!(
                            "error trying to reach pod: port {number} of pod \"{name}\" is not published"
                        ),
                        None,
                    );
                }
            }
        }
    };
    forward(req, reached, rest).await
}

async fn forward(
    req: Request<hyper::body::Incoming>,
    (at, host): (SocketAddr, String),
    rest: &str,
) -> Answer {
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let path = format!("/{rest}{query}");
    let (parts, body) = req.into_parts();
    let mut outgoing = Request::builder().method(parts.method).uri(&path);
    for (k, v) in &parts.headers {
        if !matches!(
            k.as_str(),
            "authorization"
                | "host"
                | "connection"
                | "upgrade"
                | "keep-alive"
                | "te"
                | "transfer-encoding"
        ) {
            outgoing = outgoing.header(k, v);
        }
    }
    let outgoing = outgoing
        .header(header::HOST, &host)
        .body(body)
        .expect("a valid request");
    let unreachable = |why: String| {
        failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            &format!("error trying to reach service: dial tcp {host}: {why}"),
            None,
        )
    };
    let stream = match tokio::net::TcpStream::connect(at).await {
        Ok(s) => s,
        Err(e) => return unreachable(format!("connect: {e}")),
    };
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(io).await {
        Ok(pair) => pair,
        Err(e) => return unreachable(e.to_string()),
    };
    tokio::spawn(connection);
    match tokio::time::timeout(Duration::from_secs(60), sender.send_request(outgoing)).await {
        Ok(Ok(response)) => response.map(|b| -> Body { b.map_err(std::io::Error::other).boxed() }),
        Ok(Err(e)) => unreachable(e.to_string()),
        Err(_) => unreachable("i/o timeout".into()),
    }
}
