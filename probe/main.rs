//! deploylab's probe: runs inside the VM stand-in, once per `deploylab check`,
//! and prints the facts the checks need as one JSON object on stdout.
//!
//! Why a separate program with no dependencies: the student is root in the VM
//! and may replace any tool there (`ss`, `systemctl`, `dpkg-query`, even the
//! libc through `/etc/ld.so.preload`). So the probe is a *static* executable
//! that deploylab copies in afresh for every run, and it reads the kernel's and
//! dpkg's own files (`/proc`, `/var/lib/dpkg`) instead of asking tools. It only
//! gathers facts; deciding pass or fail happens on the host.
//!
//! Each argument asks for one fact: `pkg:NAME`, `user:NAME`, `file:PATH`,
//! `read:PATH` (content, up to 64 KiB), `ssh-keys:USER`, `tcp-listen`, `sudoers`,
//! `deploy:USER` (everything about a Python web app deployed the course's
//! way, found from the real configuration: see `probe/deploy.rs`).
//! build.rs compiles this file with `-C target-feature=+crt-static`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

mod deploy;

fn main() {
    // The copy deploylab put in is single-use: remove it so nothing can be
    // left in its place for the next run.
    if let Ok(me) = std::env::current_exe() {
        let _ = fs::remove_file(me);
    }
    let mut out = Json::object();
    for arg in std::env::args().skip(1) {
        let (kind, value) = arg.split_once(':').unwrap_or((arg.as_str(), ""));
        let fact = match kind {
            "pkg" => package(value).into(),
            "user" => user(value).into(),
            "file" => file(value).into(),
            "read" => read(value).into(),
            "ssh-keys" => ssh_keys(value).into(),
            "tcp-listen" => tcp_listening(),
            "deploy" => deploy::gather(value).into(),
            "sudoers" => sudoers().into(),
            _ => Json::object()
                .field("error", Json::str("unknown fact"))
                .into(),
        };
        out = out.field(&arg, fact);
    }
    println!("{}", out.0);
}

/// A package's state in dpkg's database, and whether the files it installed
/// are really on disk (a hand-edited status file does not make a package).
fn package(name: &str) -> Object {
    static STATUS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let status =
        STATUS.get_or_init(|| fs::read_to_string("/var/lib/dpkg/status").unwrap_or_default());
    let Some(stanza) = status
        .split("\n\n")
        .find(|s| s.lines().any(|l| l == format!("Package: {name}")))
    else {
        return Json::object().field("installed", Json::Bool(false));
    };
    let field = |key: &str| {
        stanza
            .lines()
            .find_map(|l| l.strip_prefix(key).map(str::trim))
            .unwrap_or("")
            .to_string()
    };
    let state = field("Status:");
    let mut missing = Vec::new();
    let list = fs::read_to_string(format!("/var/lib/dpkg/info/{name}.list"))
        .or_else(|_| fs::read_to_string(format!("/var/lib/dpkg/info/{name}:amd64.list")))
        .or_else(|_| fs::read_to_string(format!("/var/lib/dpkg/info/{name}:arm64.list")))
        .unwrap_or_default();
    for path in list.lines() {
        if fs::symlink_metadata(path).is_err() {
            missing.push(Json::str(path));
        }
    }
    Json::object()
        .field("installed", Json::Bool(state == "install ok installed"))
        .field("status", Json::str(&state))
        .field("version", Json::str(&field("Version:")))
        .field("files_listed", Json::Num(list.lines().count() as u64))
        .field("files_missing", Json::Array(missing))
}

/// The user's passwd entry and the groups that name them.
fn user(name: &str) -> Object {
    let Some(entry) = passwd(name) else {
        return Json::object().field("exists", Json::Bool(false));
    };
    let primary_gid = entry[3].as_str();
    let groups = fs::read_to_string("/etc/group").unwrap_or_default();
    let member_of = groups
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|g| g.len() >= 4 && (g[2] == primary_gid || g[3].split(',').any(|m| m == name)))
        .map(|g| Json::str(g[0]))
        .collect();
    Json::object()
        .field("exists", Json::Bool(true))
        .field("uid", Json::Num(entry[2].parse().unwrap_or(u64::MAX)))
        .field("home", Json::str(&entry[5]))
        .field("shell", Json::str(&entry[6]))
        .field("groups", Json::Array(member_of))
}

