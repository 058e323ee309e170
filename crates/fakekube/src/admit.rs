//! What happens to an object on its way into the store, as on a real API
//! server: decoding through its `k8s-openapi` type (strict: an unknown
//! field is refused), the real defaults, validation, and the pod security
//! rules of the baseline profile, enforced (a pod may not reach the host:
//! no host namespaces, privileged containers, hostPath volumes or host
//! ports).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::resources::Resource;

/// Why an object was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// It does not decode (400 BadRequest).
    Decode(String),
    /// Fields are wrong (422 Invalid): (field, message) per cause.
    Invalid(Vec<(String, String)>),
    /// Pod security (403 Forbidden): what violates the profile.
    Forbidden(Vec<String>),
}

/// The profile pods are held to, as messages name it.
pub const POD_SECURITY: &str = "baseline:latest";

/// Decodes `object` as `resource`'s kind and back: the object as stored,
/// and the fields the type does not have (which `fieldValidation=Strict`
/// refuses: [`unknown_refused`]).
pub fn decode(resource: &Resource, mut object: Value) -> Result<(Value, Vec<String>), Refusal> {
    if !object.is_object() {
        return Err(Refusal::Decode(cannot_handle(
            resource,
            "the body is not an object",
        )));
    }
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind);
    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core, discovery::v1 as discovery};
    let typed = match resource.kind {
        "Namespace" => roundtrip::<core::Namespace>(&object),
        "Pod" => roundtrip::<core::Pod>(&object),
        "Service" => roundtrip::<core::Service>(&object),
        "Endpoints" => roundtrip::<core::Endpoints>(&object),
        "ConfigMap" => roundtrip::<core::ConfigMap>(&object),
        "Secret" => roundtrip::<core::Secret>(&object),
        "Event" => roundtrip::<core::Event>(&object),
        "Node" => roundtrip::<core::Node>(&object),
        "Deployment" => roundtrip::<apps::Deployment>(&object),
        "ReplicaSet" => roundtrip::<apps::ReplicaSet>(&object),
        "EndpointSlice" => roundtrip::<discovery::EndpointSlice>(&object),
        other => unreachable!("{other} is served but not decoded"),
    }
    .map_err(|e| Refusal::Decode(cannot_handle(resource, &e)))?;
    let mut unknown = Vec::new();
    unknown_fields(&object, &typed, "", &mut unknown);
    Ok((typed, unknown))
}

/// The refusal of unknown fields under `fieldValidation=Strict`.
pub fn unknown_refused(resource: &Resource, unknown: &[String]) -> Refusal {
    let fields: Vec<String> = unknown.iter().map(|f| unknown_field(f)).collect();
    Refusal::Decode(cannot_handle(
        resource,
        &format!("strict decoding error: {}", fields.join(", ")),
    ))
}

/// How an unknown field is named (in a refusal, or a warning under
/// `fieldValidation=Warn`).
pub fn unknown_field(path: &str) -> String {
    format!("unknown field \"{path}\"")
}

fn cannot_handle(resource: &Resource, why: &str) -> String {
    format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: {why}",
        kind = resource.kind,
        version = resource.version
    )
}

fn roundtrip<T: DeserializeOwned + Serialize>(object: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(object.clone()).map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(typed).expect("a decoded object encodes"))
}

/// The fields of `sent` its type dropped (`null`s are no fields).
fn unknown_fields(sent: &Value, kept: &Value, path: &str, unknown: &mut Vec<String>) {
    match (sent, kept) {
        (Value::Object(sent), Value::Object(kept)) => {
            for (key, value) in sent {
                let here = match path {
                    "" => key.clone(),
                    _ => format!("{path}.{key}"),
                };
                match kept.get(key) {
                    Some(inner) => unknown_fields(value, inner, &here, unknown),
                    None if value.is_null() => {}
                    None => unknown.push(here),
                }
            }
        }
        (Value::Array(sent), Value::Array(kept)) => {
            for (i, (a, b)) in sent.iter().zip(kept).enumerate() {
                unknown_fields(a, b, &format!("{path}[{i}]"), unknown);
            }
        }
        _ => {}
    }
}

