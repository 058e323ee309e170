//! The Platform API of the fake Heroku: the endpoints the course's commands
//! call, with Heroku's JSON shapes, status codes and `{id, message}` errors.
//! Every request needs the bearer token; state persists across restarts.
//!
//! Implemented so far (see the README's coverage table): account, apps
//! (create, list, info, destroy), config vars, releases (every config change
//! is a release, as on Heroku) and the empty collections `heroku info` reads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::addons;

/// Heroku's rule for app names.
pub(crate) fn valid_app_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=30).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.ends_with('-')
}

/// Error messages, as Heroku words them.
pub(crate) mod text {
    pub(crate) const UNAUTHORIZED: &str = "Invalid credentials provided.";
    pub(crate) const NO_APP: &str = "Couldn't find that app.";
    pub(crate) const NO_ENDPOINT: &str = "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?";
    pub(crate) const BAD_JSON: &str = "Request body could not be parsed as JSON.";
    pub(crate) const NO_STACK: &str = "Couldn't find that stack.";
    pub(crate) fn other_stack(asked: &str) -> String {
        format!(
            "Stack {asked} is not offered here: deploylab's fake Heroku has one stack, {}, built from Debian packages.",
            super::STACK
        )
    }
    pub(crate) const TOO_LARGE: &str = "Request body is too large.";
    pub(crate) const CONFIG_TOO_LARGE: &str =
        "Config vars are limited to 32 kB per app (all keys and values together).";
    pub(crate) fn bad_config_key(key: &str) -> String {
        format!(
            "Config var key {key:?} is invalid: it must not be empty and may hold no `=`, spaces or control characters."
        )
    }
    pub(crate) const BAD_NAME: &str = "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes.";
    pub(crate) const NO_RELEASE: &str = "Couldn't find that release.";
    pub(crate) const NO_ADDON: &str = "Couldn't find that add on.";
    pub(crate) const NO_DOMAIN: &str = "Couldn't find that domain.";
    pub(crate) const BAD_DOMAIN: &str =
        "Hostname must be a valid domain name, such as www.example.com.";
    pub(crate) fn domain_taken(hostname: &str) -> String {
        format!("{hostname} is currently in use by another app.")
    }
    pub(crate) const BAD_FORMATION: &str = "Quantity must be a whole number from 0 to 100.";
    pub(crate) fn no_process_type(kind: &str) -> String {
        format!("Couldn't find that process type ({kind}).")
    }
    pub(crate) fn rollback(version: u32) -> String {
        format!("Rollback to v{version}")
    }
    pub(crate) fn name_taken(name: &str) -> String {
        format!("Name {name} is already taken")
    }
}

/// Where a build or a release is, as Heroku spells it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Phase {
    Pending,
    Succeeded,
    Failed,
}

