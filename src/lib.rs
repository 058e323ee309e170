//! deploylab: disposable practice environments for the Python deploy course,
//! and the checks that grade them. `main.rs` only calls [`run`].
//! ARCHITECTURE.md draws the flow; one module per concept:
//!
//! - `cli`: the command line; `commands/`: one file per command.
//! - `lab`: lab.yaml's model; `catalog`: where labs and their files come
//!   from.
//! - `seam`: the trait every kind of environment implements;
//!   `environment`: the one place that picks an environment for a lab;
//!   `vm/`, `heroku/` and `compose/` (the container lab): the environments, registered in
//!   [`with_environments`].
//! - `pipeline`: one check run (facts, then verdicts); `verdict`: pure
//!   judging into a `report`, shown as tables, JSON or JUnit.
//! - `docker`: the engine (bollard); `images`: images from Debian packages;
//!   `gitserver`: a lab's git server; `packages`: the package proxy;
//!   `background`: deploylab's own background processes; `shell`: an
//!   interactive shell through Docker.
//! - `state`: deploylab's files; `progress`: spinners; `interrupt`:
//!   Ctrl-C; `error`: every failure, its hint and its exit code.

/// Every kind of lab environment, one line each:
/// `module::Type: Variant = "its name in lab.yaml"`.
///
/// Adding an environment is its folder `src/<module>/` (a type that
/// implements `seam::Environment`) and one line here. The rest follows
/// from this list: the module is declared below, `lab::Kind` gets a
/// variant (`environment:` in lab.yaml), and `environment.rs` dispatches to
/// the type (the state file's entries, the checks, every command).
macro_rules! with_environments {
    ($then:ident) => {
        $then! {
            vm::Vm: Vm = "vm",
            heroku::Heroku: Heroku = "heroku",
            compose::Compose: Compose = "container",
            k8s::K8s: K8s = "k8s",
        }
    };
}

/// The environments' modules, from [`with_environments`].
macro_rules! declare_environments {
    ($($module:ident::$ty:ident: $variant:ident = $name:literal,)*) => {
        $(mod $module;)*
    };
}
with_environments!(declare_environments);

mod background;
mod book;
mod catalog;
mod cli;
mod commands;
mod config;
mod docker;
mod environment;
mod error;
#[cfg(test)]
mod fixtures;
mod gitserver;
mod grading;
mod http_answer;
mod i18n;
mod images;
mod interrupt;
mod lab;
mod lab_text;
mod limits;
mod packages;
mod pipeline;
mod progress;
mod pythons;
mod report;
mod seam;
mod shell;
mod spare;
mod standin;
mod state;
mod submission;
#[cfg(test)]
mod tidy;
mod units;
mod verdict;

use error::exit;

/// `--lang X`, `--lang=X` or `DEPLOYLAB_LANG`, read before clap parses
/// (clap reads them again, and rejects a language it does not know).
fn lang_flag() -> Option<i18n::Lang> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--lang") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => continue,
        };
        return value.as_deref().and_then(i18n::Lang::from_tag);
    }
    std::env::var("DEPLOYLAB_LANG")
        .ok()
        .as_deref()
        .and_then(i18n::Lang::from_tag)
}

/// Runs deploylab with the process's arguments; returns the exit code
/// (README, "Exit codes").
pub fn run() -> i32 {
    // A shell asking for completions (`deploylab completions <shell>`'s
    // script sets the variable): answered, and nothing else runs.
    clap_complete::CompleteEnv::with_factory(<cli::Cli as clap::CommandFactory>::command)
        .var(cli::COMPLETE_VAR)
        .complete();
    // The language first, so `--help` and clap's errors are in it too.
    i18n::set(i18n::pick(lang_flag()));
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|matches| <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    i18n::set(i18n::pick(cli.lang));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DEPLOYLAB_LOG")
                // kube-rs logs every failed request; the checks say what
                // a failure means.
                .unwrap_or_else(|_| "warn,kube_client=off".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::ENVIRONMENT;
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", i18n::tr!("error-prefix", message = e));
            if let Some(hint) = e.hint() {
                eprintln!("  {hint}");
            }
            e.exit_code()
        }
    }
}
