//! The `deploy:USER` fact: a Python web app deployed the course's way
//! (venv, checkout, settings, database, static files, a systemd socket and
//! service, nginx in front), found from the real configuration instead of the
//! course's paths: the socket unit says where the socket is, its service says
//! the user, the working directory and the venv, and Django itself, asked as
//! the service runs it (`django.rs`), says the settings, the database and the
//! static files. Defaults are the course's.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::django;
use super::facts::{
    Change, Checkout, Deploy, DjangoWay, Nginx, RawHttp, Service, SocketUnit, StaticFiles,
    UnitFile, UnixListener, Venv,
};
use super::{gid_of, name_of, pids, process, socket_pids, stat};

const UNIT_DIR: &str = "/etc/systemd/system";

pub(crate) fn gather(user: &str, manage_env: &[String]) -> Deploy {
    let home = super::home_of(user).unwrap_or_else(|| format!("/home/{user}"));
    let units = unit_files();
    let socket = units.iter().find_map(|(name, text)| {
        let path = directive(text, "ListenStream")?;
        (name.ends_with(".socket") && path.starts_with('/')).then(|| SocketUnit {
            unit: name.clone(),
            path,
        })
    });
    let service_name = socket.as_ref().map(|s| {
        directive(&units[&s.unit], "Service")
            .unwrap_or_else(|| s.unit.trim_end_matches(".socket").to_string() + ".service")
    });
    let service_text = service_name.as_ref().and_then(|n| units.get(n)).cloned();
    let directive_of = |key: &str| service_text.as_deref().and_then(|t| directive(t, key));

    let exec_start = directive_of("ExecStart").unwrap_or_default();
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
    let app_dir = directive_of("WorkingDirectory").unwrap_or_else(|| "/app".to_string());
    let checkout = checkout(&app_dir);

    // Django first: it takes longest, and the requests below need a Host
    // the app accepts.
    let question = match &service_text {
        Some(text) if !exec_start.is_empty() => Some(service_question(text, &exec_start, &venv)),
        _ => manage_question(user, &home, &venv, &app_dir, checkout.as_ref(), manage_env),
    };
    let pending = question.map(django::ask);

    // The app's own units (its socket and service), not every unit there.
    let app_units: Vec<String> = socket
        .iter()
        .map(|s| s.unit.clone())
        .chain(service_name.iter().cloned())
        .collect();
    let service = service_name.map(|unit| {
        let user = directive_of("User").unwrap_or_default();
        let group = directive_of("Group").unwrap_or_default();
        Service {
            unit,
            exists: service_text.is_some(),
            uid: uid_of(&user),
            user_gids: super::user(&user).map(|u| u.gids).unwrap_or_default(),
            user,
            gid: (!group.is_empty()).then(|| gid_of(&group)).flatten(),
            group,
            exec_start: exec_start.clone(),
        }
    });
    let app_dir_stat = stat(&app_dir);
    let site_packages = site_packages(&venv);
    let venv = venv_fact(&venv, site_packages.as_deref());
    let nginx = nginx();
    let django = pending.map(django::finish);
    let host = django.as_ref().map_or("localhost", |d| d.host.as_str());
    // With socket activation these requests are what starts the service,
    // whose processes are listed below.
    let http_over_socket = match &socket {
        Some(s) => super::facts::LIVENESS_PATHS
            .iter()
            .flat_map(|path| {
                [
                    http_over_socket(&s.path, path, host),
                    http_over_socket(&s.path, path, host),
                ]
            })
            .collect(),
        None => Vec::new(),
    };
    let mut config_files: Vec<String> = service_text
        .as_deref()
        .map(environment_files)
        .unwrap_or_default();
    config_files.extend(django.iter().flat_map(|d| d.config_files.iter().cloned()));
    Deploy {
        wants: wants(),
        venv,
        app_dir_owner: app_dir_stat
            .as_ref()
            .map_or_else(String::new, |s| name_of(s.uid, false)),
        app_dir_group: app_dir_stat
            .as_ref()
            .map_or_else(String::new, |s| name_of(s.gid, true)),
        app_dir_stat,
        checkout,
        static_files: static_files(django.as_ref().and_then(|d| d.static_root.as_deref())),
        django,
        unix_listen: unix_listeners(),
        processes: pids().into_iter().map(process).collect(),
        nginx,
        booted_at_cs: boot_time(),
        last_change: last_change(&app_units, &config_files),
        units: units
            .into_iter()
            .map(|(name, text)| UnitFile { name, text })
            .collect(),
        socket,
        service,
        http_over_socket,
        app_dir,
        home,
    }
}