impl Phase {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Succeeded => "succeeded",
            Phase::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct App {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) stack: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    #[serde(default)]
    pub(crate) config: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) releases: Vec<Release>,
    /// How many dynos of each process type should run.
    #[serde(default)]
    pub(crate) formation: BTreeMap<String, u32>,
    #[serde(default)]
    pub(crate) builds: Vec<Build>,
    /// Bumped by `ps:restart`: dynos of an older generation are replaced.
    #[serde(default)]
    pub(crate) restarts: u64,
    /// Provisioned add-ons (Heroku Postgres, at most one).
    #[serde(default)]
    pub(crate) addons: Vec<super::addons::Addon>,
    /// `maintenance:on`: the router answers with the maintenance page.
    #[serde(default)]
    pub(crate) maintenance: bool,
    /// Custom domains (`domains:add`), besides `<app>.localhost`.
    #[serde(default)]
    pub(crate) domains: Vec<Domain>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Domain {
    pub(crate) id: String,
    pub(crate) hostname: String,
    pub(crate) created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Release {
    pub(crate) id: String,
    pub(crate) version: u32,
    pub(crate) description: String,
    pub(crate) created_at: String,
    #[serde(default = "succeeded")]
    pub(crate) status: Phase,
    /// The code this release runs (none before the first build).
    #[serde(default)]
    pub(crate) slug: Option<Slug>,
    /// The config vars this release runs with (a rollback restores them).
    #[serde(default)]
    pub(crate) config: BTreeMap<String, String>,
}

/// A built app (`slug`): what dynos run and the process types its
/// Procfile declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Slug {
    pub(crate) id: String,
    /// The image dynos are made from: the stack (or, for slugs of older
    /// fakes, an image of the slug's own).
    pub(crate) image: String,
    /// The volume with its Python and packages; its source is a file of
    /// the fake's (`slug::source_path`).
    #[serde(default)]
    pub(crate) packages: Option<String>,
    pub(crate) commit: String,
    pub(crate) process_types: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Build {
    pub(crate) id: String,
    pub(crate) status: Phase,
    pub(crate) commit: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    /// The release the build made, once it made one.
    #[serde(default)]
    pub(crate) release: Option<u32>,
    /// The build's output (the `remote:` lines of the push).
    #[serde(default)]
    pub(crate) output: Vec<String>,
}

fn succeeded() -> Phase {
    Phase::Succeeded
}

impl App {
    /// The release dynos run: the newest one that succeeded.
    pub(crate) fn current(&self) -> Option<&Release> {
        self.releases
            .iter()
            .rev()
            .find(|r| r.status == Phase::Succeeded)
    }

    /// The process types of the current release's Procfile.
    pub(crate) fn process_types(&self) -> BTreeMap<String, String> {
        self.current()
            .and_then(|r| r.slug.as_ref())
            .map(|s| s.process_types.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) apps: BTreeMap<String, App>,
}

/// The platform: its state, where it persists, and how it is reached.
pub(crate) struct Platform {
    /// The platform's records (`state.json`), saved on every change.
    pub(crate) state: fakekit::store::Store<State>,
    pub(crate) token: String,
    /// https://localhost:<port>, for git URLs.
    pub(crate) api_port: u16,
    /// The router's port, for web URLs.
    pub(crate) router_port: u16,
}

/// An answer: status and JSON body.
pub(crate) type Answer = (StatusCode, Value);

/// An error as Heroku sends it: `{id, message}`.
/// Heroku's limit on an app's config vars, keys and values together.
const CONFIG_LIMIT: usize = 32 * 1024;

/// A config var name a process environment can hold: `A=B`, `X Y`, `""`
/// or a newline would become a broken Docker env entry.
fn is_config_key(key: &str) -> bool {
    !key.is_empty()
        && !key
            .chars()
            .any(|c| c == '=' || c.is_whitespace() || c.is_control())
}

/// A request without the token (answered before its body is read).
pub(crate) fn unauthorized() -> Answer {
    error(StatusCode::UNAUTHORIZED, "unauthorized", text::UNAUTHORIZED)
}

/// A request body larger than the fake reads.
pub(crate) fn too_large() -> Answer {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_entity_too_large",
        text::TOO_LARGE,
    )
}

pub(crate) fn error(status: StatusCode, id: &str, message: &str) -> Answer {
    (status, json!({ "id": id, "message": message }))
}

impl Platform {
    pub(crate) fn load(file: PathBuf, token: String, api_port: u16, router_port: u16) -> Platform {
        Platform {
            state: fakekit::store::Store::open(file),
            token,
            api_port,
            router_port,
        }
    }

    pub(crate) fn save(&mut self) {
        if let Err(e) = self.state.save() {
            tracing::warn!("the platform's state was not saved: {e}");
        }
    }

    fn app_json(&self, app: &App) -> Value {
        json!({
            "acm": false,
            "archived_at": null,
            "buildpack_provided_description": null,
            "build_stack": { "id": stack_id(&app.stack), "name": app.stack },
            "created_at": app.created_at,
            "generation": "cedar",
            "git_url": format!("https://localhost:{}/{}.git", self.api_port, app.name),
            "id": app.id,
            "internal_routing": null,
            "maintenance": app.maintenance,
            "name": app.name,
            "owner": { "email": ACCOUNT_EMAIL, "id": ACCOUNT_ID },
            "organization": null,
            "team": null,
            "region": { "id": region_id(&app.region), "name": app.region },
            "released_at": app.current().map(|r| r.created_at.clone()),
            "repo_size": null,
            "slug_size": null,
            "space": null,
            "stack": { "id": stack_id(&app.stack), "name": app.stack },
            "updated_at": app.updated_at,
            "web_url": format!("https://{}.localhost:{}/", app.name, self.router_port),
        })
    }

    /// Whether the Authorization header carries the platform's token.
    pub(crate) fn authorized(&self, authorization: Option<&str>) -> bool {
        authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == self.token)
    }

    /// One request. `range` is the `Range` header (`version ..; max=N, order=desc`).
    pub(crate) fn handle(
        &mut self,
        method: &Method,
        path: &str,
        authorization: Option<&str>,
        range: Option<&str>,
        body: &[u8],
    ) -> Answer {
        if !self.authorized(authorization) {
            return unauthorized();
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match (method, segments.as_slice()) {
            (&Method::GET, ["account"]) => (StatusCode::OK, account()),
            (&Method::GET, ["apps"]) | (&Method::GET, ["users", "~", "apps"]) => {
                let apps: Vec<Value> = self.state.apps.values().map(|a| self.app_json(a)).collect();
                (StatusCode::OK, Value::Array(apps))
            }
            (&Method::POST, ["apps"]) => self.create_app(body),
            (&Method::POST, ["oauth", "authorizations"]) => (
                StatusCode::CREATED,
                json!({
                    "id": uuid::Uuid::new_v4().to_string(),
                    "access_token": { "token": self.token, "expires_in": null, "id": ACCOUNT_ID },
                    "description": "deploylab",
                    "scope": ["global"],
                    "user": { "email": ACCOUNT_EMAIL, "id": ACCOUNT_ID },
                }),
            ),
            (&Method::GET, ["stacks"]) => (StatusCode::OK, json!([stack_json(STACK)])),
            (&Method::GET, ["addons"]) => {
                let all = self
                    .state
                    .apps
                    .values()
                    .flat_map(|app| app.addons.iter().map(|a| addons::addon_json(app, a)));
                (StatusCode::OK, Value::Array(all.collect()))
            }
            (&Method::GET, ["addon-attachments"]) => {
                let all = self
                    .state
                    .apps
                    .values()
                    .flat_map(|app| app.addons.iter().map(|a| addons::attachment_json(app, a)));
                (StatusCode::OK, Value::Array(all.collect()))
            }
            (&Method::GET, ["addons", key, rest @ ..]) => match self.addon(None, key) {
                Some((app, addon)) => match rest {
                    [] => (StatusCode::OK, addons::addon_json(&app, &addon)),
                    ["addon-attachments"] => (
                        StatusCode::OK,
                        json!([addons::attachment_json(&app, &addon)]),
                    ),
                    _ => error(StatusCode::NOT_FOUND, "not_found", text::NO_ENDPOINT),
                },
                None => no_addon(),
            },
            (&Method::POST, ["actions", "addons", "resolve"]) => {
                let (app, key) = Resolve::read(body).addon();
                match self.addon(app.as_deref(), &key) {
                    Some((app, addon)) => {
                        (StatusCode::OK, json!([addons::addon_json(&app, &addon)]))
                    }
                    None => no_addon(),
                }
            }
            (&Method::POST, ["actions", "addon-attachments", "resolve"]) => {
                let (app, key) = Resolve::read(body).attachment();
                match self.addon(app.as_deref(), &key) {
                    Some((app, addon)) => (
                        StatusCode::OK,
                        json!([addons::attachment_json(&app, &addon)]),
                    ),
                    None => no_addon(),
                }
            }
            (_, ["apps", app, rest @ ..]) => {
                let Some(found) = self.find(app) else {
                    return error(StatusCode::NOT_FOUND, "not_found", text::NO_APP);
                };
                match (method, rest) {
                    (&Method::GET, []) => (StatusCode::OK, self.app_json(&found)),
                    (&Method::PATCH, []) => self.update_app(&found.name, body),
                    (&Method::GET, ["domains"]) => (StatusCode::OK, domains_of(&found)),
                    (&Method::POST, ["domains"]) => self.add_domain(&found.name, body),
                    (&Method::DELETE, ["domains", hostname]) => {
                        self.remove_domain(&found.name, hostname)
                    }
                    (&Method::DELETE, []) => {
                        self.state.apps.remove(&found.name);
                        self.save();
                        (StatusCode::OK, self.app_json(&found))
                    }
                    (&Method::GET, ["collaborators" | "features" | "sni-endpoints"]) => {
                        (StatusCode::OK, json!([]))
                    }
                    (&Method::GET, ["addons"]) => (StatusCode::OK, addons_of(&found)),
                    (&Method::GET, ["addon-attachments"]) => {
                        (StatusCode::OK, attachments_of(&found))
                    }
                    (&Method::GET, ["addons", key]) => {
                        match found.addons.iter().find(|a| addons::matches(a, key)) {
                            Some(a) => (StatusCode::OK, addons::addon_json(&found, a)),
                            None => error(StatusCode::NOT_FOUND, "not_found", text::NO_ADDON),
                        }
                    }
                    (&Method::GET, ["config-vars"]) => (StatusCode::OK, json!(found.config)),
                    (&Method::PATCH, ["config-vars"]) => self.set_config(&found.name, body),
                    (&Method::GET, ["releases"]) => {
                        (StatusCode::OK, Value::Array(releases_page(&found, range)))
                    }
                    (&Method::GET, ["releases", key, "config-vars"]) => {
                        match found.releases.iter().find(|r| release_matches(r, key)) {
                            Some(r) => (StatusCode::OK, json!(r.config)),
                            None => error(StatusCode::NOT_FOUND, "not_found", text::NO_RELEASE),
                        }
                    }
                    (&Method::GET, ["releases", key]) => {
                        match found.releases.iter().find(|r| release_matches(r, key)) {
                            Some(r) => (StatusCode::OK, release_json(&found, r)),
                            None => error(StatusCode::NOT_FOUND, "not_found", text::NO_RELEASE),
                        }
                    }
                    (&Method::POST, ["releases"]) => self.rollback(&found.name, body),
                    (&Method::GET, ["formation"]) => (StatusCode::OK, formation_json(&found)),
                    (&Method::PATCH, ["formation"]) => self.scale(&found.name, body, None),
                    (&Method::PATCH, ["formation", kind]) => {
                        self.scale(&found.name, body, Some(kind))
                    }
                    (&Method::GET, ["builds"]) => (
                        StatusCode::OK,
                        Value::Array(found.builds.iter().map(|b| build_json(&found, b)).collect()),
                    ),
                    (&Method::GET, ["builds", id]) => {
                        match found.builds.iter().find(|b| b.id == *id) {
                            Some(b) => (StatusCode::OK, build_json(&found, b)),
                            None => error(StatusCode::NOT_FOUND, "not_found", text::NO_ENDPOINT),
                        }
                    }
                    _ => error(StatusCode::NOT_FOUND, "not_found", text::NO_ENDPOINT),
                }
            }
            _ => error(StatusCode::NOT_FOUND, "not_found", text::NO_ENDPOINT),
        }
    }

    /// `PATCH /apps/{app}`: maintenance mode on or off (what
    /// `maintenance:on|off` sends) and the stack (`stack:set`); other fields
    /// are not changeable here.
    fn update_app(&mut self, app: &str, body: &[u8]) -> Answer {
        let Ok(request) = serde_json::from_slice::<UpdateApp>(body) else {
            return error(StatusCode::BAD_REQUEST, "bad_request", text::BAD_JSON);
        };
        let Some(stored) = self.state.apps.get_mut(app) else {
            return error(StatusCode::NOT_FOUND, "not_found", text::NO_APP);
        };
        if let Some(on) = request.maintenance {
            stored.maintenance = on;
        }
        let asked = match request.build_stack {
            Some(StackRef::Name(name) | StackRef::Object { name: Some(name) }) => Some(name),
            _ => None,
        };
        if let Some(asked) = asked {
            match chosen_stack(&asked) {
                Ok(stack) => stored.stack = stack,
                Err(answer) => return answer,
            }
        }
        let json = self.app_json(&self.state.apps[app]);
        self.save();
        (StatusCode::OK, json)
    }

    /// `domains:add`: a custom hostname the router sends to the app.
    fn add_domain(&mut self, app: &str, body: &[u8]) -> Answer {
        let request: AddDomain = serde_json::from_slice(body).unwrap_or_default();
        let hostname = request.hostname.to_lowercase();
        let valid = !hostname.is_empty()
            && hostname.len() <= 253
            && hostname
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            && hostname.contains('.');
        if !valid {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_params",
                text::BAD_DOMAIN,
            );
        }
        let taken = self
            .state
            .apps
            .values()
            .any(|a| a.domains.iter().any(|d| d.hostname == hostname))
            || super::router::app_of_host(&hostname).is_some();
        if taken {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_params",
                &text::domain_taken(&hostname),
            );
        }
        let Some(stored) = self.state.apps.get_mut(app) else {
            return error(StatusCode::NOT_FOUND, "not_found", text::NO_APP);
        };
        let domain = Domain {
            id: uuid::Uuid::new_v4().to_string(),
            hostname,
            created_at: iso8601(SystemTime::now()),
        };
        stored.domains.push(domain.clone());
        let json = domain_json(stored, &domain);
        self.save();
        (StatusCode::CREATED, json)
    }

    fn remove_domain(&mut self, app: &str, hostname: &str) -> Answer {
        let Some(stored) = self.state.apps.get_mut(app) else {
            return error(StatusCode::NOT_FOUND, "not_found", text::NO_APP);
        };
        let Some(at) = stored
            .domains
            .iter()
            .position(|d| d.hostname == hostname || d.id == hostname)
        else {
            return error(StatusCode::NOT_FOUND, "not_found", text::NO_DOMAIN);
        };
        let domain = stored.domains.remove(at);
        let json = domain_json(stored, &domain);
        self.save();
        (StatusCode::OK, json)
    }

    /// The app a custom domain belongs to.
    pub(crate) fn app_of_domain(&self, hostname: &str) -> Option<String> {
        let hostname = hostname.to_lowercase();
        self.state
            .apps
            .values()
            .find(|a| a.domains.iter().any(|d| d.hostname == hostname))
            .map(|a| a.name.clone())
    }

    /// The add-on `key` names (id, name or attachment), in `app` if given.
    fn addon(&self, app: Option<&str>, key: &str) -> Option<(App, addons::Addon)> {
        let (prefix, key) = match key.split_once("::") {
            Some((a, k)) => (Some(a), k),
            None => (None, key),
        };
        let app = app.or(prefix);
        self.state
            .apps
            .values()
            .filter(|a| app.is_none_or(|name| a.name == name || a.id == name))
            .find_map(|a| {
                let found = a.addons.iter().find(|x| addons::matches(x, key))?;
                Some((a.clone(), found.clone()))
            })
    }

    /// `PATCH config-vars`: values set, `null` unsets; a release records it.
    fn set_config(&mut self, app: &str, body: &[u8]) -> Answer {
        let Ok(changes) = serde_json::from_slice::<BTreeMap<String, Option<String>>>(body) else {
            return error(StatusCode::BAD_REQUEST, "bad_request", text::BAD_JSON);
        };
        if let Some(bad) = changes.keys().find(|k| !is_config_key(k)) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_params",
                &text::bad_config_key(bad),
            );
        }
        let app = self.state.apps.get_mut(app).expect("found above");
        // Applied to a copy: over Heroku's size limit, nothing changes.
        let mut after = app.config.clone();
        let (mut set, mut unset) = (Vec::new(), Vec::new());
        for (key, value) in changes {
            match value {
                Some(v) => {
                    after.insert(key.clone(), v);
                    set.push(key);
                }
                None => {
                    if after.remove(&key).is_some() {
                        unset.push(key);
                    }
                }
            }
        }
        if after.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() > CONFIG_LIMIT {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_params",
                text::CONFIG_TOO_LARGE,
            );
        }
        app.config = after;
        let description = match (set.is_empty(), unset.is_empty()) {
            (false, _) => format!("Set {} config vars", set.join(", ")),
            (true, false) => format!("Remove {} config vars", unset.join(", ")),
            (true, true) => String::new(),
        };
        if !description.is_empty() {
            push_release(app, description);
        }
        let config = json!(app.config);
        self.save();
        (StatusCode::OK, config)
    }

    /// `POST releases {release}`: a new release with the code and config
    /// of an earlier one.
    fn rollback(&mut self, app: &str, body: &[u8]) -> Answer {
        #[derive(Deserialize)]
        struct Rollback {
            release: String,
        }
        let Ok(request) = serde_json::from_slice::<Rollback>(body) else {
            return error(StatusCode::BAD_REQUEST, "bad_request", text::BAD_JSON);
        };
        let app = self.state.apps.get_mut(app).expect("found above");
        let Some(target) = app
            .releases
            .iter()
            .find(|r| release_matches(r, &request.release) && r.status == Phase::Succeeded)
            .cloned()
        else {
            return error(StatusCode::NOT_FOUND, "not_found", text::NO_RELEASE);
        };
        app.config = target.config.clone();
        let version = push_release_of(
            app,
            text::rollback(target.version),
            target.slug,
            Phase::Succeeded,
        );
        let app = app.clone();
        self.save();
        let release = app
            .releases
            .iter()
            .find(|r| r.version == version)
            .expect("just pushed");
        (StatusCode::CREATED, release_json(&app, release))
    }

    /// `PATCH formation` (`{updates: [{type, quantity}]}`) or
    /// `PATCH formation/{type}` (`{quantity}`): how many dynos to run.
    fn scale(&mut self, app: &str, body: &[u8], kind: Option<&str>) -> Answer {
        #[derive(Deserialize)]
        struct Update {
            #[serde(rename = "type")]
            kind: Option<String>,
            quantity: Option<Value>,
        }
        #[derive(Deserialize)]
        struct Batch {
            updates: Vec<Update>,
        }
        let updates = match kind {
            Some(kind) => serde_json::from_slice::<Update>(body).map(|mut u| {
                u.kind = Some(kind.to_string());
                vec![u]
            }),
            None => serde_json::from_slice::<Batch>(body).map(|b| b.updates),
        };
        let Ok(updates) = updates else {
            return error(StatusCode::BAD_REQUEST, "bad_request", text::BAD_JSON);
        };
        let app = self.state.apps.get_mut(app).expect("found above");
        let types = app.process_types();
        let mut changes = Vec::new();
        for update in updates {
            let kind = update.kind.unwrap_or_default();
            if !types.contains_key(&kind) || kind == "release" {
                return error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &text::no_process_type(&kind),
                );
            }
            let quantity = match update.quantity {
                None => None,
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.parse().ok(),
                Some(_) => Some(u64::MAX),
            };
            match quantity {
                Some(q) if q <= 100 => changes.push((kind, q as u32)),
                None => {
                    changes.push((kind.clone(), app.formation.get(&kind).copied().unwrap_or(0)));
                }
                Some(_) => {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_params",
                        text::BAD_FORMATION,
                    );
                }
            }
        }
        for (kind, quantity) in changes {
            app.formation.insert(kind, quantity);
        }
        app.updated_at = iso8601(SystemTime::now());
        let answer = formation_json(app);
        let answer = match kind {
            Some(kind) => answer
                .as_array()
                .and_then(|a| a.iter().find(|f| f["type"] == kind).cloned())
                .unwrap_or(Value::Null),
            None => answer,
        };
        self.save();
        (StatusCode::OK, answer)
    }

    /// A build begins: it is listed as pending until it finishes.
    pub(crate) fn begin_build(&mut self, app: &str, commit: &str) -> Option<String> {
        let app = self.state.apps.get_mut(app)?;
        let now = iso8601(SystemTime::now());
        let id = uuid::Uuid::new_v4().to_string();
        app.builds.push(Build {
            id: id.clone(),
            status: Phase::Pending,
            commit: commit.into(),
            created_at: now.clone(),
            updated_at: now,
            release: None,
            output: Vec::new(),
        });
        self.save();
        Some(id)
    }

    /// A build ended; a successful one made release `release`.
    pub(crate) fn finish_build(
        &mut self,
        app: &str,
        build: &str,
        release: Option<u32>,
        output: Vec<String>,
    ) {
        if let Some(b) = self
            .state
            .apps
            .get_mut(app)
            .and_then(|a| a.builds.iter_mut().find(|b| b.id == build))
        {
            b.status = if release.is_some() {
                Phase::Succeeded
            } else {
                Phase::Failed
            };
            b.release = release;
            b.updated_at = iso8601(SystemTime::now());
            b.output = output;
        }
        self.save();
    }

    /// A release of a new slug; `pending` while its release phase runs.
    /// The first release with a web process gets one web dyno, as on Heroku.
    pub(crate) fn release_slug(&mut self, app: &str, slug: Slug, pending: bool) -> Option<u32> {
        let app = self.state.apps.get_mut(app)?;
        let description = format!("Deploy {}", &slug.commit[..slug.commit.len().min(8)]);
        let status = if pending {
            Phase::Pending
        } else {
            Phase::Succeeded
        };
        let version = push_release_of(app, description, Some(slug), status);
        Self::default_formation(app);
        self.save();
        Some(version)
    }

    /// The release phase of `version` ended.
    pub(crate) fn settle_release(&mut self, app: &str, version: u32, ok: bool) {
        if let Some(app) = self.state.apps.get_mut(app) {
            if let Some(r) = app.releases.iter_mut().find(|r| r.version == version) {
                r.status = if ok { Phase::Succeeded } else { Phase::Failed };
            }
            Self::default_formation(app);
        }
        self.save();
    }

    /// Process types get a formation entry when first seen: web 1, others 0.
    fn default_formation(app: &mut App) {
        for kind in app.process_types().keys() {
            if kind != "release" && !app.formation.contains_key(kind) {
                app.formation.insert(kind.clone(), u32::from(kind == "web"));
            }
        }
    }

    /// `ps:restart`: every dyno of the app is replaced.
    pub(crate) fn restart(&mut self, app: &str) {
        if let Some(app) = self.state.apps.get_mut(app) {
            app.restarts += 1;
        }
        self.save();
    }

    /// An app by name or id.
    pub(crate) fn find(&self, key: &str) -> Option<App> {
        self.state
            .apps
            .get(key)
            .or_else(|| self.state.apps.values().find(|a| a.id == key))
            .cloned()
    }

    fn create_app(&mut self, body: &[u8]) -> Answer {
        #[derive(Deserialize)]
        struct Create {
            name: Option<String>,
            region: Option<String>,
            stack: Option<String>,
        }
        let request: Create = if body.iter().all(u8::is_ascii_whitespace) {
            Create {
                name: None,
                region: None,
                stack: None,
            }
        } else {
            match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(_) => return error(StatusCode::BAD_REQUEST, "bad_request", text::BAD_JSON),
            }
        };
        let name = match request.name {
            Some(name) if !valid_app_name(&name) => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    text::BAD_NAME,
                );
            }
            Some(name) if self.state.apps.contains_key(&name) => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    &text::name_taken(&name),
                );
            }
            Some(name) => name,
            None => self.generated_name(),
        };
        let stack = match request.stack.as_deref().map(chosen_stack) {
            None => STACK.to_string(),
            Some(Ok(stack)) => stack,
            Some(Err(answer)) => return answer,
        };
        let now = iso8601(SystemTime::now());
        let mut app = App {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.clone(),
            region: request.region.unwrap_or_else(|| "us".into()),
            stack,
            created_at: now.clone(),
            updated_at: now,
            config: BTreeMap::new(),
            releases: Vec::new(),
            formation: BTreeMap::new(),
            builds: Vec::new(),
            restarts: 0,
            addons: Vec::new(),
            maintenance: false,
            domains: Vec::new(),
        };
        // No DATABASE_URL until Heroku Postgres is added, as on Heroku. A
        // new app's second release turns its logging on.
        push_release(&mut app, "Initial release".into());
        push_release(&mut app, "Enable Logplex".into());
        self.state.apps.insert(name, app.clone());
        self.save();
        (StatusCode::CREATED, self.app_json(&app))
    }

    /// A Heroku-style name: adjective-noun-NNNNN, not yet taken.
    fn generated_name(&self) -> String {
        const ADJECTIVES: &[&str] = &[
            "calm", "brave", "quiet", "sunny", "rapid", "gentle", "bright", "lucky",
        ];
        const NOUNS: &[&str] = &[
            "river", "forest", "harbor", "meadow", "canyon", "island", "lagoon", "summit",
        ];
        loop {
            let n = uuid::Uuid::new_v4().as_u128();
            let name = format!(
                "{}-{}-{:05}",
                ADJECTIVES[(n % 8) as usize],
                NOUNS[((n >> 8) % 8) as usize],
                (n >> 16) % 100_000
            );
            if !self.state.apps.contains_key(&name) {
                return name;
            }
        }
    }
}

