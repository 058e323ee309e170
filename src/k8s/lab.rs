//! The k8s environment's side of the seam.

use std::path::Path;
use std::process::Command;

use bollard::Docker;
use bollard::models::ContainerSummary;

use super::checks::Check;
use super::facts::Facts;
use super::{K8s, Running, cluster, text};
use crate::compose::{
    folder_start, grading_folder, interruptible, other_homes_run, proxy, proxy_address,
    solution_runner, standins,
};
use crate::error::{Error, Result};
use crate::images;
use crate::lab::Lab;
use crate::seam::{Ctx, Diagnosis, Environment, StartOptions, StatusRow};
use crate::state::Home;
use crate::verdict::Verdict;

impl Environment for K8s {
    type Check = Check;
    type Running = Running;
    type Facts = Facts;
    type Work = super::submission::K8sWork;

    fn without_machine() -> String {
        text::no_machine()
    }

    async fn start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Result<Running> {
        let dir = folder_start(lab, &options, text::no_repo(), text::no_ports())?;
        // kind where it can serve the lab (asked for, or installed with its
        // node image here); else the built-in cluster, saying why.
        let backend = match (options.backend.as_deref(), super::kind::usable()) {
            (Some("builtin"), _) => Backend::Builtin(None),
            (_, Ok(image)) => Backend::Kind(Some(image)),
            // Asked for by name: kind pulls its node image itself.
            (Some(_), Err(super::kind::why::NO_NODE_IMAGE)) => Backend::Kind(None),
            (Some(_), Err(_)) => {
                return Err(Error::NotForThisLab {
                    command: "start --backend kind",
                    lab: lab.id.clone(),
                    why: text::no_kind().to_string(),
                });
            }
            (None, Err(why)) => Backend::Builtin(Some(why)),
        };
        let home = ctx.home;
        let instance = home.instance();
        let work = home.dir.join(&lab.id);
        if let Some(running) = previous {
            if !options.fresh && running.dir == dir && running.cluster.is_running() {
                return Ok(running);
            }
            Self::stop(home, &running);
        }
        crate::docker::remove_lab_resources(docker, &instance, &lab.id).await?;
        if options.fresh {
            let _ = std::fs::remove_dir_all(&work);
        }
        std::fs::create_dir_all(&work).map_err(Error::io(format!("creating {}", work.display())))?;
        let labs = ctx.catalog.all()?;
        let vm = interruptible(images::ensure_vm_image(docker, &home.cache, &labs, ctx.progress)).await?;
        let address = proxy_address(docker).await?;
        let reach = address.as_ref().map(|(_, reach)| reach);
        let standins = interruptible(standins(docker, &vm, reach, ctx.progress)).await?;
        let (cluster, why_builtin) = match backend {
            Backend::Builtin(why) => {
                ctx.progress.set(&crate::i18n::tr!("progress-k8s-builtin"));
                let python = standins.first().map(|s| s.tag.clone());
                let dir = work.join("cluster");
                let builtin = cluster::start(docker, &instance, &lab.id, &dir, python).await?;
                (cluster::Cluster::Builtin(builtin), why.map(String::from))
            }
            Backend::Kind(image) => {
                ctx.progress.set(&crate::i18n::tr!("progress-k8s-kind"));
                let name = format!("deploylab-{}", crate::docker::short(&instance));
                let kind = super::kind::start(&name, &work.join("kind"), image.as_deref())?;
                (cluster::Cluster::Kind(kind), None)
            }
        };
        let stop_cluster = StopOnDrop(cluster.clone());
        let (proxy, mut guard) = proxy(ctx, docker, &lab.id, address, &vm.wheels_dir).await?;
        crate::interrupt::check()?;
        guard.0 = None;
        std::mem::forget(stop_cluster);
        Ok(Running {
            lab: lab.id.clone(),
            dir,
            work,
            cluster,
            why_builtin,
            proxy_pid: proxy.as_ref().map(|p| p.pid),
            proxy: proxy.map(|p| p.address),
            standins,
            recipe: vm.tag.clone(),
            started_at: crate::state::now(),
        })
    }

    fn ready_text(_: &Ctx<'_>, _: &Lab, running: &Running) -> String {
        let standins: String = running
            .standins
            .iter()
            .map(|s| crate::compose::text::standin(&s.names, &s.tag, &s.what))
            .collect();
        let proxy = running
            .proxy
            .as_ref()
            .map_or_else(|| "-".to_string(), |a| format!("http://{a}/simple/"));
        let cluster = match &running.cluster {
            cluster::Cluster::Builtin(_) => text::builtin(&running.cluster.api(), running.why_builtin.as_deref()),
            cluster::Cluster::Kind(k) => text::kind(&k.name),
        };
        text::ready(&running.dir, &running.cluster.kubeconfig(), &cluster, &standins, &proxy)
    }

    async fn status(_: &Ctx<'_>, _: &Docker, running: &Running, _: &[ContainerSummary]) -> StatusRow {
        let alive = running.cluster.is_running();
        StatusRow {
            state: if alive { text::alive() } else { text::dead() },
            endpoints: vec![("api", running.cluster.api())],
            written: None,
            place: text::place(&running.dir),
            proxy: crate::packages::status(running.proxy_pid, running.proxy.as_ref().map(|a| a.port)),
        }
    }

