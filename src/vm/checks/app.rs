//! The Python app's files, settings and database: virtualenv, app folder,
//! checkout, installed distribution, settings, migrations, superuser,
//! static files.

use crate::verdict::Outcome;
use crate::vm::facts::{Deploy, Facts};

/// Debian 12's python3-venv bundles pip 23.0.1; anything newer was upgraded.
const BUNDLED_PIP: (u64, u64, u64) = (23, 0, 1);
/// Debian's fixed gid of www-data (base-passwd).
const WWW_DATA_GID: u32 = 33;

pub(super) fn venv_ready(d: &Deploy) -> Outcome {
    let venv = &d.venv;
    let path = &venv.path;
    let expected = format!("a virtualenv at {path}");
    if !venv.exists {
        Outcome::fail(expected, format!("no {path}/pyvenv.cfg"))
    } else if !venv.python.starts_with("/usr/bin/python3") {
        Outcome::fail(
            expected,
            format!(
                "{path}/bin/python does not lead to the system's Python 3 ('{}')",
                venv.python
            ),
        )
    } else {
        Outcome::pass(expected, format!("{path}, Python {}", venv.python))
    }
}

pub(super) fn pip_upgraded(d: &Deploy) -> Outcome {
    let (major, minor, patch) = BUNDLED_PIP;
    let expected = format!("pip newer than the bundled {major}.{minor}.{patch}");
    let pip = d
        .venv
        .dists
        .iter()
        .find_map(|dist| dist.strip_prefix("pip-")?.strip_suffix(".dist-info"));
    match pip {
        None => Outcome::fail(expected, "pip is not installed in the venv"),
        Some(v) if version(v) > BUNDLED_PIP => Outcome::pass(expected, format!("pip {v}")),
        Some(v) => Outcome::fail(expected, format!("pip {v}, as bundled")),
    }
}

/// Who may do what in the app folder, however the student arranged it:
/// the user who deploys (the service's `User=`, the lab's user until a
/// service says) must be able to write there, the group the service runs
/// as (`Group=`, www-data until a service says) to read, and nobody else
/// to write. The course's way (root-owned, group www-data, mode 2775, the
/// user in www-data) passes, as does the user's own folder with group
/// www-data.
pub(super) fn app_dir_ready(d: &Deploy, facts: &Facts, lab_user: &str) -> Outcome {
    let dir = &d.app_dir;
    let service = d.service.as_ref().filter(|s| s.uid.is_some());
    let (writer, writer_uid, writer_gids) = match service {
        Some(s) => (s.user.as_str(), s.uid, s.user_gids.clone()),
        None => {
            let user = facts.users.get(lab_user).and_then(Option::as_ref);
            (
                lab_user,
                user.map(|u| u.uid),
                user.map(|u| u.gids.clone()).unwrap_or_default(),
            )
        }
    };
    let (reader, reader_gid) = match &d.service {
        Some(s) if !s.group.is_empty() => (s.group.as_str(), s.gid),
        _ => ("www-data", Some(WWW_DATA_GID)),
    };
    let expected = format!("{dir} writable by {writer}, readable by the group {reader}");
    let Some(stat) = &d.app_dir_stat else {
        return Outcome::fail(expected, format!("{dir} does not exist"));
    };
    let mode = stat.mode;
    // As the kernel decides: the owner's bits for the owner, else the
    // group's for a member, else the others'.
    let allows = |bits: u32, uid: Option<u32>, gids: &[u32]| {
        let class = if uid == Some(stat.uid) {
            6
        } else if gids.contains(&stat.gid) {
            3
        } else {
            0
        };
        mode & (bits << class) == bits << class
    };
    let state = format!(
        "{dir} is {}:{}, mode {mode:o}",
        names(&d.app_dir_owner, stat.uid),
        names(&d.app_dir_group, stat.gid)
    );
    let reader_uid = service.and_then(|s| s.uid);
    let reader_gids: Vec<u32> = reader_gid.into_iter().collect();
    let observed = if mode & 0o002 != 0 {
        format!("{state}: every user of the server may write there")
    } else if writer_uid.is_none() || !allows(0o3, writer_uid, &writer_gids) {
        format!("{state}: {writer} cannot write there")
    } else if !allows(0o5, reader_uid, &reader_gids) {
        format!("{state}: the group {reader} cannot read it")
    } else {
        return Outcome::pass(expected, state);
    };
    Outcome::fail(expected, observed)
}

/// A user or group for messages: its name, else its number.
fn names(name: &str, id: u32) -> String {
    if name.is_empty() {
        id.to_string()
    } else {
        name.to_string()
    }
}

