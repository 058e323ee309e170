//! What each command does, one file per command. Each returns the process
//! exit code, or an `Error` that carries its own.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

mod book;
mod check;
mod completions;
mod doctor;
mod grade;
mod hint;
mod images;
mod labs;
mod restart;
mod selftest;
mod shell;
mod solve;
mod spare;
mod ssh;
mod start;
mod status;
mod stop;
mod submit;

use std::time::Instant;

use bollard::Docker;

use crate::catalog::Catalog;
use crate::cli::{BookCommand, Cli, Command};
use crate::docker;
use crate::environment::{self, LoadedLab, Running, State};
use crate::error::{Error, Result, exit};
use crate::packages;
use crate::progress::Progress;
use crate::report::Report;
use crate::seam::{Ctx, StartOptions};
use crate::state::Home;

pub(crate) async fn dispatch(cli: Cli) -> Result<i32> {
    let progress = Progress::new(cli.quiet);
    let home = Home::from_env()?;
    let catalog = Catalog::from_env();
    let subject = match &cli.command {
        Command::Check { app, .. } | Command::Hint { app, .. } => app.clone(),
        _ => None,
    };
    let ctx = Ctx {
        home: &home,
        catalog: &catalog,
        progress: &progress,
        subject: subject.as_deref(),
    };
    match cli.command {
        Command::Labs { po } => labs::run(&catalog, po.as_deref()),
        Command::Start {
            lab,
            fresh,
            ssh_port,
            http_port,
            repo,
            dir,
            backend,
            no_spare,
        } => {
            let options = StartOptions {
                fresh,
                ssh_port,
                http_port,
                repo,
                dir,
                backend,
                bases: Default::default(),
                spare: !no_spare && crate::config::Config::spares(&home)?,
                no_git_server: false,
                held: false,
            };
            start::run(&ctx, &lab, options).await
        }
        Command::Status => status::run(&ctx).await,
        Command::Check {
            target,
            stage,
            format,
            ..
        } => check::run(&ctx, target.lab.as_deref(), stage.as_deref(), format).await,
        Command::Hint { target, more, .. } => hint::run(&ctx, target.lab.as_deref(), more).await,
        Command::Solve { target, stage } => solve::run(&ctx, target.lab.as_deref(), &stage).await,
        Command::Ssh {
            target,
            on,
            command,
        } => ssh::run(&ctx, target.lab.as_deref(), on.machine.as_deref(), &command),
        Command::Shell { target, on } => {
            shell::run(&ctx, target.lab.as_deref(), on.machine.as_deref()).await
        }
        Command::Restart { target, machine } => {
            restart::run(&ctx, target.lab.as_deref(), machine.as_deref()).await
        }
        Command::Stop { lab, all } => stop::run(&ctx, lab.as_deref(), all).await,
        Command::Submit { target, output } => {
            submit::run(&ctx, target.lab.as_deref(), output).await
        }
        Command::Grade(args) => grade::run(&ctx, args).await,
        Command::Selftest { lab } => selftest::run(&ctx, lab.as_deref()).await,
        Command::Doctor => doctor::run(&ctx).await,
        Command::Completions { shell } => completions::completions(shell),
        Command::Man => completions::man(),
        Command::Book {
            command: BookCommand::Preprocess { supports },
        } => book::preprocess(&catalog, supports.is_some()),
        Command::Images { action } => images::run(&ctx, action).await,
        Command::Spare { lab } => spare::run(&ctx, &lab).await,
        Command::PackageProxy(args) => packages::serve(args).await.map(|()| exit::OK),
        Command::Environment(command) => environment::run_command(command, &ctx).await,
    }
}

/// The running lab a command is about (the one named, or the only one),
/// with its lab file.
fn running_lab(ctx: &Ctx<'_>, lab: Option<&str>) -> Result<(LoadedLab, Running)> {
    let state: State = ctx.home.load()?;
    let (id, running) = state.pick(lab).map_err(|e| unknown_or(ctx.catalog, e))?;
    Ok((environment::load(ctx.catalog, &id)?, running))
}

/// "Lab X is not running" for a lab that does not exist would send the
/// student to start it: say that it is unknown (with the nearest name).
fn unknown_or(catalog: &Catalog, error: Error) -> Error {
    match error {
        Error::LabNotRunning { lab } => match catalog.get(&lab) {
            Err(unknown @ Error::UnknownLab { .. }) => unknown,
            _ => Error::LabNotRunning { lab },
        },
        other => other,
    }
}

/// One check run of the lab a command is about.
struct Checked {
    loaded: LoadedLab,
    running: Running,
    report: Report,
    /// How long it took, in milliseconds.
    elapsed: u128,
}

async fn run_checks(ctx: &Ctx<'_>, lab: Option<&str>) -> Result<Checked> {
    let started = Instant::now();
    let (loaded, running) = running_lab(ctx, lab)?;
    let docker = docker::connect().await?;
    let report = match loaded.check(ctx, &docker, &running).await {
        Err(Error::ContainerGone { lab }) => return Err(forget(ctx, &docker, lab).await?),
        other => other?,
    };
    Ok(Checked {
        loaded,
        running,
        report,
        elapsed: started.elapsed().as_millis(),
    })
}

/// A VM removed behind deploylab's back: what it left (network, git
/// server, proxy) goes too, and the state file forgets the lab.
async fn forget(ctx: &Ctx<'_>, docker: &Docker, lab: String) -> Result<Error> {
    let mut state: State = ctx.home.load()?;
    if let Some(running) = state.labs.remove(&lab) {
        running.stop(ctx.home);
    }
    docker::remove_lab_resources(docker, &ctx.home.instance(), &lab).await?;
    ctx.home.save(&state)?;
    Ok(Error::ContainerGone { lab })
}
