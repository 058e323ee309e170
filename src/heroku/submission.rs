//! The heroku lab's work as a submission, and back.
//!
//! Captured: the app the checks judge (the last one built), its config
//! vars, formation and release history, its Heroku Postgres plan and the
//! database's contents (`pg_dump`), and its git repository (a bundle of
//! every ref) with the commit its current release runs.
//!
//! Restored into a fresh fake as a student would have made it, through the
//! fake's own API and git endpoint: the app created, the database added
//! and loaded, its config set, the released commit pushed (built again from
//! the same stack and wheels, the release phase run), the formation
//! scaled; then the web dyno is awaited.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::api::{App, Phase, State};
use super::lab::Running;
use crate::error::{Error, Result};

/// How long a restored web dyno may take to come up (a build's dyno
/// answers within seconds; a crashing one never does, and that is graded).
const WEB_UP_TIMEOUT: Duration = Duration::from_secs(90);

/// Messages, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn not_built() -> String {
        tr!("notes-heroku-not-built")
    }
    pub(super) fn web_not_up() -> String {
        tr!("notes-heroku-web-not-up")
    }

    pub(super) fn api(what: &str, why: &str) -> String {
        tr!("notes-heroku-api", what = what, why = why)
    }
}

/// The heroku side of a submission (`state.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct HerokuWork {
    /// None: no app was made yet (a fresh lab's submission).
    pub(crate) app: Option<String>,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) formation: BTreeMap<String, u32>,
    /// The commit the current release runs (none before a build).
    pub(crate) released_commit: Option<String>,
    /// The release history, for the instructor (v1 … vN: description, status).
    pub(crate) releases: Vec<String>,
    /// The Heroku Postgres plan (`essential-0`), if the app had the add-on;
    /// its contents are `database.sql` beside the repository.
    #[serde(default)]
    pub(crate) database: Option<String>,
}

/// The app the checks judge and its repository, as a submission's parts.
pub(crate) async fn capture(
    docker: &bollard::Docker,
    instance: &str,
    running: &Running,
) -> Result<(HerokuWork, Vec<u8>)> {
    let state: State = std::fs::read_to_string(running.dir.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let Some(app) = super::facts::pick_app(&state) else {
        let none = HerokuWork {
            app: None,
            config: BTreeMap::new(),
            formation: BTreeMap::new(),
            released_commit: None,
            releases: Vec::new(),
            database: None,
        };
        return Ok((none, pack(&[], None)?));
    };
    let released_commit = app
        .releases
        .iter()
        .rev()
        .find(|r| r.status == Phase::Succeeded)
        .and_then(|r| r.slug.as_ref())
        .map(|s| s.commit.clone());
    let repo = super::git::repo_path(&running.dir, &app.name);
    let bundle = match released_commit {
        Some(_) => bundle(&repo)?,
        None => Vec::new(),
    };
    let database = match app.addons.first() {
        Some(addon) => Some(super::addons::dump(docker, instance, &app.name, addon).await?),
        None => None,
    };
    let work = HerokuWork {
        app: Some(app.name.clone()),
        config: app.config.clone(),
        formation: app.formation.clone(),
        released_commit,
        releases: history(&app),
        database: app.addons.first().map(|a| a.plan.clone()),
    };
    Ok((work, pack(&bundle, database.as_deref())?))
}

fn history(app: &App) -> Vec<String> {
    app.releases
        .iter()
        .map(|r| format!("v{}: {} ({})", r.version, r.description, r.status.word()))
        .collect()
}

/// Every ref of a repository, as one `git bundle`.
fn bundle(repo: &Path) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir().map_err(Error::io("bundling the app's repository"))?;
    let file = dir.path().join("app.bundle");
    git(
        &[
            "-C",
            &repo.display().to_string(),
            "bundle",
            "create",
            &file.display().to_string(),
            "--all",
        ],
        &[],
    )?;
    std::fs::read(&file).map_err(Error::io("bundling the app's repository"))
}

const BUNDLE: &str = "app.bundle";
const DATABASE: &str = "database.sql";

/// The bundle and the database's SQL inside a tar.gz (`files.tar.gz` of
/// every submission).
fn pack(bundle: &[u8], database: Option<&str>) -> Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut archive = tar::Builder::new(gz);
    let files = [
        (BUNDLE, Some(bundle)),
        (DATABASE, database.map(str::as_bytes)),
    ];
    for (name, contents) in files {
        let Some(contents) = contents else { continue };
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        archive
            .append_data(&mut header, name, contents)
            .map_err(Error::io("packing the app's repository"))?;
    }
    archive
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .map_err(Error::io("packing the app's repository"))
}

/// The bundle (empty if none) and the database's SQL, if any.
fn unpack(files: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    let bad = |_| Error::SubmissionState {
        why: "its files are not the app's repository".into(),
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(files));
    let (mut bundle, mut database) = (Vec::new(), None);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.display().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(bad)?;
        match name.as_str() {
            BUNDLE => bundle = bytes,
            DATABASE => database = Some(bytes),
            _ => {}
        }
    }
    Ok((bundle, database))
}

fn git(args: &[&str], env: &[(String, String)]) -> Result<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(Error::io("running git"))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.success() {
        true => Ok(said),
        false => Err(Error::Capture { why: said }),
    }
}

