//! The container lab's work as a submission, and back: the student's
//! repository (the app folder's files as git would push them; no `.env`,
//! whose secrets are never handed in), and `grade` building and running it
//! in a Compose project of its own with nothing published on the host.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::facts::{ContainerState, Role};
use crate::error::{Error, Result};

/// The largest repository a submission takes.
const MAX_BYTES: u64 = 100_000_000;
/// The Compose file `grade` runs: the student's, rewritten.
const GRADED_FILE: &str = "docker-compose.deploylab.json";
/// Where a service's published host ports for its port 80 are recorded
/// when `grade` takes the ports away (`stack::published_80` reads it).
pub(crate) const PUBLISHED_LABEL: &str = "deploylab.published-80";
/// How long the project may take to build and start.
const UP_WITHIN: Duration = Duration::from_secs(900);
/// Folders a repository leaves out when it is not a git one.
const LEFT_OUT: &[&str] = &[".git", ".venv", "venv", "__pycache__", "node_modules"];

mod text {
    use crate::i18n::tr;

    pub(super) fn too_big() -> String {
        tr!("notes-compose-too-big")
    }
    pub(super) fn not_files() -> String {
        tr!("notes-compose-not-files")
    }
    pub(super) fn timed_out() -> String {
        tr!("notes-compose-timed-out")
    }
    pub(super) fn no_compose() -> String {
        tr!("notes-compose-no-compose")
    }
    pub(super) fn rewritten() -> String {
        tr!("notes-compose-rewritten")
    }
    pub(super) fn made_env(names: &str) -> String {
        tr!("notes-compose-made-env", names = names)
    }
    pub(super) fn failed(what: &str, tail: &str) -> String {
        format!("{what} failed:\n{tail}")
    }
    pub(super) fn migrated() -> String {
        tr!("notes-compose-migrated")
    }
    pub(super) fn down_up() -> String {
        tr!("notes-compose-down-up")
    }
}

/// What a submission says of the work besides its files.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ContainerWork {
    pub(crate) files: usize,
}

/// The app folder's files: git's view of them (tracked, and untracked but
/// not ignored) when it is a repository, else the folder without the
/// usual leftovers; never `.env`.
pub(crate) fn capture(dir: &Path) -> Result<(ContainerWork, Vec<u8>)> {
    let listed = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(dir)
        .stderr(Stdio::null())
        .output();
    let mut files: Vec<String> = match listed {
        Ok(out) if out.status.success() && dir.join(".git").exists() => out
            .stdout
            .split(|b| *b == 0)
            .filter(|f| !f.is_empty())
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect(),
        _ => walk(dir, dir),
    };
    files.retain(|f| Path::new(f).file_name().is_none_or(|n| n != ".env"));
    files.sort();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut archive = tar::Builder::new(gz);
    let mut total = 0;
    for file in &files {
        let path = dir.join(file);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        total += meta.len();
        if total > MAX_BYTES {
            return Err(Error::Capture {
                why: text::too_big(),
            });
        }
        archive
            .append_path_with_name(&path, file)
            .map_err(Error::io(format!("packing {file}")))?;
    }
    let bytes = archive
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .map_err(Error::io("packing the app folder"))?;
    Ok((ContainerWork { files: files.len() }, bytes))
}

fn walk(dir: &Path, base: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if LEFT_OUT.contains(&name.as_str()) || name.ends_with(".sqlite3") {
            continue;
        }
        if path.is_dir() {
            out.extend(walk(&path, base));
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push(rel.display().to_string());
        }
    }
    out
}

/// Unpacks the files into the (empty) app folder; entries that would land
/// outside it are skipped by the archive reader.
pub(crate) fn unpack(files: &[u8], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(files));
    archive.set_preserve_permissions(true);
    archive.unpack(dir).map_err(|_| Error::SubmissionState {
        why: text::not_files(),
    })
}

