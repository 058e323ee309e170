//! The container lab's check kinds and their evaluation, from the typed
//! facts in `facts.rs`: one function per kind, pure.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

use serde::Deserialize;

use super::facts::{ContainerState, Facts, MountKind, ImageFacts, ImageSource, Probe, Process, Role, Service};
use crate::i18n::tr;
use crate::verdict::{Outcome, Verdict};

/// What the checks observe, in words of their own, kept together for
/// translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn no_image() -> String {
        tr!("container-no-image")
    }
    pub(super) fn no_probe() -> String {
        tr!("container-no-probe")
    }
    pub(super) fn no_project() -> String {
        tr!("container-no-project")
    }
    pub(super) fn no_nginx() -> String {
        tr!("container-no-nginx")
    }
    pub(super) fn no_db() -> String {
        tr!("container-no-db")
    }
    pub(super) fn not_django() -> String {
        tr!("container-not-django")
    }
    pub(super) fn sqlite() -> String {
        tr!("container-sqlite")
    }
    pub(super) fn connected() -> String {
        tr!("container-connected")
    }
    pub(super) fn not_proven() -> String {
        tr!("container-not-proven")
    }
    pub(super) fn no_url() -> String {
        tr!("container-no-url")
    }
    pub(super) fn loopback() -> String {
        tr!("container-loopback")
    }
    pub(super) fn created_only() -> String {
        tr!("container-created-only")
    }

    pub(super) fn image(id: &str, from: &str) -> String {
        format!("image {} ({from})", super::short_id(id))
    }
    pub(super) fn from_compose(service: &str) -> String {
        tr!("container-from-compose", service = service)
    }
    pub(super) fn from_build() -> String {
        tr!("container-from-build")
    }
    pub(super) fn runs_as(user: &str) -> String {
        tr!("container-runs-as", user = user)
    }
    pub(super) fn root_processes(args: &str) -> String {
        tr!("container-root-processes", args = args)
    }
    pub(super) fn no_user() -> String {
        tr!("container-no-user")
    }
    pub(super) fn stopped(code: i64, tail: &str) -> String {
        format!("{}:\n{tail}", tr!("container-stopped", code = code))
    }
    pub(super) fn nothing_listened(seconds: u64) -> String {
        tr!("container-nothing-listened", seconds = seconds)
    }
    pub(super) fn listens(list: &str, port: u16) -> String {
        tr!("container-listens", list = list, port = port)
    }
    pub(super) fn loopback_only(ip: &str, port: u16) -> String {
        tr!("container-loopback-only", ip = ip, port = port)
    }
    pub(super) fn every_interface(port: u16) -> String {
        tr!("container-every-interface", port = port)
    }
    pub(super) fn not_exposed(list: &str, port: u16) -> String {
        tr!("container-not-exposed", list = list, port = port)
    }
    pub(super) fn workers(found: usize, asked: u32) -> String {
        tr!("container-workers", found = found, asked = asked)
    }
    pub(super) fn no_server() -> String {
        tr!("container-no-server")
    }
    pub(super) fn db_error(error: &str) -> String {
        tr!("container-db-error", error = error)
    }
    pub(super) fn settings_error(error: &str) -> String {
        tr!("container-settings-error", error = error)
    }
    pub(super) fn services(list: &str) -> String {
        tr!("container-services", list = list)
    }
    pub(super) fn missing_roles(list: &str) -> String {
        tr!("container-missing-roles", list = list)
    }
    pub(super) fn app_down(state: &str, code: i64, tail: &str) -> String {
        format!("{}:\n{tail}", tr!("container-app-down", state = state, code = code))
    }
    pub(super) fn service(name: &str, state: &str) -> String {
        tr!("container-service", name = name, state = state)
    }
    pub(super) fn nginx_is(state: &str) -> String {
        tr!("container-nginx-is", state = state)
    }
    pub(super) fn mount(kind: &str, name: &str) -> String {
        tr!("container-mount", kind = kind, name = name)
    }
    pub(super) fn anonymous() -> String {
        tr!("container-anonymous")
    }
    pub(super) fn no_mount(dir: &str) -> String {
        tr!("container-no-mount", dir = dir)
    }
    pub(super) fn other_host(host: &str, names: &str) -> String {
        tr!("container-other-host", host = host, names = names)
    }
    pub(super) fn url_host(variable: &str, host: &str) -> String {
        tr!("container-url-host", variable = variable, host = host)
    }
    pub(super) fn migrations_missing(list: &str) -> String {
        tr!("container-migrations-missing", list = list)
    }
    pub(super) fn none_applied() -> String {
        tr!("container-none-applied")
    }
    pub(super) fn applied(count: usize) -> String {
        tr!("container-applied", count = count)
    }
    pub(super) fn published(ports: &str) -> String {
        tr!("container-published", ports = ports)
    }
    pub(super) fn unpublished() -> String {
        tr!("container-unpublished")
    }
    pub(super) fn statuses(list: &str) -> String {
        tr!("container-statuses", list = list)
    }
    pub(super) fn same_cookie() -> String {
        tr!("container-same-cookie")
    }
    pub(super) fn empty_volume() -> String {
        tr!("container-empty-volume")
    }
    pub(super) fn no_shared() -> String {
        tr!("container-no-shared")
    }
    pub(super) fn not_from_disk(prefix: &str) -> String {
        tr!("container-not-from-disk", prefix = prefix)
    }
    pub(super) fn survived(count: usize) -> String {
        tr!("container-survived", count = count)
    }
    pub(super) fn older() -> String {
        tr!("container-older")
    }
    pub(super) fn lost() -> String {
        tr!("container-lost")
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Check {
    /// The Dockerfile builds (or the project's app image exists).
    ImageBuilds {},
    /// The app runs as a user other than root.
    ImageNonRoot {},
    /// The image sets this variable (non-empty).
    ImageEnv { name: String },
    /// The image declares this port.
    ImageExposes { port: u16 },
    /// The image holds this collected static file.
    ImageStatic { file: String },
    /// No secret in ENV, build arguments or .env files.
    ImageNoSecrets {},
    /// No .git, virtualenv or local database in the image.
    ImageContextClean {},
    /// Run with PORT set, the app listens there.
    ServesOnPort {},
    /// And on every address of the container.
    ListensOnAllInterfaces {},
    /// Run with WEB_CONCURRENCY set, that many workers.
    WorkersFollowEnv {},
    /// Run alone, the app fails on its database, not on SQLite.
    AloneNeedsDatabase {},
    /// App, PostgreSQL and nginx run in one project from this folder.
    ComposeServices {},
    /// The app's container stays up.
    ComposeAppRunning {},
    /// PostgreSQL's data folder is a volume that outlives containers.
    ComposeDbVolume {},
    /// The app's database URL names the database service.
    ComposeAppDatabase {},
    /// PostgreSQL has every migration of the app applied.
    ComposeMigrated {},
    /// nginx's port 80 is published on this host port.
    WebPublished { port: u16 },
    /// This page answers 200 through nginx, from a live Django.
    WebLive { path: String },
    /// nginx serves this static file from the shared volume.
    WebStatic { path: String, file: String },
    /// PostgreSQL's data outlived a database container.
    DataSurvives {},
}

impl Check {
    pub(crate) fn evaluate(&self, facts: &Facts) -> Verdict {
        Ok(match self {
            Check::ImageBuilds {} => builds(facts),
            Check::ImageNonRoot {} => with_image(facts, non_root),
            Check::ImageEnv { name } => with_image(facts, |i, _| env(i, name)),
            Check::ImageExposes { port } => with_image(facts, |i, _| exposes(i, *port)),
            Check::ImageStatic { file } => with_probe(facts, |p| collected(p, file)),
            Check::ImageNoSecrets {} => with_image(facts, no_secrets),
            Check::ImageContextClean {} => with_probe(facts, context_clean),
            Check::ServesOnPort {} => with_probe(facts, serves_on_port),
            Check::ListensOnAllInterfaces {} => with_probe(facts, all_interfaces),
            Check::WorkersFollowEnv {} => with_probe(facts, workers),
            Check::AloneNeedsDatabase {} => with_probe(facts, alone),
            Check::ComposeServices {} => services(facts),
            Check::ComposeAppRunning {} => app_running(facts),
            Check::ComposeDbVolume {} => db_volume(facts),
            Check::ComposeAppDatabase {} => app_database(facts),
            Check::ComposeMigrated {} => migrated(facts),
            Check::WebPublished { port } => published(facts, *port),
            Check::WebLive { .. } => live(facts),
            Check::WebStatic { path, .. } => static_files(facts, path),
            Check::DataSurvives {} => survives(facts),
        })
    }

    /// What the check's expected column says.
    fn expected(&self) -> String {
        match self {
            Check::ImageBuilds {} => tr!("container-expected-image"),
            Check::ImageNonRoot {} => tr!("container-expected-user"),
            Check::ImageEnv { name } => tr!("container-expected-env", name = name),
            Check::ImageExposes { port } => format!("EXPOSE {port}"),
            Check::ImageStatic { file } => tr!("container-expected-static", file = file),
            _ => String::new(),
        }
    }
}

fn short_id(id: &str) -> &str {
    let id = id.trim_start_matches("sha256:");
    &id[..id.len().min(12)]
}

fn with_image(facts: &Facts, judge: impl Fn(&ImageFacts, Option<&Probe>) -> Outcome) -> Outcome {
    match &facts.image {
        Some(image) => judge(image, facts.probe.as_ref()),
        None => Outcome::fail("", text::no_image()),
    }
}

fn with_probe(facts: &Facts, judge: impl Fn(&Probe) -> Outcome) -> Outcome {
    match (&facts.image, &facts.probe) {
        (None, _) => Outcome::fail("", text::no_image()),
        (Some(_), None) => Outcome::fail("", text::no_probe()),
        (Some(_), Some(probe)) => match &probe.trouble {
            Some(trouble) => Outcome::fail("", trouble.clone()),
            None => judge(probe),
        },
    }
}

fn builds(facts: &Facts) -> Outcome {
    let expected = Check::ImageBuilds {}.expected();
    match (&facts.image, &facts.image_error) {
        (Some(image), _) => {
            let from = match &image.source {
                ImageSource::Compose { service } => text::from_compose(service),
                ImageSource::Built => text::from_build(),
            };
            Outcome::pass(expected, text::image(&image.id, &from))
        }
        (None, Some(error)) => Outcome::fail(expected, error.clone()),
        (None, None) => Outcome::fail(expected, text::no_image()),
    }
}

fn non_root(image: &ImageFacts, probe: Option<&Probe>) -> Outcome {
    let expected = Check::ImageNonRoot {}.expected();
    let user = image.user.split(':').next().unwrap_or_default();
    if matches!(user, "" | "root" | "0") {
        return Outcome::fail(expected, text::no_user());
    }
    let root: Vec<&str> = probe
        .map(|p| {
            p.processes
                .iter()
                .filter(|p| p.uid == 0)
                .map(|p| p.args.as_str())
                .collect()
        })
        .unwrap_or_default();
    match root.first() {
        Some(args) => Outcome::fail(expected, text::root_processes(args)),
        None => Outcome::pass(expected, text::runs_as(&image.user)),
    }
}

fn env(image: &ImageFacts, name: &str) -> Outcome {
    let expected = Check::ImageEnv { name: name.into() }.expected();
    match image.env.get(name).filter(|v| !v.is_empty()) {
        Some(value) => Outcome::pass(expected, format!("{name}={value}")),
        None => Outcome::fail(expected, tr!("container-env-not-set", name = name)),
    }
}

fn exposes(image: &ImageFacts, port: u16) -> Outcome {
    let expected = Check::ImageExposes { port }.expected();
    let observed = match image.exposed.is_empty() {
        true => tr!("container-no-expose"),
        false => format!("EXPOSE {}", image.exposed.join(" ")),
    };
    let passed = image.exposed.iter().any(|p| *p == format!("{port}/tcp"));
    Outcome::new(passed, expected, observed)
}

fn collected(probe: &Probe, file: &str) -> Outcome {
    let expected = Check::ImageStatic { file: file.into() }.expected();
    match probe.files.as_ref().map(|f| f.static_files.as_slice()) {
        Some([first, ..]) => Outcome::pass(expected, first.clone()),
        Some([]) => Outcome::fail(expected, tr!("container-no-static", file = file)),
        None => Outcome::fail(expected, tr!("container-files-unread-python")),
    }
}

fn no_secrets(image: &ImageFacts, probe: Option<&Probe>) -> Outcome {
    let dotenv = probe
        .and_then(|p| p.files.as_ref())
        .map(|f| f.dotenv.clone())
        .unwrap_or_default();
    let mut found: Vec<String> = image
        .secrets_in_config
        .iter()
        .map(|s| tr!("container-secret-in", name = s))
        .collect();
    found.extend(dotenv);
    match found.is_empty() {
        true => Outcome::pass(tr!("container-no-secret"), tr!("container-no-secret-found")),
        false => Outcome::fail(tr!("container-no-secret"), found.join(", ")),
    }
}

fn context_clean(probe: &Probe) -> Outcome {
    let expected = tr!("container-context-expected");
    let Some(files) = &probe.files else {
        return Outcome::fail(expected, tr!("container-files-unread"));
    };
    let found: Vec<&String> = files
        .git
        .iter()
        .chain(&files.venvs)
        .chain(&files.databases)
        .collect();
    match found.is_empty() {
        true => Outcome::pass(expected, "none"),
        false => Outcome::fail(
            expected,
            found
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}

/// Why the app could not be watched listening, if it could not.
fn not_listening(probe: &Probe) -> Option<String> {
    if let Some(exited) = &probe.exited {
        return Some(text::stopped(exited.code, &exited.log_tail));
    }
    probe
        .listening
        .is_empty()
        .then(|| text::nothing_listened(40))
}

fn serves_on_port(probe: &Probe) -> Outcome {
    let expected = tr!("container-port-expected", port = probe.port);
    if let Some(why) = not_listening(probe) {
        return Outcome::fail(expected, why);
    }
    match probe.listening.iter().find(|l| l.port == probe.port) {
        Some(l) => Outcome::pass(expected, format!("{}:{}", l.ip, l.port)),
        None => {
            let list: Vec<String> = probe
                .listening
                .iter()
                .map(|l| format!("{}:{}", l.ip, l.port))
                .collect();
            Outcome::fail(expected, text::listens(&list.join(", "), probe.port))
        }
    }
}

fn all_interfaces(probe: &Probe) -> Outcome {
    let Some(built) = &probe.as_built else {
        return Outcome::fail("", text::no_probe());
    };
    let port = built.exposed.unwrap_or(8000);
    let expected = text::every_interface(port);
    if let Some(exited) = &built.exited {
        return Outcome::fail(expected, text::stopped(exited.code, &exited.log_tail));
    }
    let on_port: Vec<_> = built.listening.iter().filter(|l| l.port == port).collect();
    match (
        on_port.iter().find(|l| l.is_any()),
        on_port.first(),
        built.listening.first(),
    ) {
        (Some(l), _, _) => Outcome::pass(expected, format!("{}:{}", l.ip, l.port)),
        (None, Some(l), _) => Outcome::fail(expected, text::loopback_only(&l.ip, l.port)),
        (None, None, Some(_)) => {
            let list: Vec<String> = built
                .listening
                .iter()
                .map(|l| format!("{}:{}", l.ip, l.port))
                .collect();
            Outcome::fail(expected, text::not_exposed(&list.join(", "), port))
        }
        (None, None, None) => Outcome::fail(expected, text::nothing_listened(40)),
    }
}

/// The app server's master and its workers.
fn server_workers(processes: &[Process]) -> Option<usize> {
    let is_server = |p: &&Process| {
        ["gunicorn", "uvicorn", "hypercorn"]
            .iter()
            .any(|s| p.args.contains(s))
    };
    let servers: Vec<&Process> = processes.iter().filter(is_server).collect();
    let master = servers
        .iter()
        .find(|p| !servers.iter().any(|q| q.pid == p.ppid))?;
    Some(
        processes
            .iter()
            .filter(|p| p.ppid == master.pid && !p.args.contains("resource_tracker"))
            .count(),
    )
}

fn workers(probe: &Probe) -> Outcome {
    let expected = format!(
        "{} workers (WEB_CONCURRENCY={})",
        probe.workers, probe.workers
    );
    if let Some(why) = not_listening(probe) {
        return Outcome::fail(expected, why);
    }
    match server_workers(&probe.processes) {
        Some(n) => Outcome::new(
            n == probe.workers as usize,
            expected,
            text::workers(n, probe.workers),
        ),
        None => Outcome::fail(expected, text::no_server()),
    }
}

/// Words in a database error, whichever driver raised it.
fn is_database_error(text: &str) -> bool {
    [
        "OperationalError",
        "could not translate host name",
        "Connection refused",
        "connection refused",
        "could not connect",
        "connection to server",
        "Name or service not known",
        "Temporary failure in name resolution",
    ]
    .iter()
    .any(|w| text.contains(w))
}

fn alone(probe: &Probe) -> Outcome {
    let expected = tr!("container-db-error-expected");
    if let Some(exited) = &probe.exited {
        let line = exited
            .log_tail
            .lines()
            .rev()
            .find(|l| is_database_error(l))
            .map(str::to_string);
        return match line {
            Some(line) => Outcome::pass(expected, text::db_error(line.trim())),
            None => Outcome::fail(expected, text::stopped(exited.code, &exited.log_tail)),
        };
    }
    let Some(db) = &probe.database else {
        return Outcome::fail(expected, text::not_django());
    };
    match (db.vendor.as_str(), &db.error) {
        ("sqlite", _) => Outcome::fail(expected, text::sqlite()),
        ("", Some(error)) if is_database_error(error) => {
            Outcome::pass(expected, text::db_error(error))
        }
        ("", error) => Outcome::fail(
            expected,
            text::settings_error(error.as_deref().unwrap_or_default()),
        ),
        (_, Some(error)) => Outcome::pass(expected, text::db_error(error)),
        (_, None) => Outcome::fail(expected, text::connected()),
    }
}

fn describe_services(services: &[Service]) -> String {
    services
        .iter()
        .map(|s| text::service(&s.service, s.state.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn services(facts: &Facts) -> Outcome {
    let expected = tr!("container-services-expected");
    let stack = &facts.stack;
    if stack.project.is_none() {
        return Outcome::fail(expected, text::no_project());
    }
    let missing: Vec<&str> = [
        (Role::App, "app"),
        (Role::Db, "PostgreSQL"),
        (Role::Web, "nginx"),
    ]
    .into_iter()
    .filter(|(role, _)| {
        !stack
            .services
            .iter()
            .any(|s| s.role == *role && s.state == ContainerState::Running)
    })
    .map(|(_, name)| name)
    .collect();
    let list = describe_services(&stack.services);
    match missing.is_empty() {
        true => Outcome::pass(expected, text::services(&list)),
        false => Outcome::fail(
            expected,
            format!(
                "{}; {}",
                text::missing_roles(&missing.join(", ")),
                text::services(&list)
            ),
        ),
    }
}

fn app_running(facts: &Facts) -> Outcome {
    let expected = tr!("container-app-up-expected");
    match facts.stack.with_role(Role::App) {
        None => Outcome::fail(expected, text::no_project()),
        Some(app) if app.state == ContainerState::Running => {
            Outcome::pass(expected, app.state.name())
        }
        Some(app) => Outcome::fail(
            expected,
            text::app_down(app.state.name(), app.exit_code, &app.log_tail),
        ),
    }
}

fn db_volume(facts: &Facts) -> Outcome {
    let expected = tr!("container-volume-expected");
    let Some(db) = &facts.stack.db else {
        return Outcome::fail(expected, text::no_db());
    };
    match &db.mount {
        Some(m) if m.named || m.kind == MountKind::Bind => {
            Outcome::pass(expected, text::mount(m.kind.name(), &m.name))
        }
        Some(_) => Outcome::fail(expected, text::anonymous()),
        None => Outcome::fail(expected, text::no_mount(&db.data_dir)),
    }
}

fn app_database(facts: &Facts) -> Outcome {
    let expected = tr!("container-db-url-expected");
    let stack = &facts.stack;
    let Some(db) = stack.with_role(Role::Db) else {
        return Outcome::fail(expected, text::no_db());
    };
    let Some(url) = &stack.app_database_url else {
        return Outcome::fail(expected, text::no_url());
    };
    let observed = text::url_host(&url.variable, &url.host);
    if ["localhost", "127.0.0.1", "::1", "0.0.0.0"].contains(&url.host.as_str()) {
        return Outcome::fail(expected, format!("{observed}: {}", text::loopback()));
    }
    match db.aliases.contains(&url.host) {
        true => Outcome::pass(expected, observed),
        false => Outcome::fail(
            expected,
            text::other_host(&url.host, &db.aliases.join(", ")),
        ),
    }
}

fn migrated(facts: &Facts) -> Outcome {
    let expected = tr!("container-migrated-expected");
    let Some(db) = &facts.stack.db else {
        return Outcome::fail(expected, text::no_db());
    };
    let applied = match &db.migrations {
        Ok(applied) => applied,
        Err(why) => return Outcome::fail(expected, why.clone()),
    };
    if applied.is_empty() {
        return Outcome::fail(expected, text::none_applied());
    }
    let own = facts
        .probe
        .as_ref()
        .and_then(|p| p.files.as_ref())
        .map(|f| f.migrations.clone())
        .unwrap_or_default();
    let missing: Vec<&String> = own.iter().filter(|m| !applied.contains(m)).collect();
    match missing.is_empty() {
        true => Outcome::pass(expected, text::applied(applied.len())),
        false => Outcome::fail(
            expected,
            text::migrations_missing(
                &missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ),
    }
}

fn published(facts: &Facts, port: u16) -> Outcome {
    let expected = tr!("container-published-expected", port = port);
    let Some(nginx) = facts.stack.with_role(Role::Web) else {
        return Outcome::fail(expected, text::no_nginx());
    };
    let ports: Vec<String> = nginx.published_80.iter().map(u16::to_string).collect();
    match (nginx.published_80.contains(&port), nginx.state) {
        (true, ContainerState::Running) => {
            Outcome::pass(expected, text::published(&ports.join(", ")))
        }
        (true, ContainerState::Created) => Outcome::fail(expected, text::created_only()),
        (true, state) => Outcome::fail(expected, text::nginx_is(state.name())),
        (false, _) if ports.is_empty() => Outcome::fail(expected, text::unpublished()),
        (false, _) => Outcome::fail(expected, text::published(&ports.join(", "))),
    }
}

fn describe_answer(a: &super::facts::Answer) -> String {
    match (&a.error, a.status) {
        (Some(e), _) => e.clone(),
        (None, Some(status)) => status.to_string(),
        (None, None) => a.status_text(),
    }
}

/// Django's CSRF cookie: a live Django sets a new one for every visitor.
const CSRF_COOKIE: &str = "csrftoken";

fn live(facts: &Facts) -> Outcome {
    let expected = "200 twice, each with a new CSRF cookie";
    let Some(web) = &facts.web else {
        return Outcome::fail(expected, text::no_nginx());
    };
    let list: Vec<String> = web.live.iter().map(describe_answer).collect();
    let observed = text::statuses(&list.join(", "));
    if !web.live.iter().all(|a| a.is(200)) {
        return Outcome::fail(expected, observed);
    }
    let cookies: Vec<&str> = web
        .live
        .iter()
        .filter_map(|a| a.cookie(CSRF_COOKIE))
        .collect();
    match cookies.as_slice() {
        [a, b] if a != b => Outcome::pass(expected, observed),
        _ => Outcome::fail(expected, text::same_cookie()),
    }
}

fn static_files(facts: &Facts, prefix: &str) -> Outcome {
    let expected = "200 from a file in the shared volume";
    let Some(web) = &facts.web else {
        return Outcome::fail(expected, text::no_nginx());
    };
    let answer = web
        .static_file
        .as_ref()
        .map(describe_answer)
        .unwrap_or_default();
    if web.volume_files == Some(0) {
        return Outcome::fail(expected, text::empty_volume());
    }
    if web.static_file.as_ref().is_none_or(|a| !a.is(200)) {
        return Outcome::fail(expected, text::statuses(&answer));
    }
    match &web.from_disk {
        None => Outcome::fail(expected, text::no_shared()),
        Some(Ok(true)) => Outcome::pass(expected, text::statuses(&answer)),
        Some(Ok(false)) => Outcome::fail(expected, text::not_from_disk(prefix)),
        Some(Err(why)) => Outcome::fail(expected, why.clone()),
    }
}

fn survives(facts: &Facts) -> Outcome {
    let expected = tr!("container-survives-expected");
    let p = &facts.persistence;
    match (p.container.as_ref(), p.survived.len(), p.lost.is_empty()) {
        (None, ..) => Outcome::fail(expected, text::no_db()),
        (Some(_), n, _) if n > 0 => Outcome::pass(expected, text::survived(n)),
        (Some(_), ..) if p.older_than_container => Outcome::pass(expected, text::older()),
        (Some(_), 0, false) => Outcome::fail(expected, text::lost()),
        _ => Outcome::fail(expected, text::not_proven()),
    }
}
