//! The check kinds of VM labs (`expect: { <kind>: { … } }` in lab.yaml),
//! the facts each reads, and their evaluation: one function per kind,
//! grouped by topic (`system`: the machine and its access; `app`: the
//! Python app's files, settings and database; `service`: systemd; `web`:
//! nginx and HTTP). Evaluation is pure: `../fixtures.rs` tests every kind
//! from facts recorded on real VMs, without Docker.

// The check and command layers stay readable: no function over 100 lines.
#![warn(clippy::too_many_lines)]

mod ansible;
mod app;
mod service;
mod system;
mod web;

use serde::Deserialize;

use super::facts::{FactRequest, MachineFacts};
use crate::lab::Lab;
use crate::verdict::Verdict;

/// The kinds of check a VM lab may use. `user` defaults to the lab's user.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Check {
    // --- system: the machine and how the student reaches it ---------------
    /// From the host: the VM's published SSH port answers with an SSH banner.
    SshBanner {},
    /// A program (matched by executable name) listens on a TCP port, per the
    /// kernel's socket table and `/proc/<pid>/fd`.
    TcpListening { port: u16, program: String },
    /// The user exists and has a home directory.
    UserExists {
        #[serde(default)]
        user: Option<String>,
    },
    /// The user may run commands as root through sudo (setuid sudo and a rule
    /// for the user or one of its groups).
    SudoAllowed {
        #[serde(default)]
        user: Option<String>,
    },
    /// deploylab's SSH key is in the user's authorized_keys, with modes sshd
    /// accepts.
    SshKeyAuthorized {
        #[serde(default)]
        user: Option<String>,
    },
    /// Every listed Debian package is installed, per dpkg's database, and the
    /// files it installed are present. An entry may list alternatives that
    /// provide the same thing: `python3-venv | python3.11-venv`.
    PackagesInstalled { packages: Vec<String> },

    // --- app: a Python web app deployed the course's way -------------------
    /// `~/.venv` (or the venv the service runs from) is a working virtualenv.
    VenvReady {},
    /// pip in the venv was upgraded past the version Debian bundles.
    PipUpgraded {},
    /// The user can write in the app folder, the service's group can read it,
    /// nobody else can write.
    AppDirReady {},
    /// The app's code is a git checkout: the work tree holding the app
    /// folder, or one inside it.
    CodeCheckedOut {},
    /// The venv's Python imports the app the service serves, and Django.
    AppInstalled {},
    /// DEBUG is off in the settings the app runs with.
    SettingsDebugOff {},
    /// ALLOWED_HOSTS is set in the settings the app runs with.
    SettingsAllowedHosts {},
    /// SECRET_KEY is not the `django-insecure-` one from the code, nor weak.
    SettingsSecretKey {},
    /// Django's migration plan is empty: migrate has nothing left to do.
    MigrationsApplied {},
    /// A Django superuser exists in the database.
    SuperuserExists {},
    /// collectstatic filled STATIC_ROOT.
    StaticCollected {},

    // --- service: the app server under systemd -----------------------------
    /// A .socket unit with a unix ListenStream is enabled.
    SocketUnitEnabled {},
    /// systemd itself (PID 1) listens on that socket.
    SocketListening {},
    /// The service runs as a non-root user, from the venv.
    ServiceUnprivileged {},
    /// A request over the socket reaches a live Django.
    SocketReachesDjango {},
    /// The socket unit and nginx start at boot.
    UnitsEnabledAtBoot {},
    /// Every app server process runs under its systemd service.
    AppUnderSystemd {},
    /// The VM was rebooted after the last change to the deployment (and, as
    /// the other checks show, everything came back by itself).
    RebootedAfterDeploy {},

    // --- web: nginx in front, seen from the host ---------------------------
    /// `nginx -t` passes.
    NginxConfigValid {},
    /// nginx proxies to the socket the socket unit listens on.
    NginxProxiesToSocket {},
    /// The default nginx site is gone.
    DefaultSiteGone {},
    /// Port 80 answers with the live blog, through nginx.
    BlogThroughNginx {},
    /// nginx serves /static/ itself.
    StaticThroughNginx {},
    /// Django's 404 page is the production one (DEBUG off).
    DebugOffLive {},
    /// No app server listens on a TCP port reachable from outside.
    AppNotExposed {},

    // --- ansible: the runs of a playbook (labs with `ansible:`) ------------
    /// The machine is in the inventory of the student's last run, a play
    /// ran on it, and Ansible reached it.
    AnsibleReached {},
    /// No task of the student's last run failed on the machine, and the
    /// run reached its end.
    PlaybookSucceeded {},
    /// A second run of the student's last run, made by deploylab, changed
    /// nothing on the machine.
    PlaybookIdempotent {},
}