/// Builds and runs the project as `grade` does, and says how.
pub(crate) async fn run(docker: &bollard::Docker, dir: &Path, project: &str) -> Vec<String> {
    // The Compose file may sit in a sub-folder (the course's docker/): it
    // runs from its own folder, where its relative paths and .env are.
    let Some(path) = super::layout::Layout::of(dir).compose_file else {
        return vec![text::no_compose()];
    };
    let (Some(dir), Some(file)) = (path.parent(), path.file_name().and_then(|f| f.to_str())) else {
        return vec![text::no_compose()];
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut notes = Vec::new();
    let missing = required_variables(&text, &dotenv_names(dir));
    if !missing.is_empty() {
        let lines: String = missing
            .iter()
            .map(|name| format!("{name}={}\n", uuid::Uuid::new_v4().simple()))
            .collect();
        let mut env = std::fs::read_to_string(dir.join(".env")).unwrap_or_default();
        env.push_str(&lines);
        let _ = std::fs::write(dir.join(".env"), env);
        notes.push(text::made_env(&missing.join(", ")));
    }
    let graded = match serde_saphyr::from_str::<Value>(&text) {
        Ok(mut compose) => {
            rewrite(&mut compose);
            let _ = std::fs::write(dir.join(GRADED_FILE), compose.to_string());
            notes.push(text::rewritten());
            GRADED_FILE
        }
        Err(_) => file,
    };
    let project = Project {
        dir,
        name: project,
        file: graded,
    };
    if let Err(tail) = project.compose(&["up", "-d", "--build"]).await {
        notes.push(text::failed("`up --build`", &tail));
        return notes;
    }
    if let Ok(stack) = super::stack::find(docker, dir, None).await
        && let Some(app) = stack.with_role(Role::App)
    {
        let service = app.service.clone();
        wait_running(docker, dir).await;
        let migrate = [
            "exec",
            "-T",
            &service,
            "python",
            "manage.py",
            "migrate",
            "--noinput",
        ];
        match project.compose(&migrate).await {
            Ok(()) => notes.push(text::migrated()),
            Err(tail) => notes.push(text::failed("`manage.py migrate`", &tail)),
        }
    }
    if project.compose(&["down"]).await.is_ok() && project.compose(&["up", "-d"]).await.is_ok() {
        wait_running(docker, dir).await;
        notes.push(text::down_up());
    }
    notes
}

/// The graded Compose project.
struct Project<'a> {
    dir: &'a Path,
    name: &'a str,
    file: &'a str,
}

impl Project<'_> {
    /// One Compose command on the project: Ok, or its last lines.
    async fn compose(&self, args: &[&str]) -> std::result::Result<(), String> {
        let (program, first): (&str, &[&str]) = match crate::images::which("docker-compose") {
            Some(_) => ("docker-compose", &[]),
            None => ("docker", &["compose"]),
        };
        let mut compose = tokio::process::Command::new(program);
        compose
            .args(first)
            .args(["-p", self.name, "-f", self.file])
            .args(args)
            .current_dir(self.dir);
        let out = super::output_within(compose, UP_WITHIN, &text::timed_out()).await?;
        match out.status.success() {
            true => Ok(()),
            false => Err(super::stack::last_lines(
                &String::from_utf8_lossy(&out.stderr),
                8,
            )),
        }
    }
}

/// Waits (up to a minute) until every container of the project runs and
/// none is starting (a healthcheck not yet passed).
async fn wait_running(docker: &bollard::Docker, dir: &Path) {
    for _ in 0..120 {
        if let Ok(stack) = super::stack::find(docker, dir, None).await
            && !stack.services.is_empty()
            && stack.services.iter().all(|s| s.state == ContainerState::Running)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The Compose file as `grade` runs it: no service publishes a port on
/// the host as the student wrote it (what was published for port 80 is
/// kept in a label): a service that published its port 80 publishes it on
/// a free port of `docker::published_host`, where deploylab asks it, and
/// nothing else. Each has limits.
fn rewrite(compose: &mut Value) {
    let Some(services) = compose.get_mut("services").and_then(Value::as_object_mut) else {
        return;
    };
    for service in services.values_mut() {
        let Some(service) = service.as_object_mut() else {
            continue;
        };
        let published = service
            .remove("ports")
            .map(|ports| published_80(&ports))
            .unwrap_or_default();
        // Only the grade says what was published.
        match service.get_mut("labels") {
            Some(Value::Array(list)) => {
                list.retain(|l| !l.as_str().is_some_and(|l| l.starts_with(PUBLISHED_LABEL)));
            }
            Some(Value::Object(map)) => {
                map.remove(PUBLISHED_LABEL);
            }
            _ => {}
        }
        if !published.is_empty() {
            let reached = format!("{}::80", crate::docker::published_host());
            service.insert("ports".into(), Value::Array(vec![Value::String(reached)]));
            let value = published
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",");
            match service
                .entry("labels")
                .or_insert_with(|| Value::Object(Default::default()))
            {
                Value::Array(list) => {
                    list.push(Value::String(format!("{PUBLISHED_LABEL}={value}")));
                }
                Value::Object(map) => {
                    map.insert(PUBLISHED_LABEL.into(), Value::String(value));
                }
                _ => {}
            }
        }
        service.insert("mem_limit".into(), Value::String("1g".into()));
        service.insert("pids_limit".into(), Value::from(512));
    }
}

/// Host ports a `ports:` list publishes the container's port 80 on
/// ("80:80", "127.0.0.1:8080:80/tcp", `{target: 80, published: 80}`).
fn published_80(ports: &Value) -> Vec<u16> {
    let Some(list) = ports.as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|p| match p {
            Value::String(s) => {
                let s = s.split('/').next().unwrap_or_default();
                let parts: Vec<&str> = s.split(':').collect();
                let (host, target) = match parts.as_slice() {
                    [_, host, target] | [host, target] => (*host, *target),
                    _ => return None,
                };
                (target == "80").then(|| host.parse().ok()).flatten()
            }
            Value::Object(map) => {
                let target = map.get("target")?.as_u64()?;
                let published = map.get("published")?;
                let host = published
                    .as_u64()
                    .or_else(|| published.as_str()?.parse().ok())?;
                (target == 80).then(|| u16::try_from(host).ok()).flatten()
            }
            _ => None,
        })
        .collect()
}

