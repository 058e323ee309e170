//! What a lab is (`labs/<id>/lab.yaml`): stages, checks, hints, points.
//!
//! The model here is the same for every environment. What a check verifies
//! (`expect:`) is the environment's own type: `parse` checks the common part
//! and leaves `expect` alone; `parse_checks` reads the `expect:` of every
//! check as the type of the lab's environment (see `environment.rs`). Both
//! report errors as file:line:col.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::{Error, Result};

/// The version of the lab.yaml format this deploylab reads.
pub(crate) const LAB_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lab {
    pub(crate) schema: u32,
    pub(crate) id: String,
    pub(crate) title: String,
    /// One paragraph about the lab, for lab authors (no command shows it
    /// yet; kept so lab files that have it stay valid).
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) summary: String,
    pub(crate) environment: Kind,
    /// The lab's machines, by name (hostnames they reach each other by),
    /// where its environment has several; default: one, named after the
    /// lab. See `machines()`.
    #[serde(default)]
    machines: Vec<String>,
    /// The user the student logs in as (the checks' default user).
    #[serde(default = "default_user")]
    pub(crate) user: String,
    /// Debian packages students install during the lab; deploylab serves them
    /// offline from its own repository.
    #[serde(default)]
    pub(crate) apt_packages: Vec<String>,
    /// Python packages students `pip install`; served offline as wheels.
    #[serde(default)]
    pub(crate) python_packages: Vec<String>,
    /// Git repositories the lab's git server offers, by name, from folders of
    /// `labs/`: `blog: shared/blog` is cloned as
    /// `http://git.deploylab.test/blog.git`.
    #[serde(default)]
    pub(crate) git_repos: BTreeMap<String, String>,
    /// VM labs: the environment variables the course's management commands
    /// run with (`BLOG_ENV: production`). Before a service exists, Django
    /// is asked with them; once it exists, with the service's own.
    #[serde(default)]
    pub(crate) manage_env: BTreeMap<String, String>,
    /// VM labs done with Ansible: `start` writes an inventory of the lab's
    /// machines and records every `ansible-playbook` run (`vm/ansible/`).
    #[serde(default)]
    pub(crate) ansible: Option<AnsibleSettings>,
    pub(crate) stages: Vec<Stage>,
    /// Where the lab came from, so its environment can read the `expect:`
    /// of its checks with the same file:line:col (`parse_checks`).
    #[serde(skip)]
    pub(crate) source: Source,
}

/// `ansible: { group: webservers }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnsibleSettings {
    /// The inventory group holding the lab's machines (the course's
    /// `webservers`).
    pub(crate) group: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Source {
    pub(crate) file: String,
    pub(crate) text: String,
}

/// The kinds of environment a lab may run in (`environment:` in lab.yaml),
/// one per environment of `with_environments!` (lib.rs).
macro_rules! define_kind {
    ($($module:ident::$ty:ident: $variant:ident = $name:literal,)*) => {
        /// The kind of environment a lab runs in (`environment:` in lab.yaml).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
        pub(crate) enum Kind {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Kind {
            /// Its name in lab.yaml (and in submissions and the state file).
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }
        }
    };
}
with_environments!(define_kind);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Stage {
    pub(crate) id: String,
    pub(crate) title: String,
    /// The stage's own checks, then those it takes from another lab
    /// (`from:`, put here by `resolve_imports`).
    #[serde(default)]
    pub(crate) checks: Vec<CheckSpec>,
    /// Checks of another lab's stages, by reference: the vm-ansible lab
    /// judges each host with vm-nginx's checks rather than copies of them.
    #[serde(default)]
    pub(crate) from: Option<StageImport>,
    /// Where the checks taken by `from:` come from (set by `resolve_imports`).
    #[serde(skip)]
    pub(crate) imported: Option<Imported>,
}

/// `from: { lab: vm-nginx, stages: [packages, …], hints: { … } }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageImport {
    /// The lab whose checks are taken (of the same environment).
    pub(crate) lab: String,
    /// Its stages whose checks are taken, in this order.
    pub(crate) stages: Vec<String>,
    /// Hints told this lab's way, by check id: the check is the same, the
    /// way to fix it here is not (a playbook, not a shell).
    #[serde(default)]
    pub(crate) hints: BTreeMap<String, HintText>,
}

/// A hint and its `hint --more`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HintText {
    pub(crate) hint: String,
    #[serde(default)]
    pub(crate) hint_more: Option<String>,
}

