//! The ONE place that picks the environment of a lab (`lab.yaml`'s
//! `environment:`) and names the concrete environments.
//!
//! An environment (`vm::Vm`, `heroku::Heroku`) implements
//! [`Environment`](crate::seam::Environment) (`seam.rs`):
//! its own check kinds, its own running state, its own facts, and how to
//! start, stop, describe, gather facts, judge a check and run a solution
//! step. Everything else (the commands, the check pipeline, the report) is
//! written once, against the trait. A new kind of lab adds a module with
//! an implementation and one arm to each `match` below; nothing else.

use std::process::Command;

use bollard::Docker;
use bollard::models::ContainerSummary;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::container::Container;
use crate::error::{Error, Result};
use crate::heroku::Heroku;
use crate::lab::{self, Kind, Lab};
use crate::pipeline;
use crate::report::Report;
use crate::seam::{Captured, Ctx, Environment, GradeLimits, StartOptions, StatusRow};
use crate::state::Home;
use crate::vm::{Machine, Vm};

/// A lab with its checks read as its environment's own types.
pub(crate) struct LoadedLab {
    pub(crate) lab: Lab,
    checks: Checks,
}

enum Checks {
    Vm(Vec<Vec<<Vm as Environment>::Check>>),
    Heroku(Vec<Vec<<Heroku as Environment>::Check>>),
    Container(Vec<Vec<<Container as Environment>::Check>>),
}

/// What runs for a started lab, by environment (the state file's entries).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "environment", rename_all = "kebab-case")]
pub(crate) enum Running {
    Vm(<Vm as Environment>::Running),
    Heroku(<Heroku as Environment>::Running),
    Container(<Container as Environment>::Running),
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
    let checks = match lab.environment {
        Kind::Vm => Checks::Vm(lab::parse_checks(&lab.source)?),
        Kind::Heroku => Checks::Heroku(lab::parse_checks(&lab.source)?),
        Kind::Container => Checks::Container(lab::parse_checks(&lab.source)?),
    };
    Ok(LoadedLab { lab, checks })
}

