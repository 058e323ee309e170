//! The fake-platform kit: what any local fake platform deploylab runs
//! needs, kept apart from any one platform.
//!
//! - [`attach`]: a client joined to a process the platform runs for it,
//!   by a secret handed out once.
//! - [`tls`]: a local certificate authority made once per folder, a
//!   certificate for localhost, and certificates per name (SNI) on demand.
//! - [`http`]: HTTP(S) serving bounded against slow or hostile clients
//!   (connections, handshake and head deadlines, body limits).
//! - [`store`]: a persisted document: atomic writes, a revision counter,
//!   and changes others can watch.
//! - [`logs`]: per stream, the last log entries and a way to follow them.
//! - [`reconcile`]: what runs kept as it is wanted (stop the stale before
//!   starting the new), and the back-off of restarts after crashes.

pub mod attach;
pub mod http;
pub mod logs;
pub mod reconcile;
pub mod store;
pub mod tls;

/// What went wrong in the kit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    #[error("making the local TLS certificate: {source}")]
    Tls {
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A closure turning an I/O error into one that says what was done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// Writes a file only its owner may read (private keys).
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
