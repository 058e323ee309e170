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
//! Each argument asks for one fact (`facts::FactRequest`); the answer is a
//! `facts::Facts`, the type the host reads. build.rs compiles this file
//! with `-C target-feature=+crt-static`; it is also a workspace member, so
//! fmt, clippy and its tests reach it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

mod deploy;
mod django;
mod facts;
mod json;

use facts::{
    FactRequest, Facts, FileKind, FileStat, Package, Process, SshKeys, Sudoers, TcpListener,
    TextFile, User,
};
use json::ToJson;

fn main() {
    // The copy deploylab put in is single-use: remove it so nothing can be
    // left in its place for the next run.
    if let Ok(me) = std::env::current_exe() {
        let _ = fs::remove_file(me);
    }
    let mut facts = Facts::default();
    for arg in std::env::args().skip(1) {
        let Some(request) = FactRequest::parse(&arg) else {
            eprintln!("deploylab-probe: unknown fact '{arg}'");
            std::process::exit(2);
        };
        gather(&request, &mut facts);
    }
    println!("{}", facts.to_json());
}

fn gather(request: &FactRequest, facts: &mut Facts) {
    match request {
        FactRequest::Package(name) => {
            facts.packages.insert(name.clone(), package(name));
        }
        FactRequest::User(name) => {
            facts.users.insert(name.clone(), user(name));
        }
        FactRequest::SshKeys(name) => {
            facts.ssh_keys.insert(name.clone(), ssh_keys(name));
        }
        FactRequest::TcpListen => facts.tcp_listen = Some(tcp_listening()),
        FactRequest::Sudoers => facts.sudoers = Some(sudoers()),
        FactRequest::Deploy(name, manage_env) => {
            facts
                .deploy
                .insert(name.clone(), deploy::gather(name, manage_env));
        }
    }
}

/// A package's state in dpkg's database, and whether the files it installed
/// are really on disk (a hand-edited status file does not make a package).
fn package(name: &str) -> Package {
    static STATUS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let status =
        STATUS.get_or_init(|| fs::read_to_string("/var/lib/dpkg/status").unwrap_or_default());
    let Some(stanza) = status
        .split("\n\n")
        .find(|s| s.lines().any(|l| l == format!("Package: {name}")))
    else {
        return Package::default();
    };
    let field = |key: &str| {
        stanza
            .lines()
            .find_map(|l| l.strip_prefix(key).map(str::trim))
            .unwrap_or("")
            .to_string()
    };
    let state = field("Status:");
    let list = fs::read_to_string(format!("/var/lib/dpkg/info/{name}.list"))
        .or_else(|_| fs::read_to_string(format!("/var/lib/dpkg/info/{name}:amd64.list")))
        .or_else(|_| fs::read_to_string(format!("/var/lib/dpkg/info/{name}:arm64.list")))
        .unwrap_or_default();
    let files_missing = list
        .lines()
        .filter(|path| fs::symlink_metadata(path).is_err())
        .map(str::to_string)
        .collect();
    Package {
        installed: state == "install ok installed",
        status: state,
        version: field("Version:"),
        files_listed: list.lines().count() as u64,
        files_missing,
    }
}

/// The user's passwd entry and the groups that name them.
fn user(name: &str) -> Option<User> {
    let entry = passwd(name)?;
    let primary_gid = entry[3].as_str();
    let (groups, gids) = group_entries()
        .into_iter()
        .filter(|g| g.len() >= 4 && (g[2] == primary_gid || g[3].split(',').any(|m| m == name)))
        .map(|g| (g[0].clone(), g[2].parse().unwrap_or(u32::MAX)))
        .unzip();
    Some(User {
        uid: entry[2].parse().unwrap_or(u32::MAX),
        gid: entry[3].parse().unwrap_or(u32::MAX),
        home: entry[5].clone(),
        shell: entry[6].clone(),
        groups,
        gids,
    })
}

/// `lstat` of a path, `None` when it does not exist.
fn stat(path: &str) -> Option<FileStat> {
    let meta = fs::symlink_metadata(path).ok()?;
    let kind = if meta.is_dir() {
        FileKind::Dir
    } else if meta.file_type().is_symlink() {
        FileKind::Symlink
    } else {
        FileKind::File
    };
    Some(FileStat {
        kind,
        mode: meta.permissions().mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        size: meta.len(),
        mtime: meta.mtime(),
    })
}

