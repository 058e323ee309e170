//! Label and field selectors as the API reads them from queries
//! (`app=web,tier!=db`, `env in (a,b)`, `!canary`) and from objects
//! (a Deployment's `spec.selector`).

use std::collections::BTreeMap;

use serde_json::Value;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A label selector: every requirement must hold. The empty one selects
/// everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels(Vec<Requirement>);

impl Labels {
    /// A selector from a query's `labelSelector`; None when it cannot be
    /// read.
    pub fn parse(text: &str) -> Option<Labels> {
        let mut requirements = Vec::new();
        for part in split_top(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement::NotExists(key.trim().to_string())
            } else if let Some((key, rest)) = part.split_once(" notin ") {
                Requirement::NotIn(key.trim().to_string(), set(rest)?)
            } else if let Some((key, rest)) = part.split_once(" in ") {
                Requirement::In(key.trim().to_string(), set(rest)?)
            } else if let Some((key, value)) = part.split_once("!=") {
                Requirement::NotEquals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, value)) = part.split_once("==") {
                Requirement::Equals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, value)) = part.split_once('=') {
                Requirement::Equals(key.trim().to_string(), value.trim().to_string())
            } else {
                Requirement::Exists(part.to_string())
            };
            requirements.push(requirement);
        }
        Some(Labels(requirements))
    }

    /// A selector from an object's `LabelSelector` (matchLabels and
    /// matchExpressions); None when it has neither (selects nothing).
    pub fn of(selector: &Value) -> Option<Labels> {
        let mut requirements = Vec::new();
        if let Some(labels) = selector["matchLabels"].as_object() {
            for (k, v) in labels {
                requirements.push(Requirement::Equals(
                    k.clone(),
                    v.as_str().unwrap_or_default().into(),
                ));
            }
        }
        for e in selector["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let key = e["key"].as_str().unwrap_or_default().to_string();
            let values: Vec<String> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            requirements.push(match e["operator"].as_str() {
                Some("In") => Requirement::In(key, values),
                Some("NotIn") => Requirement::NotIn(key, values),
                Some("Exists") => Requirement::Exists(key),
                Some("DoesNotExist") => Requirement::NotExists(key),
                _ => return None,
            });
        }
        (!requirements.is_empty()).then_some(Labels(requirements))
    }

    /// A Service's `spec.selector` (a plain map); None when empty.
    pub fn of_map(map: &Value) -> Option<Labels> {
        let labels = map.as_object()?;
        let requirements: Vec<_> = labels
            .iter()
            .map(|(k, v)| Requirement::Equals(k.clone(), v.as_str().unwrap_or_default().into()))
            .collect();
        (!requirements.is_empty()).then_some(Labels(requirements))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => !labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }

    /// Whether an object's labels match.
    pub fn selects(&self, object: &Value) -> bool {
        self.matches(&labels_of(object))
    }

    /// As a query or `kubectl describe` writes it.
    pub fn to_text(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::NotExists(k) => format!("!{k}"),
            })
            .collect();
        parts.join(",")
    }
}

/// An object's labels.
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Splits on commas outside parentheses.
fn split_top(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn set(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|s| s.trim().to_string()).collect())
}

/// A field selector (`metadata.name=web,involvedObject.uid=…`): each
/// field is a dotted path into the object.
#[derive(Debug, Clone, Default)]
pub struct Fields(Vec<(String, bool, String)>);

impl Fields {
    pub fn parse(text: &str) -> Fields {
        let mut fields = Vec::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (path, equal, value) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                continue;
            };
            fields.push((path.to_string(), equal, value.to_string()));
        }
        Fields(fields)
    }

    pub fn selects(&self, object: &Value) -> bool {
        self.0.iter().all(|(path, equal, value)| {
            let found = path
                .split('.')
                .fold(object, |v, key| &v[key])
                .as_str()
                .unwrap_or_default();
            (found == value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors_read_every_form_the_api_takes() {
        let pod = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        for (text, selected) in [
            ("app=web", true),
            ("app==web,tier=front", true),
            ("app!=web", false),
            ("tier in (front,back)", true),
            ("tier notin (front)", false),
            ("app", true),
            ("!canary", true),
            ("", true),
            ("app=blog", false),
        ] {
            assert_eq!(
                Labels::parse(text).unwrap().selects(&pod),
                selected,
                "{text}"
            );
        }
        let selector = json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]});
        assert!(Labels::of(&selector).unwrap().selects(&pod));
        assert!(Labels::of(&json!({})).is_none());
        let fields = Fields::parse("metadata.name=web,involvedObject.kind!=Pod");
        assert!(fields.selects(
            &json!({"metadata": {"name": "web"}, "involvedObject": {"kind": "Deployment"}})
        ));
        assert!(!fields.selects(&json!({"metadata": {"name": "db"}})));
    }
}
