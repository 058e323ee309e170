//! Dynos: the formation of each app's current release, kept running as
//! containers. A dyno gets `PORT`, `DYNO`, `WEB_CONCURRENCY`, the release's
//! config vars and a Basic dyno's limits; a web dyno is "up" once it
//! accepts connections on `$PORT` (R10 if not within the boot timeout);
//! a crashed dyno is restarted with a growing delay. Every state change is
//! logged as `heroku[web.1]` lines, the process's output as `app[web.1]`.
//!
//! A dyno's filesystem is its own and goes with it, as on Heroku: data
//! that must last lives in the Heroku Postgres add-on (`addons`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{LogsOptionsBuilder, StopContainerOptionsBuilder};
use futures_util::StreamExt;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::Fake;
use super::api::error;
use super::api::{Answer, App, Slug};
use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE, remove_container};
use crate::error::{Error, Result};

pub(crate) const LABEL_APP: &str = "deploylab.heroku.app";
pub(crate) const LABEL_DYNO: &str = "deploylab.heroku.dyno";

/// Messages of the dyno manager, kept together for translation.
mod text {
    pub(crate) fn starting(command: &str) -> String {
        format!("Starting process with command `{command}`")
    }
    pub(crate) fn state(from: &str, to: &str) -> String {
        format!("State changed from {from} to {to}")
    }
    pub(crate) fn exited(code: i64) -> String {
        format!("Process exited with status {code}")
    }
    pub(crate) fn r10(seconds: u64) -> String {
        format!(
            "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within {seconds} seconds of launch"
        )
    }
    pub(crate) const STOPPING: &str = "Stopping all processes with SIGTERM";
    pub(crate) const KILLING: &str = "Stopping process with SIGKILL";
    pub(crate) const NO_DYNO: &str = "Couldn't find that dyno.";
    pub(crate) const NO_RELEASE: &str =
        "No release has been deployed yet: push your code first (git push heroku main).";
}

/// Where a dyno is in its life, as Heroku spells it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DynoState {
    Starting,
    Up,
    Crashed,
    Down,
}

impl DynoState {
    pub(crate) fn word(self) -> &'static str {
        match self {
            DynoState::Starting => "starting",
            DynoState::Up => "up",
            DynoState::Crashed => "crashed",
            DynoState::Down => "down",
        }
    }
}

/// What `dynos.json` holds of an app, for `deploylab check` (which runs in
/// another process than the fake): written by `Fake::save_dynos`, read by
/// `heroku::facts`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppRecord {
    pub(crate) dynos: Vec<DynoRecord>,
    /// The last line its web processes printed.
    pub(crate) last_app_line: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DynoRecord {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) state: DynoState,
    pub(crate) release: u32,
    /// Why its last run ended, if it crashed.
    #[serde(default)]
    pub(crate) crash: Option<Crash>,
}

/// How a dyno's run ended badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Crash {
    /// R10: a web process that did not bind `$PORT` in time.
    BootTimeout { seconds: u64 },
    /// The process exited by itself.
    Exited { code: i64 },
}

const RECORDS: &str = "dynos.json";

/// Every app's record, by app name (empty when the file is unreadable).
pub(crate) fn read_records(dir: &std::path::Path) -> BTreeMap<String, AppRecord> {
    std::fs::read_to_string(dir.join(RECORDS))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub(crate) fn write_records(dir: &std::path::Path, records: &BTreeMap<String, AppRecord>) {
    let text = serde_json::to_string(records).expect("records serialize");
    if let Err(e) = crate::state::write_atomically(&dir.join(RECORDS), text.as_bytes()) {
        tracing::warn!("{RECORDS}: {e}");
    }
}

/// What the API and the router see of a dyno.
#[derive(Debug, Clone)]
pub(crate) struct DynoView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) command: String,
    pub(crate) state: DynoState,
    pub(crate) release: u32,
    pub(crate) since: SystemTime,
    /// Where a web dyno listens, once up.
    pub(crate) address: Option<SocketAddr>,
    /// Why its last run ended, if it crashed.
    pub(crate) crash: Option<Crash>,
}

