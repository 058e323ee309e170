//! The VM environment: Debian 12 containers with systemd and sshd standing
//! in for the course's servers, a git server and a package proxy beside
//! them on the lab's own network. Facts come from the in-VM probe (one run
//! per machine) and from the host's own requests.

pub(crate) mod ansible;
mod carry;
pub(crate) mod checks;
pub(crate) mod cli;
pub(crate) mod disk;
mod django;
mod doctor;
pub(crate) mod facts;
#[cfg(test)]
mod fixtures;
mod hints;
pub(crate) mod graded;
mod http;
mod lab;
mod login;
pub(crate) mod machine;
mod probe;
pub(crate) mod spare;
mod submission;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use serde::{Deserialize, Serialize};

use crate::docker;
use crate::error::{Error, Result};
use crate::gitserver;
use crate::images;
use crate::lab::Lab;
use crate::packages;
use crate::seam::{Ctx, Diagnosis, Environment, GradeLimits, ShellTarget, StartOptions, StatusRow};
use crate::state::{self, Home};
use crate::verdict::Verdict;
use checks::{Check, HostNeed};
use facts::{FactRequest, HostFacts, MachineFacts, VmFacts};
pub(crate) use machine::Machine;

/// Messages of VM labs, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn no_ssh_client() -> String {
        tr!("vm-start-no-ssh-client")
    }
    pub(super) fn gone() -> String {
        tr!("vm-start-gone")
    }
    pub(super) fn no_apps() -> String {
        tr!("vm-start-no-apps")
    }

    /// How to log in: all `start --quiet` prints.
    pub(super) fn ssh_line(key: &str, known_hosts: &str, ssh_port: u16, user: &str) -> String {
        let host = crate::docker::published_host();
        format!("ssh -i {key} -p {ssh_port} -o UserKnownHostsFile={known_hosts} {user}@{host}")
    }

    pub(super) fn ready(
        lab: &str,
        key: &str,
        known_hosts: &str,
        ssh_port: u16,
        http_port: u16,
        user: &str,
        repo: Option<String>,
    ) -> String {
        let ssh = ssh_line(key, known_hosts, ssh_port, user);
        let repo = repo.unwrap_or_default();
        let host = crate::docker::published_host();
        tr!(
            "vm-ready",
            lab = lab,
            // Indented here: Fluent drops the spaces before a placeable
            // that starts a line.
            ssh = format!("  {ssh}"),
            user = user,
            url = format!("http://{host}:{http_port}/"),
            repo = repo,
        )
    }

    pub(super) fn only_the_labs() -> String {
        tr!("vm-start-only-the-labs")
    }
    pub(super) fn asked_django() -> String {
        tr!("vm-start-asked-django")
    }

    pub(super) fn measured_disk() -> String {
        tr!("vm-start-measured-disk")
    }

    pub(super) fn out_of_processes(current: u64, limit: u64) -> String {
        tr!("vm-start-out-of-processes", current = current, limit = limit)
    }

    pub(super) fn over_disk(written: &str, limit: &str) -> String {
        tr!("vm-start-over-disk", written = written, limit = limit)
    }

    pub(super) fn your_repo(source: &str, name: &str) -> String {
        let clone = format!("git clone http://{}/{name}.git", crate::gitserver::GIT_HOST);
        format!("\n  {}", tr!("vm-your-repo", source = source, clone = clone))
    }

    pub(super) fn no_machine_facts(lab: &str, machine: &str) -> String {
        tr!("vm-start-no-machine-facts", lab = lab, machine = machine)
    }

    /// `ssh …` per machine: all `start --quiet` prints for a lab with
    /// several.
    pub(super) fn ssh_lines(machines: &[(&str, String, u16)]) -> String {
        machines
            .iter()
            .map(|(name, ssh, _)| format!("{name}: {ssh}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub(super) fn ready_several(
        lab: &str,
        machines: &[(&str, String, u16)],
        user: &str,
        repo: Option<String>,
        ansible: Option<String>,
    ) -> String {
        let names: Vec<&str> = machines.iter().map(|(name, _, _)| *name).collect();
        let logins: String = machines
            .iter()
            .map(|(name, ssh, _)| format!("\n  {name}: {ssh}"))
            .collect();
        let http: Vec<String> = machines
            .iter()
            .map(|(name, _, port)| format!("{name} http://{}:{port}/", crate::docker::published_host()))
            .collect();
        tr!(
            "vm-ready-several",
            lab = lab,
            count = machines.len(),
            names = names.join(", "),
            logins = logins,
            user = user,
            http = http.join(", "),
            repo = repo.unwrap_or_default(),
            ansible = ansible.unwrap_or_default(),
        )
    }

    /// A note about one machine of a lab with several.
    pub(super) fn on(machine: &str, note: &str) -> String {
        tr!("vm-start-on", machine = machine, note = note)
    }

    /// One machine's port, named where the lab has several.
    pub(super) fn endpoint(machine: Option<&str>, port: u16) -> String {
        match machine {
            Some(name) => format!("{name} {}:{port}", crate::docker::published_host()),
            None => format!("{}:{port}", crate::docker::published_host()),
        }
    }
}

/// The VM environment.
pub(crate) struct Vm;

/// A VM lab that runs: its machines, and the package proxy they install from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Running {
    /// The lab's machines, the first one first (a lab has one today; the
    /// Ansible lab will have a control machine and a server).
    pub(crate) machines: Vec<Machine>,
    pub(crate) image: String,
    /// Seconds since the Unix epoch.
    pub(crate) started_at: u64,
    /// The lab's package proxy process and the port the VMs know it by.
    pub(crate) proxy_pid: Option<u32>,
    pub(crate) proxy_port: Option<u16>,
    /// The repository the student brought (`start --repo`), as given.
    #[serde(default)]
    pub(crate) repo: Option<BroughtRepo>,
    /// Per machine, the graded image it booted from (grading), if not
    /// `image`.
    #[serde(default)]
    pub(crate) bases: BTreeMap<String, String>,
    /// A lab done with Ansible: its folder of Ansible files and runs,
    /// removed with the lab.
    #[serde(default)]
    pub(crate) ansible_dir: Option<std::path::PathBuf>,
    /// The lab's network (a claimed spare's has its own name); None in
    /// older state files: `docker::network_name`.
    #[serde(default)]
    pub(crate) network: Option<String>,
}