/// What a check reads besides the probe's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostNeed {
    Nothing,
    SshBanner,
    /// A real login as the lab's user with deploylab's key.
    SshLogin,
    Http,
    /// The runs of Ansible deploylab saw.
    AnsibleRuns,
    /// Those, and deploylab's second run of the student's last one.
    AnsibleSecondRun,
}

impl Check {
    /// The probe facts this check reads (`lab_user`: the lab's user).
    pub(crate) fn requests(&self, lab: &Lab) -> Vec<FactRequest> {
        let lab_user = lab.user.as_str();
        let user = |u: &Option<String>| u.clone().unwrap_or_else(|| lab_user.to_string());
        match self {
            Check::SshBanner {}
            | Check::AnsibleReached {}
            | Check::PlaybookSucceeded {}
            | Check::PlaybookIdempotent {} => vec![],
            Check::TcpListening { .. } => vec![FactRequest::TcpListen],
            Check::UserExists { user: u } => vec![FactRequest::User(user(u))],
            Check::SudoAllowed { user: u } => {
                vec![FactRequest::User(user(u)), FactRequest::Sudoers]
            }
            // The owner check compares with the user's uid; who holds port
            // 22 says whether the last real login still proves it.
            Check::SshKeyAuthorized { user: u } => vec![
                FactRequest::SshKeys(user(u)),
                FactRequest::User(user(u)),
                FactRequest::TcpListen,
            ],
            Check::PackagesInstalled { packages } => packages
                .iter()
                .flat_map(|entry| system::alternatives(entry))
                .map(|p| FactRequest::Package(p.to_string()))
                .collect(),
            _ => vec![
                FactRequest::Deploy(
                    lab_user.to_string(),
                    (lab.manage_env.iter())
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect(),
                ),
                FactRequest::User(lab_user.to_string()),
                FactRequest::TcpListen,
            ],
        }
    }

    /// What the host must measure for this check.
    pub(crate) fn host_need(&self) -> HostNeed {
        match self {
            Check::SshBanner {} => HostNeed::SshBanner,
            Check::SshKeyAuthorized { .. } => HostNeed::SshLogin,
            Check::DefaultSiteGone {}
            | Check::BlogThroughNginx {}
            | Check::StaticThroughNginx {}
            | Check::DebugOffLive {} => HostNeed::Http,
            Check::AnsibleReached {} | Check::PlaybookSucceeded {} => HostNeed::AnsibleRuns,
            Check::PlaybookIdempotent {} => HostNeed::AnsibleSecondRun,
            _ => HostNeed::Nothing,
        }
    }

