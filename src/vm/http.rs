//! HTTP requests from the host to the VM's published port 80: answers that
//! only a live deployment can give (a fresh CSRF cookie per request, nginx
//! serving a file itself, Django's real 404 page).

use std::time::Duration;

use super::facts::{HttpAnswer, HttpFacts, LIVENESS_PATHS};
use crate::http_answer::Body;

/// What one request returned.
async fn get(client: &reqwest::Client, url: String, host: &str) -> HttpAnswer {
    let request = client.get(&url).header(reqwest::header::HOST, host);
    match request.send().await {
        Err(e) => HttpAnswer::failed(url, HttpAnswer::why_none(&e, TIMEOUT)),
        Ok(response) => HttpAnswer::read(url, response, Body::Kept).await,
    }
}

/// How long a request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Redirects within the site are followed (a project whose `/` is
/// `301 → /catalog/`), a few at most; one to another scheme, host or port
/// (HTTPS, a real domain) is the answer itself.
fn same_site() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().cloned();
        let same = first.is_some_and(|f| {
            let u = attempt.url();
            (u.scheme(), u.host_str(), u.port()) == (f.scheme(), f.host_str(), f.port())
        });
        if same && attempt.previous().len() <= 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Where the requests go: a Host the app accepts (its ALLOWED_HOSTS) and
/// its STATIC_URL, as Django said; the course's until it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
    pub(crate) host: String,
    pub(crate) static_url: String,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            host: "localhost".to_string(),
            static_url: "/static/".to_string(),
        }
    }
}

/// The requests the web-server checks read: `/` and `/admin/login/` twice
/// each (a live Django sets a fresh CSRF cookie each time), a static file,
/// and a page that does not exist (Django's 404 tells whether DEBUG is on).
pub(crate) async fn gather(port: u16, site: &Site) -> HttpFacts {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(same_site())
        .no_proxy()
        .build()
        .expect("a plain HTTP client builds");
    let base = format!(
        "http://{}",
        std::net::SocketAddr::new(crate::docker::published_host(), port)
    );
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let host = site.host.as_str();
    let static_url = format!("/{}/", site.static_url.trim_matches('/'));
    let (first, second, admin1, admin2, static_file, missing) = tokio::join!(
        get(&client, format!("{base}{}", LIVENESS_PATHS[0]), host),
        get(&client, format!("{base}{}", LIVENESS_PATHS[0]), host),
        get(&client, format!("{base}{}", LIVENESS_PATHS[1]), host),
        get(&client, format!("{base}{}", LIVENESS_PATHS[1]), host),
        get(
            &client,
            format!("{base}{static_url}admin/css/base.css"),
            host
        ),
        get(&client, format!("{base}/deploylab-check-{nonce}/"), host),
    );
    HttpFacts {
        home: vec![first, second],
        admin: vec![admin1, admin2],
        static_file,
        missing,
    }
}
