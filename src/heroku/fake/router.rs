//! The router: `http://<app>.localhost:<port>` (names under `.localhost`
//! resolve to loopback) to the app's web dynos, round robin, with the
//! headers Heroku's router adds, its error codes and pages (H10 app
//! crashed, H12 request timeout, H14 no web dynos, H20 boot timeout) and a
//! `heroku[router]` log line per request.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hyper::{Request, Response, StatusCode};

use super::{Body, Fake, full};

/// Response headers deploylab's checks read: which release answered, and
/// which router error (H10, H14, ...) a 503 page stands for.
pub(crate) const RELEASE_HEADER: &str = "x-deploylab-release";
pub(crate) const ERROR_HEADER: &str = "x-deploylab-router-error";

/// How long a request may take (Heroku: 30 s, then H12);
/// `DEPLOYLAB_HEROKU_REQUEST_TIMEOUT` shortens it for tests.
fn request_timeout() -> Duration {
    super::seconds_from_env("DEPLOYLAB_HEROKU_REQUEST_TIMEOUT", 30)
}
/// How long a request waits for a starting dyno (Heroku: 75 s, then H20).
const BOOT_WAIT: Duration = Duration::from_secs(75);

/// A router error: its code, description and the page users see.
struct Failure {
    code: &'static str,
    desc: &'static str,
}

const H10: Failure = Failure {
    code: "H10",
    desc: "App crashed",
};
const H12: Failure = Failure {
    code: "H12",
    desc: "Request timeout",
};
const H14: Failure = Failure {
    code: "H14",
    desc: "No web processes running",
};
const H20: Failure = Failure {
    code: "H20",
    desc: "App boot timeout",
};

/// Heroku's "Application error" page.
const APPLICATION_ERROR: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Application Error</title>\n</head>\n<body>\n<h1>Application error</h1>\n<p>An error occurred in the application and your page could not be served. If you are the application owner, check your logs for details. You can do this from the Heroku CLI with the command<br><code>heroku logs --tail</code></p>\n</body>\n</html>\n";
/// Heroku's maintenance page (`maintenance:on`).
const MAINTENANCE: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Offline for Maintenance</title>\n</head>\n<body>\n<h1>Offline for Maintenance</h1>\n<p>This app is undergoing maintenance right now. Please check back later.</p>\n</body>\n</html>\n";
const REQUEST_TOO_LARGE: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Request too large</title>\n</head>\n<body>\n<h1>Request too large</h1>\n<p>deploylab's router forwards request bodies up to 32 MiB.</p>\n</body>\n</html>\n";
const NO_SUCH_APP: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>No such app</title>\n</head>\n<body>\n<h1>There's nothing here, yet.</h1>\n<p>Build something amazing</p>\n</body>\n</html>\n";

/// Serves the router: HTTPS and plain HTTP on one port, as an app's
/// redirect to https://<app>.localhost:<port>/ expects.
pub(crate) async fn serve(
    fake: Arc<Fake>,
    listener: tokio::net::TcpListener,
    tls: tokio_rustls::TlsAcceptor,
) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(request_timeout())
        .build()
        .expect("an HTTP client");
    let security = fakekit::http::Security::Either(tls);
    fakekit::http::serve(
        listener,
        security,
        super::MAX_CONNECTIONS,
        move |req, peer| {
            let (fake, client) = (fake.clone(), client.clone());
            async move { route(&fake, &client, req, peer.ip()).await }
        },
    )
    .await;
}

/// The headers the router sets itself, from the real connection.
const ROUTER_HEADERS: &[&str] = &[
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-request-start",
    "x-request-id",
    "via",
];

/// The largest request body the router forwards to a dyno (it holds it
/// whole on the way).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The app a Host header names: `blog.localhost:5080` → `blog`.
pub(crate) fn app_of_host(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    host.strip_suffix(".localhost").filter(|a| !a.contains('.'))
}

