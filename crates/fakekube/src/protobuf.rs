//! The objects kubectl's imperative `create` commands send as protobuf
//! (its typed client speaks nothing else for them, and gives up on a
//! 415): `create namespace`, `create secret generic`, `create configmap`.
//! Read with the generated Kubernetes types (k8s-pb) and turned into the
//! JSON every other request brings. Other kinds sent this way are refused
//! with the way round (a manifest through `kubectl apply`).

use base64::Engine;
use k8s_pb::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Map, Value, json};

/// What every Kubernetes protobuf message starts with.
const MAGIC: &[u8] = b"k8s\0";

/// The object in a protobuf body, as JSON; or why it cannot be read.
pub fn to_json(body: &[u8]) -> Result<Value, String> {
    let raw = body
        .strip_prefix(MAGIC)
        .ok_or("not a Kubernetes protobuf message")?;
    let unknown = Unknown::decode(raw).map_err(|e| e.to_string())?;
    let meta = unknown.type_meta.unwrap_or_default();
    let kind = meta.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let bytes = |data: &std::collections::BTreeMap<String, Vec<u8>>| -> Map<String, Value> {
        data.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    json!(base64::engine::general_purpose::STANDARD.encode(v)),
                )
            })
            .collect()
    };
    let mut object = match kind.as_str() {
        "Namespace" => {
            let ns = Namespace::decode(raw.as_slice()).map_err(|e| e.to_string())?;
            json!({"metadata": metadata(ns.metadata)})
        }
        "Secret" => {
            let secret = Secret::decode(raw.as_slice()).map_err(|e| e.to_string())?;
            let mut object =
                json!({"metadata": metadata(secret.metadata), "data": bytes(&secret.data)});
            if !secret.string_data.is_empty() {
                object["stringData"] = json!(secret.string_data);
            }
            if let Some(kind) = secret.r#type {
                object["type"] = json!(kind);
            }
            if let Some(immutable) = secret.immutable {
                object["immutable"] = json!(immutable);
            }
            object
        }
        "ConfigMap" => {
            let map = ConfigMap::decode(raw.as_slice()).map_err(|e| e.to_string())?;
            let mut object = json!({"metadata": metadata(map.metadata), "data": map.data});
            if !map.binary_data.is_empty() {
                object["binaryData"] = Value::Object(bytes(&map.binary_data));
            }
            if let Some(immutable) = map.immutable {
                object["immutable"] = json!(immutable);
            }
            object
        }
        other => return Err(other.to_string()),
    };
    object["apiVersion"] = json!(meta.api_version.unwrap_or_default());
    object["kind"] = json!(kind);
    Ok(object)
}

/// The fields of ObjectMeta a client sets.
fn metadata(meta: Option<ObjectMeta>) -> Value {
    let meta = meta.unwrap_or_default();
    let mut out = Map::new();
    for (key, value) in [
        ("name", meta.name),
        ("generateName", meta.generate_name),
        ("namespace", meta.namespace),
    ] {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    }
    if !meta.labels.is_empty() {
        out.insert("labels".into(), json!(meta.labels));
    }
    if !meta.annotations.is_empty() {
        out.insert("annotations".into(), json!(meta.annotations));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_pb::apimachinery::pkg::runtime::TypeMeta;

    fn wrapped(kind: &str, api_version: &str, raw: Vec<u8>) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
            }),
            raw: Some(raw),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        [MAGIC.to_vec(), unknown.encode_to_vec()].concat()
    }

    #[test]
    fn a_secret_and_a_namespace_read_as_their_json() {
        let secret = Secret {
            metadata: Some(ObjectMeta {
                name: Some("blog".into()),
                ..Default::default()
            }),
            data: [("BLOG_SECRET_KEY".to_string(), b"s3cret".to_vec())].into(),
            r#type: Some("Opaque".into()),
            ..Default::default()
        };
        let json = to_json(&wrapped("Secret", "v1", secret.encode_to_vec())).unwrap();
        assert_eq!(json["metadata"]["name"], "blog");
        assert_eq!(json["data"]["BLOG_SECRET_KEY"], "czNjcmV0");
        assert_eq!(json["type"], "Opaque");
        assert_eq!(json["kind"], "Secret");
        let ns = Namespace {
            metadata: Some(ObjectMeta {
                name: Some("lab".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let json = to_json(&wrapped("Namespace", "v1", ns.encode_to_vec())).unwrap();
        assert_eq!(json["metadata"], json!({"name": "lab"}));
        assert_eq!(
            to_json(&wrapped("Deployment", "apps/v1", Vec::new())).unwrap_err(),
            "Deployment"
        );
        assert!(to_json(b"{}").is_err());
    }
}