/// Every app's dynos, as they are now.
#[derive(Default)]
pub(crate) struct Dynos {
    apps: std::sync::Mutex<BTreeMap<String, BTreeMap<String, DynoView>>>,
    /// Per-dyno restarts asked for by `ps:restart web.1`.
    restarts: std::sync::Mutex<HashMap<(String, String), u64>>,
    /// Round-robin position of the router per app.
    next: std::sync::Mutex<HashMap<String, usize>>,
}

impl Dynos {
    pub(crate) fn of(&self, app: &str) -> Vec<DynoView> {
        self.apps
            .lock()
            .expect("dyno lock")
            .get(app)
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn all(&self) -> BTreeMap<String, Vec<DynoView>> {
        self.apps
            .lock()
            .expect("dyno lock")
            .iter()
            .map(|(app, d)| (app.clone(), d.values().cloned().collect()))
            .collect()
    }

    fn set(&self, app: &str, view: DynoView) {
        self.apps
            .lock()
            .expect("dyno lock")
            .entry(app.to_string())
            .or_default()
            .insert(view.name.clone(), view);
    }

    fn remove(&self, app: &str, name: &str) {
        if let Some(dynos) = self.apps.lock().expect("dyno lock").get_mut(app) {
            dynos.remove(name);
        }
    }

    /// The next up web dyno for the router, round robin.
    pub(crate) fn pick_web(&self, app: &str) -> Option<DynoView> {
        let up: Vec<DynoView> = self
            .of(app)
            .into_iter()
            .filter(|d| d.kind == "web" && d.state == DynoState::Up && d.address.is_some())
            .collect();
        if up.is_empty() {
            return None;
        }
        let mut next = self.next.lock().expect("router lock");
        let n = next.entry(app.to_string()).or_default();
        *n = (*n + 1) % up.len();
        Some(up[*n].clone())
    }
}

/// One dyno the formation asks for; a change of any field replaces it.
#[derive(Debug, Clone, PartialEq)]
struct Want {
    app: String,
    name: String,
    kind: String,
    command: String,
    slug: Slug,
    release: u32,
    generation: u64,
    config: BTreeMap<String, String>,
}

async fn wanted(fake: &Fake) -> Vec<Want> {
    let apps = fake.apps().await;
    let restarts = fake.dynos.restarts.lock().expect("dyno lock").clone();
    let mut wants = Vec::new();
    for app in apps {
        let Some(release) = app.current() else {
            continue;
        };
        let Some(slug) = &release.slug else { continue };
        for (kind, command) in &slug.process_types {
            let quantity = app.formation.get(kind).copied().unwrap_or(0);
            for n in 1..=quantity {
                let name = format!("{kind}.{n}");
                let extra = restarts.get(&(app.name.clone(), name.clone())).copied();
                wants.push(Want {
                    app: app.name.clone(),
                    kind: kind.clone(),
                    command: command.clone(),
                    slug: slug.clone(),
                    release: release.version,
                    generation: app.restarts + extra.unwrap_or(0),
                    config: release.config.clone(),
                    name,
                });
            }
        }
    }
    wants
}

/// Keeps every app's dynos as its formation says, woken by changes.
pub(crate) async fn manage(fake: Arc<Fake>) {
    let mut dynos = fakekit::reconcile::Reconciler::default();
    let mut changes = fake.changes.subscribe();
    loop {
        let asked = *changes.borrow_and_update();
        let wants = wanted(&fake)
            .await
            .into_iter()
            .map(|w| ((w.app.clone(), w.name.clone()), w))
            .collect();
        // Heroku stops the old dynos before the new ones start.
        dynos
            .apply(wants, |want, cancel| {
                tokio::spawn(run_dyno(fake.clone(), want.clone(), cancel))
            })
            .await;
        forget_destroyed_apps(&fake).await;
        fake.applied.send_replace(asked);
        if changes.changed().await.is_err() {
            return;
        }
    }
}

/// Removes what destroyed apps left: repository, logs, database and
/// slugs.
async fn forget_destroyed_apps(fake: &Fake) {
    let apps: Vec<String> = fake
        .platform
        .lock()
        .await
        .state
        .apps
        .keys()
        .cloned()
        .collect();
    let repos = fake.dir.join("repos");
    for entry in std::fs::read_dir(&repos).into_iter().flatten().flatten() {
        let name = entry
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".git")
            .to_string();
        if !apps.contains(&name) {
            let _ = std::fs::remove_dir_all(entry.path());
            fake.logs.forget(&name);
            super::addons::forget(fake, &name).await;
            if let Some(docker) = fake.docker() {
                super::slug::forget(docker, &fake.instance, &fake.dir, &name).await;
            }
        }
    }
}

