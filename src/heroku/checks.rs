//! The heroku lab's check kinds and their evaluation, from the typed
//! snapshot in `facts.rs`: one function per kind.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

use serde::Deserialize;

use super::api::Phase;
use super::dynos::{Crash, DynoState};
use super::facts::{AppFacts, Facts, Settings};
use crate::i18n::tr;
use crate::verdict::{Outcome, Verdict};

/// What the checks observe in words of their own, kept together for
/// translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn not_asked() -> String {
        tr!("heroku-not-asked")
    }
    pub(super) fn not_django() -> String {
        tr!("heroku-not-django")
    }
    pub(super) fn no_procfile() -> String {
        tr!("heroku-no-procfile")
    }
    pub(super) fn no_procfile_for(module: &str) -> String {
        format!("{}; {}", no_procfile(), tr!("heroku-procfile-for", module = module))
    }
    pub(super) fn r10(dyno: &str, seconds: u64) -> String {
        tr!("heroku-r10", dyno = dyno, seconds = seconds)
    }
    pub(super) fn h10(dyno: &str, code: i64) -> String {
        tr!("heroku-h10", dyno = dyno, code = code)
    }
}

/// The kinds of check a heroku lab.yaml may use (named `heroku_…` in
/// lab files, as they were before each environment had its own kinds).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Check {
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

impl Check {
    /// Whether this check needs the one-off dyno reading the settings.
    pub(crate) fn needs_settings(&self) -> bool {
        matches!(
            self,
            Check::HerokuMigrated {}
                | Check::HerokuDebugOff {}
                | Check::HerokuSecretKey {}
                | Check::HerokuAllowedHosts {}
        )
    }

    /// The request path this check reads.
    pub(crate) fn path(&self) -> Option<&str> {
        match self {
            Check::HerokuHttp { path, .. } => Some(path),
            _ => None,
        }
    }

    pub(crate) fn evaluate(&self, facts: &Facts) -> Verdict {
        if !facts.server {
            return Ok(Outcome::fail(tr!("heroku-running-expected"), tr!("heroku-not-running")));
        }
        let Some(app) = &facts.app else {
            return Ok(match self {
                Check::HerokuApp {} => Outcome::fail(tr!("heroku-app-expected"), tr!("heroku-no-app")),
                _ => Outcome::fail(tr!("heroku-app-expected"), tr!("heroku-no-app-create")),
            });
        };
        // Django's settings and migrations are not asked of other apps.
        if !app.django && self.needs_settings() {
            return Ok(Outcome::pass(
                tr!("heroku-django-expected"),
                text::not_django(),
            ));
        }
        Ok(match self {
            Check::HerokuApp {} => Outcome::pass(tr!("heroku-app-expected"), format!("app {}", app.name)),
            Check::HerokuProcfile { process, program } => procfile(app, process, program),
            Check::HerokuBuildSucceeded {} => build_succeeded(app),
            Check::HerokuReleased {} => released(app),
            Check::HerokuMigrated {} => migrated(app.database.as_deref(), settings(app)),
            Check::HerokuDebugOff {} => debug_off(settings(app)),
            Check::HerokuSecretKey {} => secret_key(settings(app)),
            Check::HerokuAllowedHosts {} => allowed_hosts(&app.name, settings(app)),
            Check::HerokuWebDyno {} => web_dyno(app),
            Check::HerokuHttp {
                path,
                status,
                content_type,
            } => http(app, path, *status, content_type.as_deref()),
        })
    }
}

fn settings(app: &AppFacts) -> Result<&Settings, String> {
    match &app.settings {
        Some(Ok(settings)) => Ok(settings),
        Some(Err(why)) => Err(why.clone()),
        None => Err(tr!("heroku-settings-unread")),
    }
}

fn procfile(app: &AppFacts, process: &str, program: &str) -> Outcome {
    let expected = tr!("heroku-procfile-expected", process = process, program = program);
    if !app.pushed {
        return Outcome::fail(expected, tr!("heroku-nothing-pushed"));
    }
    let procfile = app.procfile.clone().unwrap_or_default();
    match procfile.get(process) {
        None if procfile.is_empty() => Outcome::fail(
            expected,
            match &app.wsgi_module {
                Some(module) => text::no_procfile_for(module),
                None => text::no_procfile(),
            },
        ),
        None => Outcome::fail(expected, tr!("heroku-no-process", process = process)),
        Some(command) => {
            let runs = command
                .split_whitespace()
                .any(|word| word.rsplit('/').next() == Some(program));
            Outcome::new(runs, expected, format!("{process}: {command}"))
        }
    }
}

