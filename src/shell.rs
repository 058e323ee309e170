//! `deploylab shell`: a login shell in the VM as the lab's user, through the
//! Docker API, for students without a working SSH client (Windows without
//! OpenSSH, locked-down lab machines). Interactive when run in a terminal.

use std::io::IsTerminal;

use bollard::Docker;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result, exit};

/// Puts the terminal in raw mode for the session and restores it however
/// the session ends.
struct RawMode;

impl RawMode {
    fn enable() -> Option<RawMode> {
        crossterm::terminal::enable_raw_mode().ok().map(|_| RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

pub(crate) async fn interactive(docker: &Docker, container: &str, user: &str) -> Result<i32> {
    let command = Attached {
        cmd: vec!["su".into(), "--login".into(), user.into()],
        env: vec!["TERM=xterm-256color".into()],
        what: "opening a shell in the VM",
    };
    attached(docker, container, command).await
}

/// A command run in a container, as its own user in its own working
/// folder, with this terminal (or this program's stdin, stdout and
/// stderr) attached to it.
pub(crate) struct Attached {
    pub(crate) cmd: Vec<String>,
    pub(crate) env: Vec<String>,
    /// What it is, for an error from the engine.
    pub(crate) what: &'static str,
}

/// Runs `command` attached: interactive in a terminal, else piped. Its
/// exit code is returned.
pub(crate) async fn attached(docker: &Docker, container: &str, command: Attached) -> Result<i32> {
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let exec = docker
        .create_exec(
            container,
            CreateExecOptions::<String> {
                cmd: Some(command.cmd),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(tty),
                env: Some(command.env),
                ..Default::default()
            },
        )
        .await
        .map_err(Error::docker(command.what))?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(Error::docker(command.what))?
    else {
        return Ok(exit::ENVIRONMENT);
    };
    let _raw = if tty { RawMode::enable() } else { None };
    if tty && let Ok((width, height)) = crossterm::terminal::size() {
        let _ = docker
            .resize_exec(&exec.id, ResizeExecOptions { width, height })
            .await;
    }
    let pump_stdin = tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let _ = tokio::io::copy(&mut stdin, &mut input).await;
        let _ = input.shutdown().await;
    });
    let (mut stdout, mut stderr) = (tokio::io::stdout(), tokio::io::stderr());
    while let Some(Ok(chunk)) = output.next().await {
        let out: &mut (dyn tokio::io::AsyncWrite + Unpin + Send) = match chunk {
            bollard::container::LogOutput::StdErr { .. } => &mut stderr,
            _ => &mut stdout,
        };
        let _ = out.write_all(&chunk.into_bytes()).await;
        let _ = out.flush().await;
    }
    pump_stdin.abort();
    let code = docker
        .inspect_exec(&exec.id)
        .await
        .ok()
        .and_then(|i| i.exit_code)
        .unwrap_or(0);
    Ok(i32::try_from(code).unwrap_or(exit::ENVIRONMENT))
}
