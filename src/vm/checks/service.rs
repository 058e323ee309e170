//! The app server under systemd: the socket unit, who listens on it, the
//! service's user and program, a live answer over the socket, what starts
//! at boot, and that no app server runs outside its unit.

use super::{APP_SERVERS, is_app_server};
use crate::i18n::tr;
use crate::verdict::Outcome;
use crate::vm::facts::{Deploy, LIVENESS_PATHS, RawHttp};

const DEFAULT_SERVICE: &str = "gunicorn.service";
const DEFAULT_SOCKET: &str = "gunicorn.socket";

fn service_unit(d: &Deploy) -> &str {
    d.service.as_ref().map_or(DEFAULT_SERVICE, |s| &s.unit)
}

fn is_enabled(d: &Deploy, unit: &str) -> bool {
    d.wants.iter().any(|w| w.ends_with(&format!("/{unit}")))
}

pub(super) fn socket_unit_enabled(d: &Deploy) -> Outcome {
    let expected = tr!("vm-socket-unit-expected");
    match &d.socket {
        None => Outcome::fail(expected, tr!("vm-socket-unit-none")),
        Some(s) if is_enabled(d, &s.unit) => {
            Outcome::pass(expected, format!("{} ({})", s.unit, s.path))
        }
        Some(s) => Outcome::fail(expected, tr!("vm-socket-unit-not-enabled", unit = s.unit)),
    }
}

pub(super) fn socket_listening(d: &Deploy) -> Outcome {
    let Some(socket) = &d.socket else {
        return Outcome::fail(tr!("vm-socket-listening-any"), tr!("vm-socket-none-to-look-at"));
    };
    let path = &socket.path;
    let expected = tr!("vm-socket-listening-expected", path = path);
    match d.unix_listen.iter().find(|s| s.path == *path) {
        None => Outcome::fail(expected, tr!("vm-socket-nothing-listens", path = path)),
        Some(s) if s.pids.contains(&1) => {
            Outcome::pass(expected, tr!("vm-socket-held-by-systemd", path = path))
        }
        Some(s) if s.pids.is_empty() && !s.holders_known => {
            Outcome::fail(expected, super::unknown_holder(path))
        }
        Some(s) => Outcome::fail(
            expected,
            tr!("vm-socket-held-by-other", path = path, holders = describe_pids(d, &s.pids)),
        ),
    }
}

fn describe_pids(d: &Deploy, pids: &[u32]) -> String {
    let names: Vec<String> = pids
        .iter()
        .map(|pid| match d.processes.iter().find(|p| p.pid == *pid) {
            Some(p) => {
                let line = p.cmdline.join(" ").replace('\n', " ");
                let short: String = line.chars().take(48).collect();
                let more = if short.len() < line.len() { "…" } else { "" };
                format!("'{short}{more}' (pid {pid})")
            }
            None => format!("pid {pid}"),
        })
        .collect();
    if names.is_empty() {
        tr!("vm-socket-no-process")
    } else {
        names.join(", ")
    }
}

pub(super) fn service_unprivileged(d: &Deploy) -> Outcome {
    let unit = service_unit(d);
    let expected = tr!("vm-service-expected", unit = unit);
    let venv = &d.venv.path;
    let Some(service) = d.service.as_ref().filter(|s| s.exists) else {
        return Outcome::fail(expected, tr!("vm-service-none", unit = unit));
    };
    let (exec, run_as) = (&service.exec_start, &service.user);
    // What runs decides, not only the unit file: a drop-in may set User=.
    let running_as_root = d.processes.iter().any(|p| {
        p.uid == 0 && is_app_server(&p.cmdline) && p.cgroup.ends_with(&format!("/{unit}"))
    });
    if run_as.is_empty() {
        Outcome::fail(expected, tr!("vm-service-root-no-user", unit = unit))
    } else if run_as == "root" || run_as == "0" || running_as_root {
        Outcome::fail(expected, tr!("vm-service-root", unit = unit))
    } else if !exec.starts_with(&format!("{venv}/bin/")) {
        Outcome::fail(expected, tr!("vm-service-not-venv", venv = venv, exec = exec))
    } else if !APP_SERVERS.iter().any(|s| exec.contains(s)) {
        Outcome::fail(expected, tr!("vm-service-no-app-server", exec = exec))
    } else {
        Outcome::pass(expected, format!("User={run_as}, {exec}"))
    }
}

/// Parses one raw HTTP response head: its status and `Set-Cookie` values.
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

