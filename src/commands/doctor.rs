//! `deploylab doctor`: can this machine run the labs? One line per fact,
//! ✓ or ✗, and for each ✗ the fix.

use std::net::{Ipv4Addr, TcpListener};

use crate::docker;
use crate::environment;
use crate::error::{Result, exit};
use crate::images;
use crate::seam::{Ctx, Diagnosis};

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<i32> {
    let mut lines = Vec::new();
    let docker = match docker::connect().await {
        Ok(d) => Some(d),
        Err(e) => {
            lines.push(Diagnosis::new(
                false,
                true,
                format!("Docker engine at {}", docker::host()),
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
            format!("Docker engine {engine} at {} (API {api})", docker::host()),
            "",
        ));
        // What only the environments can tell (the VM: systemd's flags on
        // this engine, its image, a throwaway boot).
        lines.extend(environment::diagnose(ctx, docker).await?);
    }
    lines.extend(tools());
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).is_ok();
    lines.push(Diagnosis::new(
        port,
        true,
        "free ports on 127.0.0.1 for SSH and HTTP",
        "no port could be bound on 127.0.0.1; check the loopback interface",
    ));

    let mut failed = false;
    for line in &lines {
        if line.ok {
            println!("✓ {}", line.what);
        } else {
            failed |= line.essential;
            println!("✗ {}\n    fix: {}", line.what, line.fix);
        }
    }
    Ok(if failed { exit::ENVIRONMENT } else { exit::OK })
}

/// The tools deploylab runs on this machine.
fn tools() -> Vec<Diagnosis> {
    let mut lines = Vec::new();
    for (tool, essential, purpose, fix) in [
        (
            "mmdebstrap",
            true,
            "builds the VM image from Debian packages",
            "sudo apt-get install mmdebstrap",
        ),
        (
            "python3",
            true,
            "downloads the Python wheels the VM uses offline (python3 -m pip)",
            "install Python 3 with pip",
        ),
        (
            "ssh",
            false,
            "the client for `deploylab ssh`",
            "install an OpenSSH client, or use `deploylab shell`",
        ),
        (
            "docker",
            false,
            "Docker's client, for the container lab (students build and run with it)",
            "sudo apt-get install docker.io (the client), or Docker's own packages",
        ),
        (
            "docker-compose",
            false,
            "Compose as the course spells it, for the container lab (`docker compose` works too)",
            "sudo apt-get install docker-compose",
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
