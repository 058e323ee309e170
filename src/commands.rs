//! What each command does. Each returns the process exit code, or an
//! `Error` that carries its own.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::check::{self, HostFacts};
use crate::cli::{Cli, Command, Format, ImagesAction};
use crate::docker;
use crate::error::{Error, Result, exit};
use crate::gitserver;
use crate::images;
use crate::lab::{Catalog, Lab};
use crate::packages;
use crate::probe;
use crate::progress::Progress;
use crate::report::Report;
use crate::state::{self, Home, RunningLab};
use crate::vm::{self, Vm, VmSpec};

/// Messages shown by the commands, kept together for translation.
mod text {
    pub const NOTHING_TO_STOP: &str = "Nothing to stop: no lab is running.";
    pub const NO_HINT: &str = "Nothing to hint: every check passes.";
    pub const NO_DEEPER_HINT: &str = "(this check has no deeper hint)";
    pub const NO_SSH_CLIENT: &str =
        "no `ssh` client on PATH; `deploylab shell` opens a shell without one.";

    pub fn ready(lab: &str, key: &str, ssh_port: u16, http_port: u16, user: &str) -> String {
        format!(
            "Lab {lab} is ready: a Debian 12 \"VM\" with hostname {lab}.\n\
             \n  ssh -i {key} -p {ssh_port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null {user}@127.0.0.1\n\
             \n  (or: deploylab ssh)   user: {user}, sudo without password (password: {user})\
             \n  the VM's port 80 is at http://127.0.0.1:{http_port}/\n\
             \nNext: work through the course, then `deploylab check`. `deploylab stop` removes the VM."
        )
    }

    pub fn stopped(lab: &str, containers: usize) -> String {
        format!("Stopped {lab}: removed {containers} container(s).")
    }
}

pub async fn dispatch(cli: Cli) -> Result<i32> {
    let progress = Progress::new(cli.quiet);
    let home = Home::from_env()?;
    let catalog = Catalog::from_env();
    match cli.command {
        Command::Labs => labs(&catalog),
        Command::Start {
            lab,
            fresh,
            ssh_port,
            http_port,
        } => {
            let lab = catalog.get(&lab)?;
            let docker = docker::connect().await?;
            let options = StartOptions {
                fresh,
                ssh_port,
                http_port,
            };
            let result =
                interruptible_start(&home, &catalog, &docker, &lab, options, &progress).await;
            progress.finish();
            let running = result?;
            let key = home.key_path();
            println!(
                "{}",
                text::ready(
                    &lab.id,
                    &key.display().to_string(),
                    running.ssh_port,
                    running.http_port,
                    &lab.user
                )
            );
            Ok(exit::OK)
        }
        Command::Status => status(&home).await,
        Command::Check {
            target,
            stage,
            format,
        } => {
            let (lab, report, elapsed) = run_checks(&home, &catalog, target.lab.as_deref()).await?;
            let report = match stage {
                Some(stage) => {
                    lab.stage_index(&stage)?;
                    report.only_stage(&stage)
                }
                None => report,
            };
            match format {
                Format::Table => print!("{}", report.to_table(elapsed)),
                Format::Json => println!("{}", report.to_json()),
            }
            Ok(if report.passed {
                exit::OK
            } else {
                exit::CHECKS_FAILED
            })
        }
        Command::Hint { target, more } => {
            let (_, report, _) = run_checks(&home, &catalog, target.lab.as_deref()).await?;
            match report.first_failure() {
                None => println!("{}", text::NO_HINT),
                Some((stage, check)) => {
                    println!("{} › {}: {}", stage.id, check.title, check.observed);
                    println!("hint: {}", check.hint.as_deref().unwrap_or_default());
                    if more {
                        println!(
                            "more: {}",
                            check.hint_more.as_deref().unwrap_or(text::NO_DEEPER_HINT)
                        );
                    }
                }
            }
            Ok(if report.passed {
                exit::OK
            } else {
                exit::CHECKS_FAILED
            })
        }
        Command::Solve { target, stage } => {
            let (lab_id, running) = home.load()?.pick(target.lab.as_deref())?;
            let lab = catalog.get(&lab_id)?;
            solve(&home, &catalog, &lab, &running, &stage).await
        }
        Command::Ssh { target, command } => {
            let (lab_id, running) = home.load()?.pick(target.lab.as_deref())?;
            let lab = catalog.get(&lab_id)?;
            ssh(&home, &lab, &running, &command)
        }
        Command::Shell { target } => {
            let (lab_id, running) = home.load()?.pick(target.lab.as_deref())?;
            let lab = catalog.get(&lab_id)?;
            let docker = docker::connect().await?;
            crate::shell::interactive(&docker, &running.container_id, &lab.user).await
        }
        Command::Restart { target } => {
            let (lab_id, running) = home.load()?.pick(target.lab.as_deref())?;
            let docker = docker::connect().await?;
            progress.set(&format!("rebooting {lab_id}"));
            let started = Instant::now();
            vm::restart(&docker, &lab_id, &as_vm(&running)).await?;
            progress.finish();
            println!(
                "Rebooted {lab_id}; SSH answers again after {:.1} s.",
                started.elapsed().as_secs_f64()
            );
            Ok(exit::OK)
        }
        Command::Stop { lab, all } => stop(&home, lab.as_deref(), all).await,
        Command::Doctor => crate::doctor::run(&home, &catalog).await,
        Command::PackageProxy(args) => {
            packages::serve(args).await?;
            Ok(exit::OK)
        }
        Command::HerokuApi(args) => {
            crate::heroku::serve(args).await?;
            Ok(exit::OK)
        }
        Command::Images { action } => {
            let docker = docker::connect().await?;
            let labs = catalog.all()?;
            let current = images::VmRecipe::for_labs(&labs).image(&home.cache);
            match action {
                ImagesAction::Build => {
                    let started = Instant::now();
                    let image =
                        images::ensure_vm_image(&docker, &home.cache, &labs, &progress).await;
                    progress.finish();
                    let image = image?;
                    println!(
                        "{} is up to date ({:.1} s).",
                        image.tag,
                        started.elapsed().as_secs_f64()
                    );
                }
                ImagesAction::List => {
                    let mut table = Table::new();
                    table.load_style(UTF8_FULL_CONDENSED);
                    table.set_header(vec!["image", "kind", "size", "current"]);
                    for row in images::list(&docker, &current.tag).await? {
                        table.add_row(vec![
                            row.tag,
                            row.kind,
                            format!("{} MB", row.size_mb),
                            if row.current {
                                "✓".into()
                            } else {
                                String::new()
                            },
                        ]);
                    }
                    println!("{table}");
                }
                ImagesAction::Prune => {
                    let removed = images::prune(&docker, &home.cache, &current).await?;
                    println!("Removed {} old image(s).", removed.len());
                }
            }
            Ok(exit::OK)
        }
    }
}

