//! The heroku lab's checks. Facts come from outside the app, never from
//! what the student could print: the fake's own records (apps, builds,
//! releases, formation; its dynos as it runs them), the pushed repository,
//! the app's effective Django settings and migration state read by a
//! one-off dyno of the current release, and HTTP through the router.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{App, State};
use super::lab::HerokuRunning;
use crate::check::Outcome;
use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE, remove_container};

/// The kinds of check a heroku lab.yaml may use.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HerokuCheck {
    /// An app exists on the fake.
    HerokuApp {},
    /// The pushed Procfile declares this process type running this program.
    HerokuProcfile { process: String, program: String },
    /// The latest build of the app succeeded.
    HerokuBuildSucceeded {},
    /// The current release runs the latest successful build, and its
    /// release phase (if any) succeeded.
    HerokuReleased {},
    /// The app's database has every migration applied.
    HerokuMigrated {},
    /// Effective settings: DEBUG off.
    HerokuDebugOff {},
    /// Effective settings: a SECRET_KEY of the app's own.
    HerokuSecretKey {},
    /// Effective settings: ALLOWED_HOSTS lets the app's router host in.
    HerokuAllowedHosts {},
    /// At least one web dyno is up, running the current release.
    HerokuWebDyno {},
    /// A request through the router gets this status (and content type).
    HerokuHttp {
        path: String,
        status: u16,
        #[serde(default)]
        content_type: Option<String>,
    },
}

impl HerokuCheck {
    /// Whether this check needs the one-off dyno reading the settings.
    fn needs_settings(&self) -> bool {
        matches!(
            self,
            HerokuCheck::HerokuMigrated {}
                | HerokuCheck::HerokuDebugOff {}
                | HerokuCheck::HerokuSecretKey {}
                | HerokuCheck::HerokuAllowedHosts {}
        )
    }

    /// The request paths this check reads.
    fn path(&self) -> Option<&str> {
        match self {
            HerokuCheck::HerokuHttp { path, .. } => Some(path),
            _ => None,
        }
    }