/// A repository served besides the lab's own (`start --repo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BroughtRepo {
    pub(crate) source: String,
    /// Its name on the git server: `http://git.deploylab.test/<name>.git`.
    pub(crate) name: String,
}

impl Running {
    /// The machine named (None: the first), or a usage error naming the
    /// lab's machines.
    fn machine(&self, lab: &Lab, name: Option<&str>) -> Result<&Machine> {
        let found = match name {
            None => self.machines.first(),
            Some(name) => self.machines.iter().find(|m| machine_name(lab, m) == name),
        };
        found.ok_or_else(|| Error::UnknownMachine {
            lab: lab.id.clone(),
            machine: name.unwrap_or_default().to_string(),
            known: self
                .machines
                .iter()
                .map(|m| machine_name(lab, m))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// A machine's name in its lab (state files older than names: the lab's).
fn machine_name<'a>(lab: &'a Lab, machine: &'a Machine) -> &'a str {
    match machine.name.is_empty() {
        true => &lab.id,
        false => &machine.name,
    }
}


/// One machine's work restored: packages, files and deletions, then a
/// real boot; its new host key is pinned (the work brought the student's).
async fn restore_machine(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    running: &Running,
    machine: &Machine,
    (described, files): (&submission::VmState, &[u8]),
) -> Result<Vec<String>> {
    let key = state::ensure_ssh_key(&ctx.home.key_path())?;
    ctx.progress.set(&crate::i18n::tr!("progress-restoring"));
    let cache = &ctx.home.cache;
    let base = running.bases.get(machine_name(lab, machine));
    let carrying = base.and_then(|tag| carry::manifest(cache, tag));
    // A carrying image's packages are its parent's.
    let graded = match &carrying {
        Some(made) => Some(&made.parent),
        None => base,
    };
    let base = submission::Base {
        installed: graded.and_then(|tag| graded::created_paths(cache, tag)),
        carried: carrying.map(|made| made.members),
    };
    let restored =
        submission::restore(docker, &machine.container_id, described, files, &key, base).await?;
    ctx.progress.set(&crate::i18n::tr!("progress-booting"));
    let t = std::time::Instant::now();
    // Grading started it held (`grading_start`): this is its first boot.
    machine::release(docker, &lab.id, machine).await?;
    tracing::debug!("restore: first boot in {:?}", t.elapsed());
    // The check's disk figure: the work as unpacked (a walk of the VM's
    // disk takes over a second; the grade's limits walk it beside the
    // checks). The carried part is one the walk cannot see.
    disk::remember(ctx.home, &machine.container_id, restored.bytes);
    let restore = disk::Restore {
        since: restored.since,
        carried: restored.carried_bytes,
    };
    disk::remember_restore(ctx.home, &machine.container_id, &restore);
    ctx.home
        .pin_host_key(machine.ssh_address(), &machine::host_key(docker, machine).await?)?;
    Ok(restored.notes)
}

/// A machine whose container is gone or stopped cannot be checked.
async fn ensure_running(docker: &Docker, lab: &str, machine: &Machine) -> Result<()> {
    match docker.inspect_container(&machine.container_id, None).await {
        Err(e) if docker::is_not_found(&e) => Err(Error::ContainerGone { lab: lab.into() }),
        Err(e) => Err(Error::docker("inspecting the VM")(e)),
        Ok(inspect) if inspect.state.as_ref().and_then(|s| s.running) != Some(true) => {
            Err(Error::LabNotRunning { lab: lab.into() })
        }
        Ok(_) => Ok(()),
    }
}

/// One machine's facts: the probe inside, and the host's own requests, all
/// at once. The probe's requests over the socket and the host's requests
/// through nginx both wake a socket-activated app, whichever comes first;
/// the probe lists processes after its own requests.
async fn gather_machine(
    docker: &Docker,
    home: &Home,
    (name, machine): (&str, &Machine),
    requests: &[FactRequest],
    (banner, login): (bool, Option<login::Login>),
    http: bool,
    public_key: &str,
) -> MachineFacts {
    let banner = async {
        match banner {
            true => Some(machine::ssh_banner(machine.ssh_port, Duration::from_secs(2)).await),
            false => None,
        }
    };
    // The requests go out at once for the course's site; when Django names
    // another host or STATIC_URL, again for those.
    let course_site = http::Site::default();
    let first_http = async {
        match http {
            true => Some(http::gather(machine.http_port, &course_site).await),
            false => None,
        }
    };
    let (probe, ssh_banner, mut http, disk) = tokio::join!(
        probe::gather(docker, &machine.container_id, requests),
        banner,
        first_http,
        disk::for_check(docker, home, &machine.container_id),
    );
    // After the probe: its facts say whether the last login still proves it.
    let ssh_login = match login {
        Some(login) => Some(login::prove(login, probe.as_ref().ok()).await),
        None => None,
    };
    if let (Some(_), Ok(facts)) = (&http, &probe) {
        let site = django::site(facts).unwrap_or_default();
        if site != course_site {
            http = Some(http::gather(machine.http_port, &site).await);
        }
    }
    MachineFacts {
        name: name.to_string(),
        probe: probe.map_err(|e| e.to_string()),
        host: HostFacts {
            ssh_banner,
            ssh_login,
            public_key: public_key.to_string(),
            http,
            disk,
        },
        ansible: None,
    }
}

/// The system's ssh client, set up with deploylab's key and the machine's port.
pub(crate) fn ssh_command(home: &Home, lab: &Lab, machine: &Machine) -> Result<Command> {
    ssh_command_with(home, lab, machine, &[])
}

/// As `ssh_command`, with more `-o` options (before the destination, where
/// ssh reads them).
fn ssh_command_with(
    home: &Home,
    lab: &Lab,
    machine: &Machine,
    options: &[&str],
) -> Result<Command> {
    let Some(ssh) = images::which("ssh") else {
        return Err(Error::MissingTool {
            tool: "ssh",
            purpose: "open an SSH session",
            fix: text::no_ssh_client(),
        });
    };
    let mut cmd = Command::new(ssh);
    cmd.arg("-i")
        .arg(home.key_path())
        .args(["-p", &machine.ssh_port.to_string()])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            home.known_hosts_path().display()
        ))
        .args(["-o", "StrictHostKeyChecking=yes"])
        .args(["-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes"])
        .args(options.iter().flat_map(|o| ["-o", o]))
        .arg(format!("{}@{}", lab.user, crate::docker::published_host()));
    Ok(cmd)
}

/// Already there: make sure it runs; the proxy comes back after a host
/// reboot, on the port the VM's pip.conf names.
async fn resume(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    mut running: Running,
    existing: &[ContainerSummary],
) -> Result<Running> {
    if existing
        .iter()
        .any(|c| c.state != Some(ContainerSummaryStateEnum::RUNNING))
    {
        ctx.progress.set(&crate::i18n::tr!("progress-booting-lab", lab = lab.id));
        for c in existing {
            let _ = docker
                .start_container(c.id.as_deref().unwrap_or_default(), None)
                .await;
        }
    }
    for machine in &running.machines {
        machine::wait_for_ssh(docker, &lab.id, machine).await?;
    }
    if let Some(port) = running.proxy_port
        && !running.proxy_pid.is_some_and(packages::is_running)
    {
        let network = (running.network.clone())
            .unwrap_or_else(|| docker::network_name(&ctx.home.instance(), &lab.id));
        let image = images::VmRecipe::for_labs(&ctx.catalog.all()?).image(&ctx.home.cache);
        let proxy = start_proxy(ctx, docker, &network, &image, &lab.id, Some(port)).await?;
        running.proxy_pid = proxy.map(|p| p.pid);
    }
    if let Some(settings) = &lab.ansible {
        ansible::write(ctx.home, docker, lab, settings, &running).await?;
    }
    Ok(running)
}

/// A new lab: image and network, then the package proxy beside the
/// machines' containers (or a spare claimed), then the git server while
/// they boot.
async fn create(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    options: StartOptions,
    extra: Option<&gitserver::ExtraRepo>,
    spare: Option<spare::Held>,
) -> Result<Running> {
    let (home, instance) = (ctx.home, ctx.home.instance());
    let labs = ctx.catalog.all()?;
    let image = tokio::select! {
        image = images::ensure_vm_image(docker, &home.cache, &labs, ctx.progress) => image?,
        () = crate::interrupt::requested() => return Err(Error::Interrupted),
    };
    let public_key = state::ensure_ssh_key(&home.key_path())?;
    let claimed = match spare {
        Some(held) => spare::claim(ctx, docker, lab, held, extra.is_some()).await,
        None => None,
    };
    let network = match &claimed {
        Some(claimed) => claimed.network.clone(),
        None => docker::create_network(docker, &instance, &lab.id).await?,
    };
    crate::interrupt::check()?;
    // The proxy and the machines' containers start side by side, then the
    // git server while the machines boot: two container starts at once slow
    // each other (~150 ms each, measured), and the boot leaves the engine
    // idle and takes longest, so the repository is there for the student.
    // A graded VM's work is deployed: nothing installs from the proxy.
    let proxy = async {
        match options.held {
            true => Ok(None),
            false => start_proxy(ctx, docker, &network, &image, &lab.id, None).await,
        }
    };
    let git_server = async {
        let came = claimed.as_ref().is_some_and(|c| c.git);
        if came || options.no_git_server || (lab.git_repos.is_empty() && extra.is_none()) {
            return Ok::<(), Error>(());
        }
        let repos = gitserver::prepare(ctx.catalog, lab, extra, &home.cache)?;
        crate::interrupt::check()?;
        let name = gitserver::container_name(&lab.id, &instance);
        gitserver::start(docker, (&lab.id, &instance, &name), &image.tag, &network, &repos)
            .await?;
        Ok(())
    };
    ctx.progress.set(&crate::i18n::tr!("progress-booting-lab", lab = lab.id));
    // Each machine boots from the lab's image, or the graded image made
    // for its work.
    let based: BTreeMap<&String, images::VmImage> = options
        .bases
        .iter()
        .map(|(machine, tag)| {
            let tag = tag.clone();
            (machine, images::VmImage { tag, ..image.clone() })
        })
        .collect();
    let names = lab.machines();
    let several = lab.has_several_machines();
    let specs: Vec<machine::VmSpec<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| machine::VmSpec {
            lab: &lab.id,
            machine: several.then_some(name.as_str()),
            instance: &instance,
            image: based.get(name).unwrap_or(&image),
            public_key: &public_key,
            // The ports asked for are the first machine's.
            ssh_port: options.ssh_port.filter(|_| i == 0),
            http_port: options.http_port.filter(|_| i == 0),
            network: Some(&network),
            spare: false,
            held: options.held,
        })
        .collect();
    // A spare booted ahead, if there is one this start may take; else the
    // machines' containers start now.
    let started = async {
        match claimed {
            Some(_) => Ok(Vec::new()),
            None => {
                let starts = specs.iter().map(|spec| machine::create_and_start(docker, spec));
                futures_util::future::try_join_all(starts).await
            }
        }
    };
    // A lab done with Ansible: its control image, made on first use.
    let control = async {
        match lab.ansible {
            Some(_) => ansible::control::ensure(docker, &image, ctx.progress).await.map(Some),
            None => Ok(None),
        }
    };
    let (proxy, started, control) = tokio::join!(proxy, started, control);
    let proxy = proxy?;
    // Stopped again if this start fails or is interrupted from here on.
    let mut proxy_guard = packages::Guard(proxy.as_ref().map(|p| p.pid));
    let started = started?;
    control?;
    let pip_conf = proxy.as_ref().map(|p| packages::pip_conf(&p.address));
    let machines = async {
        match &claimed {
            Some(claimed) => {
                if let Some(conf) = &pip_conf {
                    machine::set_pip_conf(docker, &claimed.machine, conf).await?;
                }
                Ok(vec![(claimed.machine.clone(), Some(claimed.host_key.clone()))])
            }
            None => {
                let boots = (started.into_iter().zip(&specs))
                    .map(|(vm, spec)| boot_new(docker, vm, spec, pip_conf.as_deref()));
                futures_util::future::try_join_all(boots).await
            }
        }
    };
    let (git_server, machines) = tokio::join!(git_server, machines);
    git_server?;
    let mut vms = Vec::new();
    for (vm, key) in machines? {
        if let Some(key) = key {
            home.pin_host_key(vm.ssh_address(), &key)?;
        }
        // A new VM has written next to nothing (keys, logs): no measurement
        // needed before the first check.
        disk::remember(home, &vm.container_id, 0);
        vms.push(vm);
    }
    let machines = vms;
    proxy_guard.0 = None;
    let mut running = Running {
        machines,
        image: image.tag,
        started_at: state::now(),
        proxy_pid: proxy.as_ref().map(|p| p.pid),
        proxy_port: proxy.as_ref().map(|p| p.address.port),
        repo: extra.map(|e| BroughtRepo {
            source: e.source.clone(),
            name: e.name.clone(),
        }),
        bases: options.bases,
        ansible_dir: None,
        network: Some(network.clone()),
    };
    if let Some(settings) = &lab.ansible {
        // A new lab has seen no run yet.
        let files = ansible::Files::of(home, &lab.id);
        let _ = std::fs::remove_dir_all(&files.dir);
        ansible::write(home, docker, lab, settings, &running).await?;
        running.ansible_dir = Some(files.dir);
    }
    Ok(running)
}

/// A new machine booted, its pip pointed at the proxy meanwhile (nothing
/// reads it before the student does), then its host key read (a held VM's
/// is made by its first boot and pinned by the restore).
async fn boot_new(
    docker: &Docker,
    vm: Machine,
    spec: &machine::VmSpec<'_>,
    pip_conf: Option<&str>,
) -> Result<(Machine, Option<String>)> {
    let pip = async {
        match pip_conf {
            Some(conf) => machine::set_pip_conf(docker, &vm, conf).await,
            None => Ok(()),
        }
    };
    tokio::try_join!(machine::boot(docker, spec, &vm), pip)?;
    let key = match spec.held {
        true => None,
        false => Some(machine::host_key(docker, &vm).await?),
    };
    Ok((vm, key))
}

/// Starts the lab's package proxy on the host's address in the lab network.
async fn start_proxy(
    ctx: &Ctx<'_>,
    docker: &Docker,
    network: &str,
    image: &images::VmImage,
    lab: &str,
    port: Option<u16>,
) -> Result<Option<packages::Running>> {
    let on = packages::OnNetwork {
        network,
        shared: false,
        lab,
        port,
        wheels: &image.wheels_dir,
    };
    packages::start_on(docker, ctx.home, &on).await
}