fn file(path: &str) -> Object {
    match fs::symlink_metadata(path) {
        Err(_) => Json::object().field("exists", Json::Bool(false)),
        Ok(meta) => {
            let kind = if meta.is_dir() {
                "dir"
            } else if meta.file_type().is_symlink() {
                "symlink"
            } else {
                "file"
            };
            Json::object()
                .field("exists", Json::Bool(true))
                .field("kind", Json::str(kind))
                .field(
                    "mode",
                    Json::Num(u64::from(meta.permissions().mode() & 0o7777)),
                )
                .field("uid", Json::Num(u64::from(meta.uid())))
                .field("gid", Json::Num(u64::from(meta.gid())))
                .field("size", Json::Num(meta.len()))
                .field("mtime", Json::Num(meta.mtime().max(0) as u64))
        }
    }
}

fn read(path: &str) -> Object {
    const LIMIT: u64 = 64 * 1024;
    let meta = file(path);
    match fs::read(path) {
        Ok(bytes) if bytes.len() as u64 <= LIMIT => {
            meta.field("content", Json::str(&String::from_utf8_lossy(&bytes)))
        }
        Ok(_) => meta.field("error", Json::str("larger than 64 KiB")),
        Err(_) => meta,
    }
}

/// The user's `~/.ssh/authorized_keys` and the modes sshd's StrictModes
/// looks at (home, `.ssh`, the file), in one fact so one run is enough.
fn ssh_keys(user_name: &str) -> Object {
    let Some(home) = home_of(user_name) else {
        return Json::object().field("exists", Json::Bool(false));
    };
    read(&format!("{home}/.ssh/authorized_keys"))
        .field("home", Json::str(&home))
        .field("home_dir", file(&home))
        .field("ssh_dir", file(&format!("{home}/.ssh")))
}

/// A user's /etc/passwd entry, split into its seven fields.
fn passwd(user_name: &str) -> Option<Vec<String>> {
    fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
        .find(|f| f.len() >= 7 && f[0] == user_name)
}

/// The user's home folder, from /etc/passwd.
fn home_of(user_name: &str) -> Option<String> {
    passwd(user_name).map(|f| f[5].clone())
}

/// Every listening TCP socket, from the kernel's tables, with the programs
/// that hold it open (found through `/proc/<pid>/fd`, not through `ss`).
fn tcp_listening() -> Json {
    const LISTEN: &str = "0A";
    let mut sockets: BTreeMap<u64, (String, u16)> = BTreeMap::new();
    for (table, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let text = fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != LISTEN {
                continue;
            }
            let Some((addr, port)) = cols[1].split_once(':') else {
                continue;
            };
            let port = u16::from_str_radix(port, 16).unwrap_or(0);
            let inode: u64 = cols[9].parse().unwrap_or(0);
            sockets.insert(inode, (decode_address(addr, v6), port));
        }
    }
    let owners = socket_owners();
    let holders = socket_pids();
    let list = sockets
        .iter()
        .map(|(inode, (addr, port))| {
            let programs = owners
                .get(inode)
                .map(|v| v.iter().map(|p| Json::str(p)).collect())
                .unwrap_or_default();
            let processes = holders
                .iter()
                .filter(|(i, _)| i == inode)
                .map(|(_, pid)| process(*pid).into())
                .collect();
            Json::object()
                .field("address", Json::str(addr))
                .field("port", Json::Num(u64::from(*port)))
                .field("programs", Json::Array(programs))
                .field("processes", Json::Array(processes))
                .into()
        })
        .collect();
    Json::Array(list)
}

/// socket inode -> executables (`/proc/<pid>/exe`) of the processes holding it.
fn socket_owners() -> BTreeMap<u64, Vec<String>> {
    let mut owners: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (inode, pid) in socket_pids() {
        let exe = process_exe(pid);
        let list = owners.entry(inode).or_default();
        if !list.contains(&exe) {
            list.push(exe);
        }
    }
    owners
}

