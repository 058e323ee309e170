//! One HTTP answer a check reads, or why none came: the same fact in every
//! environment (the VM's port 80, the fake Heroku's router, the Compose
//! lab's nginx), recorded in their facts and fixtures alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How much of a body an answer keeps.
const BODY_KEPT: usize = 16 * 1024;

/// Messages shown here, kept together for translation.
mod text {
    pub(super) fn no_answer() -> String {
        crate::i18n::tr!("http-no-answer")
    }

    pub(super) fn http(status: u16) -> String {
        format!("HTTP {status}")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpAnswer {
    /// What was asked ("" in facts recorded before answers kept it).
    #[serde(default)]
    pub(crate) url: String,
    pub(crate) status: Option<u16>,
    /// Header names in lower case (the last value of a repeated one).
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    /// Every `Set-Cookie`, as sent.
    #[serde(default)]
    pub(crate) cookies: Vec<String>,
    /// The first 16 KiB of the body, where the checks read it.
    #[serde(default)]
    pub(crate) body: String,
    /// Why no answer came.
    pub(crate) error: Option<String>,
}

/// Whether an answer keeps its body (only the VM's checks read bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    Kept,
    Dropped,
}

impl HttpAnswer {
    /// The answer `response` gives to `url`.
    pub(crate) async fn read(url: String, response: reqwest::Response, body: Body) -> HttpAnswer {
        let status = Some(response.status().as_u16());
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let cookies = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let body = match body {
            Body::Kept => response.text().await.unwrap_or_default(),
            Body::Dropped => String::new(),
        };
        HttpAnswer {
            url,
            status,
            headers,
            cookies,
            body: body.chars().take(BODY_KEPT).collect(),
            error: None,
        }
    }

    /// No answer to `url`, because `error`.
    /// Why a request got no answer, in words (the client's own text when
    /// it is none of the usual reasons).
    pub(crate) fn why_none(error: &reqwest::Error, within: std::time::Duration) -> String {
        if error.is_connect() {
            crate::i18n::tr!("http-refused")
        } else if error.is_timeout() {
            crate::i18n::tr!("http-timeout", seconds = within.as_secs())
        } else if error.is_request() {
            crate::i18n::tr!("http-closed")
        } else {
            error.to_string()
        }
    }

    pub(crate) fn failed(url: String, error: String) -> HttpAnswer {
        HttpAnswer {
            url,
            error: Some(error),
            ..HttpAnswer::default()
        }
    }

    /// A header's value ("" when absent); `name` in lower case.
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// A header's value, if it came.
    pub(crate) fn header_if_any(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The value of the cookie `name` the answer set, if it set one.
    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.iter().find_map(|c| {
            let value = c.strip_prefix(name)?.strip_prefix('=')?;
            Some(value.split(';').next().unwrap_or_default())
        })
    }

    /// Whether the answer came with this status.
    pub(crate) fn is(&self, status: u16) -> bool {
        self.status == Some(status)
    }

    /// "HTTP 502", or why no answer came, for messages.
    pub(crate) fn status_text(&self) -> String {
        match (self.status, &self.error) {
            (Some(s), _) => text::http(s),
            (None, Some(e)) => e.clone(),
            (None, None) => text::no_answer(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_headers_are_read_by_name() {
        let answer = HttpAnswer {
            status: Some(200),
            headers: BTreeMap::from([("content-type".into(), "text/html".into())]),
            cookies: vec![
                "sessionid=abc; Path=/".into(),
                "csrftoken=XyZ; expires=Thu, 02 Dec 2027; Path=/".into(),
            ],
            ..HttpAnswer::default()
        };
        assert_eq!(answer.cookie("csrftoken"), Some("XyZ"));
        assert_eq!(answer.cookie("csrf"), None);
        assert_eq!(answer.header("content-type"), "text/html");
        assert_eq!(answer.header_if_any("location"), None);
        assert!(answer.is(200));
        assert_eq!(answer.status_text(), "HTTP 200");
        let none = HttpAnswer::failed("http://x/".into(), "nothing accepts connections".into());
        assert!(!none.is(200));
        assert_eq!(none.status_text(), "nothing accepts connections");
    }
}