    /// Judges the check against one machine's facts.
    pub(crate) fn evaluate(&self, lab_user: &str, machine: &MachineFacts) -> Verdict {
        // Every check but the banner reads the probe's facts (the web ones
        // with the host's requests through port 80).
        let facts = match (self, &machine.probe) {
            (Check::SshBanner {}, _) => return system::ssh_banner(&machine.host),
            (Check::AnsibleReached {}, _) => return ansible::reached(machine),
            (Check::PlaybookSucceeded {}, _) => return ansible::succeeded(machine),
            (Check::PlaybookIdempotent {}, _) => return ansible::idempotent(machine),
            (_, Err(why)) => return Err(why.clone()),
            (_, Ok(facts)) => facts,
        };
        let user = |u: &Option<String>| u.clone().unwrap_or_else(|| lab_user.to_string());
        let d = || {
            (facts.deploy.get(lab_user))
                .ok_or_else(|| crate::i18n::tr!("vm-no-deploy-facts", user = lab_user))
        };
        let http = || {
            (machine.host.http.as_ref()).ok_or_else(|| crate::i18n::tr!("vm-no-http-facts"))
        };
        Ok(match self {
            Check::SshBanner {}
            | Check::AnsibleReached {}
            | Check::PlaybookSucceeded {}
            | Check::PlaybookIdempotent {} => unreachable!("judged from the host's facts above"),
            Check::TcpListening { port, program } => {
                return system::tcp_listening(facts, *port, program);
            }
            Check::UserExists { user: u } => return system::user_exists(facts, &user(u)),
            Check::SudoAllowed { user: u } => return system::sudo_allowed(facts, &user(u)),
            Check::SshKeyAuthorized { user: u } => {
                let (key, login) = (&machine.host.public_key, &machine.host.ssh_login);
                return system::ssh_key_authorized(facts, &user(u), key, login.as_ref());
            }
            Check::PackagesInstalled { packages } => {
                return system::packages_installed(facts, packages);
            }
            Check::VenvReady {} => app::venv_ready(d()?),
            Check::PipUpgraded {} => app::pip_upgraded(d()?),
            Check::AppDirReady {} => app::app_dir_ready(d()?, facts, lab_user),
            Check::CodeCheckedOut {} => app::code_checked_out(d()?),
            Check::AppInstalled {} => app::app_installed(d()?),
            Check::SettingsDebugOff {} => app::settings_debug_off(d()?),
            Check::SettingsAllowedHosts {} => app::settings_allowed_hosts(d()?),
            Check::SettingsSecretKey {} => app::settings_secret_key(d()?),
            Check::MigrationsApplied {} => app::migrations_applied(d()?),
            Check::SuperuserExists {} => app::superuser_exists(d()?),
            Check::StaticCollected {} => app::static_collected(d()?),
            Check::SocketUnitEnabled {} => service::socket_unit_enabled(d()?),
            Check::SocketListening {} => service::socket_listening(d()?),
            Check::ServiceUnprivileged {} => service::service_unprivileged(d()?),
            Check::SocketReachesDjango {} => service::socket_reaches_django(d()?),
            Check::UnitsEnabledAtBoot {} => service::units_enabled_at_boot(d()?),
            Check::AppUnderSystemd {} => service::app_under_systemd(d()?),
            Check::RebootedAfterDeploy {} => service::rebooted_after_deploy(d()?),
            Check::NginxConfigValid {} => web::nginx_config_valid(d()?),
            Check::NginxProxiesToSocket {} => web::nginx_proxies_to_socket(d()?),
            Check::DefaultSiteGone {} => web::default_site_gone(d()?, http()?),
            Check::BlogThroughNginx {} => web::blog_through_nginx(d()?, http()?),
            Check::StaticThroughNginx {} => web::static_through_nginx(http()?),
            Check::DebugOffLive {} => web::debug_off_live(http()?),
            Check::AppNotExposed {} => web::app_not_exposed(d()?, facts),
        })
    }
}

/// Why a socket's holder is unknown: some process's descriptors could not
/// be read (a VM made before deploylab gave the probe CAP_SYS_PTRACE).
/// Checks fail closed on it.
fn unknown_holder(socket: &str) -> String {
    crate::i18n::tr!("vm-unknown-holder", socket = socket)
}

/// Programs that serve the app (gunicorn for WSGI, uvicorn for ASGI).
const APP_SERVERS: &[&str] = &["gunicorn", "uvicorn"];

/// Whether a process's command line runs an app server.
fn is_app_server(cmdline: &[String]) -> bool {
    cmdline.iter().take(3).any(|a| {
        let name = a.rsplit('/').next().unwrap_or(a);
        APP_SERVERS
            .iter()
            .any(|s| name == *s || name.starts_with(&format!("{s}:")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_servers_are_recognised_by_their_command_line() {
        let args = |a: &[&str]| {
            a.iter()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert!(is_app_server(&args(&[
            "/home/student/.venv/bin/python3",
            "/home/student/.venv/bin/gunicorn",
            "blog.wsgi"
        ])));
        assert!(is_app_server(&args(&[
            "/opt/venv/bin/python",
            "/opt/venv/bin/uvicorn",
            "blog.asgi:application"
        ])));
        assert!(!is_app_server(&args(&[
            "python3",
            "-c",
            "import socket # gunicorn"
        ])));
    }
}
