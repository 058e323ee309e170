//! The container environment's side of the seam: what `seam::Environment`
//! asks of it, over the helpers of its module.

use super::*;

impl Environment for Compose {
    type Check = Check;
    type Running = Running;
    type Facts = Facts;
    type Work = submission::ContainerWork;

    fn without_machine() -> String {
        text::no_vm()
    }

    async fn start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Result<Running> {
        let dir = folder_start(lab, &options, text::no_repo(), text::no_ports())?;
        if images::which("docker").is_none() {
            return Err(Error::MissingTool {
                tool: "docker",
                purpose: "build and run your images in the container lab",
                fix: text::no_docker_cli().to_string(),
            });
        }
        let home = ctx.home;
        let instance = home.instance();
        let work = home.dir.join(&lab.id);
        if let Some(running) = previous {
            if let Some(pid) = running.proxy_pid
                && !options.fresh
                && running.dir == dir
                && crate::packages::is_running(pid)
            {
                return Ok(running);
            }
            Self::stop(home, &running);
        }
        crate::docker::remove_lab_resources(docker, &instance, &lab.id).await?;
        if options.fresh {
            let _ = std::fs::remove_dir_all(&work);
        }
        std::fs::create_dir_all(&work)
            .map_err(Error::io(format!("creating {}", work.display())))?;
        let labs = ctx.catalog.all()?;
        let vm = interruptible(images::ensure_vm_image(
            docker,
            &home.cache,
            &labs,
            ctx.progress,
        ))
        .await?;
        let address = proxy_address(docker).await?;
        let reach = address.as_ref().map(|(_, reach)| reach);
        let standins = interruptible(standins(docker, &vm, reach, ctx.progress)).await?;
        // The proxy follows the lab's networks (one per home): `stop` (or
        // a lost state file and `stop --all`) removes this one, and the
        // proxy ends with the last.
        crate::docker::create_network(docker, &instance, &lab.id).await?;
        let (proxy, mut guard) = proxy(ctx, docker, &lab.id, address, &vm.wheels_dir).await?;
        crate::interrupt::check()?;
        let blog_repo = match lab.git_repos.contains_key("blog") {
            true => Some(
                crate::gitserver::prepare(ctx.catalog, lab, None, &home.cache)?.join("blog.git"),
            ),
            false => None,
        };
        guard.0 = None;
        Ok(Running {
            lab: lab.id.clone(),
            dir,
            work,
            proxy_pid: proxy.as_ref().map(|p| p.pid),
            proxy: proxy.map(|p| p.address),
            standins,
            blog_repo,
            recipe: vm.tag.clone(),
            started_at: crate::state::now(),
        })
    }

    fn ready_text(_: &Ctx<'_>, _: &Lab, running: &Running) -> String {
        let standins: String = running
            .standins
            .iter()
            .map(|s| text::standin(&s.names, &s.tag, &s.what))
            .collect();
        let proxy = running
            .proxy
            .as_ref()
            .map_or_else(|| "-".to_string(), |a| format!("http://{a}/simple/"));
        let fresh_folder =
            !probe::has_dockerfile(&running.dir) && !running.dir.join("manage.py").is_file();
        let clone = running
            .blog_repo
            .as_ref()
            .filter(|_| fresh_folder)
            .map(|repo| {
                format!(
                    "git clone {} blog && cd blog && deploylab start container",
                    repo.display()
                )
            });
        text::ready(&running.dir, &standins, &proxy, clone)
    }

    async fn status(
        _: &Ctx<'_>,
        _: &Docker,
        running: &Running,
        _: &[ContainerSummary],
    ) -> StatusRow {
        let alive = running.proxy_pid.is_some_and(crate::packages::is_running);
        StatusRow {
            state: if alive { text::proxy_ready() } else { text::proxy_down() },
            endpoints: Vec::new(),
            written: None,
            place: text::place(&running.dir),
            proxy: crate::packages::status(running.proxy_pid, running.proxy.as_ref().map(|a| a.port)),
        }
    }

    fn started_at(running: &Running) -> u64 {
        running.started_at
    }

    /// The stand-ins: by deploylab's tags and by the official names they
    /// carry. The Python stand-in's tag names the proxy's address it was
    /// made for.
    async fn current_images(docker: &Docker, vm: &VmImage) -> Vec<String> {
        let mut tags = vec![
            crate::standin::postgres::tag_for(vm),
            crate::standin::nginx::tag_for(vm),
        ];
        if let Ok(proxy) = proxy_address(docker).await {
            for python in crate::pythons::ALL {
                let reach = proxy.as_ref().map(|(_, reach)| reach);
                tags.push(crate::standin::python::tag_for(vm, python, reach));
                tags.push(crate::images::base_tag(vm, python));
            }
        }
        tags.extend(official_names());
        tags
    }

