//! The `deploy:USER` fact: a Python web app deployed the course's way
//! (venv, checkout, settings, database, static files, a systemd socket and
//! service, nginx in front), found from the real configuration instead of the
//! course's paths: the socket unit says where the socket is, its service says
//! the user, the working directory and the venv, the settings file says where
//! the database and the static files are. Defaults are the course's.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Json, Object, file, pids, process, read, socket_pids};

const UNIT_DIR: &str = "/etc/systemd/system";

pub fn gather(user: &str) -> Object {
    let home = super::home_of(user).unwrap_or_else(|| format!("/home/{user}"));
    let units = unit_files();
    let socket_unit = units.iter().find_map(|(name, text)| {
        let path = directive(text, "ListenStream")?;
        (name.ends_with(".socket") && path.starts_with('/')).then(|| (name.clone(), path))
    });
    let service_name = socket_unit.as_ref().map(|(name, _)| {
        let text = &units[name];
        directive(text, "Service")
            .unwrap_or_else(|| name.trim_end_matches(".socket").to_string() + ".service")
    });
    let service_text = service_name.as_ref().and_then(|n| units.get(n)).cloned();
    let service = |key: &str| service_text.as_deref().and_then(|t| directive(t, key));
    let env = service_text.as_deref().map(environment).unwrap_or_default();

    let exec_start = service("ExecStart").unwrap_or_default();
    let program = exec_start
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches(['-', '@', '+', '!']);
    let venv = match program.rsplit_once("/bin/") {
        Some((venv, _)) if !venv.is_empty() && venv != "/usr" && venv != "/usr/local" => {
            venv.to_string()
        }
        _ => format!("{home}/.venv"),
    };
    let app_dir = service("WorkingDirectory").unwrap_or_else(|| "/app".to_string());
    let settings_path = match env.get("BLOG_SETTINGS_FILE") {
        Some(p) if p.starts_with('/') => p.clone(),
        Some(p) => format!("{app_dir}/{p}"),
        None => format!("{app_dir}/blog_settings.toml"),
    };
    let settings_text = fs::read_to_string(&settings_path).ok();
    let section = env
        .get("BLOG_ENV")
        .cloned()
        .unwrap_or_else(|| "production".into());
    let setting = |key: &str| {
        settings_text
            .as_deref()
            .and_then(|t| toml_string(t, &section, key))
    };
    let db_path = setting("db_path").unwrap_or_else(|| format!("{app_dir}/db.sqlite3"));
    let static_root = setting("static_root").unwrap_or_else(|| format!("{app_dir}/static"));
    let site_packages = site_packages(&venv);

    // The app's own units (its socket and service), not every unit there.
    let app_units: Vec<String> = socket_unit
        .iter()
        .map(|(name, _)| name.clone())
        .chain(service_name.iter().cloned())
        .collect();
    // First the requests over the socket: with socket activation they are
    // what starts the service, whose processes are listed below.
    let http = socket_unit.as_ref().map(|(_, path)| http_over_socket(path));
    let mut out = Json::object()
        .field("home", Json::str(&home))
        .field("units", units_json(&units))
        .field("wants", wants())
        .field("venv", venv_fact(&venv, site_packages.as_deref()))
        .field("app_dir", Json::str(&app_dir))
        .field("app_dir_stat", file(&app_dir))
        .field("checkout", checkout(&app_dir))
        .field(
            "settings",
            read(&settings_path).field("path", Json::str(&settings_path)),
        )
        .field("settings_section", Json::str(&section))
        .field("database", database(&db_path, site_packages.as_deref()))
        .field("static", static_files(&static_root))
        .field("unix_listen", unix_listeners())
        .field("processes", processes())
        .field("nginx", nginx())
        .field("booted_at_cs", boot_time())
        .field("last_change", last_change(&app_units, &settings_path));
    if let Some((name, path)) = &socket_unit {
        out = out
            .field("socket_unit", Json::str(name))
            .field("socket_path", Json::str(path));
    }
    if let Some(http) = http {
        out = out.field("http_over_socket", http);
    }
    if let Some(name) = &service_name {
        out = out.field("service_unit", Json::str(name)).field(
            "service",
            Json::object()
                .field("exists", Json::Bool(service_text.is_some()))
                .field("user", Json::str(&service("User").unwrap_or_default()))
                .field(
                    "uid",
                    Json::Num(service("User").and_then(|u| uid_of(&u)).unwrap_or(u64::MAX)),
                )
                .field("group", Json::str(&service("Group").unwrap_or_default()))
                .field("exec_start", Json::str(&exec_start)),
        );
    }
    out
}

