//! The machine and how the student reaches it: sshd, SSH from the host,
//! users, sudo, deploylab's key, Debian packages.

use crate::i18n::tr;
use crate::verdict::{Outcome, Verdict};
use crate::vm::facts::{Facts, FileStat, HostFacts};

pub(super) fn ssh_banner(host: &HostFacts) -> Verdict {
    let expected = tr!("vm-ssh-banner-expected");
    match &host.ssh_banner {
        None => Err(tr!("vm-ssh-banner-not-tried")),
        Some(Ok(line)) if line.starts_with("SSH-2.0-") => Ok(Outcome::pass(expected, line)),
        Some(Ok(line)) => Ok(Outcome::fail(expected, format!("'{line}'"))),
        Some(Err(why)) => Ok(Outcome::fail(expected, why)),
    }
}

pub(super) fn tcp_listening(facts: &Facts, port: u16, program: &str) -> Verdict {
    let listeners = facts
        .tcp_listen
        .as_ref()
        .ok_or_else(|| tr!("vm-tcp-not-listed"))?;
    let expected = tr!("vm-tcp-expected", program = program, port = port);
    let on_port: Vec<_> = listeners.iter().filter(|s| s.port == port).collect();
    let mut programs: Vec<&str> = on_port
        .iter()
        .flat_map(|s| &s.processes)
        .map(|p| p.exe.as_str())
        .collect();
    programs.sort_unstable();
    programs.dedup();
    let by_program = programs
        .iter()
        .any(|exe| exe.rsplit('/').next() == Some(program));
    let observed = if on_port.is_empty() {
        tr!("vm-tcp-nothing", port = port)
    } else if programs.is_empty() && on_port.iter().any(|s| !s.holders_known) {
        super::unknown_holder(&tr!("vm-tcp-port", port = port))
    } else if programs.is_empty() {
        tr!("vm-tcp-no-process", port = port)
    } else {
        tr!("vm-tcp-held-by", port = port, programs = programs.join(", "))
    };
    Ok(Outcome::new(by_program, expected, observed))
}

pub(super) fn user_exists(facts: &Facts, name: &str) -> Verdict {
    let expected = tr!("vm-user-expected", name = name);
    Ok(match facts.users.get(name) {
        Some(Some(user)) => Outcome::pass(
            expected,
            tr!("vm-user-found", name = name, uid = user.uid, home = user.home),
        ),
        _ => Outcome::fail(expected, tr!("vm-user-missing", name = name)),
    })
}

pub(super) fn sudo_allowed(facts: &Facts, name: &str) -> Verdict {
    let expected = tr!("vm-sudo-expected", name = name);
    let Some(Some(user)) = facts.users.get(name) else {
        return Ok(Outcome::fail(expected, tr!("vm-no-user", name = name)));
    };
    let sudoers = facts
        .sudoers
        .as_ref()
        .ok_or_else(|| tr!("vm-sudo-not-read"))?;
    if !sudoers.sudo_setuid_root {
        return Ok(Outcome::fail(expected, tr!("vm-sudo-not-setuid")));
    }
    let groups: Vec<&str> = user.groups.iter().map(String::as_str).collect();
    Ok(
        match sudoers
            .rules
            .iter()
            .find(|rule| grants(rule, name, &groups))
        {
            Some(rule) => Outcome::pass(expected, tr!("vm-sudo-rule", rule = rule)),
            None => Outcome::fail(
                expected,
                tr!("vm-sudo-no-rule", name = name, groups = groups.join(", ")),
            ),
        },
    )
}

/// Whether one sudoers line lets `user` (a member of `groups`) run as root.
/// Handles the common forms: `user ALL=(ALL:ALL) ALL`, `%group ALL=…`.
fn grants(rule: &str, user: &str, groups: &[&str]) -> bool {
    let mut words = rule.split_whitespace();
    let Some(who) = words.next() else {
        return false;
    };
    let rest: String = words.collect::<Vec<_>>().join(" ");
    let applies =
        who == user || who == "ALL" || who.strip_prefix('%').is_some_and(|g| groups.contains(&g));
    applies && rest.starts_with("ALL") && rest.trim_end().ends_with("ALL")
}