    fn stop(home: &Home, running: &Running) {
        // The proxy is shared by every home's container lab: it goes with
        // the last of them (by itself too, once no lab network is left).
        if let Some(pid) = running.proxy_pid
            && !other_homes_run(home, &running.lab)
        {
            crate::packages::stop(pid);
        }
        remove_built_images(home, &running.lab);
    }

    async fn gather(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Running,
        checks: &[&Check],
    ) -> Result<Facts> {
        if !running.dir.is_dir() {
            return Err(Error::AppFolder {
                path: running.dir.clone(),
                why: text::not_a_folder(),
            });
        }
        let instance = ctx.home.instance();
        let mut at = facts::Where {
            instance: &instance,
            lab: &lab.id,
            dir: &running.dir,
            work: &running.work,
            static_file: "admin/css/base.css",
            static_prefix: "/static/",
            live_path: "/admin/login/",
        };
        for check in checks {
            match check {
                Check::ImageStatic { file } => at.static_file = file,
                Check::WebStatic { path, file } => {
                    at.static_prefix = path;
                    at.static_file = file;
                }
                Check::WebLive { path } => at.live_path = path,
                _ => {}
            }
        }
        facts::gather(docker, &at).await
    }

    const HINT_WORDS: &[&str] = hints::WORDS;

    fn hint_words(_: &Lab, facts: &Facts, _: &str) -> Vec<(&'static str, String)> {
        hints::words(facts)
    }

    fn evaluate(_: &Lab, check: &Check, facts: &Facts, _: &str) -> Verdict {
        check.evaluate(facts)
    }

    fn why_slow(facts: &Facts) -> Option<String> {
        facts
            .probe
            .as_ref()
            .filter(|p| p.fresh)
            .map(|_| text::probe_ran(probe::LISTEN_WITHIN.as_secs()))
    }

    fn warnings(facts: &Facts) -> Vec<String> {
        let Some(image) = &facts.image else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        let mb = image.size / 1_000_000;
        if mb > 600 {
            warnings.push(text::big_image(mb));
        }
        if image.layers > 40 {
            warnings.push(text::many_layers(image.layers));
        }
        warnings
    }

    /// The solution runs on this machine, in the app folder, with the real
    /// docker CLI and Compose; its files are in `$SOLUTION`.
    fn step_runner(
        ctx: &Ctx<'_>,
        lab: &Lab,
        running: &Running,
        _: Option<&str>,
    ) -> Result<Command> {
        solution_runner(ctx, lab, &running.work, &running.dir)
    }

    /// The app folder's files: the student's repository.
    async fn capture(
        _: &Ctx<'_>,
        _: &Docker,
        _: &Lab,
        running: &Running,
    ) -> Result<(submission::ContainerWork, Vec<u8>)> {
        submission::capture(&running.dir)
    }

    fn recipe(running: &Running) -> String {
        running.recipe.clone()
    }

    async fn current_recipe(ctx: &Ctx<'_>, _: &Docker) -> Result<String> {
        let labs = ctx.catalog.all()?;
        Ok(images::VmRecipe::for_labs(&labs).image(&ctx.home.cache).tag)
    }

    /// A fresh app folder in the grade's scratch home.
    async fn grading_start(
        ctx: &Ctx<'_>,
        _: &Docker,
        _: &Lab,
        _: &submission::ContainerWork,
        _: &[u8],
    ) -> Result<StartOptions> {
        grading_folder(ctx)
    }

    /// The repository into the app folder, then built and run as a
    /// Compose project of the grade's own.
    async fn restore(
        ctx: &Ctx<'_>,
        docker: &Docker,
        _: &Lab,
        running: &Running,
        _: &submission::ContainerWork,
        files: &[u8],
    ) -> Result<Vec<String>> {
        submission::unpack(files, &running.dir)?;
        let project = format!(
            "deploylab-{}-graded",
            crate::docker::short(&ctx.home.instance())
        );
        Ok(submission::run(docker, &running.dir, &project).await)
    }

    /// A clone of the course's blog in the scratch folder.
    async fn practice_start(ctx: &Ctx<'_>, lab: &Lab, scratch: &Path) -> Result<StartOptions> {
        clone_blog(ctx, lab, scratch)
    }

    async fn discard_practice(docker: &Docker, running: &Running) {
        stack::remove_project(docker, &running.dir).await;
    }
}
