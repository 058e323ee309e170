//! Host side of the in-VM probe (`probe/main.rs`): copies the static
//! executable into the VM and runs it once, for every fact of a check run.

use bollard::Docker;

use super::facts::{FactRequest, Facts};
use crate::docker;
use crate::error::{Error, Result};

/// The probe, compiled by build.rs for Linux whatever the host OS is.
const PROBE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/deploylab-probe"));

/// Where each VM has this build's probe: a read-only bind mount of the
/// host's copy (`host_copy`), at the root so no directory above it can be
/// renamed away. Root in the VM cannot replace, remove or mount over it
/// (no CAP_SYS_ADMIN), so it needs no fresh copy per check.
pub(crate) const IN_VM: &str = concat!("/.deploylab-probe-", env!("DEPLOYLAB_PROBE_ID"));

/// The probe as a file beside the image's cache (`dir`), written once per
/// build of deploylab, for VMs to mount.
pub(crate) fn host_copy(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    let path = dir.join(IN_VM.trim_start_matches("/."));
    if !path.is_file() {
        crate::state::write_atomically(&path, PROBE)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(Error::io("making the probe executable"))?;
        }
    }
    Ok(path)
}

/// Runs the probe as root with `requests` as arguments: the VM's mounted
/// one, or, in a VM made without it (by an older build), a copy put there
/// under a fresh name for this run (it deletes itself when it starts).
pub(crate) async fn gather(
    docker: &Docker,
    container: &str,
    requests: &[FactRequest],
) -> Result<Facts> {
    let mut cmd = vec![IN_VM.to_string()];
    cmd.extend(requests.iter().map(FactRequest::to_arg));
    let output = docker::exec(docker, container, cmd, Some("root")).await?;
    // 126/127: the runtime found nothing to run there.
    if !matches!(output.exit_code, 126 | 127) {
        return answer(&output);
    }
    gather_with_copy(docker, container, requests).await
}

async fn gather_with_copy(
    docker: &Docker,
    container: &str,
    requests: &[FactRequest],
) -> Result<Facts> {
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
    cmd.extend(requests.iter().map(FactRequest::to_arg));
    let output = docker::exec(docker, container, cmd, Some("root")).await?;
    answer(&output)
}

fn answer(output: &docker::ExecOutput) -> Result<Facts> {
    if output.exit_code != 0 {
        return Err(Error::Probe {
            detail: format!("exit code {}: {}", output.exit_code, output.stderr.trim()),
        });
    }
    parse(&output.stdout)
}

fn parse(stdout: &str) -> Result<Facts> {
    serde_json::from_str(stdout.trim()).map_err(|e| Error::Probe {
        detail: format!("unreadable answer ({e})"),
    })
}

#[cfg(test)]
mod tests {
    /// The probe runs on this (Linux) host too: what it writes must be
    /// exactly what the host reads (strictly: an unknown or missing field
    /// fails here).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_probes_answer_reads_strictly_as_the_shared_types() {
        use super::*;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probe");
        std::fs::write(&path, PROBE).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let requests = [
            FactRequest::User("root".into()),
            FactRequest::User("no-such-user".into()),
            FactRequest::Package("no-such-package".into()),
            FactRequest::SshKeys("root".into()),
            FactRequest::TcpListen,
            FactRequest::Sudoers,
            FactRequest::Deploy("root".into(), vec!["BLOG_ENV=production".into()]),
        ];
        let out = std::process::Command::new(&path)
            .args(requests.iter().map(FactRequest::to_arg))
            .output()
            .unwrap();
        assert!(out.status.success());
        let facts = parse(&String::from_utf8_lossy(&out.stdout)).unwrap();
        assert_eq!(facts.users["root"].as_ref().unwrap().uid, 0);
        assert_eq!(facts.users["no-such-user"], None);
        assert!(!facts.packages["no-such-package"].installed);
        assert!(facts.tcp_listen.is_some());
        assert!(facts.sudoers.is_some());
        assert_eq!(facts.deploy["root"].app_dir, "/app");
        // Single use: the probe removed itself.
        assert!(!path.exists());
        // An argument no fact answers is refused, not guessed at.
        std::fs::write(&path, PROBE).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new(&path)
            .arg("file:/etc/passwd")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
    }
}