/// Names a `.env` file gives.
fn dotenv_names(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(".env"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect()
}

/// Variables the Compose file requires (`${NAME:?…}`, `${NAME?…}`) that
/// no `.env` gives: a repository holds no secrets, so `grade` makes them.
fn required_variables(text: &str, given: &[String]) -> Vec<String> {
    let mut found: BTreeMap<String, ()> = BTreeMap::new();
    for part in text.split("${").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rest = &part[name.len()..];
        if !name.is_empty() && (rest.starts_with(":?") || rest.starts_with('?')) {
            found.insert(name, ());
        }
    }
    found
        .into_keys()
        .filter(|n| !given.contains(n) && std::env::var_os(n).is_none())
        .collect()
}

/// Reads one file of a submission's archive (tests).
#[cfg(test)]
fn read_entry(files: &[u8], name: &str) -> Option<String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(files));
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        if entry.path().ok()?.display().to_string() == name {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).ok()?;
            return Some(text);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grade_publishes_port_80_only_where_deploylab_asks_and_records_the_students() {
        let mut compose: Value = serde_saphyr::from_str(
            "services:\n  web:\n    image: nginx\n    ports: [\"80:80\", \"127.0.0.1:8443:443\"]\n    labels: [a=b]\n  app:\n    build: .\n    ports:\n      - target: 80\n        published: \"8080\"\n",
        )
        .unwrap();
        rewrite(&mut compose);
        let web = &compose["services"]["web"];
        assert_eq!(web["ports"], serde_json::json!(["127.0.0.1::80"]));
        assert_eq!(web["labels"][1], "deploylab.published-80=80");
        assert_eq!(web["mem_limit"], "1g");
        assert_eq!(
            compose["services"]["app"]["labels"][PUBLISHED_LABEL],
            "8080"
        );
        assert_eq!(compose["services"]["app"]["ports"][0], "127.0.0.1::80");
    }

    #[test]
    fn required_variables_without_a_value_are_found() {
        let text = "x: ${BLOG_SECRET_KEY:?set it} ${POSTGRES_PASSWORD?} ${OPTIONAL:-x} ${GIVEN:?}";
        assert_eq!(
            required_variables(text, &["GIVEN".to_string()]),
            vec!["BLOG_SECRET_KEY", "POSTGRES_PASSWORD"]
        );
    }

    #[test]
    fn a_repository_is_handed_in_without_its_secrets_or_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in [
            ("Dockerfile", "FROM x\n"),
            (".env", "SECRET=1\n"),
            ("db.sqlite3", ""),
            (".venv/bin/python", ""),
            ("deploy/nginx.conf", "server {}\n"),
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (work, files) = capture(dir.path()).unwrap();
        assert_eq!(work.files, 2);
        assert_eq!(
            read_entry(&files, "deploy/nginx.conf").as_deref(),
            Some("server {}\n")
        );
        assert!(read_entry(&files, ".env").is_none());
        let out = tempfile::tempdir().unwrap();
        unpack(&files, &out.path().join("app")).unwrap();
        assert!(out.path().join("app/Dockerfile").is_file());
    }
}
