//! The seam every kind of lab environment implements (a VM, the fake
//! Heroku, Compose; Kubernetes next). It sits below the environments and
//! the layer that picks one (`environment.rs`), so neither imports the
//! other: the modules stay acyclic.

use std::fmt::Debug;
use std::process::Command;

use bollard::Docker;
use bollard::models::ContainerSummary;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::images::VmImage;
use crate::lab::Lab;
use crate::progress::Progress;
use crate::state::Home;
use crate::verdict::Verdict;

/// What every environment's operations may need.
pub(crate) struct Ctx<'a> {
    pub(crate) home: &'a Home,
    pub(crate) catalog: &'a Catalog,
    pub(crate) progress: &'a Progress,
    /// What the checks judge where a lab holds several (`check --app`: one
    /// of the heroku lab's apps); None: the environment's own choice.
    pub(crate) subject: Option<&'a str>,
}

/// `start`'s options (a VM lab uses the ports; the heroku lab the second as
/// its router's port).
#[derive(Debug, Clone, Default)]
pub(crate) struct StartOptions {
    pub(crate) fresh: bool,
    pub(crate) ssh_port: Option<u16>,
    pub(crate) http_port: Option<u16>,
    /// A git repository to serve besides the lab's own (`--repo`).
    pub(crate) repo: Option<String>,
    /// The student's app folder (the container lab; `--dir`).
    pub(crate) dir: Option<std::path::PathBuf>,
    /// The k8s lab's cluster (`--backend`).
    pub(crate) backend: Option<String>,
    /// Per machine, an image derived from the lab's to boot from
    /// (grading: one with the submission's packages installed).
    pub(crate) bases: std::collections::BTreeMap<String, String>,
    /// A spare booted ahead may be claimed, and one kept for the next
    /// start (the `start` command, unless `--no-spare` or the config says
    /// no; never grading's or selftest's starts).
    pub(crate) spare: bool,
    /// No lab git server (grading restored files: the work is deployed,
    /// nothing clones; a container less per grade).
    pub(crate) no_git_server: bool,
    /// Machines held before their first boot until their work is
    /// restored (grading: the boot after the restore is the only one; no
    /// package proxy, as the work is deployed).
    pub(crate) held: bool,
}

/// One row of `deploylab status`.
pub(crate) struct StatusRow {
    pub(crate) state: String,
    /// Where the environment answers, by name ("ssh", "http"): `status`
    /// shows a column per name any running lab has.
    pub(crate) endpoints: Vec<(&'static str, String)>,
    /// Bytes the environment has written to disk, where that is watched
    /// (a VM's disk is not bounded).
    pub(crate) written: Option<u64>,
    pub(crate) place: String,
    pub(crate) proxy: String,
}

/// One line of `deploylab doctor` that only an environment can tell.
pub(crate) struct Diagnosis {
    pub(crate) ok: bool,
    /// Whether a ✗ here stops the labs from working (else it is advice).
    pub(crate) essential: bool,
    pub(crate) what: String,
    pub(crate) fix: String,
}

impl Diagnosis {
    pub(crate) fn new(
        ok: bool,
        essential: bool,
        what: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Diagnosis {
            ok,
            essential,
            what: what.into(),
            fix: fix.into(),
        }
    }
}

/// Where `deploylab shell` opens a shell: a container and a user in it.
pub(crate) struct ShellTarget {
    pub(crate) container: String,
    pub(crate) user: String,
}

/// Messages of the seam's defaults, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn no_machine() -> String {
        tr!("seam-no-machine")
    }
    pub(super) fn no_solution() -> String {
        tr!("seam-no-solution")
    }
    pub(super) fn no_submissions() -> String {
        tr!("seam-no-submissions")
    }

    pub(super) fn one_machine(kind: &str) -> String {
        tr!("seam-one-machine", kind = kind)
    }
}

/// A kind of lab environment.
///
/// The first group of methods is the core every environment has: start,
/// stop, status, facts and their verdicts, and what it is built from. The
/// second group are abilities only some have (a machine to log into, a
/// reboot, a step runner, submissions); their defaults say, in one place,
/// that the command is not for this lab.
pub(crate) trait Environment {
    /// The check kinds a lab of this environment may list (`expect:`).
    /// (Their schema, from the same definitions, is the lab author's
    /// guide in the book.)
    type Check: DeserializeOwned + Debug + schemars::JsonSchema;
    /// What `start` leaves running, kept in the state file.
    type Running: Debug + Clone + Serialize + DeserializeOwned;
    /// Everything one check run reads (recordable, for fixture tests).
    type Facts: Serialize + DeserializeOwned;
    /// A submission's description of the work (its `state.json`); the
    /// files of the work travel beside it as a tar.gz.
    type Work: Serialize + DeserializeOwned;

