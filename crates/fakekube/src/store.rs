//! The cluster's objects, in memory: each with a uid, a resourceVersion
//! from one counter for the whole cluster (as etcd's revision), and a
//! generation where the real API keeps one. Every change is broadcast to
//! watches and kept in a short history, so a watch can resume from a
//! resourceVersion a LIST gave it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use crate::resources::Resource;

/// How many changes a watch can resume across.
const HISTORY: usize = 4096;

/// What happened to an object, as a watch event's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn word(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Change {
    pub revision: u64,
    pub resource: &'static str,
    pub namespace: String,
    pub kind: ChangeKind,
    pub object: Value,
}

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    AlreadyExists,
    NotFound,
    /// The write named a resourceVersion that is not the current one.
    Conflict,
    NamespaceNotFound(String),
    /// The namespace is being deleted.
    NamespaceTerminating(String),
}

type Key = (&'static str, String, String);

#[derive(Default)]
struct Inner {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    history: VecDeque<Change>,
}

pub struct Store {
    inner: Mutex<Inner>,
    changes: broadcast::Sender<Change>,
    revision: watch::Sender<u64>,
}

/// The resources whose objects count a `metadata.generation`.
fn has_generation(resource: &Resource) -> bool {
    matches!(resource.plural, "deployments" | "replicasets")
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    pub fn new() -> Store {
        Store {
            inner: Mutex::new(Inner::default()),
            changes: broadcast::channel(1024).0,
            revision: watch::Sender::new(0),
        }
    }

    /// What every cluster has before anyone writes: the usual namespaces,
    /// the node, and the `kubernetes` Service.
    pub fn bootstrap(&self) {
        let ns = Resource::of_kind("Namespace").expect("served");
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
            let _ = self.create(ns, "", namespace);
        }
        let node = json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": crate::NODE, "labels": {
                "kubernetes.io/hostname": crate::NODE, "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": ""}},
            "spec": {},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status"}],
                       "nodeInfo": {"kubeletVersion": crate::api::GIT_VERSION, "osImage": "deploylab",
                                    "containerRuntimeVersion": "docker", "operatingSystem": "linux",
                                    "architecture": std::env::consts::ARCH}}});
        let _ = self.create(Resource::of_kind("Node").expect("served"), "", node);
        let kubernetes = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}});
        let _ = self.create(
            Resource::of_kind("Service").expect("served"),
            "default",
            kubernetes,
        );
    }

    pub fn get(&self, resource: &Resource, namespace: &str, name: &str) -> Option<Value> {
        let inner = self.inner.lock().expect("not poisoned");
        inner.objects.get(&key(resource, namespace, name)).cloned()
    }

    /// Every object of a resource (in one namespace, or all), and the
    /// revision the list was read at.
    pub fn list(&self, resource: &Resource, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.inner.lock().expect("not poisoned");
        let objects = inner
            .objects
            .iter()
            .filter(|((r, ns, _), _)| {
                *r == resource.plural_key() && namespace.is_none_or(|wanted| ns == wanted)
            })
            .map(|(_, v)| v.clone())
            .collect();
        (objects, inner.revision)
    }

    /// Stores a new object: its namespace, uid, creation time,
    /// resourceVersion and generation are the store's.
    pub fn create(
        &self,
        resource: &Resource,
        namespace: &str,
        mut object: Value,
    ) -> Result<Value, Refused> {
        let mut inner = self.inner.lock().expect("not poisoned");
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if resource.namespaced {
            let ns = inner
                .objects
                .get(&("namespaces", String::new(), namespace.to_string()));
            match ns {
                None => return Err(Refused::NamespaceNotFound(namespace.into())),
                Some(ns) if ns["status"]["phase"] == "Terminating" => {
                    return Err(Refused::NamespaceTerminating(namespace.into()));
                }
                Some(_) => {}
            }
        }
        let k = key(resource, namespace, &name);
        if inner.objects.contains_key(&k) {
            return Err(Refused::AlreadyExists);
        }
        let revision = inner.revision + 1;
        let metadata = &mut object["metadata"];
        if resource.namespaced {
            metadata["namespace"] = json!(namespace);
        }
        metadata["uid"] = json!(uuid::Uuid::new_v4().to_string());
        metadata["creationTimestamp"] = json!(crate::time::now());
        metadata["resourceVersion"] = json!(revision.to_string());
        if has_generation(resource) {
            metadata["generation"] = json!(1);
        }
        if let Some(m) = metadata.as_object_mut() {
            m.remove("managedFields");
            m.remove("selfLink");
        }
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(resource.kind);
        inner.objects.insert(k, object.clone());
        self.publish(
            &mut inner,
            resource,
            namespace,
            ChangeKind::Added,
            object.clone(),
        );
        Ok(object)
    }

    /// Replaces an object. Its identity (uid, creation time) stays; the
    /// generation goes up when the spec changed. `expected`: the
    /// resourceVersion the writer read (None: any).
    pub fn update(
        &self,
        resource: &Resource,
        namespace: &str,
        name: &str,
        mut object: Value,
        expected: Option<&str>,
    ) -> Result<Value, Refused> {
        let mut inner = self.inner.lock().expect("not poisoned");
        let k = key(resource, namespace, name);
        let Some(old) = inner.objects.get(&k) else {
            return Err(Refused::NotFound);
        };
        if let Some(expected) = expected.filter(|e| !e.is_empty())
            && old["metadata"]["resourceVersion"].as_str() != Some(expected)
        {
            return Err(Refused::Conflict);
        }
        for field in ["uid", "creationTimestamp", "namespace", "name"] {
            object["metadata"][field] = old["metadata"][field].clone();
        }
        if has_generation(resource) {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
            let changed = old["spec"] != object["spec"];
            object["metadata"]["generation"] = json!(generation + i64::from(changed));
        }
        if object == *old {
            return Ok(object);
        }
        let revision = inner.revision + 1;
        object["metadata"]["resourceVersion"] = json!(revision.to_string());
        if let Some(m) = object["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
        if !resource.namespaced
            && let Some(m) = object["metadata"].as_object_mut()
        {
            m.remove("namespace");
        }
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(resource.kind);
        inner.objects.insert(k, object.clone());
        self.publish(
            &mut inner,
            resource,
            namespace,
            ChangeKind::Modified,
            object.clone(),
        );
        Ok(object)
    }

    /// Changes an object in place by `change` (controllers' status
    /// writes); None when it is gone.
    pub fn modify(
        &self,
        resource: &Resource,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let mut object = self.get(resource, namespace, name)?;
        let rv = object["metadata"]["resourceVersion"]
            .as_str()
            .map(String::from);
        change(&mut object);
        self.update(resource, namespace, name, object, rv.as_deref())
            .ok()
    }

    pub fn delete(&self, resource: &Resource, namespace: &str, name: &str) -> Option<Value> {
        let mut inner = self.inner.lock().expect("not poisoned");
        let k = key(resource, namespace, name);
        let mut object = inner.objects.remove(&k)?;
        object["metadata"]["resourceVersion"] = json!((inner.revision + 1).to_string());
        self.publish(
            &mut inner,
            resource,
            namespace,
            ChangeKind::Deleted,
            object.clone(),
        );
        Some(object)
    }

    /// The changes after `revision`, as far as the history reaches back;
    /// None when it does not reach that far (the watch must re-list), and
    /// a receiver of the changes after those.
    pub fn since(&self, revision: u64) -> (Option<Vec<Change>>, broadcast::Receiver<Change>) {
        let inner = self.inner.lock().expect("not poisoned");
        let receiver = self.changes.subscribe();
        let oldest = inner.history.front().map(|c| c.revision);
        let reaches = match oldest {
            Some(oldest) => oldest <= revision.saturating_add(1) || revision >= inner.revision,
            None => true,
        };
        let changes = reaches.then(|| {
            inner
                .history
                .iter()
                .filter(|c| c.revision > revision)
                .cloned()
                .collect()
        });
        (changes, receiver)
    }

    /// The current revision, and a receiver woken on every change.
    pub fn revisions(&self) -> watch::Receiver<u64> {
        self.revision.subscribe()
    }

    pub fn revision(&self) -> u64 {
        self.inner.lock().expect("not poisoned").revision
    }
}

