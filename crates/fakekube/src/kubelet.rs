//! The kubelet of the one node: each pod bound to it runs as Docker
//! containers on the cluster's network, from images in the local engine
//! with the real `imagePullPolicy` semantics (`Always`, the default for
//! `:latest`, pulls, and with no registry that is `ErrImagePull`, then
//! `ImagePullBackOff`, as on kind). Containers get the pod's env
//! (values, ConfigMaps, Secrets, the downward API), volumes (ConfigMaps,
//! Secrets, emptyDir), resource limits, and restart with kubelet's
//! back-off (`CrashLoopBackOff`); startup, liveness and readiness probes
//! (httpGet, tcpSocket, exec) run on their periods. The container ports
//! are published on the host so probes, the API server's proxies and
//! NodePorts reach them without routing to container addresses.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use fakekit::reconcile::{Backoff, Reconciler};
use futures_util::StreamExt;
use hyper::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::Cluster;
use crate::api::{Answer, LogQuery, failure};
use crate::controllers::record;
use crate::resources::Resource;
use crate::selector::Labels;

/// How long a pull may take before it counts as failed.
const PULL_TIMEOUT: Duration = Duration::from_secs(20);

/// Messages the kubelet gives (in events and container states).
mod text {
    pub(super) fn pulling(image: &str) -> String {
        format!("Pulling image \"{image}\"")
    }
    pub(super) fn pull_failed(image: &str, why: &str) -> String {
        format!("Failed to pull image \"{image}\": {why}")
    }
    pub(super) fn back_off_pull(image: &str) -> String {
        format!("Back-off pulling image \"{image}\"")
    }
    pub(super) fn never_pull(image: &str) -> String {
        format!("Container image \"{image}\" is not present with pull policy of Never")
    }
    pub(super) fn present(image: &str) -> String {
        format!("Container image \"{image}\" already present on machine")
    }
    pub(super) fn created(name: &str) -> String {
        format!("Created container: {name}")
    }
    pub(super) fn started(name: &str) -> String {
        format!("Started container {name}")
    }
    pub(super) fn back_off(delay: u64, name: &str, pod: &str, ns: &str, uid: &str) -> String {
        format!("back-off {delay}s restarting failed container={name} pod={pod}_{ns}({uid})")
    }
    pub(super) fn probe_failed(kind: &str, why: &str) -> String {
        format!("{kind} probe failed: {why}")
    }
    pub(super) fn will_restart(name: &str, kind: &str) -> String {
        format!("Container {name} failed {kind} probe, will be restarted")
    }
    pub(super) fn non_root(pod: &str, name: &str) -> String {
        format!(
            "container has runAsNonRoot and image will run as root (pod: \"{pod}\", container: {name})"
        )
    }
    pub(super) fn no_claims(claim: &str) -> String {
        format!(
            "persistentvolumeclaim \"{claim}\" not found (deploylab's built-in cluster has no PersistentVolumes: use an emptyDir volume)"
        )
    }
    pub(super) fn waiting(name: &str, pod: &str, why: &str) -> String {
        format!("container \"{name}\" in pod \"{pod}\" is waiting to start: {why}")
    }
}

/// Where a pod's containers answer, for the proxies and NodePorts.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub pod_ip: Option<IpAddr>,
    /// Container port → where it is published on the host.
    pub ports: HashMap<u16, SocketAddr>,
}

/// A container of a pod: namespace, pod, container name.
type ContainerKey = (String, String, String);
/// Its Docker container now, and the one before it (for `--previous`).
type Containers = (Option<String>, Option<String>);

pub struct Kubelet {
    pub(crate) docker: Docker,
    /// The host's address on the pods' network (the node's IP).
    host_ip: IpAddr,
    /// Per pod (namespace, name).
    reach: Mutex<HashMap<(String, String), Reach>>,
    /// Per pod and container name, its Docker container (current, previous).
    containers: Mutex<HashMap<ContainerKey, Containers>>,
}

/// The host's address on `network` (its gateway).
pub async fn gateway(docker: &Docker, network: &str) -> Result<IpAddr, bollard::errors::Error> {
    let info = docker.inspect_network(network, None).await?;
    let gateway = info
        .ipam
        .and_then(|i| i.config)
        .into_iter()
        .flatten()
        .find_map(|c| c.gateway?.parse().ok());
    Ok(gateway.unwrap_or(IpAddr::from([172, 17, 0, 1])))
}

impl Kubelet {
    pub fn new(docker: Docker, host_ip: IpAddr) -> Kubelet {
        Kubelet {
            docker,
            host_ip,
            reach: Mutex::default(),
            containers: Mutex::default(),
        }
    }

    /// The Docker container running a pod's container (`name`, or the
    /// pod's only one).
    pub fn running_container(
        &self,
        namespace: &str,
        pod: &str,
        name: Option<&str>,
    ) -> Option<String> {
        let containers = self.containers.lock().expect("not poisoned");
        let mine: Vec<(&ContainerKey, &Containers)> = containers
            .iter()
            .filter(|((ns, p, c), _)| ns == namespace && p == pod && name.is_none_or(|n| n == c))
            .collect();
        match mine.as_slice() {
            [(_, (Some(id), _))] => Some(id.clone()),
            _ => None,
        }
    }

    /// Where a pod answers.
    pub fn reach(&self, namespace: &str, pod: &str) -> Option<Reach> {
        let reach = self.reach.lock().expect("not poisoned");
        reach
            .get(&(namespace.to_string(), pod.to_string()))
            .cloned()
    }
}

/// Where the cluster reads which local image stands for an image name
/// (grading builds each submission's images under tags of its own).
fn image_aliases_path(dir: &std::path::Path) -> PathBuf {
    dir.join("images.json")
}

/// Says that `name → tag`: pods naming `name` run the local image `tag`.
pub fn write_image_aliases(
    dir: &std::path::Path,
    aliases: &BTreeMap<String, String>,
) -> Result<(), String> {
    let text = serde_json::to_vec(aliases).expect("JSON encodes");
    fakekit::store::write_atomically(&image_aliases_path(dir), &text).map_err(|e| e.to_string())
}

