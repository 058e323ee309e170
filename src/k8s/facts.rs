//! Everything the k8s checks read, in one pass through the Kubernetes API
//! with kube-rs (the same code for the built-in cluster and kind; no
//! kubectl): the app's Deployments, ReplicaSets, Pods, Services,
//! EndpointSlices and events, which of their images the cluster has, the
//! Services' answers through the API server's proxy, and the last log
//! lines of pods that crash. Recordable: the checks are tested from
//! constructed objects.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bollard::Docker;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, LogParams};
use serde::{Deserialize, Serialize};

use crate::http_answer::HttpAnswer;

/// How long one request of the checks may take.
const TIMEOUT: Duration = Duration::from_secs(8);

/// Namespaces of the cluster's own, never the student's app.
const SYSTEM: &[&str] = &["kube-system", "kube-public", "kube-node-lease", "local-path-storage"];

/// Images that are never the app (the database and web servers beside it).
const SUPPORT: &[&str] = &["postgres", "nginx", "redis", "memcached", "mysql", "mariadb", "busybox"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Facts {
    /// The server's version, or why it did not answer.
    pub(crate) api: Result<String, String>,
    #[serde(default)]
    pub(crate) deployments: Vec<Deployment>,
    #[serde(default)]
    pub(crate) replica_sets: Vec<ReplicaSet>,
    #[serde(default)]
    pub(crate) pods: Vec<Pod>,
    #[serde(default)]
    pub(crate) services: Vec<Service>,
    #[serde(default)]
    pub(crate) endpoint_slices: Vec<EndpointSlice>,
    #[serde(default)]
    pub(crate) events: Vec<Event>,
    /// Image reference → whether the cluster has it.
    #[serde(default)]
    pub(crate) images: BTreeMap<String, bool>,
    /// Per Service (`namespace/name`), its answers through the proxy.
    #[serde(default)]
    pub(crate) answers: BTreeMap<String, Vec<HttpAnswer>>,
    /// Per pod that crashed, the last lines of its previous container.
    #[serde(default)]
    pub(crate) logs: BTreeMap<String, String>,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            api: Err(String::new()),
            deployments: Vec::new(),
            replica_sets: Vec::new(),
            pods: Vec::new(),
            services: Vec::new(),
            endpoint_slices: Vec::new(),
            events: Vec::new(),
            images: BTreeMap::new(),
            answers: BTreeMap::new(),
            logs: BTreeMap::new(),
        }
    }
}

impl Facts {
    /// The Deployments of the student's app: those running an image that
    /// is not a database or web server (all, if every one is).
    pub(crate) fn app_deployments(&self) -> Vec<&Deployment> {
        let is_support = |image: &str| {
            let last = image.rsplit('/').next().unwrap_or(image);
            let repo = last.split([':', '@']).next().unwrap_or(last);
            SUPPORT.contains(&repo)
        };
        let runs_app = |d: &&Deployment| {
            d.spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .is_some_and(|s| s.containers.iter().any(|c| !is_support(c.image.as_deref().unwrap_or_default())))
        };
        let apps: Vec<&Deployment> = self.deployments.iter().filter(runs_app).collect();
        match apps.is_empty() {
            true => self.deployments.iter().collect(),
            false => apps,
        }
    }

    /// The events about `pod`, oldest first.
    pub(crate) fn events_of(&self, pod: &Pod) -> Vec<&Event> {
        let mut events: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| e.involved_object.uid.is_some() && e.involved_object.uid == pod.metadata.uid)
            .collect();
        events.sort_by_key(|e| e.last_timestamp.clone().map(|t| t.0));
        events
    }
}