impl Store {
    /// Counts a change to an object (its resourceVersion already the next
    /// revision), keeps it for watches to resume from, and tells them.
    fn publish(
        &self,
        inner: &mut Inner,
        resource: &Resource,
        namespace: &str,
        kind: ChangeKind,
        object: Value,
    ) {
        inner.revision += 1;
        let change = Change {
            revision: inner.revision,
            resource: resource.plural_key(),
            namespace: namespace.to_string(),
            kind,
            object,
        };
        inner.remember(change.clone());
        let _ = self.changes.send(change);
        self.revision.send_replace(inner.revision);
    }
}

impl Inner {
    fn remember(&mut self, change: Change) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(change);
    }
}

fn key(resource: &Resource, namespace: &str, name: &str) -> Key {
    let namespace = if resource.namespaced { namespace } else { "" };
    (
        resource.plural_key(),
        namespace.to_string(),
        name.to_string(),
    )
}

impl Resource {
    /// The store's key of the resource (plurals are unique among the kinds
    /// served).
    pub fn plural_key(&self) -> &'static str {
        self.plural
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployments() -> &'static Resource {
        Resource::of_kind("Deployment").unwrap()
    }

    #[test]
    fn writes_count_revisions_and_generations_and_watches_resume() {
        let store = Store::new();
        store.bootstrap();
        let start = store.revision();
        let d = json!({"metadata": {"name": "web"}, "spec": {"replicas": 1}});
        let created = store.create(deployments(), "default", d).unwrap();
        assert_eq!(created["metadata"]["generation"], 1);
        assert_eq!(created["metadata"]["namespace"], "default");
        assert_eq!(
            store.create(deployments(), "default", created.clone()),
            Err(Refused::AlreadyExists)
        );
        assert_eq!(
            store.create(deployments(), "nope", json!({"metadata": {"name": "x"}})),
            Err(Refused::NamespaceNotFound("nope".into()))
        );
        let mut changed = created.clone();
        changed["spec"]["replicas"] = json!(2);
        let updated = store
            .update(deployments(), "default", "web", changed.clone(), Some("1"))
            .unwrap_err();
        assert_eq!(updated, Refused::Conflict);
        let rv = created["metadata"]["resourceVersion"].as_str().unwrap();
        let updated = store
            .update(deployments(), "default", "web", changed, Some(rv))
            .unwrap();
        assert_eq!(updated["metadata"]["generation"], 2);
        assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
        // A status-only write keeps the generation.
        let status = store
            .modify(deployments(), "default", "web", |d| {
                d["status"] = json!({"replicas": 2});
            })
            .unwrap();
        assert_eq!(status["metadata"]["generation"], 2);
        let (changes, _) = store.since(start);
        let kinds: Vec<_> = changes.unwrap().iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::Added,
                ChangeKind::Modified,
                ChangeKind::Modified
            ]
        );
        store.delete(deployments(), "default", "web").unwrap();
        assert!(store.get(deployments(), "default", "web").is_none());
    }
}
