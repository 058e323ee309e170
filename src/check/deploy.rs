//! Checks of a Python web app deployed the course's way: virtualenv, code,
//! settings, database, static files, gunicorn (or uvicorn) under a systemd
//! socket and service, nginx in front. They read the `deploy:<user>` fact
//! (see `probe/deploy.rs`) and the host's own HTTP requests (`http.rs`), and
//! name the first broken link of the chain nginx → socket → app → Django.

use serde::Deserialize;
use serde_json::Value;

use super::{HostFacts, Outcome};

/// Debian 12's python3-venv bundles pip 23.0.1; anything newer was upgraded.
const BUNDLED_PIP: (u64, u64, u64) = (23, 0, 1);
/// Debian's fixed gid of www-data (base-passwd).
const WWW_DATA_GID: u64 = 33;
/// Programs that serve the app (gunicorn for WSGI, uvicorn for ASGI).
const APP_SERVERS: &[&str] = &["gunicorn", "uvicorn"];

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DeployCheck {
    /// `~/.venv` (or the venv the service runs from) is a working virtualenv.
    VenvReady {},
    /// pip in the venv was upgraded past the version Debian bundles.
    PipUpgraded {},
    /// The app folder belongs to the user and group www-data, group-writable.
    AppDirReady {},
    /// The blog's code is a git checkout in the app folder.
    CodeCheckedOut {},
    /// The app's distribution is installed in the venv.
    AppInstalled { dist: String },
    /// The settings file has the production section with DEBUG off.
    SettingsDebugOff {},
    /// ALLOWED_HOSTS is set in the settings' production section.
    SettingsAllowedHosts {},
    /// Every migration of the installed apps is recorded in the database.
    MigrationsApplied {},
    /// A Django superuser exists in the database.
    SuperuserExists {},
    /// collectstatic filled STATIC_ROOT.
    StaticCollected {},
    /// A .socket unit with a unix ListenStream is enabled.
    SocketUnitEnabled {},
    /// systemd itself (PID 1) listens on that socket.
    SocketListening {},
    /// The service runs as a non-root user, from the venv.
    ServiceUnprivileged {},
    /// A request over the socket reaches a live Django.
    SocketReachesDjango {},
    /// `nginx -t` passes.
    NginxConfigValid {},
    /// nginx proxies to the socket the socket unit listens on.
    NginxProxiesToSocket {},
    /// The default nginx site is gone.
    DefaultSiteGone {},
    /// Port 80 answers with the live blog, through nginx.
    BlogThroughNginx {},
    /// nginx serves /static/ itself.
    StaticThroughNginx {},
    /// Django's 404 page is the production one (DEBUG off).
    DebugOffLive {},
    /// No app server listens on a TCP port reachable from outside.
    AppNotExposed {},
    /// The socket unit and nginx start at boot.
    UnitsEnabledAtBoot {},
    /// Every app server process runs under its systemd service.
    AppUnderSystemd {},
    /// The VM was rebooted after the last change to the deployment (and, as
    /// the other checks show, everything came back by itself).
    RebootedAfterDeploy {},
}

/// Accessors over the `deploy:<user>` fact.
struct Deploy<'a>(&'a Value);

impl<'a> Deploy<'a> {
    fn str(&self, key: &str) -> &'a str {
        self.0[key].as_str().unwrap_or_default()
    }
    fn socket_path(&self) -> Option<&'a str> {
        self.0["socket_path"].as_str()
    }
    fn socket_unit(&self) -> Option<&'a str> {
        self.0["socket_unit"].as_str()
    }
    fn service_unit(&self) -> &'a str {
        self.0["service_unit"]
            .as_str()
            .unwrap_or("gunicorn.service")
    }
    fn wants(&self) -> Vec<&'a str> {
        strings(&self.0["wants"])
    }
    fn dists(&self) -> Vec<&'a str> {
        strings(&self.0["venv"]["dists"])
    }
    fn nginx_config(&self) -> &'a str {
        self.0["nginx"]["config"].as_str().unwrap_or_default()
    }
    /// Processes whose command line runs an app server.
    fn app_servers(&self) -> Vec<&'a Value> {
        self.0["processes"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| is_app_server(p)).collect())
            .unwrap_or_default()
    }
    fn settings(&self) -> Result<toml::Table, String> {
        let path = self.0["settings"]["path"]
            .as_str()
            .unwrap_or("the settings file");
        let Some(text) = self.0["settings"]["content"].as_str() else {
            return Err(format!("{path} does not exist"));
        };
        text.parse::<toml::Table>()
            .map_err(|e| format!("{path} is not valid TOML: {}", e.message()))
    }
    /// The settings' section for the service's BLOG_ENV, keys lowercased.
    fn production(&self) -> Result<toml::Table, String> {
        let section = self.str("settings_section");
        let table = self.settings()?;
        let found = table
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(section))
            .and_then(|(_, v)| v.as_table())
            .ok_or_else(|| format!("the settings file has no [{section}] section"))?;
        Ok(found
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect())
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn cmdline(p: &Value) -> String {
    strings(&p["cmdline"]).join(" ")
}

