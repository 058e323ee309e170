//! Asking Django itself what the deployed app is: `ask_django.py`, run with
//! the venv's Python as the service runs the app (its user, group, working
//! directory, environment and command line), or, before a service exists,
//! as the course's management commands would run (the lab's user, the app
//! folder, the lab's `manage_env`). The host reads its answer
//! (`src/vm/django.rs`); the probe only relays it, counts the static files
//! it names and sends its requests with a Host the app accepts.
//!
//! Importing a Django project takes about a second here, more than a whole
//! check run may. So the answer is kept in `/run` (gone at reboot) with the
//! files it depends on (every module Django imported, every file the app
//! opened, the SQLite database, the folders that hold them) and their
//! `stat`s; the next run asks again only when one of them changed, or when
//! the question itself did (unit, environment, command, this script).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::process::{Child, Command, Stdio};

use super::facts::{DjangoRun, DjangoWay};

const SCRIPT: &str = include_str!("ask_django.py");
const CACHE_DIR: &str = "/run/deploylab-probe";
/// Longer than any import of a real project; a hanging one fails the run.
const TIMEOUT_SECONDS: &str = "40";
/// systemd's default PATH for services.
const SERVICE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How to ask: everything that makes one question differ from another.
pub(crate) struct Question {
    pub(crate) way: DjangoWay,
    pub(crate) user: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) python: String,
    pub(crate) cwd: String,
    pub(crate) env: BTreeMap<String, String>,
    /// The service's command line, or the settings module and the folder
    /// of `manage.py` (see `ask_django.py`).
    pub(crate) args: Vec<String>,
}

/// A question on its way: answered from the cache, or Python running.
pub(crate) enum Pending {
    Answered(DjangoRun),
    Running {
        question: Question,
        key: String,
        child: std::io::Result<Child>,
    },
}

impl Question {
    /// The cache key: the question in full, and the script's checksum.
    fn key(&self) -> String {
        let env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(
            "{:?}\n{}\n{}:{}\n{}\n{}\n{}\n{}\n{:016x}",
            self.way,
            self.user,
            self.uid,
            self.gid,
            self.python,
            self.cwd,
            self.args.join("\u{1f}"),
            env.join("\u{1f}"),
            fnv1a(SCRIPT.as_bytes())
        )
        .replace('\n', "\u{1e}")
    }

    fn run(&self, answer: Answer, cached: bool) -> DjangoRun {
        DjangoRun {
            way: self.way,
            user: self.user.clone(),
            python: self.python.clone(),
            cwd: self.cwd.clone(),
            args: self.args.clone(),
            answer: answer.json,
            host: answer.host,
            static_root: answer.static_root,
            config_files: answer.config_files,
            cached,
            failure: None,
        }
    }

    fn failed(&self, why: String) -> DjangoRun {
        DjangoRun {
            failure: Some(why),
            ..self.run(Answer::default(), false)
        }
    }
}

/// Starts asking (or answers from the cache); `finish` collects the answer.
pub(crate) fn ask(question: Question) -> Pending {
    let key = question.key();
    if let Some(answer) = cached(&question.user, &key) {
        return Pending::Answered(question.run(answer, true));
    }
    let mut command = Command::new("/usr/bin/timeout");
    command.args(["--kill-after=2", TIMEOUT_SECONDS]);
    if question.uid != 0 {
        command
            .arg("/usr/bin/setpriv")
            .arg(format!("--reuid={}", question.uid))
            .arg(format!("--regid={}", question.gid))
            .arg("--init-groups");
    }
    command
        .arg(&question.python)
        .args(["-c", SCRIPT])
        .arg(&question.cwd)
        .arg(match question.way {
            DjangoWay::Service => "service",
            DjangoWay::Manage => "manage",
        })
        .args(&question.args)
        .env_clear()
        .envs(&question.env)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn();
    Pending::Running {
        question,
        key,
        child,
    }
}

/// The answer, waiting for Python if it still runs.
pub(crate) fn finish(pending: Pending) -> DjangoRun {
    let (question, key, child) = match pending {
        Pending::Answered(run) => return run,
        Pending::Running {
            question,
            key,
            child,
        } => (question, key, child),
    };
    let output = match child.and_then(Child::wait_with_output) {
        Ok(o) => o,
        Err(e) => return question.failed(format!("{}: {e}", question.python)),
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let Some(answer) = parse(&stdout) else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        let why = match output.status.code() {
            Some(124 | 137) => format!("no answer within {TIMEOUT_SECONDS} s"),
            _ => tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
        };
        return question.failed(why);
    };
    if answer.cacheable {
        store(&question.user, &key, &stdout, &answer.depends);
    }
    question.run(answer, false)
}

