//! The container lab (course section 4): the student's own Docker engine
//! and Compose, with what a classroom without a registry lacks: stand-ins
//! for the official images the course pulls (`standin::python`,
//! `standin::postgres`, `standin::nginx`) and the package proxy `pip
//! install` reaches from inside `docker build` and containers.
//!
//! Nothing of the student's runs under deploylab's labels: `start` records
//! the app folder, builds the stand-ins and starts the proxy; checks find
//! the Compose project by Compose's own labels (`stack.rs`), run the image
//! alone with settings of their own (`probe.rs`) and ask nginx from
//! outside (`web.rs`).

pub(crate) mod checks;
pub(crate) mod facts;
#[cfg(test)]
mod fixtures;
pub(crate) mod probe;
pub(crate) mod stack;
pub(crate) mod submission;
pub(crate) mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use bollard::Docker;
use bollard::models::ContainerSummary;
use serde::{Deserialize, Serialize};

use checks::Check;
use facts::Facts;

use crate::docker::{LABEL_INSTANCE, LABEL_LAB};
use crate::error::{Error, Result};
use crate::images;
use crate::lab::Lab;
use crate::images::VmImage;
use crate::seam::{Ctx, Environment, StartOptions, StatusRow};
use crate::state::Home;
use crate::verdict::Verdict;

/// Where images built offline find the package proxy: the host's address
/// on Docker's default bridge (build steps and every Compose network reach
/// it), on a fixed port, written into the Python stand-in's pip.conf.
pub(crate) const PROXY_PORT: u16 = 3141;
const BRIDGE: &str = "bridge";

/// Messages of the container lab, kept together for translation.
mod text {
    use std::path::Path;

    pub(super) const NO_VM: &str = "the container lab has no VM: your containers run on your own Docker engine (`docker-compose exec <service> sh`).";
    pub(super) const NOT_A_FOLDER: &str = "not a folder (give your app's folder with --dir)";
    pub(super) const NO_DOCKER_CLI: &str =
        "Install Docker's command-line client (Debian: docker.io) and Compose (docker-compose).";
    pub(super) const NO_REPO: &str =
        "here your own folder is the work: run start in it, or give it with --dir";
    pub(super) const NO_PORTS: &str = "the ports are your Compose file's (nginx publishes 80)";
    pub(super) const READY: &str = "ready";
    pub(super) const NO_CLONE: &str = "git could not clone the course's blog here";
    pub(super) const PROXY_DOWN: &str = "package proxy stopped (`start` again)";

    pub(super) fn place(dir: &Path) -> String {
        format!("your Docker engine, {}", dir.display())
    }

    pub(super) fn ready(dir: &Path, standins: &str, proxy: &str, clone: Option<String>) -> String {
        let clone = clone.map_or(String::new(), |c| {
            format!(
                "\nThis folder has no Dockerfile or manage.py yet. The course's blog:\n\n  {c}\n"
            )
        });
        format!(
            "The container lab is ready for {dir}.\n\
             \nOffline stand-ins for the official images (made by deploylab from Debian's packages):\n{standins}\
             \n`pip install` in a Dockerfile or a container asks deploylab's package proxy at {proxy}\n\
             (cached wheels; anything else is fetched through your machine when it is online).\n{clone}\
             \nNext, in {dir}: a Dockerfile (`docker build -t blog .`), then docker-compose.yml\n\
             and `docker-compose up -d --build`.\n\
             `deploylab check` checks your work from outside; `deploylab stop` stops the proxy\n\
             (your Compose project is yours: `docker-compose down`).",
            dir = dir.display()
        )
    }

    pub(super) fn standin(names: &[String], tag: &str, what: &str) -> String {
        match names.is_empty() {
            true => format!("  {tag} — {what} (a pulled image holds the official names)\n"),
            false => format!("  {} — {what}\n", names.join(", ")),
        }
    }

    pub(super) fn big_image(mb: u64) -> String {
        format!(
            "the image is {mb} MB: a slim base, `pip install --no-cache-dir` and a .dockerignore keep it small"
        )
    }

    pub(super) fn many_layers(layers: usize) -> String {
        format!("the image has {layers} layers: join related RUN lines with &&")
    }

    pub(super) fn probe_ran(seconds: u64) -> String {
        format!("the first check of a new image runs it alone for a while (up to {seconds} s)")
    }
}

/// The container lab's environment.
pub(crate) struct Container;

/// A stand-in image, as `start` reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StandIn {
    pub(crate) tag: String,
    /// The official names it carries here.
    pub(crate) names: Vec<String>,
    pub(crate) what: String,
}

