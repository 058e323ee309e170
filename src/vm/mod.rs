//! The VM environment: Debian 12 containers with systemd and sshd standing
//! in for the course's servers, a git server and a package proxy beside
//! them on the lab's own network. Facts come from the in-VM probe (one run
//! per machine) and from the host's own requests.

pub(crate) mod checks;
pub(crate) mod disk;
mod django;
mod doctor;
pub(crate) mod facts;
#[cfg(test)]
mod fixtures;
pub(crate) mod graded;
mod http;
mod login;
pub(crate) mod machine;
mod probe;
mod submission;

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
    pub(super) const NO_SSH_CLIENT: &str =
        "no `ssh` client on PATH; `deploylab shell` opens a shell without one.";
    pub(super) const GONE: &str = "gone (start it again)";
    pub(super) const NO_APPS: &str = "a VM lab judges its one VM; `--app` names a heroku app";

    /// How to log in: all `start --quiet` prints.
    pub(super) fn ssh_line(key: &str, known_hosts: &str, ssh_port: u16, user: &str) -> String {
        format!("ssh -i {key} -p {ssh_port} -o UserKnownHostsFile={known_hosts} {user}@127.0.0.1")
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
        format!(
            "Lab {lab} is ready: a Debian 12 \"VM\" with hostname {lab}.\n\
             \n  {ssh}\n\
             \n  (or: deploylab ssh)   user: {user}, sudo without password (password: {user})\
             \n  the VM's port 80 is at http://127.0.0.1:{http_port}/{repo}\n\
             \nNext: work through the course, then `deploylab check`. `deploylab stop` removes the VM."
        )
    }

    pub(super) const ONLY_THE_LABS: &str = "only the lab's own repositories";
    pub(super) const ASKED_DJANGO: &str = "slower this time: something changed since the last \
         check (or the VM rebooted), so Django was asked afresh and the app may have been \
         started through its socket; the next check reuses the answer";

    pub(super) const MEASURED_DISK: &str =
        "the engine measured how much the VM has written to disk, as it does every 10 minutes";

    pub(super) fn out_of_processes(current: u64, limit: u64) -> String {
        format!("the VM ran {current} processes of the {limit} it may (a fork bomb?)")
    }

    pub(super) fn over_disk(written: &str, limit: &str) -> String {
        format!("the VM wrote {written} to disk, over the {limit} a graded VM may write")
    }

    pub(super) fn your_repo(source: &str, name: &str) -> String {
        format!(
            "\n  your repository {source} is served too: \
             git clone http://{}/{name}.git",
            crate::gitserver::GIT_HOST
        )
    }

    pub(super) fn no_machine_facts(lab: &str) -> String {
        format!("lab '{lab}' has no machine to check")
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
    /// The graded image the machines booted from (grading), if not `image`.
    #[serde(default)]
    pub(crate) base: Option<String>,
}

/// A repository served besides the lab's own (`start --repo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BroughtRepo {
    pub(crate) source: String,
    /// Its name on the git server: `http://git.deploylab.test/<name>.git`.
    pub(crate) name: String,
}

impl Running {
    fn primary(&self, lab: &Lab) -> Result<&Machine> {
        self.machines.first().ok_or_else(|| Error::Capture {
            why: text::no_machine_facts(&lab.id),
        })
    }
}

impl Environment for Vm {
    type Check = Check;
    type Running = Running;
    type Facts = VmFacts;
    type Work = submission::VmState;

    /// `start` for a VM lab: the running one if it is there (started again
    /// after a host reboot), else a new one: image, network, package proxy,
    /// git server and machine.
    async fn start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Result<Running> {
        let instance = ctx.home.instance();
        // Before anything starts: a bad --repo is a clear error, not a
        // half-made lab.
        let extra = options
            .repo
            .as_deref()
            .map(gitserver::ExtraRepo::resolve)
            .transpose()?;
        let existing = docker::labelled_containers(docker, &instance, Some(&lab.id)).await?;
        if !options.fresh
            && let Some(running) = previous
            && let Some(machine) = running.machines.first()
            && existing
                .iter()
                .any(|c| c.id.as_deref() == Some(machine.container_id.as_str()))
        {
            if let Some(wanted) = &extra
                && running.repo.as_ref().map(|r| &r.source) != Some(&wanted.source)
            {
                return Err(Error::RepoNeedsFresh {
                    lab: lab.id.clone(),
                    serving: running
                        .repo
                        .as_ref()
                        .map_or_else(|| text::ONLY_THE_LABS.to_string(), |r| r.source.clone()),
                    wanted: wanted.source.clone(),
                });
            }
            return resume(ctx, docker, lab, running, &existing).await;
        }
        // --fresh, or leftovers the state file does not know (a crash, a deleted
        // state file): replace them, as their ports are unknown.
        docker::remove_lab_resources(docker, &instance, &lab.id).await?;
        create(ctx, docker, lab, options, extra.as_ref()).await
    }

