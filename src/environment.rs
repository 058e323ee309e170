//! The ONE place that picks the environment of a lab (`lab.yaml`'s
//! `environment:`) and calls the concrete environments.
//!
//! An environment (`vm::Vm`, `heroku::Heroku`, `compose::Compose`)
//! implements [`Environment`](crate::seam::Environment) (`seam.rs`): its own
//! check kinds, running state, facts and submitted work, and how to start,
//! stop, describe, gather facts and judge a check. Everything else (the
//! commands, the check pipeline, the report, grading) is written once,
//! against the trait.
//!
//! The environments are listed once, in `with_environments!` (lib.rs). From
//! that list `registry!` below makes the typed enums (a lab's checks, the
//! state file's entries) and `ops`, which gives the one generic
//! implementation of [`Ops`] for the environment of a kind. Commands call
//! [`LoadedLab`] and [`Running`], which ask `ops`: there is no `match` per
//! environment to extend.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::process::Command;

use bollard::Docker;
use bollard::models::ContainerSummary;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::images::VmImage;
use crate::lab::{self, Kind, Lab};
use crate::pipeline;
use crate::report::Report;
use crate::seam::{
    Captured, Ctx, Diagnosis, Environment, GradeLimits, ShellTarget, StartOptions, StatusRow,
};
use crate::state::Home;

/// Makes, from `with_environments!`, what names every environment: the
/// typed enums and the `ops` of each kind.
macro_rules! registry {
    ($($module:ident::$ty:ident: $variant:ident = $name:literal,)*) => {
        /// A lab's checks, read as its environment's own check kinds.
        enum Checks {
            $($variant(Vec<Vec<<crate::$module::$ty as Environment>::Check>>),)*
        }

        /// What runs for a started lab, by environment (the state file's
        /// entries).
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "environment")]
        pub(crate) enum Running {
            $(#[serde(rename = $name)] $variant(<crate::$module::$ty as Environment>::Running),)*
        }

        impl Running {
            /// The kind of environment that runs.
            pub(crate) fn kind(&self) -> Kind {
                match self {
                    $(Running::$variant(_) => Kind::$variant,)*
                }
            }
        }

        $(
            impl Registered for crate::$module::$ty {
                fn running(running: &Running) -> Option<&Self::Running> {
                    match running {
                        Running::$variant(r) => Some(r),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }

                fn wrap(running: Self::Running) -> Running {
                    Running::$variant(running)
                }

                fn checks(checks: &Checks) -> Option<&[Vec<Self::Check>]> {
                    match checks {
                        Checks::$variant(c) => Some(c),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }

                fn wrap_checks(checks: Vec<Vec<Self::Check>>) -> Checks {
                    Checks::$variant(checks)
                }
            }
        )*

        /// The operations of the environment of a kind.
        fn ops(kind: Kind) -> &'static dyn Ops {
            match kind {
                $(Kind::$variant => &Typed::<crate::$module::$ty>::OPS,)*
            }
        }

        /// Every kind of environment, in registration order.
        const KINDS: &[Kind] = &[$(Kind::$variant,)*];

        /// The check kinds of every environment (`expect:` in lab.yaml),
        /// as JSON Schemas made from their own definitions: the lab
        /// author's guide is written from these.
        pub(crate) fn check_kinds() -> Vec<(&'static str, schemars::Schema)> {
            vec![$(($name, schemars::schema_for!(<crate::$module::$ty as Environment>::Check)),)*]
        }
    };
}
with_environments!(registry);

/// How an environment's values go in and out of the typed enums (made by
/// `registry!` for each environment).
trait Registered: Environment + 'static {
    fn running(running: &Running) -> Option<&Self::Running>;
    fn wrap(running: Self::Running) -> Running;
    fn checks(checks: &Checks) -> Option<&[Vec<Self::Check>]>;
    fn wrap_checks(checks: Vec<Vec<Self::Check>>) -> Checks;
}

