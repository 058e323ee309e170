//! The vm environment's side of the seam: what `seam::Environment`
//! asks of it, over the helpers of its module.

use super::*;

impl Environment for Vm {
    type Check = Check;
    type Running = Running;
    type Facts = VmFacts;
    type Work = submission::VmWork;

    const SEVERAL_MACHINES: bool = true;

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
        // The engine's systemd flags are asked beside (a new VM needs them).
        let (existing, _) = tokio::join!(
            docker::labelled_containers(docker, &instance, Some(&lab.id)),
            machine::SystemdFlags::for_engine(docker)
        );
        let existing = existing?;
        if !options.fresh
            && let Some(running) = previous
            && !running.machines.is_empty()
            && running.machines.iter().all(|machine| {
                existing
                    .iter()
                    .any(|c| c.id.as_deref() == Some(machine.container_id.as_str()))
            })
        {
            if let Some(wanted) = &extra
                && running.repo.as_ref().map(|r| &r.source) != Some(&wanted.source)
            {
                return Err(Error::RepoNeedsFresh {
                    lab: lab.id.clone(),
                    serving: running
                        .repo
                        .as_ref()
                        .map_or_else(|| text::only_the_labs().to_string(), |r| r.source.clone()),
                    wanted: wanted.source.clone(),
                });
            }
            return resume(ctx, docker, lab, running, &existing).await;
        }
        // --fresh, or leftovers the state file does not know (a crash, a deleted
        // state file): replace them, as their ports are unknown.
        // A spare is held first: no new one is made while the old lab goes.
        let spare = spare::hold(ctx, docker, lab, &options).await?;
        docker::remove_lab_resources(docker, &instance, &lab.id).await?;
        create(ctx, docker, lab, options, extra.as_ref(), spare).await
    }

    fn keeps_spare(lab: &Lab) -> bool {
        spare::fits(lab)
    }

    async fn make_spare(ctx: &Ctx<'_>, docker: &Docker, lab: &Lab) -> Result<()> {
        spare::make(ctx, docker, lab).await
    }

    fn ready_text(ctx: &Ctx<'_>, lab: &Lab, running: &Running) -> String {
        let key = ctx.home.key_path().display().to_string();
        let known_hosts = ctx.home.known_hosts_path().display().to_string();
        let repo = running.repo.as_ref();
        let repo = repo.map(|r| text::your_repo(&r.source, &r.name));
        if lab.has_several_machines() {
            let machines: Vec<(&str, String, u16)> = running
                .machines
                .iter()
                .map(|m| {
                    let ssh = text::ssh_line(&key, &known_hosts, m.ssh_port, &lab.user);
                    (machine_name(lab, m), ssh, m.http_port)
                })
                .collect();
            if ctx.progress.is_quiet() {
                return text::ssh_lines(&machines);
            }
            let ansible = (lab.ansible.as_ref())
                .map(|settings| ansible::ready_text(ctx.home, lab, settings));
            return text::ready_several(&lab.id, &machines, &lab.user, repo, ansible);
        }
        let (ssh, http) = running
            .machines
            .first()
            .map_or((0, 0), |m| (m.ssh_port, m.http_port));
        if ctx.progress.is_quiet() {
            return text::ssh_line(&key, &known_hosts, ssh, &lab.user);
        }
        text::ready(&lab.id, &key, &known_hosts, ssh, http, &lab.user, repo)
    }

    async fn status(
        ctx: &Ctx<'_>,
        docker: &Docker,
        running: &Running,
        containers: &[ContainerSummary],
    ) -> StatusRow {
        let mut states = Vec::new();
        let mut written = None;
        for m in &running.machines {
            let found = containers
                .iter()
                .find(|c| c.id.as_deref() == Some(m.container_id.as_str()))
                .and_then(|c| c.state);
            states.push(found.map_or_else(|| text::gone().to_string(), |s| s.to_string()));
            // What the VMs have written (their disks are not bounded, so
            // they are watched).
            if found == Some(ContainerSummaryStateEnum::RUNNING)
                && let Some(d) = disk::for_check(docker, ctx.home, &m.container_id).await
            {
                written = Some(written.unwrap_or(0) + d.bytes);
            }
        }
        // A lab is as well as its worst machine.
        let running_word = ContainerSummaryStateEnum::RUNNING.to_string();
        let state = states
            .iter()
            .find(|s| **s != running_word)
            .or(states.first())
            .cloned();
        let several = running.machines.len() > 1;
        let each = |port: fn(&Machine) -> u16| {
            running
                .machines
                .iter()
                .map(|m| text::endpoint(several.then_some(m.name.as_str()), port(m)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        StatusRow {
            state: state.unwrap_or_else(text::gone),
            endpoints: vec![("ssh", each(|m| m.ssh_port)), ("http", each(|m| m.http_port))],
            written,
            place: running
                .machines
                .iter()
                .map(|m| m.container_name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            proxy: packages::status(running.proxy_pid, running.proxy_port),
        }
    }

    fn started_at(running: &Running) -> u64 {
        running.started_at
    }

    /// The VM image, and the control image labs done with Ansible run
    /// ansible-playbook in.
    async fn current_images(_: &Docker, vm: &images::VmImage) -> Vec<String> {
        vec![vm.tag.clone(), ansible::control::tag(vm)]
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
        if let Some(dir) = &running.ansible_dir {
            let _ = std::fs::remove_dir_all(dir);
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
                why: text::no_apps(),
            });
        }
        let mut requests: Vec<FactRequest> = checks.iter().flat_map(|c| c.requests(lab)).collect();
        requests.sort();
        requests.dedup();
        let needs = |need: HostNeed| checks.iter().any(|c| c.host_need() == need);
        let (banner, http) = (needs(HostNeed::SshBanner), needs(HostNeed::Http));
        let public_key = state::ensure_ssh_key(&ctx.home.key_path())?;
        for machine in &running.machines {
            ensure_running(docker, &lab.id, machine).await?;
        }
        // Before the probes: deploylab's second run of a playbook changes
        // what they see when the playbook is not idempotent.
        let second = needs(HostNeed::AnsibleSecondRun);
        let mut ansible = match lab.ansible.is_some() && (second || needs(HostNeed::AnsibleRuns)) {
            true => ansible::gather(ctx, docker, lab, running, second).await,
            false => BTreeMap::new(),
        };
        let mut machines = Vec::new();
        for machine in &running.machines {
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
                (machine_name(lab, machine), machine),
                &requests,
                (banner, login),
                http,
                &public_key,
            ));
        }
        let mut machines = futures_util::future::join_all(machines).await;
        for facts in &mut machines {
            facts.ansible = ansible.remove(&facts.name);
        }
        Ok(VmFacts { machines })
    }

    const HINT_WORDS: &[&str] = hints::WORDS;

    fn hint_words(lab: &Lab, facts: &VmFacts, machine: &str) -> Vec<(&'static str, String)> {
        hints::words(lab, facts, machine)
    }

    fn evaluate(lab: &Lab, check: &Check, facts: &VmFacts, machine: &str) -> Verdict {
        let facts = match facts.machines.as_slice() {
            // A lab's one machine (fixtures recorded it by container name).
            [only] if !lab.has_several_machines() => Some(only),
            all => all.iter().find(|m| m.name == machine),
        };
        check.evaluate(&lab.user, facts.ok_or_else(|| text::no_machine_facts(&lab.id, machine))?)
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
        let why: Vec<String> = [(asked, text::asked_django()), (measured, text::measured_disk())]
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

    fn step_runner(
        ctx: &Ctx<'_>,
        lab: &Lab,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<Command> {
        // A lab done with Ansible runs its steps on the student's machine.
        if lab.ansible.is_some() && machine.is_none() {
            return ansible::solution_runner(ctx, lab);
        }
        let mut cmd = Self::ssh(ctx, lab, running, machine)?;
        cmd.args(["bash", "-s"]);
        Ok(cmd)
    }

    fn ssh(ctx: &Ctx<'_>, lab: &Lab, running: &Running, machine: Option<&str>) -> Result<Command> {
        ssh_command(ctx.home, lab, running.machine(lab, machine)?)
    }

    fn shell(lab: &Lab, running: &Running, machine: Option<&str>) -> Result<ShellTarget> {
        Ok(ShellTarget {
            container: running.machine(lab, machine)?.container_id.clone(),
            user: lab.user.clone(),
        })
    }

    async fn restart(
        docker: &Docker,
        lab: &Lab,
        running: &Running,
        machine: Option<&str>,
    ) -> Result<()> {
        let machines = match machine {
            Some(_) => vec![running.machine(lab, machine)?],
            None => running.machines.iter().collect(),
        };
        let restarts = machines
            .into_iter()
            .map(|m| machine::restart(docker, &lab.id, m));
        futures_util::future::try_join_all(restarts).await?;
        Ok(())
    }

    /// Each machine's work: a lab with one machine submits it as it
    /// always did; one with several, by machine.
    async fn capture(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Running,
    ) -> Result<(submission::VmWork, Vec<u8>)> {
        if lab.ansible.is_some() {
            let (work, files) = ansible::capture(ctx.home, lab)?;
            return Ok((submission::VmWork::Playbook { playbook: work }, files));
        }
        let key = state::ensure_ssh_key(&ctx.home.key_path())?;
        if !lab.has_several_machines() {
            let machine = running.machine(lab, None)?;
            let (state, files) = submission::capture(docker, &machine.container_id, &key).await?;
            return Ok((submission::VmWork::One(state), files));
        }
        let captures = running.machines.iter().map(|m| async {
            let (state, files) = submission::capture(docker, &m.container_id, &key).await?;
            Ok::<_, Error>((machine_name(lab, m).to_string(), state, files))
        });
        let captured = futures_util::future::try_join_all(captures).await?;
        let files = submission::bundle(
            captured
                .iter()
                .map(|(name, _, files)| (name.as_str(), files.as_slice())),
        )?;
        let machines = captured
            .into_iter()
            .map(|(name, state, _)| (name, state))
            .collect();
        Ok((submission::VmWork::Several { machines }, files))
    }

    fn recipe(running: &Running) -> String {
        running.image.clone()
    }

    async fn current_recipe(ctx: &Ctx<'_>, docker: &Docker) -> Result<String> {
        let labs = ctx.catalog.all()?;
        let image = images::ensure_vm_image(docker, &ctx.home.cache, &labs, ctx.progress).await?;
        Ok(image.tag)
    }

    /// Each machine from the lab's image with its work's packages
    /// installed (made once per package set, `vm/graded.rs`).
    async fn grading_start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        work: &submission::VmWork,
        files: &[u8],
    ) -> Result<StartOptions> {
        if let submission::VmWork::Playbook { .. } = work {
            return Ok(StartOptions {
                fresh: true,
                ..StartOptions::default()
            });
        }
        let labs = ctx.catalog.all()?;
        let image = images::ensure_vm_image(docker, &ctx.home.cache, &labs, ctx.progress).await?;
        let key = state::ensure_ssh_key(&ctx.home.key_path())?;
        // Several machines' files come bundled by name.
        let bundled = match work {
            submission::VmWork::Several { .. } => Some(submission::unbundle(files)?),
            _ => None,
        };
        let mut bases = BTreeMap::new();
        for (machine, described) in work.by_machine(lab)? {
            let cache = &ctx.home.cache;
            let base = graded::ensure(docker, cache, &image, &described.packages, &key).await?;
            let files = match &bundled {
                None => files,
                Some(by_machine) => by_machine.get(&machine).map_or(&[][..], Vec::as_slice),
            };
            let base = carry::base(docker, cache, &base, files).await?;
            bases.insert(machine, base);
        }
        Ok(StartOptions {
            fresh: true,
            bases,
            no_git_server: true,
            held: true,
            ..StartOptions::default()
        })
    }

    /// Packages, files and deletions into each fresh VM, then a real boot;
    /// their new host keys are pinned (the work brought the student's).
    async fn restore(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Running,
        work: &submission::VmWork,
        files: &[u8],
    ) -> Result<Vec<String>> {
        // A lab with one machine's files are that machine's; several
        // machines' come bundled by name.
        let bundled = match work {
            submission::VmWork::Playbook { playbook } => {
                return ansible::restore(ctx, docker, lab, running, playbook, files).await;
            }
            submission::VmWork::One(_) => None,
            submission::VmWork::Several { .. } => Some(submission::unbundle(files)?),
        };
        let mut notes = Vec::new();
        for (name, described) in work.by_machine(lab)? {
            let machine = running.machine(lab, Some(&name))?;
            let files = match &bundled {
                None => files,
                Some(by_machine) => by_machine.get(&name).map_or(&[][..], Vec::as_slice),
            };
            let restored = restore_machine(ctx, docker, lab, running, machine, (described, files));
            let mut said = restored.await?;
            if lab.has_several_machines() {
                said = said.into_iter().map(|n| text::on(&name, &n)).collect();
            }
            notes.extend(said);
        }
        Ok(notes)
    }

    async fn over_limits(
        home: &Home,
        docker: &Docker,
        running: &Running,
        limits: &GradeLimits,
    ) -> Option<String> {
        for machine in &running.machines {
            // A fork bomb holds the VM near its process limit, its count
            // rising and falling as forks fail: the highest of a few looks.
            // The disk is walked meanwhile (each takes about a second).
            // The looks are 200 ms apart, each asked without waiting for
            // the one before (the engine takes most of a second to answer).
            let looks = (0..5u64).map(|i| async move {
                tokio::time::sleep(Duration::from_millis(200 * i)).await;
                docker::processes(docker, &machine.container_id).await
            });
            let processes = async {
                let seen = futures_util::future::join_all(looks).await;
                (seen.into_iter().flatten())
                    .filter(|(_, limit)| *limit > 0)
                    .max()
            };
            // What the carrying image had of the work is the work's too.
            let written = async {
                let id = &machine.container_id;
                if let Some(restore) = disk::restore_of(home, id)
                    && let Some(bytes) = submission::written_since(docker, id, restore.since).await
                {
                    return Some(bytes + restore.carried);
                }
                disk::measure(docker, id).await
            };
            let (highest, written) = tokio::join!(processes, written);
            if let Some((current, limit)) = highest
                && current * 10 >= limit * 8
            {
                return Some(text::out_of_processes(current, limit));
            }
            let written = written?;
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
