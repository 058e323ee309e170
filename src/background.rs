//! deploylab's own background processes (the package proxy, the fake
//! Heroku): a hidden subcommand of this same executable, started in a
//! process group of its own (a Ctrl-C meant for `start` is not for it) with
//! its output in a log file. It is ready once it writes its ready file; it
//! is found again, and stopped, by pid and subcommand.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::error::{Error, Result};

/// The exit status of a background process whose port was taken: between
/// deploylab and its own child only (the CLI's contract says 3), so the
/// parent can say which port without reading the child's log.
pub(crate) const PORT_TAKEN: i32 = 98;

/// `deploylab <subcommand>`, for the caller to add arguments to.
pub(crate) fn command(subcommand: &str) -> Result<Command> {
    let exe = std::env::current_exe().map_err(Error::io("finding deploylab's own executable"))?;
    let mut cmd = Command::new(exe);
    cmd.arg(subcommand).env("DEPLOYLAB_LOG", "info");
    Ok(cmd)
}

/// Starts `cmd` (made by `command`) with its output in `log`, and waits
/// until `ready` holds what `parse` accepts. If the process ends first, the
/// error carries its log; on Ctrl-C it is stopped.
pub(crate) async fn start<T>(
    mut cmd: Command,
    what: &str,
    ready: &Path,
    log: &Path,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<(u32, T)> {
    // The last run's log is kept beside (a crash's evidence survives the
    // restart that follows it), not truncated.
    if log.exists() {
        let _ = std::fs::rename(log, log.with_extension("log.1"));
    }
    let log_file =
        std::fs::File::create(log).map_err(Error::io(format!("creating {}", log.display())))?;
    cmd.stdin(Stdio::null())
        .stdout(
            log_file
                .try_clone()
                .map_err(Error::io(format!("opening {}", log.display())))?,
        )
        .stderr(log_file);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(Error::io(format!("starting {what}")))?;
    let pid = child.id();
    loop {
        let text = std::fs::read_to_string(ready).unwrap_or_default();
        if let Some(value) = parse(&text) {
            return Ok((pid, value));
        }
        if let Ok(Some(status)) = child.try_wait() {
            let detail = std::fs::read_to_string(log).unwrap_or_default();
            return Err(Error::Background {
                what: what.to_string(),
                status: status.to_string(),
                log: detail.trim().to_string(),
                port_taken: status.code() == Some(PORT_TAKEN),
            });
        }
        if crate::interrupt::check().is_err() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Interrupted);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether `pid` is still deploylab's `subcommand` (a pid reused by another
/// program is not).
pub(crate) fn is_running(pid: u32, subcommand: &str) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&cmdline).contains(subcommand)
}

/// Stops a process started by `start` and waits (up to 2 s) until it is
/// gone; a pid that is no longer ours is left alone.
pub(crate) fn stop(pid: u32, subcommand: &str) {
    #[cfg(unix)]
    {
        if !is_running(pid, subcommand) {
            return;
        }
        if let Ok(pid) = i32::try_from(pid) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        for _ in 0..100 {
            if !is_running(pid, subcommand) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