impl LoadedLab {
    /// Starts the lab; `previous` is its entry in the state file, if any.
    pub(crate) async fn start(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Result<Running> {
        let lab = &self.lab;
        Ok(match (&self.checks, previous) {
            (Checks::Vm(_), previous) => {
                let previous = previous.and_then(|r| match r {
                    Running::Vm(r) => Some(r),
                    _ => None,
                });
                Running::Vm(Vm::start(ctx, docker, lab, previous, options).await?)
            }
            (Checks::Heroku(_), previous) => {
                let previous = previous.and_then(|r| match r {
                    Running::Heroku(r) => Some(r),
                    _ => None,
                });
                Running::Heroku(Heroku::start(ctx, docker, lab, previous, options).await?)
            }
            (Checks::Container(_), previous) => {
                let previous = previous.and_then(|r| match r {
                    Running::Container(r) => Some(r),
                    _ => None,
                });
                Running::Container(Container::start(ctx, docker, lab, previous, options).await?)
            }
        })
    }

    /// One check run: facts, then verdicts, as a report.
    pub(crate) async fn check(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
    ) -> Result<Report> {
        let lab = &self.lab;
        match (&self.checks, running) {
            (Checks::Vm(checks), Running::Vm(r)) => {
                pipeline::run::<Vm>(ctx, docker, lab, checks, r).await
            }
            (Checks::Heroku(checks), Running::Heroku(r)) => {
                pipeline::run::<Heroku>(ctx, docker, lab, checks, r).await
            }
            (Checks::Container(checks), Running::Container(r)) => {
                pipeline::run::<Container>(ctx, docker, lab, checks, r).await
            }
            _ => Err(self.mismatch()),
        }
    }

    pub(crate) fn step_runner(&self, ctx: &Ctx<'_>, running: &Running) -> Result<Command> {
        match running {
            Running::Vm(r) => Vm::step_runner(ctx, &self.lab, r),
            Running::Heroku(r) => Heroku::step_runner(ctx, &self.lab, r),
            Running::Container(r) => Container::step_runner(ctx, &self.lab, r),
        }
    }

    /// The work in a running lab, for a submission.
    pub(crate) async fn capture(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
    ) -> Result<Captured> {
        match running {
            Running::Vm(r) => Vm::capture(ctx, docker, r).await,
            Running::Heroku(r) => Heroku::capture(ctx, docker, r).await,
            Running::Container(r) => Container::capture(ctx, docker, r).await,
        }
    }

    /// What a new environment of this lab is built from here.
    pub(crate) async fn current_recipe(&self, ctx: &Ctx<'_>, docker: &Docker) -> Result<String> {
        match &self.checks {
            Checks::Vm(_) => Vm::current_recipe(ctx, docker).await,
            Checks::Heroku(_) => Heroku::current_recipe(ctx, docker).await,
            Checks::Container(_) => Container::current_recipe(ctx, docker).await,
        }
    }

    /// How to start the environment that grades this work.
    pub(crate) async fn grading_start(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        work: &Captured,
    ) -> Result<StartOptions> {
        match &self.checks {
            Checks::Vm(_) => Vm::grading_start(ctx, docker, work).await,
            Checks::Heroku(_) => Heroku::grading_start(ctx, docker, work).await,
            Checks::Container(_) => Container::grading_start(ctx, docker, work).await,
        }
    }

    /// A submission's work, into a freshly started lab.
    pub(crate) async fn restore(
        &self,
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
        work: &Captured,
    ) -> Result<Vec<String>> {
        match running {
            Running::Vm(r) => Vm::restore(ctx, docker, &self.lab, r, work).await,
            Running::Heroku(r) => Heroku::restore(ctx, docker, &self.lab, r, work).await,
            Running::Container(r) => Container::restore(ctx, docker, &self.lab, r, work).await,
        }
    }

    pub(crate) async fn over_limits(
        &self,
        docker: &Docker,
        running: &Running,
        limits: &GradeLimits,
    ) -> Option<String> {
        match running {
            Running::Vm(r) => Vm::over_limits(docker, r, limits).await,
            Running::Heroku(r) => Heroku::over_limits(docker, r, limits).await,
            Running::Container(r) => Container::over_limits(docker, r, limits).await,
        }
    }

    pub(crate) async fn restart(&self, docker: &Docker, running: &Running) -> Result<()> {
        match running {
            Running::Vm(r) => Vm::restart(docker, &self.lab, r).await,
            Running::Heroku(r) => Heroku::restart(docker, &self.lab, r).await,
            Running::Container(r) => Container::restart(docker, &self.lab, r).await,
        }
    }

    /// How `selftest` starts this lab in a scratch folder of its own.
    pub(crate) async fn practice_start(
        &self,
        ctx: &Ctx<'_>,
        scratch: &std::path::Path,
    ) -> Result<StartOptions> {
        match &self.checks {
            Checks::Vm(_) => Vm::practice_start(ctx, &self.lab, scratch).await,
            Checks::Heroku(_) => Heroku::practice_start(ctx, &self.lab, scratch).await,
            Checks::Container(_) => Container::practice_start(ctx, &self.lab, scratch).await,
        }
    }

    /// The state file says another environment runs under this lab's id
    /// (the lab file changed since): a start replaces it.
    fn mismatch(&self) -> Error {
        Error::LabNotRunning {
            lab: self.lab.id.clone(),
        }
    }

    /// Evaluates recorded facts (fixture tests, `grade`): no Docker.
    #[cfg(test)]
    pub(crate) fn judge_recorded(&self, facts: &str) -> Report {
        match &self.checks {
            Checks::Vm(checks) => {
                pipeline::judge::<Vm>(&self.lab, checks, &serde_json::from_str(facts).unwrap())
            }
            Checks::Heroku(checks) => {
                pipeline::judge::<Heroku>(&self.lab, checks, &serde_json::from_str(facts).unwrap())
            }
            Checks::Container(checks) => pipeline::judge::<Container>(
                &self.lab,
                checks,
                &serde_json::from_str(facts).unwrap(),
            ),
        }
    }
}

impl Running {
    pub(crate) fn ready_text(&self, ctx: &Ctx<'_>, lab: &Lab) -> String {
        match self {
            Running::Vm(r) => Vm::ready_text(ctx, lab, r),
            Running::Heroku(r) => Heroku::ready_text(ctx, lab, r),
            Running::Container(r) => Container::ready_text(ctx, lab, r),
        }
    }

