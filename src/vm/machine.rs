//! The VM stand-in: a Debian 12 container with systemd as PID 1, sshd, a
//! `student` user with sudo, and the offline package sources mounted in.
//! This module creates, boots, restarts and removes it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, HostConfigCgroupnsModeEnum, NetworkingConfig, PortBinding,
    SystemInfoCgroupVersionEnum,
};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RestartContainerOptionsBuilder};
use tokio::io::AsyncReadExt;
use serde::{Deserialize, Serialize};

use crate::docker::{self, LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE};
use crate::error::{Error, Result};
use crate::images::{APT_MOUNT, VM_INIT, VmImage, WHEELS_MOUNT};
/// One machine of a lab: a container reachable over SSH (and its port 80)
/// on ports of 127.0.0.1.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Machine {
    /// Its name in the lab (`machines:`; the lab's id for a lab with one),
    /// its hostname, and what the lab's other machines reach it by. Empty
    /// in state files older than names: the lab's id.
    #[serde(default)]
    pub(crate) name: String,
    pub(crate) container_id: String,
    pub(crate) container_name: String,
    pub(crate) ssh_port: u16,
    pub(crate) http_port: u16,
}

impl Machine {
    /// Where its sshd is reached (`docker::published_host`).
    pub(crate) fn ssh_address(&self) -> SocketAddr {
        SocketAddr::new(crate::docker::published_host(), self.ssh_port)
    }
}

/// What the probe needs beyond Docker's default capabilities: reading
/// `/proc/<pid>/fd` of processes of other users (a gunicorn the student
/// started by hand, nginx's workers) takes CAP_SYS_PTRACE, even as root.
/// The engine refuses a privileged `exec` in an unprivileged container, so
/// the container has it; the student, root there anyway, gains nothing
/// outside the container's own PID namespace.
const PROBE_CAPS: &[&str] = &["SYS_PTRACE"];

/// How long a VM may take from `docker start` to an SSH banner.
pub(crate) const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

/// The container settings systemd needs to run as PID 1, for the engine's
/// cgroup version. No `--privileged`; one added capability (see `PROBE_CAPS`).
pub(crate) struct SystemdFlags {
    pub(crate) cgroup_version: String,
    pub(crate) cgroupns: HostConfigCgroupnsModeEnum,
    pub(crate) cgroup_bind: String,
}

/// The engine's flags, asked once per run (the engine's info is one of its
/// slower answers, and a start asks before its VMs' creation).
static FLAGS: tokio::sync::OnceCell<SystemdFlags> = tokio::sync::OnceCell::const_new();

impl SystemdFlags {
    /// The flags for this run's engine; `start` asks beside its other work,
    /// so the VM's creation finds them ready.
    pub(crate) async fn for_engine(docker: &Docker) -> Result<&'static SystemdFlags> {
        FLAGS.get_or_try_init(|| Self::ask(docker)).await
    }

    async fn ask(docker: &Docker) -> Result<SystemdFlags> {
        let info = docker
            .info()
            .await
            .map_err(Error::docker("reading engine info"))?;
        Ok(match info.cgroup_version {
            // cgroup v2: systemd must create its own sub-cgroups, and Docker
            // only mounts the namespaced cgroupfs read-only (moby#46763), so
            // the hierarchy is bound read-write in the host namespace.
            Some(SystemInfoCgroupVersionEnum::_2) => SystemdFlags {
                cgroup_version: "2".into(),
                cgroupns: HostConfigCgroupnsModeEnum::HOST,
                cgroup_bind: "/sys/fs/cgroup:/sys/fs/cgroup:rw".into(),
            },
            // cgroup v1: the host's hierarchies read-only are enough; systemd
            // finds its named hierarchy writable below them.
            _ => SystemdFlags {
                cgroup_version: "1".into(),
                cgroupns: HostConfigCgroupnsModeEnum::HOST,
                cgroup_bind: "/sys/fs/cgroup:/sys/fs/cgroup:ro".into(),
            },
        })
    }

    /// One line for `doctor`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "tmpfs on /run and /run/lock, -v {}, cgroupns={}, stop signal SIGRTMIN+3; not privileged, CAP_SYS_PTRACE added",
            self.cgroup_bind,
            match self.cgroupns {
                HostConfigCgroupnsModeEnum::PRIVATE => "private",
                _ => "host",
            }
        )
    }
}