/// Django as the service runs the app: its user and group, its working
/// directory (systemd's default: `/`), its environment, its command line,
/// with the Python of the venv its program lives in.
fn service_question(text: &str, exec_start: &str, venv: &str) -> django::Question {
    let user = directive(text, "User").unwrap_or_default();
    let entry = super::user(&user);
    let uid = uid_of(&user).unwrap_or(0);
    let gid = match directive(text, "Group") {
        Some(group) => gid_of(&group).unwrap_or(0),
        None => entry.as_ref().map_or(0, |u| u.gid),
    };
    let home = entry.map(|u| u.home).unwrap_or_default();
    let args = django::words(exec_start.trim_start_matches(['-', '@', '+', '!']));
    let program = args.first().cloned().unwrap_or_default();
    let python = match program.rsplit('/').next() {
        Some(name) if name.starts_with("python") => program.clone(),
        _ => format!("{venv}/bin/python"),
    };
    let cwd = match directive(text, "WorkingDirectory") {
        Some(dir) => dir.trim_start_matches('-').to_string(),
        None => "/".to_string(),
    };
    django::Question {
        way: DjangoWay::Service,
        env: django::service_env(environment(text), &user, &home),
        user: if user.is_empty() { "root".into() } else { user },
        uid,
        gid,
        python,
        cwd,
        args,
    }
}

/// Before a service exists: Django as the course's management commands
/// run it, as the lab's user from the app folder, with the settings module
/// the project's `manage.py` names and the lab's `manage_env`.
fn manage_question(
    user: &str,
    home: &str,
    venv: &str,
    app_dir: &str,
    checkout: Option<&Checkout>,
    manage_env: &[String],
) -> Option<django::Question> {
    let entry = super::user(user)?;
    let manage_py = find_manage_py(app_dir, checkout)?;
    let settings = django::manage_settings(&manage_py)?;
    let python = format!("{venv}/bin/python");
    fs::metadata(&python).ok()?;
    let env = manage_env
        .iter()
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let project_dir = manage_py.trim_end_matches("/manage.py").to_string();
    Some(django::Question {
        way: DjangoWay::Manage,
        env: django::service_env(env, user, home),
        user: user.to_string(),
        uid: entry.uid,
        gid: entry.gid,
        python,
        cwd: app_dir.to_string(),
        args: vec![settings, project_dir],
    })
}