/// The checks a stage took from another lab: that lab's source (their
/// `expect:` is read from it) and the stages, by index there.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    pub(crate) source: Source,
    pub(crate) stages: Vec<usize>,
    /// How many of the stage's checks are its own (the taken ones follow).
    pub(crate) own: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckSpec {
    pub(crate) id: String,
    pub(crate) title: String,
    #[serde(default = "one")]
    pub(crate) points: u32,
    /// What must be true: the environment's own check type reads it.
    #[allow(dead_code)] // read by `parse_checks`, typed
    expect: IgnoredAny,
    /// One sentence toward the fix, shown when the check fails.
    pub(crate) hint: String,
    /// A second, deeper hint for `deploylab hint --more`.
    #[serde(default)]
    pub(crate) hint_more: Option<String>,
    /// The machines the check judges, by name; default: every machine of
    /// the lab. It passes when it passes on each.
    #[serde(default)]
    pub(crate) on: Option<Vec<String>>,
    /// The checks, by id (anywhere in the lab), without which this one's
    /// verdict means nothing: no venv, nothing to import; no socket, nobody
    /// to ask. When one of them does not pass, this check is "blocked" and
    /// earns nothing, whatever it saw. Only real dependencies belong here:
    /// a quality finding (DEBUG on, a weak key) is needed by nothing, so it
    /// never withholds the points of work verified on its own.
    #[serde(default)]
    pub(crate) needs: Vec<String>,
}

fn default_user() -> String {
    "student".into()
}

fn one() -> u32 {
    1
}

impl Lab {
    /// The lab's machines, the first one first: those `machines:` names,
    /// or one named after the lab.
    pub(crate) fn machines(&self) -> Vec<String> {
        match self.machines.is_empty() {
            true => vec![self.id.clone()],
            false => self.machines.clone(),
        }
    }

    /// Whether the lab has several machines (its report then says how
    /// each check went on each).
    pub(crate) fn has_several_machines(&self) -> bool {
        self.machines.len() > 1
    }

    /// The machines a check judges.
    pub(crate) fn machines_of(&self, check: &CheckSpec) -> Vec<String> {
        check.on.clone().unwrap_or_else(|| self.machines())
    }

    /// Where lab.yaml's `machines:` is, for an environment that takes none.
    pub(crate) fn machines_error(&self, message: String) -> Error {
        let (line, column) = locate(&self.source.text, &Node::Machines).unwrap_or((1, 1));
        Error::LabFile {
            file: self.source.file.clone(),
            line,
            column,
            message,
        }
    }

    /// Every check as (stage index, check index), in file order.
    pub(crate) fn check_positions(&self) -> Vec<(usize, usize)> {
        self.stages
            .iter()
            .enumerate()
            .flat_map(|(s, stage)| (0..stage.checks.len()).map(move |c| (s, c)))
            .collect()
    }

    /// The checks in dependency order: each after every check it needs,
    /// otherwise in file order. Validation made sure there is no cycle.
    pub(crate) fn dependency_order(&self) -> Vec<(usize, usize)> {
        let all = self.check_positions();
        self.placing().into_iter().map(|i| all[i]).collect()
    }

    /// Which checks (by index in file order) a dependency order can place:
    /// all of them, unless `needs:` goes round in a circle.
    fn placeable(&self) -> Vec<bool> {
        let mut placed = vec![false; self.check_positions().len()];
        for i in self.placing() {
            placed[i] = true;
        }
        placed
    }

    /// Places checks one by one, each the first in file order whose needs
    /// are all placed, until none is left that can be; returns the order.
    fn placing(&self) -> Vec<usize> {
        let all = self.check_positions();
        let spec = |i: usize| &self.stages[all[i].0].checks[all[i].1];
        let index_of = |id: &str| (0..all.len()).find(|&i| spec(i).id == id);
        let mut placed = vec![false; all.len()];
        let mut order = Vec::with_capacity(all.len());
        while let Some(next) = (0..all.len()).find(|&i| {
            !placed[i]
                && spec(i)
                    .needs
                    .iter()
                    .all(|need| index_of(need).is_none_or(|n| placed[n]))
        }) {
            placed[next] = true;
            order.push(next);
        }
        order
    }

    /// Every `{{word}}` of a hint is one the environment fills in.
    pub(crate) fn check_hint_words(&self, known: &[&str]) -> Result<()> {
        for (s, stage) in self.stages.iter().enumerate() {
            for (c, check) in stage.checks.iter().enumerate() {
                let texts = [(false, Some(&check.hint)), (true, check.hint_more.as_ref())];
                for (more, text) in texts {
                    let Some(word) = text
                        .into_iter()
                        .flat_map(|t| hint_words(t))
                        .find(|w| !known.contains(w))
                    else {
                        continue;
                    };
                    let at = Node::Hint(s, c, more);
                    let (line, column) = locate(&self.source.text, &at).unwrap_or((1, 1));
                    return Err(Error::LabFile {
                        file: self.source.file.clone(),
                        line,
                        column,
                        message: text::unknown_word(&check.id, word, &known.join(", ")),
                    });
                }
            }
        }
        Ok(())
    }

