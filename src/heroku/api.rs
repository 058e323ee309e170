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

/// Heroku's rule for app names.
pub fn valid_app_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=30).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.ends_with('-')
}

/// Error messages, as Heroku words them.
mod text {
    pub const UNAUTHORIZED: &str = "Invalid credentials provided.";
    pub const NO_APP: &str = "Couldn't find that app.";
    pub const NO_ENDPOINT: &str = "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?";
    pub const BAD_JSON: &str = "Request body could not be parsed as JSON.";
    pub const BAD_NAME: &str = "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes.";
    pub fn name_taken(name: &str) -> String {
        format!("Name {name} is already taken")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub name: String,
    pub region: String,
    pub stack: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub releases: Vec<Release>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub id: String,
    pub version: u32,
    pub description: String,
    pub created_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub apps: BTreeMap<String, App>,
}

/// The platform: its state, where it persists, and how it is reached.
pub struct Platform {
    pub state: State,
    pub file: PathBuf,
    pub token: String,
    /// https://localhost:<port>, for git URLs.
    pub api_port: u16,
    /// The router's port, for web URLs.
    pub router_port: u16,
}

/// An answer: status and JSON body.
pub type Answer = (StatusCode, Value);

fn error(status: StatusCode, id: &str, message: &str) -> Answer {
    (status, json!({ "id": id, "message": message }))
}

impl Platform {
    pub fn load(file: PathBuf, token: String, api_port: u16, router_port: u16) -> Platform {
        let state = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Platform {
            state,
            file,
            token,
            api_port,
            router_port,
        }
    }

    fn save(&self) {
        let text = serde_json::to_string_pretty(&self.state).expect("state serializes");
        if let Err(e) = crate::state::write_atomically(&self.file, text.as_bytes()) {
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
            "git_url": format!("https://localhost:{}/{}.git", self.api_port, app.name),
            "id": app.id,
            "internal_routing": null,
            "maintenance": false,
            "name": app.name,
            "owner": { "email": ACCOUNT_EMAIL, "id": ACCOUNT_ID },
            "organization": null,
            "team": null,
            "region": { "id": region_id(&app.region), "name": app.region },
            "released_at": null,
            "repo_size": null,
            "slug_size": null,
            "space": null,
            "stack": { "id": stack_id(&app.stack), "name": app.stack },
            "updated_at": app.updated_at,
            "web_url": format!("http://{}.localhost:{}/", app.name, self.router_port),
        })
    }

