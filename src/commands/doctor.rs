//! `deploylab doctor`: can this machine run the labs? One line per fact,
//! ✓ or ✗, and for each ✗ the fix.

use std::net::{Ipv4Addr, TcpListener};

use crate::docker;
use crate::environment;
use crate::error::{Result, exit};
use crate::i18n::tr;
use crate::images;
use crate::seam::{Ctx, Diagnosis};

/// The host's operating system, as far as deploylab cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostOs {
    Linux,
    /// Linux inside Windows' WSL2.
    Wsl2,
    MacOs,
    Windows,
    Other,
}

impl HostOs {
    fn here() -> HostOs {
        if cfg!(target_os = "macos") {
            HostOs::MacOs
        } else if cfg!(windows) {
            HostOs::Windows
        } else if cfg!(target_os = "linux") {
            let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
            match release.to_lowercase().contains("microsoft") {
                true => HostOs::Wsl2,
                false => HostOs::Linux,
            }
        } else {
            HostOs::Other
        }
    }

    /// What works on this OS and what to do there.
    fn diagnosis(self) -> Diagnosis {
        let (ok, what, fix) = match self {
            HostOs::Linux => (true, text::linux(), String::new()),
            HostOs::Wsl2 => (true, text::wsl2(), String::new()),
            HostOs::MacOs => (true, text::macos(), String::new()),
            HostOs::Windows => (false, text::windows(), text::windows_fix()),
            HostOs::Other => (false, text::other(), text::other_fix()),
        };
        Diagnosis::new(ok, false, what, fix)
    }
}

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn linux() -> String {
        tr!("cmd-doctor-linux")
    }
    pub(super) fn wsl2() -> String {
        tr!("cmd-doctor-wsl2")
    }
    pub(super) fn macos() -> String {
        tr!("cmd-doctor-macos")
    }
    pub(super) fn windows() -> String {
        tr!("cmd-doctor-windows")
    }
    pub(super) fn windows_fix() -> String {
        tr!("cmd-doctor-windows-fix")
    }
    pub(super) fn other() -> String {
        tr!("cmd-doctor-other")
    }
    pub(super) fn other_fix() -> String {
        tr!("cmd-doctor-other-fix")
    }
    pub(super) fn published(host: std::net::IpAddr) -> String {
        tr!("cmd-doctor-published", host = host)
    }
    pub(super) fn proxy_gateway() -> String {
        tr!("cmd-doctor-proxy-gateway")
    }
    pub(super) fn proxy_desktop() -> String {
        tr!("cmd-doctor-proxy-desktop")
    }
    pub(super) fn proxy_nowhere() -> String {
        tr!("cmd-doctor-proxy-nowhere")
    }
    pub(super) fn proxy_nowhere_fix() -> String {
        tr!("cmd-doctor-proxy-nowhere-fix")
    }
}

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<i32> {
    let mut lines = vec![HostOs::here().diagnosis()];
    let docker = match docker::connect().await {
        Ok(d) => Some(d),
        Err(e) => {
            lines.push(Diagnosis::new(
                false,
                true,
                tr!("doctor-engine-at", host = docker::host()),
                format!("{e}"),
            ));
            None
        }
    };
    if let Some(docker) = &docker {
        let version = docker.version().await.ok();
        let engine = version
            .as_ref()
            .and_then(|v| v.version.clone())
            .unwrap_or_default();
        let api = version.and_then(|v| v.api_version).unwrap_or_default();
        lines.push(Diagnosis::new(
            true,
            true,
            tr!(
                "doctor-engine",
                engine = engine,
                host = docker::host(),
                api = api
            ),
            "",
        ));
        lines.push(Diagnosis::new(
            true,
            false,
            images::Bootstrap::here().describe(),
            "",
        ));
        lines.push(Diagnosis::new(
            true,
            false,
            text::published(docker::published_host()),
            "",
        ));
        lines.push(match crate::packages::Reach::of(docker, "bridge").await {
            Ok((crate::packages::Reach::Gateway(_), _)) => {
                Diagnosis::new(true, false, text::proxy_gateway(), "")
            }
            Ok((crate::packages::Reach::Desktop, _)) => {
                Diagnosis::new(true, false, text::proxy_desktop(), "")
            }
            Ok((crate::packages::Reach::Nowhere, _)) | Err(_) => Diagnosis::new(
                false,
                false,
                text::proxy_nowhere(),
                text::proxy_nowhere_fix(),
            ),
        });
        // What only the environments can tell (the VM: systemd's flags on
        // this engine, its image, a throwaway boot).
        lines.extend(environment::diagnose(ctx, docker).await?);
    }
    lines.extend(tools());
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).is_ok();
    lines.push(Diagnosis::new(
        port,
        true,
        tr!("doctor-ports"),
        tr!("doctor-ports-fix"),
    ));

    let mut failed = false;
    for line in &lines {
        if line.ok {
            println!("✓ {}", line.what);
        } else {
            failed |= line.essential;
            println!("✗ {}\n    {}", line.what, tr!("doctor-fix", fix = line.fix));
        }
    }
    Ok(if failed { exit::ENVIRONMENT } else { exit::OK })
}

/// The tools deploylab runs on this machine.
fn tools() -> Vec<Diagnosis> {
    let mut lines = Vec::new();
    for (tool, essential, purpose, fix) in [
        (
            "python3",
            true,
            tr!("doctor-python"),
            tr!("doctor-python-fix"),
        ),
        ("ssh", false, tr!("doctor-ssh"), tr!("doctor-ssh-fix")),
        (
            "docker",
            false,
            tr!("doctor-docker"),
            tr!("doctor-docker-fix"),
        ),
        (
            "docker-compose",
            false,
            tr!("doctor-compose"),
            tr!("doctor-compose-fix"),
        ),
    ] {
        let found = images::which(tool);
        lines.push(Diagnosis::new(
            found.is_some(),
            essential,
            format!("{tool}: {purpose}"),
            fix,
        ));
    }
    lines
}