/// Sets `object[key]` when it has none.
fn default(object: &mut Value, key: &str, value: Value) {
    if object.get(key).is_none_or(Value::is_null) {
        object[key] = value;
    }
}

/// The real defaults of `resource`'s kind.
pub fn defaults(resource: &Resource, object: &mut Value) {
    match resource.kind {
        "Deployment" => {
            let spec = &mut object["spec"];
            default(spec, "replicas", json!(1));
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
            default(
                spec,
                "strategy",
                json!({"type": "RollingUpdate",
                       "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            if spec["strategy"]["type"] == "RollingUpdate" {
                let rolling = &mut spec["strategy"]["rollingUpdate"];
                default(rolling, "maxSurge", json!("25%"));
                default(rolling, "maxUnavailable", json!("25%"));
            }
            default(&mut spec["strategy"], "type", json!("RollingUpdate"));
            pod_template_defaults(&mut spec["template"]);
        }
        "ReplicaSet" => {
            default(&mut object["spec"], "replicas", json!(1));
            pod_template_defaults(&mut object["spec"]["template"]);
        }
        "Pod" => pod_spec_defaults(&mut object["spec"]),
        "Service" => {
            let spec = &mut object["spec"];
            default(spec, "type", json!("ClusterIP"));
            default(spec, "sessionAffinity", json!("None"));
            if spec["type"] != "ExternalName" {
                default(spec, "ipFamilies", json!(["IPv4"]));
                default(spec, "ipFamilyPolicy", json!("SingleStack"));
                default(spec, "internalTrafficPolicy", json!("Cluster"));
            }
            if matches!(spec["type"].as_str(), Some("NodePort" | "LoadBalancer")) {
                default(spec, "externalTrafficPolicy", json!("Cluster"));
            }
            for port in spec["ports"].as_array_mut().into_iter().flatten() {
                default(port, "protocol", json!("TCP"));
                let number = port["port"].clone();
                default(port, "targetPort", number);
            }
            default(&mut object["status"], "loadBalancer", json!({}));
        }
        "Secret" => {
            default(object, "type", json!("Opaque"));
            // stringData is write-only: merged into data, base64.
            if let Some(strings) = object.as_object_mut().and_then(|o| o.remove("stringData")) {
                use base64::Engine;
                for (k, v) in strings.as_object().into_iter().flatten() {
                    let encoded = base64::engine::general_purpose::STANDARD
                        .encode(v.as_str().unwrap_or_default());
                    object["data"][k] = json!(encoded);
                }
            }
        }
        "Namespace" => {
            let name = object["metadata"]["name"].clone();
            default(
                &mut object["metadata"]["labels"],
                "kubernetes.io/metadata.name",
                name,
            );
            default(&mut object["spec"], "finalizers", json!(["kubernetes"]));
            default(&mut object["status"], "phase", json!("Active"));
        }
        _ => {}
    }
}

fn pod_template_defaults(template: &mut Value) {
    pod_spec_defaults(&mut template["spec"]);
}

fn pod_spec_defaults(spec: &mut Value) {
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "schedulerName", json!("default-scheduler"));
    default(spec, "securityContext", json!({}));
    for list in ["initContainers", "containers"] {
        for container in spec[list].as_array_mut().into_iter().flatten() {
            let image = container["image"].as_str().unwrap_or_default().to_string();
            default(container, "imagePullPolicy", json!(pull_policy_for(&image)));
            default(
                container,
                "terminationMessagePath",
                json!("/dev/termination-log"),
            );
            default(container, "terminationMessagePolicy", json!("File"));
            default(container, "resources", json!({}));
            for port in container["ports"].as_array_mut().into_iter().flatten() {
                default(port, "protocol", json!("TCP"));
            }
            for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
                if container[probe].is_object() {
                    let probe = &mut container[probe];
                    default(probe, "timeoutSeconds", json!(1));
                    default(probe, "periodSeconds", json!(10));
                    default(probe, "successThreshold", json!(1));
                    default(probe, "failureThreshold", json!(3));
                    if probe["httpGet"].is_object() {
                        default(&mut probe["httpGet"], "path", json!("/"));
                        default(&mut probe["httpGet"], "scheme", json!("HTTP"));
                    }
                }
            }
        }
    }
    for volume in spec["volumes"].as_array_mut().into_iter().flatten() {
        for source in ["configMap", "secret"] {
            if volume[source].is_object() {
                default(&mut volume[source], "defaultMode", json!(420));
            }
        }
    }
}