/// A future an environment's operation returns through [`Ops`].
type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// An environment's operations on the typed enums, callable without naming
/// the environment: `Typed<E>` implements it once for every `E`.
trait Ops: Sync {
    fn with_checks(&self, lab: &Lab) -> Result<Checks>;
    fn start<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Fut<'a, Result<Running>>;
    fn check<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        loaded: &'a LoadedLab,
        running: &'a Running,
    ) -> Fut<'a, Result<Report>>;
    fn ready_text(&self, ctx: &Ctx<'_>, lab: &Lab, running: &Running) -> String;
    fn status<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        running: &'a Running,
        containers: &'a [ContainerSummary],
    ) -> Fut<'a, StatusRow>;
    fn started_at(&self, running: &Running) -> u64;
    fn stop(&self, home: &Home, running: &Running);
    fn recipe(&self, running: &Running) -> String;
    fn current_recipe<'a>(&self, ctx: &'a Ctx<'a>, docker: &'a Docker) -> Fut<'a, Result<String>>;
    fn current_images<'a>(&self, docker: &'a Docker, vm: &'a VmImage) -> Fut<'a, Vec<String>>;
    fn images_in_use(&self, home: &Home) -> Vec<String>;
    fn kept_image_kinds(&self) -> &'static [&'static str];
    fn keeps_spare(&self, lab: &Lab) -> bool;
    fn make_spare<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
    ) -> Fut<'a, Result<()>>;
    fn diagnose<'a>(&self, ctx: &'a Ctx<'a>, docker: &'a Docker)
    -> Fut<'a, Result<Vec<Diagnosis>>>;
    fn step_runner(
        &self,
        ctx: &Ctx<'_>,
        lab: &Lab,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<Command>;
    fn ssh(
        &self,
        ctx: &Ctx<'_>,
        lab: &Lab,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<Command>;
    fn shell(&self, lab: &Lab, running: &Running, machine: Option<&str>) -> Result<ShellTarget>;
    fn restart<'a>(
        &self,
        docker: &'a Docker,
        lab: &'a Lab,
        running: &'a Running,
        machine: Option<&'a str>,
    ) -> Fut<'a, Result<()>>;
    fn capture<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        running: &'a Running,
    ) -> Fut<'a, Result<Captured>>;
    fn grading_start<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        work: &'a Captured,
    ) -> Fut<'a, Result<StartOptions>>;
    fn restore<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        running: &'a Running,
        work: &'a Captured,
    ) -> Fut<'a, Result<Vec<String>>>;
    fn over_limits<'a>(
        &self,
        home: &'a Home,
        docker: &'a Docker,
        running: &'a Running,
        limits: &'a GradeLimits,
    ) -> Fut<'a, Option<String>>;
    fn practice_start<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        lab: &'a Lab,
        scratch: &'a std::path::Path,
    ) -> Fut<'a, Result<StartOptions>>;
    fn discard_practice<'a>(&self, docker: &'a Docker, running: &'a Running) -> Fut<'a, ()>;
    #[cfg(test)]
    fn judge_recorded(&self, loaded: &LoadedLab, facts: &str) -> Report;
}

/// The one implementation of [`Ops`], for the environment `E`.
struct Typed<E>(PhantomData<fn() -> E>);

/// The state file says another environment runs under this lab's id (the
/// lab file changed since): a start replaces it.
fn mismatch(lab: &Lab) -> Error {
    Error::LabNotRunning {
        lab: lab.id.clone(),
    }
}

/// The submitted description of the work, as the environment reads it.
fn work<E: Environment>(captured: &Captured) -> Result<E::Work> {
    serde_json::from_slice(&captured.state)
        .map_err(|e| Error::SubmissionState { why: e.to_string() })
}

impl<E: Registered> Typed<E> {
    /// A constant, so `ops` can lend it for the whole program.
    const OPS: Self = Typed(PhantomData);

    /// The entry of another environment never reaches here: `Running`s are
    /// dispatched by their own kind.
    fn own(running: &Running) -> &E::Running {
        E::running(running).expect("dispatched by the running entry's own kind")
    }
}

impl<E: Registered> Ops for Typed<E> {
    fn with_checks(&self, lab: &Lab) -> Result<Checks> {
        crate::seam::check_machines::<E>(lab)?;
        lab.check_hint_words(E::HINT_WORDS)?;
        Ok(E::wrap_checks(lab::parse_checks(lab)?))
    }

