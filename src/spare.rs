//! The spares of a home: VMs booted ahead, in the background, so the next
//! `start` of their lab only claims one (`vm/spare.rs` makes and claims
//! them). Here: where they are named, the lock that keeps one maker at a
//! time, launching the maker, and removing them all.

use std::path::PathBuf;
use std::process::Stdio;

use bollard::Docker;

use crate::docker;
use crate::error::{Error, Result};
use crate::state::Home;

/// How long a claim waits for a spare still being made: past a VM's boot
/// (a minute) and its git server's start, it is not coming.
const WAIT: std::time::Duration = std::time::Duration::from_secs(90);

pub(crate) fn dir(home: &Home) -> PathBuf {
    home.dir.join("spares")
}

pub(crate) fn record_path(home: &Home, lab: &str) -> PathBuf {
    dir(home).join(format!("{lab}.json"))
}

/// Holds the lab's spare: one maker, or one claim, at a time. `wait`: wait
/// for the holder (bounded by a VM's boot), else give up at once.
pub(crate) async fn lock(home: &Home, lab: &str, wait: bool) -> Result<Option<std::fs::File>> {
    let path = dir(home).join(format!("{lab}.lock"));
    std::fs::create_dir_all(dir(home)).map_err(Error::io("creating the spares folder"))?;
    let file = crate::state::lock_file(&path)?;
    match file.try_lock() {
        Ok(()) => return Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) if !wait => return Ok(None),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::io(format!("locking {}", path.display()))(e));
        }
    }
    let waiting = tokio::task::spawn_blocking(move || file.lock().map(|()| file));
    tokio::select! {
        locked = tokio::time::timeout(WAIT, waiting) => {
            Ok(locked.ok().and_then(Result::ok).and_then(Result::ok))
        }
        () = crate::interrupt::requested() => Err(Error::Interrupted),
    }
}

/// Starts `deploylab spare <lab>` detached from this command (a
/// background process: its own process group, so a Ctrl-C in the
/// student's terminal after `start` is not its), logging to the home's
/// `spare-<lab>.log`. A spare that cannot be made is only not there.
pub(crate) fn launch(home: &Home, lab: &str) {
    let Ok(mut cmd) = crate::background::command("spare") else {
        return;
    };
    let log = std::fs::File::create(home.dir.join(format!("spare-{lab}.log")));
    let stderr = log.map_or_else(|_| Stdio::null(), Stdio::from);
    cmd.arg(lab)
        .env("DEPLOYLAB_HOME", &home.dir)
        .env("DEPLOYLAB_CACHE", &home.cache)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    if let Err(e) = cmd.spawn() {
        tracing::debug!("no spare for {lab}: {e}");
    }
}

/// Removes every spare of this home (`stop --all`, `images prune`), waiting
/// for any being made. Returns how many there were.
pub(crate) async fn remove_all(docker: &Docker, home: &Home) -> Result<usize> {
    let mut held = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir(home)) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(lab) = name.strip_suffix(".lock") {
                held.push(lock(home, lab, true).await?);
                let _ = std::fs::remove_file(record_path(home, lab));
            }
        }
    }
    let removed = docker::remove_spares(docker, &home.instance(), None).await?;
    drop(held);
    Ok(removed)
}
