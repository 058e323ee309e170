//! What the heroku lab's checks read, as one typed snapshot: the fake's own
//! records (apps, builds, releases, formation; its dynos as it runs them),
//! the pushed repository, the app's effective Django settings and
//! migration state read by a one-off dyno of the current release, and
//! HTTP through the router. Never what the student could print.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use serde::{Deserialize, Serialize};

use super::api::{App, Phase, State};
use super::dynos::{AppRecord, DynoRecord};
use super::lab::Running;
use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE, remove_container};
use crate::http_answer::Body;

/// Messages of the facts, kept together for translation.
mod text {
    pub(super) fn no_answer(why: &str) -> String {
        format!("no answer from the router: {why}")
    }
}

/// Everything one check run of the heroku lab reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Facts {
    /// Whether the fake runs.
    pub(crate) server: bool,
    /// The app the run is about: the one pushed to last, else the newest.
    pub(crate) app: Option<AppFacts>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppFacts {
    pub(crate) name: String,
    /// Whether a main or master branch was pushed.
    pub(crate) pushed: bool,
    /// The pushed Procfile's process types (`None`: no Procfile).
    pub(crate) procfile: Option<BTreeMap<String, String>>,
    pub(crate) latest_build: Option<BuildFacts>,
    /// The newest release made by a build (not by config or rollback).
    pub(crate) latest_release_of_build: Option<ReleaseFacts>,
    pub(crate) current: Option<ReleaseFacts>,
    pub(crate) formation: BTreeMap<String, u32>,
    pub(crate) dynos: Vec<DynoRecord>,
    pub(crate) last_app_line: Option<String>,
    /// The Heroku Postgres add-on attached to the app, by name (`None`: no
    /// database outlives a dyno).
    #[serde(default)]
    pub(crate) database: Option<String>,
    /// Whether the pushed code is a Django project (a `manage.py` at its
    /// top): only then do Django's settings and migrations apply.
    #[serde(default = "yes")]
    pub(crate) django: bool,
    /// The pushed project's WSGI module (`blog.wsgi`), for hints.
    #[serde(default)]
    pub(crate) wsgi_module: Option<String>,
    /// The effective settings (`None`: no check reads them).
    pub(crate) settings: Option<Result<Settings, String>>,
    /// Answers through the router, by path.
    pub(crate) http: BTreeMap<String, Answer>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildFacts {
    pub(crate) status: Phase,
    pub(crate) commit: String,
    /// Why it failed: the first `!` line of its output.
    pub(crate) reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseFacts {
    pub(crate) version: u32,
    pub(crate) status: Phase,
    pub(crate) commit: Option<String>,
    /// Why its release phase failed: the command's last line (a
    /// traceback's ends with the exception).
    #[serde(default)]
    pub(crate) release_error: Option<String>,
}

/// What the settings dyno printed (see `SETTINGS_SCRIPT`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    pub(crate) debug: bool,
    pub(crate) secret_key_insecure: bool,
    pub(crate) secret_key_length: u64,
    pub(crate) allowed_hosts: Vec<String>,
    #[serde(default)]
    pub(crate) unapplied_migrations: Option<u64>,
    #[serde(default)]
    pub(crate) migrations_error: Option<String>,
    /// Whether another process of the app reads the same SECRET_KEY
    /// (None: it could not be asked).
    #[serde(default)]
    pub(crate) secret_key_stable: Option<bool>,
}

pub(crate) use crate::http_answer::HttpAnswer as Answer;

/// Every fact the lab's checks read, in one pass: `settings` when a check
/// reads them, a request per path in `paths`.
pub(crate) async fn gather(
    docker: &Docker,
    instance: &str,
    running: &Running,
    about: &About<'_>,
) -> crate::error::Result<Facts> {
    let server = super::lab::is_running(running.pid);
    let state: State = std::fs::read_to_string(running.dir.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let picked =
        match about.app {
            Some(name) => Some(state.apps.get(name).cloned().ok_or_else(|| {
                crate::error::Error::NoSuchApp {
                    app: name.to_string(),
                    known: state.apps.keys().cloned().collect::<Vec<_>>().join(", "),
                }
            })?),
            None => pick_app(&state),
        };
    let Some(app) = picked else {
        return Ok(Facts { server, app: None });
    };
    let (settings, paths) = (about.settings, about.paths);
    let repo = super::build::Repo::at(super::git::repo_path(&running.dir, &app.name));
    let procfile = repo
        .show("main:Procfile")
        .or_else(|| repo.show("master:Procfile"))
        .map(|t| super::build::parse_procfile(&t));
    // `main:` is the pushed tree's top folder: cheap, and absent before a push.
    let pushed = repo.show("main:").is_some() || repo.show("master:").is_some();
    let django =
        !pushed || repo.show("main:manage.py").is_some() || repo.show("master:manage.py").is_some();
    // Only a hint for a missing Procfile reads it: one git call per top
    // folder, not made on every check.
    let wsgi = match &procfile {
        Some(types) if !types.is_empty() => None,
        _ if pushed => wsgi_module(&repo),
        _ => None,
    };
    let record = super::dynos::read_records(&running.dir)
        .remove(&app.name)
        .unwrap_or_default();
    let settings = match settings && django {
        true => Some(read_settings(docker, instance, &running.dir, &app).await),
        false => None,
    };
    let mut http = BTreeMap::new();
    for path in paths {
        let answer = request(&running.dir, &app.name, running.ports.router, path).await;
        http.insert((*path).to_string(), answer);
    }
    Ok(Facts {
        server,
        app: Some(AppFacts {
            django,
            wsgi_module: wsgi,
            ..app_facts(&app, pushed, procfile, record, settings, http)
        }),
    })
}

fn app_facts(
    app: &App,
    pushed: bool,
    procfile: Option<BTreeMap<String, String>>,
    record: AppRecord,
    settings: Option<Result<Settings, String>>,
    http: BTreeMap<String, Answer>,
) -> AppFacts {
    let release = |r: &super::api::Release| ReleaseFacts {
        version: r.version,
        status: r.status,
        commit: r.slug.as_ref().map(|s| s.commit.clone()),
        release_error: app
            .builds
            .iter()
            .find(|b| b.release == Some(r.version))
            .and_then(|b| release_failure(&b.output)),
    };
    AppFacts {
        name: app.name.clone(),
        database: app.addons.first().map(|a| a.name.clone()),
        django: true,
        wsgi_module: None,
        pushed,
        procfile,
        latest_build: app.builds.last().map(|b| BuildFacts {
            status: b.status,
            commit: b.commit.clone(),
            reason: build_failure(&b.output),
        }),
        latest_release_of_build: app
            .releases
            .iter()
            .rev()
            .find(|r| r.description.starts_with("Deploy "))
            .map(release),
        current: app.current().map(release),
        formation: app.formation.clone(),
        dynos: record.dynos,
        last_app_line: record.last_app_line,
        settings,
        http,
    }
}

fn yes() -> bool {
    true
}

/// The WSGI module of a pushed tree: `<package>.wsgi` for a top-level
/// package holding `wsgi.py` (Django's layout).
fn wsgi_module(repo: &super::build::Repo) -> Option<String> {
    let tree = repo.show("main:").or_else(|| repo.show("master:"))?;
    tree.lines()
        .filter_map(|l| l.strip_suffix('/'))
        .find(|dir| {
            repo.show(&format!("main:{dir}/wsgi.py"))
                .or_else(|| repo.show(&format!("master:{dir}/wsgi.py")))
                .is_some()
        })
        .map(|dir| format!("{dir}.wsgi"))
}

/// What a check run asks about: which app (None: `pick_app`'s), whether
/// the app's settings are read, and which paths are requested.
pub(crate) struct About<'a> {
    pub(crate) app: Option<&'a str>,
    pub(crate) settings: bool,
    pub(crate) paths: &'a [&'a str],
}