    /// Why `ssh`, `shell` and `restart` are not for this lab's
    /// environment (shown after "`ssh` is not available for lab X:").
    fn without_machine() -> String {
        text::no_machine()
    }

    /// Whether a lab of this environment may have several machines
    /// (`machines:` in lab.yaml).
    const SEVERAL_MACHINES: bool = false;

    // The core.

    /// Starts (or finds running) the lab's environment. On failure the
    /// caller removes whatever this start labelled.
    /// `previous`: what the state file says runs for this lab (a start
    /// of a running lab resumes it, unless `--fresh`).
    async fn start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        previous: Option<Self::Running>,
        options: StartOptions,
    ) -> Result<Self::Running>;

    /// What `start` prints: how to reach the environment.
    fn ready_text(ctx: &Ctx<'_>, lab: &Lab, running: &Self::Running) -> String;

    /// The `status` row, given this home's labelled containers.
    async fn status(
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Self::Running,
        containers: &[ContainerSummary],
    ) -> StatusRow;

    /// When it started, seconds since the Unix epoch.
    fn started_at(running: &Self::Running) -> u64;

    /// Stops the host processes the environment runs (its containers are
    /// removed by label afterwards).
    fn stop(home: &Home, running: &Self::Running);

    /// Every fact `checks` read, in one pass. `Err` only when nothing can
    /// be checked (the lab is not running); a fact that could not be
    /// gathered is recorded in the facts and makes its checks `error`.
    async fn gather(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Self::Running,
        checks: &[&Self::Check],
    ) -> Result<Self::Facts>;

    /// Judges one check against the facts of one of the lab's machines
    /// (pure). An environment without machines has one, named after the
    /// lab, and reads `machine` not at all.
    fn evaluate(lab: &Lab, check: &Self::Check, facts: &Self::Facts, machine: &str) -> Verdict;

    /// The words hints of this environment's labs may say as `{{word}}`:
    /// the student's own project (its folders, module, units, services)
    /// rather than the course's sample. lab.yaml is refused, located, when
    /// a hint names another.
    const HINT_WORDS: &[&str] = &[];

    /// Each of `HINT_WORDS` as the facts show it on `machine`, or the
    /// course's default where the student has nothing yet (pure).
    fn hint_words(_lab: &Lab, _facts: &Self::Facts, _machine: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// Why gathering these facts may have taken a while, for the student
    /// who waited (pure).
    fn why_slow(_facts: &Self::Facts) -> Option<String> {
        None
    }

    /// What the student should know though no check fails (pure).
    fn warnings(_facts: &Self::Facts) -> Vec<String> {
        Vec::new()
    }

    /// What the environment was built from: a submission made on another
    /// recipe cannot be restored exactly.
    fn recipe(running: &Self::Running) -> String;

    /// What a new environment of this kind would be built from here (the
    /// `recipe` a start would give), asked before starting one.
    async fn current_recipe(ctx: &Ctx<'_>, docker: &Docker) -> Result<String>;

    /// The images this environment keeps current (`images list`/`prune`),
    /// given the VM image every other image derives from.
    async fn current_images(_docker: &Docker, _vm: &VmImage) -> Vec<String> {
        Vec::new()
    }

    /// Images of older recipes that this home's environments still run
    /// on (`images prune` keeps them).
    fn images_in_use(_home: &Home) -> Vec<String> {
        Vec::new()
    }

    /// Kinds of image (`deploylab.image` label) `images prune` leaves to
    /// the environment (they go with what they belong to).
    const KEPT_IMAGE_KINDS: &'static [&'static str] = &[];

    /// What `doctor` can only learn by asking this environment.
    async fn diagnose(_ctx: &Ctx<'_>, _docker: &Docker) -> Result<Vec<Diagnosis>> {
        Ok(Vec::new())
    }

    /// Whether the lab keeps a spare booted ahead for its next `start`.
    fn keeps_spare(_lab: &Lab) -> bool {
        false
    }

    /// Boots the lab's spare (`deploylab spare`, in the background).
    async fn make_spare(_ctx: &Ctx<'_>, _docker: &Docker, _lab: &Lab) -> Result<()> {
        Ok(())
    }

    // Abilities: the defaults say the command is not for this lab.

    /// What runs one step of the reference solution (the script on
    /// stdin), on `machine` (None: the first, or the environment's own
    /// place).
    fn step_runner(
        _ctx: &Ctx<'_>,
        lab: &Lab,
        _running: &Self::Running,
        _machine: Option<&str>,
    ) -> Result<Command> {
        Err(not_for_this_lab(lab, "solve", text::no_solution()))
    }

    /// The system's ssh client, logged into one of the lab's machines
    /// (`deploylab ssh`; None: the first).
    fn ssh(
        _ctx: &Ctx<'_>,
        lab: &Lab,
        _running: &Self::Running,
        _machine: Option<&str>,
    ) -> Result<Command> {
        Err(not_for_this_lab(lab, "ssh", Self::without_machine()))
    }

    /// Where `deploylab shell` opens a login shell (None: the first
    /// machine).
    fn shell(lab: &Lab, _running: &Self::Running, _machine: Option<&str>) -> Result<ShellTarget> {
        Err(not_for_this_lab(lab, "shell", Self::without_machine()))
    }

    /// Reboots the lab's machines, or one (`deploylab restart`, and after
    /// a solution step that asks for it: `# deploylab: restart the VM
    /// after this step`).
    async fn restart(
        _docker: &Docker,
        lab: &Lab,
        _running: &Self::Running,
        _machine: Option<&str>,
    ) -> Result<()> {
        Err(not_for_this_lab(lab, "restart", Self::without_machine()))
    }

    /// The student's work (`submit`): its description and its files
    /// (tar.gz).
    async fn capture(
        _ctx: &Ctx<'_>,
        _docker: &Docker,
        lab: &Lab,
        _running: &Self::Running,
    ) -> Result<(Self::Work, Vec<u8>)> {
        Err(not_for_this_lab(lab, "submit", text::no_submissions()))
    }

    /// How to start a fresh environment for grading this work (a VM
    /// starts from an image with its packages already installed).
    async fn grading_start(
        _ctx: &Ctx<'_>,
        _docker: &Docker,
        _lab: &Lab,
        _work: &Self::Work,
        _files: &[u8],
    ) -> Result<StartOptions> {
        Ok(StartOptions {
            fresh: true,
            ..StartOptions::default()
        })
    }

    /// Restores a submission's work into a freshly started environment
    /// and leaves it as a student's would be (rebooted): ready to check.
    /// Returns notes for the instructor (what could not be had exactly).
    async fn restore(
        _ctx: &Ctx<'_>,
        _docker: &Docker,
        lab: &Lab,
        _running: &Self::Running,
        _work: &Self::Work,
        _files: &[u8],
    ) -> Result<Vec<String>> {
        Err(not_for_this_lab(lab, "grade", text::no_submissions()))
    }

    /// Why a graded environment must get no points though its checks ran
    /// (it outgrew its limits), asked after the checks.
    async fn over_limits(
        _home: &Home,
        _docker: &Docker,
        _running: &Self::Running,
        _limits: &GradeLimits,
    ) -> Option<String> {
        None
    }

    /// How a practice run (`selftest`) starts this environment, given a
    /// scratch folder of its own (the container lab works in an app
    /// folder: a clone of the course's blog made there).
    async fn practice_start(
        _ctx: &Ctx<'_>,
        _lab: &Lab,
        _scratch: &std::path::Path,
    ) -> Result<StartOptions> {
        Ok(StartOptions::default())
    }

    /// Removes what a practice run made outside deploylab's labels (the
    /// container lab: the Compose project in the scratch app folder).
    async fn discard_practice(_docker: &Docker, _running: &Self::Running) {}
}

/// Why `lab` may not list several machines, where its environment `E`
/// has none.
pub(crate) fn check_machines<E: Environment>(lab: &Lab) -> Result<()> {
    match lab.has_several_machines() && !E::SEVERAL_MACHINES {
        true => Err(lab.machines_error(text::one_machine(lab.environment.name()))),
        false => Ok(()),
    }
}

/// `command` is not for `lab`, because `why`.
pub(crate) fn not_for_this_lab(lab: &Lab, command: &'static str, why: impl Into<String>) -> Error {
    Error::NotForThisLab {
        command,
        lab: lab.id.clone(),
        why: why.into(),
    }
}

/// A submission's two parts: the environment's description of the work
/// (JSON) and the files of the work (`files.tar.gz`).
pub(crate) struct Captured {
    pub(crate) state: Vec<u8>,
    pub(crate) files: Vec<u8>,
}

/// What a graded environment may take beyond the lab's own limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GradeLimits {
    /// Bytes the environment may write to disk.
    pub(crate) disk: u64,
}