fn is_app_server(p: &Value) -> bool {
    let args = strings(&p["cmdline"]);
    args.iter().take(3).any(|a| {
        let name = a.rsplit('/').next().unwrap_or(a);
        APP_SERVERS
            .iter()
            .any(|s| name == *s || name.starts_with(&format!("{s}:")))
    })
}

fn outcome(passed: bool, expected: impl Into<String>, observed: impl Into<String>) -> Outcome {
    Outcome {
        passed,
        expected: expected.into(),
        observed: observed.into(),
    }
}

/// One HTTP answer's status line for messages.
fn status_of(r: &Value) -> String {
    match r["status"].as_u64() {
        Some(s) => format!("HTTP {s}"),
        None => r["error"].as_str().unwrap_or("no answer").to_string(),
    }
}

fn csrf_cookie(cookies: &[&str]) -> Option<String> {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix("csrftoken="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

/// Parses one raw HTTP response head (from the probe's request over the socket).
fn parse_head(head: &str) -> (Option<u16>, Vec<&str>) {
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok());
    let cookies = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie").then_some(v.trim())
        })
        .collect();
    (status, cookies)
}

impl DeployCheck {
    pub fn evaluate(&self, facts: &Value, user: &str, host: &HostFacts) -> Outcome {
        let d = Deploy(&facts[format!("deploy:{user}")]);
        let http = &host.http;
        match self {
            DeployCheck::VenvReady {} => {
                let venv = &d.0["venv"];
                let path = venv["path"].as_str().unwrap_or("~/.venv");
                let expected = format!("a virtualenv at {path}");
                let python = venv["python"].as_str().unwrap_or_default();
                if venv["exists"] != Value::Bool(true) {
                    outcome(false, expected, format!("no {path}/pyvenv.cfg"))
                } else if !python.starts_with("/usr/bin/python3") {
                    outcome(
                        false,
                        expected,
                        format!(
                            "{path}/bin/python does not lead to the system's Python 3 ({python:?})"
                        ),
                    )
                } else {
                    outcome(true, expected, format!("{path}, Python {python}"))
                }
            }
            DeployCheck::PipUpgraded {} => {
                let expected = format!(
                    "pip newer than the bundled {}.{}.{}",
                    BUNDLED_PIP.0, BUNDLED_PIP.1, BUNDLED_PIP.2
                );
                let pip = d
                    .dists()
                    .into_iter()
                    .find_map(|dist| dist.strip_prefix("pip-")?.strip_suffix(".dist-info"));
                match pip {
                    None => outcome(false, expected, "pip is not installed in the venv"),
                    Some(v) if version(v) > BUNDLED_PIP => {
                        outcome(true, expected, format!("pip {v}"))
                    }
                    Some(v) => outcome(false, expected, format!("pip {v}, as bundled")),
                }
            }
            DeployCheck::AppDirReady {} => {
                let dir = d.str("app_dir");
                let stat = &d.0["app_dir_stat"];
                // The owner is the user the app runs as, once a service says so.
                let (owner, uid) = match d.0["service"]["uid"].as_u64() {
                    Some(uid) if uid != u64::MAX => {
                        (d.0["service"]["user"].as_str().unwrap_or(user), Some(uid))
                    }
                    _ => (user, facts[format!("user:{user}")]["uid"].as_u64()),
                };
                let expected = format!("{dir} owned by {owner}, group www-data, mode 775");
                let mode = stat["mode"].as_u64().unwrap_or(0);
                let observed = if stat["exists"] != Value::Bool(true) {
                    format!("{dir} does not exist")
                } else if stat["uid"].as_u64() != uid {
                    format!("{dir} belongs to uid {}", stat["uid"])
                } else if stat["gid"].as_u64() != Some(WWW_DATA_GID) {
                    format!("{dir} has group gid {}, not www-data", stat["gid"])
                } else if mode & 0o070 != 0o070 {
                    format!("{dir} has mode {mode:o}: the group may not write")
                } else {
                    return outcome(true, expected, format!("mode {mode:o}"));
                };
                outcome(false, expected, observed)
            }
            DeployCheck::CodeCheckedOut {} => {
                let c = &d.0["checkout"];
                let expected = format!("a git checkout of the blog in {}", d.str("app_dir"));
                if c["found"] != Value::Bool(true) {
                    outcome(
                        false,
                        expected,
                        format!("no git checkout in {} or its folders", d.str("app_dir")),
                    )
                } else if c["has_pyproject"] != Value::Bool(true) {
                    outcome(
                        false,
                        expected,
                        format!(
                            "{} has no pyproject.toml: not the blog?",
                            c["path"].as_str().unwrap_or("")
                        ),
                    )
                } else if !c["config"].as_str().unwrap_or("").contains("[remote ") {
                    outcome(
                        false,
                        expected,
                        "the checkout has no remote: was it cloned?",
                    )
                } else {
                    outcome(true, expected, c["path"].as_str().unwrap_or_default())
                }
            }
            DeployCheck::AppInstalled { dist } => {
                let wanted = dist.to_lowercase().replace('-', "_");
                let expected = format!("the '{dist}' package installed in the venv");
                // `<name>-<version>.dist-info`, the name with `-` written `_`.
                let found = d.dists().into_iter().find(|n| {
                    n.split('-')
                        .next()
                        .map(|name| name.to_lowercase().replace('-', "_"))
                        == Some(wanted.clone())
                });
                match found {
                    Some(n) => outcome(true, expected, n.trim_end_matches(".dist-info")),
                    None => outcome(
                        false,
                        expected,
                        format!(
                            "no {dist} in {}",
                            d.0["venv"]["path"].as_str().unwrap_or("the venv")
                        ),
                    ),
                }
            }
            DeployCheck::SettingsDebugOff {} => {
                let expected = "debug = false in the production settings";
                match d.production() {
                    Err(why) => outcome(false, expected, why),
                    Ok(t) => match t.get("debug") {
                        Some(toml::Value::Boolean(false)) => {
                            outcome(true, expected, "debug = false")
                        }
                        Some(v) => outcome(false, expected, format!("debug = {v:?}")),
                        None => outcome(
                            false,
                            expected,
                            "debug is not set (the blog's default is true)",
                        ),
                    },
                }
            }
            DeployCheck::SettingsAllowedHosts {} => {
                let expected = "allowed_hosts set in the production settings";
                match d.production() {
                    Err(why) => outcome(false, expected, why),
                    Ok(t) => match t.get("allowed_hosts").and_then(|v| v.as_array()) {
                        Some(hosts) if !hosts.is_empty() => {
                            outcome(true, expected, format!("allowed_hosts = {hosts:?}"))
                        }
                        _ => outcome(false, expected, "allowed_hosts is missing or empty"),
                    },
                }
            }
            DeployCheck::MigrationsApplied {} => {
                let db = &d.0["database"];
                let path = db["path"].as_str().unwrap_or_default();
                let expected = format!("every migration applied in {path}");
                let files = strings(&db["migration_files"]);
                let applied = strings(&db["tables"]["migrations"]);
                if db["exists"] != Value::Bool(true) {
                    return outcome(false, expected, format!("{path} does not exist"));
                }
                if files.is_empty() {
                    return outcome(
                        false,
                        expected,
                        "no migrations found in the venv: is the app installed?",
                    );
                }
                let pending: Vec<&str> = files
                    .iter()
                    .filter(|f| !applied.contains(f))
                    .copied()
                    .collect();
                if pending.is_empty() {
                    outcome(
                        true,
                        expected,
                        format!("{} migrations applied", files.len()),
                    )
                } else {
                    outcome(
                        false,
                        expected,
                        format!("{} not applied, e.g. {}", pending.len(), pending[0]),
                    )
                }
            }
            DeployCheck::SuperuserExists {} => {
                let db = &d.0["database"];
                let users = strings(&db["tables"]["superusers"]);
                match users.first() {
                    Some(u) => outcome(true, "a superuser", format!("'{u}'")),
                    None => outcome(false, "a superuser", "no active superuser in the database"),
                }
            }
            DeployCheck::StaticCollected {} => {
                let s = &d.0["static"];
                let root = s["root"].as_str().unwrap_or_default();
                let files = s["files"].as_u64().unwrap_or(0);
                let expected = format!("the admin's static files collected in {root}");
                if s["admin_css"]["exists"] == Value::Bool(true) {
                    outcome(true, expected, format!("{files} files"))
                } else {
                    outcome(
                        false,
                        expected,
                        format!("{files} files in {root}, no admin/css/base.css"),
                    )
                }
            }
            DeployCheck::SocketUnitEnabled {} => {
                let expected = "a .socket unit listening on a unix path, enabled";
                match d.socket_unit() {
                    None => outcome(
                        false,
                        expected,
                        "no .socket unit with ListenStream=/… in /etc/systemd/system",
                    ),
                    Some(unit) if d.wants().iter().any(|w| w.ends_with(&format!("/{unit}"))) => {
                        outcome(
                            true,
                            expected,
                            format!("{unit} ({})", d.socket_path().unwrap_or("")),
                        )
                    }
                    Some(unit) => {
                        outcome(false, expected, format!("{unit} exists but is not enabled"))
                    }
                }
            }
            DeployCheck::SocketListening {} => {
                let Some(path) = d.socket_path() else {
                    return outcome(
                        false,
                        "systemd listening on the app's socket",
                        "no socket unit to look at",
                    );
                };
                let expected = format!("systemd (PID 1) listening on {path}");
                let listener = d.0["unix_listen"]
                    .as_array()
                    .and_then(|l| l.iter().find(|s| s["path"].as_str() == Some(path)));
                match listener {
                    None => outcome(
                        false,
                        expected,
                        format!("nothing listens on {path}: start the socket unit"),
                    ),
                    Some(s) => {
                        let pids: Vec<u64> = s["pids"]
                            .as_array()
                            .map(|p| p.iter().filter_map(Value::as_u64).collect())
                            .unwrap_or_default();
                        if pids.contains(&1) {
                            outcome(true, expected, format!("{path} held by systemd"))
                        } else {
                            let who = describe_pids(&d, &pids);
                            outcome(
                                false,
                                expected,
                                format!("{path} is held by {who}, not by systemd"),
                            )
                        }
                    }
                }
            }
            DeployCheck::ServiceUnprivileged {} => {
                let service = &d.0["service"];
                let unit = d.service_unit();
                let expected = format!("{unit} runs as a non-root user, from the venv");
                let venv = d.0["venv"]["path"].as_str().unwrap_or_default();
                let exec = service["exec_start"].as_str().unwrap_or_default();
                let run_as = service["user"].as_str().unwrap_or_default();
                if service["exists"] != Value::Bool(true) {
                    outcome(false, expected, format!("no {unit} in /etc/systemd/system"))
                } else if run_as.is_empty() || run_as == "root" || run_as == "0" {
                    outcome(false, expected, format!("{unit} runs as root (no User=)"))
                } else if !exec.starts_with(&format!("{venv}/bin/")) {
                    outcome(
                        false,
                        expected,
                        format!("ExecStart does not run a program of {venv}: {exec}"),
                    )
                } else if !APP_SERVERS.iter().any(|s| exec.contains(s)) {
                    outcome(
                        false,
                        expected,
                        format!("ExecStart runs neither gunicorn nor uvicorn: {exec}"),
                    )
                } else {
                    outcome(true, expected, format!("User={run_as}, {exec}"))
                }
            }
            DeployCheck::SocketReachesDjango {} => {
                let path = d.socket_path().unwrap_or("the socket");
                let expected = format!("Django answering over {path}, live");
                let answers: Vec<&Value> = d.0["http_over_socket"]
                    .as_array()
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                if answers.is_empty() {
                    return outcome(false, expected, "no socket unit to send a request to");
                }
                let parsed: Vec<(Option<u16>, Option<String>, &str)> = answers
                    .iter()
                    .map(|a| {
                        let (status, cookies) = parse_head(a["head"].as_str().unwrap_or_default());
                        (
                            status,
                            csrf_cookie(&cookies),
                            a["error"].as_str().unwrap_or_default(),
                        )
                    })
                    .collect();
                match parsed[0] {
                    (None, _, error) if !error.is_empty() => {
                        outcome(false, expected, format!("cannot talk over {path}: {error}"))
                    }
                    (Some(400), _, _) => outcome(
                        false,
                        expected,
                        "Django answers 400: it refuses the Host header (ALLOWED_HOSTS)",
                    ),
                    (Some(500), _, _) => outcome(
                        false,
                        expected,
                        "the app answers 500: an error in Django (database? settings?)",
                    ),
                    (Some(status), _, _) if status != 200 => {
                        outcome(false, expected, format!("the app answers HTTP {status}"))
                    }
                    (None, _, _) => outcome(
                        false,
                        expected,
                        format!("what answers on {path} does not speak HTTP"),
                    ),
                    _ => {
                        let first = parsed[0].1.as_ref();
                        let second = parsed.get(1).and_then(|p| p.1.as_ref());
                        match (first, second) {
                            (Some(a), Some(b)) if a != b => outcome(
                                true,
                                expected,
                                "HTTP 200 with a fresh CSRF cookie per request",
                            ),
                            _ => outcome(
                                false,
                                expected,
                                "HTTP 200, but not from a live Django (no fresh CSRF cookie per request)",
                            ),
                        }
                    }
                }
            }
            DeployCheck::NginxConfigValid {} => {
                let n = &d.0["nginx"];
                if n["installed"] != Value::Bool(true) {
                    outcome(false, "nginx -t passes", "nginx is not installed")
                } else if n["test_ok"] == Value::Bool(true) {
                    outcome(true, "nginx -t passes", "syntax is ok")
                } else {
                    let msg = n["messages"].as_str().unwrap_or_default();
                    let first = msg
                        .lines()
                        .find(|l| l.contains("emerg") || l.contains("error"))
                        .unwrap_or(msg);
                    outcome(false, "nginx -t passes", first.to_string())
                }
            }
            DeployCheck::NginxProxiesToSocket {} => {
                let path = d.socket_path().unwrap_or("/run/gunicorn.sock");
                let expected = format!("proxy_pass http://unix:{path}");
                let config = d.nginx_config();
                let targets: Vec<&str> = config
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.starts_with('#'))
                    .filter_map(|l| l.strip_prefix("proxy_pass"))
                    .map(|l| l.trim().trim_end_matches(';'))
                    .collect();
                if targets.iter().any(|t| {
                    t.trim_end_matches(':')
                        .trim_end_matches('/')
                        .ends_with(&format!("unix:{path}"))
                }) {
                    outcome(true, expected, format!("proxy_pass http://unix:{path}"))
                } else if targets.is_empty() {
                    outcome(false, expected, "no proxy_pass in nginx's configuration")
                } else {
                    outcome(
                        false,
                        expected,
                        format!("nginx proxies to {}", targets.join(", ")),
                    )
                }
            }
            DeployCheck::DefaultSiteGone {} => {
                let expected = "the default site disabled";
                if d.0["nginx"]["installed"] != Value::Bool(true) {
                    return outcome(false, expected, "nginx is not installed");
                }
                let enabled = d
                    .nginx_config()
                    .contains("# configuration file /etc/nginx/sites-enabled/default:");
                let welcome = http["home"][0]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Welcome to nginx");
                if welcome {
                    outcome(
                        false,
                        expected,
                        "the default nginx site still answers on port 80",
                    )
                } else if enabled {
                    outcome(
                        false,
                        expected,
                        "/etc/nginx/sites-enabled/default is still enabled",
                    )
                } else {
                    outcome(true, expected, "not enabled")
                }
            }
            DeployCheck::BlogThroughNginx {} => blog_through_nginx(&d, http),
            DeployCheck::StaticThroughNginx {} => {
                let r = &http["static"];
                let expected = "/static/admin/css/base.css served by nginx itself";
                let server = r["headers"]["server"].as_str().unwrap_or_default();
                match r["status"].as_u64() {
                    Some(200)
                        if server.starts_with("nginx") && r["headers"]["etag"].is_string() =>
                    {
                        outcome(true, expected, "200, served from disk by nginx")
                    }
                    Some(200) => outcome(
                        false,
                        expected,
                        "200, but generated by the app, not read from disk by nginx",
                    ),
                    Some(404) => outcome(
                        false,
                        expected,
                        "/static/ is 404: collectstatic not run, or the alias points elsewhere",
                    ),
                    _ => outcome(
                        false,
                        expected,
                        format!("/static/admin/css/base.css: {}", status_of(r)),
                    ),
                }
            }
            DeployCheck::DebugOffLive {} => {
                let r = &http["missing"];
                let expected = "a plain 404 page (DEBUG off)";
                let body = r["body"].as_str().unwrap_or_default();
                match r["status"].as_u64() {
                    Some(404) if body.contains("DEBUG = True") => outcome(
                        false,
                        expected,
                        "Django's debug page is public: DEBUG is on in production",
                    ),
                    // nginx's own 404 says nothing about the app.
                    Some(404) if body.contains("<center>nginx") => outcome(
                        false,
                        expected,
                        "the 404 comes from nginx, not from the app",
                    ),
                    Some(404) => outcome(true, expected, "404 without debug details"),
                    _ => outcome(
                        false,
                        expected,
                        format!("a missing page answers {}", status_of(r)),
                    ),
                }
            }
            DeployCheck::AppNotExposed {} => {
                let expected = "no app server on a TCP port reachable from outside";
                let exposed: Vec<String> = facts["tcp-listen"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .filter(|s| !is_loopback(s["address"].as_str().unwrap_or("")))
                            .filter(|s| {
                                s["processes"]
                                    .as_array()
                                    .is_some_and(|ps| ps.iter().any(is_app_server))
                            })
                            .map(|s| {
                                format!("{}:{}", s["address"].as_str().unwrap_or(""), s["port"])
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if exposed.is_empty() {
                    outcome(true, expected, "none")
                } else {
                    outcome(
                        false,
                        expected,
                        format!("an app server listens on {}", exposed.join(", ")),
                    )
                }
            }
            DeployCheck::UnitsEnabledAtBoot {} => {
                let wants = d.wants();
                let socket = d.socket_unit().unwrap_or("gunicorn.socket");
                let expected = format!("{socket} and nginx.service enabled");
                let socket_on = wants.iter().any(|w| w.ends_with(&format!("/{socket}")));
                let nginx_on = wants.iter().any(|w| w.ends_with("/nginx.service"));
                match (socket_on, nginx_on) {
                    (true, true) => outcome(true, expected, "both start at boot"),
                    (false, _) => {
                        outcome(false, expected, format!("{socket} will not start at boot"))
                    }
                    (true, false) => {
                        outcome(false, expected, "nginx.service will not start at boot")
                    }
                }
            }
            DeployCheck::RebootedAfterDeploy {} => {
                let expected = "a reboot after the last change to the deployment";
                // Both in centiseconds since the epoch.
                let booted = d.0["booted_at_cs"].as_u64().unwrap_or(0);
                let changed = d.0["last_change"]["mtime_cs"].as_u64().unwrap_or(0);
                let file = d.0["last_change"]["path"]
                    .as_str()
                    .unwrap_or("the deployment");
                if changed == 0 {
                    outcome(false, expected, "nothing deployed yet")
                } else if booted > changed {
                    outcome(true, expected, "rebooted after the last change")
                } else {
                    outcome(
                        false,
                        expected,
                        format!("not rebooted since {file} changed"),
                    )
                }
            }
            DeployCheck::AppUnderSystemd {} => {
                let unit = d.service_unit();
                let expected = format!("every app server process runs under {unit}");
                let servers = d.app_servers();
                if servers.is_empty() {
                    return outcome(
                        false,
                        expected,
                        "no gunicorn or uvicorn process runs (even after a request)",
                    );
                }
                let stray: Vec<String> = servers
                    .iter()
                    .filter(|p| {
                        !p["cgroup"]
                            .as_str()
                            .unwrap_or_default()
                            .ends_with(&format!("/{unit}"))
                    })
                    .map(|p| format!("pid {} ({})", p["pid"], p["cgroup"].as_str().unwrap_or("?")))
                    .collect();
                if stray.is_empty() {
                    outcome(
                        true,
                        expected,
                        format!("{} process(es) in {unit}", servers.len()),
                    )
                } else {
                    outcome(
                        false,
                        expected,
                        format!("started by hand, not by systemd: {}", stray.join(", ")),
                    )
                }
            }
        }
    }
}

fn blog_through_nginx(d: &Deploy, http: &Value) -> Outcome {
    let expected = "the live blog on port 80, through nginx";
    let first = &http["home"][0];
    let second = &http["home"][1];
    let body = first["body"].as_str().unwrap_or_default();
    let server = first["headers"]["server"].as_str().unwrap_or_default();
    let socket = d.socket_path().unwrap_or("the app's socket");
    let observed = match first["status"].as_u64() {
        None => format!("port 80: {}", status_of(first)),
        Some(_) if body.contains("Welcome to nginx") => {
            "the default nginx site still answers on port 80".to_string()
        }
        Some(502) => format!("nginx answers 502: nothing is listening on {socket}"),
        Some(504) => format!("nginx answers 504: the app behind {socket} does not answer"),
        Some(400) => "Django refuses the Host header: ALLOWED_HOSTS".to_string(),
        Some(500) => "the app answers 500: an error in Django (database? settings?)".to_string(),
        Some(200) if !server.starts_with("nginx") => {
            format!("port 80 is served by '{server}', not nginx")
        }
        Some(200) => {
            let cookies = |r: &Value| {
                strings(&r["cookies"])
                    .into_iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            let (c1, c2) = (cookies(first), cookies(second));
            let t1 = csrf_cookie(&c1.iter().map(String::as_str).collect::<Vec<_>>());
            let t2 = csrf_cookie(&c2.iter().map(String::as_str).collect::<Vec<_>>());
            match (t1, t2) {
                (Some(a), Some(b)) if a != b && body.contains("csrfmiddlewaretoken") => {
                    return outcome(true, expected, "200 from Django, through nginx");
                }
                _ => {
                    "200, but the page is not live: no fresh CSRF token per request (a saved copy?)"
                        .to_string()
                }
            }
        }
        Some(status) => format!("port 80 answers HTTP {status}"),
    };
    outcome(false, expected, observed)
}

fn describe_pids(d: &Deploy, pids: &[u64]) -> String {
    let names: Vec<String> = pids
        .iter()
        .map(|pid| {
            let p = d.0["processes"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["pid"].as_u64() == Some(*pid)));
            match p {
                Some(p) => {
                    let line = cmdline(p).replace('\n', " ");
                    let short: String = line.chars().take(48).collect();
                    let more = if short.len() < line.len() { "…" } else { "" };
                    format!("'{short}{more}' (pid {pid})")
                }
                None => format!("pid {pid}"),
            }
        })
        .collect();
    if names.is_empty() {
        "no process (a stale socket file?)".to_string()
    } else {
        names.join(", ")
    }
}

fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr == "::1"
}

fn version(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    });
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version("25.3") > BUNDLED_PIP);
        assert!(version("23.0.1") == BUNDLED_PIP);
        assert!(version("23.0.10") > BUNDLED_PIP);
    }

    #[test]
    fn app_servers_are_recognised_by_their_command_line() {
        let gunicorn = serde_json::json!({"cmdline": ["/home/student/.venv/bin/python3", "/home/student/.venv/bin/gunicorn", "blog.wsgi"]});
        let uvicorn = serde_json::json!({"cmdline": ["/opt/venv/bin/python", "/opt/venv/bin/uvicorn", "blog.asgi:application"]});
        let fake = serde_json::json!({"cmdline": ["python3", "-c", "import socket # gunicorn"]});
        assert!(is_app_server(&gunicorn));
        assert!(is_app_server(&uvicorn));
        assert!(!is_app_server(&fake));
    }

    #[test]
    fn heads_parse() {
        let (status, cookies) =
            parse_head("HTTP/1.1 200 OK\r\nSet-Cookie: csrftoken=abc; Path=/\r\nServer: gunicorn");
        assert_eq!(status, Some(200));
        assert_eq!(csrf_cookie(&cookies).as_deref(), Some("abc"));
    }
}