async fn route(
    fake: &Fake,
    client: &reqwest::Client,
    req: Request<hyper::body::Incoming>,
    peer: std::net::IpAddr,
) -> Response<Body> {
    let started = Instant::now();
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/".to_string(), std::string::ToString::to_string);
    let bare_host = host
        .rsplit_once(':')
        .map_or(host.as_str(), |(h, _)| h)
        .to_string();
    let log = |app: &str, line: String| fake.logs.add(app, "heroku", "router", &line);
    let app = match app_of_host(&host) {
        Some(app) => Some(app.to_string()),
        // A custom domain (`domains:add`), reached with its name as Host.
        None => fake.platform.lock().await.app_of_domain(&bare_host),
    };
    let Some(app) = app else {
        return page(StatusCode::NOT_FOUND, NO_SUCH_APP);
    };
    let Some(found) = fake.platform.lock().await.find(&app) else {
        return page(StatusCode::NOT_FOUND, NO_SUCH_APP);
    };
    // `served`: the dyno a request reached before it failed (H12), with
    // its connect and service times, as Heroku's line gives them.
    let error_at = |failure: &Failure, served: Option<(&str, u128, u128)>| {
        let (dyno, connect, service) = match served {
            Some((dyno, connect, service)) => (
                dyno.to_string(),
                format!("{connect}ms"),
                format!("{service}ms"),
            ),
            None => Default::default(),
        };
        log(
            &app,
            format!(
                "at=error code={} desc=\"{}\" method={method} path=\"{path}\" host={bare_host} request_id={request_id} fwd=\"{peer}\" dyno={dyno} connect={connect} service={service} status=503 bytes= protocol=http",
                failure.code, failure.desc
            ),
        );
        let mut response = page(StatusCode::SERVICE_UNAVAILABLE, APPLICATION_ERROR);
        response.headers_mut().insert(
            ERROR_HEADER,
            hyper::header::HeaderValue::from_static(failure.code),
        );
        response
    };
    let error = |failure: &Failure| error_at(failure, None);
    if found.maintenance {
        log(
            &app,
            format!(
                "at=info code=H80 desc=\"Maintenance mode\" method={method} path=\"{path}\" host={bare_host} request_id={request_id} fwd=\"{peer}\" dyno= connect= service= status=503 bytes= protocol=http"
            ),
        );
        let mut response = page(StatusCode::SERVICE_UNAVAILABLE, MAINTENANCE);
        response
            .headers_mut()
            .insert(ERROR_HEADER, hyper::header::HeaderValue::from_static("H80"));
        return response;
    }
    let wants_web = found.process_types().contains_key("web")
        && found.formation.get("web").copied().unwrap_or(0) > 0;
    if !wants_web {
        return error(&H14);
    }
    // A dyno that is starting gets the request once it is up.
    let deadline = Instant::now() + BOOT_WAIT;
    let dyno = loop {
        if let Some(dyno) = fake.dynos.pick_web(&app) {
            break dyno;
        }
        let webs: Vec<_> = fake
            .dynos
            .of(&app)
            .into_iter()
            .filter(|d| d.kind == "web")
            .collect();
        let booting = webs.is_empty()
            || webs
                .iter()
                .any(|d| d.state == super::dynos::DynoState::Starting);
        if !booting {
            return error(&H10);
        }
        if Instant::now() > deadline {
            return error(&H20);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let address = dyno.address.expect("an up web dyno has an address");
    let secure = req
        .extensions()
        .get::<fakekit::http::Secure>()
        .is_some_and(|s| s.0);
    let headers = req.headers().clone();
    let Some(body) = fakekit::http::read_body(req.into_body(), BODY_LIMIT).await else {
        return too_large();
    };
    let url = format!("http://{address}{path}");
    let mut forward = client.request(method.clone(), &url).body(body);
    for (name, value) in &headers {
        // What the router says about the connection replaces what a
        // client claims (gunicorn refuses contradictory scheme headers).
        if name != hyper::header::CONNECTION && !ROUTER_HEADERS.contains(&name.as_str()) {
            forward = forward.header(name, value);
        }
    }
    let port = fake.ports.router.to_string();
    let epoch_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    forward = forward
        .header("x-forwarded-for", peer.to_string())
        .header("x-forwarded-proto", if secure { "https" } else { "http" })
        .header("x-forwarded-port", port)
        .header("x-request-start", epoch_ms.to_string())
        .header("x-request-id", &request_id)
        .header("via", "1.1 vegur");
    let connect_ms = started.elapsed().as_millis();
    let timed_out = || {
        let service = started.elapsed().as_millis().saturating_sub(connect_ms);
        error_at(&H12, Some((&dyno.name, connect_ms, service)))
    };
    let response = match forward.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return timed_out(),
        Err(_) => return error(&H10),
    };
    let status = response.status();
    let mut builder = Response::builder()
        .status(status)
        .header(RELEASE_HEADER, dyno.release.to_string());
    for (name, value) in response.headers() {
        if name != hyper::header::TRANSFER_ENCODING && name != hyper::header::CONNECTION {
            builder = builder.header(name, value);
        }
    }
    let bytes = match response.bytes().await {
        Ok(b) => b,
        Err(e) if e.is_timeout() => return timed_out(),
        Err(_) => return error(&H10),
    };
    log(
        &app,
        format!(
            "at=info method={method} path=\"{path}\" host={bare_host} request_id={request_id} fwd=\"{peer}\" dyno={} connect={connect_ms}ms service={}ms status={} bytes={} protocol={}",
            dyno.name,
            started.elapsed().as_millis().saturating_sub(connect_ms),
            status.as_u16(),
            bytes.len(),
            if secure { "https" } else { "http" }
        ),
    );
    builder.body(full(bytes)).expect("a valid response")
}

/// A request body over the router's limit.
fn too_large() -> Response<Body> {
    page(StatusCode::PAYLOAD_TOO_LARGE, REQUEST_TOO_LARGE)
}

fn page(status: StatusCode, html: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-cache, no-store")
        .body(full(html))
        .expect("a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_names_the_app() {
        assert_eq!(app_of_host("meu-blog.localhost:5080"), Some("meu-blog"));
        assert_eq!(app_of_host("meu-blog.localhost"), Some("meu-blog"));
        assert_eq!(app_of_host("localhost:5080"), None);
        assert_eq!(app_of_host("a.b.localhost"), None);
    }
}