/// The app's domains: `<app>.localhost` (Heroku's own, kind `heroku`)
/// and the custom ones (kind `custom`, reached by a CNAME to it).
fn domains_of(app: &App) -> Value {
    let own = json!({
        "acm_status": null,
        "app": { "id": app.id, "name": app.name },
        "cname": null,
        "created_at": app.created_at,
        "hostname": format!("{}.localhost", app.name),
        "id": uuid::Uuid::nil().to_string(),
        "kind": "heroku",
        "sni_endpoint": null,
        "status": "none",
        "updated_at": app.created_at,
    });
    let custom = app.domains.iter().map(|d| domain_json(app, d));
    Value::Array(std::iter::once(own).chain(custom).collect())
}

fn domain_json(app: &App, domain: &Domain) -> Value {
    json!({
        "acm_status": null,
        "app": { "id": app.id, "name": app.name },
        "cname": format!("{}.localhost", app.name),
        "created_at": domain.created_at,
        "hostname": domain.hostname,
        "id": domain.id,
        "kind": "custom",
        "sni_endpoint": null,
        "status": "none",
        "updated_at": domain.created_at,
    })
}

/// The one stack the fake builds and runs on.
pub(crate) const STACK: &str = "heroku-24";
/// Stacks Heroku has or had, which the fake does not offer.
const OTHER_STACKS: &[&str] = &[
    "heroku-22",
    "heroku-20",
    "heroku-18",
    "heroku-16",
    "cedar-14",
    "cedar",
    "container",
];