/// The pull policy a container gets when it names none: `Always` for
/// `:latest` or no tag, else `IfNotPresent` (the classic local-image
/// mistake comes from here).
pub fn pull_policy_for(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// What is wrong with `object`'s fields, as the real validation says it.
pub fn validate(resource: &Resource, object: &Value) -> Result<(), Refusal> {
    let mut causes = Vec::new();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    if name.is_empty() {
        causes.push((
            "metadata.name".into(),
            "Required value: name or generateName is required".into(),
        ));
    } else if !is_dns_subdomain(name) {
        causes.push((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        ));
    }
    match resource.kind {
        "Deployment" | "ReplicaSet" => {
            let spec = &object["spec"];
            match crate::selector::Labels::of(&spec["selector"]) {
                None => causes.push(("spec.selector".into(), "Required value".into())),
                Some(selector) if !selector.selects(&spec["template"]) => {
                    let labels = go_map(&spec["template"]["metadata"]["labels"]);
                    causes.push((
                        "spec.template.metadata.labels".into(),
                        format!(
                            "Invalid value: {labels}: `selector` does not match template `labels`"
                        ),
                    ));
                }
                Some(_) => {}
            }
            if spec["replicas"].as_i64().is_some_and(|r| r < 0) {
                causes.push((
                    "spec.replicas".into(),
                    "Invalid value: must be greater than or equal to 0".into(),
                ));
            }
            pod_spec_causes(&spec["template"]["spec"], "spec.template.spec", &mut causes);
        }
        "Pod" => pod_spec_causes(&object["spec"], "spec", &mut causes),
        "Service" => {
            let spec = &object["spec"];
            let ports = spec["ports"].as_array().map(Vec::len).unwrap_or(0);
            if ports == 0 && spec["type"] != "ExternalName" && spec["clusterIP"] != "None" {
                causes.push(("spec.ports".into(), "Required value".into()));
            }
            for (i, port) in spec["ports"].as_array().into_iter().flatten().enumerate() {
                let number = port["port"].as_i64().unwrap_or(0);
                if !(1..=65535).contains(&number) {
                    causes.push((
                        format!("spec.ports[{i}].port"),
                        format!("Invalid value: {number}: must be between 1 and 65535, inclusive"),
                    ));
                }
            }
        }
        _ => {}
    }
    match causes.is_empty() {
        true => Ok(()),
        false => Err(Refusal::Invalid(causes)),
    }
}

fn pod_spec_causes(spec: &Value, path: &str, causes: &mut Vec<(String, String)>) {
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    if containers.is_empty() {
        causes.push((format!("{path}.containers"), "Required value".into()));
    }
    let mut names = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let name = c["name"].as_str().unwrap_or_default();
        if name.is_empty() {
            causes.push((
                format!("{path}.containers[{i}].name"),
                "Required value".into(),
            ));
        } else if names.contains(&name) {
            causes.push((
                format!("{path}.containers[{i}].name"),
                format!("Duplicate value: \"{name}\""),
            ));
        }
        names.push(name);
        if c["image"].as_str().unwrap_or_default().is_empty() {
            causes.push((
                format!("{path}.containers[{i}].image"),
                "Required value".into(),
            ));
        }
    }
}

fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A map as Go's `%#v` prints it in validation messages.
fn go_map(map: &Value) -> String {
    let pairs: Vec<String> = map
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k:?}:{:?}", v.as_str().unwrap_or_default()))
        .collect();
    format!("map[string]string{{{}}}", pairs.join(", "))
}