fn container_name(fake: &Fake, app: &str, dyno: &str) -> String {
    format!(
        "deploylab-heroku-{}-{app}-{}",
        crate::docker::short(&fake.instance),
        dyno.replace('.', "-")
    )
}

/// Removes the dyno containers a previous run of the fake left.
pub(crate) async fn remove_leftovers(fake: &Fake) -> Result<()> {
    let Some(docker) = fake.docker() else {
        return Ok(());
    };
    for c in crate::docker::labelled_containers(docker, &fake.instance, Some("heroku")).await? {
        if let Some(id) = c.id {
            remove_container(docker, &id).await?;
        }
    }
    Ok(())
}

/// How long a web dyno has to bind `$PORT` (Heroku: 60 s).
fn boot_timeout() -> Duration {
    super::seconds_from_env("DEPLOYLAB_HEROKU_BOOT_TIMEOUT", 60)
}

/// What a process in a dyno sees, as on Heroku.
fn dyno_env(config: &BTreeMap<String, String>, dyno: &str, port: u16) -> Vec<String> {
    let mut env: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    env.extend([
        format!("PORT={port}"),
        format!("DYNO={dyno}"),
        "WEB_CONCURRENCY=2".into(),
        "GUNICORN_CMD_ARGS=--access-logfile -".into(),
        "PYTHONUNBUFFERED=true".into(),
    ]);
    env
}

struct Container<'a> {
    app: &'a str,
    dyno: &'a str,
    slug: &'a Slug,
    command: &'a str,
    env: Vec<String>,
    /// `heroku run`: stdin attached.
    interactive: bool,
    /// A web dyno's `$PORT`, published for the router
    /// (`docker::published_host`): the router never routes to the
    /// container's own address, which only a Linux engine host reaches.
    publish: Option<u16>,
}

/// Creates (not starts) a dyno's container, its slug unpacked.
async fn create(fake: &Fake, spec: &Container<'_>) -> Result<String> {
    let docker = fake.docker().expect("dynos need Docker");
    let name = container_name(fake, spec.app, spec.dyno);
    remove_container(docker, &name).await?;
    let config = ContainerCreateBody {
        hostname: Some(spec.dyno.to_string()),
        // Heroku runs a process type's command through bash.
        cmd: Some(vec!["bash".into(), "-c".into(), spec.command.to_string()]),
        env: Some(spec.env.clone()),
        open_stdin: Some(spec.interactive),
        stdin_once: Some(spec.interactive),
        attach_stdin: Some(spec.interactive),
        attach_stdout: Some(spec.interactive),
        attach_stderr: Some(spec.interactive),
        labels: Some(HashMap::from([
            (LABEL_LAB.to_string(), "heroku".to_string()),
            (LABEL_INSTANCE.to_string(), fake.instance.clone()),
            (LABEL_ROLE.to_string(), "dyno".to_string()),
            (LABEL_APP.to_string(), spec.app.to_string()),
            (LABEL_DYNO.to_string(), spec.dyno.to_string()),
        ])),
        exposed_ports: spec
            .publish
            .map(|port| vec![format!("{port}/tcp")]),
        host_config: Some(HostConfig {
            network_mode: fake.runtime.as_ref().and_then(|r| r.network.clone()),
            port_bindings: spec.publish.map(|port| {
                HashMap::from([(
                    format!("{port}/tcp"),
                    Some(vec![bollard::models::PortBinding {
                        host_ip: Some(crate::docker::published_host().to_string()),
                        // Any free port: the router asks the engine which.
                        host_port: Some(String::new()),
                    }]),
                )])
            }),
            // A Basic dyno: 512 MB, a share of the CPU, bounded processes.
            ..crate::limits::DYNO.host_config()
        }),
        ..Default::default()
    };
    super::slug::create_container(docker, &fake.dir, spec.app, spec.slug, Some(&name), config).await
}