pub(super) fn code_checked_out(d: &Deploy) -> Outcome {
    let dir = &d.app_dir;
    let expected = format!("a git checkout of the app's code at {dir}");
    match &d.checkout {
        None => Outcome::fail(
            expected,
            format!("no git checkout holds {dir}, nor any folder in it"),
        ),
        Some(c) if !c.config.contains("[remote ") => {
            Outcome::fail(expected, "the checkout has no remote: was it cloned?")
        }
        Some(c) => Outcome::pass(expected, &c.path),
    }
}

pub(super) fn app_installed(d: &Deploy, dist: &str) -> Outcome {
    let wanted = dist.to_lowercase().replace('-', "_");
    let expected = format!("the '{dist}' package installed in the venv");
    // `<name>-<version>.dist-info`, the name with `-` written `_`.
    let found = d.venv.dists.iter().find(|n| {
        n.split('-')
            .next()
            .is_some_and(|name| name.to_lowercase().replace('-', "_") == wanted)
    });
    match found {
        Some(n) => Outcome::pass(expected, n.trim_end_matches(".dist-info")),
        None => Outcome::fail(expected, format!("no {dist} in {}", d.venv.path)),
    }
}

/// The settings' section for the service's BLOG_ENV, keys lowercased.
fn production(d: &Deploy) -> Result<toml::Table, String> {
    let path = &d.settings.path;
    let Some(text) = &d.settings.content else {
        return Err(format!("{path} does not exist"));
    };
    let table = text
        .parse::<toml::Table>()
        .map_err(|e| format!("{path} is not valid TOML: {}", e.message()))?;
    let section = &d.settings_section;
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

pub(super) fn settings_debug_off(d: &Deploy) -> Outcome {
    let expected = "debug = false in the production settings";
    match production(d) {
        Err(why) => Outcome::fail(expected, why),
        Ok(t) => match t.get("debug") {
            Some(toml::Value::Boolean(false)) => Outcome::pass(expected, "debug = false"),
            Some(v) => Outcome::fail(expected, format!("debug = {}", toml_text(v))),
            None => Outcome::fail(expected, "debug is not set (the blog's default is true)"),
        },
    }
}

pub(super) fn settings_allowed_hosts(d: &Deploy) -> Outcome {
    let expected = "allowed_hosts set in the production settings";
    match production(d) {
        Err(why) => Outcome::fail(expected, why),
        Ok(t) => match t.get("allowed_hosts").and_then(|v| v.as_array()) {
            Some(hosts) if !hosts.is_empty() => {
                let hosts = toml_text(&toml::Value::Array(hosts.clone()));
                Outcome::pass(expected, format!("allowed_hosts = {hosts}"))
            }
            _ => Outcome::fail(expected, "allowed_hosts is missing or empty"),
        },
    }
}

pub(super) fn migrations_applied(d: &Deploy) -> Outcome {
    let db = &d.database;
    let path = &db.path;
    let expected = format!("every migration applied in {path}");
    if db.stat.is_none() {
        return Outcome::fail(expected, format!("{path} does not exist"));
    }
    let files = &db.migration_files;
    if files.is_empty() {
        return Outcome::fail(
            expected,
            "no migrations found in the venv: is the app installed?",
        );
    }
    let applied = db.migrations.as_deref().unwrap_or_default();
    let pending: Vec<&String> = files.iter().filter(|f| !applied.contains(f)).collect();
    match pending.first() {
        None => Outcome::pass(expected, format!("{} migrations applied", files.len())),
        Some(first) => Outcome::fail(
            expected,
            format!("{} not applied, e.g. {first}", pending.len()),
        ),
    }
}

pub(super) fn superuser_exists(d: &Deploy) -> Outcome {
    let users = d.database.superusers.as_deref().unwrap_or_default();
    match users.first() {
        Some(u) => Outcome::pass("a superuser", format!("'{u}'")),
        None => Outcome::fail("a superuser", "no active superuser in the database"),
    }
}

pub(super) fn static_collected(d: &Deploy) -> Outcome {
    let s = &d.static_files;
    let (root, files) = (&s.root, s.files);
    let expected = format!("the admin's static files collected in {root}");
    if s.admin_css {
        Outcome::pass(expected, format!("{files} files"))
    } else {
        Outcome::fail(
            expected,
            format!("{files} files in {root}, no admin/css/base.css"),
        )
    }
}

/// A settings value as it is written in TOML, for messages.
fn toml_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("\"{s}\""),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_text).collect();
            format!("[{}]", items.join(", "))
        }
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Table(_) => "a table".to_string(),
    }
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
}