    /// Where a stage is in the lab, or an error naming the stages there are.
    pub(crate) fn stage_index(&self, id: &str) -> Result<usize> {
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

    pub(crate) fn max_points(&self) -> u32 {
        self.stages
            .iter()
            .flat_map(|s| &s.checks)
            .map(|c| c.points)
            .sum()
    }
}

/// The `{{word}}`s of a hint.
fn hint_words(text: &str) -> impl Iterator<Item = &str> {
    text.split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}"))
        .map(|(word, _)| word.trim())
}

/// Parses and validates the common part of one lab.yaml; errors carry
/// file:line:col.
pub(crate) fn parse(file: &str, text: &str) -> Result<Lab> {
    let mut lab: Lab = from_yaml(file, text)?;
    validate(file, text, &lab)?;
    lab.source = Source {
        file: file.to_string(),
        text: text.to_string(),
    };
    Ok(lab)
}

/// The `expect:` of every check, stage by stage, as the environment's check
/// type `C`: a stage's own, then those it takes from another lab (read
/// from that lab's file). An unknown kind names the closest one there is.
pub(crate) fn parse_checks<C: DeserializeOwned>(lab: &Lab) -> Result<Vec<Vec<C>>> {
    let mut own = parse_own_checks::<C>(&lab.source)?;
    for (stage, checks) in lab.stages.iter().zip(own.iter_mut()) {
        let Some(imported) = &stage.imported else {
            continue;
        };
        let mut theirs = parse_own_checks::<C>(&imported.source)?;
        for &s in &imported.stages {
            checks.append(&mut theirs[s]);
        }
    }
    Ok(own)
}

/// The `expect:` of the checks a lab's file lists itself.
fn parse_own_checks<C: DeserializeOwned>(source: &Source) -> Result<Vec<Vec<C>>> {
    let (file, text) = (source.file.as_str(), source.text.as_str());
    #[derive(Deserialize)]
    struct Checks<C> {
        stages: Vec<StageChecks<C>>,
    }
    #[derive(Deserialize)]
    struct StageChecks<C> {
        #[serde(default = "Vec::new")]
        checks: Vec<Expect<C>>,
    }
    #[derive(Deserialize)]
    struct Expect<C> {
        expect: C,
    }
    let typed: Checks<C> = from_yaml(file, text)?;
    Ok(typed
        .stages
        .into_iter()
        .map(|s| s.checks.into_iter().map(|c| c.expect).collect())
        .collect())
}

/// Puts the checks each stage takes from another lab (`from:`) into it,
/// after its own, and validates the result as one lab. `labs` is every
/// lab of the catalog; a lab may take from one that takes from none.
pub(crate) fn resolve_imports(labs: &mut [Lab]) -> Result<()> {
    let originals = labs.to_vec();
    for lab in labs.iter_mut() {
        let invalid = |message: String| Error::LabInvalid {
            file: lab.source.file.clone(),
            message,
        };
        let mut any = false;
        for stage in &mut lab.stages {
            let Some(from) = &stage.from else {
                continue;
            };
            any = true;
            let Some(other) = originals.iter().find(|l| l.id == from.lab) else {
                return Err(invalid(text::import_unknown_lab(&stage.id, &from.lab)));
            };
            if other.environment != lab.environment {
                return Err(invalid(text::import_other_environment(
                    &stage.id, &from.lab,
                )));
            }
            if other.stages.iter().any(|s| s.from.is_some()) {
                return Err(invalid(text::import_chain(&stage.id, &from.lab)));
            }
            let mut indices = Vec::new();
            for id in &from.stages {
                let Some(s) = other.stages.iter().position(|s| &s.id == id) else {
                    let known: Vec<&str> = other.stages.iter().map(|s| s.id.as_str()).collect();
                    return Err(invalid(text::import_unknown_stage(
                        &from.lab,
                        id,
                        &known.join(", "),
                    )));
                };
                indices.push(s);
            }
            let mut taken: Vec<CheckSpec> = indices
                .iter()
                .flat_map(|&s| other.stages[s].checks.clone())
                .collect();
            for (id, told) in &from.hints {
                let Some(check) = taken.iter_mut().find(|c| &c.id == id) else {
                    return Err(invalid(text::import_unknown_hint(id, &from.lab)));
                };
                check.hint.clone_from(&told.hint);
                check.hint_more.clone_from(&told.hint_more);
            }
            let own = stage.checks.len();
            stage.checks.append(&mut taken);
            stage.imported = Some(Imported {
                source: other.source.clone(),
                stages: indices,
                own,
            });
        }
        if any {
            validate(&lab.source.file, &lab.source.text, lab)?;
        }
    }
    Ok(())
}

