//! Host side of the in-VM probe (`probe/main.rs`): copies the static
//! executable into the VM and runs it once, for every fact of a check run.

use bollard::Docker;
use serde_json::Value;

use crate::docker;
use crate::error::{Error, Result};

/// The probe, compiled by build.rs for Linux whatever the host OS is.
pub const PROBE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/deploylab-probe"));

/// Copies the probe into the VM under a fresh name and runs it as root with
/// `facts` as arguments. A fresh copy each run: the student is root in the
/// VM and could otherwise replace it (it deletes itself when it starts).
pub async fn gather(docker: &Docker, container: &str, facts: &[String]) -> Result<Value> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    // Not under /run: Docker writes archives beneath tmpfs mounts, unseen.
    let path = format!("/var/lib/deploylab/probe-{nonce}");
    docker::put_files(
        docker,
        container,
        &[docker::FileEntry {
            path: &path,
            contents: PROBE,
            mode: 0o700,
            uid: 0,
            gid: 0,
        }],
    )
    .await?;
    let mut cmd = vec![path];
    cmd.extend(facts.iter().cloned());
    let output = docker::exec(docker, container, cmd, Some("root")).await?;
    if output.exit_code != 0 {
        return Err(Error::Probe {
            detail: format!("exit code {}: {}", output.exit_code, output.stderr.trim()),
        });
    }
    serde_json::from_str(output.stdout.trim()).map_err(|e| Error::Probe {
        detail: format!("unreadable answer ({e})"),
    })
}

#[cfg(test)]
mod tests {
    /// The probe runs on this (Linux) host too: facts it reads here must have
    /// the shape the checks expect.
    #[cfg(target_os = "linux")]
    #[test]
    fn probe_reports_facts_as_json() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probe");
        std::fs::write(&path, super::PROBE).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new(&path)
            .args([
                "user:root",
                "file:/etc/passwd",
                "pkg:no-such-package",
                "tcp-listen",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let facts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(facts["user:root"]["uid"], 0);
        assert_eq!(facts["file:/etc/passwd"]["kind"], "file");
        assert_eq!(facts["pkg:no-such-package"]["installed"], false);
        assert!(facts["tcp-listen"].is_array());
        // Single use: the probe removed itself.
        assert!(!path.exists());
    }
}