    pub(crate) fn status(&self, containers: &[ContainerSummary]) -> StatusRow {
        match self {
            Running::Vm(r) => Vm::status(r, containers),
            Running::Heroku(r) => Heroku::status(r, containers),
            Running::Container(r) => Container::status(r, containers),
        }
    }

    pub(crate) fn stop(&self, home: &Home) {
        match self {
            Running::Vm(r) => Vm::stop(home, r),
            Running::Heroku(r) => Heroku::stop(home, r),
            Running::Container(r) => Container::stop(home, r),
        }
    }

    /// Removes what a practice run made outside deploylab's labels.
    pub(crate) async fn discard_practice(&self, docker: &Docker) {
        match self {
            Running::Vm(r) => Vm::discard_practice(docker, r).await,
            Running::Heroku(r) => Heroku::discard_practice(docker, r).await,
            Running::Container(r) => Container::discard_practice(docker, r).await,
        }
    }

    pub(crate) fn machine(&self) -> std::result::Result<&Machine, &'static str> {
        match self {
            Running::Vm(r) => Vm::machine(r),
            Running::Heroku(r) => Heroku::machine(r),
            Running::Container(r) => Container::machine(r),
        }
    }

    /// What the environment was built from (a submission's `recipe`).
    pub(crate) fn recipe(&self) -> String {
        match self {
            Running::Vm(r) => Vm::recipe(r),
            Running::Heroku(r) => Heroku::recipe(r),
            Running::Container(r) => Container::recipe(r),
        }
    }

    /// The environment's name in `lab.yaml` (a submission's `environment`).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Running::Vm(_) => "vm",
            Running::Heroku(_) => "heroku",
            Running::Container(_) => "container",
        }
    }

    /// When it started, seconds since the epoch.
    pub(crate) fn started_at(&self) -> u64 {
        match self {
            Running::Vm(r) => r.started_at,
            Running::Heroku(r) => r.started_at,
            Running::Container(r) => r.started_at,
        }
    }
}

/// Commands of one environment of their own (`deploylab heroku env`, and
/// the hidden processes the fake Heroku runs as).
#[derive(Debug, clap::Subcommand)]
pub(crate) enum EnvCommand {
    #[command(flatten)]
    Heroku(crate::heroku::cli::Command),
}

pub(crate) async fn run_command(command: EnvCommand, home: &Home) -> Result<i32> {
    match command {
        EnvCommand::Heroku(command) => {
            let state: State = home.load()?;
            let running = state.labs.into_values().find_map(|r| match r {
                Running::Heroku(r) => Some(r),
                Running::Vm(_) | Running::Container(_) => None,
            });
            crate::heroku::cli::run(command, running).await
        }
    }
}

/// Images an environment keeps current beside the VM image (`images
/// list`/`prune`), and the kinds of image `prune` must leave alone.
pub(crate) async fn current_images(docker: &Docker, vm: &crate::images::VmImage) -> Vec<String> {
    let mut tags = vec![
        vm.tag.clone(),
        crate::heroku::stack::tag_for(vm),
        crate::standin::postgres::tag_for(vm),
        crate::standin::nginx::tag_for(vm),
    ];
    // The Python stand-in's tag names the proxy's address it was made for;
    // the official names the stand-ins carry are theirs too.
    if let Ok(proxy) = crate::container::proxy_address(docker).await {
        tags.push(crate::standin::python::tag_for(vm, proxy));
    }
    tags.extend(
        crate::container::official_names()
            .iter()
            .map(ToString::to_string),
    );
    tags
}

pub(crate) const KEPT_IMAGE_KINDS: &[&str] = &[crate::heroku::build::SLUG_KIND];
