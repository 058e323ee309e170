//! The vm environment's side of the seam: what `seam::Environment`
//! asks of it, over the helpers of its module.

use super::*;

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
