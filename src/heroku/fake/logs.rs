//! Each app's log, as Heroku's Logplex keeps it: the last lines of every
//! source (`app[web.1]`, `heroku[web.1]`, `heroku[router]`, `app[api]`),
//! read by `heroku logs` through a log session and followed with `--tail`.

use std::time::{Duration, SystemTime};

use tokio::sync::broadcast;

/// Lines kept per app (Logplex keeps 1,500).
const KEPT: usize = 1500;

/// One log line, already in Heroku's format:
/// `2024-03-01T12:00:00.123456+00:00 app[web.1]: Listening at ...`.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// `app` or `heroku`.
    pub(crate) source: String,
    /// `web.1`, `router`, `api`, `run.1234`.
    pub(crate) dyno: String,
    pub(crate) text: String,
}

impl Line {
    pub(crate) fn render(&self, at: SystemTime) -> String {
        format!(
            "{} {}[{}]: {}",
            timestamp(at),
            self.source,
            self.dyno,
            self.text
        )
    }
}

/// The logs of every app.
pub(crate) struct Logs {
    book: fakekit::logs::LogBook<Line>,
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            book: fakekit::logs::LogBook::new(KEPT),
        }
    }
}

impl Logs {
    /// Adds a line to an app's log.
    pub(crate) fn add(&self, app: &str, source: &str, dyno: &str, text: &str) {
        // One entry per line: a multi-line message (a traceback) is several.
        for text in text.lines() {
            let line = Line {
                source: source.into(),
                dyno: dyno.into(),
                text: text.trim_end().into(),
            };
            tracing::debug!("{app} {}", line.render(SystemTime::now()));
            self.book.add(app, line);
        }
    }

    /// The last `count` lines matching the filter, and a receiver of the
    /// lines that come after them.
    pub(crate) fn read(
        &self,
        app: &str,
        filter: &Filter,
        count: usize,
    ) -> (Vec<String>, broadcast::Receiver<(SystemTime, Line)>) {
        let (last, follow) = self.book.read(app, |l| filter.matches(l), count);
        let rendered = last.iter().map(|(at, l)| l.render(*at)).collect();
        (rendered, follow)
    }

    pub(crate) fn forget(&self, app: &str) {
        self.book.forget(app);
    }
}

/// `heroku logs --source app --dyno web`: which lines a session shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub(crate) source: Option<String>,
    /// `web` matches `web.1`, `web.2`; `web.1` only itself.
    pub(crate) dyno: Option<String>,
}

impl Filter {
    pub(crate) fn matches(&self, line: &Line) -> bool {
        let source_ok = self.source.as_deref().is_none_or(|s| s == line.source);
        let dyno_ok = self
            .dyno
            .as_deref()
            .is_none_or(|d| line.dyno == d || line.dyno.split('.').next() == Some(d));
        source_ok && dyno_ok
    }
}

/// Heroku's log timestamp: microseconds and an explicit UTC offset.
pub(crate) fn timestamp(at: SystemTime) -> String {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let seconds = super::api::iso8601(at);
    format!(
        "{}.{:06}+00:00",
        seconds.trim_end_matches('Z'),
        since.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_filtered_and_rendered_like_logplex() {
        let logs = Logs::default();
        logs.add(
            "blog",
            "app",
            "web.1",
            "Listening at: http://0.0.0.0:5000\n",
        );
        logs.add("blog", "heroku", "router", "at=info method=GET path=\"/\"");
        logs.add("blog", "app", "api", "Deploy abc by student");
        let (all, _) = logs.read("blog", &Filter::default(), 10);
        assert_eq!(all.len(), 3);
        assert!(all[0].ends_with(" app[web.1]: Listening at: http://0.0.0.0:5000"));
        assert!(all[0].contains("+00:00 "));
        let web = Filter {
            source: None,
            dyno: Some("web".into()),
        };
        assert_eq!(logs.read("blog", &web, 10).0.len(), 1);
        let app_only = Filter {
            source: Some("app".into()),
            dyno: None,
        };
        assert_eq!(logs.read("blog", &app_only, 10).0.len(), 2);
        assert_eq!(logs.read("blog", &Filter::default(), 1).0.len(), 1);
    }
}

/// A `heroku logs` session: what to show, then whether to follow.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) app: String,
    pub(crate) filter: Filter,
    pub(crate) lines: usize,
    pub(crate) tail: bool,
}

/// `POST /apps/{app}/log-sessions {dyno, lines, source, tail}`.
pub(crate) fn create_session(fake: &super::Fake, app: &str, body: &[u8]) -> super::api::Answer {
    #[derive(serde::Deserialize, Default)]
    struct Request {
        dyno: Option<String>,
        source: Option<String>,
        lines: Option<usize>,
        tail: Option<bool>,
    }
    let request: Request = if body.iter().all(u8::is_ascii_whitespace) {
        Request::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(_) => {
                return super::api::error(
                    hyper::StatusCode::BAD_REQUEST,
                    "bad_request",
                    "Request body could not be parsed as JSON.",
                );
            }
        }
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let session = Session {
        app: app.to_string(),
        filter: Filter {
            source: request.source.filter(|s| !s.is_empty()),
            dyno: request.dyno.filter(|s| !s.is_empty()),
        },
        lines: request.lines.unwrap_or(100).min(KEPT),
        tail: request.tail.unwrap_or(false),
    };
    fake.sessions
        .lock()
        .expect("session lock")
        .insert(id.clone(), session);
    let now = super::api::iso8601(SystemTime::now());
    (
        hyper::StatusCode::CREATED,
        serde_json::json!({
            "id": id,
            "logplex_url": format!("{}/log-sessions/{id}", fake.api_url()),
            "created_at": now,
            "updated_at": now,
        }),
    )
}

/// A session's lines as Server-Sent Events (`data: <line>`); with tail,
/// new lines follow until the client goes.
pub(crate) fn stream(fake: &super::Fake, id: &str) -> hyper::Response<super::Body> {
    use http_body_util::StreamBody;
    use hyper::body::Frame;
    let Some(session) = fake.sessions.lock().expect("session lock").get(id).cloned() else {
        return hyper::Response::builder()
            .status(hyper::StatusCode::NOT_FOUND)
            .body(super::full("Session not found.\n"))
            .expect("a valid response");
    };
    let (lines, follow) = fake.logs.read(&session.app, &session.filter, session.lines);
    let event = |line: &str| bytes::Bytes::from(format!("data: {line}\n\n"));
    let first: Vec<bytes::Bytes> = lines.iter().map(|l| event(l)).collect();
    let backlog = futures_util::stream::iter(first.into_iter().map(|b| Ok(Frame::data(b))));
    let filter = session.filter.clone();
    let tail = session.tail;
    let live = futures_util::stream::unfold(follow, move |mut follow| {
        let filter = filter.clone();
        async move {
            if !tail {
                return None;
            }
            loop {
                match follow.recv().await {
                    Ok((at, line)) if filter.matches(&line) => {
                        let data = bytes::Bytes::from(format!("data: {}\n\n", line.render(at)));
                        return Some((Ok(Frame::data(data)), follow));
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    use futures_util::StreamExt;
    let body = StreamBody::new(backlog.chain(live));
    hyper::Response::builder()
        .status(hyper::StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(http_body_util::BodyExt::boxed(body))
        .expect("a valid response")
}