    fn ready_text(ctx: &Ctx<'_>, lab: &Lab, running: &Running) -> String {
        let (ssh, http) = running
            .machines
            .first()
            .map_or((0, 0), |m| (m.ssh_port, m.http_port));
        let key = ctx.home.key_path().display().to_string();
        let known_hosts = ctx.home.known_hosts_path().display().to_string();
        if ctx.progress.is_quiet() {
            return text::ssh_line(&key, &known_hosts, ssh, &lab.user);
        }
        let repo = running.repo.as_ref();
        let repo = repo.map(|r| text::your_repo(&r.source, &r.name));
        text::ready(&lab.id, &key, &known_hosts, ssh, http, &lab.user, repo)
    }

    async fn status(
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
        containers: &[ContainerSummary],
    ) -> StatusRow {
        let machine = running.machines.first();
        let state = machine
            .and_then(|m| {
                containers
                    .iter()
                    .find(|c| c.id.as_deref() == Some(m.container_id.as_str()))
            })
            .and_then(|c| c.state);
        // What the VM has written (its disk is not bounded, so it is watched).
        let written = match (machine, state) {
            (Some(m), Some(ContainerSummaryStateEnum::RUNNING)) => {
                disk::for_check(docker, ctx.home, &m.container_id)
                    .await
                    .map(|d| d.bytes)
            }
            _ => None,
        };
        StatusRow {
            state: state.map_or_else(|| text::GONE.into(), |s| s.to_string()),
            endpoints: vec![
                (
                    "ssh",
                    machine.map_or_else(String::new, |m| format!("127.0.0.1:{}", m.ssh_port)),
                ),
                (
                    "http",
                    machine.map_or_else(String::new, |m| format!("127.0.0.1:{}", m.http_port)),
                ),
            ],
            written,
            place: machine.map_or_else(String::new, |m| m.container_name.clone()),
            proxy: packages::status(running.proxy_pid, running.proxy_port),
        }
    }

    fn started_at(running: &Running) -> u64 {
        running.started_at
    }

    async fn current_images(_: &Docker, vm: &images::VmImage) -> Vec<String> {
        vec![vm.tag.clone()]
    }

    async fn diagnose(ctx: &Ctx<'_>, docker: &Docker) -> Result<Vec<Diagnosis>> {
        doctor::diagnose(ctx, docker).await
    }

    fn stop(home: &Home, running: &Running) {
        if let Some(pid) = running.proxy_pid {
            packages::stop(pid);
        }
        for machine in &running.machines {
            disk::forget(home, &machine.container_id);
        }
    }

    async fn gather(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Running,
        checks: &[&Check],
    ) -> Result<VmFacts> {
        if ctx.subject.is_some() {
            return Err(Error::NotForThisLab {
                command: "check --app",
                lab: lab.id.clone(),
                why: text::NO_APPS,
            });
        }
        let mut requests: Vec<FactRequest> = checks.iter().flat_map(|c| c.requests(lab)).collect();
        requests.sort();
        requests.dedup();
        let needs = |need: HostNeed| checks.iter().any(|c| c.host_need() == need);
        let (banner, http) = (needs(HostNeed::SshBanner), needs(HostNeed::Http));
        let public_key = state::ensure_ssh_key(&ctx.home.key_path())?;
        let mut machines = Vec::new();
        for machine in &running.machines {
            ensure_running(docker, &lab.id, machine).await?;
            let login = match needs(HostNeed::SshLogin) {
                true => Some(login::Login {
                    ssh: ssh_command_with(ctx.home, lab, machine, machine::LOGIN_OPTIONS)?,
                    user: lab.user.clone(),
                    proof: ctx
                        .home
                        .dir
                        .join("ssh")
                        .join(format!("login-proof-{}", machine.container_name)),
                }),
                false => None,
            };
            machines.push(gather_machine(
                docker,
                ctx.home,
                machine,
                &requests,
                (banner, login),
                http,
                &public_key,
            ));
        }
        Ok(VmFacts {
            machines: futures_util::future::join_all(machines).await,
        })
    }

    fn evaluate(lab: &Lab, check: &Check, facts: &VmFacts) -> Verdict {
        let machine = facts
            .machines
            .first()
            .ok_or_else(|| text::no_machine_facts(&lab.id))?;
        check.evaluate(&lab.user, machine)
    }