    fn start<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Fut<'a, Result<Running>> {
        let previous = previous.as_ref().and_then(E::running).cloned();
        Box::pin(async move {
            Ok(E::wrap(
                E::start(ctx, docker, lab, previous, options).await?,
            ))
        })
    }

    fn check<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        loaded: &'a LoadedLab,
        running: &'a Running,
    ) -> Fut<'a, Result<Report>> {
        Box::pin(async move {
            let lab = &loaded.lab;
            match (E::checks(&loaded.checks), E::running(running)) {
                (Some(checks), Some(r)) => pipeline::run::<E>(ctx, docker, lab, checks, r).await,
                _ => Err(mismatch(lab)),
            }
        })
    }

    fn ready_text(&self, ctx: &Ctx<'_>, lab: &Lab, running: &Running) -> String {
        E::ready_text(ctx, lab, Self::own(running))
    }

    fn status<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        running: &'a Running,
        containers: &'a [ContainerSummary],
    ) -> Fut<'a, StatusRow> {
        Box::pin(E::status(ctx, docker, Self::own(running), containers))
    }

    fn started_at(&self, running: &Running) -> u64 {
        E::started_at(Self::own(running))
    }

    fn stop(&self, home: &Home, running: &Running) {
        E::stop(home, Self::own(running));
    }

    fn recipe(&self, running: &Running) -> String {
        E::recipe(Self::own(running))
    }

    fn current_recipe<'a>(&self, ctx: &'a Ctx<'a>, docker: &'a Docker) -> Fut<'a, Result<String>> {
        Box::pin(E::current_recipe(ctx, docker))
    }

    fn current_images<'a>(&self, docker: &'a Docker, vm: &'a VmImage) -> Fut<'a, Vec<String>> {
        Box::pin(E::current_images(docker, vm))
    }

    fn images_in_use(&self, home: &Home) -> Vec<String> {
        E::images_in_use(home)
    }

    fn kept_image_kinds(&self) -> &'static [&'static str] {
        E::KEPT_IMAGE_KINDS
    }

    fn keeps_spare(&self, lab: &Lab) -> bool {
        E::keeps_spare(lab)
    }

    fn make_spare<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
    ) -> Fut<'a, Result<()>> {
        Box::pin(E::make_spare(ctx, docker, lab))
    }

    fn diagnose<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
    ) -> Fut<'a, Result<Vec<Diagnosis>>> {
        Box::pin(E::diagnose(ctx, docker))
    }

    fn step_runner(
        &self,
        ctx: &Ctx<'_>,
        lab: &Lab,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<Command> {
        let r = E::running(running).ok_or_else(|| mismatch(lab))?;
        E::step_runner(ctx, lab, r, machine)
    }

    fn ssh(
        &self,
        ctx: &Ctx<'_>,
        lab: &Lab,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<Command> {
        E::ssh(
            ctx,
            lab,
            E::running(running).ok_or_else(|| mismatch(lab))?,
            machine,
        )
    }

    fn shell(&self, lab: &Lab, running: &Running, machine: Option<&str>) -> Result<ShellTarget> {
        E::shell(
            lab,
            E::running(running).ok_or_else(|| mismatch(lab))?,
            machine,
        )
    }

    fn restart<'a>(
        &self,
        docker: &'a Docker,
        lab: &'a Lab,
        running: &'a Running,
        machine: Option<&'a str>,
    ) -> Fut<'a, Result<()>> {
        Box::pin(async move {
            let r = E::running(running).ok_or_else(|| mismatch(lab))?;
            E::restart(docker, lab, r, machine).await
        })
    }

    fn capture<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        running: &'a Running,
    ) -> Fut<'a, Result<Captured>> {
        Box::pin(async move {
            let r = E::running(running).ok_or_else(|| mismatch(lab))?;
            let (work, files) = E::capture(ctx, docker, lab, r).await?;
            Ok(Captured {
                state: serde_json::to_vec_pretty(&work).expect("the work serializes"),
                files,
            })
        })
    }

    fn grading_start<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        captured: &'a Captured,
    ) -> Fut<'a, Result<StartOptions>> {
        Box::pin(async move {
            let work = work::<E>(captured)?;
            E::grading_start(ctx, docker, lab, &work, &captured.files).await
        })
    }

    fn restore<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        docker: &'a Docker,
        lab: &'a Lab,
        running: &'a Running,
        captured: &'a Captured,
    ) -> Fut<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let r = E::running(running).ok_or_else(|| mismatch(lab))?;
            let work = work::<E>(captured)?;
            E::restore(ctx, docker, lab, r, &work, &captured.files).await
        })
    }

    fn over_limits<'a>(
        &self,
        home: &'a Home,
        docker: &'a Docker,
        running: &'a Running,
        limits: &'a GradeLimits,
    ) -> Fut<'a, Option<String>> {
        Box::pin(async move { E::over_limits(home, docker, E::running(running)?, limits).await })
    }

    fn practice_start<'a>(
        &self,
        ctx: &'a Ctx<'a>,
        lab: &'a Lab,
        scratch: &'a std::path::Path,
    ) -> Fut<'a, Result<StartOptions>> {
        Box::pin(E::practice_start(ctx, lab, scratch))
    }

    fn discard_practice<'a>(&self, docker: &'a Docker, running: &'a Running) -> Fut<'a, ()> {
        Box::pin(E::discard_practice(docker, Self::own(running)))
    }

    #[cfg(test)]
    fn judge_recorded(&self, loaded: &LoadedLab, facts: &str) -> Report {
        let checks = E::checks(&loaded.checks).expect("checks of the lab's own environment");
        pipeline::judge::<E>(&loaded.lab, checks, &serde_json::from_str(facts).unwrap())
    }
}

