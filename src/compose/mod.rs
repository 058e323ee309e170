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
mod hints;
mod lab;
pub(crate) mod layout;
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
pub(crate) mod text {
    use crate::i18n::tr;

    use std::path::Path;

    pub(super) fn no_vm() -> String {
        tr!("container-start-no-vm")
    }
    pub(crate) fn not_a_folder() -> String {
        tr!("container-start-not-a-folder")
    }
    pub(super) fn no_docker_cli() -> String {
        tr!("container-start-no-docker-cli")
    }
    pub(super) fn no_repo() -> String {
        tr!("container-start-no-repo")
    }
    pub(super) fn no_ports() -> String {
        tr!("container-start-no-ports")
    }
    pub(super) fn proxy_ready() -> String {
        tr!("container-start-ready")
    }
    pub(crate) fn no_clone() -> String {
        tr!("container-start-no-clone")
    }
    pub(super) fn proxy_down() -> String {
        tr!("container-start-proxy-down")
    }

    pub(super) fn place(dir: &Path) -> String {
        tr!("container-place", dir = dir.display())
    }

    pub(super) fn ready(dir: &Path, standins: &str, proxy: &str, clone: Option<String>) -> String {
        let clone = clone.map_or(String::new(), |c| {
            format!("\n{}\n\n  {c}\n", tr!("container-ready-no-code"))
        });
        let dir = dir.display();
        format!(
            "{}\n\n{}\n{standins}\n{}\n{}\n{clone}\n{}\n{}\n{}\n{}",
            tr!("container-ready", dir = dir),
            tr!("ready-standins"),
            tr!("container-ready-pip", proxy = proxy),
            tr!("container-ready-cached"),
            tr!("container-ready-next", dir = dir),
            tr!("container-ready-compose"),
            tr!("container-ready-check"),
            tr!("container-ready-yours"),
        )
    }

    pub(crate) fn standin(names: &[String], tag: &str, what: &str) -> String {
        match names.is_empty() {
            true => format!("  {tag} — {what} ({})\n", tr!("container-standin-pulled")),
            false => format!("  {} — {what}\n", names.join(", ")),
        }
    }

    pub(super) fn big_image(mb: u64) -> String {
        tr!("container-start-big-image", mb = mb)
    }

    pub(super) fn many_layers(layers: usize) -> String {
        tr!("container-start-many-layers", layers = layers)
    }

    pub(super) fn probe_ran(seconds: u64) -> String {
        tr!("container-start-probe-ran", seconds = seconds)
    }
}

/// The container lab's environment.
pub(crate) struct Compose;

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
    pub(crate) proxy: Option<crate::packages::Endpoint>,
    pub(crate) standins: Vec<StandIn>,
    /// The course's blog as a git repository to clone.
    pub(crate) blog_repo: Option<PathBuf>,
    /// What the environment was built from (the VM image's hash).
    pub(crate) recipe: String,
    pub(crate) started_at: u64,
}

/// Every official name a stand-in may carry (hints of failed builds).
pub(crate) fn official_names() -> Vec<String> {
    let others = crate::standin::postgres::OFFICIAL
        .iter()
        .chain(crate::standin::nginx::OFFICIAL);
    crate::standin::python::all_official()
        .into_iter()
        .chain(others.map(ToString::to_string))
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

/// Where the shared package proxy listens and where this engine's
/// containers reach it (`docker build` steps use Docker's default bridge);
/// None where they cannot reach the host.
pub(crate) async fn proxy_address(
    docker: &Docker,
) -> Result<Option<(SocketAddr, crate::packages::Endpoint)>> {
    let (reach, _) = crate::packages::Reach::of(docker, BRIDGE).await?;
    Ok(reach.addresses(PROXY_PORT))
}

pub(crate) fn app_folder(options: &StartOptions) -> Result<PathBuf> {
    let given = match &options.dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(Error::io("reading the current folder"))?,
    };
    match std::fs::canonicalize(&given) {
        Ok(dir) if dir.is_dir() => Ok(dir),
        _ => Err(Error::AppFolder {
            path: given,
            why: text::not_a_folder(),
        }),
    }
}

pub(crate) async fn interruptible<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        done = work => done,
        () = crate::interrupt::requested() => Err(Error::Interrupted),
    }
}