    /// Django asked afresh (after a change or a reboot) takes about a
    /// second, and a socket-activated app starts on the check's requests.
    /// and the engine's measure of the VM's disk (every 10 minutes) about two.
    fn why_slow(facts: &VmFacts) -> Option<String> {
        let asked = facts
            .machines
            .iter()
            .filter_map(|m| m.probe.as_ref().ok())
            .flat_map(|f| f.deploy.values())
            .any(|d| d.django.as_ref().is_some_and(|run| !run.cached));
        let measured = facts
            .machines
            .iter()
            .any(|m| m.host.disk.is_some_and(|d| d.measured_now));
        let why: Vec<&str> = [(asked, text::ASKED_DJANGO), (measured, text::MEASURED_DISK)]
            .into_iter()
            .filter_map(|(yes, why)| yes.then_some(why))
            .collect();
        (!why.is_empty()).then(|| why.join("; "))
    }

    fn warnings(facts: &VmFacts) -> Vec<String> {
        facts
            .machines
            .iter()
            .filter_map(|m| disk::warning(m.host.disk))
            .collect()
    }

    fn step_runner(ctx: &Ctx<'_>, lab: &Lab, running: &Running) -> Result<Command> {
        let mut cmd = Self::ssh(ctx, lab, running)?;
        cmd.args(["bash", "-s"]);
        Ok(cmd)
    }

    fn ssh(ctx: &Ctx<'_>, lab: &Lab, running: &Running) -> Result<Command> {
        ssh_command(ctx.home, lab, running.primary(lab)?)
    }

    fn shell(lab: &Lab, running: &Running) -> Result<ShellTarget> {
        Ok(ShellTarget {
            container: running.primary(lab)?.container_id.clone(),
            user: lab.user.clone(),
        })
    }

    async fn restart(docker: &Docker, lab: &Lab, running: &Running) -> Result<()> {
        for machine in &running.machines {
            machine::restart(docker, &lab.id, machine).await?;
        }
        Ok(())
    }

    async fn capture(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Running,
    ) -> Result<(submission::VmState, Vec<u8>)> {
        let machine = running.primary(lab)?;
        let key = state::ensure_ssh_key(&ctx.home.key_path())?;
        submission::capture(docker, &machine.container_id, &key).await
    }

    fn recipe(running: &Running) -> String {
        running.image.clone()
    }

    async fn current_recipe(ctx: &Ctx<'_>, docker: &Docker) -> Result<String> {
        let labs = ctx.catalog.all()?;
        let image = images::ensure_vm_image(docker, &ctx.home.cache, &labs, ctx.progress).await?;
        Ok(image.tag)
    }

    /// From the lab's image with the work's packages installed (made once
    /// per package set, `vm/graded.rs`).
    async fn grading_start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        described: &submission::VmState,
    ) -> Result<StartOptions> {
        let labs = ctx.catalog.all()?;
        let image = images::ensure_vm_image(docker, &ctx.home.cache, &labs, ctx.progress).await?;
        let key = state::ensure_ssh_key(&ctx.home.key_path())?;
        let base =
            graded::ensure(docker, &ctx.home.cache, &image, &described.packages, &key).await?;
        Ok(StartOptions {
            fresh: true,
            base: Some(base),
            ..StartOptions::default()
        })
    }

    /// Packages, files and deletions into the fresh VM, then a real boot;
    /// its new host key is pinned (the work brought the student's).
    async fn restore(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Running,
        described: &submission::VmState,
        files: &[u8],
    ) -> Result<Vec<String>> {
        let machine = running.primary(lab)?;
        let key = state::ensure_ssh_key(&ctx.home.key_path())?;
        ctx.progress.set("restoring");
        let installed = running
            .base
            .as_ref()
            .and_then(|tag| graded::created_paths(&ctx.home.cache, tag));
        let notes = submission::restore(
            docker,
            &machine.container_id,
            described,
            files,
            &key,
            installed,
        )
        .await?;
        // The check's disk figure, from the VM's own walk (the engine's
        // measure would take seconds of each grade).
        if let Some(written) = submission::written_since_restore(docker, &machine.container_id).await {
            disk::remember(ctx.home, &machine.container_id, written);
        }
        ctx.progress.set("booting");
        let t = std::time::Instant::now();
        machine::restart(docker, &lab.id, machine).await?;
        tracing::debug!("restore: rebooted in {:?}", t.elapsed());
        ctx.home
            .pin_host_key(machine.ssh_port, &machine::host_key(docker, machine).await?)?;
        Ok(notes)
    }

    async fn over_limits(
        docker: &Docker,
        running: &Running,
        limits: &GradeLimits,
    ) -> Option<String> {
        for machine in &running.machines {
            // A fork bomb holds the VM near its process limit, its count
            // rising and falling as forks fail: the highest of a few looks.
            let mut highest = None;
            for _ in 0..5 {
                if let Some((current, limit)) =
                    docker::processes(docker, &machine.container_id).await
                    && limit > 0
                {
                    highest = highest.max(Some((current, limit)));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            if let Some((current, limit)) = highest
                && current * 10 >= limit * 8
            {
                return Some(text::out_of_processes(current, limit));
            }
            let written = match submission::written_since_restore(docker, &machine.container_id).await
            {
                Some(bytes) => bytes,
                None => disk::measure(docker, &machine.container_id).await?,
            };
            if written > limits.disk {
                return Some(text::over_disk(
                    &disk::human(written),
                    &disk::human(limits.disk),
                ));
            }
        }
        None
    }
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
    machine: &Machine,
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
        name: machine.container_name.clone(),
        probe: probe.map_err(|e| e.to_string()),
        host: HostFacts {
            ssh_banner,
            ssh_login,
            public_key: public_key.to_string(),
            http,
            disk,
        },
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
            fix: text::NO_SSH_CLIENT,
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
        .arg(format!("{}@127.0.0.1", lab.user));
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
        ctx.progress.set(&format!("booting {}", lab.id));
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
        let network = docker::network_name(&ctx.home.instance(), &lab.id);
        let image = images::VmRecipe::for_labs(&ctx.catalog.all()?).image(&ctx.home.cache);
        let proxy = start_proxy(ctx, docker, &network, &image, &lab.id, Some(port)).await?;
        running.proxy_pid = proxy.map(|p| p.pid);
    }
    Ok(running)
}

