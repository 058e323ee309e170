//! The words VM labs' hints say as `{{word}}`: the student's own deploy as
//! the facts show it (their folders, venv, WSGI module, settings, units,
//! socket), so a hint never sends someone who deployed `shop` to `blog`.
//! Where the student has nothing yet, the course's own default (its socket
//! path and unit names) or a plain placeholder (`<project>.wsgi`).

use super::django;
use super::facts::{Deploy, VmFacts};
use crate::lab::Lab;

pub(super) const WORDS: &[&str] = &[
    "user",
    "app_dir",
    "checkout",
    "venv",
    "wsgi",
    "settings_module",
    "config_files",
    "socket",
    "socket_unit",
    "service",
    "static_root",
];

/// Defaults, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn wsgi() -> String {
        tr!("word-wsgi")
    }
    pub(super) fn settings() -> String {
        tr!("word-settings")
    }
    pub(super) fn config_files() -> String {
        tr!("word-config-files")
    }
    pub(super) const STATIC_ROOT: &str = "STATIC_ROOT";
    /// The course's names (deploy-course.md, section 1).
    pub(super) const SOCKET: &str = "/run/gunicorn.sock";
    pub(super) const SOCKET_UNIT: &str = "gunicorn.socket";
    pub(super) const SERVICE: &str = "gunicorn.service";
    pub(super) const APP_DIR: &str = "/app";
    pub(super) const PROJECT: &str = "<project>";
}

pub(super) fn words(lab: &Lab, facts: &VmFacts, machine: &str) -> Vec<(&'static str, String)> {
    let deploy = facts
        .machines
        .iter()
        .find(|m| m.name == machine || !lab.has_several_machines())
        .and_then(|m| m.probe.as_ref().ok())
        .and_then(|f| f.deploy.get(&lab.user));
    match deploy {
        Some(d) => of_deploy(lab, d),
        None => defaults(lab),
    }
}

fn of_deploy(lab: &Lab, d: &Deploy) -> Vec<(&'static str, String)> {
    let asked = django::ask(d).ok();
    let answer = asked.as_ref().map(|(_, a)| a);
    let run = asked.as_ref().map(|(r, _)| *r);
    let service = d.service.as_ref().filter(|s| s.exists);
    let or = |value: Option<String>, default: &str| value.unwrap_or_else(|| default.to_string());
    let app_dir = d.app_dir.clone();
    vec![
        (
            "user",
            or(
                service.map(|s| s.user.clone()).filter(|u| !u.is_empty()),
                &lab.user,
            ),
        ),
        ("checkout", or(d.checkout.as_ref().map(|c| c.path.clone()), &clone_path(lab, &app_dir))),
        ("app_dir", app_dir),
        ("venv", d.venv.path.clone()),
        (
            "wsgi",
            or(
                answer
                    .and_then(|a| a.target.clone())
                    .filter(|t| t.contains(':'))
                    .map(|t| t.split(':').next().unwrap_or_default().to_string()),
                &text::wsgi(),
            ),
        ),
        (
            "settings_module",
            or(answer.and_then(|a| a.settings_module.clone()), &text::settings()),
        ),
        (
            "config_files",
            or(
                run.map(|r| r.config_files.join(", ")).filter(|f| !f.is_empty()),
                &text::config_files(),
            ),
        ),
        ("socket", or(d.socket.as_ref().map(|s| s.path.clone()), text::SOCKET)),
        ("socket_unit", or(d.socket.as_ref().map(|s| s.unit.clone()), text::SOCKET_UNIT)),
        ("service", or(service.map(|s| s.unit.clone()), text::SERVICE)),
        (
            "static_root",
            or(
                answer
                    .and_then(|a| a.static_root.clone())
                    .or_else(|| run.and_then(|r| r.static_root.clone())),
                text::STATIC_ROOT,
            ),
        ),
    ]
}

/// Before the probe answered: the course's names.
fn defaults(lab: &Lab) -> Vec<(&'static str, String)> {
    vec![
        ("user", lab.user.clone()),
        ("checkout", clone_path(lab, text::APP_DIR)),
        ("app_dir", text::APP_DIR.to_string()),
        ("venv", format!("/home/{}/.venv", lab.user)),
        ("wsgi", text::wsgi()),
        ("settings_module", text::settings()),
        ("config_files", text::config_files()),
        ("socket", text::SOCKET.to_string()),
        ("socket_unit", text::SOCKET_UNIT.to_string()),
        ("service", text::SERVICE.to_string()),
        ("static_root", text::STATIC_ROOT.to_string()),
    ]
}

/// Where a clone of the lab's repository lands in the app folder.
fn clone_path(lab: &Lab, app_dir: &str) -> String {
    let repo = lab.git_repos.keys().next().map_or(text::PROJECT, String::as_str);
    format!("{app_dir}/{repo}")
}