pub(crate) fn from_yaml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        Error::LabFile {
            file: file.to_string(),
            line,
            column,
            message: with_suggestion(&tidy(&e.without_snippet().to_string())),
        }
    })
}

/// The parser's message as a person should read it: its first line, without
/// the position the error already starts with, and without serde's
/// "expected one of" followed by nothing (a check kind that takes no fields).
fn tidy(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.split(" at line ").next().unwrap_or(line);
    match line.strip_suffix(", expected one of ") {
        Some(unknown) => format!("{unknown}: none is expected here"),
        None => line.to_string(),
    }
}

/// serde's "unknown variant `x`, expected one of `a`, `b`": adds the
/// closest name, so a misspelt check kind reads as a suggestion.
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message.split("unknown variant `").nth(1) else {
        return message.to_string();
    };
    let Some((unknown, rest)) = rest.split_once('`') else {
        return message.to_string();
    };
    let Some(expected) = rest.split("expected one of ").nth(1) else {
        return message.to_string();
    };
    let expected = expected.split(" at line ").next().unwrap_or(expected);
    let nearest = expected
        .split(", ")
        .map(|known| known.trim_matches('`'))
        .map(|known| (strsim::damerau_levenshtein(unknown, known), known))
        .filter(|(distance, known)| *distance <= 3.max(known.len() / 3))
        .min();
    match nearest {
        Some((_, known)) => crate::i18n::tr!("lab-unknown-kind", unknown = unknown, known = known),
        None => message.to_string(),
    }
}

/// What may be wrong with a lab that parsed, and where.
struct Problem {
    message: String,
    at: Node,
}

/// A node of lab.yaml, to locate a problem (see `locate`).
enum Node {
    Schema,
    Id,
    Stages,
    Stage(usize),
    Need(usize, usize, usize),
    Check(usize, usize),
    Points(usize, usize),
    Machines,
    Machine(usize),
    On(usize, usize, usize),
    /// A check's hint (`true`: its `hint_more`).
    Hint(usize, usize, bool),
}

/// The most points one check may give: generous, and far from overflow.
const MAX_POINTS: u32 = 1000;

/// Messages of lab validation, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn schema(found: u32, supported: u32) -> String {
        tr!("lab-schema", found = found, supported = supported)
    }
    pub(super) fn bad_id(id: &str) -> String {
        tr!("lab-bad-id", id = id)
    }
    pub(super) fn no_stages() -> String {
        tr!("lab-no-stages")
    }
    pub(super) fn stage_twice(id: &str) -> String {
        tr!("lab-stage-twice", id = id)
    }
    pub(super) fn unknown_need(check: &str, need: &str) -> String {
        tr!("lab-unknown-need", check = check, need = need)
    }
    pub(super) fn circular_need(check: &str, cycle: &str) -> String {
        tr!("lab-circular-need", check = check, cycle = cycle)
    }
    pub(super) fn no_checks(stage: &str) -> String {
        tr!("lab-no-checks", stage = stage)
    }
    pub(super) fn check_twice(check: &str, stage: &str) -> String {
        tr!("lab-check-twice", check = check, stage = stage)
    }
    pub(super) fn too_many_points(check: &str, max: u32) -> String {
        tr!("lab-too-many-points", check = check, max = max)
    }
    pub(super) fn bad_machine(name: &str) -> String {
        tr!("lab-bad-machine", name = name)
    }
    pub(super) fn machine_twice(name: &str) -> String {
        tr!("lab-machine-twice", name = name)
    }
    pub(super) fn unknown_machine(check: &str, name: &str, known: &str) -> String {
        tr!(
            "lab-unknown-machine",
            check = check,
            name = name,
            known = known
        )
    }
    pub(super) fn unknown_word(check: &str, word: &str, known: &str) -> String {
        let none = tr!("lab-no-words");
        let known = if known.is_empty() {
            none.as_str()
        } else {
            known
        };
        tr!(
            "lab-unknown-word",
            check = check,
            word = format!("{{{{{word}}}}}"),
            known = known
        )
    }
    pub(super) fn import_unknown_lab(stage: &str, lab: &str) -> String {
        tr!("lab-import-unknown-lab", stage = stage, lab = lab)
    }
    pub(super) fn import_other_environment(stage: &str, lab: &str) -> String {
        tr!("lab-import-other-environment", stage = stage, lab = lab)
    }
    pub(super) fn import_chain(stage: &str, lab: &str) -> String {
        tr!("lab-import-chain", stage = stage, lab = lab)
    }
    pub(super) fn import_unknown_stage(lab: &str, stage: &str, known: &str) -> String {
        tr!(
            "lab-import-unknown-stage",
            lab = lab,
            stage = stage,
            known = known
        )
    }
    pub(super) fn import_unknown_hint(check: &str, lab: &str) -> String {
        tr!("lab-import-unknown-hint", check = check, lab = lab)
    }
    pub(super) fn on_nothing(check: &str) -> String {
        tr!("lab-on-nothing", check = check)
    }
}