fn labs(catalog: &Catalog) -> Result<i32> {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec!["lab", "environment", "stages", "points", "title"]);
    for lab in catalog.all()? {
        table.add_row(vec![
            lab.id.clone(),
            format!("{:?}", lab.environment).to_lowercase(),
            lab.stages.len().to_string(),
            lab.max_points().to_string(),
            lab.title.clone(),
        ]);
    }
    println!("{table}");
    Ok(exit::OK)
}

struct StartOptions {
    fresh: bool,
    ssh_port: Option<u16>,
    http_port: Option<u16>,
}

/// `start`, with Ctrl-C handled: whatever this start created is removed.
async fn interruptible_start(
    home: &Home,
    catalog: &Catalog,
    docker: &Docker,
    lab: &Lab,
    options: StartOptions,
    progress: &Progress,
) -> Result<RunningLab> {
    let instance = home.instance();
    let existed = !docker::labelled_containers(docker, &instance, Some(&lab.id))
        .await?
        .is_empty();
    crate::interrupt::watch();
    let result = start(home, catalog, docker, lab, &options, progress).await;
    // On failure or Ctrl-C only what this command created goes: a VM that
    // was already there before `start` (and not being replaced) stays.
    if result.is_err() && (!existed || options.fresh) {
        progress.finish();
        docker::remove_lab_resources(docker, &instance, &lab.id).await?;
        let mut state = home.load()?;
        state.labs.remove(&lab.id);
        home.save(&state)?;
    }
    result
}