/// The value of a `csrftoken` cookie among `Set-Cookie` values.
pub(super) fn csrf_cookie<S: AsRef<str>>(cookies: &[S]) -> Option<String> {
    cookies
        .iter()
        .find_map(|c| c.as_ref().strip_prefix("csrftoken="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

/// Whether two answers for one path came from a live Django: both 200,
/// each with its own CSRF cookie (a saved page or an imitation repeats one).
fn fresh_cookies(first: &str, second: &str) -> bool {
    let (s1, c1) = parse_head(first);
    let (s2, c2) = parse_head(second);
    matches!((s1, s2), (Some(200), Some(200)))
        && matches!((csrf_cookie(&c1), csrf_cookie(&c2)), (Some(a), Some(b)) if a != b)
}

pub(super) fn socket_reaches_django(d: &Deploy) -> Outcome {
    let the_socket = tr!("vm-the-socket");
    let path = d.socket.as_ref().map_or(the_socket.as_str(), |s| s.path.as_str());
    let expected = tr!("vm-answers-expected", path = path);
    let answers = |url: &str| -> Vec<&RawHttp> {
        d.http_over_socket
            .iter()
            .filter(|a| a.path == url)
            .collect()
    };
    let (home, admin) = (answers(LIVENESS_PATHS[0]), answers(LIVENESS_PATHS[1]));
    let Some(first) = home.first() else {
        return Outcome::fail(expected, tr!("vm-answers-no-socket"));
    };
    let live = |pair: &[&RawHttp]| pair.len() == 2 && fresh_cookies(&pair[0].head, &pair[1].head);
    let (status, _) = parse_head(&first.head);
    match (status, &first.error) {
        (None, Some(error)) => Outcome::fail(
            expected,
            tr!("vm-answers-cannot-talk", path = path, error = error),
        ),
        (Some(400), _) => Outcome::fail(expected, tr!("vm-answers-400")),
        (Some(500), _) => Outcome::fail(expected, tr!("vm-answers-500")),
        (None, None) => Outcome::fail(expected, tr!("vm-answers-not-http", path = path)),
        _ if live(&home) => Outcome::pass(expected, tr!("vm-answers-live")),
        _ if live(&admin) => Outcome::pass(expected, tr!("vm-answers-live-admin")),
        (Some(200 | 301 | 302 | 303 | 307 | 308), _) => {
            Outcome::fail(expected, tr!("vm-answers-not-live"))
        }
        (Some(status), _) => Outcome::fail(expected, tr!("vm-answers-status", status = status)),
    }
}

pub(super) fn units_enabled_at_boot(d: &Deploy) -> Outcome {
    let socket = d
        .socket
        .as_ref()
        .map_or(DEFAULT_SOCKET, |s| s.unit.as_str());
    let expected = tr!("vm-enabled-expected", socket = socket);
    match (is_enabled(d, socket), is_enabled(d, "nginx.service")) {
        (true, true) => Outcome::pass(expected, tr!("vm-enabled-both")),
        (false, _) => Outcome::fail(expected, tr!("vm-enabled-not", unit = socket)),
        (true, false) => Outcome::fail(expected, tr!("vm-enabled-not", unit = "nginx.service")),
    }
}

pub(super) fn app_under_systemd(d: &Deploy) -> Outcome {
    let unit = service_unit(d);
    let expected = tr!("vm-under-systemd-expected", unit = unit);
    let servers: Vec<_> = d
        .processes
        .iter()
        .filter(|p| is_app_server(&p.cmdline))
        .collect();
    if servers.is_empty() {
        return Outcome::fail(expected, tr!("vm-no-app-server-runs"));
    }
    let stray: Vec<String> = servers
        .iter()
        .filter(|p| !p.cgroup.ends_with(&format!("/{unit}")))
        .map(|p| {
            let cgroup = if p.cgroup.is_empty() { "?" } else { &p.cgroup };
            format!("pid {} ({cgroup})", p.pid)
        })
        .collect();
    if stray.is_empty() {
        Outcome::pass(
            expected,
            tr!("vm-under-systemd-count", count = servers.len(), unit = unit),
        )
    } else {
        Outcome::fail(expected, tr!("vm-by-hand", processes = stray.join(", ")))
    }
}

pub(super) fn rebooted_after_deploy(d: &Deploy) -> Outcome {
    let expected = tr!("vm-rebooted-expected");
    // Both in centiseconds since the epoch.
    match &d.last_change {
        None => Outcome::fail(expected, tr!("vm-nothing-deployed")),
        Some(change) if d.booted_at_cs > change.mtime_cs => {
            Outcome::pass(expected, tr!("vm-rebooted-after"))
        }
        Some(change) => Outcome::fail(expected, tr!("vm-not-rebooted", path = change.path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse() {
        let (status, cookies) =
            parse_head("HTTP/1.1 200 OK\r\nSet-Cookie: csrftoken=abc; Path=/\r\nServer: gunicorn");
        assert_eq!(status, Some(200));
        assert_eq!(csrf_cookie(&cookies).as_deref(), Some("abc"));
    }
}