    pub fn evaluate(&self, facts: &Value) -> Outcome {
        let app = &facts["app"];
        if !facts["server"].as_bool().unwrap_or(false) {
            return outcome(
                false,
                "the fake Heroku running",
                "it is not running: `deploylab start heroku`",
            );
        }
        if app.is_null() && !matches!(self, HerokuCheck::HerokuApp {}) {
            return outcome(false, "an app", "no app yet (heroku create)");
        }
        let name = app["name"].as_str().unwrap_or_default();
        match self {
            HerokuCheck::HerokuApp {} => match name {
                "" => outcome(false, "an app", "no app yet"),
                name => outcome(true, "an app", format!("app {name}")),
            },
            HerokuCheck::HerokuProcfile { process, program } => {
                let expected = format!("a Procfile `{process}:` process running {program}");
                if !app["pushed"].as_bool().unwrap_or(false) {
                    return outcome(false, expected, "nothing pushed yet (git push heroku main)");
                }
                match app["procfile"].get(process).and_then(Value::as_str) {
                    None if app["procfile"].as_object().is_none_or(|o| o.is_empty()) => outcome(
                        false,
                        expected,
                        "the pushed code has no Procfile (or it declares no process)",
                    ),
                    None => outcome(
                        false,
                        expected,
                        format!("the Procfile declares no `{process}:` process"),
                    ),
                    Some(command) => {
                        let runs = command
                            .split_whitespace()
                            .any(|word| word.rsplit('/').next() == Some(program.as_str()));
                        outcome(runs, expected, format!("{process}: {command}"))
                    }
                }
            }
            HerokuCheck::HerokuBuildSucceeded {} => {
                let build = &app["latest_build"];
                match build["status"].as_str() {
                    None => outcome(
                        false,
                        "a successful build",
                        "no build yet (git push heroku main)",
                    ),
                    Some("succeeded") => {
                        outcome(true, "a successful build", "the latest build succeeded")
                    }
                    Some(status) => outcome(
                        false,
                        "a successful build",
                        format!(
                            "the latest build {status}: {}",
                            build["reason"].as_str().unwrap_or("see the push's output")
                        ),
                    ),
                }
            }
            HerokuCheck::HerokuReleased {} => {
                let expected = "the latest build released and current";
                let current = &app["current"];
                let latest = &app["latest_release_of_build"];
                match (latest["status"].as_str(), current["version"].as_u64()) {
                    (None, _) => outcome(false, expected, "no release of a build yet"),
                    (Some("failed"), _) => outcome(
                        false,
                        expected,
                        format!("the release phase of v{} failed", latest["version"]),
                    ),
                    (Some("pending"), _) => outcome(
                        false,
                        expected,
                        format!("v{} is still in its release phase", latest["version"]),
                    ),
                    (Some(_), Some(v)) if current["commit"] == latest["commit"] => outcome(
                        true,
                        expected,
                        format!("v{v} runs commit {}", short(&current["commit"])),
                    ),
                    (Some(_), v) => outcome(
                        false,
                        expected,
                        format!(
                            "the current release (v{}) runs commit {}, not the latest build's {} (a rollback?)",
                            v.unwrap_or(0),
                            short(&current["commit"]),
                            short(&latest["commit"])
                        ),
                    ),
                }
            }
            HerokuCheck::HerokuMigrated {} => {
                let settings = &app["settings"];
                match settings["unapplied_migrations"].as_u64() {
                    Some(0) => outcome(true, "every migration applied", "all applied"),
                    Some(n) => outcome(
                        false,
                        "every migration applied",
                        format!("{n} migration(s) not applied"),
                    ),
                    None => outcome(false, "every migration applied", settings_problem(settings)),
                }
            }
            HerokuCheck::HerokuDebugOff {} => {
                let settings = &app["settings"];
                match settings["debug"].as_bool() {
                    Some(false) => outcome(true, "DEBUG = False", "DEBUG = False"),
                    Some(true) => outcome(false, "DEBUG = False", "DEBUG = True"),
                    None => outcome(false, "DEBUG = False", settings_problem(settings)),
                }
            }
            HerokuCheck::HerokuSecretKey {} => {
                let settings = &app["settings"];
                let expected = "a SECRET_KEY of the app's own (50 characters or more)";
                match (
                    settings["secret_key_insecure"].as_bool(),
                    settings["secret_key_length"].as_u64(),
                ) {
                    (Some(false), Some(n)) if n >= 50 => {
                        outcome(true, expected, format!("{n} characters"))
                    }
                    (Some(true), _) => {
                        outcome(false, expected, "the development key (django-insecure-…)")
                    }
                    (Some(false), Some(n)) => {
                        outcome(false, expected, format!("only {n} characters"))
                    }
                    _ => outcome(false, expected, settings_problem(settings)),
                }
            }
            HerokuCheck::HerokuAllowedHosts {} => {
                let settings = &app["settings"];
                let host = format!("{name}.localhost");
                let expected = format!("ALLOWED_HOSTS accepting {host}");
                let Some(hosts) = settings["allowed_hosts"].as_array() else {
                    return outcome(false, expected, settings_problem(settings));
                };
                let hosts: Vec<&str> = hosts.iter().filter_map(Value::as_str).collect();
                let ok = hosts.iter().any(|h| host_allowed(h, &host));
                outcome(ok, expected, format!("{hosts:?}"))
            }
            HerokuCheck::HerokuWebDyno {} => {
                let expected = "a web dyno up, running the current release";
                let current = app["current"]["version"].as_u64();
                let webs: Vec<&Value> = app["dynos"]
                    .as_array()
                    .map(|d| d.iter().filter(|d| d["type"] == "web").collect())
                    .unwrap_or_default();
                if app["formation"]["web"].as_u64().unwrap_or(0) == 0 {
                    return outcome(
                        false,
                        expected,
                        "no web dynos: the formation has web=0 or no web process (H14)",
                    );
                }
                let up = webs
                    .iter()
                    .any(|d| d["state"] == "up" && d["release"].as_u64() == current);
                if up {
                    return outcome(
                        true,
                        expected,
                        format!("web dyno(s) up on v{}", current.unwrap_or(0)),
                    );
                }
                let states: Vec<String> = webs
                    .iter()
                    .map(|d| {
                        format!(
                            "{} {}",
                            d["name"].as_str().unwrap_or("?"),
                            d["state"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                let last = app["last_app_line"].as_str().unwrap_or_default();
                let why = if last.is_empty() {
                    String::new()
                } else {
                    format!("; last output: {last}")
                };
                outcome(
                    false,
                    expected,
                    format!(
                        "{}{why}",
                        if states.is_empty() {
                            "no web dyno".into()
                        } else {
                            states.join(", ")
                        }
                    ),
                )
            }
            HerokuCheck::HerokuHttp {
                path,
                status,
                content_type,
            } => {
                let expected = match content_type {
                    Some(t) => format!("{status} ({t}) for http://{name}.localhost{path}"),
                    None => format!("{status} for http://{name}.localhost{path}"),
                };
                let answer = &app["http"][path.as_str()];
                if let Some(error) = answer["error"].as_str() {
                    return outcome(false, expected, error.to_string());
                }
                let got = answer["status"].as_u64().unwrap_or(0);
                let got_type = answer["content_type"].as_str().unwrap_or_default();
                let type_ok = content_type
                    .as_deref()
                    .is_none_or(|t| got_type.starts_with(t));
                let served_current =
                    answer["release"].as_u64() == app["current"]["version"].as_u64();
                let mut observed = format!("{got} ({got_type})");
                if let Some(code) = answer["router_error"].as_str() {
                    observed = format!("{observed}, router error {code}");
                }
                if got == 400 {
                    observed.push_str(", Bad Request: DisallowedHost?");
                }
                if got == u64::from(*status) && type_ok && !served_current {
                    observed.push_str(", but served by a dyno of an older release");
                }
                outcome(
                    got == u64::from(*status) && type_ok && served_current,
                    expected,
                    observed,
                )
            }
        }
    }
}

fn outcome(passed: bool, expected: impl Into<String>, observed: impl Into<String>) -> Outcome {
    Outcome {
        passed,
        expected: expected.into(),
        observed: observed.into(),
    }
}

fn short(commit: &Value) -> String {
    commit.as_str().unwrap_or("?").chars().take(8).collect()
}

fn settings_problem(settings: &Value) -> String {
    settings["error"]
        .as_str()
        .unwrap_or("the app's settings could not be read (deploy it first)")
        .to_string()
}

/// Django's ALLOWED_HOSTS matching: exact, `.suffix`, or `*`.
pub fn host_allowed(pattern: &str, host: &str) -> bool {
    pattern == "*"
        || pattern.eq_ignore_ascii_case(host)
        || (pattern.starts_with('.')
            && (host.ends_with(pattern) || host.eq_ignore_ascii_case(&pattern[1..])))
}

/// The app a check run is about: the one pushed to last, else the newest.
fn pick_app(state: &State) -> Option<App> {
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

/// Every fact the lab's checks read, in one pass.
pub async fn gather(
    docker: &Docker,
    instance: &str,
    running: &HerokuRunning,
    checks: &[&HerokuCheck],
) -> Value {
    let server = super::lab::is_running(running.pid);
    let state: State = std::fs::read_to_string(running.dir.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let Some(app) = pick_app(&state) else {
        return json!({ "server": server, "app": null });
    };
    let repo = super::build::Repo::at(super::git::repo_path(&running.dir, &app.name));
    let pushed_procfile = repo
        .show("main:Procfile")
        .or_else(|| repo.show("master:Procfile"));
    // `main:` is the pushed tree's top folder: cheap, and absent before a push.
    let pushed = repo.show("main:").is_some() || repo.show("master:").is_some();
    let latest_build = app.builds.last().map(
        |b| json!({ "status": b.status, "commit": b.commit, "reason": build_failure(&b.output) }),
    );
    let latest_slug_release = app
        .releases
        .iter()
        .rev()
        .find(|r| r.description.starts_with("Deploy "))
        .map(|r| json!({ "version": r.version, "status": r.status, "commit": r.slug.as_ref().map(|s| s.commit.clone()) }));
    let current = app.current().map(
        |r| json!({ "version": r.version, "commit": r.slug.as_ref().map(|s| s.commit.clone()) }),
    );
    let runtime: Value = std::fs::read_to_string(running.dir.join("dynos.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let app_runtime = &runtime[app.name.as_str()];
    let settings = if checks.iter().any(|c| c.needs_settings()) {
        read_settings(docker, instance, &app).await
    } else {
        Value::Null
    };
    let mut http = serde_json::Map::new();
    for path in checks.iter().filter_map(|c| c.path()) {
        http.insert(
            path.to_string(),
            request(&app.name, running.ports.router, path).await,
        );
    }
    json!({
        "server": server,
        "app": {
            "name": app.name,
            "pushed": pushed,
            "procfile": pushed_procfile.map(|t| super::build::parse_procfile(&t)),
            "latest_build": latest_build,
            "latest_release_of_build": latest_slug_release,
            "current": current,
            "formation": app.formation,
            "dynos": app_runtime["dynos"],
            "last_app_line": app_runtime["last_app_line"],
            "settings": settings,
            "http": http,
        }
    })
}

/// The first `!` line of a failed build's output: why it failed.
fn build_failure(output: &[String]) -> Option<String> {
    output
        .iter()
        .find(|l| l.trim_start().starts_with('!') && l.trim_start_matches([' ', '!']).len() > 2)
        .map(|l| l.trim_start_matches([' ', '!']).trim().to_string())
}

/// One request through the router, as a browser would send it.
async fn request(app: &str, router: u16, path: &str) -> Value {
    let client = match reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(35))
        .build()
    {
        Ok(c) => c,
        Err(e) => return json!({ "error": e.to_string() }),
    };
    let url = format!("http://127.0.0.1:{router}{path}");
    match client
        .get(&url)
        .header("host", format!("{app}.localhost:{router}"))
        .send()
        .await
    {
        Ok(response) => {
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            json!({
                "status": response.status().as_u16(),
                "content_type": header("content-type"),
                "release": header(super::router::RELEASE_HEADER).and_then(|v| v.parse::<u64>().ok()),
                "router_error": header(super::router::ERROR_HEADER),
            })
        }
        Err(e) => json!({ "error": format!("no answer from the router: {e}") }),
    }
}

/// Reads the app's effective settings and migration state with a one-off
/// dyno of the current release (same image, config and database).
const SETTINGS_SCRIPT: &str = r#"
import json
from django.conf import settings
facts = {"debug": bool(settings.DEBUG), "secret_key_insecure": str(settings.SECRET_KEY).startswith("django-insecure"), "secret_key_length": len(str(settings.SECRET_KEY)), "allowed_hosts": list(settings.ALLOWED_HOSTS)}
try:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    executor = MigrationExecutor(connection)
    facts["unapplied_migrations"] = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
except Exception as e:
    facts["migrations_error"] = str(e)
print("DEPLOYLAB-FACTS " + json.dumps(facts))
"#;

async fn read_settings(docker: &Docker, instance: &str, app: &App) -> Value {
    let Some((release, slug)) = app.current().and_then(|r| r.slug.as_ref().map(|s| (r, s))) else {
        return json!({ "error": "no release of your code yet (git push heroku main)" });
    };
    let mut env: Vec<String> = release
        .config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.push("DYNO=run.check".into());
    let config = ContainerCreateBody {
        image: Some(slug.image.clone()),
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
            network_mode: Some("none".into()),
            memory: Some(512 * 1024 * 1024),
            binds: Some(vec![format!(
                "{}:{}:ro",
                super::dynos::volume_name_for(instance, &app.name),
                super::dynos::DATA_DIR
            )]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = match docker
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            config,
        )
        .await
    {
        Ok(c) => c.id,
        Err(e) => return json!({ "error": crate::docker::describe(&e) }),
    };
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
            .unwrap_or_else(|| {
                let last = output.lines().last().unwrap_or_default();
                json!({ "error": format!("the app's settings do not load: {last}") })
            }),
        Ok(None) => json!({ "error": "the settings dyno did not run" }),
        Err(_) => json!({ "error": "the settings dyno took longer than 60 s" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_hosts_match_like_djangos() {
        assert!(host_allowed("blog.localhost", "blog.localhost"));
        assert!(host_allowed(".localhost", "blog.localhost"));
        assert!(host_allowed("*", "blog.localhost"));
        assert!(!host_allowed("localhost", "blog.localhost"));
        assert!(!host_allowed("other.localhost", "blog.localhost"));
    }

    #[test]
    fn a_web_dyno_must_run_the_current_release() {
        let facts = |state: &str, release: u64| {
            json!({ "server": true, "app": {
                "name": "blog", "current": { "version": 5 }, "formation": { "web": 1 },
                "dynos": [{ "name": "web.1", "type": "web", "state": state, "release": release }],
            }})
        };
        let check = HerokuCheck::HerokuWebDyno {};
        assert!(check.evaluate(&facts("up", 5)).passed);
        assert!(!check.evaluate(&facts("up", 4)).passed);
        assert!(!check.evaluate(&facts("crashed", 5)).passed);
        let scaled_down =
            json!({ "server": true, "app": { "name": "blog", "formation": { "web": 0 } } });
        assert!(check.evaluate(&scaled_down).observed.contains("H14"));
    }

    #[test]
    fn the_procfile_must_run_the_program() {
        let facts = |procfile: Value| json!({ "server": true, "app": { "name": "b", "pushed": true, "procfile": procfile } });
        let check = HerokuCheck::HerokuProcfile {
            process: "web".into(),
            program: "gunicorn".into(),
        };
        assert!(
            check
                .evaluate(&facts(json!({ "web": "gunicorn blog.wsgi" })))
                .passed
        );
        assert!(
            check
                .evaluate(&facts(
                    json!({ "web": ".heroku/python/bin/gunicorn blog.wsgi" })
                ))
                .passed
        );
        assert!(
            !check
                .evaluate(&facts(json!({ "web": "python manage.py runserver" })))
                .passed
        );
        assert!(
            !check
                .evaluate(&facts(json!({ "web": "echo gunicorn-is-great" })))
                .passed
        );
        assert!(!check.evaluate(&facts(json!(null))).passed);
    }
}