    /// Whether the Authorization header carries the platform's token.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == self.token)
    }

    /// One request. `range` is the `Range` header (`version ..; max=N, order=desc`).
    pub fn handle(
        &mut self,
        method: &Method,
        path: &str,
        authorization: Option<&str>,
        range: Option<&str>,
        body: &[u8],
    ) -> Answer {
        if !self.authorized(authorization) {
            return error(StatusCode::UNAUTHORIZED, "unauthorized", text::UNAUTHORIZED);
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match (method, segments.as_slice()) {
            (&Method::GET, ["account"]) => (StatusCode::OK, account()),
            (&Method::GET, ["apps"]) | (&Method::GET, ["users", "~", "apps"]) => {
                let apps: Vec<Value> = self.state.apps.values().map(|a| self.app_json(a)).collect();
                (StatusCode::OK, Value::Array(apps))
            }
            (&Method::POST, ["apps"]) => self.create_app(body),
            (_, ["apps", app, rest @ ..]) => {
                let Some(found) = self.find(app) else {
                    return error(StatusCode::NOT_FOUND, "not_found", text::NO_APP);
                };
                match (method, rest) {
                    (&Method::GET, []) => (StatusCode::OK, self.app_json(&found)),
                    (&Method::DELETE, []) => {
                        self.state.apps.remove(&found.name);
                        self.save();
                        (StatusCode::OK, self.app_json(&found))
                    }
                    (&Method::GET, ["addons" | "dynos" | "collaborators"]) => {
                        (StatusCode::OK, json!([]))
                    }
                    (&Method::GET, ["config-vars"]) => (StatusCode::OK, json!(found.config)),
                    (&Method::PATCH, ["config-vars"]) => self.set_config(&found.name, body),
                    (&Method::GET, ["releases"]) => {
                        (StatusCode::OK, Value::Array(releases_page(&found, range)))
                    }
                    _ => error(StatusCode::NOT_FOUND, "not_found", text::NO_ENDPOINT),
                }
            }
            _ => error(StatusCode::NOT_FOUND, "not_found", text::NO_ENDPOINT),
        }
    }

    /// `PATCH config-vars`: values set, `null` unsets; a release records it.
    fn set_config(&mut self, app: &str, body: &[u8]) -> Answer {
        let Ok(changes) = serde_json::from_slice::<BTreeMap<String, Option<String>>>(body) else {
            return error(StatusCode::BAD_REQUEST, "bad_request", text::BAD_JSON);
        };
        let app = self.state.apps.get_mut(app).expect("found above");
        let (mut set, mut unset) = (Vec::new(), Vec::new());
        for (key, value) in changes {
            match value {
                Some(v) => {
                    app.config.insert(key.clone(), v);
                    set.push(key);
                }
                None => {
                    if app.config.remove(&key).is_some() {
                        unset.push(key);
                    }
                }
            }
        }
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

    /// An app by name or id.
    fn find(&self, key: &str) -> Option<App> {
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
        let now = iso8601(SystemTime::now());
        let mut app = App {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.clone(),
            region: request.region.unwrap_or_else(|| "us".into()),
            stack: request.stack.unwrap_or_else(|| "heroku-24".into()),
            created_at: now.clone(),
            updated_at: now,
            config: BTreeMap::new(),
            releases: Vec::new(),
        };
        push_release(&mut app, "Initial release".into());
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

fn push_release(app: &mut App, description: String) {
    let version = app.releases.last().map_or(1, |r| r.version + 1);
    app.releases.push(Release {
        id: uuid::Uuid::new_v4().to_string(),
        version,
        description,
        created_at: iso8601(SystemTime::now()),
    });
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
    let current = app.releases.last().map(|r| r.version);
    let mut list: Vec<Value> = app
        .releases
        .iter()
        .map(|r| {
            json!({
                "addon_plan_names": [],
                "app": { "id": app.id, "name": app.name },
                "created_at": r.created_at,
                "current": Some(r.version) == current,
                "description": r.description,
                "id": r.id,
                "output_stream_url": null,
                "slug": null,
                "status": "succeeded",
                "updated_at": r.created_at,
                "user": { "email": ACCOUNT_EMAIL, "id": ACCOUNT_ID },
                "version": r.version,
            })
        })
        .collect();
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
pub fn iso8601(time: SystemTime) -> String {
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

    fn platform() -> Platform {
        let dir = tempfile::tempdir().unwrap().keep();
        Platform::load(dir.join("state.json"), "secret".into(), 5443, 5080)
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
        assert_eq!(app["web_url"], "http://meu-blog.localhost:5080/");
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
        assert_eq!(config, json!({"DEBUG": "False", "SECRET_KEY": "x"}));
        let (_, config) = p.handle(
            &Method::PATCH,
            "/apps/blog/config-vars",
            auth,
            None,
            br#"{"DEBUG":null}"#,
        );
        assert_eq!(config, json!({"SECRET_KEY": "x"}));
        let (_, newest) = p.handle(
            &Method::GET,
            "/apps/blog/releases",
            auth,
            Some("version ..; order=desc,max=1"),
            b"",
        );
        assert_eq!(newest.as_array().unwrap().len(), 1);
        assert_eq!(newest[0]["version"], 3);
        assert_eq!(newest[0]["description"], "Remove DEBUG config vars");
        assert_eq!(newest[0]["current"], true);
        let (_, all) = p.handle(&Method::GET, "/apps/blog/releases", auth, None, b"");
        assert_eq!(all[0]["description"], "Initial release");
        assert_eq!(all[1]["description"], "Set DEBUG, SECRET_KEY config vars");
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