async fn start(
    home: &Home,
    catalog: &Catalog,
    docker: &Docker,
    lab: &Lab,
    options: &StartOptions,
    progress: &Progress,
) -> Result<RunningLab> {
    let instance = home.instance();
    let mut state = home.load()?;
    let existing = docker::labelled_containers(docker, &instance, Some(&lab.id)).await?;
    let vm_container = existing.iter().find(|c| {
        c.labels
            .as_ref()
            .and_then(|l| l.get(docker::LABEL_ROLE))
            .map(String::as_str)
            == Some("vm")
    });
    if let (false, Some(container), Some(running)) =
        (options.fresh, vm_container, state.labs.get(&lab.id))
        && container.id.as_deref() == Some(running.container_id.as_str())
    {
        // Already there: make sure it runs, and print the details again.
        let vm = as_vm(running);
        let is_running =
            container.state == Some(bollard::models::ContainerSummaryStateEnum::RUNNING);
        if !is_running {
            progress.set(&format!("booting {}", lab.id));
            for c in &existing {
                let _ = docker
                    .start_container(c.id.as_deref().unwrap_or_default(), None)
                    .await;
            }
        }
        vm::wait_for_ssh(docker, &lab.id, &vm).await?;
        let mut running = running.clone();
        // After a host reboot the proxy is gone: bring it back on the port
        // the VM's pip.conf names.
        if let Some(port) = running.proxy_port
            && !running.proxy_pid.is_some_and(packages::is_running)
        {
            let network = docker::network_name(&instance, &lab.id);
            let image = images::VmRecipe::for_labs(&catalog.all()?).image(&home.cache);
            let proxy = start_proxy(docker, home, &network, &image, &lab.id, Some(port)).await?;
            running.proxy_pid = proxy.map(|p| p.pid);
            state.labs.insert(lab.id.clone(), running.clone());
            home.save(&state)?;
        }
        return Ok(running);
    }
    // --fresh, or leftovers the state file does not know (a crash, a deleted
    // state file): replace them, as their ports are unknown.
    docker::remove_lab_resources(docker, &instance, &lab.id).await?;
    state.labs.remove(&lab.id);

    let labs = catalog.all()?;
    let image = tokio::select! {
        image = images::ensure_vm_image(docker, &home.cache, &labs, progress) => image?,
        () = crate::interrupt::requested() => return Err(Error::Interrupted),
    };
    let public_key = state::ensure_ssh_key(&home.key_path())?;
    let network = docker::create_network(docker, &instance, &lab.id).await?;
    crate::interrupt::check()?;
    let proxy = start_proxy(docker, home, &network, &image, &lab.id, None).await?;
    // Stopped again if this start fails or is interrupted from here on.
    let mut proxy_guard = ProxyGuard(proxy.as_ref().map(|p| p.pid));
    // The git server and the VM start side by side; the VM's boot takes
    // longer than the server's, so the repository is there for the student.
    let git_server = async {
        if lab.git_repos.is_empty() {
            return Ok(());
        }
        let repos = gitserver::prepare(catalog, lab, &home.cache)?;
        crate::interrupt::check()?;
        gitserver::start(docker, &lab.id, &instance, &image.tag, &network, &repos).await?;
        Ok(())
    };
    progress.set(&format!("booting {}", lab.id));
    let spec = VmSpec {
        lab: &lab.id,
        instance: &instance,
        image: &image,
        public_key: &public_key,
        ssh_port: options.ssh_port,
        http_port: options.http_port,
        network: Some(&network),
        pip_conf: proxy.as_ref().map(|p| packages::pip_conf(p.address)),
    };
    let (git_server, vm) = tokio::join!(git_server, vm::create_and_boot(docker, &spec));
    git_server?;
    let vm = vm?;
    let running = RunningLab {
        container_id: vm.container_id,
        container_name: vm.container_name,
        image: image.tag,
        ssh_port: vm.ssh_port,
        http_port: vm.http_port,
        started_at: now(),
        proxy_pid: proxy.as_ref().map(|p| p.pid),
        proxy_port: proxy.as_ref().map(|p| p.address.port()),
    };
    proxy_guard.0 = None;
    state.labs.insert(lab.id.clone(), running.clone());
    home.save(&state)?;
    Ok(running)
}

/// Stops a package proxy when dropped, unless disarmed (`.0 = None`).
struct ProxyGuard(Option<u32>);

impl Drop for ProxyGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            packages::stop(pid);
        }
    }
}