    fn started_at(running: &Running) -> u64 {
        running.started_at
    }

    fn stop(home: &Home, running: &Running) {
        running.cluster.stop();
        crate::compose::remove_built_images(home, &running.lab);
        if let Some(pid) = running.proxy_pid
            && !other_homes_run(home, &running.lab)
            && !other_homes_run(home, "container")
        {
            crate::packages::stop(pid);
        }
    }

    async fn gather(_: &Ctx<'_>, docker: &Docker, _: &Lab, running: &Running, checks: &[&Check]) -> Result<Facts> {
        if !running.cluster.is_running() {
            return Err(Error::LabNotRunning { lab: running.lab.clone() });
        }
        let paths: Vec<&str> = checks.iter().filter_map(|c| c.path()).collect();
        Ok(super::facts::gather(docker, &running.cluster, &paths).await)
    }

    const HINT_WORDS: &[&str] = super::hints::WORDS;

    fn hint_words(_: &Lab, facts: &Facts, _: &str) -> Vec<(&'static str, String)> {
        super::hints::words(facts)
    }

    fn evaluate(_: &Lab, check: &Check, facts: &Facts, _: &str) -> Verdict {
        check.evaluate(facts)
    }

    /// The solution runs on this machine, in the app folder, with the real
    /// docker CLI and kubectl pointed at the cluster; its files are in
    /// `$SOLUTION`.
    fn step_runner(ctx: &Ctx<'_>, lab: &Lab, running: &Running, _: Option<&str>) -> Result<Command> {
        let mut cmd = solution_runner(ctx, lab, &running.work, &running.dir)?;
        cmd.env("KUBECONFIG", running.cluster.kubeconfig());
        if let cluster::Cluster::Kind(kind) = &running.cluster {
            // The solution loads the images it builds into kind's node.
            cmd.env("KIND_CLUSTER", &kind.name);
        }
        Ok(cmd)
    }

    /// The app folder and what the student applied to the cluster.
    async fn capture(
        _: &Ctx<'_>,
        _: &Docker,
        _: &Lab,
        running: &Running,
    ) -> Result<(super::submission::K8sWork, Vec<u8>)> {
        super::submission::capture(&running.dir, &running.cluster.kubeconfig()).await
    }

    /// A fresh app folder in the grade's scratch home.
    async fn grading_start(
        ctx: &Ctx<'_>,
        _: &Docker,
        _: &Lab,
        _: &super::submission::K8sWork,
        _: &[u8],
    ) -> Result<StartOptions> {
        // Grades run on the built-in cluster: the same everywhere.
        let mut options = grading_folder(ctx)?;
        options.backend = Some("builtin".into());
        Ok(options)
    }

    /// The repository into the app folder, its images built, its objects
    /// applied to the fresh cluster, the rollouts awaited.
    async fn restore(
        ctx: &Ctx<'_>,
        _: &Docker,
        _: &Lab,
        running: &Running,
        work: &super::submission::K8sWork,
        files: &[u8],
    ) -> Result<Vec<String>> {
        crate::compose::submission::unpack(files, &running.dir)?;
        let labels = super::submission::Labels {
            instance: ctx.home.instance(),
            lab: running.lab.clone(),
        };
        let cluster::Cluster::Builtin(builtin) = &running.cluster else {
            unreachable!("grades start the built-in cluster");
        };
        Ok(super::submission::restore(&running.dir, builtin, &labels, work).await)
    }

    fn recipe(running: &Running) -> String {
        running.recipe.clone()
    }

    async fn current_recipe(ctx: &Ctx<'_>, _: &Docker) -> Result<String> {
        let labs = ctx.catalog.all()?;
        Ok(images::VmRecipe::for_labs(&labs).image(&ctx.home.cache).tag)
    }

    async fn diagnose(_: &Ctx<'_>, _: &Docker) -> Result<Vec<Diagnosis>> {
        let kubectl = images::which("kubectl");
        let backend = match super::kind::usable() {
            Ok(image) => crate::i18n::tr!("doctor-k8s-kind", image = image),
            Err(why) => crate::i18n::tr!("doctor-k8s-builtin", why = why),
        };
        Ok(vec![
            Diagnosis::new(
                kubectl.is_some(),
                false,
                match &kubectl {
                    Some(path) => format!("kubectl: {}", path.display()),
                    None => crate::i18n::tr!("doctor-no-kubectl"),
                },
                crate::i18n::tr!("doctor-no-kubectl-fix"),
            ),
            Diagnosis::new(true, false, backend, ""),
        ])
    }

    /// A clone of the course's blog in the scratch folder.
    async fn practice_start(ctx: &Ctx<'_>, lab: &Lab, scratch: &Path) -> Result<StartOptions> {
        crate::compose::clone_blog(ctx, lab, scratch)
    }
}

/// Which cluster a start makes: the built-in one (and why not kind), or
/// kind (with the node image to use, None: kind's default, pulled).
enum Backend {
    Builtin(Option<&'static str>),
    Kind(Option<String>),
}

/// Stops a cluster just started if the start goes no further.
struct StopOnDrop(cluster::Cluster);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}