/// A stack an app may be given (`create --stack`, `stack:set`): the fake's
/// own, or the error Heroku's API would answer, or one naming what the fake
/// lacks.
fn chosen_stack(asked: &str) -> Result<String, Answer> {
    match asked {
        STACK => Ok(STACK.to_string()),
        other if OTHER_STACKS.contains(&other) => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_params",
            &text::other_stack(other),
        )),
        _ => Err(error(StatusCode::NOT_FOUND, "not_found", text::NO_STACK)),
    }
}

fn stack_json(name: &str) -> Value {
    json!({
        "created_at": "2024-05-01T00:00:00Z",
        "default": true,
        "id": stack_id(name),
        "name": name,
        "state": "public",
        "updated_at": "2024-05-01T00:00:00Z",
    })
}

fn addons_of(app: &App) -> Value {
    Value::Array(
        app.addons
            .iter()
            .map(|a| addons::addon_json(app, a))
            .collect(),
    )
}

fn attachments_of(app: &App) -> Value {
    Value::Array(
        app.addons
            .iter()
            .map(|a| addons::attachment_json(app, a))
            .collect(),
    )
}

/// A 404 the CLI's resolver understands (`resource: add_on`).
fn no_addon() -> Answer {
    (
        StatusCode::NOT_FOUND,
        json!({ "id": "not_found", "resource": "add_on", "message": text::NO_ADDON }),
    )
}

