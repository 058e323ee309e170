//! deploylab: disposable practice environments for the Python deploy course,
//! and the checks that grade them. `main.rs` only calls [`run`].
//!
//! One module per concept:
//! - `cli`: the command line; `commands`: what each command does;
//!   `lifecycle`: a lab's environment from `start` to `stop`.
//! - `lab`: lab.yaml files; `check`: check kinds and their evaluation;
//!   `report`: results as tables and JSON.
//! - `docker`: the engine (bollard); `images`: building images from Debian
//!   packages; `vm`: the VM stand-in container; `probe`: facts from inside it;
//!   `shell`: an interactive shell through Docker; `gitserver`: the lab's
//!   git server; `packages`: the package proxy pip in the VM installs from.
//! - `state`: deploylab's files; `doctor`: environment diagnosis;
//!   `progress`: spinners; `error`: every failure and its exit code.

pub mod background;
pub mod check;
pub mod cli;
mod commands;
pub mod docker;
pub mod doctor;
pub mod error;
pub mod gitserver;
pub mod heroku;
pub mod images;
pub mod interrupt;
pub mod lab;
mod lifecycle;
pub mod packages;
pub mod probe;
pub mod progress;
pub mod report;
pub mod shell;
pub mod state;
pub mod vm;

use clap::Parser;

pub use error::{Error, exit};

/// Runs deploylab with the process's arguments; returns the exit code.
pub fn run() -> i32 {
    let cli = match cli::Cli::try_parse() {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DEPLOYLAB_LOG")
                .unwrap_or_else(|_| "warn".into()),
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
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