/// What `start` leaves: the app folder and the proxy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Running {
    /// The lab's id (deploylab's own builds of the folder carry it).
    pub(crate) lab: String,
    /// The student's app folder (absolute).
    pub(crate) dir: PathBuf,
    /// The lab's own folder in the deploylab home.
    pub(crate) work: PathBuf,
    pub(crate) proxy_pid: Option<u32>,
    pub(crate) proxy: Option<SocketAddr>,
    pub(crate) standins: Vec<StandIn>,
    /// The course's blog as a git repository to clone.
    pub(crate) blog_repo: Option<PathBuf>,
    /// What the environment was built from (the VM image's hash).
    pub(crate) recipe: String,
    pub(crate) started_at: u64,
}

/// Every official name a stand-in may carry (hints of failed builds).
pub(crate) fn official_names() -> Vec<&'static str> {
    crate::standin::python::OFFICIAL
        .iter()
        .chain(crate::standin::postgres::OFFICIAL)
        .chain(crate::standin::nginx::OFFICIAL)
        .copied()
        .collect()
}

/// Runs a docker or Compose command to its end, within `within`: its
/// output, or why there is none (`timeout`: the words for running out of
/// time). Killed when dropped (Ctrl-C).
pub(crate) async fn output_within(
    mut command: tokio::process::Command,
    within: std::time::Duration,
    timeout: &str,
) -> std::result::Result<std::process::Output, String> {
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(within, child.wait_with_output())
        .await
        .map_err(|_| timeout.to_string())?
        .map_err(|e| e.to_string())
}

/// Where the package proxy listens for this engine's containers.
pub(crate) async fn proxy_address(docker: &Docker) -> Result<SocketAddr> {
    let (gateway, _) = crate::docker::gateway(docker, BRIDGE).await?;
    Ok(SocketAddr::new(gateway, PROXY_PORT))
}

fn app_folder(options: &StartOptions) -> Result<PathBuf> {
    let given = match &options.dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(Error::io("reading the current folder"))?,
    };
    match std::fs::canonicalize(&given) {
        Ok(dir) if dir.is_dir() => Ok(dir),
        _ => Err(Error::AppFolder {
            path: given,
            why: text::NOT_A_FOLDER,
        }),
    }
}

async fn interruptible<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        done = work => done,
        () = crate::interrupt::requested() => Err(Error::Interrupted),
    }
}

impl Environment for Container {
    type Check = Check;
    type Running = Running;
    type Facts = Facts;
    type Work = submission::ContainerWork;

    const WITHOUT_MACHINE: &'static str = text::NO_VM;

    async fn start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Result<Running> {
        let not_here = |command, why| Error::NotForThisLab {
            command,
            lab: lab.id.clone(),
            why,
        };
        if options.repo.is_some() {
            return Err(not_here("start --repo", text::NO_REPO));
        }
        if options.ssh_port.is_some() || options.http_port.is_some() {
            return Err(not_here("start --ssh-port/--http-port", text::NO_PORTS));
        }
        if images::which("docker").is_none() {
            return Err(Error::MissingTool {
                tool: "docker",
                purpose: "build and run your images in the container lab",
                fix: text::NO_DOCKER_CLI,
            });
        }
        let dir = app_folder(&options)?;
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
        let standins = interruptible(standins(docker, &vm, address, ctx.progress)).await?;
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
            state: if alive { text::READY } else { text::PROXY_DOWN }.into(),
            endpoints: Vec::new(),
            written: None,
            place: text::place(&running.dir),
            proxy: crate::packages::status(running.proxy_pid, running.proxy.map(|a| a.port())),
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
            tags.push(crate::standin::python::tag_for(vm, proxy));
        }
        tags.extend(official_names().iter().map(ToString::to_string));
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
        // deploylab's own builds of the folder, labelled with this home
        // (the student's images stay).
        let listed = Command::new("docker")
            .args(["image", "ls", "-q", "--filter"])
            .arg(format!("label={LABEL_INSTANCE}={}", home.instance()))
            .arg("--filter")
            .arg(format!("label={LABEL_LAB}={}", running.lab))
            .output();
        let ids: Vec<String> = listed
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["image", "rm", "-f"])
                .args(&ids)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
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
                why: text::NOT_A_FOLDER,
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

    fn evaluate(_: &Lab, check: &Check, facts: &Facts) -> Verdict {
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
    fn step_runner(ctx: &Ctx<'_>, lab: &Lab, running: &Running) -> Result<Command> {
        let files = running.work.join("solution-files");
        let _ = std::fs::remove_dir_all(&files);
        for (path, contents) in ctx.catalog.solution_files(&lab.id)? {
            let target = files.join(&path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(Error::io(format!("creating {}", parent.display())))?;
            }
            std::fs::write(&target, contents)
                .map_err(Error::io(format!("writing {}", target.display())))?;
        }
        let mut cmd = Command::new("bash");
        cmd.arg("-s")
            .current_dir(&running.dir)
            .env("SOLUTION", &files);
        Ok(cmd)
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
        _: &submission::ContainerWork,
    ) -> Result<StartOptions> {
        let app = ctx.home.dir.join("app");
        std::fs::create_dir_all(&app).map_err(Error::io(format!("creating {}", app.display())))?;
        Ok(StartOptions {
            fresh: true,
            dir: Some(app),
            ..StartOptions::default()
        })
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
        let app = scratch.join("app");
        let repo =
            crate::gitserver::prepare(ctx.catalog, lab, None, &ctx.home.cache)?.join("blog.git");
        let cloned = Command::new("git")
            .args(["clone", "-q"])
            .arg(&repo)
            .arg(&app)
            .output()
            .map_err(Error::io("running git clone"))?;
        if !cloned.status.success() {
            return Err(Error::AppFolder {
                path: app,
                why: text::NO_CLONE,
            });
        }
        Ok(StartOptions {
            dir: Some(app),
            ..StartOptions::default()
        })
    }

    async fn discard_practice(docker: &Docker, running: &Running) {
        stack::remove_project(docker, &running.dir).await;
    }
}