/// Copies a container's output into the app's log as `app[<dyno>]` lines
/// (and, for the release phase, to the push).
async fn follow_output(
    fake: &Fake,
    app: &str,
    dyno: &str,
    container: &str,
    mut also: Option<&mut super::build::Say>,
) {
    let docker = fake.docker().expect("dynos need Docker");
    let options = LogsOptionsBuilder::default()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut stream = docker.logs(container, Some(options));
    let mut pending = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        pending.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            fake.logs.add(app, "app", dyno, line.trim_end());
            if let Some(say) = also.as_deref_mut() {
                say.line(line.trim_end()).await;
            }
        }
    }
    if !pending.trim().is_empty() {
        fake.logs.add(app, "app", dyno, &pending);
        if let Some(say) = also {
            say.line(pending.trim_end()).await;
        }
    }
}

/// A random port for `$PORT`, as Heroku gives (apps must not assume one).
fn random_port() -> u16 {
    10_000 + (uuid::Uuid::new_v4().as_u128() % 50_000) as u16
}

/// Waits until the dyno's app listens on `$PORT` where the router can
/// reach it (not on its loopback only: Heroku's R10 too), as the
/// container's own sockets say; then where the router reaches it. A
/// published port alone proves nothing: Docker's proxy accepts
/// connections before anything listens behind it.
async fn wait_bound(docker: &bollard::Docker, container: &str, port: u16) -> SocketAddr {
    loop {
        if crate::docker::listens(docker, container, port).await
            && let Some(at) = crate::docker::published_at(docker, container, port).await
        {
            return at;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One dyno over its life: start, watch, restart after crashes, stop when
/// the formation no longer wants it.
async fn run_dyno(fake: Arc<Fake>, want: Want, cancel: CancellationToken) {
    let docker = fake.docker().cloned().expect("dynos need Docker");
    let (app, dyno) = (want.app.as_str(), want.name.as_str());
    let heroku = |line: &str| fake.logs.add(app, "heroku", dyno, line);
    let id = uuid::Uuid::new_v4().to_string();
    let mut view = DynoView {
        id,
        name: want.name.clone(),
        kind: want.kind.clone(),
        command: want.command.clone(),
        state: DynoState::Starting,
        release: want.release,
        since: SystemTime::now(),
        address: None,
        crash: None,
    };
    // Heroku restarts a crashed dyno at once the first time, then waits
    // longer after each crash.
    let mut backoff = fakekit::reconcile::Backoff::new(Duration::from_secs(5), Duration::from_secs(300));
    let mut previous = DynoState::Down;
    loop {
        let port = random_port();
        let change = |view: &mut DynoView, to: DynoState| {
            heroku(&text::state(view.state.word(), to.word()));
            view.state = to;
            view.since = SystemTime::now();
            fake.dynos.set(app, view.clone());
            fake.save_dynos();
        };
        view.address = None;
        view.state = previous;
        change(&mut view, DynoState::Starting);
        heroku(&text::starting(&want.command));
        let spec = Container {
            app,
            dyno,
            slug: &want.slug,
            command: &want.command,
            env: dyno_env(&want.config, dyno, port),
            interactive: false,
            publish: (want.kind == "web").then_some(port),
        };
        let container = match create(&fake, &spec).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!("{app} {dyno}: {e}");
                heroku(&e.to_string());
                change(&mut view, DynoState::Crashed);
                break;
            }
        };
        if let Err(e) = docker.start_container(&container, None).await {
            tracing::warn!("{app} {dyno}: {e}");
        }
        let output = {
            let fake = fake.clone();
            let (app, dyno, container) = (app.to_string(), dyno.to_string(), container.clone());
            tokio::spawn(async move { follow_output(&fake, &app, &dyno, &container, None).await })
        };
        let exited = crate::docker::wait_exit(&docker, &container);
        tokio::pin!(exited);
        // A web dyno is up once it accepts connections on $PORT.
        let mut stopped = false;
        let mut code = None;
        let mut timed_out = false;
        if want.kind == "web" {
            tokio::select! {
                address = wait_bound(&docker, &container, port) => {
                    view.address = Some(address);
                    view.crash = None;
                    change(&mut view, DynoState::Up);
                }
                result = &mut exited => code = Some(result.unwrap_or(-1)),
                () = tokio::time::sleep(boot_timeout()) => {
                    heroku(&text::r10(boot_timeout().as_secs()));
                    timed_out = true;
                    heroku(text::KILLING);
                    let _ = docker.kill_container(&container, None::<bollard::query_parameters::KillContainerOptions>).await;
                    code = Some((&mut exited).await.unwrap_or(137));
                }
                () = cancel.cancelled() => stopped = true,
            }
        } else {
            change(&mut view, DynoState::Up);
        }
        if code.is_none() && !stopped {
            tokio::select! {
                result = &mut exited => code = Some(result.unwrap_or(-1)),
                () = cancel.cancelled() => stopped = true,
            }
        }
        if stopped {
            heroku(text::STOPPING);
            let options = StopContainerOptionsBuilder::default().t(10).build();
            let _ = docker.stop_container(&container, Some(options)).await;
            let code = exited.await.unwrap_or(143);
            let _ = output.await;
            heroku(&text::exited(code));
            change(&mut view, DynoState::Down);
            let _ = remove_container(&docker, &container).await;
            fake.dynos.remove(app, dyno);
            fake.save_dynos();
            return;
        }
        let _ = output.await;
        heroku(&text::exited(code.unwrap_or(-1)));
        view.crash = Some(match timed_out {
            true => Crash::BootTimeout {
                seconds: boot_timeout().as_secs(),
            },
            false => Crash::Exited {
                code: code.unwrap_or(-1),
            },
        });
        change(&mut view, DynoState::Crashed);
        let _ = remove_container(&docker, &container).await;
        previous = DynoState::Crashed;
        let delay = backoff.after_crash();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = cancel.cancelled() => {
                fake.dynos.remove(app, dyno);
                fake.save_dynos();
                return;
            }
        }
    }
}