/// A new lab: image, network, package proxy, then the git server and the
/// machine side by side.
async fn create(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    options: StartOptions,
    extra: Option<&gitserver::ExtraRepo>,
) -> Result<Running> {
    let (home, instance) = (ctx.home, ctx.home.instance());
    let labs = ctx.catalog.all()?;
    let image = tokio::select! {
        image = images::ensure_vm_image(docker, &home.cache, &labs, ctx.progress) => image?,
        () = crate::interrupt::requested() => return Err(Error::Interrupted),
    };
    let public_key = state::ensure_ssh_key(&home.key_path())?;
    let network = docker::create_network(docker, &instance, &lab.id).await?;
    crate::interrupt::check()?;
    let proxy = start_proxy(ctx, docker, &network, &image, &lab.id, None).await?;
    // Stopped again if this start fails or is interrupted from here on.
    let mut proxy_guard = packages::Guard(proxy.as_ref().map(|p| p.pid));
    // The git server and the VM start side by side; the VM's boot takes
    // longer than the server's, so the repository is there for the student.
    let git_server = async {
        if lab.git_repos.is_empty() && extra.is_none() {
            return Ok(());
        }
        let repos = gitserver::prepare(ctx.catalog, lab, extra, &home.cache)?;
        crate::interrupt::check()?;
        gitserver::start(docker, &lab.id, &instance, &image.tag, &network, &repos).await?;
        Ok(())
    };
    ctx.progress.set(&format!("booting {}", lab.id));
    let spec = machine::VmSpec {
        lab: &lab.id,
        instance: &instance,
        image: &image,
        public_key: &public_key,
        ssh_port: options.ssh_port,
        http_port: options.http_port,
        network: Some(&network),
        pip_conf: proxy.as_ref().map(|p| packages::pip_conf(p.address)),
    };
    let based = options.base.clone().map(|tag| images::VmImage {
        tag,
        ..image.clone()
    });
    let spec = machine::VmSpec {
        image: based.as_ref().unwrap_or(&image),
        ..spec
    };
    let (git_server, vm) = tokio::join!(git_server, machine::create_and_boot(docker, &spec));
    git_server?;
    let vm = vm?;
    home.pin_host_key(vm.ssh_port, &machine::host_key(docker, &vm).await?)?;
    // A new VM has written next to nothing (keys, logs): no measurement
    // needed before the first check.
    disk::remember(home, &vm.container_id, 0);
    proxy_guard.0 = None;
    Ok(Running {
        machines: vec![vm],
        image: image.tag,
        started_at: state::now(),
        proxy_pid: proxy.as_ref().map(|p| p.pid),
        proxy_port: proxy.as_ref().map(|p| p.address.port()),
        repo: extra.map(|e| BroughtRepo {
            source: e.source.clone(),
            name: e.name.clone(),
        }),
        base: options.base,
    })
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