/// The local image a pod's image name stands for.
pub fn resolve_image(dir: &std::path::Path, image: &str) -> String {
    let aliases: BTreeMap<String, String> = std::fs::read(image_aliases_path(dir))
        .ok()
        .and_then(|t| serde_json::from_slice(&t).ok())
        .unwrap_or_default();
    aliases
        .get(image)
        .cloned()
        .unwrap_or_else(|| image.to_string())
}

/// The QoS class of a pod spec.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let set = |c: &Value, what: &str, r: &str| !c["resources"][what][r].is_null();
    let none = containers.iter().all(|c| {
        ["requests", "limits"]
            .iter()
            .all(|w| ["cpu", "memory"].iter().all(|r| !set(c, w, r)))
    });
    if none {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|r| {
            set(c, "limits", r)
                && (!set(c, "requests", r)
                    || c["resources"]["requests"][r] == c["resources"]["limits"][r])
        })
    });
    match guaranteed {
        true => "Guaranteed",
        false => "Burstable",
    }
}

/// A quantity in bytes ("512Mi", "1G", "256M", "1e9").
pub fn bytes(quantity: &str) -> Option<i64> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("m", 1e-3),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(n) = quantity.strip_suffix(suffix) {
            return Some((n.parse::<f64>().ok()? * factor) as i64);
        }
    }
    quantity.parse::<f64>().ok().map(|n| n as i64)
}

/// CPUs in billionths ("500m", "1", "0.25").
pub fn nano_cpus(quantity: &str) -> Option<i64> {
    match quantity.strip_suffix('m') {
        Some(milli) => Some(milli.parse::<f64>().ok()? as i64 * 1_000_000),
        None => Some((quantity.parse::<f64>().ok()? * 1e9) as i64),
    }
}

fn pods() -> &'static Resource {
    Resource::of_kind("Pod").expect("served")
}

