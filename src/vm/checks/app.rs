//! The Python app's files, settings and database: virtualenv, app folder,
//! checkout, the app importable, settings, migrations, superuser, static
//! files. Settings, database and static files are judged from what Django
//! itself says, as the service runs the app (`vm/django.rs`).

use crate::i18n::tr;
use crate::verdict::Outcome;
use crate::vm::django::{self, SecretKey};
use crate::vm::facts::{Deploy, Facts, Service};

/// Debian 12's python3-venv bundles pip 23.0.1; anything newer was upgraded.
const BUNDLED_PIP: (u64, u64, u64) = (23, 0, 1);
/// Debian's fixed gid of www-data (base-passwd).
const WWW_DATA_GID: u32 = 33;

pub(super) fn venv_ready(d: &Deploy) -> Outcome {
    let venv = &d.venv;
    let path = &venv.path;
    let expected = tr!("vm-venv-expected", path = path);
    if !venv.exists {
        Outcome::fail(expected, tr!("vm-venv-none", path = path))
    } else if !venv.python.starts_with("/usr/bin/python3") {
        Outcome::fail(
            expected,
            tr!("vm-venv-other-python", path = path, python = venv.python),
        )
    } else {
        Outcome::pass(expected, format!("{path}, Python {}", venv.python))
    }
}

pub(super) fn pip_upgraded(d: &Deploy) -> Outcome {
    let (major, minor, patch) = BUNDLED_PIP;
    let expected = tr!("vm-pip-expected", version = format!("{major}.{minor}.{patch}"));
    let pip = d
        .venv
        .dists
        .iter()
        .find_map(|dist| dist.strip_prefix("pip-")?.strip_suffix(".dist-info"));
    match pip {
        None => Outcome::fail(expected, tr!("vm-pip-none")),
        Some(v) if version(v) > BUNDLED_PIP => Outcome::pass(expected, format!("pip {v}")),
        Some(v) => Outcome::fail(expected, tr!("vm-pip-bundled", version = v)),
    }
}

