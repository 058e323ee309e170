//! Just enough JSON writing for the fact types (the probe has no
//! dependencies: see main.rs). Each type lists its fields once, in
//! `to_json!`; the host's strict reader and the probe's own test catch a
//! field missing here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::facts::*;

pub(crate) trait ToJson {
    fn write(&self, out: &mut String);

    fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

impl ToJson for str {
    fn write(&self, out: &mut String) {
        out.push('"');
        for c in self.chars() {
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
    }
}

impl ToJson for String {
    fn write(&self, out: &mut String) {
        self.as_str().write(out);
    }
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn write(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}
plain!(bool, u16, u32, u64, i64);

impl<T: ToJson> ToJson for Vec<T> {
    fn write(&self, out: &mut String) {
        out.push('[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            item.write(out);
        }
        out.push(']');
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write(&self, out: &mut String) {
        match self {
            Some(v) => v.write(out),
            None => out.push_str("null"),
        }
    }
}

impl<T: ToJson> ToJson for BTreeMap<String, T> {
    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            k.write(out);
            out.push(':');
            v.write(out);
        }
        out.push('}');
    }
}

impl ToJson for DjangoWay {
    fn write(&self, out: &mut String) {
        let name = match self {
            DjangoWay::Service => "service",
            DjangoWay::Manage => "manage",
        };
        name.write(out);
    }
}

impl ToJson for FileKind {
    fn write(&self, out: &mut String) {
        let name = match self {
            FileKind::File => "file",
            FileKind::Dir => "dir",
            FileKind::Symlink => "symlink",
        };
        name.write(out);
    }
}

/// `ToJson` for a struct: an object with the listed fields, in order.
macro_rules! to_json {
    ($($t:ident { $($field:ident),* $(,)? })*) => {$(
        impl ToJson for $t {
            fn write(&self, out: &mut String) {
                out.push('{');
                let mut first = true;
                $(
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    stringify!($field).write(out);
                    out.push(':');
                    self.$field.write(out);
                )*
                let _ = first;
                out.push('}');
            }
        }
    )*};
}

to_json! {
    Facts { packages, users, ssh_keys, tcp_listen, sudoers, deploy }
    Package { installed, status, version, files_listed, files_missing }
    User { uid, gid, home, shell, groups, gids }
    FileStat { kind, mode, uid, gid, size, mtime }
    TextFile { path, stat, content }
    SshKeys { home, home_dir, ssh_dir, file }
    Process { pid, ppid, uid, exe, cmdline, cgroup }
    TcpListener { address, port, processes, holders_known }
    Sudoers { rules, sudo_setuid_root }
    Deploy {
        home, units, wants, socket, service, venv, app_dir, app_dir_stat, app_dir_owner,
        app_dir_group, checkout, django, static_files, unix_listen, processes,
        nginx, http_over_socket, booted_at_cs, last_change,
    }
    UnitFile { name, text }
    SocketUnit { unit, path }
    Service { unit, exists, user, uid, user_gids, group, gid, exec_start }
    Venv { path, exists, python, dists }
    Checkout { path, head, config }
    DjangoRun {
        way, user, python, cwd, args, answer, host, static_root, config_files, cached, failure,
    }
    StaticFiles { root, files, admin_css }
    UnixListener { path, inode, pids, holders_known }
    Nginx { installed, test_ok, messages, config }
    RawHttp { path, head, body, error }
    Change { mtime_cs, path }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!("a\"b\\c\nd\u{1}".to_json(), r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn structs_and_collections() {
        let change = Change {
            mtime_cs: 5,
            path: "/x".into(),
        };
        assert_eq!(change.to_json(), r#"{"mtime_cs":5,"path":"/x"}"#);
        let none: Option<Change> = None;
        assert_eq!(none.to_json(), "null");
        assert_eq!(vec![1u32, 2].to_json(), "[1,2]");
    }
}