/// A lab with its checks read as its environment's own types.
pub(crate) struct LoadedLab {
    pub(crate) lab: Lab,
    checks: Checks,
}

/// The state file: which labs run, and how.
pub(crate) type State = crate::state::State<Running>;

/// One lab by id, its checks parsed for its environment.
pub(crate) fn load(catalog: &Catalog, id: &str) -> Result<LoadedLab> {
    with_checks(catalog.get(id)?)
}

/// Every lab, each checked as `load` would.
pub(crate) fn load_all(catalog: &Catalog) -> Result<Vec<LoadedLab>> {
    catalog.all()?.into_iter().map(with_checks).collect()
}

pub(crate) fn with_checks(lab: Lab) -> Result<LoadedLab> {
    let checks = ops(lab.environment).with_checks(&lab)?;
    Ok(LoadedLab { lab, checks })
}

impl LoadedLab {
    fn ops(&self) -> &'static dyn Ops {
        ops(self.lab.environment)
    }

    /// Starts the lab; `previous` is its entry in the state file, if any.
    pub(crate) async fn start(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Result<Running> {
        self.ops()
            .start(ctx, docker, &self.lab, previous, options)
            .await
    }

    /// Whether the lab keeps a spare booted ahead for its next `start`.
    pub(crate) fn keeps_spare(&self) -> bool {
        self.ops().keeps_spare(&self.lab)
    }

    /// Boots the lab's spare, unless it has one.
    pub(crate) async fn make_spare(&self, ctx: &Ctx<'_>, docker: &Docker) -> Result<()> {
        self.ops().make_spare(ctx, docker, &self.lab).await
    }

    /// One check run: facts, then verdicts, as a report.
    pub(crate) async fn check(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
    ) -> Result<Report> {
        self.ops().check(ctx, docker, self, running).await
    }

    /// What runs a solution step, on `machine` (None: the first).
    pub(crate) fn step_runner(
        &self,
        ctx: &Ctx<'_>,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<Command> {
        self.ops().step_runner(ctx, &self.lab, running, machine)
    }

    /// The system's ssh client into one of the lab's machines.
    pub(crate) fn ssh(
        &self,
        ctx: &Ctx<'_>,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<Command> {
        self.ops().ssh(ctx, &self.lab, running, machine)
    }

    /// Where `deploylab shell` opens a shell.
    pub(crate) fn shell(&self, running: &Running, machine: Option<&str>) -> Result<ShellTarget> {
        self.ops().shell(&self.lab, running, machine)
    }

    /// The work in a running lab, for a submission.
    pub(crate) async fn capture(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
    ) -> Result<Captured> {
        self.ops().capture(ctx, docker, &self.lab, running).await
    }

    /// What a new environment of this lab is built from here.
    pub(crate) async fn current_recipe(&self, ctx: &Ctx<'_>, docker: &Docker) -> Result<String> {
        self.ops().current_recipe(ctx, docker).await
    }

    /// How to start the environment that grades this work.
    pub(crate) async fn grading_start(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        work: &Captured,
    ) -> Result<StartOptions> {
        self.ops().grading_start(ctx, docker, &self.lab, work).await
    }

    /// A submission's work, into a freshly started lab.
    pub(crate) async fn restore(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
        work: &Captured,
    ) -> Result<Vec<String>> {
        self.ops()
            .restore(ctx, docker, &self.lab, running, work)
            .await
    }

    pub(crate) async fn over_limits(
        &self,
        home: &Home,
        docker: &Docker,
        running: &Running,
        limits: &GradeLimits,
    ) -> Option<String> {
        self.ops().over_limits(home, docker, running, limits).await
    }

    /// Reboots the lab's machines, or the one named.
    pub(crate) async fn restart(
        &self,
        docker: &Docker,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<()> {
        self.ops()
            .restart(docker, &self.lab, running, machine)
            .await
    }

    /// How `selftest` starts this lab in a scratch folder of its own.
    pub(crate) async fn practice_start(
        &self,
        ctx: &Ctx<'_>,
        scratch: &std::path::Path,
    ) -> Result<StartOptions> {
        self.ops().practice_start(ctx, &self.lab, scratch).await
    }

    /// Evaluates recorded facts (fixture tests, `grade`): no Docker.
    #[cfg(test)]
    pub(crate) fn judge_recorded(&self, facts: &str) -> Report {
        self.ops().judge_recorded(self, facts)
    }
}

impl Running {
    fn ops(&self) -> &'static dyn Ops {
        ops(self.kind())
    }

    pub(crate) fn ready_text(&self, ctx: &Ctx<'_>, lab: &Lab) -> String {
        self.ops().ready_text(ctx, lab, self)
    }

    pub(crate) async fn status(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        containers: &[ContainerSummary],
    ) -> StatusRow {
        self.ops().status(ctx, docker, self, containers).await
    }

    pub(crate) fn stop(&self, home: &Home) {
        self.ops().stop(home, self);
    }

    /// Removes what a practice run made outside deploylab's labels.
    pub(crate) async fn discard_practice(&self, docker: &Docker) {
        self.ops().discard_practice(docker, self).await;
    }

    /// What the environment was built from (a submission's `recipe`).
    pub(crate) fn recipe(&self) -> String {
        self.ops().recipe(self)
    }

    /// When it started, seconds since the epoch.
    pub(crate) fn started_at(&self) -> u64 {
        self.ops().started_at(self)
    }
}