/// Starts the lab's package proxy on the host's address in the lab network
/// (Linux hosts; elsewhere the VM keeps the image's offline-only pip.conf).
async fn start_proxy(
    docker: &Docker,
    home: &Home,
    network: &str,
    image: &images::VmImage,
    lab: &str,
    port: Option<u16>,
) -> Result<Option<packages::Running>> {
    if !cfg!(target_os = "linux") {
        return Ok(None);
    }
    let gateway = docker::gateway(docker, network).await?;
    let arch = images::vm_arch(docker).await;
    let container = vm::container_name(lab, &home.instance());
    let log = home.dir.join(format!("package-proxy-{lab}.log"));
    let running = packages::spawn(
        gateway,
        port.unwrap_or(0),
        &image.wheels_dir,
        &home.cache,
        &arch,
        &container,
        &log,
    )
    .await?;
    Ok(Some(running))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn as_vm(running: &RunningLab) -> Vm {
    Vm {
        container_id: running.container_id.clone(),
        container_name: running.container_name.clone(),
        ssh_port: running.ssh_port,
        http_port: running.http_port,
    }
}

/// One check run: all in-VM facts in one probe execution, the host-side
/// facts alongside it, then a pure evaluation.
async fn run_checks(
    home: &Home,
    catalog: &Catalog,
    lab: Option<&str>,
) -> Result<(Lab, Report, u128)> {
    let started = Instant::now();
    let mut state = home.load()?;
    let (lab_id, running) = state.pick(lab)?;
    let lab = catalog.get(&lab_id)?;
    let docker = docker::connect().await?;
    match docker.inspect_container(&running.container_id, None).await {
        Err(e) if docker::is_not_found(&e) => {
            state.labs.remove(&lab_id);
            home.save(&state)?;
            return Err(Error::ContainerGone { lab: lab_id });
        }
        Err(e) => return Err(Error::docker("inspecting the VM")(e)),
        Ok(inspect) if inspect.state.as_ref().and_then(|s| s.running) != Some(true) => {
            return Err(Error::LabNotRunning { lab: lab_id });
        }
        Ok(_) => {}
    }
    let public_key = state::ensure_ssh_key(&home.key_path())?;
    let facts = check::facts_for(&lab);
    let needs_http = lab
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .any(|c| c.expect.needs_http());
    // All at once: the probe's requests over the socket and the host's
    // requests through nginx both wake a socket-activated app, whichever
    // comes first; the probe lists processes after its own requests.
    let http = async {
        match needs_http {
            true => check::http::gather(running.http_port).await,
            false => serde_json::Value::Null,
        }
    };
    let (facts, banner, http) = tokio::join!(
        probe::gather(&docker, &running.container_id, &facts),
        vm::ssh_banner(running.ssh_port, std::time::Duration::from_secs(2)),
        http,
    );
    let host = HostFacts {
        ssh_banner: banner,
        public_key,
        http,
    };
    let report = check::evaluate(&lab, &facts?, &host);
    Ok((lab, report, started.elapsed().as_millis()))
}

async fn status(home: &Home) -> Result<i32> {
    let docker = docker::connect().await?;
    let state = home.load()?;
    let containers = docker::labelled_containers(&docker, &home.instance(), None).await?;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "lab",
        "state",
        "ssh",
        "http",
        "up since",
        "container",
        "package proxy",
    ]);
    for (lab, running) in &state.labs {
        let container = containers
            .iter()
            .find(|c| c.id.as_deref() == Some(running.container_id.as_str()));
        let container_state = container
            .and_then(|c| c.state.map(|s| s.to_string()))
            .unwrap_or_else(|| "gone (start it again)".into());
        table.add_row(vec![
            lab.clone(),
            container_state,
            format!("127.0.0.1:{}", running.ssh_port),
            format!("127.0.0.1:{}", running.http_port),
            since(running.started_at),
            running.container_name.clone(),
            match (running.proxy_pid, running.proxy_port) {
                (Some(pid), Some(port)) if packages::is_running(pid) => format!("port {port}"),
                (_, Some(_)) => "stopped (`start` again)".into(),
                _ => "none (offline wheels only)".into(),
            },
        ]);
    }
    if state.labs.is_empty() {
        println!(
            "No lab is running. `deploylab labs` lists them; `deploylab start <lab>` starts one."
        );
    } else {
        println!("{table}");
    }
    Ok(exit::OK)
}

fn since(epoch_secs: u64) -> String {
    let ago = now().saturating_sub(epoch_secs);
    match ago {
        0..=119 => format!("{ago} s ago"),
        120..=7199 => format!("{} min ago", ago / 60),
        _ => format!("{} h ago", ago / 3600),
    }
}