/// Reads the facts of `cluster` through its kubeconfig; `paths`: what
/// the Services are asked.
pub(crate) async fn gather(docker: &Docker, cluster: &super::cluster::Cluster, paths: &[&str]) -> Facts {
    let kubeconfig = cluster.kubeconfig();
    let kubeconfig = kubeconfig.as_path();
    let client = match client(kubeconfig).await {
        Ok(client) => client,
        Err(why) => return Facts { api: Err(why), ..Facts::default() },
    };
    let version = match tokio::time::timeout(TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(v)) => v.git_version,
        Ok(Err(e)) => return Facts { api: Err(e.to_string()), ..Facts::default() },
        Err(_) => return Facts { api: Err("no answer within 8 s".into()), ..Facts::default() },
    };
    let mut facts = Facts { api: Ok(version), ..Facts::default() };
    facts.deployments = list(&client).await;
    facts.replica_sets = list(&client).await;
    facts.pods = list(&client).await;
    facts.services = list(&client).await;
    facts.endpoint_slices = list(&client).await;
    facts.events = list(&client).await;
    let images: Vec<String> = facts
        .app_deployments()
        .iter()
        .filter_map(|d| d.spec.as_ref()?.template.spec.as_ref())
        .flat_map(|s| s.containers.iter().filter_map(|c| c.image.clone()))
        .collect();
    for image in images {
        let present = cluster.has_image(docker, &image).await;
        facts.images.insert(image, present);
    }
    facts.logs = crash_logs(&client, &facts.pods).await;
    if !paths.is_empty() {
        let services: Vec<Service> = facts
            .app_deployments()
            .iter()
            .flat_map(|d| super::checks::services_of(&facts, d))
            .cloned()
            .collect();
        for s in services {
            let ns = s.metadata.namespace.clone().unwrap_or_default();
            let name = s.metadata.name.clone().unwrap_or_default();
            let port = s.spec.as_ref().and_then(|s| s.ports.as_ref()).and_then(|p| p.first()).map(|p| p.port);
            let target = match port {
                Some(port) => format!("{name}:{port}"),
                None => name.clone(),
            };
            let mut answers = Vec::new();
            for path in paths {
                for _ in 0..2 {
                    let url = format!("/api/v1/namespaces/{ns}/services/{target}/proxy{path}");
                    answers.push(ask(&client, &url).await);
                }
            }
            facts.answers.insert(format!("{ns}/{name}"), answers);
        }
    }
    facts
}

async fn client(kubeconfig: &Path) -> Result<kube::Client, String> {
    let config = kube::config::Kubeconfig::read_from(kubeconfig).map_err(|e| e.to_string())?;
    let options = kube::config::KubeConfigOptions::default();
    let mut config = kube::Config::from_custom_kubeconfig(config, &options)
        .await
        .map_err(|e| e.to_string())?;
    config.connect_timeout = Some(TIMEOUT);
    config.read_timeout = Some(TIMEOUT);
    kube::Client::try_from(config).map_err(|e| e.to_string())
}

/// Every object of a kind outside the system namespaces (none where the
/// list fails: the checks then see nothing of it).
async fn list<K>(client: &kube::Client) -> Vec<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = Api::all(client.clone());
    match api.list(&ListParams::default()).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter(|o| !SYSTEM.contains(&o.meta().namespace.as_deref().unwrap_or_default()))
            .collect(),
        Err(e) => {
            tracing::warn!("listing: {e}");
            Vec::new()
        }
    }
}

/// The last lines of the previous container of each pod that restarted.
async fn crash_logs(client: &kube::Client, pods: &[Pod]) -> BTreeMap<String, String> {
    let mut logs = BTreeMap::new();
    for pod in pods {
        let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
        let Some(crashed) = statuses.iter().find(|s| s.restart_count > 0) else {
            continue;
        };
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let params = LogParams {
            container: Some(crashed.name.clone()),
            previous: true,
            tail_lines: Some(10),
            ..LogParams::default()
        };
        if let Ok(Ok(text)) = tokio::time::timeout(TIMEOUT, api.logs(&name, &params)).await {
            logs.insert(name, text);
        }
    }
    logs
}

/// One GET through the API server (its proxy), as an answer.
async fn ask(client: &kube::Client, url: &str) -> HttpAnswer {
    let request = http::Request::get(url).body(Vec::new()).expect("a valid request");
    let sent = tokio::time::timeout(TIMEOUT, client.send(request.map(kube::client::Body::from))).await;
    let response = match sent {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return answer_failed(url, e.to_string()),
        Err(_) => return answer_failed(url, "no answer within 8 s".into()),
    };
    let status = response.status().as_u16();
    let mut headers = BTreeMap::new();
    let mut cookies = Vec::new();
    for (k, v) in response.headers() {
        let v = v.to_str().unwrap_or_default().to_string();
        if k == http::header::SET_COOKIE {
            cookies.push(v.clone());
        }
        headers.insert(k.as_str().to_string(), v);
    }
    use http_body_util::BodyExt;
    let body = match tokio::time::timeout(TIMEOUT, response.into_body().collect()).await {
        Ok(Ok(b)) => String::from_utf8_lossy(&b.to_bytes()).chars().take(4096).collect(),
        _ => String::new(),
    };
    HttpAnswer {
        url: url.to_string(),
        status: Some(status),
        headers,
        cookies,
        body,
        error: None,
    }
}