/// name -> text of every unit file written into /etc/systemd/system.
fn unit_files() -> BTreeMap<String, String> {
    let mut units = BTreeMap::new();
    let Ok(dir) = fs::read_dir(UNIT_DIR) else {
        return units;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_unit = name.ends_with(".socket") || name.ends_with(".service");
        if is_unit && entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            if let Ok(text) = fs::read_to_string(entry.path()) {
                units.insert(name, text);
            }
        }
    }
    units
}

fn units_json(units: &BTreeMap<String, String>) -> Json {
    Json::Array(
        units
            .iter()
            .map(|(name, text)| {
                Json::object()
                    .field("name", Json::str(name))
                    .field("text", Json::str(text))
                    .into()
            })
            .collect(),
    )
}

/// Enabled units: the symlinks in /etc/systemd/system/*.wants, as "target.wants/unit".
fn wants() -> Json {
    let mut links = Vec::new();
    if let Ok(dir) = fs::read_dir(UNIT_DIR) {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".wants") {
                continue;
            }
            if let Ok(inner) = fs::read_dir(entry.path()) {
                for link in inner.flatten() {
                    links.push(format!("{name}/{}", link.file_name().to_string_lossy()));
                }
            }
        }
    }
    links.sort();
    Json::Array(links.iter().map(|l| Json::str(l)).collect())
}

/// The last value of `Key=` in a unit file (later lines override earlier).
fn directive(text: &str, key: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix(key)?.trim_start().strip_prefix('='))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .last()
}

/// `Environment=` assignments, quotes handled as systemd does for the
/// common forms: `Environment="A=1" "B=2"` and `Environment=A=1 B=2`.
fn environment(text: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        let Some(rest) = line
            .strip_prefix("Environment")
            .and_then(|r| r.trim_start().strip_prefix('='))
        else {
            continue;
        };
        let mut words = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for c in rest.chars() {
            match c {
                '"' => quoted = !quoted,
                c if c.is_whitespace() && !quoted => {
                    if !current.is_empty() {
                        words.push(std::mem::take(&mut current));
                    }
                }
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
        for word in words {
            if let Some((k, v)) = word.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            }
        }
    }
    env
}

/// `key = "value"` (or a bare value) in `[section]` of a TOML file; keys
/// compared case-insensitively, as Dynaconf does.
fn toml_string(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    let mut found = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_lowercase();
            continue;
        }
        if current != section.to_lowercase() && current != "default" {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case(key) {
            let v = v
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\'']);
            // The section's value wins over [default].
            if current != "default" || found.is_none() {
                found = Some(v.to_string());
            }
        }
    }
    found
}

fn site_packages(venv: &str) -> Option<String> {
    let lib = fs::read_dir(format!("{venv}/lib")).ok()?;
    lib.flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .map(|p| p.to_string_lossy().into_owned())
}

fn venv_fact(venv: &str, site_packages: Option<&str>) -> Object {
    let python = fs::canonicalize(format!("{venv}/bin/python"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut dists: Vec<String> = site_packages
        .and_then(|sp| fs::read_dir(sp).ok())
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".dist-info"))
                .collect()
        })
        .unwrap_or_default();
    dists.sort();
    read(&format!("{venv}/pyvenv.cfg"))
        .field("path", Json::str(venv))
        .field("python", Json::str(&python))
        .field(
            "dists",
            Json::Array(dists.iter().map(|d| Json::str(d)).collect()),
        )
}

/// The git checkout of the app: the app folder itself or a folder in it.
fn checkout(app_dir: &str) -> Object {
    let mut candidates = vec![app_dir.to_string()];
    if let Ok(dir) = fs::read_dir(app_dir) {
        let mut subdirs: Vec<String> = dir
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.path().to_string_lossy().into_owned())
            .collect();
        subdirs.sort();
        candidates.extend(subdirs);
    }
    let Some(repo) = candidates
        .into_iter()
        .find(|c| fs::metadata(format!("{c}/.git")).is_ok())
    else {
        return Json::object().field("found", Json::Bool(false));
    };
    let config = fs::read_to_string(format!("{repo}/.git/config")).unwrap_or_default();
    Json::object()
        .field("found", Json::Bool(true))
        .field("path", Json::str(&repo))
        .field(
            "head",
            Json::str(
                fs::read_to_string(format!("{repo}/.git/HEAD"))
                    .unwrap_or_default()
                    .trim(),
            ),
        )
        .field("config", Json::str(&config))
        .field(
            "has_pyproject",
            Json::Bool(fs::metadata(format!("{repo}/pyproject.toml")).is_ok()),
        )
        .field("stat", file(&repo))
}

