//! The facts the in-VM probe gathers: ONE definition shared by the probe,
//! which writes them (`probe/json.rs`), and the host, which reads them
//! (`src/vm/facts.rs` includes this file and derives serde on it).
//!
//! The probe has no dependencies; the host's build script sets `host_facts`,
//! so the serde attributes apply on the host only. The host reads strictly (unknown or
//! missing fields are errors), and a unit test runs the real probe on the
//! host: a field renamed on one side fails that test, never a check at run
//! time.

use std::collections::BTreeMap;

/// One fact a check run asks the probe for (one command-line argument).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FactRequest {
    /// A Debian package's state in dpkg's database.
    Package(String),
    /// A user's passwd entry and groups.
    User(String),
    /// A user's `~/.ssh/authorized_keys` and the modes sshd looks at.
    SshKeys(String),
    /// Every listening TCP socket and the processes holding it.
    TcpListen,
    /// The sudo rules in force.
    Sudoers,
    /// A Python web app deployed the course's way, for this user; before a
    /// service exists, Django is asked with these `KEY=value` variables
    /// (the lab's `manage_env`).
    Deploy(String, Vec<String>),
}

impl FactRequest {
    /// The probe argument: `pkg:NAME`, `user:NAME`, `ssh-keys:USER`,
    /// `tcp-listen`, `sudoers`, `deploy:USER` (then `\nKEY=value` per
    /// variable).
    #[cfg_attr(not(host_facts), allow(dead_code))] // the host's side
    pub(crate) fn to_arg(&self) -> String {
        match self {
            FactRequest::Package(name) => format!("pkg:{name}"),
            FactRequest::User(name) => format!("user:{name}"),
            FactRequest::SshKeys(name) => format!("ssh-keys:{name}"),
            FactRequest::TcpListen => "tcp-listen".to_string(),
            FactRequest::Sudoers => "sudoers".to_string(),
            FactRequest::Deploy(name, env) => {
                let mut arg = format!("deploy:{name}");
                for pair in env {
                    arg.push('\n');
                    arg.push_str(pair);
                }
                arg
            }
        }
    }

    /// The inverse of `to_arg`; `None` for an argument no fact answers.
    #[cfg_attr(host_facts, allow(dead_code))] // the probe's side
    pub(crate) fn parse(arg: &str) -> Option<FactRequest> {
        let (kind, value) = arg.split_once(':').unwrap_or((arg, ""));
        let value = value.to_string();
        match (kind, value.is_empty()) {
            ("pkg", false) => Some(FactRequest::Package(value)),
            ("user", false) => Some(FactRequest::User(value)),
            ("ssh-keys", false) => Some(FactRequest::SshKeys(value)),
            ("deploy", false) => {
                let mut lines = value.split('\n').map(str::to_string);
                let user = lines.next().unwrap_or_default();
                Some(FactRequest::Deploy(user, lines.collect()))
            }
            ("tcp-listen", true) => Some(FactRequest::TcpListen),
            ("sudoers", true) => Some(FactRequest::Sudoers),
            _ => None,
        }
    }
}

/// Everything one probe run found, by request.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Facts {
    pub(crate) packages: BTreeMap<String, Package>,
    /// `None`: no such user in /etc/passwd.
    pub(crate) users: BTreeMap<String, Option<User>>,
    /// `None`: no such user.
    pub(crate) ssh_keys: BTreeMap<String, Option<SshKeys>>,
    pub(crate) tcp_listen: Option<Vec<TcpListener>>,
    pub(crate) sudoers: Option<Sudoers>,
    pub(crate) deploy: BTreeMap<String, Deploy>,
}

/// A package in dpkg's database, and whether its files are really on disk
/// (a hand-edited status file does not make a package).
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Package {
    /// Status `install ok installed`.
    pub(crate) installed: bool,
    /// The status line as dpkg wrote it (empty: no stanza).
    pub(crate) status: String,
    pub(crate) version: String,
    pub(crate) files_listed: u64,
    pub(crate) files_missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct User {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) home: String,
    pub(crate) shell: String,
    /// Every group that names the user, and its primary group.
    pub(crate) groups: Vec<String>,
    /// Their ids, in the same order.
    pub(crate) gids: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(rename_all = "lowercase"))]
pub(crate) enum FileKind {
    File,
    Dir,
    Symlink,
}

/// `lstat` of a path that exists.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct FileStat {
    pub(crate) kind: FileKind,
    /// Permission bits with setuid/setgid/sticky (`& 0o7777`).
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) size: u64,
    pub(crate) mtime: i64,
}

/// A text file: its stat (`None`: absent) and its content when it is small
/// enough to read (64 KiB).
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct TextFile {
    pub(crate) path: String,
    pub(crate) stat: Option<FileStat>,
    pub(crate) content: Option<String>,
}

/// `~/.ssh/authorized_keys` with the three modes sshd's StrictModes reads.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct SshKeys {
    pub(crate) home: String,
    pub(crate) home_dir: Option<FileStat>,
    pub(crate) ssh_dir: Option<FileStat>,
    pub(crate) file: TextFile,
}

/// What the kernel says about a process (none of it from `ps`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Process {
    pub(crate) pid: u32,
    pub(crate) ppid: u32,
    pub(crate) uid: u32,
    /// `/proc/<pid>/exe` (empty when the kernel would not say).
    pub(crate) exe: String,
    pub(crate) cmdline: Vec<String>,
    /// The systemd cgroup: which unit the process belongs to.
    pub(crate) cgroup: String,
}

