//! The package index the host's pip uses (PyPI unless its configuration
//! says otherwise), as the package proxy reads it: a project's files with
//! their hashes, `Requires-Python` and yanked marks (PEP 691 JSON, or the
//! PEP 503 HTML page of an index that only speaks that), and the files
//! themselves, checked against their hashes before the cache keeps them.
//!
//! When the index does not answer, the proxy is offline for a while: pages
//! come from the cache at once instead of waiting for each request to time
//! out.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, Semaphore};

/// One file of a project, as the index lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IndexFile {
    pub(crate) filename: String,
    /// Where the index keeps it (absolute).
    pub(crate) url: String,
    pub(crate) sha256: Option<String>,
    pub(crate) requires_python: Option<String>,
    /// Yanked, with the reason (empty when none was given).
    pub(crate) yanked: Option<String>,
}

/// Why the index gave no listing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// It does not answer (offline), or answered with a server error.
    Offline,
}

/// How long the proxy stays offline after the index failed to answer.
const OFFLINE_FOR: Duration = Duration::from_secs(30);
/// Requests to the index at the same time (pages and files each), across
/// all of a lab's pips: a flood from inside the VM waits its turn here.
const PARALLEL_FETCHES: usize = 8;
/// How long "the index has no such project" is believed without asking again.
const UNKNOWN_FOR: Duration = Duration::from_secs(600);
/// No file larger than this is fetched (the largest wheels students meet
/// are far smaller).
const MAX_FILE: u64 = 512 * 1024 * 1024;

pub(crate) struct Upstream {
    index: String,
    client: reqwest::Client,
    offline_until: Mutex<Option<Instant>>,
    /// Projects the index said it does not have, and when it said so.
    unknown: Mutex<std::collections::HashMap<String, Instant>>,
    pages: Semaphore,
    fetches: Semaphore,
}

impl Upstream {
    /// The index the host's pip uses, with its certificates.
    pub(crate) fn from_pip_config() -> Upstream {
        let config = PipConfig::read();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            .user_agent(concat!("deploylab/", env!("CARGO_PKG_VERSION")));
        if let Some(bundle) = config.cert.and_then(|path| std::fs::read(path).ok()) {
            for cert in reqwest::Certificate::from_pem_bundle(&bundle).unwrap_or_default() {
                builder = builder.add_root_certificate(cert);
            }
        }
        Upstream {
            index: config.index_url,
            client: builder.build().expect("an HTTP client builds"),
            offline_until: Mutex::new(None),
            unknown: Mutex::new(std::collections::HashMap::new()),
            pages: Semaphore::new(PARALLEL_FETCHES),
            fetches: Semaphore::new(PARALLEL_FETCHES),
        }
    }

    pub(crate) fn index(&self) -> &str {
        &self.index
    }

    async fn is_offline(&self) -> bool {
        matches!(*self.offline_until.lock().await, Some(until) if Instant::now() < until)
    }

    async fn went_offline(&self) {
        *self.offline_until.lock().await = Some(Instant::now() + OFFLINE_FOR);
    }

