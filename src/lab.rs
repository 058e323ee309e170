//! Labs: what a lab is (`labs/<id>/lab.yaml`), and where labs come from.
//!
//! The labs in this repository are compiled into the binary, so an installed
//! `deploylab` needs no files beside it. `DEPLOYLAB_LABS=<dir>` loads labs from
//! a folder instead (lab authors working on a lab; tests).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::check::Check;
use crate::error::{Error, Result};

/// The version of the lab.yaml format this deploylab reads.
pub const LAB_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    pub schema: u32,
    pub id: String,
    pub title: String,
    /// One paragraph shown by `deploylab labs` and on start.
    #[serde(default)]
    pub summary: String,
    pub environment: Environment,
    /// The user the student logs in as (the checks' default user).
    #[serde(default = "default_user")]
    pub user: String,
    /// Debian packages students install during the lab; deploylab serves them
    /// offline from its own repository.
    #[serde(default)]
    pub apt_packages: Vec<String>,
    /// Python packages students `pip install`; served offline as wheels.
    #[serde(default)]
    pub python_packages: Vec<String>,
    /// Git repositories the lab's git server offers, by name, from folders of
    /// `labs/`: `blog: shared/blog` is cloned as
    /// `http://git.deploylab.test/blog.git`.
    #[serde(default)]
    pub git_repos: std::collections::BTreeMap<String, String>,
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    /// A Debian 12 container with systemd and sshd standing in for a VM.
    Vm,
    /// The local fake Heroku, driven by the real heroku CLI and git.
    Heroku,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    pub title: String,
    /// Stages that must pass for this one to make sense. A failing check of a
    /// stage whose needs are not met is reported as "blocked", not "fail".
    /// Default: the stage before it.
    #[serde(default)]
    pub needs: Option<Vec<String>>,
    pub checks: Vec<CheckSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub id: String,
    pub title: String,
    #[serde(default = "one")]
    pub points: u32,
    /// What must be true; see `check::Check` for the kinds.
    pub expect: Check,
    /// One sentence toward the fix, shown when the check fails.
    pub hint: String,
    /// A second, deeper hint for `deploylab hint --more`.
    #[serde(default)]
    pub hint_more: Option<String>,
}

fn default_user() -> String {
    "student".into()
}

fn one() -> u32 {
    1
}

impl Lab {
    /// The ids of the stages stage `index` needs.
    pub fn needs(&self, index: usize) -> Vec<String> {
        match &self.stages[index].needs {
            Some(needs) => needs.clone(),
            None if index == 0 => Vec::new(),
            None => vec![self.stages[index - 1].id.clone()],
        }
    }

    /// Where a stage is in the lab, or an error naming the stages there are.
    pub fn stage_index(&self, id: &str) -> Result<usize> {
        self.stages
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| Error::UnknownStage {
                lab: self.id.clone(),
                stage: id.to_string(),
                known: self
                    .stages
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    pub fn max_points(&self) -> u32 {
        self.stages
            .iter()
            .flat_map(|s| &s.checks)
            .map(|c| c.points)
            .sum()
    }
}

/// The labs shipped with deploylab (every `labs/<id>/lab.yaml`, and the files
/// labs share), compiled in.
static BUILT_IN: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/labs");
/// Reference solutions (`solutions/<lab>/NN-<stage>.sh`), compiled in.
static SOLUTIONS: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/solutions");

/// Build leftovers that must not travel with lab files.
fn is_leftover(path: &Path) -> bool {
    path.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c == "__pycache__" || c == "build" || c.ends_with(".egg-info") || c.ends_with(".pyc")
    })
}

/// Where labs come from: the built-in set or a folder.
pub enum Catalog {
    BuiltIn,
    Dir(PathBuf),
}

impl Catalog {
    pub fn from_env() -> Catalog {
        match std::env::var_os("DEPLOYLAB_LABS") {
            Some(dir) if !dir.is_empty() => Catalog::Dir(dir.into()),
            _ => Catalog::BuiltIn,
        }
    }

    /// Every lab, parsed and validated, sorted by id.
    pub fn all(&self) -> Result<Vec<Lab>> {
        let mut labs = Vec::new();
        for (file, text) in self.sources()? {
            labs.push(parse(&file, &text)?);
        }
        labs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(labs)
    }

    pub fn ids(&self) -> Result<Vec<String>> {
        Ok(self.all()?.into_iter().map(|l| l.id).collect())
    }

