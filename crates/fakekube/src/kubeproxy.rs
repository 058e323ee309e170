//! Services inside the cluster: what kube-proxy and the cluster's DNS do
//! on a real node. Each Service with a selector gets a small forwarder
//! container on the pods' network, named by the Service's DNS names
//! (`web`, `web.default`, `web.default.svc`, `web.default.svc.cluster.local`),
//! listening on the Service's ports and forwarding each connection to a
//! ready endpoint's `podIP:targetPort`. The endpoints come from a file
//! the API server rewrites as they change, so a pod reaches a Service by
//! name and port however its pods come and go.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use serde_json::{Value, json};

use crate::Cluster;
use crate::resources::Resource;

const SCRIPT: &str = include_str!("kubeproxy.py");

fn kind(name: &str) -> &'static Resource {
    Resource::of_kind(name).expect("served")
}

/// What one Service's forwarder is: its ports (a change makes a new one).
#[derive(Debug, Clone, PartialEq)]
struct Want {
    namespace: String,
    name: String,
    ports: Vec<u16>,
}

/// Keeps a forwarder per Service until the process ends.
pub async fn run(cluster: Arc<Cluster>) {
    let Some(image) = cluster.config.proxy_image.clone() else {
        return;
    };
    let mut running: HashMap<String, (Want, String)> = HashMap::new();
    let mut revisions = cluster.store.revisions();
    loop {
        let mut wanted: HashMap<String, Want> = HashMap::new();
        for svc in cluster.store.list(kind("Service"), None).0 {
            if svc["spec"]["selector"]
                .as_object()
                .is_none_or(serde_json::Map::is_empty)
            {
                continue;
            }
            let namespace = svc["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let name = svc["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut ports: Vec<u16> = svc["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["port"].as_u64().map(|p| p as u16))
                .collect();
            ports.sort_unstable();
            let folder = cluster
                .config
                .dir
                .join("services")
                .join(format!("{namespace}-{name}"));
            let table = endpoints_table(&cluster, &namespace, &name, &svc);
            let file = folder.join("endpoints.json");
            let text = serde_json::to_vec(&table).expect("JSON encodes");
            if std::fs::read(&file).ok().as_deref() != Some(text.as_slice()) {
                let _ = fakekit::store::write_atomically(&file, &text);
            }
            wanted.insert(
                format!("{namespace}/{name}"),
                Want {
                    namespace,
                    name,
                    ports,
                },
            );
        }
        let stale: Vec<String> = running
            .iter()
            .filter(|(key, (want, _))| wanted.get(*key) != Some(want))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some((want, container)) = running.remove(&key) {
                remove(&cluster, &container).await;
                if !wanted.contains_key(&key) {
                    let folder = cluster
                        .config
                        .dir
                        .join("services")
                        .join(format!("{}-{}", want.namespace, want.name));
                    let _ = std::fs::remove_dir_all(folder);
                }
            }
        }
        for (key, want) in wanted {
            if running.contains_key(&key) {
                continue;
            }
            match start(&cluster, &image, &want).await {
                Ok(container) => {
                    running.insert(key, (want, container));
                }
                Err(e) => tracing::warn!("the forwarder of service {key}: {e}"),
            }
        }
        tokio::select! {
            _ = revisions.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// Service port → the ready `[podIP, targetPort]` pairs behind it.
fn endpoints_table(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    svc: &Value,
) -> BTreeMap<String, Vec<Value>> {
    let mut table = BTreeMap::new();
    let Some(endpoints) = cluster.store.get(kind("Endpoints"), namespace, name) else {
        return table;
    };
    let pods = kind("Pod");
    for port in svc["spec"]["ports"].as_array().into_iter().flatten() {
        let mut targets = Vec::new();
        for subset in endpoints["subsets"].as_array().into_iter().flatten() {
            for address in subset["addresses"].as_array().into_iter().flatten() {
                let pod_name = address["targetRef"]["name"].as_str().unwrap_or_default();
                let Some(pod) = cluster.store.get(pods, namespace, pod_name) else {
                    continue;
                };
                if let Some(target) = crate::controllers::target_port(&pod, &port["targetPort"]) {
                    targets.push(json!([address["ip"], target]));
                }
            }
        }
        table.insert(port["port"].as_i64().unwrap_or(0).to_string(), targets);
    }
    table
}

async fn start(
    cluster: &Cluster,
    image: &str,
    want: &Want,
) -> Result<String, bollard::errors::Error> {
    let docker = &cluster.kubelet.docker;
    let container = format!(
        "{}-svc-{}-{}",
        cluster.config.name_prefix, want.namespace, want.name
    );
    remove(cluster, &container).await;
    let folder = cluster
        .config
        .dir
        .join("services")
        .join(format!("{}-{}", want.namespace, want.name));
    let _ = std::fs::create_dir_all(&folder);
    let _ = std::fs::write(folder.join("kubeproxy.py"), SCRIPT);
    let (ns, name) = (&want.namespace, &want.name);
    let aliases = vec![
        name.clone(),
        format!("{name}.{ns}"),
        format!("{name}.{ns}.svc"),
        format!("{name}.{ns}.svc.cluster.local"),
    ];
    let mut labels = cluster.config.labels.clone();
    labels.insert("deploylab.k8s.service".into(), format!("{ns}/{name}"));
    let mut cmd = vec![
        "python3".to_string(),
        "-u".into(),
        "/svc/kubeproxy.py".into(),
    ];
    cmd.extend(want.ports.iter().map(u16::to_string));
    let config = ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(cmd),
        cmd: Some(Vec::new()),
        user: Some("0".into()),
        labels: Some(labels),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{}:/svc:ro", folder.display())]),
            network_mode: Some(cluster.config.network.clone()),
            memory: Some(64 * 1024 * 1024),
            pids_limit: Some(64),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                cluster.config.network.clone(),
                EndpointSettings {
                    aliases: Some(aliases),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default()
        .name(&container)
        .build();
    docker.create_container(Some(options), config).await?;
    docker.start_container(&container, None).await?;
    Ok(container)
}

async fn remove(cluster: &Cluster, container: &str) {
    let _ = crate::kubelet::remove(&cluster.kubelet.docker, container).await;
}