/// deploylab's key in the user's authorized_keys with modes sshd accepts,
/// and, for the lab's user, a real login with it: a file that looks right
/// proves nothing if what listens on port 22 does not let anyone in.
pub(super) fn ssh_key_authorized(
    facts: &Facts,
    name: &str,
    public_key: &str,
    login: Option<&Result<String, String>>,
) -> Verdict {
    let expected = tr!("vm-key-expected", name = name);
    let key_body = public_key.split_whitespace().nth(1).unwrap_or("\u{0}");
    let uid = facts
        .users
        .get(name)
        .and_then(|u| u.as_ref())
        .map(|u| u.uid);
    let observed = match facts.ssh_keys.get(name) {
        None | Some(None) => tr!("vm-no-user", name = name),
        Some(Some(keys)) => match &keys.file.content {
            None => tr!("vm-key-no-file"),
            Some(text) if !text.lines().any(|l| l.contains(key_body)) => tr!("vm-key-not-in-file"),
            Some(_) => {
                let home = tr!("vm-key-home-folder");
                let places = [
                    (home.as_str(), keys.home_dir.as_ref()),
                    ("~/.ssh", keys.ssh_dir.as_ref()),
                    ("authorized_keys", keys.file.stat.as_ref()),
                ];
                match (strict_modes_problem(&places, uid), login) {
                    (Some(problem), _) => problem,
                    (None, Some(Err(why))) => tr!("vm-key-login-fails", why = why),
                    (None, Some(Ok(user))) if user == name => {
                        return Ok(Outcome::pass(expected, tr!("vm-key-login-works")));
                    }
                    (None, _) => return Ok(Outcome::pass(expected, tr!("vm-key-present"))),
                }
            }
        },
    };
    Ok(Outcome::fail(expected, observed))
}

/// sshd (StrictModes) ignores authorized_keys that others could write.
fn strict_modes_problem(places: &[(&str, Option<&FileStat>)], uid: Option<u32>) -> Option<String> {
    for (label, stat) in places {
        let Some(stat) = stat else { continue };
        if stat.mode & 0o022 != 0 {
            return Some(tr!("vm-key-writable", place = label));
        }
        if uid.is_some_and(|u| stat.uid != u && stat.uid != 0) {
            return Some(tr!("vm-key-other-owner", place = label));
        }
    }
    None
}

/// Each entry is a package, or alternatives that provide the same thing
/// (`python3-venv | python3.11-venv`): one of them installed is enough.
pub(super) fn packages_installed(facts: &Facts, packages: &[String]) -> Verdict {
    let or = format!(" {} ", tr!("vm-packages-or"));
    let shown = |entry: &str| alternatives(entry).collect::<Vec<_>>().join(&or);
    let listed: Vec<String> = packages.iter().map(|p| shown(p)).collect();
    let expected = tr!("vm-packages-expected", packages = listed.join(", "));
    let mut missing = Vec::new();
    let mut broken = Vec::new();
    for entry in packages {
        let states: Vec<PackageState> = alternatives(entry)
            .map(|name| state(facts.packages.get(name)))
            .collect();
        if states.contains(&PackageState::Installed) {
            continue;
        }
        if states.contains(&PackageState::Broken) {
            broken.push(shown(entry));
        } else {
            missing.push(shown(entry));
        }
    }
    Ok(match (missing.is_empty(), broken.is_empty()) {
        (true, true) => Outcome::pass(expected, tr!("vm-packages-all")),
        (false, _) => Outcome::fail(
            expected,
            tr!("vm-packages-missing", packages = missing.join(", ")),
        ),
        (true, false) => Outcome::fail(
            expected,
            tr!("vm-packages-broken", packages = broken.join(", ")),
        ),
    })
}

/// The names in a package entry of lab.yaml (`a | b`).
pub(super) fn alternatives(entry: &str) -> impl Iterator<Item = &str> {
    entry.split('|').map(str::trim).filter(|n| !n.is_empty())
}

#[derive(Debug, PartialEq, Eq)]
enum PackageState {
    Installed,
    /// dpkg says installed, but its files are not there.
    Broken,
    Missing,
}

/// Every real package installs files (its docs at least): none listed, or
/// some gone, means dpkg's word is not enough.
fn state(package: Option<&crate::vm::facts::Package>) -> PackageState {
    match package {
        Some(p) if p.installed && p.files_listed > 0 && p.files_missing.is_empty() => {
            PackageState::Installed
        }
        Some(p) if p.installed => PackageState::Broken,
        _ => PackageState::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_rules_for_user_or_group() {
        assert!(grants(
            "%sudo ALL=(ALL:ALL) ALL",
            "student",
            &["student", "sudo"]
        ));
        assert!(grants(
            "student ALL=(ALL:ALL) NOPASSWD: ALL",
            "student",
            &[]
        ));
        assert!(!grants("%sudo ALL=(ALL:ALL) ALL", "student", &["student"]));
        assert!(!grants(
            "student ALL=(ALL) /usr/bin/apt-get",
            "student",
            &[]
        ));
        assert!(!grants("Defaults env_reset", "student", &[]));
    }
}