/// (socket inode, pid) for every socket some process holds open.
fn socket_pids() -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    for pid in pids() {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            if let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
            {
                if let Ok(inode) = inode.parse() {
                    out.push((inode, pid));
                }
            }
        }
    }
    out
}

fn pids() -> Vec<u32> {
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|p| p.parse().ok()))
        .collect()
}

fn process_exe(pid: u32) -> String {
    fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What the kernel says about a process (none of it from `ps`).
fn process(pid: u32) -> Object {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<Json> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| Json::str(&String::from_utf8_lossy(a)))
        .collect();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    };
    // The unit a process belongs to is its systemd cgroup (name=systemd on
    // cgroup v1, the unified hierarchy on v2).
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let cgroup = cgroups
        .lines()
        .find(|l| l.contains("name=systemd:") || l.starts_with("0::"))
        .and_then(|l| l.splitn(3, ':').nth(2))
        .unwrap_or("")
        .to_string();
    Json::object()
        .field("pid", Json::Num(u64::from(pid)))
        .field("ppid", Json::Num(field("PPid:")))
        .field("uid", Json::Num(field("Uid:")))
        .field("exe", Json::str(&process_exe(pid)))
        .field("cmdline", Json::Array(args))
        .field("cgroup", Json::str(&cgroup))
}

/// `/proc/net/tcp` writes addresses as little-endian hex words.
fn decode_address(hex: &str, v6: bool) -> String {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    if !v6 && bytes.len() == 4 {
        return format!("{}.{}.{}.{}", bytes[3], bytes[2], bytes[1], bytes[0]);
    }
    if bytes.len() == 16 {
        let mut ordered = [0u8; 16];
        for word in 0..4 {
            for b in 0..4 {
                ordered[word * 4 + b] = bytes[word * 4 + 3 - b];
            }
        }
        return std::net::Ipv6Addr::from(ordered).to_string();
    }
    hex.to_string()
}

/// The sudo rules in force: the non-comment lines of /etc/sudoers and of the
/// files sudo reads from /etc/sudoers.d, plus whether sudo itself is setuid.
fn sudoers() -> Object {
    let mut lines = Vec::new();
    let mut files = vec!["/etc/sudoers".to_string()];
    if let Ok(dir) = fs::read_dir("/etc/sudoers.d") {
        let mut names: Vec<String> = dir
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            // sudo skips names with a dot or ending in ~ in an includedir.
            .filter(|n| !n.contains('.') && !n.ends_with('~'))
            .collect();
        names.sort();
        files.extend(names.into_iter().map(|n| format!("/etc/sudoers.d/{n}")));
    }
    for path in files {
        for line in fs::read_to_string(&path).unwrap_or_default().lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') && !line.starts_with('@') {
                lines.push(Json::str(line));
            }
        }
    }
    let setuid = fs::metadata("/usr/bin/sudo")
        .map(|m| m.uid() == 0 && m.permissions().mode() & 0o4000 != 0)
        .unwrap_or(false);
    Json::object()
        .field("rules", Json::Array(lines))
        .field("sudo_setuid_root", Json::Bool(setuid))
}

/// Just enough JSON writing for the facts above (no dependencies: see top).
enum Json {
    Raw(String),
    Bool(bool),
    Num(u64),
    Array(Vec<Json>),
}

struct Object(String);

impl Json {
    fn object() -> Object {
        Object(String::from("{}"))
    }
    fn str(s: &str) -> Json {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        Json::Raw(out)
    }
    fn render(self) -> String {
        match self {
            Json::Raw(s) => s,
            Json::Bool(b) => b.to_string(),
            Json::Num(n) => n.to_string(),
            Json::Array(items) => {
                let parts: Vec<String> = items.into_iter().map(Json::render).collect();
                format!("[{}]", parts.join(","))
            }
        }
    }
}

impl Object {
    fn field(mut self, key: &str, value: impl Into<Json>) -> Object {
        self.0.pop();
        if self.0.len() > 1 {
            self.0.push(',');
        }
        let Json::Raw(key) = Json::str(key) else {
            unreachable!()
        };
        let _ = write!(self.0, "{key}:{}}}", value.into().render());
        self
    }
}

impl From<Object> for Json {
    fn from(o: Object) -> Json {
        Json::Raw(o.0)
    }
}
