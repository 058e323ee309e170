//! nginx in front, seen from inside (`nginx -T`) and from the host (HTTP
//! through the published port 80): the chain nginx → socket → Django, with
//! the first broken link named.

use super::is_app_server;
use super::service::csrf_cookie;
use crate::verdict::Outcome;
use crate::vm::facts::{Deploy, Facts, HttpAnswer, HttpFacts};

pub(super) fn nginx_config_valid(d: &Deploy) -> Outcome {
    let expected = "nginx -t passes";
    let n = &d.nginx;
    if !n.installed {
        Outcome::fail(expected, "nginx is not installed")
    } else if n.test_ok {
        Outcome::pass(expected, "syntax is ok")
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
        Outcome::fail(expected, "no proxy_pass in nginx's configuration")
    } else {
        Outcome::fail(expected, format!("nginx proxies to {}", targets.join(", ")))
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
    let expected = "the default site disabled";
    if !d.nginx.installed {
        return Outcome::fail(expected, "nginx is not installed");
    }
    let enabled = d
        .nginx
        .config
        .contains("# configuration file /etc/nginx/sites-enabled/default:");
    if welcome_page(http) {
        Outcome::fail(expected, "the default nginx site still answers on port 80")
    } else if enabled {
        Outcome::fail(
            expected,
            "/etc/nginx/sites-enabled/default is still enabled",
        )
    } else {
        Outcome::pass(expected, "not enabled")
    }
}

pub(super) fn blog_through_nginx(d: &Deploy, http: &HttpFacts) -> Outcome {
    let expected = "the live blog on port 80, through nginx";
    let (Some(first), Some(second)) = (http.home.first(), http.home.get(1)) else {
        return Outcome::fail(expected, "the host's requests to port 80 are missing");
    };
    let server = first.header("server");
    let socket = d
        .socket
        .as_ref()
        .map_or("the app's socket", |s| s.path.as_str());
    let observed = match first.status {
        None => format!("port 80: {}", first.status_text()),
        Some(_) if welcome_page(http) => {
            "the default nginx site still answers on port 80".to_string()
        }
        Some(502) => format!("nginx answers 502: nothing is listening on {socket}"),
        Some(504) => format!("nginx answers 504: the app behind {socket} does not answer"),
        Some(400) => "Django refuses the Host header: ALLOWED_HOSTS".to_string(),
        Some(500) => "the app answers 500: an error in Django (database? settings?)".to_string(),
        Some(200) if !server.starts_with("nginx") => {
            format!("port 80 is served by '{server}', not nginx")
        }
        Some(200) if live(first, second) => {
            return Outcome::pass(expected, "200 from Django, through nginx");
        }
        Some(200) if matches!(http.admin.as_slice(), [a, b] if live(a, b)) => {
            return Outcome::pass(
                expected,
                "200 through nginx; a live Django on /admin/login/",
            );
        }
        Some(200) => {
            "200, but the page is not live: no fresh CSRF token per request (a saved copy?)"
                .to_string()
        }
        Some(status) => format!("port 80 answers HTTP {status}"),
    };
    Outcome::fail(expected, observed)
}

pub(super) fn static_through_nginx(http: &HttpFacts) -> Outcome {
    let r = &http.static_file;
    let path = r.url.split_once("//").map_or("", |(_, rest)| rest);
    let path = path.find('/').map_or("/", |i| &path[i..]);
    let expected = format!("{path} served by nginx itself");
    let from_disk = r.header("server").starts_with("nginx") && r.headers.contains_key("etag");
    match r.status {
        Some(200) if from_disk => Outcome::pass(expected, "200, served from disk by nginx"),
        Some(200) => Outcome::fail(
            expected,
            "200, but generated by the app, not read from disk by nginx",
        ),
        Some(404) => Outcome::fail(
            expected,
            format!("{path} is 404: collectstatic not run, or the alias points elsewhere"),
        ),
        _ => Outcome::fail(expected, format!("{path}: {}", r.status_text())),
    }
}

pub(super) fn debug_off_live(http: &HttpFacts) -> Outcome {
    let r = &http.missing;
    let expected = "a plain 404 page (DEBUG off)";
    match r.status {
        Some(404) if r.body.contains("DEBUG = True") => Outcome::fail(
            expected,
            "Django's debug page is public: DEBUG is on in production",
        ),
        // nginx's own 404 says nothing about the app.
        Some(404) if r.body.contains("<center>nginx") => {
            Outcome::fail(expected, "the 404 comes from nginx, not from the app")
        }
        Some(404) => Outcome::pass(expected, "404 without debug details"),
        _ => Outcome::fail(
            expected,
            format!("a missing page answers {}", r.status_text()),
        ),
    }
}

pub(super) fn app_not_exposed(d: &Deploy, facts: &Facts) -> Outcome {
    let expected = "no app server on a TCP port reachable from outside";
    // Nothing to judge until an app server runs: "none exposed" would be a
    // pass for a server that does not exist.
    if !d.processes.iter().any(|p| is_app_server(&p.cmdline)) {
        return Outcome::fail(expected, NO_APP_SERVER);
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
        Outcome::pass(expected, "none")
    } else {
        Outcome::fail(
            expected,
            format!("an app server listens on {}", exposed.join(", ")),
        )
    }
}

const NO_APP_SERVER: &str = "no gunicorn or uvicorn process runs yet (even after a request)";

fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr == "::1"
}