fn answer_failed(url: &str, why: String) -> HttpAnswer {
    HttpAnswer {
        url: url.to_string(),
        error: Some(why),
        ..HttpAnswer::default()
    }
}

/// A GET through the API, as JSON (None when it fails).
async fn get_json(client: &kube::Client, path: &str) -> Option<serde_json::Value> {
    let request = http::Request::get(path).body(Vec::new()).expect("a valid request");
    let text = tokio::time::timeout(TIMEOUT, client.request_text(request)).await.ok()?.ok()?;
    serde_json::from_str(&text).ok()
}

/// The objects of the kinds a submission hands in, outside the system
/// namespaces, as JSON.
pub(crate) async fn gather_objects(kubeconfig: &Path) -> Vec<serde_json::Value> {
    let Ok(client) = client(kubeconfig).await else {
        return Vec::new();
    };
    let mut objects = Vec::new();
    for kind in ["Namespace", "Secret", "ConfigMap", "Service", "Deployment", "Pod"] {
        let resource = fakekube::resources::Resource::of_kind(kind).expect("served");
        let Some(list) = get_json(&client, &resource.collection_path(None)).await else {
            continue;
        };
        for mut item in list["items"].as_array().cloned().unwrap_or_default() {
            let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
            let name = item["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let system = if kind == "Namespace" { &name } else { &namespace };
            if SYSTEM.contains(&system.as_str()) {
                continue;
            }
            item["kind"] = serde_json::json!(kind);
            item["apiVersion"] = serde_json::json!(resource.api_version());
            objects.push(item);
        }
    }
    objects
}

/// The images the app's Deployments run.
pub(crate) async fn app_images(kubeconfig: &Path) -> Vec<String> {
    let Ok(client) = client(kubeconfig).await else {
        return Vec::new();
    };
    let facts = Facts {
        deployments: list(&client).await,
        ..Facts::default()
    };
    let mut images: Vec<String> = facts
        .app_deployments()
        .iter()
        .filter_map(|d| d.spec.as_ref()?.template.spec.as_ref())
        .flat_map(|s| s.containers.iter().filter_map(|c| c.image.clone()))
        .collect();
    images.sort();
    images.dedup();
    images
}

/// Creates each object (in the given order); what the cluster refused,
/// and why.
pub(crate) async fn apply(kubeconfig: &Path, objects: &[serde_json::Value]) -> Vec<(String, String)> {
    let client = match client(kubeconfig).await {
        Ok(c) => c,
        Err(why) => return vec![("the cluster".into(), why)],
    };
    let mut refused = Vec::new();
    for object in objects {
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let what = format!("{} {name}", kind.to_lowercase());
        let Some(resource) = fakekube::resources::Resource::of_kind(kind) else {
            refused.push((what, "a kind the built-in cluster does not serve".into()));
            continue;
        };
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or("default");
        let path = resource.collection_path(Some(namespace));
        let body = serde_json::to_vec(object).expect("JSON encodes");
        let request = http::Request::post(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .expect("a valid request");
        if let Err(e) = client.request_text(request).await {
            refused.push((what, e.to_string()));
        }
    }
    refused
}

/// Waits until every app Deployment is rolled out (true), or `within`.
pub(crate) async fn await_rollouts(kubeconfig: &Path, within: Duration) -> bool {
    let Ok(client) = client(kubeconfig).await else {
        return false;
    };
    let deadline = tokio::time::Instant::now() + within;
    let mut changes = tokio::time::interval(Duration::from_millis(500));
    loop {
        changes.tick().await;
        let facts = Facts {
            deployments: list(&client).await,
            ..Facts::default()
        };
        if facts.app_deployments().iter().all(|d| super::checks::rollout(d).is_ok()) {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
    }
}