/// Migrations recorded in the SQLite database and superusers, read by the
/// system's Python (called by full path, isolated from the environment and
/// from site-packages), and the migration files the installed apps ship.
fn database(db_path: &str, site_packages: Option<&str>) -> Object {
    const SCRIPT: &str = r#"
import json, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
out = {}
try:
    out["migrations"] = [a + "." + n for a, n in db.execute("select app, name from django_migrations")]
except Exception as e:
    out["migrations_error"] = str(e)
try:
    out["superusers"] = [u for (u,) in db.execute("select username from auth_user where is_superuser = 1 and is_active = 1")]
except Exception as e:
    out["superusers_error"] = str(e)
print(json.dumps(out))
"#;
    let mut fact = file(db_path).field("path", Json::str(db_path));
    if fs::metadata(db_path).is_ok() {
        let output = Command::new("/usr/bin/python3")
            .args(["-I", "-S", "-c", SCRIPT, db_path])
            .env_clear()
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(o) if o.status.success() && o.stdout.starts_with(b"{") => {
                let json = String::from_utf8_lossy(&o.stdout).trim().to_string();
                fact = fact.field("tables", Json::Raw(json));
            }
            Ok(o) => {
                fact = fact.field(
                    "error",
                    Json::str(String::from_utf8_lossy(&o.stderr).trim()),
                )
            }
            Err(e) => fact = fact.field("error", Json::str(&e.to_string())),
        }
    }
    let mut files = Vec::new();
    if let Some(sp) = site_packages {
        for (label, dir) in [
            ("admin", "django/contrib/admin"),
            ("auth", "django/contrib/auth"),
            ("contenttypes", "django/contrib/contenttypes"),
            ("sessions", "django/contrib/sessions"),
            ("posts", "posts"),
        ] {
            let Ok(entries) = fs::read_dir(format!("{sp}/{dir}/migrations")) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".py") && name.as_bytes().first().is_some_and(u8::is_ascii_digit)
                {
                    files.push(Json::str(&format!(
                        "{label}.{}",
                        name.trim_end_matches(".py")
                    )));
                }
            }
        }
    }
    fact.field("migration_files", Json::Array(files))
}

fn static_files(root: &str) -> Object {
    fn count(dir: &std::path::Path, depth: u32) -> u64 {
        let Ok(entries) = fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() && depth < 8 => count(&e.path(), depth + 1),
                Ok(t) if t.is_file() => 1,
                _ => 0,
            })
            .sum()
    }
    Json::object()
        .field("root", Json::str(root))
        .field("files", Json::Num(count(std::path::Path::new(root), 0)))
        .field(
            "admin_css",
            file(&format!(
                "{}/admin/css/base.css",
                root.trim_end_matches('/')
            )),
        )
}

/// Listening unix sockets with a path, from /proc/net/unix, and the
/// processes holding each (PID 1 is systemd: socket activation).
fn unix_listeners() -> Json {
    const ACCEPTING: u32 = 0x0001_0000; // __SO_ACCEPTCON: listen() was called
    let owners = socket_pids();
    let text = fs::read_to_string("/proc/net/unix").unwrap_or_default();
    let mut list = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 8 {
            continue;
        }
        let flags = u32::from_str_radix(cols[3], 16).unwrap_or(0);
        if flags & ACCEPTING == 0 || !cols[7].starts_with('/') {
            continue;
        }
        let inode: u64 = cols[6].parse().unwrap_or(0);
        let pids: Vec<Json> = owners
            .iter()
            .filter(|(i, _)| *i == inode)
            .map(|(_, pid)| Json::Num(u64::from(*pid)))
            .collect();
        list.push(
            Json::object()
                .field("path", Json::str(cols[7]))
                .field("inode", Json::Num(inode))
                .field("pids", Json::Array(pids))
                .into(),
        );
    }
    Json::Array(list)
}