/// A resolve action's body: the app, and the add-on or attachment asked
/// about (a body that does not read finds nothing).
#[derive(Debug, Default, Deserialize)]
struct Resolve {
    app: Option<String>,
    #[serde(default)]
    addon: String,
    #[serde(default)]
    addon_attachment: String,
}

impl Resolve {
    fn read(body: &[u8]) -> Resolve {
        serde_json::from_slice(body).unwrap_or_default()
    }

    fn addon(self) -> (Option<String>, String) {
        (self.app, self.addon)
    }

    fn attachment(self) -> (Option<String>, String) {
        (self.app, self.addon_attachment)
    }
}

/// `PATCH /apps/{app}`'s body: what `maintenance:on|off` and `stack:set`
/// send.
#[derive(Debug, Deserialize)]
struct UpdateApp {
    maintenance: Option<bool>,
    /// `stack:set` sends the name; the API also takes `{name}` (or `{id}`,
    /// which names no stack the fake knows).
    build_stack: Option<StackRef>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StackRef {
    Name(String),
    Object { name: Option<String> },
}

/// `domains:add`'s body.
#[derive(Debug, Default, Deserialize)]
struct AddDomain {
    #[serde(default)]
    hostname: String,
}

/// A word for generated names.
pub(crate) fn word() -> &'static str {
    const WORDS: &[&str] = &[
        "calm", "brave", "quiet", "sunny", "rapid", "gentle", "bright", "lucky",
    ];
    WORDS[(uuid::Uuid::new_v4().as_u128() % WORDS.len() as u128) as usize]
}