/// What a caller needs to create a VM.
pub(crate) struct VmSpec<'a> {
    pub(crate) lab: &'a str,
    /// The machine's name in a lab with several (its hostname and alias on
    /// the lab's network); None: the lab's one machine, named after it.
    pub(crate) machine: Option<&'a str>,
    pub(crate) instance: &'a str,
    pub(crate) image: &'a VmImage,
    pub(crate) public_key: &'a str,
    pub(crate) ssh_port: Option<u16>,
    pub(crate) http_port: Option<u16>,
    /// The lab's own network, if it has one (default: Docker's bridge).
    pub(crate) network: Option<&'a str>,
    /// Booted ahead as a spare (`spare.rs`): named as one until claimed.
    pub(crate) spare: bool,
    /// Held before its first boot (grading): its PID 1 waits until
    /// `release`, so a restore writes the work into a VM that has not
    /// booted yet and the boot that follows is the only one.
    pub(crate) held: bool,
}

/// `deploylab-<lab>-<instance>`, or `deploylab-<lab>-<machine>-<instance>`
/// for a machine of a lab with several.
pub(crate) fn container_name(lab: &str, machine: Option<&str>, instance: &str) -> String {
    match machine {
        Some(machine) => format!("deploylab-{lab}-{machine}-{}", docker::short(instance)),
        None => format!("deploylab-{lab}-{}", docker::short(instance)),
    }
}

/// Fails early, with a clear message, when a port the user asked for is in use.
pub(crate) fn ensure_port_free(port: u16) -> Result<()> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .map(drop)
        .map_err(|_| Error::PortTaken { port })
}

/// A port on 127.0.0.1 free right now. Chosen here rather than by Docker so
/// the port stays the same across `restart`.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .map_err(Error::io("finding a free port on 127.0.0.1"))?;
    Ok(listener
        .local_addr()
        .map_err(Error::io("finding a free port"))?
        .port())
}

/// Creates the container, authorizes deploylab's key, boots it and waits
/// until sshd answers. On any failure the container is removed.
pub(crate) async fn create_and_boot(docker: &Docker, spec: &VmSpec<'_>) -> Result<Machine> {
    let vm = create_and_start(docker, spec).await?;
    boot(docker, spec, &vm).await?;
    Ok(vm)
}

/// Creates the container and starts it (its boot has begun; a held VM's
/// shell waits). On any failure the container is removed.
pub(crate) async fn create_and_start(docker: &Docker, spec: &VmSpec<'_>) -> Result<Machine> {
    let flags = SystemdFlags::for_engine(docker).await?;
    for port in [spec.ssh_port, spec.http_port].into_iter().flatten() {
        ensure_port_free(port)?;
    }
    // A randomly chosen port can be taken between our check and Docker's
    // bind; then try another. A port the user chose is never swapped.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let ssh_port = spec.ssh_port.map_or_else(free_port, Ok)?;
        let http_port = spec.http_port.map_or_else(free_port, Ok)?;
        match try_create(docker, spec, flags, ssh_port, http_port).await {
            Err(Error::Docker { source, .. })
                if is_port_clash(&source) && spec.ssh_port.is_none() && attempts < 4 =>
            {
                continue;
            }
            Err(Error::Docker { source, .. }) if is_port_clash(&source) => {
                let port = spec.ssh_port.or(spec.http_port).unwrap_or(ssh_port);
                return Err(Error::PortTaken { port });
            }
            other => return other,
        }
    }
}

/// The engine says a published port is taken only in its message.
fn is_port_clash(error: &bollard::errors::Error) -> bool {
    let detail = crate::error::describe_docker(error);
    detail.contains("port is already allocated") || detail.contains("address already in use")
}