/// A listening TCP socket, from `/proc/net/tcp{,6}`, and who holds it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct TcpListener {
    pub(crate) address: String,
    pub(crate) port: u16,
    pub(crate) processes: Vec<Process>,
    /// Whether `processes` is the whole truth: false when some process's
    /// descriptors could not be read, so a holder may be missing. Checks
    /// fail closed on it: unknown is never a pass.
    pub(crate) holders_known: bool,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Sudoers {
    /// Non-comment lines of /etc/sudoers and the files it includes.
    pub(crate) rules: Vec<String>,
    pub(crate) sudo_setuid_root: bool,
}

/// A Python web app deployed the course's way, found from the real
/// configuration (see `probe/deploy.rs`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Deploy {
    pub(crate) home: String,
    /// Unit files in /etc/systemd/system.
    pub(crate) units: Vec<UnitFile>,
    /// Enabled units, as `target.wants/unit`.
    pub(crate) wants: Vec<String>,
    /// The first `.socket` unit with a unix `ListenStream=`.
    pub(crate) socket: Option<SocketUnit>,
    /// The service that socket activates.
    pub(crate) service: Option<Service>,
    pub(crate) venv: Venv,
    pub(crate) app_dir: String,
    pub(crate) app_dir_stat: Option<FileStat>,
    /// The names of the app folder's owner and group (empty: no such entry).
    pub(crate) app_dir_owner: String,
    pub(crate) app_dir_group: String,
    pub(crate) checkout: Option<Checkout>,
    /// What Django says about the app (`None`: nothing to ask yet: no
    /// service and no `manage.py` in the app folder).
    pub(crate) django: Option<DjangoRun>,
    /// The files in the STATIC_ROOT Django names.
    pub(crate) static_files: StaticFiles,
    pub(crate) unix_listen: Vec<UnixListener>,
    pub(crate) processes: Vec<Process>,
    pub(crate) nginx: Nginx,
    /// Requests over the app's socket, two per path of `LIVENESS_PATHS`
    /// (empty: no socket unit).
    pub(crate) http_over_socket: Vec<RawHttp>,
    /// When the VM booted, centiseconds since the epoch.
    pub(crate) booted_at_cs: u64,
    /// The newest change to the deployment's files (`None`: nothing deployed).
    pub(crate) last_change: Option<Change>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct UnitFile {
    pub(crate) name: String,
    pub(crate) text: String,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct SocketUnit {
    pub(crate) unit: String,
    pub(crate) path: String,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Service {
    pub(crate) unit: String,
    /// Whether the unit file exists.
    pub(crate) exists: bool,
    pub(crate) user: String,
    /// The uid `User=` resolves to (`None`: unknown user or none given).
    pub(crate) uid: Option<u32>,
    /// The groups of `User=` (its own and those that name it).
    pub(crate) user_gids: Vec<u32>,
    pub(crate) group: String,
    /// The gid `Group=` resolves to (`None`: unknown group or none given).
    pub(crate) gid: Option<u32>,
    /// With `\` continuations joined into one line.
    pub(crate) exec_start: String,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Venv {
    pub(crate) path: String,
    /// `pyvenv.cfg` exists.
    pub(crate) exists: bool,
    /// Where `bin/python` leads.
    pub(crate) python: String,
    /// `*.dist-info` folders in site-packages.
    pub(crate) dists: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Checkout {
    /// The work tree: the folder that holds `.git`.
    pub(crate) path: String,
    pub(crate) head: String,
    /// `.git/config`.
    pub(crate) config: String,
}

/// How Django was asked (see `probe/django.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(rename_all = "lowercase"))]
pub(crate) enum DjangoWay {
    /// As the service runs the app: its user, folder, environment, command.
    Service,
    /// No service yet: as the course's management commands run, as the
    /// lab's user from the app folder.
    Manage,
}

/// One question to Django and its answer.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct DjangoRun {
    pub(crate) way: DjangoWay,
    pub(crate) user: String,
    pub(crate) python: String,
    pub(crate) cwd: String,
    pub(crate) args: Vec<String>,
    /// `ask_django.py`'s JSON answer, read by the host (`src/vm/django.rs`).
    pub(crate) answer: String,
    /// A Host header the app accepts (its ALLOWED_HOSTS).
    pub(crate) host: String,
    pub(crate) static_root: Option<String>,
    /// Configuration files the app read (settings module, TOML, .env).
    pub(crate) config_files: Vec<String>,
    /// Answered from the probe's cache: nothing it depends on changed.
    pub(crate) cached: bool,
    /// Why no answer came at all (no Python, a timeout, a crash).
    pub(crate) failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct StaticFiles {
    pub(crate) root: String,
    pub(crate) files: u64,
    pub(crate) admin_css: bool,
}

/// A listening unix socket with a path, and the pids holding it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct UnixListener {
    pub(crate) path: String,
    pub(crate) inode: u64,
    pub(crate) pids: Vec<u32>,
    /// As `TcpListener::holders_known`.
    pub(crate) holders_known: bool,
}

/// nginx's effective configuration (`nginx -T`, which also validates it).
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Nginx {
    pub(crate) installed: bool,
    pub(crate) test_ok: bool,
    pub(crate) messages: String,
    pub(crate) config: String,
}

/// Where a live Django answers with a fresh CSRF cookie per request: the
/// home page when it has a form, and the admin's login page, which every
/// project with Django's admin serves.
pub(crate) const LIVENESS_PATHS: &[&str] = &["/", "/admin/login/"];

/// One raw HTTP exchange over a unix socket.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct RawHttp {
    pub(crate) path: String,
    pub(crate) head: String,
    pub(crate) body: String,
    /// Why no answer came (then head and body are empty).
    pub(crate) error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(host_facts, derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(host_facts, serde(deny_unknown_fields))]
pub(crate) struct Change {
    pub(crate) mtime_cs: u64,
    pub(crate) path: String,
}