/// Runs a release's `release:` command in a one-off dyno, its output
/// going to the push and the log. True if it exited 0.
pub(crate) async fn release_phase(
    fake: &Fake,
    app: &str,
    slug: &Slug,
    version: u32,
    command: &str,
    say: &mut super::build::Say,
) -> bool {
    let Some(docker) = fake.docker().cloned() else {
        return false;
    };
    let config = fake
        .platform
        .lock()
        .await
        .find(app)
        .and_then(|a| {
            a.releases
                .iter()
                .find(|r| r.version == version)
                .map(|r| r.config.clone())
        })
        .unwrap_or_default();
    let dyno = format!("release.{}", 1000 + version % 9000);
    let heroku = |line: &str| fake.logs.add(app, "heroku", &dyno, line);
    heroku(&text::starting(command));
    let spec = Container {
        app,
        dyno: &dyno,
        slug,
        command,
        env: dyno_env(&config, &dyno, random_port()),
        interactive: false,
        publish: None,
    };
    let container = match create(fake, &spec).await {
        Ok(c) => c,
        Err(e) => {
            say.line(&format!(" !     {e}")).await;
            return false;
        }
    };
    if docker.start_container(&container, None).await.is_err() {
        let _ = remove_container(&docker, &container).await;
        return false;
    }
    heroku(&text::state("starting", "up"));
    follow_output(fake, app, &dyno, &container, Some(say)).await;
    let code = crate::docker::wait_exit(&docker, &container)
        .await
        .unwrap_or(-1);
    heroku(&text::exited(code));
    heroku(&text::state("up", "complete"));
    let _ = remove_container(&docker, &container).await;
    code == 0
}