/// The app a check run is about: the one pushed to last, else the newest.
pub(crate) fn pick_app(state: &State) -> Option<App> {
    state
        .apps
        .values()
        .max_by_key(|a| {
            (
                a.builds.last().map(|b| b.created_at.clone()),
                a.created_at.clone(),
            )
        })
        .cloned()
}

/// The last line the release command printed before it failed.
fn release_failure(output: &[String]) -> Option<String> {
    let end = output
        .iter()
        .position(|l| l.contains(super::build::text::RELEASE_FAILED))?;
    output[..end]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| !l.is_empty() && !l.starts_with("Waiting for release"))
        .map(str::to_string)
}

/// The first `!` line of a failed build's output: why it failed.
fn build_failure(output: &[String]) -> Option<String> {
    output
        .iter()
        .find(|l| l.trim_start().starts_with('!') && l.trim_start_matches([' ', '!']).len() > 2)
        .map(|l| l.trim_start_matches([' ', '!']).trim().to_string())
}

/// One request through the router, as a browser that `heroku open`
/// opened sends it: HTTPS to `https://<app>.localhost:<port>`, trusting
/// the fake's CA (so an app that redirects HTTP to HTTPS, as apps on
/// Heroku do, answers as itself).
async fn request(dir: &std::path::Path, app: &str, router: u16, path: &str) -> Answer {
    let host = format!("{app}.localhost");
    let url = format!("https://{host}:{router}{path}");
    let ca = std::fs::read(super::tls::ca_path(dir))
        .map_err(|e| e.to_string())
        .and_then(|pem| reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string()));
    let client = ca.and_then(|ca| {
        reqwest::Client::builder()
            .no_proxy()
            .add_root_certificate(ca)
            .resolve(&host, std::net::SocketAddr::from(([127, 0, 0, 1], router)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(35))
            .build()
            .map_err(|e| e.to_string())
    });
    let client = match client {
        Ok(c) => c,
        Err(e) => return Answer::failed(url, e),
    };
    match client.get(&url).send().await {
        Ok(response) => Answer::read(url, response, Body::Dropped).await,
        Err(e) => Answer::failed(url, text::no_answer(&e.to_string())),
    }
}

