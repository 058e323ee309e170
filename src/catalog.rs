//! Where labs come from: the built-in set compiled into the binary, or a
//! folder (`DEPLOYLAB_LABS=<dir>`, for lab authors and tests); and the
//! files labs carry (git repositories, reference solutions).
//!
//! This module knows lab files, not environments: `environment::load`
//! reads a lab's checks as its environment's own types.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::i18n::{self, Lang};
use crate::lab::{self, Lab};
use crate::lab_text::{self, Translations};

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
pub(crate) enum Catalog {
    BuiltIn,
    Dir(PathBuf),
}

impl Catalog {
    pub(crate) fn from_env() -> Catalog {
        match std::env::var_os("DEPLOYLAB_LABS") {
            Some(dir) if !dir.is_empty() => Catalog::Dir(dir.into()),
            _ => Catalog::BuiltIn,
        }
    }

    /// Every lab, parsed and validated, sorted by id, in this run's
    /// language.
    pub(crate) fn all(&self) -> Result<Vec<Lab>> {
        self.all_in(i18n::current())
    }

    /// Every lab with its texts in `lang` (where its catalog for `lang`
    /// translates them; English otherwise).
    pub(crate) fn all_in(&self, lang: Lang) -> Result<Vec<Lab>> {
        let mut labs: Vec<Lab> = Vec::new();
        for (file, text) in self.sources()? {
            let mut lab = lab::parse(&file, &text)?;
            if lang != Lang::En {
                let translations = self.translations(&lab, lang)?;
                lab_text::localise(&mut lab, &translations);
            }
            if let Some(first) = labs.iter().find(|l| l.id == lab.id) {
                return Err(Error::LabInvalid {
                    file,
                    message: format!(
                        "lab id '{}' is already the id of {}",
                        lab.id, first.source.file
                    ),
                });
            }
            labs.push(lab);
        }
        lab::resolve_imports(&mut labs)?;
        labs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(labs)
    }

    /// One lab by id, in this run's language; an unknown id suggests the
    /// nearest known one.
    pub(crate) fn get(&self, id: &str) -> Result<Lab> {
        self.get_in(id, i18n::current())
    }

    /// One lab by id, its texts in `lang`.
    pub(crate) fn get_in(&self, id: &str, lang: Lang) -> Result<Lab> {
        let labs = self.all_in(lang)?;
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
                .map(|(_, n)| i18n::tr!("error-suggestion", name = n))
                .unwrap_or_default(),
        })
    }

    /// A lab's catalog for `lang` (`<lang>.po` beside its lab.yaml), read;
    /// empty where the lab has none.
    pub(crate) fn translations(&self, lab: &Lab, lang: Lang) -> Result<Translations> {
        let file = Path::new(&lab.source.file).with_file_name(format!("{}.po", lang.tag()));
        let text = match self {
            Catalog::BuiltIn => file
                .strip_prefix("labs")
                .ok()
                .and_then(|relative| BUILT_IN.get_file(relative))
                .and_then(|f| f.contents_utf8())
                .map(str::to_string),
            Catalog::Dir(_) => std::fs::read_to_string(&file).ok(),
        };
        let Some(text) = text else {
            return Ok(Translations::default());
        };
        Translations::parse(&display(&file), &text).map_err(|message| Error::LabInvalid {
            file: display(&file),
            message,
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
                let mut paths = Vec::new();
                for entry in std::fs::read_dir(dir).map_err(io_err)? {
                    let path = entry.map_err(io_err)?.path().join("lab.yaml");
                    if path.is_file() {
                        paths.push(path);
                    }
                }
                // In a stable order, so "already the id of" names the same file.
                paths.sort();
                let mut out = Vec::new();
                for path in paths {
                    let bytes = std::fs::read(&path).map_err(io_err)?;
                    let text = String::from_utf8(bytes).map_err(|_| Error::LabInvalid {
                        file: display(&path),
                        message: "not UTF-8 text".into(),
                    })?;
                    out.push((display(&path), text));
                }
                Ok(out)
            }
        }
    }

    /// Every file under `labs/<folder>`, as (path relative to it, contents).
    pub(crate) fn tree(&self, folder: &str) -> Result<Vec<(PathBuf, Vec<u8>)>> {
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
    pub(crate) fn solution(&self, lab: &str) -> Result<Solution> {
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

impl Catalog {
    /// The files a lab's solution steps copy (`solutions/<lab>/files/`),
    /// as (path relative to it, contents).
    pub(crate) fn solution_files(&self, lab: &str) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        let folder = format!("{lab}/files");
        let mut out = Vec::new();
        match self {
            Catalog::BuiltIn => {
                if let Some(dir) = SOLUTIONS.get_dir(&folder) {
                    collect_embedded(dir, dir.path(), &mut out);
                }
            }
            Catalog::Dir(root) => {
                let dir = root.join("..").join("solutions").join(&folder);
                collect_dir(&dir, &dir, &mut out)?;
            }
        }
        Ok(out)
    }
}

fn collect_dir(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_dir(&path, base, out)?;
        } else {
            let contents =
                std::fs::read(&path).map_err(Error::io(format!("reading {}", path.display())))?;
            let rel = path.strip_prefix(base).unwrap_or(&path).to_path_buf();
            out.push((rel, contents));
        }
    }
    Ok(())
}