    /// One lab by id; an unknown id suggests the nearest known one.
    pub fn get(&self, id: &str) -> Result<Lab> {
        let labs = self.all()?;
        if let Some(lab) = labs.iter().find(|l| l.id == id) {
            return Ok(lab.clone());
        }
        let nearest = labs
            .iter()
            .map(|l| (strsim::damerau_levenshtein(id, &l.id), &l.id))
            .filter(|(distance, _)| *distance <= 3)
            .min();
        Err(Error::UnknownLab {
            name: id.to_string(),
            suggestion: nearest
                .map(|(_, n)| format!("; did you mean '{n}'?"))
                .unwrap_or_default(),
        })
    }

    /// (display file name, text) of every lab.yaml.
    fn sources(&self) -> Result<Vec<(String, String)>> {
        match self {
            Catalog::BuiltIn => Ok(BUILT_IN
                .dirs()
                .filter_map(|dir| {
                    let file = dir.get_file(dir.path().join("lab.yaml"))?;
                    let text = file.contents_utf8()?.to_string();
                    Some((format!("labs/{}", display(file.path())), text))
                })
                .collect()),
            Catalog::Dir(dir) => {
                let io_err = |source| Error::LabsDir {
                    dir: dir.clone(),
                    source,
                };
                let mut out = Vec::new();
                for entry in std::fs::read_dir(dir).map_err(io_err)? {
                    let path = entry.map_err(io_err)?.path().join("lab.yaml");
                    if path.is_file() {
                        let text = std::fs::read_to_string(&path).map_err(io_err)?;
                        out.push((display(&path), text));
                    }
                }
                Ok(out)
            }
        }
    }