fn build_succeeded(app: &AppFacts) -> Outcome {
    let expected = tr!("heroku-build-expected");
    match &app.latest_build {
        None => Outcome::fail(expected, tr!("heroku-no-build")),
        Some(b) if b.status == Phase::Succeeded => Outcome::pass(expected, tr!("heroku-build-ok")),
        Some(b) => Outcome::fail(
            expected,
            tr!(
                "heroku-build-failed",
                status = b.status.word(),
                reason = b.reason.clone().unwrap_or_else(|| tr!("heroku-see-push")),
            ),
        ),
    }
}

fn short(commit: Option<&str>) -> String {
    commit.unwrap_or("?").chars().take(8).collect()
}

fn released(app: &AppFacts) -> Outcome {
    let expected = tr!("heroku-released-expected");
    let Some(latest) = &app.latest_release_of_build else {
        return Outcome::fail(expected, tr!("heroku-no-release"));
    };
    let current = app.current.as_ref();
    let current_commit = current.and_then(|c| c.commit.as_deref());
    match (latest.status, current) {
        (Phase::Failed, _) => Outcome::fail(
            expected,
            match latest.release_error.as_deref() {
                Some(last) => format!("{}: {last}", tr!("heroku-release-failed", version = latest.version)),
                None => tr!("heroku-release-failed", version = latest.version),
            },
        ),
        (Phase::Pending, _) => Outcome::fail(
            expected,
            tr!("heroku-release-pending", version = latest.version),
        ),
        (Phase::Succeeded, Some(c)) if c.commit == latest.commit => Outcome::pass(
            expected,
            tr!("heroku-runs-commit", version = c.version, commit = short(current_commit)),
        ),
        (Phase::Succeeded, c) => Outcome::fail(
            expected,
            tr!(
                "heroku-rolled-back",
                version = c.map_or(0, |c| c.version),
                commit = short(current_commit),
                latest = short(latest.commit.as_deref()),
            ),
        ),
    }
}

fn migrated(database: Option<&str>, settings: Result<&Settings, String>) -> Outcome {
    let expected = tr!("heroku-migrated-expected");
    // Without the add-on each dyno has a database file of its own, lost
    // when it restarts: what one dyno migrated, no other sees.
    if database.is_none() {
        return Outcome::fail(expected, tr!("heroku-no-database"));
    }
    let unapplied = settings.map(|s| {
        s.unapplied_migrations
            .ok_or_else(|| tr!("heroku-settings-unread"))
    });
    match unapplied {
        Ok(Ok(0)) => Outcome::pass(expected, tr!("heroku-all-applied")),
        Ok(Ok(n)) => Outcome::fail(expected, tr!("heroku-not-applied", count = n)),
        Ok(Err(why)) => Outcome::fail(expected, why),
        Err(why) => Outcome::fail(expected, why),
    }
}

fn debug_off(settings: Result<&Settings, String>) -> Outcome {
    let expected = "DEBUG = False";
    match settings {
        Ok(s) if !s.debug => Outcome::pass(expected, "DEBUG = False"),
        Ok(_) => Outcome::fail(expected, "DEBUG = True"),
        Err(why) => Outcome::fail(expected, why),
    }
}

fn secret_key(settings: Result<&Settings, String>) -> Outcome {
    let expected = tr!("heroku-key-expected");
    match settings {
        Ok(s) if s.secret_key_insecure => Outcome::fail(expected, tr!("heroku-key-insecure")),
        Ok(s) if s.secret_key_stable == Some(false) => {
            Outcome::fail(expected, tr!("heroku-key-unstable"))
        }
        Ok(s) if s.secret_key_length >= 50 => {
            Outcome::pass(expected, tr!("heroku-key-length", length = s.secret_key_length))
        }
        Ok(s) => Outcome::fail(expected, tr!("heroku-key-short", length = s.secret_key_length)),
        Err(why) => Outcome::fail(expected, why),
    }
}

fn allowed_hosts(name: &str, settings: Result<&Settings, String>) -> Outcome {
    let host = format!("{name}.localhost");
    let expected = tr!("heroku-hosts-expected", host = host);
    match settings {
        Ok(s) => {
            let ok = s.allowed_hosts.iter().any(|h| host_allowed(h, &host));
            let listed: Vec<String> = s.allowed_hosts.iter().map(|h| format!("\"{h}\"")).collect();
            Outcome::new(ok, expected, format!("[{}]", listed.join(", ")))
        }
        Err(why) => Outcome::fail(expected, why),
    }
}