/// Reads the app's effective settings and migration state with a one-off
/// dyno of the current release (same image, config and database).
///
/// A second process reads SECRET_KEY again, started first so both Django
/// start-ups overlap: a key made at random when the settings load differs
/// between dynos and restarts, and breaks sessions and CSRF tokens.
const SETTINGS_SCRIPT: &str = r#"
import hashlib, json, subprocess, sys
again = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", "import hashlib; from django.conf import settings; print(hashlib.sha256(str(settings.SECRET_KEY).encode()).hexdigest())"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
from django.conf import settings
facts = {"debug": bool(settings.DEBUG), "secret_key_insecure": str(settings.SECRET_KEY).startswith("django-insecure"), "secret_key_length": len(str(settings.SECRET_KEY)), "allowed_hosts": list(settings.ALLOWED_HOSTS)}
try:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    executor = MigrationExecutor(connection)
    facts["unapplied_migrations"] = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
except Exception as e:
    facts["migrations_error"] = str(e)
try:
    other = again.communicate(timeout=30)[0].strip().splitlines()[-1:]
    facts["secret_key_stable"] = other == [hashlib.sha256(str(settings.SECRET_KEY).encode()).hexdigest()]
except Exception:
    again.kill()
print("DEPLOYLAB-FACTS " + json.dumps(facts))
"#;

async fn read_settings(
    docker: &Docker,
    instance: &str,
    dir: &std::path::Path,
    app: &App,
) -> Result<Settings, String> {
    let Some((release, slug)) = app.current().and_then(|r| r.slug.as_ref().map(|s| (r, s))) else {
        return Err("no release of your code yet (git push heroku main)".into());
    };
    let mut env: Vec<String> = release
        .config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.push("DYNO=run.check".into());
    let config = ContainerCreateBody {
        cmd: Some(vec![
            "python".into(),
            "manage.py".into(),
            "shell".into(),
            "-c".into(),
            SETTINGS_SCRIPT.into(),
        ]),
        env: Some(env),
        labels: Some(HashMap::from([
            (LABEL_LAB.to_string(), "heroku".to_string()),
            (LABEL_INSTANCE.to_string(), instance.to_string()),
            (LABEL_ROLE.to_string(), "check".to_string()),
        ])),
        host_config: Some(HostConfig {
            // The dynos' network: the app's database is there.
            network_mode: Some(crate::docker::network_name(instance, super::lab::LAB)),
            ..crate::limits::DYNO.host_config()
        }),
        ..Default::default()
    };
    let created = super::slug::create_container(docker, dir, &app.name, slug, None, config)
        .await
        .map_err(|e| e.to_string())?;
    let run = async {
        docker.start_container(&created, None).await.ok()?;
        let code = crate::docker::wait_exit(docker, &created).await.ok()?;
        let output = crate::docker::container_logs(docker, &created).await;
        Some((code, output))
    };
    let result = tokio::time::timeout(Duration::from_secs(60), run).await;
    let _ = remove_container(docker, &created).await;
    match result {
        Ok(Some((_, output))) => output
            .lines()
            .find_map(|l| l.strip_prefix("DEPLOYLAB-FACTS "))
            .and_then(|j| serde_json::from_str(j).ok())
            .ok_or_else(|| {
                let last = output.lines().last().unwrap_or_default();
                format!("the app's settings do not load: {last}")
            }),
        Ok(None) => Err("the settings dyno did not run".into()),
        Err(_) => Err("the settings dyno took longer than 60 s".into()),
    }
}
