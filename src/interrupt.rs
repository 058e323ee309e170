//! Ctrl-C during `start`, and the signals that mean the same: SIGTERM
//! (what `timeout`, a cancelled CI job and systemd send) and SIGHUP (the
//! terminal closed). The image build may simply be dropped (nothing is
//! created until it ends), but once containers are being created a request
//! in flight must finish, or Docker could create a container after the
//! cleanup looked for it. So that phase checks this flag between steps.

use std::sync::OnceLock;

use tokio::sync::watch;

use crate::error::{Error, Result};

static FLAG: OnceLock<watch::Receiver<bool>> = OnceLock::new();

/// Starts listening for Ctrl-C, SIGTERM and SIGHUP (once per process).
pub(crate) fn watch() {
    FLAG.get_or_init(|| {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if stop_requested().await {
                let _ = tx.send(true);
            }
            // Keep the sender, and the handler, alive: a second Ctrl-C must
            // not kill the cleanup.
            std::future::pending::<()>().await;
        });
        rx
    });
}

/// Resolves with `true` on the first of Ctrl-C, SIGTERM or SIGHUP (`false`
/// if no handler could be installed).
async fn stop_requested() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.is_ok(),
            _ = term.recv() => true,
            _ = hup.recv() => true,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// `Err(Interrupted)` once Ctrl-C was pressed (or SIGTERM, SIGHUP came).
pub(crate) fn check() -> Result<()> {
    match FLAG.get() {
        Some(rx) if *rx.borrow() => Err(Error::Interrupted),
        _ => Ok(()),
    }
}

/// Resolves when Ctrl-C is pressed (never, if `watch` was not called).
pub(crate) async fn requested() {
    match FLAG.get() {
        Some(rx) => {
            let mut rx = rx.clone();
            let _ = rx.wait_for(|pressed| *pressed).await;
        }
        None => std::future::pending().await,
    }
}
