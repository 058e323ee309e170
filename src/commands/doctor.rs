//! `deploylab doctor`: can this machine run the labs? One line per fact,
//! ✓ or ✗, and for each ✗ the fix.

use std::net::{Ipv4Addr, TcpListener};

use crate::catalog::Catalog;
use crate::docker;
use crate::error::{Result, exit};
use crate::images::{self, VmRecipe};
use crate::state::Home;
use crate::vm::machine::SystemdFlags;

struct Line {
    ok: bool,
    /// Whether a ✗ here stops the labs from working (else it is advice).
    essential: bool,
    what: String,
    fix: String,
}

impl Line {
    fn new(ok: bool, essential: bool, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Line {
            ok,
            essential,
            what: what.into(),
            fix: fix.into(),
        }
    }
}

pub(crate) async fn run(home: &Home, catalog: &Catalog) -> Result<i32> {
    let mut lines = Vec::new();
    let docker = match docker::connect().await {
        Ok(d) => Some(d),
        Err(e) => {
            lines.push(Line::new(
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
        lines.push(Line::new(
            true,
            true,
            format!("Docker engine {engine} at {} (API {api})", docker::host()),
            "",
        ));
        let flags = SystemdFlags::for_engine(docker).await?;
        lines.push(Line::new(
            true,
            true,
            format!(
                "cgroup v{}: the VM runs systemd with {}",
                flags.cgroup_version,
                flags.describe()
            ),
            "",
        ));
        if flags.cgroup_version == "2" {
            lines.push(Line::new(
                true,
                false,
                "cgroup v2 settings are the documented ones, not yet proven by deploylab's CI (which runs cgroup v1)",
                "If the VM does not boot, report `docker info` output with the issue.",
            ));
        }
        if let Some(line) = storage_driver(docker).await {
            lines.push(line);
        }
        let labs = catalog.all()?;
        let image = VmRecipe::for_labs(&labs).image(&home.cache);
        let ready = image.is_ready(docker).await?;
        lines.push(Line::new(
            ready,
            false,
            format!(
                "VM image {} {}",
                image.tag,
                if ready { "built" } else { "not built yet" }
            ),
            "`deploylab images build` builds it now (otherwise the first `start` does).",
        ));
        if ready {
            lines.push(boot_trial(home, docker, &image).await);
        }
    }
    lines.extend(tools());
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).is_ok();
    lines.push(Line::new(
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

/// Advice about the engine's storage driver, where it changes what the
/// course teaches.
async fn storage_driver(docker: &bollard::Docker) -> Option<Line> {
    let driver = docker.info().await.ok()?.driver?;
    (driver == "fuse-overlayfs").then(|| {
        Line::new(
            false,
            false,
            "storage driver fuse-overlayfs: in the VMs, a folder made inside a setgid folder \
             (the course's `chmod g+s /app`) gets neither its group nor the bit; files do",
            "Nothing to do for the labs (the checks judge who can write and read, not the bit); \
             on a real server it works as the course says.",
        )
    })
}

/// The tools deploylab runs on this machine.
fn tools() -> Vec<Line> {
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
        lines.push(Line::new(
            found.is_some(),
            essential,
            format!("{tool}: {purpose}"),
            fix,
        ));
    }
    lines
}

/// Proves the systemd flags on this engine: boots a throwaway VM until sshd
/// answers, then removes it.
async fn boot_trial(home: &Home, docker: &bollard::Docker, image: &images::VmImage) -> Line {
    const TRIAL: &str = "doctor";
    let started = std::time::Instant::now();
    let result = async {
        let public_key = crate::state::ensure_ssh_key(&home.key_path())?;
        let vm = crate::vm::machine::create_and_boot(
            docker,
            &crate::vm::machine::VmSpec {
                lab: TRIAL,
                instance: &home.instance(),
                image,
                public_key: &public_key,
                ssh_port: None,
                http_port: None,
                network: None,
                pip_conf: None,
            },
        )
        .await?;
        docker::remove_container(docker, &vm.container_id).await
    }
    .await;
    match result {
        Ok(()) => Line::new(
            true,
            true,
            format!(
                "a throwaway VM booted systemd and sshd in {:.1} s with these flags",
                started.elapsed().as_secs_f64()
            ),
            "",
        ),
        Err(e) => Line::new(
            false,
            true,
            "a throwaway VM could not boot with these flags",
            e.to_string(),
        ),
    }
}