/// Who may do what in the app folder, however the student arranged it:
/// the user who deploys (the service's `User=`, the lab's user until a
/// service says) must be able to write there, the group the service runs
/// as (`Group=`, www-data until a service says) to read, and nobody else
/// to write. The course's way (root-owned, group www-data, mode 2775, the
/// user in www-data) passes, as does the user's own folder with group
/// www-data. A service that runs as root says nothing about who should
/// write and read here (root may do anything): the folder is then judged
/// for the lab's user and www-data, and the service's own check names the
/// root as the fault, not the folder.
pub(super) fn app_dir_ready(d: &Deploy, facts: &Facts, lab_user: &str) -> Outcome {
    let dir = &d.app_dir;
    // No `User=` runs it as root too.
    let as_root = |s: &&Service| s.uid == Some(0) || s.user == "root" || s.user.is_empty();
    let service = d
        .service
        .as_ref()
        .filter(|s| s.uid.is_some())
        .filter(|s| !as_root(s));
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
    let (reader, reader_gid) = match d.service.as_ref().filter(|s| !as_root(s)) {
        Some(s) if !s.group.is_empty() => (s.group.as_str(), s.gid),
        _ => ("www-data", Some(WWW_DATA_GID)),
    };
    let expected = tr!("vm-app-dir-expected", dir = dir, writer = writer, reader = reader);
    let Some(stat) = &d.app_dir_stat else {
        return Outcome::fail(expected, tr!("vm-app-dir-none", dir = dir));
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
    let state = tr!(
        "vm-app-dir-state",
        dir = dir,
        owner = names(&d.app_dir_owner, stat.uid),
        group = names(&d.app_dir_group, stat.gid),
        mode = format!("{mode:o}"),
    );
    let reader_uid = service.and_then(|s| s.uid);
    let reader_gids: Vec<u32> = reader_gid.into_iter().collect();
    let observed = if mode & 0o002 != 0 {
        tr!("vm-app-dir-world-writable", state = state)
    } else if writer_uid.is_none() || !allows(0o3, writer_uid, &writer_gids) {
        tr!("vm-app-dir-not-writable", state = state, writer = writer)
    } else if !allows(0o5, reader_uid, &reader_gids) {
        tr!("vm-app-dir-not-readable", state = state, reader = reader)
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
    let expected = tr!("vm-checkout-expected", dir = dir);
    match &d.checkout {
        None => Outcome::fail(expected, tr!("vm-checkout-none", dir = dir)),
        Some(c) if !c.config.contains("[remote ") => {
            Outcome::fail(expected, tr!("vm-checkout-no-remote"))
        }
        Some(c) => Outcome::pass(expected, &c.path),
    }
}

/// The venv runs the app: its Python imports what the service serves
/// (the WSGI/ASGI module, installed or from the checkout through the
/// service's folder or PYTHONPATH) and Django, from the venv itself.
pub(super) fn app_installed(d: &Deploy) -> Outcome {
    let venv = &d.venv.path;
    let expected = tr!("vm-installed-expected", venv = venv);
    let (run, answer) = match django::ask(d) {
        Ok(found) => found,
        Err(why) => return Outcome::fail(expected, why),
    };
    let django_path = answer.django_path.as_deref().unwrap_or_default();
    let the_app = tr!("vm-the-app");
    let target = answer.target.as_deref().unwrap_or(&the_app);
    if !django_path.starts_with(&format!("{venv}/")) {
        return Outcome::fail(expected, tr!("vm-django-elsewhere", path = django_path));
    }
    let version = answer.django_version.as_deref().unwrap_or("?");
    let source = match (&answer.distribution, &answer.module_file) {
        (Some(dist), _) => tr!("vm-installed-as", dist = dist),
        (None, Some(file)) => tr!("vm-installed-from", file = file),
        (None, None) => tr!("vm-installed-found"),
    };
    Outcome::pass(
        expected,
        format!("{target} {source}, Django {version}, {}", django::how(run)),
    )
}

/// DEBUG as the app really runs with it.
pub(super) fn settings_debug_off(d: &Deploy) -> Outcome {
    let expected = tr!("vm-debug-expected");
    match django::ask(d) {
        Err(why) => Outcome::fail(expected, why),
        Ok((run, answer)) => {
            let the_settings = tr!("vm-the-settings");
            let settings = answer.settings_module.as_deref().unwrap_or(&the_settings);
            let how = django::how(run);
            match answer.debug {
                Some(false) => Outcome::pass(
                    expected,
                    tr!("vm-debug-false", settings = settings, how = how),
                ),
                _ => Outcome::fail(expected, tr!("vm-debug-true", settings = settings, how = how)),
            }
        }
    }
}

pub(super) fn settings_allowed_hosts(d: &Deploy) -> Outcome {
    let expected = tr!("vm-hosts-expected");
    match django::ask(d) {
        Err(why) => Outcome::fail(expected, why),
        Ok((run, answer)) => match answer.allowed_hosts.as_deref().unwrap_or_default() {
            [] => Outcome::fail(expected, tr!("vm-hosts-empty", how = django::how(run))),
            hosts => Outcome::pass(
                expected,
                format!("ALLOWED_HOSTS = {}", django::python_list(hosts)),
            ),
        },
    }
}

/// SECRET_KEY is the deploy's own, not the one `startproject` wrote into
/// the code (judged without ever showing the key).
pub(super) fn settings_secret_key(d: &Deploy) -> Outcome {
    let expected = tr!("vm-key-own-expected");
    let (run, answer) = match django::ask(d) {
        Ok(found) => found,
        Err(why) => return Outcome::fail(expected, why),
    };
    let how = django::how(run);
    match answer.secret_key {
        Some(SecretKey::Ok) => Outcome::pass(expected, tr!("vm-key-strong", how = how)),
        Some(SecretKey::Insecure) => Outcome::fail(expected, tr!("vm-key-insecure", how = how)),
        Some(SecretKey::Weak) => Outcome::fail(expected, tr!("vm-key-weak", how = how)),
        Some(SecretKey::Missing) | None => Outcome::fail(expected, tr!("vm-key-empty", how = how)),
    }
}

/// What migrate would still do, per Django's own migration plan.
pub(super) fn migrations_applied(d: &Deploy) -> Outcome {
    let expected = tr!("vm-migrations-expected");
    let (_, answer) = match django::ask(d) {
        Ok(found) => found,
        Err(why) => return Outcome::fail(expected, why),
    };
    let database = answer
        .database
        .as_ref()
        .map_or_else(String::new, |db| {
            tr!("vm-migrations-database", name = db.name, engine = db.engine)
        });
    if let Some(why) = answer
        .database_error
        .as_ref()
        .or(answer.migrations_error.as_ref())
    {
        return Outcome::fail(expected, why);
    }
    match &answer.migrations {
        None => Outcome::fail(expected, tr!("vm-django-did-not-say")),
        Some(m) => match m.unapplied.first() {
            None => Outcome::pass(
                expected,
                tr!("vm-migrations-applied", count = m.applied, database = database),
            ),
            Some(first) => Outcome::fail(
                expected,
                tr!(
                    "vm-migrations-unapplied",
                    count = m.unapplied.len(),
                    database = database,
                    first = first,
                ),
            ),
        },
    }
}

pub(super) fn superuser_exists(d: &Deploy) -> Outcome {
    let expected = tr!("vm-superuser-expected");
    let (_, answer) = match django::ask(d) {
        Ok(found) => found,
        Err(why) => return Outcome::fail(expected, why),
    };
    let error = (answer.database_error.as_ref())
        .or(answer.migrations_error.as_ref())
        .or(answer.superusers_error.as_ref());
    match (error, answer.superusers.as_deref().unwrap_or_default()) {
        (Some(why), _) => Outcome::fail(expected, why),
        (None, [first, ..]) => Outcome::pass(expected, format!("'{first}'")),
        (None, []) => Outcome::fail(expected, tr!("vm-superuser-none")),
    }
}

/// STATIC_ROOT, as the app's settings name it, holds the admin's files.
pub(super) fn static_collected(d: &Deploy) -> Outcome {
    let expected = tr!("vm-static-expected");
    let answer = match django::ask(d) {
        Ok((_, answer)) => answer,
        Err(why) => return Outcome::fail(expected, why),
    };
    let s = &d.static_files;
    let (root, files) = (&s.root, s.files);
    if answer.static_root.is_none() {
        let the_settings = tr!("vm-the-settings");
        let settings = answer.settings_module.as_deref().unwrap_or(&the_settings);
        Outcome::fail(expected, tr!("vm-static-root-unset", settings = settings))
    } else if s.admin_css {
        Outcome::pass(expected, tr!("vm-static-files", files = files, root = root))
    } else {
        Outcome::fail(expected, tr!("vm-static-no-admin", files = files, root = root))
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