fn processes() -> Json {
    let mut pids = pids();
    pids.sort();
    Json::Array(pids.into_iter().map(|p| process(p).into()).collect())
}

/// Two plain HTTP requests over the unix socket, as nginx would send them:
/// a live Django answers each with a fresh CSRF cookie.
fn http_over_socket(path: &str) -> Json {
    let one = || -> Object {
        let attempt = || -> std::io::Result<String> {
            let mut stream = UnixStream::connect(path)?;
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            stream.set_write_timeout(Some(Duration::from_secs(5)))?;
            stream.write_all(
                b"GET / HTTP/1.0\r\nHost: localhost\r\nX-Forwarded-Proto: http\r\n\r\n",
            )?;
            let mut buf = Vec::new();
            stream.take(256 * 1024).read_to_end(&mut buf)?;
            Ok(String::from_utf8_lossy(&buf).into_owned())
        };
        match attempt() {
            Ok(text) => {
                let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
                let body: String = body.chars().take(4096).collect();
                Json::object()
                    .field("head", Json::str(head))
                    .field("body", Json::str(&body))
            }
            Err(e) => Json::object().field("error", Json::str(&e.to_string())),
        }
    };
    Json::Array(vec![one().into(), one().into()])
}

/// nginx's effective configuration (`nginx -T`), which also validates it.
/// Run by full path with an empty environment.
fn nginx() -> Object {
    const NGINX: &str = "/usr/sbin/nginx";
    if fs::metadata(NGINX)
        .map(|m| m.mode() & 0o111 == 0)
        .unwrap_or(true)
    {
        return Json::object().field("installed", Json::Bool(false));
    }
    match Command::new(NGINX)
        .arg("-T")
        .env_clear()
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) => {
            let config: String = String::from_utf8_lossy(&o.stdout)
                .chars()
                .take(256 * 1024)
                .collect();
            Json::object()
                .field("installed", Json::Bool(true))
                .field("test_ok", Json::Bool(o.status.success()))
                .field(
                    "messages",
                    Json::str(String::from_utf8_lossy(&o.stderr).trim()),
                )
                .field("config", Json::str(&config))
        }
        Err(e) => Json::object()
            .field("installed", Json::Bool(true))
            .field("test_ok", Json::Bool(false))
            .field("messages", Json::str(&e.to_string())),
    }
}

fn uid_of(user: &str) -> Option<u64> {
    if let Ok(uid) = user.parse() {
        return Some(uid);
    }
    super::passwd(user)?[2].parse().ok()
}

/// When the VM (its PID 1) started, in centiseconds since the epoch: the
/// host's boot time plus PID 1's start in clock ticks (USER_HZ, 100 on Linux).
fn boot_time() -> Json {
    let btime = fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok())
    });
    // Field 22 of /proc/1/stat; the command name (field 2) may hold spaces,
    // so count from the closing parenthesis.
    let start = fs::read_to_string("/proc/1/stat").ok().and_then(|s| {
        let after = s.rsplit_once(')')?.1;
        after.split_whitespace().nth(19)?.parse::<u64>().ok()
    });
    match (btime, start) {
        (Some(b), Some(ticks)) => Json::Num(b * 100 + ticks),
        _ => Json::Num(0),
    }
}

/// The newest change to what the deployment consists of, and which file:
/// the app's unit files, the enabled nginx sites and the settings file.
fn last_change(units: &[String], settings: &str) -> Object {
    // No app units: nothing deployed yet, whatever else changed.
    if units.is_empty() {
        return Json::object().field("mtime_cs", Json::Num(0));
    }
    let mut paths: Vec<String> = units.iter().map(|n| format!("{UNIT_DIR}/{n}")).collect();
    paths.push(settings.to_string());
    if let Ok(sites) = fs::read_dir("/etc/nginx/sites-enabled") {
        for site in sites.flatten() {
            paths.push(site.path().to_string_lossy().into_owned());
        }
    }
    let newest = paths
        .iter()
        .filter_map(|p| {
            let meta = fs::metadata(p).ok()?;
            let centis =
                meta.mtime().max(0) as u64 * 100 + meta.mtime_nsec().max(0) as u64 / 10_000_000;
            Some((centis, p))
        })
        .max();
    match newest {
        Some((centis, path)) => Json::object()
            .field("mtime_cs", Json::Num(centis))
            .field("path", Json::str(path)),
        None => Json::object().field("mtime_cs", Json::Num(0)),
    }
}
