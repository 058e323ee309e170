//! The seam every kind of lab environment implements (a VM, the fake
//! Heroku; Compose and Kubernetes next). It sits below the environments and
//! the layer that picks one (`environment.rs`), so neither imports the
//! other: the modules stay acyclic.

use std::fmt::Debug;
use std::process::Command;

use bollard::Docker;
use bollard::models::ContainerSummary;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::Result;
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
    /// An image derived from the lab's to boot from (grading: one with
    /// the submission's packages installed).
    pub(crate) base: Option<String>,
}

/// One row of `deploylab status`.
pub(crate) struct StatusRow {
    pub(crate) state: String,
    pub(crate) ssh: String,
    pub(crate) http: String,
    pub(crate) place: String,
    pub(crate) proxy: String,
}

/// A kind of lab environment.
pub(crate) trait Environment {
    /// The check kinds a lab of this environment may list (`expect:`).
    type Check: DeserializeOwned + Debug;
    /// What `start` leaves running, kept in the state file.
    type Running: Debug + Clone + Serialize + DeserializeOwned;
    /// Everything one check run reads (recordable, for fixture tests).
    type Facts: Serialize + DeserializeOwned;

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
    fn status(running: &Self::Running, containers: &[ContainerSummary]) -> StatusRow;

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

    /// Judges one check against the facts (pure).
    fn evaluate(lab: &Lab, check: &Self::Check, facts: &Self::Facts) -> Verdict;

    /// Why gathering these facts may have taken a while, for the student
    /// who waited (pure).
    fn why_slow(_facts: &Self::Facts) -> Option<String> {
        None
    }

    /// What the student should know though no check fails (pure).
    fn warnings(_facts: &Self::Facts) -> Vec<String> {
        Vec::new()
    }

    /// What runs one step of the reference solution (the script on stdin).
    fn step_runner(ctx: &Ctx<'_>, lab: &Lab, running: &Self::Running) -> Result<Command>;

    /// After a step that asks for it (`# deploylab: restart the VM after
    /// this step`).
    async fn restart(docker: &Docker, lab: &Lab, running: &Self::Running) -> Result<()>;

    /// The student's work as a submission's two parts (`submit`).
    async fn capture(ctx: &Ctx<'_>, docker: &Docker, running: &Self::Running) -> Result<Captured>;

    /// What the environment was built from: a submission made on another
    /// recipe cannot be restored exactly.
    fn recipe(running: &Self::Running) -> String;

    /// What a new environment of this kind would be built from here (the
    /// `recipe` a start would give), asked before starting one.
    async fn current_recipe(ctx: &Ctx<'_>, docker: &Docker) -> Result<String>;

    /// How to start a fresh environment for grading this work (a VM
    /// starts from an image with its packages already installed).
    async fn grading_start(
        _ctx: &Ctx<'_>,
        _docker: &Docker,
        _work: &Captured,
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
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Self::Running,
        work: &Captured,
    ) -> Result<Vec<String>>;

    /// Why a graded environment must get no points though its checks ran
    /// (it outgrew its limits), asked after the checks.
    async fn over_limits(
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

    /// The machine `ssh`, `shell` and `restart` work on, or why there is none.
    fn machine(running: &Self::Running) -> std::result::Result<&Machine, &'static str>;
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

/// One machine of a lab: a container reachable over SSH (and its port 80)
/// on ports of 127.0.0.1.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Machine {
    pub(crate) container_id: String,
    pub(crate) container_name: String,
    pub(crate) ssh_port: u16,
    pub(crate) http_port: u16,
}
