//! The kinds the built-in cluster serves, and what clients learn of them:
//! discovery (aggregated, as kubectl 1.32 asks for it, and the legacy
//! per-group lists) and the OpenAPI v3 documents whose PATCH operations
//! take `fieldValidation`, so that kubectl's default `--validate=strict`
//! leaves field checking to the server (which refuses unknown fields).

use serde_json::{Value, json};

/// One kind of object the API serves.
#[derive(Debug)]
pub struct Resource {
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Subresources: name, the kind they answer with, their verbs.
    pub subresources: &'static [(&'static str, &'static str, &'static [&'static str])],
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS: (&str, &str, &[&str]) = ("status", "", &["get", "patch", "update"]);

pub static RESOURCES: &[Resource] = &[
    Resource {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        subresources: &[STATUS],
    },
    Resource {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        subresources: &[
            STATUS,
            ("log", "Pod", &["get"]),
            ("exec", "PodExecOptions", &["create", "get"]),
            ("portforward", "PodPortForwardOptions", &["create", "get"]),
            (
                "proxy",
                "PodProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
        ],
    },
    Resource {
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short_names: &["svc"],
        subresources: &[
            STATUS,
            (
                "proxy",
                "ServiceProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
        ],
    },
    Resource {
        group: "",
        version: "v1",
        plural: "endpoints",
        singular: "endpoints",
        kind: "Endpoints",
        namespaced: true,
        short_names: &["ep"],
        subresources: &[],
    },
    Resource {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        subresources: &[],
    },
    Resource {
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        short_names: &[],
        subresources: &[],
    },
    Resource {
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        subresources: &[],
    },
    Resource {
        group: "",
        version: "v1",
        plural: "nodes",
        singular: "node",
        kind: "Node",
        namespaced: false,
        short_names: &["no"],
        subresources: &[STATUS],
    },
    Resource {
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        short_names: &["deploy"],
        subresources: &[STATUS, ("scale", "Scale", &["get", "patch", "update"])],
    },
    Resource {
        group: "apps",
        version: "v1",
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        namespaced: true,
        short_names: &["rs"],
        subresources: &[STATUS, ("scale", "Scale", &["get", "patch", "update"])],
    },
    Resource {
        group: "discovery.k8s.io",
        version: "v1",
        plural: "endpointslices",
        singular: "endpointslice",
        kind: "EndpointSlice",
        namespaced: true,
        short_names: &[],
        subresources: &[],
    },
];

/// The groups besides the core one, in the order discovery lists them.
const GROUPS: &[&str] = &["apps", "discovery.k8s.io"];

impl Resource {
    pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
        RESOURCES
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    pub fn of_kind(kind: &str) -> Option<&'static Resource> {
        RESOURCES.iter().find(|r| r.kind == kind)
    }

    pub fn api_version(&self) -> String {
        match self.group {
            "" => self.version.to_string(),
            group => format!("{group}/{}", self.version),
        }
    }

    /// The path of the collection in `namespace`.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let base = match self.group {
            "" => format!("/api/{}", self.version),
            group => format!("/apis/{group}/{}", self.version),
        };
        match (self.namespaced, namespace) {
            (true, Some(ns)) => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }

    /// "deployments.apps", as messages name the resource.
    pub fn qualified(&self) -> String {
        match self.group {
            "" => self.plural.to_string(),
            group => format!("{}.{group}", self.plural),
        }
    }
}

/// The categories a kind is in (`kubectl get all`).
fn categories(resource: &Resource) -> &'static [&'static str] {
    match resource.plural {
        "pods" | "services" | "deployments" | "replicasets" => &["all"],
        _ => &[],
    }
}

fn in_group(group: &str) -> impl Iterator<Item = &'static Resource> + '_ {
    RESOURCES.iter().filter(move |r| r.group == group)
}

/// The Content-Type of an aggregated discovery answer: kubectl reads the
/// body as aggregated only with these parameters.
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/api` (core) or `/apis` (the named groups), aggregated.
pub fn aggregated(core: bool) -> Value {
    let groups: Vec<&str> = match core {
        true => vec![""],
        false => GROUPS.to_vec(),
    };
    let items: Vec<Value> = groups
        .iter()
        .map(|group| {
            let resources: Vec<Value> = in_group(group)
                .map(|r| {
                    let subresources: Vec<Value> = r
                        .subresources
                        .iter()
                        .map(|(name, kind, verbs)| {
                            let (group, version, kind) = match *kind {
                                "" => (r.group, r.version, r.kind),
                                "Scale" => ("autoscaling", "v1", "Scale"),
                                other => ("", "v1", other),
                            };
                            json!({"subresource": name,
                                   "responseKind": {"group": group, "version": version, "kind": kind},
                                   "verbs": verbs})
                        })
                        .collect();
                    json!({
                        "resource": r.plural,
                        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": r.singular,
                        "shortNames": r.short_names,
                        "categories": categories(r),
                        "verbs": VERBS,
                        "subresources": subresources,
                    })
                })
                .collect();
            let mut item = json!({"metadata": {},
                "versions": [{"version": "v1", "freshness": "Current", "resources": resources}]});
            if !group.is_empty() {
                item["metadata"]["name"] = json!(group);
            }
            item
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
           "metadata": {}, "items": items})
}

/// `/api` for clients that do not ask for aggregated discovery.
pub fn legacy_core(server: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]})
}

/// `/apis` for clients that do not ask for aggregated discovery.
pub fn legacy_groups() -> Value {
    let groups: Vec<Value> = GROUPS
        .iter()
        .map(|g| {
            let version = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
            json!({"name": g, "versions": [version.clone()], "preferredVersion": version})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` or `/apis/<group>/v1`; None for a group not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let listed: Vec<&Resource> = in_group(group).filter(|r| r.version == version).collect();
    if listed.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for r in &listed {
        resources.push(json!({"name": r.plural, "singularName": r.singular,
            "namespaced": r.namespaced, "kind": r.kind, "verbs": VERBS, "shortNames": r.short_names,
            "categories": categories(r)}));
        for (name, kind, verbs) in r.subresources {
            let kind = if kind.is_empty() { r.kind } else { kind };
            resources.push(
                json!({"name": format!("{}/{name}", r.plural), "singularName": "",
                "namespaced": r.namespaced, "kind": kind, "verbs": verbs}),
            );
        }
    }
    let group_version = match group {
        "" => version.to_string(),
        g => format!("{g}/{version}"),
    };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": group_version, "resources": resources}))
}

