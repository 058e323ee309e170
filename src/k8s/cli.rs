//! The k8s lab's own commands: `deploylab k8s env`, and the hidden one
//! deploylab runs itself (the built-in cluster as a background process).

use std::path::PathBuf;

use super::Running;
use crate::error::{Error, Result, exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// The k8s lab: print the environment kubectl needs.
    K8s {
        #[command(subcommand)]
        action: Action,
    },

    /// The built-in cluster itself (started by `start k8s`).
    #[command(hide = true)]
    K8sServe {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Action {
    /// Print the `export KUBECONFIG=…` line for kubectl: `eval "$(deploylab k8s env)"`.
    Env,
}

/// Runs one of the commands; `running`: the k8s lab, if it was started.
pub(crate) async fn run(command: Command, running: Option<Running>) -> Result<i32> {
    match command {
        Command::K8s { action: Action::Env } => {
            let running = running
                .filter(|r| r.cluster.is_running())
                .ok_or(Error::LabNotRunning { lab: super::LAB.into() })?;
            print!("{}", env_script(&running));
            Ok(exit::OK)
        }
        Command::K8sServe { config } => match super::cluster::serve(&config).await {
            Ok(()) => Ok(exit::OK),
            Err(Error::PortTaken { port }) => {
                eprintln!("error: {}", Error::PortTaken { port });
                Ok(crate::background::PORT_TAKEN)
            }
            Err(e) => Err(e),
        },
    }
}

/// The lines `k8s env` prints (a path quoted for the shell).
pub(crate) fn env_script(running: &Running) -> String {
    let path = running.cluster.kubeconfig().display().to_string();
    format!("export KUBECONFIG='{}'\n", path.replace('\'', r"'\''"))
}
