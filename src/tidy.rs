//! The architecture's rules (ARCHITECTURE.md), held by tests that read the
//! source as text, without Docker, as rust-analyzer's tidy tests do:
//! - the top-level modules of `src/` import each other without a cycle;
//! - no command names a concrete environment (they go through
//!   `environment.rs`);
//! - every environment has the same files for the same roles, and a fake
//!   service beside one knows nothing of its lab;
//! - ARCHITECTURE.md names every top-level module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The files an environment's folder has, one per role (ARCHITECTURE.md,
/// "Adding a kind of lab environment"); `checks` may be a folder.
const ENVIRONMENT_SHAPE: &[(&str, &str)] = &[
    ("mod.rs", "the module: its parts, its running state"),
    ("lab.rs", "the adapter: `impl Environment`"),
    ("checks", "its `expect:` kinds and how each is judged"),
    ("facts.rs", "what a check run gathers"),
    ("fixtures.rs", "its checks judged from recorded facts"),
    ("submission.rs", "its work captured and restored"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The top-level module a file of `src/` belongs to (None: the crate root).
fn top_module(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The files compiled only for tests: declared after `#[cfg(test)]`.
fn test_only_files() -> BTreeSet<PathBuf> {
    let mut test_only = BTreeSet::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = match file.file_name().unwrap().to_str().unwrap() {
            "mod.rs" | "lib.rs" => file.parent().unwrap().to_path_buf(),
            name => file.parent().unwrap().join(name.trim_end_matches(".rs")),
        };
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            if pair[0] == "#[cfg(test)]"
                && let Some(name) = pair[1].strip_prefix("mod ")
                && let Some(name) = name.strip_suffix(';')
            {
                test_only.insert(dir.join(format!("{name}.rs")));
                test_only.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    test_only
}

/// A file's production code: up to its inline test module (the convention
/// here: last in the file), without comments.
fn production_code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim().starts_with("mod ") && next.trim().ends_with('{'))
        {
            break;
        }
        if !trimmed.starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

/// The top-level modules `code` names as `crate::<module>`.
fn named_modules(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    code.split("crate::")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            modules.contains(&name).then_some(name)
        })
        .collect()
}

/// Which top-level module imports which, in production code.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(&src());
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(f)).collect();
    let test_only = test_only_files();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files.iter().filter(|f| !test_only.contains(*f)) {
        let Some(module) = top_module(file) else {
            continue;
        };
        let mut named = named_modules(&production_code(file), &modules);
        named.remove(&module);
        graph.entry(module).or_default().extend(named);
    }
    graph
}

/// A cycle through `graph`, if there is one, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        module: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut cycle = path[start..].to_vec();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(graph, module, &mut Vec::new(), &mut done))
}

/// The registered environments: (module, type), from `with_environments!`.
fn environments() -> Vec<(String, String)> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let table = lib
        .split("macro_rules! with_environments")
        .nth(1)
        .and_then(|rest| rest.split("};").next())
        .expect("lib.rs registers the environments in with_environments!");
    table
        .lines()
        .filter_map(|line| {
            // `vm::Vm: Vm = "vm",`
            let (module, rest) = line.trim().split_once("::")?;
            let (ty, _) = rest.split_once(':')?;
            Some((module.to_string(), ty.to_string()))
        })
        .collect()
}

#[test]
fn the_module_graph_is_acyclic() {
    let graph = module_graph();
    assert!(graph.contains_key("environment") && graph.contains_key("commands"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the modules import each other in a cycle: {}",
            cycle.join(" -> ")
        );
    }
}

/// The cycle finder finds what it must (a rule that cannot fail is none).
#[test]
fn a_cycle_is_found_and_named() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph
                .entry((*from).to_string())
                .or_default()
                .insert((*to).to_string());
        }
        graph
    };
    assert_eq!(
        find_cycle(&graph(&[("cli", "grading"), ("grading", "cli")])),
        Some(vec!["cli".into(), "grading".into(), "cli".into()])
    );
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    let modules = ["vm", "seam"].map(String::from).into_iter().collect();
    let code = "use crate::seam::Ctx;\nlet x = crate::vm::Vm;\ncrate::vmx::y();";
    assert_eq!(
        named_modules(code, &modules),
        ["seam", "vm"].map(String::from).into_iter().collect()
    );
}

#[test]
fn the_registered_environments_are_read() {
    let modules: Vec<String> = environments().into_iter().map(|(m, _)| m).collect();
    assert_eq!(modules, ["vm", "heroku", "compose", "k8s"]);
}

#[test]
fn no_command_names_a_concrete_environment() {
    let mut found = Vec::new();
    for file in rust_files(&src().join("commands")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (module, _) in environments() {
            let name = format!("crate::{module}::");
            for (n, line) in text.lines().enumerate() {
                if line.contains(&name) && !line.trim().starts_with("//") {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "commands go through environment.rs, never an environment:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_environment_has_the_same_shape() {
    for (module, ty) in environments() {
        let dir = src().join(&module);
        for (file, role) in ENVIRONMENT_SHAPE {
            let path = dir.join(file);
            let present = path.is_file() || path.with_extension("rs").is_file() || path.is_dir();
            assert!(present, "{module}: no {file} ({role})");
        }
        let adapter = std::fs::read_to_string(dir.join("lab.rs")).unwrap();
        assert!(
            adapter.contains(&format!("impl Environment for {ty} ")),
            "{module}/lab.rs: the adapter implements Environment for {ty}"
        );
    }
}

/// A fake service (`src/<environment>/fake/`) knows nothing of the lab
/// that drives it: the lab reads the service's records, never the other
/// way round.
#[test]
fn a_fake_service_knows_nothing_of_its_lab() {
    const LAB_SIDE: &[&str] = &["lab", "checks", "facts", "fixtures", "submission", "cli"];
    let mut found = Vec::new();
    for (module, _) in environments() {
        let service = src().join(&module).join("fake");
        if !service.is_dir() {
            continue;
        }
        for file in rust_files(&service) {
            let code = production_code(&file);
            for side in LAB_SIDE {
                for named in [
                    format!("crate::{module}::{side}"),
                    format!("super::super::{side}"),
                ] {
                    if code.contains(&format!("{named}::")) || code.contains(&format!("{named};")) {
                        found.push(format!("{}: {named}", file.display()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn architecture_md_names_every_module() {
    let doc = std::fs::read_to_string(src().join("../ARCHITECTURE.md")).unwrap();
    let missing: Vec<String> = module_graph()
        .into_keys()
        .filter(|module| !doc.contains(&format!("`{module}")))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name: {}",
        missing.join(", ")
    );
}