async fn try_create(
    docker: &Docker,
    spec: &VmSpec<'_>,
    flags: &'static SystemdFlags,
    ssh_port: u16,
    http_port: u16,
) -> Result<Machine> {
    let name = container_name(spec.lab, spec.machine, spec.instance);
    let name = match spec.spare {
        true => super::spare::spare_name(&name),
        false => name,
    };
    let hostname = spec.machine.unwrap_or(spec.lab);
    // The lab's other machines reach it by its name (an Ansible inventory).
    let networking_config = spec.network.map(|network| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            network.to_string(),
            EndpointSettings {
                aliases: Some(vec![hostname.to_string()]),
                ..Default::default()
            },
        )])),
    });
    let published = |port: u16| {
        Some(vec![PortBinding {
            host_ip: Some(crate::docker::published_host().to_string()),
            host_port: Some(port.to_string()),
        }])
    };
    let cache = spec.image.apt_dir.parent().unwrap_or(&spec.image.apt_dir);
    let probe = super::probe::host_copy(cache)?;
    let host_config = HostConfig {
        cap_add: Some(PROBE_CAPS.iter().map(|c| (*c).to_string()).collect()),
        port_bindings: Some(HashMap::from([
            ("22/tcp".to_string(), published(ssh_port)),
            ("80/tcp".to_string(), published(http_port)),
        ])),
        tmpfs: Some(HashMap::from([
            (
                "/run".to_string(),
                "rw,nosuid,nodev,exec,mode=755".to_string(),
            ),
            (
                "/run/lock".to_string(),
                "rw,nosuid,nodev,noexec".to_string(),
            ),
        ])),
        binds: Some(vec![
            flags.cgroup_bind.clone(),
            format!("{}:{APT_MOUNT}:ro", spec.image.apt_dir.display()),
            format!("{}:{}:ro", probe.display(), super::probe::IN_VM),
            format!("{}:{WHEELS_MOUNT}:ro", spec.image.wheels_dir.display()),
        ]),
        cgroupns_mode: Some(flags.cgroupns),
        network_mode: spec.network.map(str::to_string),
        // A VM-sized budget; enough for the course, bounded for a laptop.
        ..crate::limits::VM.host_config()
    };
    let config = ContainerCreateBody {
        image: Some(spec.image.tag.clone()),
        cmd: spec.held.then(held_init),
        hostname: Some(hostname.to_string()),
        networking_config,
        labels: Some(HashMap::from([
            (LABEL_LAB.to_string(), spec.lab.to_string()),
            (LABEL_INSTANCE.to_string(), spec.instance.to_string()),
            (LABEL_ROLE.to_string(), "vm".to_string()),
        ])),
        // systemd shuts down cleanly on SIGRTMIN+3, not on SIGTERM.
        stop_signal: Some("SIGRTMIN+3".into()),
        stop_timeout: Some(10),
        tty: Some(true),
        exposed_ports: Some(vec!["22/tcp".to_string(), "80/tcp".to_string()]),
        host_config: Some(host_config),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    crate::interrupt::check()?;
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(Error::docker("creating the VM container"))?;
    let vm = Machine {
        name: hostname.to_string(),
        container_id: created.id,
        container_name: name,
        ssh_port,
        http_port,
    };
    let started = async {
        hold_for_tests().await;
        crate::interrupt::check()?;
        docker
            .start_container(&vm.container_id, None)
            .await
            .map_err(Error::docker("starting the VM container"))
    };
    match started.await {
        Ok(()) => Ok(vm),
        Err(e) => {
            let _ = docker::remove_container(docker, &vm.container_id).await;
            Err(e)
        }
    }
}

/// Authorizes deploylab's key in a started VM and waits until sshd answers
/// (a held VM: the key only; `release` boots it). On any failure the
/// container is removed.
pub(crate) async fn boot(docker: &Docker, spec: &VmSpec<'_>, vm: &Machine) -> Result<()> {
    let keys = format!("{}\n", spec.public_key.trim());
    let files = [docker::FileEntry {
        path: "/home/student/.ssh/authorized_keys",
        contents: keys.as_bytes(),
        mode: 0o600,
        uid: 1000,
        gid: 1000,
    }];
    let authorized = docker::put_files(docker, &vm.container_id, &files);
    // The key goes in while it boots: no one logs in before `start` has
    // printed how.
    let booted = match spec.held {
        true => authorized.await,
        false => tokio::try_join!(authorized, wait_for_ssh(docker, spec.lab, vm)).map(drop),
    };
    if booted.is_err() {
        let _ = docker::remove_container(docker, &vm.container_id).await;
    }
    booted
}

/// Points the VM's pip at the lab's package proxy (an /etc/pip.conf
/// replacing the image's). Written once the VM has booted, so the proxy
/// can start beside the boot; nothing reads it before the student does.
pub(crate) async fn set_pip_conf(docker: &Docker, vm: &Machine, conf: &str) -> Result<()> {
    let file = docker::FileEntry {
        path: "/etc/pip.conf",
        contents: conf.as_bytes(),
        mode: 0o644,
        uid: 0,
        gid: 0,
    };
    docker::put_files(docker, &vm.container_id, &[file]).await
}

