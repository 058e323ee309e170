//! What the fixture tests of every environment share: a lab from YAML, a
//! recorded fixture by name, and the proof that an "every kind" lab lists
//! each check kind once.

use serde::de::DeserializeOwned;

use crate::environment::{self, LoadedLab};
use crate::lab;

/// A lab (with its typed checks) from a YAML text.
pub(crate) fn lab(yaml: &str) -> LoadedLab {
    environment::with_checks(lab::parse("every-kind.yaml", yaml).unwrap()).unwrap()
}

/// `<dir>/<name>.json`, `dir` relative to the repository.
pub(crate) fn read(dir: &str, name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The kinds of the checks of `yaml`, by `kind` (an exhaustive match, so
/// a new kind does not compile until it is named): each check must be
/// named after its kind, and no kind may appear twice.
pub(crate) fn kinds<C: DeserializeOwned>(
    yaml: &str,
    kind: fn(&C) -> &'static str,
) -> Vec<&'static str> {
    let parsed = lab::parse("every-kind.yaml", yaml).unwrap();
    let checks: Vec<Vec<C>> = lab::parse_checks(&parsed).unwrap();
    let kinds: Vec<&str> = checks.iter().flatten().map(kind).collect();
    let ids: Vec<String> = parsed.stages[0]
        .checks
        .iter()
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(kinds, ids, "each check is named after its kind");
    let mut unique = kinds.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), kinds.len(), "a kind listed twice");
    kinds
}

/// Every `{{word}}` of every hint in `report` was filled in (`what` names
/// the fixture in the message).
pub(crate) fn assert_hints_filled(what: &str, report: &crate::report::Report) {
    for check in report.stages.iter().flat_map(|s| &s.checks) {
        for hint in check.hint.iter().chain(&check.hint_more) {
            assert!(!hint.contains("{{"), "{what}: {}: {hint}", check.id);
        }
    }
}