/// Restores the work into a fresh fake. Returns notes for the instructor.
pub(crate) async fn restore(
    docker: &bollard::Docker,
    instance: &str,
    running: &Running,
    work: &HerokuWork,
    files: &[u8],
) -> Result<Vec<String>> {
    let mut notes = work.releases.clone();
    let Some(app) = &work.app else {
        return Ok(notes);
    };
    let api = Api::new(running)?;
    api.send(
        reqwest::Method::POST,
        "/apps",
        serde_json::json!({ "name": app }),
        "creating the app",
    )
    .await?;
    let (bundle, sql) = unpack(files)?;
    let mut config = work.config.clone();
    if let Some(plan) = &work.database {
        // The add-on sets DATABASE_URL (a new server's); the old one goes.
        config.remove(super::addons::CONFIG_VAR);
        let plan = format!("{}:{plan}", super::addons::SERVICE);
        api.send(
            reqwest::Method::POST,
            &format!("/apps/{app}/addons"),
            serde_json::json!({ "plan": { "name": plan } }),
            "its database",
        )
        .await?;
        let set = api
            .get(&format!("/apps/{app}/config-vars"), "its database")
            .await?;
        let url = set[super::addons::CONFIG_VAR].as_str().unwrap_or_default();
        if let Some(sql) = sql {
            super::addons::load(docker, instance, app, url, &sql).await?;
        }
    }
    if !config.is_empty() {
        let path = format!("/apps/{app}/config-vars");
        api.send(
            reqwest::Method::PATCH,
            &path,
            serde_json::json!(config),
            "its config vars",
        )
        .await?;
    }
    if let Some(commit) = &work.released_commit
        && let Err(why) = push(running, app, commit, &bundle)
    {
        notes.push(format!("{}: {why}", text::not_built()));
        return Ok(notes);
    }
    if !work.formation.is_empty() {
        let updates: Vec<serde_json::Value> = work
            .formation
            .iter()
            .map(|(kind, quantity)| serde_json::json!({ "type": kind, "quantity": quantity }))
            .collect();
        let path = format!("/apps/{app}/formation");
        // A process type the release lacks is the student's doing: noted.
        if let Err(e) = api
            .send(
                reqwest::Method::PATCH,
                &path,
                serde_json::json!({ "updates": updates }),
                "its formation",
            )
            .await
        {
            notes.push(e.to_string());
        }
    }
    if work.formation.get("web").is_some_and(|n| *n > 0) && !web_up(running, app).await {
        notes.push(text::web_not_up());
    }
    Ok(notes)
}

/// The released commit, pushed to the fake as `main` (the fake builds it
/// while git waits; a failed build declines the push).
fn push(
    running: &Running,
    app: &str,
    commit: &str,
    bundle: &[u8],
) -> std::result::Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("app.bundle");
    std::fs::write(&file, bundle).map_err(|e| e.to_string())?;
    let repo = dir.path().join("repo.git");
    let env = super::lab::env_pairs(running);
    git(
        &[
            "clone",
            "-q",
            "--bare",
            &file.display().to_string(),
            &repo.display().to_string(),
        ],
        &env,
    )
    .map_err(|e| e.to_string())?;
    let url = format!("https://localhost:{}/{app}.git", running.ports.api);
    git(
        &[
            "-C",
            &repo.display().to_string(),
            "push",
            "-q",
            &url,
            &format!("{commit}:refs/heads/main"),
        ],
        &env,
    )
    .map(drop)
    .map_err(|e| {
        let said = e.to_string();
        let lines: Vec<&str> = said.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    })
}

/// Waits until the app's web dyno is up, as `heroku ps` would show it.
async fn web_up(running: &Running, app: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < WEB_UP_TIMEOUT {
        let up = super::dynos::read_records(&running.dir)
            .get(app)
            .is_some_and(|r| {
                r.dynos
                    .iter()
                    .any(|d| d.kind == "web" && d.state == super::dynos::DynoState::Up)
            });
        if up {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// The fake's Platform API, with its token and local CA.
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(running: &Running) -> Result<Api> {
        let pem = std::fs::read(super::tls::ca_path(&running.dir))
            .map_err(Error::io("reading the fake Heroku's CA"))?;
        let ca = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| Error::Capture { why: e.to_string() })?;
        let client = reqwest::Client::builder()
            .add_root_certificate(ca)
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Capture { why: e.to_string() })?;
        Ok(Api {
            client,
            base: format!("https://localhost:{}", running.ports.api),
            token: running.token.clone(),
        })
    }

    /// A GET's JSON answer.
    async fn get(&self, path: &str, what: &str) -> Result<serde_json::Value> {
        let failed = |why: String| Error::Capture {
            why: text::api(what, &why),
        };
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.heroku+json; version=3")
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let bytes = answer.bytes().await.map_err(|e| failed(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| failed(e.to_string()))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
        what: &str,
    ) -> Result<()> {
        let answer = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.heroku+json; version=3")
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| Error::Capture {
                why: text::api(what, &e.to_string()),
            })?;
        if answer.status().is_success() {
            return Ok(());
        }
        let bytes = answer.bytes().await.unwrap_or_default();
        let said: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        Err(Error::Capture {
            why: text::api(what, said["message"].as_str().unwrap_or("no message")),
        })
    }
}