/// A lab id names containers, networks and folders: a short slug.
fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 40
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn validate(file: &str, text: &str, lab: &Lab) -> Result<()> {
    let Err(problem) = problem(lab) else {
        return Ok(());
    };
    let (line, column) = locate(text, &problem.at).unwrap_or((1, 1));
    Err(Error::LabFile {
        file: file.to_string(),
        line,
        column,
        message: problem.message,
    })
}

fn problem(lab: &Lab) -> std::result::Result<(), Problem> {
    let fail = |message: String, at: Node| Err(Problem { message, at });
    if lab.schema != LAB_SCHEMA {
        return fail(text::schema(lab.schema, LAB_SCHEMA), Node::Schema);
    }
    if !valid_id(&lab.id) {
        return fail(text::bad_id(&lab.id), Node::Id);
    }
    if lab.stages.is_empty() {
        return fail(text::no_stages(), Node::Stages);
    }
    for (m, name) in lab.machines.iter().enumerate() {
        if !valid_id(name) {
            return fail(text::bad_machine(name), Node::Machine(m));
        }
        if lab.machines[..m].contains(name) {
            return fail(text::machine_twice(name), Node::Machine(m));
        }
    }
    let machines = lab.machines();
    let mut seen_stages: Vec<&str> = Vec::new();
    // Check ids are unique in the whole lab: `needs:` and `hint` name them.
    let mut seen_checks: Vec<&str> = Vec::new();
    for (s, stage) in lab.stages.iter().enumerate() {
        if seen_stages.contains(&stage.id.as_str()) {
            return fail(text::stage_twice(&stage.id), Node::Stage(s));
        }
        seen_stages.push(&stage.id);
        if stage.checks.is_empty() && stage.from.is_none() {
            return fail(text::no_checks(&stage.id), Node::Stage(s));
        }
        for (c, check) in stage.checks.iter().enumerate() {
            if seen_checks.contains(&check.id.as_str()) {
                return fail(text::check_twice(&check.id, &stage.id), Node::Check(s, c));
            }
            if check.points > MAX_POINTS {
                return fail(
                    text::too_many_points(&check.id, MAX_POINTS),
                    Node::Points(s, c),
                );
            }
            for (o, name) in check.on.iter().flatten().enumerate() {
                if !machines.contains(name) {
                    let known = machines.join(", ");
                    let message = text::unknown_machine(&check.id, name, &known);
                    return fail(message, Node::On(s, c, o));
                }
            }
            if check.on.as_ref().is_some_and(Vec::is_empty) {
                return fail(text::on_nothing(&check.id), Node::Check(s, c));
            }
            seen_checks.push(&check.id);
        }
    }
    // A check may need one taken from another lab: judged once taken.
    let waiting = lab
        .stages
        .iter()
        .any(|s| s.from.is_some() && s.imported.is_none());
    match waiting {
        true => Ok(()),
        false => needs_problem(lab),
    }
}

/// Every `needs:` names a check of the lab, and none leads back to itself.
fn needs_problem(lab: &Lab) -> std::result::Result<(), Problem> {
    let all = lab.check_positions();
    let check = |(s, c): (usize, usize)| &lab.stages[s].checks[c];
    let find = |id: &str| all.iter().copied().find(|&at| check(at).id == id);
    for &(s, c) in &all {
        for (n, need) in check((s, c)).needs.iter().enumerate() {
            if find(need).is_none() {
                return Err(Problem {
                    message: text::unknown_need(&check((s, c)).id, need),
                    at: Node::Need(s, c, n),
                });
            }
        }
    }
    // Checks placed in dependency order until none is left whose needs are
    // placed: what remains holds a cycle, found by following unplaced needs
    // from the first of them until a check comes round again.
    let placed = lab.placeable();
    let Some(start) = (0..all.len()).find(|&i| !placed[i]) else {
        return Ok(());
    };
    let index = |id: &str| all.iter().position(|&at| check(at).id == id);
    let mut path = vec![start];
    loop {
        let at = *path.last().expect("never empty");
        let next = check(all[at])
            .needs
            .iter()
            .filter_map(|need| index(need))
            .find(|&n| !placed[n])
            .expect("an unplaced check needs an unplaced one");
        if let Some(from) = path.iter().position(|&p| p == next) {
            let cycle = &path[from..];
            let names: Vec<&str> = cycle
                .iter()
                .chain(std::iter::once(&next))
                .map(|&i| check(all[i]).id.as_str())
                .collect();
            let (s, c) = all[cycle[0]];
            let need = &check(all[cycle[(1) % cycle.len()]]).id;
            let n = check((s, c)).needs.iter().position(|x| x == need);
            return Err(Problem {
                message: text::circular_need(&check((s, c)).id, &names.join(" → ")),
                at: Node::Need(s, c, n.unwrap_or(0)),
            });
        }
        path.push(next);
    }
}