/// A stable value for the documents' `?hash=` (they change only with the
/// binary).
const OPENAPI_HASH: &str = concat!("deploylab-", env!("CARGO_PKG_VERSION"));

/// `/openapi/v3`: where each group-version's document is.
pub fn openapi_root() -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "api/v1".into(),
        json!({"serverRelativeURL": format!("/openapi/v3/api/v1?hash={OPENAPI_HASH}")}),
    );
    for g in GROUPS {
        paths.insert(
            format!("apis/{g}/v1"),
            json!({"serverRelativeURL": format!("/openapi/v3/apis/{g}/v1?hash={OPENAPI_HASH}")}),
        );
    }
    json!({ "paths": paths })
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/v1`: a PATCH
/// operation per kind that takes `fieldValidation`. That is what kubectl
/// looks for before it leaves field validation to the server; the server
/// then refuses unknown fields itself (`admit`).
pub fn openapi_document(group: &str, version: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for r in in_group(group).filter(|r| r.version == version) {
        let path = format!("{}/{{name}}", r.collection_path(Some("{namespace}")));
        paths.insert(
            path,
            json!({"patch": {
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                    {"name": "dryRun", "in": "query", "schema": {"type": "string"}}
                ],
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                "responses": {"200": {"description": "OK"}}
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({"openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": crate::api::GIT_VERSION},
                "paths": paths, "components": {"schemas": {}}}))
}
