//! The heroku lab's own commands: `deploylab heroku env`, and the hidden
//! ones deploylab runs itself (the fake as a background process, the git
//! hook of its repositories).

use super::lab::{Running, env_script};
use crate::error::{Error, Result, exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// The heroku lab: print the environment the real `heroku` CLI and git need.
    Heroku {
        #[command(subcommand)]
        action: Action,
    },

    /// The fake Heroku itself (started by `start heroku`).
    #[command(hide = true)]
    HerokuServe(Box<super::ServeArgs>),

    /// The fake Heroku's git pre-receive hook (run by git).
    #[command(hide = true)]
    HerokuHook,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Action {
    /// Print `export` lines for the real heroku CLI and git: `eval "$(deploylab heroku env)"`.
    Env,
}

/// Runs one of the commands; `running`: the heroku lab, if it was started.
pub(crate) async fn run(command: Command, running: Option<Running>) -> Result<i32> {
    match command {
        Command::Heroku {
            action: Action::Env,
        } => {
            let running =
                running
                    .filter(|r| super::lab::is_running(r.pid))
                    .ok_or(Error::LabNotRunning {
                        lab: super::lab::LAB.into(),
                    })?;
            print!("{}", env_script(&running));
            Ok(exit::OK)
        }
        Command::HerokuServe(args) => match super::serve(*args).await {
            Ok(()) => Ok(exit::OK),
            // Said to the parent by exit status: see `background`.
            Err(Error::PortTaken { port }) => {
                eprintln!("error: {}", Error::PortTaken { port });
                Ok(crate::background::PORT_TAKEN)
            }
            Err(e) => Err(e),
        },
        Command::HerokuHook => super::git::hook(),
    }
}