/// The script's output, read.
#[derive(Default)]
struct Answer {
    json: String,
    depends: Vec<String>,
    cacheable: bool,
    static_root: Option<String>,
    host: String,
    config_files: Vec<String>,
}

fn parse(stdout: &str) -> Option<Answer> {
    let mut lines = stdout.lines();
    let json = lines.next().filter(|l| l.starts_with('{'))?.to_string();
    let mut answer = Answer {
        json,
        cacheable: true,
        host: "localhost".to_string(),
        ..Answer::default()
    };
    for line in lines {
        match line.split_once(' ') {
            Some(("D", path)) => answer.depends.push(path.to_string()),
            Some(("S", path)) => answer.static_root = Some(path.to_string()),
            Some(("H", host)) => answer.host = host.to_string(),
            Some(("C", path)) => answer.config_files.push(path.to_string()),
            _ if line == "N" => answer.cacheable = false,
            _ => {}
        }
    }
    Some(answer)
}

fn cache_path(user: &str) -> String {
    format!("{CACHE_DIR}/django-{}", user.replace('/', "_"))
}

/// A file's identity for the cache: changed content changes it.
fn signature(path: &str) -> String {
    match fs::metadata(path) {
        Ok(m) => format!("{}.{} {} {}", m.mtime(), m.mtime_nsec(), m.len(), m.ino()),
        Err(_) => "-".to_string(),
    }
}

/// The cached answer, when the question is the same and nothing it
/// depends on changed.
fn cached(user: &str, key: &str) -> Option<Answer> {
    let text = fs::read_to_string(cache_path(user)).ok()?;
    let (head, answer) = text.split_once("\n--answer\n")?;
    let mut lines = head.lines();
    if lines.next()? != key {
        return None;
    }
    for line in lines {
        let (path, sig) = line.split_once('\t')?;
        if signature(path) != sig {
            return None;
        }
    }
    parse(answer)
}

fn store(user: &str, key: &str, stdout: &str, depends: &[String]) {
    let mut text = format!("{key}\n");
    for path in depends {
        text.push_str(&format!("{path}\t{}\n", signature(path)));
    }
    text.push_str("--answer\n");
    text.push_str(stdout);
    let _ = fs::DirBuilder::new().mode(0o700).create(CACHE_DIR);
    let tmp = format!("{}.tmp", cache_path(user));
    let written = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    if written.is_ok() {
        let _ = fs::rename(&tmp, cache_path(user));
    }
}

/// FNV-1a: a checksum of the script, so a new probe asks afresh.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The environment of a service run as `user` (what systemd adds to the
/// unit's own variables).
pub(crate) fn service_env(
    mut env: BTreeMap<String, String>,
    user: &str,
    home: &str,
) -> BTreeMap<String, String> {
    env.entry("PATH".into())
        .or_insert_with(|| SERVICE_PATH.into());
    if !user.is_empty() {
        env.insert("HOME".into(), home.into());
        env.insert("USER".into(), user.into());
        env.insert("LOGNAME".into(), user.into());
    }
    env
}

/// A command line split into words as systemd does for the common forms:
/// whitespace separates, double or single quotes group.
pub(crate) fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            (_, c) => {
                current.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(current);
    }
    words
}

/// The settings module `manage.py` selects
/// (`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings")`).
pub(crate) fn manage_settings(manage_py: &str) -> Option<String> {
    let mut text = String::new();
    fs::File::open(manage_py)
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    let after = text.split("DJANGO_SETTINGS_MODULE").nth(1)?;
    let quoted = after.split(['"', '\'']).nth(2)?;
    quoted
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        .then(|| quoted.to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_like_systemd() {
        assert_eq!(
            words(r#"/v/bin/gunicorn --bind "unix:/run/a b.sock" 'x.wsgi'  "#),
            ["/v/bin/gunicorn", "--bind", "unix:/run/a b.sock", "x.wsgi"]
        );
        assert_eq!(words(r#"a "" b"#), ["a", "", "b"]);
    }

    #[test]
    fn answers_parse_with_their_extra_lines() {
        let answer = parse("{\"a\": 1}\nD /app\nS /srv/static\nH shop.test\nC /etc/shop.env\nN\n")
            .expect("an answer");
        assert_eq!(answer.json, "{\"a\": 1}");
        assert_eq!(answer.depends, ["/app"]);
        assert_eq!(answer.static_root.as_deref(), Some("/srv/static"));
        assert_eq!(answer.host, "shop.test");
        assert_eq!(answer.config_files, ["/etc/shop.env"]);
        assert!(!answer.cacheable);
        assert!(parse("Traceback (most recent call last):\n").is_none());
    }
}