/// A new release of the current code with the app's current config.
pub(crate) fn push_release(app: &mut App, description: String) -> u32 {
    let slug = app.current().and_then(|r| r.slug.clone());
    push_release_of(app, description, slug, Phase::Succeeded)
}

/// A new release of `slug`, in the state given (`pending` while a release
/// phase runs).
pub(crate) fn push_release_of(
    app: &mut App,
    description: String,
    slug: Option<Slug>,
    status: Phase,
) -> u32 {
    let version = app.releases.last().map_or(1, |r| r.version + 1);
    let now = iso8601(SystemTime::now());
    app.releases.push(Release {
        id: uuid::Uuid::new_v4().to_string(),
        version,
        description,
        created_at: now.clone(),
        status,
        slug,
        config: app.config.clone(),
    });
    app.updated_at = now;
    version
}

fn release_matches(release: &Release, key: &str) -> bool {
    release.id == key || key.trim_start_matches('v').parse() == Ok(release.version)
}

fn release_json(app: &App, r: &Release) -> Value {
    let current = app.current().map(|c| c.version) == Some(r.version);
    json!({
        "addon_plan_names": [],
        "app": { "id": app.id, "name": app.name },
        "created_at": r.created_at,
        "current": current,
        "description": r.description,
        // What `heroku rollback` (no version) and `releases:info` read: a
        // release that succeeded and runs code can be rolled back to.
        "eligible_for_rollback": r.status == Phase::Succeeded && r.slug.is_some(),
        "id": r.id,
        "output_stream_url": null,
        "slug": r.slug.as_ref().map(|s| json!({ "id": s.id })),
        "status": r.status,
        "updated_at": r.created_at,
        "user": { "email": ACCOUNT_EMAIL, "id": ACCOUNT_ID },
        "version": r.version,
    })
}