const HOST_KEY: &str = "/etc/ssh/ssh_host_ed25519_key.pub";

/// The VM's own SSH host key (made on its first boot), read right after that
/// boot, before anyone could have replaced it.
pub(crate) async fn host_key(docker: &Docker, vm: &Machine) -> Result<String> {
    // Copied out: one engine round trip where a command takes three.
    let copied = docker::read_file(docker, &vm.container_id, HOST_KEY).await;
    if let Ok(Some(bytes)) = copied
        && let [kind, body] = String::from_utf8_lossy(&bytes).split_whitespace().take(2).collect::<Vec<_>>()[..]
    {
        return Ok(format!("{kind} {body}"));
    }
    // Not a plain file (a student's work may bring a link): as root reads it.
    let out = docker::exec(
        docker,
        &vm.container_id,
        vec!["cat".into(), HOST_KEY.into()],
        Some("root"),
    )
    .await?;
    // "ssh-ed25519 AAAA… root@host": the comment is not part of the key.
    let key: Vec<&str> = out.stdout.split_whitespace().take(2).collect();
    match (out.exit_code, key.as_slice()) {
        (0, [kind, body]) => Ok(format!("{kind} {body}")),
        _ => Err(Error::BootTimeout {
            lab: vm.container_name.clone(),
            seconds: 0,
            detail: "the VM has no SSH host key".into(),
        }),
    }
}

/// Where a held VM's PID 1 waits (a fifo on its /run, gone once it boots).
const HOLD: &str = "/run/deploylab-hold";

mod text {
    pub(super) const NOT_HELD: &str = "the VM was not waiting for its first boot";
}

/// PID 1 of a held VM: a shell that waits on its fifo, then becomes the
/// image's init (same PID, same environment: systemd boots as it would
/// have from the start).
fn held_init() -> Vec<String> {
    let script = format!("mkfifo -m 600 {HOLD}; read -r _ < {HOLD}; rm -f {HOLD}; exec {VM_INIT}");
    ["/bin/sh", "-c", &script].map(String::from).to_vec()
}

/// Boots a VM held before its first boot (`VmSpec::held`) and waits for
/// it as a reboot does. Its shell made the fifo when the container
/// started, long before a restore is over; the wait for it is bounded.
pub(crate) async fn release(docker: &Docker, lab: &str, vm: &Machine) -> Result<()> {
    let script = format!(
        "for _ in $(seq 500); do [ -p {HOLD} ] && {{ echo > {HOLD}; exit 0; }}; sleep 0.01; done; exit 1"
    );
    let cmd = ["sh", "-c", &script].map(String::from).to_vec();
    let out = docker::exec(docker, &vm.container_id, cmd, Some("root")).await?;
    if out.exit_code != 0 {
        return Err(Error::BootTimeout {
            lab: lab.into(),
            seconds: 5,
            detail: text::NOT_HELD.into(),
        });
    }
    wait_for_ssh(docker, lab, vm).await?;
    wait_for_boot(docker, vm).await;
    Ok(())
}

/// Reboots the VM the way a real reboot goes: systemd shuts down, the
/// container starts again with the same disk and ports.
pub(crate) async fn restart(docker: &Docker, lab: &str, vm: &Machine) -> Result<()> {
    let options = RestartContainerOptionsBuilder::default().t(10).build();
    docker
        .restart_container(&vm.container_id, Some(options))
        .await
        .map_err(|e| match docker::is_not_found(&e) {
            true => Error::ContainerGone { lab: lab.into() },
            false => Error::docker("restarting the VM")(e),
        })?;
    wait_for_ssh(docker, lab, vm).await?;
    wait_for_boot(docker, vm).await;
    Ok(())
}

/// Waits until systemd says the boot is over (`running`, or `degraded`
/// with a unit failed): sshd answers before nginx or the app's socket may
/// listen, and a check then would judge a VM still booting. A signal, not
/// a sleep; bounded, and it only delays (it is not a check: what the
/// student did to `systemctl` cannot make anything pass).
async fn wait_for_boot(docker: &Docker, vm: &Machine) {
    let cmd = ["systemctl", "is-system-running", "--wait"].map(String::from);
    let wait = docker::exec(docker, &vm.container_id, cmd.to_vec(), Some("root"));
    let _ = tokio::time::timeout(BOOT_TIMEOUT, wait).await;
}