/// The project's `manage.py`: in the app folder, the checkout, or up to
/// three folders below them (the first found, shallowest first).
fn find_manage_py(app_dir: &str, checkout: Option<&Checkout>) -> Option<String> {
    let mut level: Vec<std::path::PathBuf> = [Some(app_dir), checkout.map(|c| c.path.as_str())]
        .into_iter()
        .flatten()
        .map(std::path::PathBuf::from)
        .collect();
    for _ in 0..4 {
        level.sort();
        level.dedup();
        if let Some(found) = level
            .iter()
            .map(|d| d.join("manage.py"))
            .find(|p| p.is_file())
        {
            return Some(found.to_string_lossy().into_owned());
        }
        level = level
            .iter()
            .filter_map(|d| fs::read_dir(d).ok())
            .flat_map(|entries| entries.flatten().map(|e| e.path()))
            .filter(|p| {
                p.is_dir()
                    && !p.join("pyvenv.cfg").exists()
                    && p.file_name()
                        .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .collect();
    }
    None
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
        if is_unit
            && entry.file_type().map(|t| t.is_file()).unwrap_or(false)
            && let Ok(text) = fs::read_to_string(entry.path())
        {
            units.insert(name, text);
        }
    }
    units
}

/// Enabled units: the symlinks in /etc/systemd/system/*.wants, as "target.wants/unit".
fn wants() -> Vec<String> {
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
    links
}

/// The last value of `Key=` in a unit file (later lines override earlier).
fn directive(text: &str, key: &str) -> Option<String> {
    logical_lines(text)
        .iter()
        .map(|l| l.trim())
        .filter_map(|l| l.strip_prefix(key)?.trim_start().strip_prefix('='))
        .map(|v| v.trim().to_string())
        .rfind(|v| !v.is_empty())
}

/// A unit file's lines with systemd's `\` continuations joined (a long
/// `ExecStart=` is usually written over several lines).
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.trim_end().strip_suffix('\\') {
            Some(start) => {
                // One space between the parts, as systemd joins them.
                current.push_str(start.trim());
                current.push(' ');
            }
            None => {
                current.push_str(line.trim());
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The files `EnvironmentFile=` names (a `-` prefix: optional).
fn environment_files(text: &str) -> Vec<String> {
    logical_lines(text)
        .iter()
        .filter_map(|line| {
            let file = line
                .trim()
                .strip_prefix("EnvironmentFile")?
                .trim_start()
                .strip_prefix('=')?;
            Some(file.trim().trim_start_matches('-').to_string())
        })
        .collect()
}

/// The service's environment: `EnvironmentFile=` files (a `-` prefix
/// means optional), then `Environment=` assignments, later ones winning
/// as in systemd; quotes handled for the common forms: `Environment="A=1"
/// "B=2"` and `Environment=A=1 B=2`.
fn environment(text: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for file in environment_files(text) {
        for line in fs::read_to_string(file).unwrap_or_default().lines() {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            if let Some((k, v)) = line.split_once('=')
                && !k.trim_start().starts_with('#')
            {
                let v = v.trim().trim_matches(['"', '\'']);
                env.insert(k.trim().to_string(), v.to_string());
            }
        }
    }
    for line in logical_lines(text) {
        let line = line.trim();
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

fn site_packages(venv: &str) -> Option<String> {
    let lib = fs::read_dir(format!("{venv}/lib")).ok()?;
    lib.flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .map(|p| p.to_string_lossy().into_owned())
}

fn venv_fact(venv: &str, site_packages: Option<&str>) -> Venv {
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
    Venv {
        path: venv.to_string(),
        exists: fs::metadata(format!("{venv}/pyvenv.cfg")).is_ok(),
        python,
        dists,
    }
}

/// The git checkout of the app: the work tree that holds the app folder
/// (the folder itself or one above it: a project in a sub-folder of a
/// larger repository), else a work tree among its sub-folders (a clone
/// inside the app folder, before a service names the project's folder).
fn checkout(app_dir: &str) -> Option<Checkout> {
    let above = std::path::Path::new(app_dir)
        .ancestors()
        .map(|p| p.to_string_lossy().into_owned());
    let mut below: Vec<String> = fs::read_dir(app_dir)
        .map(|dir| {
            dir.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.path().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    below.sort();
    let repo = above
        .chain(below)
        .find(|c| fs::metadata(format!("{c}/.git")).is_ok())?;
    Some(Checkout {
        head: fs::read_to_string(format!("{repo}/.git/HEAD"))
            .unwrap_or_default()
            .trim()
            .to_string(),
        config: fs::read_to_string(format!("{repo}/.git/config")).unwrap_or_default(),
        path: repo,
    })
}

/// The files in STATIC_ROOT (none when Django names none).
fn static_files(root: Option<&str>) -> StaticFiles {
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
    let Some(root) = root else {
        return StaticFiles {
            root: String::new(),
            files: 0,
            admin_css: false,
        };
    };
    StaticFiles {
        root: root.to_string(),
        files: count(std::path::Path::new(root), 0),
        admin_css: stat(&format!(
            "{}/admin/css/base.css",
            root.trim_end_matches('/')
        ))
        .is_some(),
    }
}

/// Listening unix sockets with a path, from /proc/net/unix, and the
/// processes holding each (PID 1 is systemd: socket activation).
fn unix_listeners() -> Vec<UnixListener> {
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
        let pids: Vec<u32> = owners
            .held
            .iter()
            .filter(|(i, _)| *i == inode)
            .map(|(_, pid)| *pid)
            .collect();
        list.push(UnixListener {
            path: cols[7].to_string(),
            inode,
            holders_known: !pids.is_empty() || owners.unreadable.is_empty(),
            pids,
        });
    }
    list
}

/// One plain HTTP request for `url_path` over the unix socket at `path`,
/// as nginx would send it, for a host the app accepts.
fn http_over_socket(path: &str, url_path: &str, host: &str) -> RawHttp {
    let attempt = || -> std::io::Result<String> {
        let mut stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        let request =
            format!("GET {url_path} HTTP/1.0\r\nHost: {host}\r\nX-Forwarded-Proto: http\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        let mut buf = Vec::new();
        stream.take(256 * 1024).read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    match attempt() {
        Ok(text) => {
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
            RawHttp {
                path: url_path.to_string(),
                head: head.to_string(),
                body: body.chars().take(4096).collect(),
                error: None,
            }
        }
        Err(e) => RawHttp {
            path: url_path.to_string(),
            error: Some(e.to_string()),
            ..RawHttp::default()
        },
    }
}

/// nginx's effective configuration (`nginx -T`), which also validates it.
/// Run by full path with an empty environment.
fn nginx() -> Nginx {
    const NGINX: &str = "/usr/sbin/nginx";
    if fs::metadata(NGINX)
        .map(|m| m.mode() & 0o111 == 0)
        .unwrap_or(true)
    {
        return Nginx::default();
    }
    match Command::new(NGINX)
        .arg("-T")
        .env_clear()
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) => Nginx {
            installed: true,
            test_ok: o.status.success(),
            messages: String::from_utf8_lossy(&o.stderr).trim().to_string(),
            config: String::from_utf8_lossy(&o.stdout)
                .chars()
                .take(256 * 1024)
                .collect(),
        },
        Err(e) => Nginx {
            installed: true,
            test_ok: false,
            messages: e.to_string(),
            config: String::new(),
        },
    }
}

fn uid_of(user: &str) -> Option<u32> {
    if user.is_empty() {
        return None;
    }
    if let Ok(uid) = user.parse() {
        return Some(uid);
    }
    super::passwd(user)?[2].parse().ok()
}

/// When the VM (its PID 1) started, in centiseconds since the epoch: the
/// host's boot plus PID 1's start in clock ticks (USER_HZ, 100 on Linux).
/// The host's boot is now minus its uptime, both to the centisecond:
/// `btime` in /proc/stat is whole seconds, rounded down, which put a boot
/// up to a second early, before a change made just before the reboot.
fn boot_time() -> u64 {
    let uptime_cs = fs::read_to_string("/proc/uptime").ok().and_then(|s| {
        let seconds = s.split_whitespace().next()?;
        let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
        let fraction: String = fraction.chars().chain("00".chars()).take(2).collect();
        Some(whole.parse::<u64>().ok()? * 100 + fraction.parse::<u64>().ok()?)
    });
    let now_cs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 / 10)
        .ok();
    let btime_cs = fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok())
            .map(|b| b * 100)
    });
    let host_boot = match (now_cs, uptime_cs) {
        (Some(now), Some(up)) if now > up => Some(now - up),
        _ => btime_cs,
    };
    // Field 22 of /proc/1/stat; the command name (field 2) may hold spaces,
    // so count from the closing parenthesis.
    let start = fs::read_to_string("/proc/1/stat").ok().and_then(|s| {
        let after = s.rsplit_once(')')?.1;
        after.split_whitespace().nth(19)?.parse::<u64>().ok()
    });
    match (host_boot, start) {
        (Some(boot), Some(ticks)) => boot + ticks,
        _ => 0,
    }
}

/// The newest change to what the deployment consists of, and which file:
/// the app's unit files, the enabled nginx sites and the configuration the
/// app reads (environment files, its settings and the files they read).
fn last_change(units: &[String], config_files: &[String]) -> Option<Change> {
    // No app units: nothing deployed yet, whatever else changed.
    if units.is_empty() {
        return None;
    }
    let mut paths: Vec<String> = units.iter().map(|n| format!("{UNIT_DIR}/{n}")).collect();
    paths.extend(config_files.iter().cloned());
    if let Ok(sites) = fs::read_dir("/etc/nginx/sites-enabled") {
        for site in sites.flatten() {
            paths.push(site.path().to_string_lossy().into_owned());
        }
    }
    paths
        .iter()
        .filter_map(|p| {
            let meta = fs::metadata(p).ok()?;
            let centis =
                meta.mtime().max(0) as u64 * 100 + meta.mtime_nsec().max(0) as u64 / 10_000_000;
            Some((centis, p))
        })
        .max()
        .map(|(mtime_cs, path)| Change {
            mtime_cs,
            path: path.clone(),
        })
}
