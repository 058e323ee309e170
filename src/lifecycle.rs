//! A lab's environment over its life: `start` (images, network, git
//! server, package proxy, VM; Ctrl-C safe), `status` and `stop`.

use std::time::{SystemTime, UNIX_EPOCH};

use bollard::Docker;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::docker;
use crate::error::{Error, Result, exit};
use crate::gitserver;
use crate::images;
use crate::lab::{Catalog, Lab};
use crate::packages;
use crate::progress::Progress;
use crate::state::{self, Home, RunningLab};
use crate::vm::{self, Vm, VmSpec};

/// Messages shown here, kept together for translation.
mod text {
    pub const NOTHING_TO_STOP: &str = "Nothing to stop: no lab is running.";

    pub fn stopped(lab: &str, containers: usize) -> String {
        format!("Stopped {lab}: removed {containers} container(s).")
    }
}

pub struct StartOptions {
    pub fresh: bool,
    pub ssh_port: Option<u16>,
    pub http_port: Option<u16>,
}

/// `start`, with Ctrl-C handled: whatever this start created is removed.
pub async fn interruptible_start(
    home: &Home,
    catalog: &Catalog,
    docker: &Docker,
    lab: &Lab,
    options: StartOptions,
    progress: &Progress,
) -> Result<RunningLab> {
    if lab.environment == crate::lab::Environment::Heroku {
        crate::interrupt::watch();
        let result = crate::heroku::lab::start(
            home,
            catalog,
            docker,
            lab,
            options.fresh,
            options.http_port,
            progress,
        )
        .await;
        // On failure or Ctrl-C its network goes too (the fake's process
        // is stopped by the start itself); the apps stay.
        if result.is_err() {
            progress.finish();
            docker::remove_lab_resources(docker, &home.instance(), &lab.id).await?;
        }
        return result;
    }
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
    home.pin_host_key(vm.ssh_port, &vm::host_key(docker, &vm).await?)?;
    let running = RunningLab {
        container_id: vm.container_id,
        container_name: vm.container_name,
        image: image.tag,
        ssh_port: vm.ssh_port,
        http_port: vm.http_port,
        started_at: now(),
        proxy_pid: proxy.as_ref().map(|p| p.pid),
        proxy_port: proxy.as_ref().map(|p| p.address.port()),
        heroku: None,
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

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

pub fn as_vm(running: &RunningLab) -> Vm {
    Vm {
        container_id: running.container_id.clone(),
        container_name: running.container_name.clone(),
        ssh_port: running.ssh_port,
        http_port: running.http_port,
    }
}

pub async fn status(home: &Home) -> Result<i32> {
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
        if let Some(heroku) = &running.heroku {
            let alive = crate::heroku::lab::is_running(heroku.pid);
            table.add_row(vec![
                lab.clone(),
                if alive {
                    "running"
                } else {
                    "stopped (`start` again)"
                }
                .into(),
                "-".into(),
                format!("127.0.0.1:{} (router)", heroku.ports.router),
                since(running.started_at),
                format!("fake Heroku, pid {}, API :{}", heroku.pid, heroku.ports.api),
                "-".into(),
            ]);
            continue;
        }
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

pub async fn stop(home: &Home, lab: Option<&str>, all: bool) -> Result<i32> {
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
        if let Some(h) = state.labs.get(&lab).and_then(|r| r.heroku.as_ref()) {
            crate::heroku::lab::stop_server(h.pid);
        }
        let removed = docker::remove_lab_resources(&docker, &instance, &lab).await?;
        state.labs.remove(&lab);
        home.save(&state)?;
        println!("{}", text::stopped(&lab, removed));
    }
    Ok(exit::OK)
}