    /// The project's files (`Ok(None)`: the index has no such project).
    pub(crate) async fn listing(
        &self,
        project: &str,
    ) -> Result<Option<Vec<IndexFile>>, Unavailable> {
        if self.is_offline().await {
            return Err(Unavailable::Offline);
        }
        let known_unknown = self.unknown.lock().await.get(project).copied();
        if known_unknown.is_some_and(|when| when.elapsed() < UNKNOWN_FOR) {
            return Ok(None);
        }
        let _slot = self
            .pages
            .acquire()
            .await
            .map_err(|_| Unavailable::Offline)?;
        let page = format!("{}/{project}/", self.index.trim_end_matches('/'));
        let response = self
            .client
            .get(&page)
            .header(
                reqwest::header::ACCEPT,
                "application/vnd.pypi.simple.v1+json, text/html;q=0.1",
            )
            .timeout(Duration::from_secs(20))
            .send()
            .await;
        let response = match response {
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                let mut unknown = self.unknown.lock().await;
                // Bounded: a flood of made-up names forgets the oldest.
                if unknown.len() >= 10_000 {
                    unknown.clear();
                }
                unknown.insert(project.to_string(), Instant::now());
                return Ok(None);
            }
            Ok(r) if r.status().is_success() => r,
            _ => {
                self.went_offline().await;
                return Err(Unavailable::Offline);
            }
        };
        let base = response.url().clone();
        let json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let Ok(body) = response.text().await else {
            self.went_offline().await;
            return Err(Unavailable::Offline);
        };
        let files = if json {
            parse_json(&body, &base)
        } else {
            parse_html(&body, &base)
        };
        Ok(Some(files))
    }

    /// Fetches `file` into `dir`, verified against its sha256 when the index
    /// gave one; the file appears under its name only once complete.
    pub(crate) async fn fetch(&self, file: &IndexFile, dir: &Path) -> Result<PathBuf, String> {
        let _slot = self.fetches.acquire().await.map_err(|e| e.to_string())?;
        let dest = dir.join(&file.filename);
        if dest.is_file() {
            return Ok(dest);
        }
        let mut response = self
            .client
            .get(&file.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| text::unreachable(&file.url, &e))?;
        let part = dir.join(format!(".{}.{}.part", file.filename, std::process::id()));
        let mut out = tokio::fs::File::create(&part)
            .await
            .map_err(|e| e.to_string())?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let copied: Result<(), String> = async {
            while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
                size += chunk.len() as u64;
                if size > MAX_FILE {
                    return Err(text::too_large(&file.filename));
                }
                hasher.update(&chunk);
                out.write_all(&chunk).await.map_err(|e| e.to_string())?;
            }
            out.flush().await.map_err(|e| e.to_string())
        }
        .await;
        let got = crate::state::hex(&hasher.finalize());
        let verified = match (&copied, &file.sha256) {
            (Err(why), _) => Err(why.clone()),
            (Ok(()), Some(want)) if !want.eq_ignore_ascii_case(&got) => {
                Err(text::hash_mismatch(&file.filename, want, &got))
            }
            (Ok(()), _) => Ok(()),
        };
        match verified {
            Ok(()) => {
                remember_hash(dir, &file.filename, &got);
                tokio::fs::rename(&part, &dest)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(dest)
            }
            Err(why) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(why)
            }
        }
    }
}

/// The sha256 of a file the cache holds: remembered beside it when it was
/// fetched (or computed once, for a file kept before hashes were).
pub(crate) fn cached_hash(dir: &Path, filename: &str) -> Option<String> {
    let sidecar = dir.join(".sha256").join(filename);
    if let Ok(hash) = std::fs::read_to_string(&sidecar) {
        return Some(hash.trim().to_string());
    }
    let mut file = std::fs::File::open(dir.join(filename)).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    let hash = crate::state::hex(&hasher.finalize());
    remember_hash(dir, filename, &hash);
    Some(hash)
}

fn remember_hash(dir: &Path, filename: &str, hash: &str) {
    let sidecars = dir.join(".sha256");
    let _ = std::fs::create_dir_all(&sidecars);
    let _ = std::fs::write(sidecars.join(filename), format!("{hash}\n"));
}

/// PEP 691: `{"files": [{"filename", "url", "hashes", "requires-python", "yanked"}]}`.
fn parse_json(body: &str, base: &reqwest::Url) -> Vec<IndexFile> {
    #[derive(Deserialize)]
    struct Page {
        files: Vec<File>,
    }
    #[derive(Deserialize)]
    struct File {
        filename: String,
        url: String,
        #[serde(default)]
        hashes: std::collections::BTreeMap<String, String>,
        #[serde(default, rename = "requires-python")]
        requires_python: Option<String>,
        #[serde(default)]
        yanked: serde_json::Value,
    }
    let Ok(page) = serde_json::from_str::<Page>(body) else {
        return Vec::new();
    };
    page.files
        .into_iter()
        .filter_map(|f| {
            Some(IndexFile {
                url: base.join(&f.url).ok()?.to_string(),
                sha256: f.hashes.get("sha256").cloned(),
                requires_python: f.requires_python.filter(|r| !r.is_empty()),
                yanked: match f.yanked {
                    serde_json::Value::String(reason) => Some(reason),
                    serde_json::Value::Bool(true) => Some(String::new()),
                    _ => None,
                },
                filename: f.filename,
            })
        })
        .filter(|f| is_file_name(&f.filename))
        .collect()
}

/// PEP 503: one `<a href="url#sha256=…" data-requires-python="…"
/// data-yanked="…">filename</a>` per file.
fn parse_html(body: &str, base: &reqwest::Url) -> Vec<IndexFile> {
    let mut files = Vec::new();
    for anchor in body.split("<a ").skip(1) {
        let Some((attributes, rest)) = anchor.split_once('>') else {
            continue;
        };
        let filename = unescape(rest.split("</a>").next().unwrap_or("").trim());
        let Some(href) = attribute(attributes, "href") else {
            continue;
        };
        let (url, fragment) = href.split_once('#').unwrap_or((&href, ""));
        let Ok(url) = base.join(url) else {
            continue;
        };
        if !is_file_name(&filename) {
            continue;
        }
        files.push(IndexFile {
            filename,
            url: url.to_string(),
            sha256: fragment.strip_prefix("sha256=").map(str::to_string),
            requires_python: attribute(attributes, "data-requires-python"),
            yanked: attribute(attributes, "data-yanked")
                .or_else(|| attributes.contains("data-yanked").then(String::new)),
        });
    }
    files
}