/// A lab's reference solution.
#[derive(Debug, Default)]
pub(crate) struct Solution {
    /// Shell text put in front of every step.
    pub(crate) prelude: String,
    /// (number, stage id, script), in order.
    pub(crate) steps: Vec<(String, String, String)>,
}

/// A step's line saying on which machine what follows it runs.
const ON_MARKER: &str = "# deploylab: on ";
/// A step's comment saying its stage passes before any work.
const FRESH_MARKER: &str = "# deploylab: a fresh lab passes this stage";
/// A step's comment saying its stage passes with another stage's step
/// (its work can only be seen then: a Procfile is judged once pushed).
const WITH_MARKER: &str = "# deploylab: this stage passes with stage ";

impl Solution {
    /// The stage whose step makes `stage` pass (`None`: a fresh lab passes
    /// it), as `selftest` expects: its own step, unless the step says
    /// otherwise, and `None` for a stage with no step.
    pub(crate) fn passes_with(&self, stage: &str) -> Option<String> {
        let (_, _, step) = self.steps.iter().find(|(_, id, _)| id == stage)?;
        if step.contains(FRESH_MARKER) {
            return None;
        }
        let named = step
            .lines()
            .find_map(|l| l.trim().strip_prefix(WITH_MARKER))
            .map(|id| id.trim().to_string());
        Some(named.unwrap_or_else(|| stage.to_string()))
    }

    /// The scripts of one step, each with the machine it runs on: a line
    /// `# deploylab: on NAME` sends what follows it to machine NAME (of a
    /// lab with several); what comes before any runs where a step runs by
    /// default (None). Each script starts with the prelude.
    pub(crate) fn scripts(&self, step: &str) -> Vec<(Option<String>, String)> {
        let mut parts: Vec<(Option<String>, String)> = vec![(None, String::new())];
        for line in step.lines() {
            match line.trim().strip_prefix(ON_MARKER) {
                Some(machine) => parts.push((Some(machine.trim().to_string()), String::new())),
                None => {
                    let text = &mut parts.last_mut().expect("one part at least").1;
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
        parts
            .into_iter()
            .filter(|(machine, text)| machine.is_some() || !text.trim().is_empty())
            .map(|(machine, text)| (machine, format!("{}\n{text}", self.prelude)))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A step runs where its `# deploylab: on NAME` lines send each part;
    /// what comes before any runs where steps run by default.
    #[test]
    fn a_step_is_split_by_machine() {
        let solution = Solution {
            prelude: "set -e".into(),
            steps: Vec::new(),
        };
        let step = "echo first\n# deploylab: on web\napt-get install nginx\n# deploylab: on control\nansible-playbook site.yml\n";
        let scripts = solution.scripts(step);
        let on: Vec<Option<&str>> = scripts.iter().map(|(m, _)| m.as_deref()).collect();
        assert_eq!(on, [None, Some("web"), Some("control")]);
        assert_eq!(scripts[1].1, "set -e\napt-get install nginx\n");
        let plain = solution.scripts("echo one\n");
        assert_eq!(plain, [(None, "set -e\necho one\n".to_string())]);
    }

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

    /// Two labs with one id, or a lab file that is not text: clear errors
    /// naming the file.
    #[test]
    fn duplicate_ids_and_non_utf8_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let lab = "schema: 1\nid: same\ntitle: T\nenvironment: vm\nstages:\n  - id: a\n    title: A\n    checks:\n      - { id: c, title: C, hint: h, expect: { ssh_banner: {} } }\n";
        for folder in ["one", "two"] {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
            std::fs::write(dir.path().join(folder).join("lab.yaml"), lab).unwrap();
        }
        let catalog = Catalog::Dir(dir.path().to_path_buf());
        let err = catalog.all().unwrap_err().to_string();
        assert!(
            err.contains("two/lab.yaml: lab id 'same' is already the id of"),
            "{err}"
        );
        assert!(err.ends_with("one/lab.yaml"), "{err}");

        std::fs::write(dir.path().join("two/lab.yaml"), b"id: \xff\n").unwrap();
        let err = catalog.all().unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert!(
            err.to_string().ends_with("two/lab.yaml: not UTF-8 text"),
            "{err}"
        );
    }

    /// The built-in labs' needs are real dependencies: none of them names
    /// a check that only judges quality, which would withhold the points of
    /// work that stands on its own.
    #[test]
    fn no_built_in_check_needs_a_quality_check() {
        const QUALITY: &[&str] = &[
            "debug-off",
            "secret-key",
            "allowed-hosts",
            "default-site",
            "debug-off-live",
            "not-exposed",
            "pip",
            "service",
            "non-root",
            "unbuffered",
            "expose",
            "no-secrets",
            "context",
            "workers",
        ];
        for lab in Catalog::BuiltIn.all().unwrap() {
            for check in lab.stages.iter().flat_map(|s| &s.checks) {
                for need in &check.needs {
                    assert!(
                        !QUALITY.contains(&need.as_str()),
                        "{}: '{}' needs the quality check '{need}'",
                        lab.id,
                        check.id
                    );
                }
            }
        }
    }
}