fn formation_json(app: &App) -> Value {
    let types = app.process_types();
    Value::Array(
        types
            .iter()
            .filter(|(kind, _)| kind.as_str() != "release")
            .map(|(kind, command)| {
                json!({
                    "app": { "id": app.id, "name": app.name },
                    "command": command,
                    "created_at": app.created_at,
                    "id": format!("{}-{kind}", &app.id[..23]),
                    "quantity": app.formation.get(kind).copied().unwrap_or(0),
                    "size": "Basic",
                    "type": kind,
                    "updated_at": app.updated_at,
                })
            })
            .collect(),
    )
}

fn build_json(app: &App, b: &Build) -> Value {
    json!({
        "app": { "id": app.id },
        "buildpacks": [{ "url": "heroku/python", "name": "heroku/python" }],
        "created_at": b.created_at,
        "id": b.id,
        "output_stream_url": null,
        "release": b.release.and_then(|v| app.releases.iter().find(|r| r.version == v)).map(|r| json!({ "id": r.id })),
        "slug": null,
        "source_blob": { "checksum": null, "url": null, "version": b.commit, "version_description": null },
        "stack": app.stack,
        "status": b.status,
        "updated_at": b.updated_at,
        "user": { "email": ACCOUNT_EMAIL, "id": ACCOUNT_ID },
    })
}