fn web_dyno(app: &AppFacts) -> Outcome {
    let expected = tr!("heroku-dyno-expected");
    let current = app.current.as_ref().map(|c| c.version);
    if app.formation.get("web").copied().unwrap_or(0) == 0 {
        return Outcome::fail(expected, tr!("heroku-no-web-dynos"));
    }
    let webs: Vec<_> = app.dynos.iter().filter(|d| d.kind == "web").collect();
    if webs
        .iter()
        .any(|d| d.state == DynoState::Up && Some(d.release) == current)
    {
        return Outcome::pass(expected, tr!("heroku-dynos-up", version = current.unwrap_or(0)));
    }
    let states: Vec<String> = webs
        .iter()
        .map(|d| match (d.state, d.crash) {
            (DynoState::Crashed, Some(Crash::BootTimeout { seconds })) => {
                text::r10(&d.name, seconds)
            }
            (DynoState::Crashed, Some(Crash::Exited { code })) => text::h10(&d.name, code),
            _ => format!("{} {}", d.name, d.state.word()),
        })
        .collect();
    let why = match app.last_app_line.as_deref() {
        None | Some("") => String::new(),
        Some(last) => tr!("heroku-last-output", line = last),
    };
    let dynos = if states.is_empty() {
        tr!("heroku-no-web-dyno")
    } else {
        states.join(", ")
    };
    Outcome::fail(expected, format!("{dynos}{why}"))
}

fn http(app: &AppFacts, path: &str, status: u16, content_type: Option<&str>) -> Outcome {
    let name = &app.name;
    let expected = match content_type {
        Some(t) => format!("{status} ({t}) for https://{name}.localhost{path}"),
        None => format!("{status} for https://{name}.localhost{path}"),
    };
    let answer = app.http.get(path).cloned().unwrap_or_default();
    if let Some(error) = answer.error {
        return Outcome::fail(expected, error);
    }
    // Not asked: nothing runs yet to answer (no app pushed, no release).
    let Some(got) = answer.status else {
        return Outcome::fail(expected, text::not_asked());
    };
    let got_type = answer.header("content-type");
    let type_ok = content_type.is_none_or(|t| got_type.starts_with(t));
    let release = answer.header_if_any(super::router::RELEASE_HEADER);
    let served_current =
        release.and_then(|r| r.parse().ok()) == app.current.as_ref().map(|c| c.version);
    let mut observed = format!("{got} ({got_type})");
    if let Some(code) = answer.header_if_any(super::router::ERROR_HEADER) {
        observed = format!("{observed}, {}", tr!("heroku-router-error", code = code));
    }
    if got == 400 {
        observed.push_str(&format!(", {}", tr!("heroku-bad-request")));
    }
    if (300..400).contains(&got) {
        let nowhere = tr!("heroku-nowhere");
        let to = answer.header_if_any("location").unwrap_or(&nowhere);
        observed.push_str(&format!(", {}", tr!("heroku-redirect", to = to)));
        // This request is HTTPS already: an app redirecting it to HTTPS
        // does not trust the router's X-Forwarded-Proto.
        if to.starts_with(&format!("https://{name}.localhost")) {
            observed.push_str(&format!(" ({})", tr!("heroku-https-loop")));
        }
    }
    if got == status && type_ok && !served_current {
        observed.push_str(&format!(", {}", tr!("heroku-older-release")));
    }
    Outcome::new(
        got == status && type_ok && served_current,
        expected,
        observed,
    )
}

/// Django's ALLOWED_HOSTS matching: exact, `.suffix`, or `*`.
pub(crate) fn host_allowed(pattern: &str, host: &str) -> bool {
    pattern == "*"
        || pattern.eq_ignore_ascii_case(host)
        || (pattern.starts_with('.')
            && (host.ends_with(pattern) || host.eq_ignore_ascii_case(&pattern[1..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key of the right length that another process reads differently
    /// (generated at start-up) is not the app's own; one it reads the same,
    /// or could not be asked about, is judged on its length.
    #[test]
    fn a_secret_key_made_per_process_is_not_the_apps_own() {
        let settings = |stable| Settings {
            debug: false,
            secret_key_insecure: false,
            secret_key_length: 66,
            allowed_hosts: vec![],
            unapplied_migrations: Some(0),
            migrations_error: None,
            secret_key_stable: stable,
        };
        let random = secret_key(Ok(&settings(Some(false))));
        assert!(!random.passed);
        assert!(random.observed.contains("differs in each process"));
        assert!(secret_key(Ok(&settings(Some(true)))).passed);
        assert!(secret_key(Ok(&settings(None))).passed);
    }

    #[test]
    fn allowed_hosts_match_like_djangos() {
        assert!(host_allowed("blog.localhost", "blog.localhost"));
        assert!(host_allowed(".localhost", "blog.localhost"));
        assert!(host_allowed("*", "blog.localhost"));
        assert!(!host_allowed("localhost", "blog.localhost"));
        assert!(!host_allowed("other.localhost", "blog.localhost"));
    }
}