/// Commands of one environment of their own (`deploylab heroku env`, and
/// the hidden processes the fake Heroku runs as).
#[derive(Debug, clap::Subcommand)]
pub(crate) enum EnvCommand {
    #[command(flatten)]
    Heroku(crate::heroku::cli::Command),
    #[command(flatten)]
    K8s(crate::k8s::cli::Command),
    #[command(flatten)]
    Vm(crate::vm::cli::Command),
}

pub(crate) async fn run_command(command: EnvCommand, ctx: &Ctx<'_>) -> Result<i32> {
    let home = ctx.home;
    match command {
        EnvCommand::Vm(command) => {
            let state: State = home.load()?;
            let running = state
                .labs
                .into_iter()
                .filter_map(|(id, r)| match r {
                    Running::Vm(r) => Some((id, r)),
                    _ => None,
                })
                .collect();
            crate::vm::cli::run(ctx, command, running).await
        }
        EnvCommand::Heroku(command) => {
            let state: State = home.load()?;
            let running = state.labs.into_values().find_map(|r| match r {
                Running::Heroku(r) => Some(r),
                _ => None,
            });
            crate::heroku::cli::run(command, running).await
        }
        EnvCommand::K8s(command) => {
            let state: State = home.load()?;
            let running = state.labs.into_values().find_map(|r| match r {
                Running::K8s(r) => Some(r),
                _ => None,
            });
            crate::k8s::cli::run(command, running).await
        }
    }
}

/// Images every environment keeps current (`images list`/`prune`), the VM
/// image first.
pub(crate) async fn current_images(docker: &Docker, vm: &VmImage) -> Vec<String> {
    let mut tags = Vec::new();
    for kind in KINDS {
        for tag in ops(*kind).current_images(docker, vm).await {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    tags
}

/// Images of older recipes this home's labs still run on.
pub(crate) fn images_in_use(home: &Home) -> Vec<String> {
    KINDS
        .iter()
        .flat_map(|kind| ops(*kind).images_in_use(home))
        .collect()
}

/// Kinds of image `images prune` leaves to their environment.
pub(crate) fn kept_image_kinds() -> Vec<&'static str> {
    KINDS
        .iter()
        .flat_map(|kind| ops(*kind).kept_image_kinds())
        .copied()
        .collect()
}

/// What `doctor` learns from every environment.
pub(crate) async fn diagnose(ctx: &Ctx<'_>, docker: &Docker) -> Result<Vec<Diagnosis>> {
    let mut lines = Vec::new();
    for kind in KINDS {
        lines.extend(ops(*kind).diagnose(ctx, docker).await?);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only an environment with machines takes `machines:`; the error is
    /// located at the list.
    #[test]
    fn machines_are_refused_where_the_environment_has_none() {
        let text = "schema: 1\nid: h\ntitle: H\nenvironment: heroku\nmachines: [a, b]\nstages:\n  - { id: s, title: S, checks: [{ id: c, title: C, hint: h, expect: { app_created: {} } }] }\n";
        let lab = lab::parse("labs/h/lab.yaml", text).unwrap();
        let err = with_checks(lab).err().expect("refused").to_string();
        assert!(err.starts_with("labs/h/lab.yaml:5:11: "), "{err}");
        assert!(err.contains("`machines:` is for VM labs"), "{err}");
        let vm = lab::parse(
            "x",
            &text
                .replace("heroku", "vm")
                .replace("app_created", "ssh_banner"),
        );
        assert!(with_checks(vm.unwrap()).is_ok());
    }
}