/// An attribute's value (`name="value"` or `name='value'`), unescaped.
fn attribute(attributes: &str, name: &str) -> Option<String> {
    let start = attributes.find(&format!("{name}="))? + name.len() + 1;
    let rest = &attributes[start..];
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = rest[1..].split(quote).next()?;
    Some(unescape(value))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A plain file name (no path), as the cache stores files by.
pub(crate) fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && (name.ends_with(".whl") || name.ends_with(".tar.gz") || name.ends_with(".zip"))
}

/// The host pip's index and certificates: its environment variables, else
/// its configuration files (`pip config list`), else PyPI.
struct PipConfig {
    index_url: String,
    cert: Option<PathBuf>,
}

impl PipConfig {
    fn read() -> PipConfig {
        let listed = std::process::Command::new("python3")
            .args(["-m", "pip", "config", "list"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        PipConfig {
            index_url: env("PIP_INDEX_URL")
                .or_else(|| configured(&listed, "index-url"))
                .unwrap_or_else(|| "https://pypi.org/simple/".to_string()),
            cert: env("PIP_CERT")
                .or_else(|| configured(&listed, "cert"))
                .map(PathBuf::from),
        }
    }
}

/// `global.<key>='value'` (or `install.`, `download.`) from `pip config list`.
fn configured(listed: &str, key: &str) -> Option<String> {
    ["global", "install", "download"]
        .iter()
        .find_map(|section| {
            listed.lines().find_map(|line| {
                let value = line.strip_prefix(&format!("{section}.{key}="))?;
                Some(value.trim().trim_matches(['\'', '"']).to_string())
            })
        })
}

/// Messages of this module, in one place for translation.
mod text {
    pub(super) fn unreachable(url: &str, e: &reqwest::Error) -> String {
        format!("the package index did not give {url}: {e}")
    }

    pub(super) fn too_large(file: &str) -> String {
        format!("{file} is larger than deploylab fetches")
    }

    pub(super) fn hash_mismatch(file: &str, want: &str, got: &str) -> String {
        format!("{file} does not match its hash (sha256 {got}, the index says {want}): not kept")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> reqwest::Url {
        reqwest::Url::parse("https://index.test/simple/six/").unwrap()
    }

    #[test]
    fn json_listings_keep_hashes_markers_and_yanks() {
        let body = r#"{"meta": {"api-version": "1.1"}, "name": "six", "files": [
            {"filename": "six-1.17.0-py2.py3-none-any.whl", "url": "../../files/six-1.17.0-py2.py3-none-any.whl",
             "hashes": {"sha256": "ab"}, "requires-python": ">=2.7", "yanked": false},
            {"filename": "six-1.0.tar.gz", "url": "https://files.test/six-1.0.tar.gz", "hashes": {}, "yanked": "broken"},
            {"filename": "../evil.whl", "url": "x", "hashes": {}}
        ]}"#;
        let files = parse_json(body, &base());
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url,
            "https://index.test/files/six-1.17.0-py2.py3-none-any.whl"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("ab"));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=2.7"));
        assert_eq!(files[0].yanked, None);
        assert_eq!(files[1].yanked.as_deref(), Some("broken"));
    }

    #[test]
    fn html_listings_read_as_pep_503_writes_them() {
        let body = r#"<html><body>
<a href="/packages/six-1.17.0.tar.gz#sha256=cd" data-requires-python="&gt;=2.7">six-1.17.0.tar.gz</a><br>
<a href="six-1.0-py3-none-any.whl" data-yanked="">six-1.0-py3-none-any.whl</a>
</body></html>"#;
        let files = parse_html(body, &base());
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url,
            "https://index.test/packages/six-1.17.0.tar.gz"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("cd"));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=2.7"));
        assert_eq!(
            files[1].url,
            "https://index.test/simple/six/six-1.0-py3-none-any.whl"
        );
        assert_eq!(files[1].yanked.as_deref(), Some(""));
    }

    #[test]
    fn pip_config_values_are_read_by_section() {
        let listed =
            "global.cert='/etc/ssl/ca.crt'\ninstall.index-url='https://mirror.test/simple'\n";
        assert_eq!(
            configured(listed, "cert").as_deref(),
            Some("/etc/ssl/ca.crt")
        );
        assert_eq!(
            configured(listed, "index-url").as_deref(),
            Some("https://mirror.test/simple")
        );
        assert_eq!(configured(listed, "proxy"), None);
    }
}