/// Keeps a task per pod bound to the node until the process ends.
pub async fn run(cluster: Arc<Cluster>) {
    let mut running: Reconciler<String, (String, String)> = Reconciler::default();
    let mut revisions = cluster.store.revisions();
    loop {
        let wants: Vec<(String, (String, String))> = cluster
            .store
            .list(pods(), None)
            .0
            .iter()
            .filter(|p| p["spec"]["nodeName"] == crate::NODE)
            .map(|p| {
                let m = &p["metadata"];
                let (uid, ns, name) = (
                    m["uid"].as_str(),
                    m["namespace"].as_str(),
                    m["name"].as_str(),
                );
                (
                    uid.unwrap_or_default().into(),
                    (
                        ns.unwrap_or_default().into(),
                        name.unwrap_or_default().into(),
                    ),
                )
            })
            .collect();
        running
            .apply(wants, |(ns, name), cancel| {
                tokio::spawn(pod_task(cluster.clone(), ns.clone(), name.clone(), cancel))
            })
            .await;
        tokio::select! {
            _ = revisions.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// One probe's schedule and counts.
#[derive(Debug)]
struct ProbeState {
    next: Instant,
    successes: i64,
    failures: i64,
}

/// What the kubelet knows of one container of a pod.
struct Run {
    spec: Value,
    name: String,
    docker_name: String,
    id: Option<String>,
    restarts: i64,
    backoff: Backoff,
    pull_backoff: Backoff,
    next_start: Instant,
    waiting: Option<(String, String)>,
    terminated: Option<Value>,
    last_state: Value,
    started_at: Option<String>,
    started: bool,
    ready: bool,
    probes: HashMap<&'static str, ProbeState>,
    image_id: String,
    /// Terminated and not to be restarted (restartPolicy).
    done: bool,
}

struct Pod {
    cluster: Arc<Cluster>,
    namespace: String,
    name: String,
    uid: String,
    runs: Vec<Run>,
    /// The first container holds the pod's network; the others join it.
    network_holder: Option<String>,
    pod_ip: Option<IpAddr>,
    volumes: PathBuf,
    start_time: String,
}

async fn pod_task(
    cluster: Arc<Cluster>,
    namespace: String,
    name: String,
    cancel: CancellationToken,
) {
    let Some(pod) = cluster.store.get(pods(), &namespace, &name) else {
        return;
    };
    let uid = pod["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let prefix = &cluster.config.name_prefix;
    let runs = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let cname = c["name"].as_str().unwrap_or_default().to_string();
            Run {
                spec: c.clone(),
                docker_name: format!("{prefix}-{namespace}-{name}-{cname}"),
                name: cname,
                id: None,
                restarts: 0,
                backoff: Backoff::new(Duration::from_secs(5), Duration::from_secs(300)),
                pull_backoff: Backoff::new(Duration::from_secs(5), Duration::from_secs(300)),
                next_start: Instant::now(),
                waiting: Some(("ContainerCreating".into(), String::new())),
                terminated: None,
                last_state: json!({}),
                started_at: None,
                started: false,
                ready: false,
                probes: HashMap::new(),
                image_id: String::new(),
                done: false,
            }
        })
        .collect();
    let mut state = Pod {
        volumes: cluster.config.dir.join("volumes").join(&uid),
        cluster: cluster.clone(),
        namespace,
        name,
        uid,
        runs,
        network_holder: None,
        pod_ip: None,
        start_time: crate::time::now(),
    };
    loop {
        state.step(&pod).await;
        state.write_status();
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
    state.teardown().await;
}

impl Pod {
    fn docker(&self) -> &Docker {
        &self.cluster.kubelet.docker
    }

    fn event(&self, kind: &str, reason: &str, message: &str) {
        if let Some(pod) = self.cluster.store.get(pods(), &self.namespace, &self.name) {
            record(&self.cluster.store, &pod, kind, reason, message, "kubelet");
        }
    }

    async fn step(&mut self, pod: &Value) {
        for i in 0..self.runs.len() {
            if self.runs[i].id.is_some() {
                self.watch_container(i, pod).await;
            } else if !self.runs[i].done && Instant::now() >= self.runs[i].next_start {
                self.start_container(i, pod).await;
            }
        }
    }

    async fn start_container(&mut self, i: usize, pod: &Value) {
        let image = self.runs[i].spec["image"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let policy = self.runs[i].spec["imagePullPolicy"]
            .as_str()
            .unwrap_or("IfNotPresent")
            .to_string();
        let present = self.docker().inspect_image(&image).await.ok();
        let usable = match (policy.as_str(), present) {
            ("Never", None) => {
                self.runs[i].waiting = Some(("ErrImageNeverPull".into(), text::never_pull(&image)));
                self.event("Warning", "ErrImageNeverPull", &text::never_pull(&image));
                self.runs[i].next_start = Instant::now() + Duration::from_secs(10);
                return;
            }
            ("IfNotPresent" | "Never", Some(found)) => {
                self.event("Normal", "Pulled", &text::present(&image));
                found
            }
            _ => match self.pull(&image).await {
                Ok(found) => {
                    self.runs[i].pull_backoff =
                        Backoff::new(Duration::from_secs(5), Duration::from_secs(300));
                    found
                }
                Err(why) => {
                    let run = &mut self.runs[i];
                    let delay = run.pull_backoff.after_crash();
                    let was_pull_error = run
                        .waiting
                        .as_ref()
                        .is_some_and(|(r, _)| r == "ErrImagePull");
                    run.waiting = match was_pull_error {
                        true => Some(("ImagePullBackOff".into(), text::back_off_pull(&image))),
                        false => Some(("ErrImagePull".into(), text::pull_failed(&image, &why))),
                    };
                    run.next_start = Instant::now() + delay.max(Duration::from_secs(5));
                    let message = text::pull_failed(&image, &why);
                    self.event("Warning", "Failed", &message);
                    self.event("Warning", "Failed", "Error: ErrImagePull");
                    if was_pull_error {
                        self.event("Normal", "BackOff", &text::back_off_pull(&image));
                        self.event("Warning", "Failed", "Error: ImagePullBackOff");
                    }
                    return;
                }
            },
        };
        self.runs[i].image_id = usable.id.clone().unwrap_or_default();
        let config = match self.container_config(i, pod, &usable).await {
            Ok(config) => config,
            Err(why) => return self.failed_start(i, "CreateContainerConfigError", why, 5),
        };
        let docker_name = self.runs[i].docker_name.clone();
        let _ = remove(self.docker(), &docker_name).await;
        let options = CreateContainerOptionsBuilder::default()
            .name(&docker_name)
            .build();
        let created = match self.docker().create_container(Some(options), config).await {
            Ok(created) => created,
            Err(e) => return self.failed_start(i, "CreateContainerError", e.to_string(), 10),
        };
        let name = self.runs[i].name.clone();
        self.event("Normal", "Created", &text::created(&name));
        if let Err(e) = self.docker().start_container(&created.id, None).await {
            let _ = remove(self.docker(), &created.id).await;
            return self.failed_start(i, "RunContainerError", e.to_string(), 10);
        }
        self.event("Normal", "Started", &text::started(&name));
        let run = &mut self.runs[i];
        run.id = Some(created.id.clone());
        run.waiting = None;
        run.terminated = None;
        run.started_at = Some(crate::time::now());
        run.started = run.spec["startupProbe"].is_null();
        run.ready = false;
        run.probes.clear();
        let now = Instant::now();
        for kind in ["startupProbe", "livenessProbe", "readinessProbe"] {
            let delay = run.spec[kind]["initialDelaySeconds"].as_u64().unwrap_or(0);
            run.probes.insert(
                kind,
                ProbeState {
                    next: now + Duration::from_secs(delay),
                    successes: 0,
                    failures: 0,
                },
            );
        }
        {
            let mut containers = self
                .cluster
                .kubelet
                .containers
                .lock()
                .expect("not poisoned");
            let entry = containers
                .entry((self.namespace.clone(), self.name.clone(), name))
                .or_default();
            entry.0 = Some(created.id.clone());
        }
        if self.network_holder.is_none() {
            self.network_holder = Some(created.id.clone());
            self.learn_reach(&created.id).await;
        }
    }

    /// A container that could not start waits, saying why, and is tried
    /// again after `retry` seconds.
    fn failed_start(&mut self, i: usize, reason: &str, why: String, retry: u64) {
        self.event("Warning", "Failed", &format!("Error: {why}"));
        self.runs[i].waiting = Some((reason.into(), why));
        self.runs[i].next_start = Instant::now() + Duration::from_secs(retry);
    }

    async fn pull(&self, image: &str) -> Result<bollard::models::ImageInspect, String> {
        self.event("Normal", "Pulling", &text::pulling(image));
        let options = CreateImageOptionsBuilder::default()
            .from_image(image)
            .build();
        let pulling = async {
            let mut stream = self.docker().create_image(Some(options), None, None);
            while let Some(step) = stream.next().await {
                step.map_err(|e| docker_message(&e))?;
            }
            Ok::<(), String>(())
        };
        match tokio::time::timeout(PULL_TIMEOUT, pulling).await {
            Ok(Ok(())) => self
                .docker()
                .inspect_image(image)
                .await
                .map_err(|e| docker_message(&e)),
            Ok(Err(why)) => Err(why),
            Err(_) => Err(format!(
                "pulling took more than {}s",
                PULL_TIMEOUT.as_secs()
            )),
        }
    }

    /// The ports to publish: the container's own, its image's EXPOSE,
    /// those its probes use and the target ports of the Services that
    /// select the pod (a pod holding the network publishes every
    /// container's).
    fn ports_to_publish(&self, pod: &Value, image: &bollard::models::ImageInspect) -> Vec<u16> {
        let mut ports = Vec::new();
        for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
            for p in c["ports"].as_array().into_iter().flatten() {
                ports.extend(p["containerPort"].as_u64().map(|p| p as u16));
            }
            for kind in ["startupProbe", "livenessProbe", "readinessProbe"] {
                for way in ["httpGet", "tcpSocket"] {
                    ports.extend(
                        crate::controllers::target_port(pod, &c[kind][way]["port"])
                            .map(|p| p as u16),
                    );
                }
            }
        }
        let exposed = image
            .config
            .as_ref()
            .and_then(|c| c.exposed_ports.clone())
            .unwrap_or_default();
        for key in exposed {
            ports.extend(key.split('/').next().and_then(|p| p.parse::<u16>().ok()));
        }
        for svc in self.services_selecting(pod) {
            for p in svc["spec"]["ports"].as_array().into_iter().flatten() {
                ports.extend(
                    crate::controllers::target_port(pod, &p["targetPort"]).map(|p| p as u16),
                );
            }
        }
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    fn services_selecting(&self, pod: &Value) -> Vec<Value> {
        let services = Resource::of_kind("Service").expect("served");
        self.cluster
            .store
            .list(services, Some(&self.namespace))
            .0
            .into_iter()
            .filter(|s| Labels::of_map(&s["spec"]["selector"]).is_some_and(|l| l.selects(pod)))
            .collect()
    }

    async fn container_config(
        &mut self,
        i: usize,
        pod: &Value,
        image: &bollard::models::ImageInspect,
    ) -> Result<ContainerCreateBody, String> {
        let spec = self.runs[i].spec.clone();
        let env = self.environment(&spec, pod)?;
        let binds = self.mounts(&spec, pod)?;
        let security = &spec["securityContext"];
        let pod_security = &pod["spec"]["securityContext"];
        let run_as = security["runAsUser"]
            .as_i64()
            .or(pod_security["runAsUser"].as_i64());
        let group = security["runAsGroup"]
            .as_i64()
            .or(pod_security["runAsGroup"].as_i64());
        let image_user = image
            .config
            .as_ref()
            .and_then(|c| c.user.clone())
            .unwrap_or_default();
        let non_root = security["runAsNonRoot"] == true || pod_security["runAsNonRoot"] == true;
        let image_is_root = matches!(
            image_user.split(':').next().unwrap_or_default(),
            "" | "root" | "0"
        );
        if non_root && run_as.is_none_or(|u| u == 0) && image_is_root {
            return Err(text::non_root(&self.name, &self.runs[i].name));
        }
        let user = run_as.map(|u| match group {
            Some(g) => format!("{u}:{g}"),
            None => u.to_string(),
        });
        let expand = |items: &Value| -> Option<Vec<String>> {
            items.as_array().map(|a| {
                a.iter()
                    .map(|s| expand_vars(s.as_str().unwrap_or_default(), &env))
                    .collect()
            })
        };
        let limits = &spec["resources"]["limits"];
        let mut host = HostConfig {
            binds: Some(binds),
            memory: limits["memory"].as_str().and_then(bytes),
            nano_cpus: limits["cpu"].as_str().and_then(nano_cpus),
            pids_limit: Some(4096),
            readonly_rootfs: Some(security["readOnlyRootFilesystem"] == true),
            cap_drop: security["capabilities"]["drop"].as_array().map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            }),
            security_opt: (security["allowPrivilegeEscalation"] == false)
                .then(|| vec!["no-new-privileges".to_string()]),
            ..Default::default()
        };
        let labels = self.labels();
        let mut config = ContainerCreateBody {
            image: Some(image.id.clone().unwrap_or_default()),
            env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            entrypoint: expand(&spec["command"]),
            cmd: expand(&spec["args"]).or_else(|| spec["command"].is_array().then(Vec::new)),
            working_dir: spec["workingDir"].as_str().map(String::from),
            user,
            labels: Some(labels),
            tty: Some(spec["tty"] == true),
            open_stdin: Some(spec["stdin"] == true),
            ..Default::default()
        };
        match &self.network_holder {
            Some(holder) => host.network_mode = Some(format!("container:{holder}")),
            None => {
                config.hostname = Some(self.name.chars().take(63).collect());
                let ports = self.ports_to_publish(pod, image);
                let publish = self.cluster.config.publish_host.to_string();
                config.exposed_ports = Some(ports.iter().map(|p| format!("{p}/tcp")).collect());
                host.port_bindings = Some(
                    ports
                        .iter()
                        .map(|p| {
                            let binding = PortBinding {
                                host_ip: Some(publish.clone()),
                                host_port: Some(String::new()),
                            };
                            (format!("{p}/tcp"), Some(vec![binding]))
                        })
                        .collect(),
                );
                let mut aliases = vec![self.name.clone()];
                for svc in self.services_selecting(pod) {
                    let s = svc["metadata"]["name"].as_str().unwrap_or_default();
                    let ns = &self.namespace;
                    aliases.extend([
                        s.to_string(),
                        format!("{s}.{ns}"),
                        format!("{s}.{ns}.svc"),
                        format!("{s}.{ns}.svc.cluster.local"),
                    ]);
                }
                config.networking_config = Some(NetworkingConfig {
                    endpoints_config: Some(HashMap::from([(
                        self.cluster.config.network.clone(),
                        EndpointSettings {
                            aliases: Some(aliases),
                            ..Default::default()
                        },
                    )])),
                });
                host.network_mode = Some(self.cluster.config.network.clone());
            }
        }
        config.host_config = Some(host);
        Ok(config)
    }

    fn labels(&self) -> HashMap<String, String> {
        let mut labels = self.cluster.config.labels.clone();
        labels.insert(
            "deploylab.k8s.pod".into(),
            format!("{}/{}", self.namespace, self.name),
        );
        labels.insert("deploylab.k8s.uid".into(), self.uid.clone());
        labels
    }

    /// A container's environment, in order, with `$(VAR)` references
    /// to earlier ones expanded.
    fn environment(&self, spec: &Value, pod: &Value) -> Result<Vec<(String, String)>, String> {
        let mut env: Vec<(String, String)> = Vec::new();
        let set = |env: &mut Vec<(String, String)>, k: String, v: String| {
            env.retain(|(key, _)| *key != k);
            env.push((k, v));
        };
        for from in spec["envFrom"].as_array().into_iter().flatten() {
            let prefix = from["prefix"].as_str().unwrap_or_default();
            for (source, secret) in [("configMapRef", false), ("secretRef", true)] {
                if !from[source].is_object() {
                    continue;
                }
                let name = from[source]["name"].as_str().unwrap_or_default();
                match self.data(name, secret) {
                    Some(data) => {
                        for (k, v) in data {
                            set(&mut env, format!("{prefix}{k}"), v);
                        }
                    }
                    None if from[source]["optional"] == true => {}
                    None => return Err(missing(name, secret)),
                }
            }
        }
        for e in spec["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap_or_default().to_string();
            let value = if let Some(v) = e["value"].as_str() {
                expand_vars(v, &env)
            } else if e["valueFrom"].is_object() {
                let from = &e["valueFrom"];
                let mut found = None;
                for (source, secret) in [("configMapKeyRef", false), ("secretKeyRef", true)] {
                    if from[source].is_object() {
                        let source = &from[source];
                        let cm = source["name"].as_str().unwrap_or_default();
                        let key = source["key"].as_str().unwrap_or_default();
                        let data = self.data(cm, secret);
                        found = match data.as_ref().and_then(|d| d.get(key)) {
                            Some(v) => Some(v.clone()),
                            None if source["optional"] == true => None,
                            None if data.is_some() => {
                                return Err(format!(
                                    "couldn't find key {key} in {} {}/{cm}",
                                    if secret { "Secret" } else { "ConfigMap" },
                                    self.namespace
                                ));
                            }
                            None => return Err(missing(cm, secret)),
                        };
                    }
                }
                if let Some(path) = from["fieldRef"]["fieldPath"].as_str() {
                    found = Some(self.field(pod, path));
                }
                match found {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                String::new()
            };
            set(&mut env, name, value);
        }
        Ok(env)
    }

    /// The downward API's fields.
    fn field(&self, pod: &Value, path: &str) -> String {
        let m = &pod["metadata"];
        match path {
            "metadata.name" => self.name.clone(),
            "metadata.namespace" => self.namespace.clone(),
            "metadata.uid" => self.uid.clone(),
            "spec.nodeName" => crate::NODE.into(),
            "spec.serviceAccountName" => pod["spec"]["serviceAccountName"]
                .as_str()
                .unwrap_or("default")
                .into(),
            "status.hostIP" => self.cluster.kubelet.host_ip.to_string(),
            "status.podIP" => self.pod_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            other => {
                let label = other
                    .strip_prefix("metadata.labels['")
                    .map(|l| ("labels", l))
                    .or_else(|| {
                        other
                            .strip_prefix("metadata.annotations['")
                            .map(|a| ("annotations", a))
                    });
                match label {
                    Some((map, key)) => m[map][key.trim_end_matches("']")]
                        .as_str()
                        .unwrap_or_default()
                        .into(),
                    None => String::new(),
                }
            }
        }
    }

    /// A ConfigMap's or Secret's data (a Secret's decoded).
    fn data(&self, name: &str, secret: bool) -> Option<BTreeMap<String, String>> {
        let kind = Resource::of_kind(if secret { "Secret" } else { "ConfigMap" }).expect("served");
        let object = self.cluster.store.get(kind, &self.namespace, name)?;
        let mut data = BTreeMap::new();
        for (k, v) in object["data"].as_object().into_iter().flatten() {
            let v = v.as_str().unwrap_or_default();
            let value = match secret {
                true => String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(v)
                        .unwrap_or_default(),
                )
                .into_owned(),
                false => v.to_string(),
            };
            data.insert(k.clone(), value);
        }
        if secret {
            for (k, v) in object["stringData"].as_object().into_iter().flatten() {
                data.insert(k.clone(), v.as_str().unwrap_or_default().into());
            }
        }
        Some(data)
    }

    /// The binds of a container's volume mounts: files made in the pod's
    /// own folder, never a path of the host's choosing.
    fn mounts(&self, spec: &Value, pod: &Value) -> Result<Vec<String>, String> {
        let volumes: Vec<Value> = pod["spec"]["volumes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut binds = Vec::new();
        for mount in spec["volumeMounts"].as_array().into_iter().flatten() {
            let name = mount["name"].as_str().unwrap_or_default();
            let Some(volume) = volumes.iter().find(|v| v["name"] == name) else {
                return Err(format!("volume \"{name}\" not found"));
            };
            let dir = self.volumes.join(name);
            let write = |dir: &PathBuf,
                         data: BTreeMap<String, String>,
                         items: &Value|
             -> Result<(), String> {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                let wanted: Vec<(String, String)> = match items.as_array() {
                    Some(items) => items
                        .iter()
                        .filter_map(|i| {
                            Some((
                                i["key"].as_str()?.to_string(),
                                i["path"].as_str()?.to_string(),
                            ))
                        })
                        .collect(),
                    None => data.keys().map(|k| (k.clone(), k.clone())).collect(),
                };
                for (key, path) in wanted {
                    if path.split('/').any(|p| p == "..") || path.starts_with('/') {
                        continue;
                    }
                    let file = dir.join(&path);
                    if let Some(parent) = file.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                    }
                    std::fs::write(&file, data.get(&key).cloned().unwrap_or_default())
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            };
            if volume["configMap"].is_object() || volume["secret"].is_object() {
                let secret = volume["secret"].is_object();
                let source = if secret {
                    &volume["secret"]
                } else {
                    &volume["configMap"]
                };
                let object = source[if secret { "secretName" } else { "name" }]
                    .as_str()
                    .unwrap_or_default();
                let data = match self.data(object, secret) {
                    Some(data) => data,
                    None if source["optional"] == true => BTreeMap::new(),
                    None => return Err(missing(object, secret)),
                };
                write(&dir, data, &source["items"])?;
            } else if volume["emptyDir"].is_object() {
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777));
                }
            } else if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                return Err(text::no_claims(claim));
            } else {
                return Err(format!(
                    "volume \"{name}\" has a source deploylab's built-in cluster does not serve (configMap, secret and emptyDir are)"
                ));
            }
            let mut source = dir.clone();
            if let Some(sub) = mount["subPath"]
                .as_str()
                .filter(|s| !s.is_empty() && !s.split('/').any(|p| p == ".."))
            {
                source = source.join(sub);
            }
            let read_only = mount["readOnly"] == true
                || volume["configMap"].is_object()
                || volume["secret"].is_object();
            let target = mount["mountPath"].as_str().unwrap_or_default();
            binds.push(format!(
                "{}:{target}{}",
                source.display(),
                if read_only { ":ro" } else { "" }
            ));
        }
        Ok(binds)
    }

    /// The pod's IP and published ports, from its network holder.
    async fn learn_reach(&mut self, id: &str) {
        let Ok(info) = self.docker().inspect_container(id, None).await else {
            return;
        };
        let settings = info.network_settings.unwrap_or_default();
        let ip = settings
            .networks
            .as_ref()
            .and_then(|n| n.get(&self.cluster.config.network))
            .and_then(|e| e.ip_address.clone())
            .and_then(|ip| ip.parse().ok());
        let mut ports = HashMap::new();
        for (key, bindings) in settings.ports.unwrap_or_default() {
            let Some(port) = key.split('/').next().and_then(|p| p.parse::<u16>().ok()) else {
                continue;
            };
            let host = bindings
                .unwrap_or_default()
                .iter()
                .find_map(|b| b.host_port.as_deref()?.parse::<u16>().ok());
            if let Some(host) = host {
                ports.insert(
                    port,
                    SocketAddr::new(self.cluster.config.publish_host, host),
                );
            }
        }
        self.pod_ip = ip;
        let mut reach = self.cluster.kubelet.reach.lock().expect("not poisoned");
        reach.insert(
            (self.namespace.clone(), self.name.clone()),
            Reach { pod_ip: ip, ports },
        );
    }

    async fn watch_container(&mut self, i: usize, pod: &Value) {
        let id = self.runs[i].id.clone().expect("running");
        let state = self
            .docker()
            .inspect_container(&id, None)
            .await
            .ok()
            .and_then(|c| c.state);
        let running = state.as_ref().and_then(|s| s.running).unwrap_or(false);
        if running {
            self.probe(i, pod).await;
            return;
        }
        let state = state.unwrap_or_default();
        let code = state.exit_code.unwrap_or(-1);
        let reason = match (state.oom_killed, code) {
            (Some(true), _) => "OOMKilled",
            (_, 0) => "Completed",
            _ => "Error",
        };
        let terminated = json!({"exitCode": code, "reason": reason,
            "startedAt": self.runs[i].started_at, "finishedAt": crate::time::now(),
            "containerID": format!("docker://{id}")});
        // The finished container stays as the "previous" one for logs.
        let previous = format!("{}-previous", self.runs[i].docker_name);
        let _ = remove(self.docker(), &previous).await;
        let renamed = self
            .docker()
            .rename_container(
                &id,
                bollard::query_parameters::RenameContainerOptionsBuilder::default()
                    .name(&previous)
                    .build(),
            )
            .await
            .is_ok();
        {
            let mut containers = self
                .cluster
                .kubelet
                .containers
                .lock()
                .expect("not poisoned");
            if let Some(entry) = containers.get_mut(&(
                self.namespace.clone(),
                self.name.clone(),
                self.runs[i].name.clone(),
            )) {
                entry.0 = None;
                entry.1 = renamed.then(|| previous.clone());
            }
        }
        if self.network_holder.as_deref() == Some(id.as_str()) {
            self.network_holder = None;
        }
        let policy = pod["spec"]["restartPolicy"].as_str().unwrap_or("Always");
        let restart = match policy {
            "Never" => false,
            "OnFailure" => code != 0,
            _ => true,
        };
        let run = &mut self.runs[i];
        run.id = None;
        run.ready = false;
        run.started = false;
        if !restart {
            run.terminated = Some(terminated);
            run.done = true;
            return;
        }
        run.last_state = json!({"terminated": terminated});
        run.restarts += 1;
        let delay = run
            .backoff
            .after_crash()
            .max(Duration::from_secs(if run.restarts > 1 { 10 } else { 0 }));
        run.next_start = Instant::now() + delay;
        if delay > Duration::ZERO {
            let message = text::back_off(
                delay.as_secs(),
                &run.name,
                &self.name,
                &self.namespace,
                &self.uid,
            );
            run.waiting = Some(("CrashLoopBackOff".into(), message.clone()));
            self.event(
                "Warning",
                "BackOff",
                &format!(
                    "Back-off restarting failed container {} in pod {}_{}({})",
                    self.runs[i].name, self.name, self.namespace, self.uid
                ),
            );
        } else {
            run.waiting = Some(("ContainerCreating".into(), String::new()));
        }
    }

    async fn probe(&mut self, i: usize, pod: &Value) {
        let now = Instant::now();
        for kind in ["startupProbe", "livenessProbe", "readinessProbe"] {
            let spec = self.runs[i].spec[kind].clone();
            if !spec.is_object() {
                if kind == "readinessProbe" && self.runs[i].started {
                    self.runs[i].ready = true;
                }
                continue;
            }
            let started = self.runs[i].started;
            if (kind == "startupProbe" && started) || (kind != "startupProbe" && !started) {
                continue;
            }
            let due = self.runs[i].probes.get(kind).is_some_and(|p| p.next <= now);
            if !due {
                continue;
            }
            let period = spec["periodSeconds"].as_u64().unwrap_or(10).max(1);
            let timeout = Duration::from_secs(spec["timeoutSeconds"].as_u64().unwrap_or(1).max(1));
            let result = self.run_probe(i, &spec, pod, timeout).await;
            let success_threshold = spec["successThreshold"].as_i64().unwrap_or(1);
            let failure_threshold = spec["failureThreshold"].as_i64().unwrap_or(3);
            let name = self.runs[i].name.clone();
            let label = match kind {
                "startupProbe" => "Startup",
                "livenessProbe" => "Liveness",
                _ => "Readiness",
            };
            let state = self.runs[i].probes.get_mut(kind).expect("scheduled");
            state.next = now + Duration::from_secs(period);
            match result {
                Ok(()) => {
                    state.failures = 0;
                    state.successes += 1;
                    if state.successes >= success_threshold {
                        match kind {
                            "startupProbe" => self.runs[i].started = true,
                            "readinessProbe" => self.runs[i].ready = true,
                            _ => {}
                        }
                    }
                }
                Err(why) => {
                    state.successes = 0;
                    state.failures += 1;
                    let failures = state.failures;
                    self.event("Warning", "Unhealthy", &text::probe_failed(label, &why));
                    if kind == "readinessProbe" {
                        if failures >= failure_threshold {
                            self.runs[i].ready = false;
                        }
                    } else if failures >= failure_threshold {
                        self.event(
                            "Normal",
                            "Killing",
                            &text::will_restart(&name, &label.to_lowercase()),
                        );
                        if let Some(id) = &self.runs[i].id {
                            let _ = self
                                .docker()
                                .kill_container(
                                    id,
                                    None::<bollard::query_parameters::KillContainerOptions>,
                                )
                                .await;
                        }
                        return;
                    }
                }
            }
        }
    }

    async fn run_probe(
        &self,
        i: usize,
        spec: &Value,
        pod: &Value,
        timeout: Duration,
    ) -> Result<(), String> {
        let reach = self
            .cluster
            .kubelet
            .reach(&self.namespace, &self.name)
            .unwrap_or_default();
        let pod_ip = reach.pod_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let address = |port: &Value| -> Result<(u16, SocketAddr), String> {
            let port = crate::controllers::target_port(pod, port)
                .ok_or("the probe's port is not a port")? as u16;
            let at = reach.ports.get(&port).copied().ok_or(format!(
                "dial tcp {pod_ip}:{port}: connect: connection refused"
            ))?;
            Ok((port, at))
        };
        if spec["httpGet"].is_object() {
            let get = &spec["httpGet"];
            let (port, at) = address(&get["port"])?;
            let path = get["path"].as_str().unwrap_or("/");
            let mut headers = format!("Host: {pod_ip}:{port}\r\n");
            for h in get["httpHeaders"].as_array().into_iter().flatten() {
                headers.push_str(&format!(
                    "{}: {}\r\n",
                    h["name"].as_str().unwrap_or_default(),
                    h["value"].as_str().unwrap_or_default()
                ));
            }
            let request = format!(
                "GET {path} HTTP/1.1\r\n{headers}User-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            );
            let exchange = async {
                let mut stream = tokio::net::TcpStream::connect(at).await.map_err(|e| format!("Get \"http://{pod_ip}:{port}{path}\": dial tcp {pod_ip}:{port}: connect: {e}"))?;
                stream
                    .write_all(request.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                let mut head = vec![0u8; 64];
                let n = stream.read(&mut head).await.map_err(|e| e.to_string())?;
                let line = String::from_utf8_lossy(&head[..n]).to_string();
                let code: u16 = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .ok_or("no HTTP answer")?;
                match (200..400).contains(&code) {
                    true => Ok(()),
                    false => Err(format!("HTTP probe failed with statuscode: {code}")),
                }
            };
            return tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or_else(|_| Err(format!("Get \"http://{pod_ip}:{port}{path}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")));
        }
        if spec["tcpSocket"].is_object() {
            let (port, at) = address(&spec["tcpSocket"]["port"])?;
            return match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(at)).await {
                Ok(Ok(_)) => Ok(()),
                _ => Err(format!(
                    "dial tcp {pod_ip}:{port}: connect: connection refused"
                )),
            };
        }
        if let Some(command) = spec["exec"]["command"].as_array() {
            let command: Vec<String> = command
                .iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect();
            let id = self.runs[i].id.clone().ok_or("not running")?;
            let exec = async {
                let created = self
                    .docker()
                    .create_exec(
                        &id,
                        bollard::exec::CreateExecOptions {
                            cmd: Some(command),
                            attach_stdout: Some(true),
                            attach_stderr: Some(true),
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let mut output = String::new();
                if let Ok(bollard::exec::StartExecResults::Attached {
                    output: mut stream, ..
                }) = self.docker().start_exec(&created.id, None).await
                {
                    while let Some(Ok(chunk)) = stream.next().await {
                        output.push_str(&chunk.to_string());
                    }
                }
                let code = self
                    .docker()
                    .inspect_exec(&created.id)
                    .await
                    .ok()
                    .and_then(|i| i.exit_code)
                    .unwrap_or(-1);
                match code {
                    0 => Ok(()),
                    _ => Err(format!(
                        "command failed with exit code {code}: {}",
                        output.trim()
                    )),
                }
            };
            return tokio::time::timeout(timeout, exec)
                .await
                .unwrap_or_else(|_| {
                    Err(format!("command timed out after {}s", timeout.as_secs()))
                });
        }
        Ok(())
    }

    /// Writes the pod's status as the containers are now.
    fn write_status(&self) {
        let statuses: Vec<Value> = self
            .runs
            .iter()
            .map(|r| {
                let state = if let Some(t) = &r.terminated {
                    json!({"terminated": t})
                } else if let Some((reason, message)) = &r.waiting {
                    let mut w = json!({"reason": reason});
                    if !message.is_empty() {
                        w["message"] = json!(message);
                    }
                    json!({"waiting": w})
                } else {
                    json!({"running": {"startedAt": r.started_at}})
                };
                let mut status = json!({"name": r.name, "state": state, "lastState": r.last_state,
                    "ready": r.ready, "restartCount": r.restarts, "image": r.spec["image"],
                    "imageID": r.image_id, "started": r.id.is_some() && r.started});
                if let Some(id) = &r.id {
                    status["containerID"] = json!(format!("docker://{id}"));
                }
                status
            })
            .collect();
        let all_ready = self.runs.iter().all(|r| r.ready);
        let ever_ran = self
            .runs
            .iter()
            .any(|r| r.id.is_some() || r.restarts > 0 || r.terminated.is_some());
        let phase = if self.runs.iter().all(|r| r.done) {
            match self
                .runs
                .iter()
                .all(|r| r.terminated.as_ref().is_some_and(|t| t["exitCode"] == 0))
            {
                true => "Succeeded",
                false => "Failed",
            }
        } else if ever_ran {
            "Running"
        } else {
            "Pending"
        };
        let pod_ip = self.pod_ip.map(|ip| ip.to_string());
        let host_ip = self.cluster.kubelet.host_ip.to_string();
        let start_time = self.start_time.clone();
        self.cluster.store.modify(pods(), &self.namespace, &self.name, move |pod| {
            let old = pod["status"].clone();
            let now = crate::time::now();
            let cond = |kind: &str, ok: bool| {
                let status = if ok { "True" } else { "False" };
                let previous = old["conditions"].as_array().into_iter().flatten().find(|c| c["type"] == kind).cloned();
                let since = match previous {
                    Some(p) if p["status"] == status => p["lastTransitionTime"].clone(),
                    _ => json!(now),
                };
                let mut c = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": since});
                if !ok && matches!(kind, "Ready" | "ContainersReady") {
                    c["reason"] = json!("ContainersNotReady");
                }
                c
            };
            let mut status = json!({"phase": phase, "conditions": [
                    cond("PodReadyToStartContainers", ever_ran), cond("Initialized", true),
                    cond("Ready", all_ready), cond("ContainersReady", all_ready), cond("PodScheduled", true)],
                "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
                "startTime": start_time, "containerStatuses": statuses,
                "qosClass": qos_class(&pod["spec"])});
            if let Some(ip) = pod_ip {
                status["podIP"] = json!(ip);
                status["podIPs"] = json!([{"ip": ip}]);
            }
            // Unchanged but for transition times already equal: no write.
            pod["status"] = status;
        });
    }

    async fn teardown(&mut self) {
        for run in &self.runs {
            if let Some(id) = &run.id {
                let _ = remove(self.docker(), id).await;
            }
            let _ = remove(self.docker(), &format!("{}-previous", run.docker_name)).await;
        }
        let key = (self.namespace.clone(), self.name.clone());
        self.cluster
            .kubelet
            .reach
            .lock()
            .expect("not poisoned")
            .remove(&key);
        self.cluster
            .kubelet
            .containers
            .lock()
            .expect("not poisoned")
            .retain(|(ns, pod, _), _| !(ns == &self.namespace && pod == &self.name));
        let _ = std::fs::remove_dir_all(&self.volumes);
    }
}

fn missing(name: &str, secret: bool) -> String {
    match secret {
        true => format!("secret \"{name}\" not found"),
        false => format!("configmap \"{name}\" not found"),
    }
}

/// `$(NAME)` replaced by an earlier variable's value (`$$` escapes).
fn expand_vars(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
            && let Some((_, v)) = env.iter().find(|(k, _)| k == &inner[..end])
        {
            out.push_str(v);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn docker_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

pub(crate) async fn remove(docker: &Docker, id: &str) -> Result<(), bollard::errors::Error> {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 409,
            ..
        }) => Ok(()),
        other => other,
    }
}

/// `GET …/pods/NAME/log`: the container's output, followed on request.
pub async fn logs(cluster: &Cluster, namespace: &str, name: &str, query: &LogQuery) -> Answer {
    let Some(pod) = cluster.store.get(pods(), namespace, name) else {
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("pods \"{name}\" not found"),
            None,
        );
    };
    let containers: Vec<String> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    let container = match &query.container {
        Some(c) if containers.contains(c) => c.clone(),
        Some(c) => {
            return failure(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("container {c} is not valid for pod {name}"),
                None,
            );
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return failure(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    containers.join(" ")
                ),
                None,
            );
        }
    };
    let known = {
        let map = cluster.kubelet.containers.lock().expect("not poisoned");
        map.get(&(namespace.to_string(), name.to_string(), container.clone()))
            .cloned()
    };
    let (current, previous) = known.unwrap_or_default();
    let id = match query.previous {
        true => previous.ok_or_else(|| {
            format!("previous terminated container \"{container}\" in pod \"{name}\" not found")
        }),
        false => current.or(previous).ok_or_else(|| {
            let status = pod["status"]["containerStatuses"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["name"] == container.as_str())
                .cloned()
                .unwrap_or_default();
            let why = match status["state"]["waiting"]["reason"].as_str() {
                Some("ErrImagePull" | "ImagePullBackOff") => {
                    "trying and failing to pull image".to_string()
                }
                Some(reason) => reason.to_string(),
                None => "ContainerCreating".to_string(),
            };
            text::waiting(&container, name, &why)
        }),
    };
    let id = match id {
        Ok(id) => id,
        Err(message) => return failure(StatusCode::BAD_REQUEST, "BadRequest", &message, None),
    };
    let mut options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(query.follow)
        .timestamps(query.timestamps);
    if let Some(tail) = query.tail {
        options = options.tail(&tail.max(0).to_string());
    }
    if let Some(since) = query.since_seconds {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        options = options.since(now.as_secs() as i32 - since as i32);
    }
    // Read by a task of its own (the engine's stream is not Sync); it
    // ends when the client hangs up.
    let mut output = cluster.kubelet.docker.logs(&id, Some(options.build()));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        while let Some(chunk) = output.next().await {
            let chunk = chunk
                .map(bollard::container::LogOutput::into_bytes)
                .map_err(std::io::Error::other);
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
    });
    let stream =
        tokio_stream::wrappers::ReceiverStream::new(rx).map(|c| c.map(hyper::body::Frame::data));
    use http_body_util::BodyExt;
    hyper::Response::builder()
        .header(hyper::header::CONTENT_TYPE, "text/plain")
        .body(BodyExt::boxed(http_body_util::StreamBody::new(stream)))
        .expect("a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_qos_read_as_kubernetes_reads_them() {
        assert_eq!(bytes("256Mi"), Some(268435456));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(nano_cpus("500m"), Some(500_000_000));
        assert_eq!(nano_cpus("2"), Some(2_000_000_000));
        let guaranteed =
            json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]});
        assert_eq!(qos_class(&guaranteed), "Guaranteed");
        let burstable = json!({"containers": [{"resources": {"requests": {"cpu": "100m"}}}]});
        assert_eq!(qos_class(&burstable), "Burstable");
        assert_eq!(qos_class(&json!({"containers": [{}]})), "BestEffort");
    }

    #[test]
    fn variables_expand_from_earlier_ones() {
        let env = vec![("HOST".to_string(), "db".to_string())];
        assert_eq!(
            expand_vars("postgres://$(HOST):5432/$(NOPE)/$$(HOST)", &env),
            "postgres://db:5432/$(NOPE)/$(HOST)"
        );
    }
}