/// Where a node is in the text: lab.yaml read again, with spans, only when
/// something is wrong with it.
fn locate(text: &str, at: &Node) -> Option<(u64, u64)> {
    use serde_saphyr::Spanned;
    #[derive(Deserialize)]
    struct Doc {
        schema: Spanned<IgnoredAny>,
        id: Spanned<IgnoredAny>,
        stages: Spanned<Vec<StageAt>>,
        #[serde(default)]
        machines: Option<Spanned<Vec<Spanned<IgnoredAny>>>>,
    }
    #[derive(Deserialize)]
    struct StageAt {
        id: Spanned<IgnoredAny>,
        checks: Vec<CheckAt>,
    }
    #[derive(Deserialize)]
    struct CheckAt {
        id: Spanned<IgnoredAny>,
        #[serde(default)]
        points: Option<Spanned<IgnoredAny>>,
        #[serde(default)]
        on: Option<Vec<Spanned<IgnoredAny>>>,
        #[serde(default)]
        needs: Option<Vec<Spanned<IgnoredAny>>>,
        hint: Spanned<IgnoredAny>,
        #[serde(default)]
        hint_more: Option<Spanned<IgnoredAny>>,
    }
    let doc: Doc = serde_saphyr::from_str(text).ok()?;
    let stages = &doc.stages.value;
    let location = match *at {
        Node::Schema => doc.schema.referenced,
        Node::Id => doc.id.referenced,
        Node::Stages => doc.stages.referenced,
        Node::Stage(s) => stages.get(s)?.id.referenced,
        Node::Need(s, c, n) => {
            stages
                .get(s)?
                .checks
                .get(c)?
                .needs
                .as_ref()?
                .get(n)?
                .referenced
        }
        Node::Check(s, c) => stages.get(s)?.checks.get(c)?.id.referenced,
        Node::Points(s, c) => stages.get(s)?.checks.get(c)?.points.as_ref()?.referenced,
        Node::Hint(s, c, false) => stages.get(s)?.checks.get(c)?.hint.referenced,
        Node::Hint(s, c, true) => stages.get(s)?.checks.get(c)?.hint_more.as_ref()?.referenced,
        Node::Machines => doc.machines.as_ref()?.referenced,
        Node::Machine(m) => doc.machines.as_ref()?.value.get(m)?.referenced,
        Node::On(s, c, o) => {
            stages
                .get(s)?
                .checks
                .get(c)?
                .on
                .as_ref()?
                .get(o)?
                .referenced
        }
    };
    Some((location.line(), location.column()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab of two stages, and one that takes the second by reference.
    const BASE: &str = "schema: 1\nid: base\ntitle: B\nenvironment: vm\nstages:\n  - id: a\n    title: A\n    checks:\n      - { id: one, title: One, hint: h1, expect: { ssh_banner: {} } }\n  - id: b\n    title: B\n    checks:\n      - { id: two, title: Two, hint: h2, needs: [one], expect: { sudo_allowed: {} } }\n      - { id: three, title: Three, points: 2, hint: h3, expect: { venv_ready: {} } }\n";

    fn taking(from: &str) -> String {
        format!(
            "schema: 1\nid: taker\ntitle: T\nenvironment: vm\nstages:\n  - id: own\n    title: Own\n    checks:\n      - {{ id: one, title: Mine, hint: mine, expect: {{ ssh_banner: {{}} }} }}\n  - id: taken\n    title: Taken\n    from: {from}\n"
        )
    }

    fn resolved(taker: &str) -> Result<Vec<Lab>> {
        let mut labs = vec![parse("base.yaml", BASE)?, parse("taker.yaml", taker)?];
        resolve_imports(&mut labs)?;
        Ok(labs)
    }

    #[test]
    fn a_stage_takes_another_labs_checks_with_their_expect_and_hints_told_its_way() {
        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(rename_all = "snake_case")]
        enum Kinds {
            SshBanner {},
            SudoAllowed {},
            VenvReady {},
        }
        let labs = resolved(&taking(
            "{ lab: base, stages: [b], hints: { three: { hint: told } } }",
        ))
        .unwrap();
        let taker = &labs[1];
        let taken = &taker.stages[1];
        let ids: Vec<&str> = taken.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["two", "three"]);
        assert_eq!(taken.checks[0].needs, ["one"]);
        assert_eq!(
            (taken.checks[1].hint.as_str(), taken.checks[1].points),
            ("told", 2)
        );
        assert_eq!(taker.max_points(), 4);
        let typed = parse_checks::<Kinds>(taker).unwrap();
        assert_eq!(
            typed,
            [
                vec![Kinds::SshBanner {}],
                vec![Kinds::SudoAllowed {}, Kinds::VenvReady {}]
            ]
        );
        // `two` needs `one`: the taker's own check of that id.
        assert_eq!(taker.dependency_order().len(), 3);
    }

    #[test]
    fn what_a_stage_cannot_take_is_a_lab_file_error() {
        let err = |from: &str| resolved(&taking(from)).unwrap_err().to_string();
        assert!(
            err("{ lab: nope, stages: [b] }")
                .contains("takes checks from lab 'nope', which the catalog does not have")
        );
        assert!(
            err("{ lab: base, stages: [c] }")
                .contains("lab 'base' has no stage 'c' (it has: a, b)")
        );
        assert!(err("{ lab: base, stages: [a] }").contains("check id 'one' appears twice"));
        assert!(
            err("{ lab: base, stages: [b], hints: { one: { hint: x } } }")
                .contains("`hints:` tells check 'one'")
        );
        let alone = "schema: 1\nid: alone\ntitle: T\nenvironment: vm\nstages:\n  - id: taken\n    title: Taken\n    from: { lab: base, stages: [b] }\n";
        assert!(
            resolved(alone)
                .unwrap_err()
                .to_string()
                .contains("check 'two' needs 'one', which is not a check of this lab")
        );
    }

    const TWO: &str = "schema: 1\nid: two\ntitle: T\nenvironment: vm\nmachines: [control, web]\nstages:\n  - id: s\n    title: S\n    checks:\n      - { id: c, title: C, hint: h, on: [db], expect: { ssh_banner: {} } }\n";

    #[test]
    fn a_check_on_a_machine_the_lab_lacks_is_located() {
        let err = parse("labs/two/lab.yaml", TWO).unwrap_err().to_string();
        assert!(err.starts_with("labs/two/lab.yaml:10:42: "), "{err}");
        assert!(
            err.contains("machine 'db', which the lab does not have (it has: control, web)"),
            "{err}"
        );
        let fine = parse("labs/two/lab.yaml", &TWO.replace("[db]", "[web]")).unwrap();
        assert_eq!(fine.machines(), ["control", "web"]);
        assert!(fine.has_several_machines());
        let twice = parse("x", &TWO.replace("[control, web]", "[web, web]")).unwrap_err();
        assert!(
            twice.to_string().contains("machine 'web' appears twice"),
            "{twice}"
        );
        let bad = parse("x", &TWO.replace("[control, web]", "[Control]")).unwrap_err();
        assert!(
            bad.to_string()
                .contains("machine name 'Control' is not valid"),
            "{bad}"
        );
    }

    #[test]
    fn a_lab_with_no_machines_listed_has_one_named_after_it() {
        let one = parse(
            "x",
            &TWO.replace("machines: [control, web]\n", "")
                .replace(", on: [db]", ""),
        )
        .unwrap();
        assert_eq!(one.machines(), ["two"]);
        assert!(!one.has_several_machines());
    }

    #[test]
    fn unknown_key_reports_file_line_and_column() {
        let text = "schema: 1\nid: x\ntitle: X\nenvironment: vm\nstagez: []\n";
        let err = parse("labs/x/lab.yaml", text).unwrap_err().to_string();
        assert!(err.starts_with("labs/x/lab.yaml:5:1: "), "{err}");
        assert!(err.contains("stagez"), "{err}");
    }

    #[test]
    fn a_misspelt_check_kind_suggests_the_closest() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kinds {
            SshBanner {},
            TcpListening {},
        }
        let text = "stages:\n  - checks:\n      - expect: { ssh_baner: {} }\n";
        let source = Source {
            file: "x.yaml".into(),
            text: text.into(),
        };
        let err = parse_own_checks::<Kinds>(&source).unwrap_err().to_string();
        assert!(err.starts_with("x.yaml:3:"), "{err}");
        assert!(err.contains("did you mean `ssh_banner`?"), "{err}");
    }

    #[test]
    fn a_field_given_to_a_kind_without_fields_reads_plainly() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        enum Kinds {
            AppInstalled {},
        }
        let text = "stages:\n  - checks:\n      - expect: { app_installed: { dist: blog } }\n";
        let source = Source {
            file: "x.yaml".into(),
            text: text.into(),
        };
        let err = parse_own_checks::<Kinds>(&source).unwrap_err().to_string();
        assert_eq!(
            err,
            "x.yaml:3:36: unknown field `dist`: none is expected here"
        );
    }

    const NEEDS: &str = r#"
