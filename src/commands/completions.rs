//! `deploylab completions <shell>` and `deploylab man`: both generated from
//! the command line's own definition (clap), so they never drift from it.
//! The completion scripts call deploylab back for each completion
//! (clap_complete's dynamic engine), so lab, stage and machine names come
//! from the labs and the running lab (`cli.rs`'s completers).

use std::io::Write;

use clap_complete::env::Shells;

use crate::cli::{COMPLETE_VAR, CompletionShell};
use crate::error::{Error, Result, exit};

/// The program the scripts call back: this one, by its full path (a shell
/// completes before PATH is the one deploylab was installed with).
fn completer() -> Result<String> {
    let me = std::env::current_exe().map_err(Error::io("finding deploylab's own program"))?;
    Ok(me.display().to_string())
}

pub(super) fn completions(shell: CompletionShell) -> Result<i32> {
    let shells = Shells::builtins();
    let writer = shells
        .completer(shell.name())
        .expect("every CompletionShell is one of clap_complete's");
    let mut out = Vec::new();
    writer
        .write_registration(
            COMPLETE_VAR,
            "deploylab",
            "deploylab",
            &completer()?,
            &mut out,
        )
        .map_err(Error::io("writing the completion script"))?;
    std::io::stdout()
        .write_all(&out)
        .map_err(Error::io("writing the completion script"))?;
    Ok(exit::OK)
}

pub(super) fn man() -> Result<i32> {
    let mut out = Vec::new();
    clap_mangen::Man::new(crate::cli::command())
        .render(&mut out)
        .map_err(Error::io("writing the man page"))?;
    std::io::stdout()
        .write_all(&out)
        .map_err(Error::io("writing the man page"))?;
    Ok(exit::OK)
}