/// Whether another deploylab home runs this lab (its network is there).
pub(crate) fn other_homes_run(home: &Home, lab: &str) -> bool {
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
pub(crate) async fn proxy(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &str,
    address: Option<(SocketAddr, crate::packages::Endpoint)>,
    wheels: &Path,
) -> Result<(Option<crate::packages::Running>, crate::packages::Guard)> {
    let Some((listen, reach)) = address else {
        return Ok((None, crate::packages::Guard(None)));
    };
    if let Some(pid) = crate::packages::shared_on(listen) {
        let shared = crate::packages::Running {
            pid,
            address: reach,
        };
        return Ok((Some(shared), crate::packages::Guard(None)));
    }
    ctx.progress.set(&crate::i18n::tr!("progress-proxy"));
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
            address: listen.ip().to_string(),
            port: PROXY_PORT,
        }),
        other => other,
    }?;
    let guard = crate::packages::Guard(proxy.as_ref().map(|p| p.pid));
    Ok((proxy, guard))
}

/// The stand-ins (a Python per version offered, PostgreSQL, nginx), built
/// if missing, with their official names.
pub(crate) async fn standins(
    docker: &Docker,
    vm: &images::VmImage,
    proxy: Option<&crate::packages::Endpoint>,
    progress: &crate::progress::Progress,
) -> Result<Vec<StandIn>> {
    let pythons = crate::standin::python::ensure(docker, vm, proxy, progress).await?;
    let postgres = crate::standin::postgres::ensure(docker, vm, progress).await?;
    let postgres_names = crate::standin::name_as_official(
        docker,
        &postgres,
        crate::standin::postgres::KIND,
        crate::standin::postgres::OFFICIAL,
    )
    .await?;
    let (nginx, nginx_names) = crate::standin::nginx::ensure(docker, vm, progress).await?;
    let pythons = pythons.into_iter().map(|made| StandIn {
        tag: made.tag,
        names: made.names,
        what: made.what,
    });
    Ok(pythons
        .chain([
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
        .collect())
}

/// Practice in a clone of the course's blog, made in `scratch` (the labs
/// whose work is the student's app folder).
pub(crate) fn clone_blog(ctx: &Ctx<'_>, lab: &Lab, scratch: &Path) -> Result<StartOptions> {
    let app = scratch.join("app");
    let repo = crate::gitserver::prepare(ctx.catalog, lab, None, &ctx.home.cache)?.join("blog.git");
    let cloned = Command::new("git")
        .args(["clone", "-q"])
        .arg(&repo)
        .arg(&app)
        .output()
        .map_err(Error::io("running git clone"))?;
    if !cloned.status.success() {
        return Err(Error::AppFolder {
            path: app,
            why: text::no_clone(),
        });
    }
    Ok(StartOptions {
        dir: Some(app),
        ..StartOptions::default()
    })
}

/// Removes deploylab's own builds of a lab's app folder, labelled with
/// this home (the student's images stay).
pub(crate) fn remove_built_images(home: &Home, lab: &str) {
    let listed = Command::new("docker")
        .args(["image", "ls", "-q", "--filter"])
        .arg(format!("label={LABEL_INSTANCE}={}", home.instance()))
        .arg("--filter")
        .arg(format!("label={LABEL_LAB}={lab}"))
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

/// The app folder a start of a folder lab works in, after refusing the
/// options such a lab has no use for (`why_no_repo`, `why_no_ports`).
pub(crate) fn folder_start(
    lab: &Lab,
    options: &StartOptions,
    why_no_repo: String,
    why_no_ports: String,
) -> Result<PathBuf> {
    let not_here = |command, why| Error::NotForThisLab {
        command,
        lab: lab.id.clone(),
        why,
    };
    if options.repo.is_some() {
        return Err(not_here("start --repo", why_no_repo));
    }
    if options.ssh_port.is_some() || options.http_port.is_some() {
        return Err(not_here("start --ssh-port/--http-port", why_no_ports));
    }
    app_folder(options)
}

/// A fresh app folder in a grade's scratch home.
pub(crate) fn grading_folder(ctx: &Ctx<'_>) -> Result<StartOptions> {
    let app = ctx.home.dir.join("app");
    std::fs::create_dir_all(&app).map_err(Error::io(format!("creating {}", app.display())))?;
    Ok(StartOptions {
        fresh: true,
        dir: Some(app),
        ..StartOptions::default()
    })
}

/// bash in the app folder `dir`, reading a solution step on stdin, with
/// the lab's solution files in `$SOLUTION` (copied under `work`).
pub(crate) fn solution_runner(ctx: &Ctx<'_>, lab: &Lab, work: &Path, dir: &Path) -> Result<Command> {
    let files = work.join("solution-files");
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
    cmd.arg("-s").current_dir(dir).env("SOLUTION", &files);
    Ok(cmd)
}