/// A `heroku run` dyno, created with stdin open, for the rendezvous.
pub(crate) async fn create_run(
    fake: &Fake,
    app: &str,
    dyno: &str,
    command: &str,
    extra_env: &BTreeMap<String, String>,
) -> Result<String> {
    let found = fake.platform.lock().await.find(app);
    let release = found.as_ref().and_then(|a| a.current()).cloned();
    let Some((release, slug)) = release.and_then(|r| r.slug.clone().map(|s| (r, s))) else {
        return Err(Error::Platform {
            message: text::NO_RELEASE.into(),
        });
    };
    let mut config = release.config.clone();
    config.extend(extra_env.clone());
    fake.logs.add(app, "heroku", dyno, &text::starting(command));
    create(
        fake,
        &Container {
            app,
            dyno,
            slug: &slug,
            command,
            env: dyno_env(&config, dyno, random_port()),
            interactive: true,
            publish: None,
        },
    )
    .await
}

fn dyno_json(app: &App, d: &DynoView) -> Value {
    let release = app.releases.iter().find(|r| r.version == d.release);
    json!({
        "attach_url": null,
        "app": { "id": app.id, "name": app.name },
        "command": d.command,
        "created_at": super::api::iso8601(d.since),
        "id": d.id,
        "name": d.name,
        "release": { "id": release.map(|r| r.id.clone()), "version": d.release },
        "size": "Basic",
        "state": d.state,
        "type": d.kind,
        "updated_at": super::api::iso8601(d.since),
    })
}

/// The API endpoints that touch running things: dynos (list, restart,
/// `run`) and log sessions. `None`: not one of these.
pub(crate) async fn answer(
    fake: &Fake,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Option<Answer> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let ["apps", app, rest @ ..] = segments.as_slice() else {
        return None;
    };
    if !matches!(rest.first(), Some(&"dynos" | &"log-sessions")) {
        return None;
    }
    let platform = fake.platform.lock().await;
    if !platform.authorized(authorization) {
        return None; // the platform answers 401
    }
    let Some(app) = platform.find(app) else {
        return None; // the platform answers 404
    };
    drop(platform);
    let views = fake.dynos.of(&app.name);
    Some(match (method, rest) {
        (&Method::GET, ["dynos"]) => (
            StatusCode::OK,
            Value::Array(views.iter().map(|d| dyno_json(&app, d)).collect()),
        ),
        (&Method::GET, ["dynos", name]) => match views.iter().find(|d| d.name == *name) {
            Some(d) => (StatusCode::OK, dyno_json(&app, d)),
            None => error(StatusCode::NOT_FOUND, "not_found", text::NO_DYNO),
        },
        (&Method::DELETE, ["dynos"]) => {
            fake.platform.lock().await.restart(&app.name);
            fake.apply_changes().await;
            fake.logs.add(
                &app.name,
                "app",
                "api",
                "Restart by user student@deploylab.test",
            );
            (StatusCode::ACCEPTED, json!({}))
        }
        (&Method::DELETE, ["dynos", name]) => {
            let name = if name.contains('.') {
                name.to_string()
            } else {
                format!("{name}.1")
            };
            *fake
                .dynos
                .restarts
                .lock()
                .expect("dyno lock")
                .entry((app.name.clone(), name))
                .or_default() += 1;
            fake.apply_changes().await;
            (StatusCode::ACCEPTED, json!({}))
        }
        (&Method::POST, ["dynos"]) => super::rendezvous::start_run(fake, &app, body),
        (&Method::POST, ["log-sessions"]) => super::logs::create_session(fake, &app.name, body),
        _ => return None,
    })
}
