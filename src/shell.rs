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
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let exec = docker
        .create_exec(
            container,
            CreateExecOptions::<String> {
                cmd: Some(vec!["su".into(), "--login".into(), user.into()]),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(tty),
                env: Some(vec!["TERM=xterm-256color".into()]),
                ..Default::default()
            },
        )
        .await
        .map_err(Error::docker("opening a shell in the VM"))?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(Error::docker("opening a shell in the VM"))?
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
    let mut stdout = tokio::io::stdout();
    while let Some(Ok(chunk)) = output.next().await {
        let _ = stdout.write_all(&chunk.into_bytes()).await;
        let _ = stdout.flush().await;
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
