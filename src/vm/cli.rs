//! The commands of VM labs done with Ansible (`ansible:` in lab.yaml):
//! `deploylab ansible-playbook …`, the real ansible-playbook in a control
//! container for students without Ansible, and `deploylab ansible env`,
//! the settings a student's own Ansible needs for deploylab to see its runs.

use super::Running;
use super::ansible::{self, control};
use crate::error::{Error, Result, exit};
use crate::lab::Lab;
use crate::seam::Ctx;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Run the real ansible-playbook (Debian's ansible-core, offline)
    /// against the running Ansible lab, in this folder: e.g. `deploylab
    /// ansible-playbook -i <inventory> playbook.yaml --ask-become-pass`.
    /// Exits with ansible-playbook's own code.
    #[command(name = "ansible-playbook", disable_help_flag = true)]
    AnsiblePlaybook {
        /// ansible-playbook's arguments, as you would give them to it.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },

    /// The Ansible lab: print the settings your own Ansible needs, so
    /// deploylab sees your runs: `eval "$(deploylab ansible env)"`.
    Ansible {
        #[command(subcommand)]
        action: Action,
    },
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Action {
    /// Print `export ANSIBLE_…` lines for the shell.
    Env,
}

/// The lab done with Ansible a student starts.
const LAB: &str = "vm-ansible";

/// Runs one of the commands; `running`: the VM labs that run, by id.
pub(crate) async fn run(ctx: &Ctx<'_>, command: Command, running: Vec<(String, Running)>) -> Result<i32> {
    let (lab, running) = ansible_lab(ctx, running)?;
    match command {
        Command::Ansible { action: Action::Env } => {
            print!("{}", ansible::env_script(&ansible::Files::of(ctx.home, &lab.id)));
            Ok(exit::OK)
        }
        Command::AnsiblePlaybook { args } => {
            let docker = crate::docker::connect().await?;
            let cwd = std::env::current_dir().map_err(Error::io("reading the current folder"))?;
            let (code, _) = control::student_run(
                ctx,
                &docker,
                &lab,
                &running,
                args,
                cwd,
                control::Io::Attached,
            )
            .await?;
            Ok(code)
        }
    }
}

/// The running lab done with Ansible.
fn ansible_lab(ctx: &Ctx<'_>, running: Vec<(String, Running)>) -> Result<(Lab, Running)> {
    for (id, entry) in running {
        if let Ok(lab) = ctx.catalog.get(&id)
            && lab.ansible.is_some()
        {
            return Ok((lab, entry));
        }
    }
    Err(Error::LabNotRunning { lab: LAB.into() })
}