/// The releases a `Range: version ..; max=N, order=desc` header asks for.
fn releases_page(app: &App, range: Option<&str>) -> Vec<Value> {
    let range = range.unwrap_or_default();
    let max = range
        .split([';', ','])
        .find_map(|part| {
            part.trim()
                .strip_prefix("max=")?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(200);
    let mut list: Vec<Value> = app.releases.iter().map(|r| release_json(app, r)).collect();
    if range.contains("order=desc") {
        list.reverse();
    }
    list.truncate(max);
    list
}

const ACCOUNT_ID: &str = "5f1c2b6e-0000-4000-8000-000000000001";
const ACCOUNT_EMAIL: &str = "student@deploylab.test";

fn account() -> Value {
    json!({
        "allow_tracking": false,
        "beta": false,
        "created_at": "2024-01-01T00:00:00Z",
        "email": ACCOUNT_EMAIL,
        "federated": false,
        "id": ACCOUNT_ID,
        "last_login": null,
        "name": "student",
        "sms_number": null,
        "two_factor_authentication": false,
        "updated_at": "2024-01-01T00:00:00Z",
        "verified": true,
    })
}

fn stack_id(name: &str) -> String {
    format!("{:0>8}-0000-4000-8000-000000000024", name.len())
}

fn region_id(name: &str) -> String {
    format!("{:0>8}-0000-4000-8000-0000000000aa", name.len())
}

/// `2024-03-01T12:00:00Z` from a system time (UTC; days to civil date after
/// Howard Hinnant's algorithm).
pub(crate) fn iso8601(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request bodies the CLI sends read as their types; a body that
    /// does not read is refused or finds nothing, as before.
    #[test]
    fn request_bodies_read_typed() {
        let set: UpdateApp = serde_json::from_str(r#"{"build_stack": "heroku-24"}"#).unwrap();
        assert!(matches!(set.build_stack, Some(StackRef::Name(n)) if n == "heroku-24"));
        let by_name: UpdateApp =
            serde_json::from_str(r#"{"build_stack": {"name": "heroku-24"}, "x": 1}"#).unwrap();
        assert!(matches!(by_name.build_stack, Some(StackRef::Object { name: Some(_) })));
        let on: UpdateApp = serde_json::from_str(r#"{"maintenance": true}"#).unwrap();
        assert_eq!(on.maintenance, Some(true));
        assert!(serde_json::from_str::<UpdateApp>(r#"{"maintenance": "yes"}"#).is_err());
        let (app, key) = Resolve::read(br#"{"app": "loja", "addon": "DATABASE"}"#).addon();
        assert_eq!((app.as_deref(), key.as_str()), (Some("loja"), "DATABASE"));
        let (app, key) = Resolve::read(b"not json").attachment();
        assert_eq!((app, key), (None, String::new()));
    }

    fn platform() -> Platform {
        let dir = tempfile::tempdir().unwrap().keep();
        Platform::load(dir.join("state.json"), "secret".into(), 5443, 5080)
    }

    /// Add-ons are found the ways the CLI asks: listed per app and in all,
    /// resolved by name or attachment (`DATABASE`, `app::DATABASE`), with
    /// the 404 its resolver understands; an app starts without one.
    #[test]
    fn add_ons_are_listed_and_resolved_like_herokus() {
        let mut p = platform();
        let auth = Some("Bearer secret");
        p.handle(&Method::POST, "/apps", auth, None, br#"{"name":"loja"}"#);
        assert!(!p.state.apps["loja"].config.contains_key("DATABASE_URL"));
        let (_, none) = p.handle(&Method::GET, "/apps/loja/addons", auth, None, b"");
        assert_eq!(none, json!([]));
        p.state
            .apps
            .get_mut("loja")
            .unwrap()
            .addons
            .push(addons::Addon {
                id: "0f0e0d0c-0000-0000-0000-000000000001".into(),
                name: "postgresql-calm-00042".into(),
                plan: "essential-0".into(),
                created_at: "2026-11-29T12:00:00Z".into(),
                attachment_id: "a".into(),
                user: "u".into(),
                password: "p".into(),
                database: "d".into(),
            });
        let (_, listed) = p.handle(&Method::GET, "/apps/loja/addons", auth, None, b"");
        assert_eq!(listed[0]["plan"]["name"], "heroku-postgresql:essential-0");
        assert_eq!(listed[0]["plan"]["price"]["cents"], 500);
        assert_eq!(listed[0]["config_vars"], json!(["DATABASE_URL"]));
        for key in ["DATABASE", "loja::DATABASE", "postgresql-calm-00042"] {
            let body = json!({ "addon": key, "app": null }).to_string();
            let (status, found) = p.handle(
                &Method::POST,
                "/actions/addons/resolve",
                auth,
                None,
                body.as_bytes(),
            );
            assert_eq!(status, StatusCode::OK, "{key}");
            assert_eq!(found[0]["name"], "postgresql-calm-00042", "{key}");
        }
        let (status, missing) = p.handle(
            &Method::POST,
            "/actions/addons/resolve",
            auth,
            None,
            br#"{"addon":"REDIS","app":"loja"}"#,
        );
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(missing["resource"], "add_on");
        let (_, attachments) = p.handle(&Method::GET, "/addon-attachments", auth, None, b"");
        assert_eq!(attachments[0]["name"], "DATABASE");
        assert_eq!(attachments[0]["app"]["name"], "loja");
    }

    /// One stack: `stack:set` and `create --stack` take it; Heroku's other
    /// stacks are named as not offered; unknown ones get Heroku's 404.
    #[test]
    fn the_one_stack_is_set_and_others_are_refused() {
        let mut p = platform();
        let auth = Some("Bearer secret");
        p.handle(&Method::POST, "/apps", auth, None, br#"{"name":"loja"}"#);
        let set = |p: &mut Platform, body: &[u8]| {
            p.handle(&Method::PATCH, "/apps/loja", auth, None, body)
        };
        let (status, app) = set(&mut p, br#"{"build_stack":"heroku-24"}"#);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app["stack"]["name"], app["build_stack"]["name"]);
        let (status, body) = set(&mut p, br#"{"build_stack":"heroku-22"}"#);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("has one stack, heroku-24")
        );
        let (status, body) = set(&mut p, br#"{"build_stack":{"name":"bogus"}}"#);
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["message"], "Couldn't find that stack.");
        let (status, _) = p.handle(
            &Method::POST,
            "/apps",
            auth,
            None,
            br#"{"name":"velha","stack":"heroku-20"}"#,
        );
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!p.state.apps.contains_key("velha"));
    }

    #[test]
    fn app_names_follow_herokus_rule() {
        assert!(valid_app_name("blog-da-turma"));
        assert!(!valid_app_name("Blog"));
        assert!(!valid_app_name("ab"));
        assert!(!valid_app_name("9lives"));
        assert!(!valid_app_name("trailing-"));
        assert!(!valid_app_name(&"a".repeat(31)));
    }

    #[test]
    fn apps_are_created_listed_found_and_destroyed() {
        let mut p = platform();
        let auth = Some("Bearer secret");
        let (status, app) = p.handle(
            &Method::POST,
            "/apps",
            auth,
            None,
            br#"{"name":"meu-blog"}"#,
        );
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(app["git_url"], "https://localhost:5443/meu-blog.git");
        assert_eq!(app["web_url"], "https://meu-blog.localhost:5080/");
        let (_, again) = p.handle(
            &Method::POST,
            "/apps",
            auth,
            None,
            br#"{"name":"meu-blog"}"#,
        );
        assert_eq!(again["message"], "Name meu-blog is already taken");
        let (status, list) = p.handle(&Method::GET, "/users/~/apps", auth, None, b"");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (status, _) = p.handle(&Method::DELETE, "/apps/meu-blog", auth, None, b"");
        assert_eq!(status, StatusCode::OK);
        let (status, gone) = p.handle(&Method::GET, "/apps/meu-blog", auth, None, b"");
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            gone,
            json!({"id": "not_found", "message": "Couldn't find that app."})
        );
    }

    #[test]
    fn bad_input_gets_herokus_errors() {
        let mut p = platform();
        let (status, body) = p.handle(&Method::GET, "/apps", Some("Bearer wrong"), None, b"");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["id"], "unauthorized");
        let (status, body) = p.handle(
            &Method::POST,
            "/apps",
            Some("Bearer secret"),
            None,
            b"{not json",
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["id"], "bad_request");
        let (status, body) = p.handle(
            &Method::POST,
            "/apps",
            Some("Bearer secret"),
            None,
            br#"{"name":"Bad_Name"}"#,
        );
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["id"], "invalid_params");
    }

    #[test]
    fn config_changes_are_releases() {
        let mut p = platform();
        let auth = Some("Bearer secret");
        p.handle(&Method::POST, "/apps", auth, None, br#"{"name":"blog"}"#);
        let (_, config) = p.handle(
            &Method::PATCH,
            "/apps/blog/config-vars",
            auth,
            None,
            br#"{"DEBUG":"False","SECRET_KEY":"x"}"#,
        );
        assert_eq!(config["DEBUG"], "False");
        assert_eq!(config["SECRET_KEY"], "x");
        let (_, config) = p.handle(
            &Method::PATCH,
            "/apps/blog/config-vars",
            auth,
            None,
            br#"{"DEBUG":null}"#,
        );
        assert!(config.get("DEBUG").is_none());
        assert_eq!(config["SECRET_KEY"], "x");
        let (_, newest) = p.handle(
            &Method::GET,
            "/apps/blog/releases",
            auth,
            Some("version ..; order=desc,max=1"),
            b"",
        );
        assert_eq!(newest.as_array().unwrap().len(), 1);
        assert_eq!(newest[0]["version"], 4);
        assert_eq!(newest[0]["description"], "Remove DEBUG config vars");
        assert_eq!(newest[0]["current"], true);
        let (_, all) = p.handle(&Method::GET, "/apps/blog/releases", auth, None, b"");
        assert_eq!(all[0]["description"], "Initial release");
        assert_eq!(all[1]["description"], "Enable Logplex");
        assert_eq!(all[2]["description"], "Set DEBUG, SECRET_KEY config vars");
    }

    #[test]
    fn state_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        let mut p = Platform::load(file.clone(), "t".into(), 1, 2);
        p.handle(
            &Method::POST,
            "/apps",
            Some("Bearer t"),
            None,
            br#"{"name":"persist"}"#,
        );
        let p = Platform::load(file, "t".into(), 1, 2);
        assert!(p.state.apps.contains_key("persist"));
    }

    #[test]
    fn dates_are_iso8601() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_709_294_400);
        assert_eq!(iso8601(t), "2024-03-01T12:00:00Z");
    }
}
