//! The three patch kinds kubectl sends: strategic merge (apply, `set
//! image`, `edit`), JSON merge (`scale`) and JSON patch (`rollout undo`).
//! Strategic merge knows the built-in types' merge keys: lists of
//! containers, volumes and env merge by name, ports by their number; other
//! lists are replaced whole. Its directives (`$patch`,
//! `$setElementOrder/…`, `$retainKeys`, `$deleteFromPrimitiveList/…`)
//! are honoured.

use serde_json::{Map, Value};

/// How a PATCH body is to be read (its Content-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Strategic,
    Merge,
    Json,
    /// Server-side apply: not served.
    Apply,
}

impl Kind {
    pub fn of(content_type: &str) -> Option<Kind> {
        match content_type.split(';').next().unwrap_or_default().trim() {
            "application/strategic-merge-patch+json" => Some(Kind::Strategic),
            "application/merge-patch+json" => Some(Kind::Merge),
            "application/json-patch+json" => Some(Kind::Json),
            "application/apply-patch+yaml" => Some(Kind::Apply),
            _ => None,
        }
    }
}

/// `target` patched by `patch`, or why the patch cannot be applied.
pub fn apply(kind: Kind, target: &Value, patch: &Value) -> Result<Value, String> {
    let mut patched = target.clone();
    match kind {
        Kind::Strategic => strategic(&mut patched, patch),
        Kind::Merge => json_patch::merge(&mut patched, patch),
        Kind::Json => {
            let ops: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| e.to_string())?;
            json_patch::patch(&mut patched, &ops).map_err(|e| e.to_string())?;
        }
        Kind::Apply => return Err("server-side apply is not served".into()),
    }
    Ok(patched)
}

/// The merge key of a list field, given one of its items (ports of a
/// container merge by `containerPort`, a Service's by `port`).
fn merge_key(field: &str, item: Option<&Value>) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ownerReferences" => "uid",
        "conditions" => "type",
        "hostAliases" => "ip",
        "ports" => match item.and_then(|i| i.get("containerPort")) {
            Some(_) => "containerPort",
            None => "port",
        },
        _ => return None,
    })
}

/// Strategic merge of `patch` into `target` (both objects).
pub fn strategic(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = patch.clone();
        replaced.remove("$patch");
        *target = Value::Object(replaced);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let mut orders = Vec::new();
    for (key, value) in patch {
        if let Some(list) = key.strip_prefix("$setElementOrder/") {
            orders.push((list.to_string(), value.clone()));
            continue;
        }
        if let Some(list) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let Some(items) = target[list].as_array_mut() {
                let gone = value.as_array().cloned().unwrap_or_default();
                items.retain(|i| !gone.contains(i));
            }
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        let map = target.as_object_mut().expect("made an object");
        match value {
            Value::Null => {
                map.remove(key);
            }
            Value::Object(_) => {
                let slot = map.entry(key.clone()).or_insert(Value::Null);
                strategic(slot, value);
            }
            Value::Array(items) => {
                let slot = map.entry(key.clone()).or_insert(Value::Array(Vec::new()));
                merge_list(key, slot, items);
            }
            other => {
                map.insert(key.clone(), other.clone());
            }
        }
    }
    if let Some(keep) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        if let Some(map) = target.as_object_mut() {
            map.retain(|k, _| keep.contains(&k.as_str()));
        }
    }
    for (list, order) in orders {
        if let (Some(items), Some(order)) = (target[&list].as_array_mut(), order.as_array()) {
            reorder(&list, items, order);
        }
    }
}

fn merge_list(field: &str, target: &mut Value, items: &[Value]) {
    let Some(key) = merge_key(field, items.first()) else {
        *target = Value::Array(items.to_vec());
        return;
    };
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        let kept: Vec<Value> = items
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .cloned()
            .collect();
        *target = Value::Array(kept);
        return;
    }
    if !target.is_array() {
        *target = Value::Array(Vec::new());
    }
    let list = target.as_array_mut().expect("made a list");
    for item in items {
        let id = &item[key];
        let position = list.iter().position(|existing| existing[key] == *id);
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(at), true) => {
                list.remove(at);
            }
            (None, true) => {}
            (Some(at), false) => strategic(&mut list[at], item),
            (None, false) => {
                let mut fresh = Value::Object(Map::new());
                strategic(&mut fresh, item);
                list.push(fresh);
            }
        }
    }
}

/// Puts a merged list in the order `$setElementOrder` gives; items it does
/// not name keep their places after those it does.
fn reorder(field: &str, items: &mut [Value], order: &[Value]) {
    let Some(key) = merge_key(field, order.first()) else {
        return;
    };
    let rank = |item: &Value| {
        order
            .iter()
            .position(|o| o[key] == item[key])
            .unwrap_or(order.len())
    };
    items.sort_by_key(rank);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_image_merges_containers_by_name_and_keeps_the_rest() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "blog:1", "ports": [{"containerPort": 8000}]},
            {"name": "side", "image": "busybox:1"}]}}}});
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "side"}, {"name": "web"}],
            "containers": [{"image": "blog:2", "name": "web"}]}}}});
        strategic(&mut d, &patch);
        let containers = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["name"], "side");
        assert_eq!(containers[1]["image"], "blog:2");
        assert_eq!(containers[1]["ports"][0]["containerPort"], 8000);
    }

    #[test]
    fn directives_delete_replace_and_null_remove() {
        let mut d = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
            "spec": {"containers": [{"name": "web", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}],
                     "args": ["x"], "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let patch = json!({"metadata": {"labels": {"b": null}},
            "spec": {"containers": [{"name": "web", "env": [{"name": "A", "$patch": "delete"}]}],
                     "args": ["y"],
                     "strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        strategic(&mut d, &patch);
        assert_eq!(d["metadata"]["labels"], json!({"a": "1"}));
        assert_eq!(
            d["spec"]["containers"][0]["env"],
            json!([{"name": "B", "value": "2"}])
        );
        assert_eq!(d["spec"]["args"], json!(["y"]));
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn merge_and_json_patches_are_the_rfcs() {
        let d = json!({"spec": {"replicas": 1, "template": {"a": 1}}});
        let scaled = apply(Kind::Merge, &d, &json!({"spec": {"replicas": 3}})).unwrap();
        assert_eq!(scaled["spec"]["replicas"], 3);
        let undone = apply(
            Kind::Json,
            &d,
            &json!([{"op": "replace", "path": "/spec/template", "value": {"b": 2}}]),
        )
        .unwrap();
        assert_eq!(undone["spec"]["template"], json!({"b": 2}));
        assert_eq!(
            Kind::of("application/strategic-merge-patch+json"),
            Some(Kind::Strategic)
        );
    }
}