/// Waits for the real readiness signal: sshd's banner through the published
/// port (Docker's proxy accepts connections before sshd listens, so a bare
/// connect proves nothing). Gives up if the container exits.
pub(crate) async fn wait_for_ssh(docker: &Docker, lab: &str, vm: &Machine) -> Result<()> {
    let started = Instant::now();
    let mut last_state_check = Instant::now();
    loop {
        crate::interrupt::check()?;
        if ssh_banner(vm.ssh_port, Duration::from_millis(500))
            .await
            .is_ok_and(|b| b.starts_with("SSH-"))
        {
            return Ok(());
        }
        if last_state_check.elapsed() > Duration::from_millis(500) {
            last_state_check = Instant::now();
            let inspect = docker
                .inspect_container(&vm.container_id, None)
                .await
                .map_err(|e| match docker::is_not_found(&e) {
                    true => Error::ContainerGone { lab: lab.into() },
                    false => Error::docker("inspecting the VM")(e),
                })?;
            let state = inspect.state.unwrap_or_default();
            if state.running != Some(true) {
                let _ = docker::remove_container(docker, &vm.container_id).await;
                return Err(Error::BootTimeout {
                    lab: lab.into(),
                    seconds: started.elapsed().as_secs(),
                    detail: format!(
                        "the container stopped (exit code {}); systemd could not run as PID 1 here",
                        state.exit_code.unwrap_or(-1)
                    ),
                });
            }
        }
        if started.elapsed() > BOOT_TIMEOUT {
            let _ = docker::remove_container(docker, &vm.container_id).await;
            return Err(Error::BootTimeout {
                lab: lab.into(),
                seconds: BOOT_TIMEOUT.as_secs(),
                detail: "sshd never answered".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What a login for a check adds to ssh's options: no prompt, a deadline.
pub(crate) const LOGIN_OPTIONS: &[&str] = &["BatchMode=yes", "ConnectTimeout=5"];

/// Logs in for real with `ssh` (made by `vm::ssh_command`: deploylab's key,
/// the pinned host key, `LOGIN_OPTIONS`) and runs `true`: the user logged in as, or the last
/// thing ssh said.
pub(crate) async fn ssh_login(
    ssh: std::process::Command,
    user: &str,
) -> std::result::Result<String, String> {
    let mut ssh = tokio::process::Command::from(ssh);
    ssh.arg("true")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(Duration::from_secs(15), ssh.output()).await {
        Ok(Ok(out)) if out.status.success() => Ok(user.to_string()),
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("ssh failed")
                .trim()
                .to_string())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no login within 15 s".to_string()),
    }
}

/// The first line sshd sends on its published `port`.
pub(crate) async fn ssh_banner(
    port: u16,
    timeout: Duration,
) -> std::result::Result<String, String> {
    let at = SocketAddr::new(crate::docker::published_host(), port);
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(at)
            .await
            .map_err(|e| format!("cannot connect to {at}: {e}"))?;
        let mut buf = vec![0u8; 256];
        let mut len = 0;
        while len < buf.len() {
            let n = stream
                .read(&mut buf[len..])
                .await
                .map_err(|e| format!("connection to {at} failed: {e}"))?;
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].contains(&b'\n') {
                break;
            }
        }
        let text = String::from_utf8_lossy(&buf[..len]);
        match text.lines().next() {
            Some(line) if !line.is_empty() => Ok(line.trim().to_string()),
            _ => Err(format!("{at} closed the connection without an SSH banner")),
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(format!("no answer from {at} within {timeout:?}"))
        })
}

/// Test seam: with `DEPLOYLAB_TEST_HOLD_BOOT=<file>`, `start` waits after
/// creating the container until that file exists, so a test can interrupt
/// it at a known point instead of racing it.
async fn hold_for_tests() {
    let Some(file) = std::env::var_os("DEPLOYLAB_TEST_HOLD_BOOT") else {
        return;
    };
    let file = std::path::PathBuf::from(file);
    while !file.exists() && crate::interrupt::check().is_ok() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