/// The capabilities the baseline profile lets a container add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// What in a pod spec would let it reach the host (the baseline
/// profile's checks that matter here), as PodSecurity names it.
pub fn pod_security(spec: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let namespaces: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .filter(|k| spec[**k] == true)
        .map(|k| format!("{k}=true"))
        .collect();
    if !namespaces.is_empty() {
        found.push(format!("host namespaces ({})", namespaces.join(", ")));
    }
    let containers = ["initContainers", "containers"]
        .iter()
        .flat_map(|list| spec[*list].as_array().cloned().unwrap_or_default());
    for c in containers {
        let name = c["name"].as_str().unwrap_or_default();
        let security = &c["securityContext"];
        if security["privileged"] == true {
            found.push(format!(
                "privileged (container \"{name}\" must not set securityContext.privileged=true)"
            ));
        }
        for cap in security["capabilities"]["add"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let cap = cap.as_str().unwrap_or_default();
            if !BASELINE_CAPABILITIES.contains(&cap) {
                found.push(format!(
                    "non-default capabilities (container \"{name}\" must not include \"{cap}\" in securityContext.capabilities.add)"
                ));
            }
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if let Some(host_port) = port["hostPort"].as_i64().filter(|p| *p != 0) {
                found.push(format!(
                    "hostPort (container \"{name}\" uses hostPort {host_port})"
                ));
            }
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        if volume["hostPath"].is_object() {
            let name = volume["name"].as_str().unwrap_or_default();
            found.push(format!("hostPath volumes (volume \"{name}\")"));
        }
    }
    found
}

/// The pod spec an object carries (a pod's own, or a template's).
pub fn pod_spec_of(resource: &Resource, object: &Value) -> Option<Value> {
    match resource.kind {
        "Pod" => Some(object["spec"].clone()),
        "Deployment" | "ReplicaSet" => Some(object["spec"]["template"]["spec"].clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> &'static Resource {
        Resource::of_kind("Deployment").unwrap()
    }

    fn web() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "blog:1"}]}}}})
    }

    #[test]
    fn unknown_fields_are_refused_by_path_under_strict_validation() {
        let mut bad = web();
        bad["spec"]["bogusField"] = json!(1);
        bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = json!("Never");
        let (_, unknown) = decode(deployment(), bad).unwrap();
        let Refusal::Decode(message) = unknown_refused(deployment(), &unknown) else {
            panic!()
        };
        assert_eq!(
            message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.bogusField\", unknown field \"spec.template.spec.containers[0].imagePullPolice\""
        );
        let mut wrong_type = web();
        wrong_type["spec"]["replicas"] = json!("two");
        assert!(matches!(
            decode(deployment(), wrong_type),
            Err(Refusal::Decode(_))
        ));
    }

    #[test]
    fn defaults_are_the_real_ones_and_latest_is_pulled_always() {
        let (mut d, _) = decode(deployment(), web()).unwrap();
        defaults(deployment(), &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        for (image, policy) in [
            ("blog", "Always"),
            ("blog:latest", "Always"),
            ("localhost:5000/blog", "Always"),
            ("localhost:5000/blog:2", "IfNotPresent"),
        ] {
            assert_eq!(pull_policy_for(image), policy, "{image}");
        }
    }

    #[test]
    fn a_selector_that_misses_the_template_is_invalid() {
        let mut d = web();
        d["spec"]["template"]["metadata"]["labels"] = json!({"app": "blog"});
        let Err(Refusal::Invalid(causes)) = validate(deployment(), &d) else {
            panic!()
        };
        assert_eq!(causes[0].0, "spec.template.metadata.labels");
        assert!(
            causes[0].1.contains("map[string]string{\"app\":\"blog\"}"),
            "{causes:?}"
        );
    }

    #[test]
    fn what_would_reach_the_host_is_named() {
        let spec = json!({"hostNetwork": true,
            "containers": [{"name": "web", "securityContext": {"privileged": true}, "ports": [{"containerPort": 80, "hostPort": 80}]}],
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}]});
        let found = pod_security(&spec);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("host namespaces (hostNetwork=true)"));
        assert!(pod_security(&web()["spec"]["template"]["spec"]).is_empty());
    }
}