schema: 1
id: x
title: X
environment: vm
stages:
  - id: a
    title: A
    checks:
      - { id: late, title: L, expect: { ssh_banner: {} }, hint: h, needs: [early] }
      - { id: early, title: E, expect: { ssh_banner: {} }, hint: h, needs: [first] }
  - id: b
    title: B
    checks:
      - { id: first, title: F, expect: { ssh_banner: {} }, hint: h }
"#;

    /// A check may need one anywhere in the lab; it is settled after it.
    #[test]
    fn needs_order_the_checks() {
        let lab = parse("x.yaml", NEEDS).unwrap();
        let ids: Vec<&str> = lab
            .dependency_order()
            .into_iter()
            .map(|(s, c)| lab.stages[s].checks[c].id.as_str())
            .collect();
        assert_eq!(ids, ["first", "early", "late"]);
    }

    #[test]
    fn a_need_that_is_no_check_is_located() {
        let err = parse("x.yaml", &NEEDS.replace("needs: [first]", "needs: [frist]"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x.yaml:11:77: check 'early' needs 'frist', which is not a check of this lab"
        );
    }

    #[test]
    fn needs_in_a_circle_are_refused_naming_the_circle() {
        let err = parse("x.yaml", &NEEDS.replace("needs: [first]", "needs: [late]"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x.yaml:10:76: check 'late' needs itself: late → early → late"
        );
        let err = parse("x.yaml", &NEEDS.replace("needs: [early]", "needs: [late]"))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("check 'late' needs itself: late → late"),
            "{err}"
        );
    }

    #[test]
    fn a_hint_word_the_environment_does_not_fill_in_is_located() {
        let text = NEEDS.replace(
            "{ id: first, title: F, expect: { ssh_banner: {} }, hint: h }",
            "{ id: first, title: F, expect: { ssh_banner: {} }, hint: h, hint_more: 'see {{sockett}}' }",
        );
        let lab = parse("x.yaml", &text).unwrap();
        assert!(lab.check_hint_words(&["socket"]).is_err());
        let err = lab.check_hint_words(&["socket"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "x.yaml:15:80: the hint of check 'first' says {{sockett}}, which its environment does not fill in (it fills in: socket)"
        );
        let fixed = parse("x.yaml", &text.replace("sockett", "socket")).unwrap();
        assert!(fixed.check_hint_words(&["socket"]).is_ok());
    }

    /// Each validation error points at the node that is wrong.
    #[test]
    fn validation_errors_carry_line_and_column() {
        let lab = |id: &str, stages: &str| {
            format!("schema: 1\nid: {id}\ntitle: X\nenvironment: vm\nstages:\n{stages}")
        };
        let check = |id: &str, points: &str| {
            format!(
                "      - {{ id: {id}, title: T, hint: h, expect: {{ ssh_banner: {{}} }}{points} }}\n"
            )
        };
        let stage =
            |id: &str, checks: &str| format!("  - id: {id}\n    title: T\n    checks:\n{checks}");
        let err = |text: String| parse("l.yaml", &text).unwrap_err().to_string();

        let one = check("c", "");
        assert_eq!(
            err(lab("../../evil name", &stage("a", &one))),
            "l.yaml:2:5: lab id '../../evil name' is not valid: lowercase letters, digits and '-', starting with a letter or digit"
        );
        assert_eq!(
            err(lab(
                "x",
                &format!("{}{}", stage("a", &one), stage("a", &one))
            )),
            "l.yaml:10:9: stage id 'a' appears twice"
        );
        assert_eq!(
            err(lab("x", &stage("a", &format!("{one}{one}")))),
            "l.yaml:10:15: check id 'c' appears twice (the second time in stage 'a')"
        );
        assert_eq!(
            err(lab("x", &stage("a", &check("c", ", points: 4294967295")))),
            "l.yaml:9:73: check 'c' gives more than 1000 points"
        );
    }
}