/// Whether another deploylab home runs this lab (its network is there).
fn other_homes_run(home: &Home, lab: &str) -> bool {
    let listed = Command::new("docker")
        .args(["network", "ls", "--filter"])
        .arg(format!("label={LABEL_LAB}={lab}"))
        .arg("--format")
        .arg(format!("{{{{.Label \"{LABEL_INSTANCE}\"}}}}"))
        .output();
    let instance = home.instance();
    listed.is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| !l.trim().is_empty() && l.trim() != instance)
    })
}

/// The package proxy every home's container lab shares: another home's,
/// or one started here; and a guard that stops the one started here if
/// the start goes no further.
async fn proxy(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &str,
    address: SocketAddr,
    wheels: &Path,
) -> Result<(Option<crate::packages::Running>, crate::packages::Guard)> {
    if let Some(pid) = crate::packages::shared_on(address) {
        let shared = crate::packages::Running { pid, address };
        return Ok((Some(shared), crate::packages::Guard(None)));
    }
    ctx.progress.set("starting the package proxy");
    let on = crate::packages::OnNetwork {
        network: BRIDGE,
        shared: true,
        lab,
        port: Some(PROXY_PORT),
        wheels,
    };
    let proxy = match crate::packages::start_on(docker, ctx.home, &on).await {
        Err(Error::Background {
            port_taken: true, ..
        }) => Err(Error::ProxyPortTaken {
            address: address.ip().to_string(),
            port: PROXY_PORT,
        }),
        other => other,
    }?;
    let guard = crate::packages::Guard(proxy.as_ref().map(|p| p.pid));
    Ok((proxy, guard))
}

/// The three stand-ins, built if missing, with their official names.
async fn standins(
    docker: &Docker,
    vm: &images::VmImage,
    proxy: SocketAddr,
    progress: &crate::progress::Progress,
) -> Result<Vec<StandIn>> {
    let (python, python_names) =
        crate::standin::python::ensure(docker, vm, proxy, progress).await?;
    let postgres = crate::standin::postgres::ensure(docker, vm, progress).await?;
    let postgres_names = crate::standin::name_as_official(
        docker,
        &postgres,
        crate::standin::postgres::KIND,
        crate::standin::postgres::OFFICIAL,
    )
    .await?;
    let (nginx, nginx_names) = crate::standin::nginx::ensure(docker, vm, progress).await?;
    Ok(vec![
        StandIn {
            tag: python,
            names: python_names,
            what: "Debian 12's Python 3.11, pip through deploylab's proxy".into(),
        },
        StandIn {
            tag: postgres,
            names: postgres_names,
            what: "Debian 12's PostgreSQL 15, the official image's variables and folders".into(),
        },
        StandIn {
            tag: nginx,
            names: nginx_names,
            what: "Debian 12's nginx 1.22, the official image's layout".into(),
        },
    ])
}