async fn stop(home: &Home, lab: Option<&str>, all: bool) -> Result<i32> {
    let docker = docker::connect().await?;
    let mut state = home.load()?;
    let instance = home.instance();
    let labs: Vec<String> = if all {
        // Everything labelled for this home, known to the state file or not.
        let mut ids: Vec<String> = state.labs.keys().cloned().collect();
        for c in docker::labelled_containers(&docker, &instance, None).await? {
            if let Some(id) = c.labels.as_ref().and_then(|l| l.get(docker::LABEL_LAB))
                && !ids.contains(id)
            {
                ids.push(id.clone());
            }
        }
        ids
    } else {
        match state.pick(lab) {
            Ok((id, _)) => vec![id],
            Err(Error::NothingRunning) => {
                println!("{}", text::NOTHING_TO_STOP);
                return Ok(exit::OK);
            }
            Err(e) => return Err(e),
        }
    };
    if labs.is_empty() {
        println!("{}", text::NOTHING_TO_STOP);
    }
    for lab in labs {
        if let Some(pid) = state.labs.get(&lab).and_then(|r| r.proxy_pid) {
            packages::stop(pid);
        }
        let removed = docker::remove_lab_resources(&docker, &instance, &lab).await?;
        state.labs.remove(&lab);
        home.save(&state)?;
        println!("{}", text::stopped(&lab, removed));
    }
    Ok(exit::OK)
}

/// The system's ssh client, set up with deploylab's key and the VM's port.
fn ssh_client(home: &Home, lab: &Lab, running: &RunningLab) -> Result<std::process::Command> {
    let Some(ssh) = images::which("ssh") else {
        return Err(Error::MissingTool {
            tool: "ssh",
            purpose: "open an SSH session",
            fix: text::NO_SSH_CLIENT,
        });
    };
    let mut cmd = std::process::Command::new(ssh);
    cmd.arg("-i")
        .arg(home.key_path())
        .args(["-p", &running.ssh_port.to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes"])
        .arg(format!("{}@127.0.0.1", lab.user));
    Ok(cmd)
}

/// Hands over to the system's ssh client.
fn ssh(home: &Home, lab: &Lab, running: &RunningLab, command: &[String]) -> Result<i32> {
    let status = ssh_client(home, lab, running)?
        .args(command)
        .status()
        .map_err(Error::io("running ssh"))?;
    Ok(status.code().unwrap_or(exit::ENVIRONMENT))
}

/// Runs the solution's steps up to `stage` over SSH, as the student would,
/// skipping stages that already pass (the student's own work stays).
async fn solve(
    home: &Home,
    catalog: &Catalog,
    lab: &Lab,
    running: &RunningLab,
    stage: &str,
) -> Result<i32> {
    /// A step whose script says this needs the VM rebooted after it.
    const RESTART: &str = "# deploylab: restart the VM after this step";
    let last = lab.stage_index(stage)?;
    let solution = catalog.solution(&lab.id)?;
    let (_, report, _) = run_checks(home, catalog, Some(&lab.id)).await?;
    for stage in &lab.stages[..=last] {
        let passes = report
            .stages
            .iter()
            .any(|s| s.id == stage.id && s.status == crate::report::Status::Pass);
        if passes {
            println!("· {} already passes", stage.id);
            continue;
        }
        let Some((_, _, step)) = solution.steps.iter().find(|(_, id, _)| *id == stage.id) else {
            continue;
        };
        let started = Instant::now();
        let mut child = ssh_client(home, lab, running)?
            .args(["bash", "-s"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(Error::io("running ssh"))?;
        let script = solution.script(step);
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(script.as_bytes());
        });
        let output = child.wait_with_output().map_err(Error::io("running ssh"))?;
        let _ = writer.join();
        if !output.status.success() {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let lines: Vec<&str> = all.lines().collect();
            return Err(Error::SolutionFailed {
                stage: stage.id.clone(),
                code: output.status.code().unwrap_or(-1),
                tail: lines[lines.len().saturating_sub(15)..].join("\n"),
            });
        }
        if step.contains(RESTART) {
            let docker = docker::connect().await?;
            vm::restart(&docker, &lab.id, &as_vm(running)).await?;
        }
        println!("✓ {} ({:.1} s)", stage.id, started.elapsed().as_secs_f64());
    }
    Ok(exit::OK)
}