    /// Every file under `labs/<folder>`, as (path relative to it, contents).
    pub fn tree(&self, folder: &str) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        match self {
            Catalog::BuiltIn => {
                let dir = BUILT_IN.get_dir(folder).ok_or_else(|| Error::LabInvalid {
                    file: format!("labs/{folder}"),
                    message: "no such folder among the built-in labs".into(),
                })?;
                let mut files = Vec::new();
                collect_embedded(dir, Path::new(folder), &mut files);
                Ok(files)
            }
            Catalog::Dir(root) => {
                let mut files = Vec::new();
                collect_disk(&root.join(folder), Path::new(""), &mut files).map_err(Error::io(
                    format!("reading {}", root.join(folder).display()),
                ))?;
                Ok(files)
            }
        }
    }

    /// The reference solution of a lab: one script per stage
    /// (`solutions/<lab>/NN-<stage>.sh`) and `env.sh`, put in front of each.
    pub fn solution(&self, lab: &str) -> Result<Solution> {
        let files: Vec<(String, String)> = match self {
            Catalog::BuiltIn => SOLUTIONS
                .get_dir(lab)
                .map(|dir| {
                    dir.files()
                        .filter_map(|f| {
                            let name = f.path().file_name()?.to_string_lossy().into_owned();
                            Some((name, f.contents_utf8()?.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Catalog::Dir(root) => {
                let dir = root.join("..").join("solutions").join(lab);
                let mut out = Vec::new();
                if let Ok(entries) = std::fs::read_dir(&dir) {
                    for e in entries.flatten() {
                        let text = std::fs::read_to_string(e.path())
                            .map_err(Error::io(format!("reading {}", e.path().display())))?;
                        out.push((e.file_name().to_string_lossy().into_owned(), text));
                    }
                }
                out
            }
        };
        let mut solution = Solution::default();
        for (name, text) in files {
            if name == "env.sh" {
                solution.prelude = text;
            } else if let Some((number, stage)) = name
                .strip_suffix(".sh")
                .and_then(|n| n.split_once('-'))
                .filter(|(n, _)| n.bytes().all(|b| b.is_ascii_digit()))
            {
                solution
                    .steps
                    .push((number.to_string(), stage.to_string(), text));
            }
        }
        solution.steps.sort();
        Ok(solution)
    }
}

/// A lab's reference solution.
#[derive(Debug, Default)]
pub struct Solution {
    /// Shell text put in front of every step.
    pub prelude: String,
    /// (number, stage id, script), in order.
    pub steps: Vec<(String, String, String)>,
}

impl Solution {
    /// The full script of one step.
    pub fn script(&self, step: &str) -> String {
        format!("{}\n{}", self.prelude, step)
    }
}

fn collect_embedded(dir: &include_dir::Dir, base: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for file in dir.files() {
        let rel = file.path().strip_prefix(base).unwrap_or(file.path());
        if !is_leftover(rel) {
            out.push((rel.to_path_buf(), file.contents().to_vec()));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, base, out);
    }
}

fn collect_disk(dir: &Path, rel: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        if is_leftover(&rel) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            collect_disk(&entry.path(), &rel, out)?;
        } else {
            out.push((rel, std::fs::read(entry.path())?));
        }
    }
    Ok(())
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Parses and validates one lab.yaml; errors carry file:line:col.
pub fn parse(file: &str, text: &str) -> Result<Lab> {
    let lab: Lab = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        Error::LabFile {
            file: file.to_string(),
            line,
            column,
            message: first_line(&e.without_snippet().to_string()),
        }
    })?;
    validate(file, &lab)?;
    Ok(lab)
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

fn validate(file: &str, lab: &Lab) -> Result<()> {
    let invalid = |message: String| Error::LabInvalid {
        file: file.to_string(),
        message,
    };
    if lab.schema != LAB_SCHEMA {
        return Err(invalid(format!(
            "schema {} is not supported; this deploylab reads schema {LAB_SCHEMA}",
            lab.schema
        )));
    }
    if lab.stages.is_empty() {
        return Err(invalid("a lab needs at least one stage".into()));
    }
    let mut seen_stages: Vec<&str> = Vec::new();
    for stage in &lab.stages {
        if seen_stages.contains(&stage.id.as_str()) {
            return Err(invalid(format!("stage id '{}' appears twice", stage.id)));
        }
        for need in stage.needs.iter().flatten() {
            if !seen_stages.contains(&need.as_str()) {
                return Err(invalid(format!(
                    "stage '{}' needs '{need}', which is not an earlier stage",
                    stage.id
                )));
            }
        }
        seen_stages.push(&stage.id);
        if stage.checks.is_empty() {
            return Err(invalid(format!("stage '{}' has no checks", stage.id)));
        }
        let mut seen_checks: Vec<&str> = Vec::new();
        for check in &stage.checks {
            if seen_checks.contains(&check.id.as_str()) {
                return Err(invalid(format!(
                    "check id '{}' appears twice in stage '{}'",
                    check.id, stage.id
                )));
            }
            seen_checks.push(&check.id);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_labs_parse() {
        let labs = Catalog::BuiltIn.all().unwrap();
        assert!(labs.iter().any(|l| l.id == "vm-nginx"));
    }

    #[test]
    fn every_stage_of_vm_nginx_has_one_solution_step_in_order() {
        let lab = Catalog::BuiltIn.get("vm-nginx").unwrap();
        let solution = Catalog::BuiltIn.solution("vm-nginx").unwrap();
        let stages: Vec<&str> = lab.stages.iter().map(|s| s.id.as_str()).collect();
        let steps: Vec<&str> = solution.steps.iter().map(|(_, s, _)| s.as_str()).collect();
        assert_eq!(stages, steps);
        assert!(solution.prelude.contains("set -euo pipefail"));
    }

    #[test]
    fn unknown_key_reports_file_line_and_column() {
        let text = "schema: 1\nid: x\ntitle: X\nenvironment: vm\nstagez: []\n";
        let err = parse("labs/x/lab.yaml", text).unwrap_err().to_string();
        assert!(err.starts_with("labs/x/lab.yaml:5:1: "), "{err}");
        assert!(err.contains("stagez"), "{err}");
    }

    #[test]
    fn unknown_lab_suggests_the_nearest_name() {
        let Err(err) = Catalog::BuiltIn.get("vm-ngnix") else {
            panic!("a misspelt lab must not be found")
        };
        assert!(
            err.to_string().contains("did you mean 'vm-nginx'?"),
            "{err}"
        );
        let Err(far) = Catalog::BuiltIn.get("kubernetes-the-hard-way") else {
            panic!("unknown lab must not be found")
        };
        assert!(!far.to_string().contains("did you mean"), "{far}");
    }

    #[test]
    fn needs_default_to_the_previous_stage_and_must_point_backwards() {
        let lab = Catalog::BuiltIn.get("vm-nginx").unwrap();
        assert!(lab.needs(0).is_empty());
        assert_eq!(lab.needs(1), vec![lab.stages[0].id.clone()]);

        let text = r#"
schema: 1
id: x
title: X
environment: vm
stages:
  - id: a
    title: A
    needs: [b]
    checks:
      - id: c
        title: C
        expect: { ssh_banner: {} }
        hint: h
"#;
        let err = parse("x.yaml", text).unwrap_err().to_string();
        assert!(
            err.contains("needs 'b', which is not an earlier stage"),
            "{err}"
        );
    }
}
