//! nginx in front, seen from inside (`nginx -T`) and from the host (HTTP
//! through the published port 80): the chain nginx → socket → Django, with
//! the first broken link named.

use super::is_app_server;
use super::service::csrf_cookie;
use crate::i18n::tr;
use crate::verdict::Outcome;
use crate::vm::facts::{Deploy, Facts, HttpAnswer, HttpFacts};

pub(super) fn nginx_config_valid(d: &Deploy) -> Outcome {
    let expected = tr!("vm-nginx-t-expected");
    let n = &d.nginx;
    if !n.installed {
        Outcome::fail(expected, tr!("vm-nginx-not-installed"))
    } else if n.test_ok {
        Outcome::pass(expected, tr!("vm-nginx-syntax-ok"))
    } else {
        let first = n
            .messages
            .lines()
            .find(|l| l.contains("emerg") || l.contains("error"))
            .unwrap_or(&n.messages);
        Outcome::fail(expected, first)
    }
}

pub(super) fn nginx_proxies_to_socket(d: &Deploy) -> Outcome {
    let path = d
        .socket
        .as_ref()
        .map_or("/run/gunicorn.sock", |s| s.path.as_str());
    let expected = format!("proxy_pass http://unix:{path}");
    let targets: Vec<&str> = d
        .nginx
        .config
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
        Outcome::pass(expected, format!("proxy_pass http://unix:{path}"))
    } else if targets.is_empty() {
        Outcome::fail(expected, tr!("vm-proxy-none"))
    } else {
        Outcome::fail(expected, tr!("vm-proxy-elsewhere", targets = targets.join(", ")))
    }
}

/// Two answers of a live Django page with a form, through nginx: a fresh
/// CSRF cookie each time, and the form's token in the page.
fn live(first: &HttpAnswer, second: &HttpAnswer) -> bool {
    let through_nginx =
        |a: &HttpAnswer| a.status == Some(200) && a.header("server").starts_with("nginx");
    through_nginx(first)
        && through_nginx(second)
        && first.body.contains("csrfmiddlewaretoken")
        && matches!(
            (csrf_cookie(&first.cookies), csrf_cookie(&second.cookies)),
            (Some(a), Some(b)) if a != b
        )
}

fn welcome_page(http: &HttpFacts) -> bool {
    http.home
        .first()
        .is_some_and(|r| r.body.contains("Welcome to nginx"))
}

pub(super) fn default_site_gone(d: &Deploy, http: &HttpFacts) -> Outcome {
    let expected = tr!("vm-default-site-expected");
    if !d.nginx.installed {
        return Outcome::fail(expected, tr!("vm-nginx-not-installed"));
    }
    let enabled = d
        .nginx
        .config
        .contains("# configuration file /etc/nginx/sites-enabled/default:");
    if welcome_page(http) {
        Outcome::fail(expected, tr!("vm-default-site-answers"))
    } else if enabled {
        Outcome::fail(expected, tr!("vm-default-site-enabled"))
    } else {
        Outcome::pass(expected, tr!("vm-default-site-not-enabled"))
    }
}

pub(super) fn blog_through_nginx(d: &Deploy, http: &HttpFacts) -> Outcome {
    let expected = tr!("vm-blog-expected");
    let (Some(first), Some(second)) = (http.home.first(), http.home.get(1)) else {
        return Outcome::fail(expected, tr!("vm-blog-no-requests"));
    };
    let server = first.header("server");
    let the_socket = tr!("vm-the-apps-socket");
    let socket = d
        .socket
        .as_ref()
        .map_or(the_socket.as_str(), |s| s.path.as_str());
    let observed = match first.status {
        None => tr!("vm-blog-port-80", status = first.status_text()),
        Some(_) if welcome_page(http) => tr!("vm-default-site-answers"),
        Some(502) => tr!("vm-blog-502", socket = socket),
        Some(504) => tr!("vm-blog-504", socket = socket),
        Some(400) => tr!("vm-blog-400"),
        Some(500) => tr!("vm-answers-500"),
        Some(200) if !server.starts_with("nginx") => tr!("vm-blog-not-nginx", server = server),
        Some(200) if live(first, second) => {
            return Outcome::pass(expected, tr!("vm-blog-live"));
        }
        Some(200) if matches!(http.admin.as_slice(), [a, b] if live(a, b)) => {
            return Outcome::pass(expected, tr!("vm-blog-live-admin"));
        }
        Some(200) => tr!("vm-blog-not-live"),
        Some(status) => tr!("vm-blog-status", status = status),
    };
    Outcome::fail(expected, observed)
}

pub(super) fn static_through_nginx(http: &HttpFacts) -> Outcome {
    let r = &http.static_file;
    let path = r.url.split_once("//").map_or("", |(_, rest)| rest);
    let path = path.find('/').map_or("/", |i| &path[i..]);
    let expected = tr!("vm-static-nginx-expected", path = path);
    let from_disk = r.header("server").starts_with("nginx") && r.headers.contains_key("etag");
    match r.status {
        Some(200) if from_disk => Outcome::pass(expected, tr!("vm-static-nginx-disk")),
        Some(200) => Outcome::fail(expected, tr!("vm-static-nginx-by-app")),
        Some(404) => Outcome::fail(expected, tr!("vm-static-nginx-404", path = path)),
        _ => Outcome::fail(expected, format!("{path}: {}", r.status_text())),
    }
}

pub(super) fn debug_off_live(http: &HttpFacts) -> Outcome {
    let r = &http.missing;
    let expected = tr!("vm-debug-live-expected");
    match r.status {
        Some(404) if r.body.contains("DEBUG = True") => {
            Outcome::fail(expected, tr!("vm-debug-live-public"))
        }
        // nginx's own 404 says nothing about the app.
        Some(404) if r.body.contains("<center>nginx") => {
            Outcome::fail(expected, tr!("vm-debug-live-nginx-404"))
        }
        Some(404) => Outcome::pass(expected, tr!("vm-debug-live-plain")),
        _ => Outcome::fail(expected, tr!("vm-debug-live-status", status = r.status_text())),
    }
}

pub(super) fn app_not_exposed(d: &Deploy, facts: &Facts) -> Outcome {
    let expected = tr!("vm-exposed-expected");
    // Nothing to judge until an app server runs: "none exposed" would be a
    // pass for a server that does not exist.
    if !d.processes.iter().any(|p| is_app_server(&p.cmdline)) {
        return Outcome::fail(expected, tr!("vm-no-app-server-yet"));
    }
    let public: Vec<_> = facts
        .tcp_listen
        .iter()
        .flatten()
        .filter(|s| !is_loopback(&s.address))
        .collect();
    let exposed: Vec<String> = public
        .iter()
        .filter(|s| s.processes.iter().any(|p| is_app_server(&p.cmdline)))
        .map(|s| format!("{}:{}", s.address, s.port))
        .collect();
    // Unknown is never a pass: a holder that could not be seen may be one.
    if let Some(unknown) = public.iter().find(|s| !s.holders_known) {
        let socket = format!("{}:{}", unknown.address, unknown.port);
        return Outcome::fail(expected, super::unknown_holder(&socket));
    }
    if exposed.is_empty() {
        Outcome::pass(expected, tr!("vm-exposed-none"))
    } else {
        Outcome::fail(expected, tr!("vm-exposed", sockets = exposed.join(", ")))
    }
}

fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr == "::1"
}