/// A file's stat, and its content when it is at most 64 KiB.
fn read(path: &str) -> TextFile {
    const LIMIT: u64 = 64 * 1024;
    let stat = stat(path);
    let content = match &stat {
        Some(s) if s.size <= LIMIT => fs::read(path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        _ => None,
    };
    TextFile {
        path: path.to_string(),
        stat,
        content,
    }
}

/// The user's `~/.ssh/authorized_keys` and the modes sshd's StrictModes
/// looks at (home, `.ssh`, the file), in one fact so one run is enough.
fn ssh_keys(user_name: &str) -> Option<SshKeys> {
    let home = home_of(user_name)?;
    Some(SshKeys {
        file: read(&format!("{home}/.ssh/authorized_keys")),
        home_dir: stat(&home),
        ssh_dir: stat(&format!("{home}/.ssh")),
        home,
    })
}

/// A user's /etc/passwd entry, split into its seven fields.
fn passwd(user_name: &str) -> Option<Vec<String>> {
    fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
        .find(|f| f.len() >= 7 && f[0] == user_name)
}

/// /etc/group, each entry split into its four fields.
fn group_entries() -> Vec<Vec<String>> {
    fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

/// The name of a uid (field 3 of /etc/passwd) or gid (of /etc/group).
fn name_of(id: u32, group: bool) -> String {
    let entries = match group {
        true => group_entries(),
        false => fs::read_to_string("/etc/passwd")
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(':').map(str::to_string).collect())
            .collect(),
    };
    entries
        .into_iter()
        .find(|e| e.len() >= 3 && e[2] == id.to_string())
        .map(|e| e[0].clone())
        .unwrap_or_default()
}

/// The gid of a group given by name or number.
fn gid_of(group: &str) -> Option<u32> {
    if let Ok(gid) = group.parse() {
        return Some(gid);
    }
    group_entries()
        .into_iter()
        .find(|g| g.len() >= 3 && g[0] == group)?[2]
        .parse()
        .ok()
}

/// The user's home folder, from /etc/passwd.
fn home_of(user_name: &str) -> Option<String> {
    passwd(user_name).map(|f| f[5].clone())
}

/// Every listening TCP socket, from the kernel's tables, with the processes
/// that hold it open (found through `/proc/<pid>/fd`, not through `ss`).
fn tcp_listening() -> Vec<TcpListener> {
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
    let holders = socket_pids();
    sockets
        .into_iter()
        .map(|(inode, (address, port))| {
            let processes: Vec<Process> = holders
                .held
                .iter()
                .filter(|(i, _)| *i == inode)
                .map(|(_, pid)| process(*pid))
                .collect();
            TcpListener {
                address,
                port,
                holders_known: !processes.is_empty() || holders.unreadable.is_empty(),
                processes,
            }
        })
        .collect()
}

/// Who holds which socket: (socket inode, pid) for every socket some
/// process holds open, and the processes whose descriptors could not be
/// read (they may hold any socket).
struct SocketHolders {
    held: Vec<(u64, u32)>,
    unreadable: Vec<u32>,
}

fn socket_pids() -> SocketHolders {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    for pid in pids() {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            // Gone since listed, or not ours to read.
            if fs::metadata(format!("/proc/{pid}")).is_ok() {
                unreadable.push(pid);
            }
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                if !unreadable.contains(&pid) {
                    unreadable.push(pid);
                }
                continue;
            };
            let target = target.to_string_lossy();
            let inode = target
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse().ok());
            if let Some(inode) = inode
                && !out.contains(&(inode, pid))
            {
                out.push((inode, pid));
            }
        }
    }
    SocketHolders {
        held: out,
        unreadable,
    }
}

fn pids() -> Vec<u32> {
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = procs
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|p| p.parse().ok()))
        .collect();
    pids.sort_unstable();
    pids
}

/// What the kernel says about a process (none of it from `ps`).
fn process(pid: u32) -> Process {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
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
    Process {
        pid,
        ppid: field("PPid:"),
        uid: field("Uid:"),
        exe: fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
        cmdline,
        cgroup,
    }
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
fn sudoers() -> Sudoers {
    let mut rules = Vec::new();
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
                rules.push(line.to_string());
            }
        }
    }
    let sudo_setuid_root = fs::metadata("/usr/bin/sudo")
        .map(|m| m.uid() == 0 && m.permissions().mode() & 0o4000 != 0)
        .unwrap_or(false);
    Sudoers {
        rules,
        sudo_setuid_root,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for arg in [
            "pkg:nginx",
            "user:a",
            "ssh-keys:a",
            "tcp-listen",
            "sudoers",
            "deploy:a",
        ] {
            assert_eq!(FactRequest::parse(arg).unwrap().to_arg(), arg);
        }
        assert_eq!(FactRequest::parse("pkg:"), None);
        assert_eq!(FactRequest::parse("file:/etc/passwd"), None);
    }

    #[test]
    fn addresses_decode() {
        assert_eq!(decode_address("0100007F", false), "127.0.0.1");
        assert_eq!(
            decode_address("00000000000000000000000001000000", true),
            "::1"
        );
    }
}
