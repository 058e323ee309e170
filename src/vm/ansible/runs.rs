//! The runs deploylab saw: one JSON file per `ansible-playbook` run,
//! written by the callback plugin (`deploylab_runs.py`) into the lab's
//! `ansible/runs/`, read here as typed records; and what one run says of
//! one of the lab's machines (`MachineView`, the checks' facts).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The record format this deploylab reads (the plugin's `FORMAT`).
const FORMAT: u32 = 1;

/// Who started a run.
pub(crate) const BY_STUDENT: &str = "student";
pub(crate) const BY_DEPLOYLAB: &str = "deploylab";

/// One run, as the plugin recorded it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Run {
    pub(crate) format: u32,
    pub(crate) started: f64,
    #[serde(default)]
    pub(crate) ended: Option<f64>,
    /// Whether the run reached its recap (else it stopped halfway).
    #[serde(default)]
    pub(crate) complete: bool,
    /// `student`, or `deploylab` for its own second run.
    pub(crate) by: String,
    /// For deploylab's second run: the run it repeated.
    #[serde(default)]
    pub(crate) rerun_of: Option<String>,
    /// The command line, the program first.
    pub(crate) argv: Vec<String>,
    pub(crate) cwd: String,
    /// Absolute paths.
    #[serde(default)]
    pub(crate) playbooks: Vec<String>,
    /// Absolute paths (or a host list as given).
    #[serde(default)]
    pub(crate) inventory: Vec<String>,
    /// `--check`: nothing was changed.
    #[serde(default)]
    pub(crate) check: bool,
    #[serde(default)]
    pub(crate) limit: Option<String>,
    /// Every host of the run's inventory, by inventory name.
    #[serde(default)]
    pub(crate) hosts: BTreeMap<String, InventoryHost>,
    #[serde(default)]
    pub(crate) plays: Vec<Play>,
    #[serde(default)]
    pub(crate) tasks: Vec<TaskResult>,
    /// The recap, by host.
    #[serde(default)]
    pub(crate) stats: BTreeMap<String, Recap>,
    /// The task that started last (where a run stopped halfway stopped).
    #[serde(default)]
    pub(crate) current: Option<Current>,
    /// The file's name without `.json` (not in the file).
    #[serde(skip)]
    pub(crate) id: String,
}

/// A play of the run: its name and the hosts it names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Play {
    pub(crate) name: String,
    /// `hosts:` as written (a pattern, or a list of them).
    #[serde(default)]
    pub(crate) hosts: serde_json::Value,
}

/// A task under way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Current {
    pub(crate) play: String,
    pub(crate) task: String,
}

/// How the inventory reaches a host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct InventoryHost {
    pub(crate) address: String,
    /// `ansible_port` as the inventory gives it (a number, or text).
    #[serde(default)]
    pub(crate) port: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) user: Option<String>,
    #[serde(default)]
    pub(crate) connection: Option<String>,
    #[serde(default)]
    pub(crate) groups: Vec<String>,
}

impl InventoryHost {
    pub(crate) fn port(&self) -> Option<u16> {
        match self.port.as_ref()? {
            serde_json::Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// One task's result on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaskResult {
    pub(crate) play: String,
    pub(crate) task: String,
    /// The module (`ansible.builtin.command`, `apt`, …).
    pub(crate) action: String,
    /// Where the task is written (`file:line`).
    #[serde(default)]
    pub(crate) path: String,
    pub(crate) host: String,
    pub(crate) status: Status,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) handler: bool,
    /// Whether the task says when it changes something (`changed_when:`).
    #[serde(default)]
    pub(crate) changed_when: bool,
    /// Whether it notifies handlers.
    #[serde(default)]
    pub(crate) notify: bool,
    /// The arguments that say why it changes something (`creates`,
    /// `state`, …), never a no_log task's.
    #[serde(default)]
    pub(crate) args: BTreeMap<String, serde_json::Value>,
    /// A loop's item, shortened.
    #[serde(default)]
    pub(crate) item: Option<String>,
    /// Whether it ran on the machine that runs Ansible (`delegate_to:
    /// localhost`, `connection: local`), not on a server.
    #[serde(default)]
    pub(crate) control: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Ok,
    Changed,
    Failed,
    /// Failed with `ignore_errors`.
    Ignored,
    Unreachable,
    Skipped,
}

/// A host's line of the recap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Recap {
    #[serde(default)]
    pub(crate) ok: u32,
    #[serde(default)]
    pub(crate) changed: u32,
    #[serde(default)]
    pub(crate) failures: u32,
    #[serde(default)]
    pub(crate) unreachable: u32,
    #[serde(default)]
    pub(crate) skipped: u32,
    #[serde(default)]
    pub(crate) rescued: u32,
    #[serde(default)]
    pub(crate) ignored: u32,
}

/// Every run recorded in `dir`, oldest first; a file that is not a run
/// record of this format is left out.
pub(crate) fn all(dir: &Path) -> Vec<Run> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut runs: Vec<Run> = entries
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let id = path.file_name()?.to_str()?.strip_suffix(".json")?.to_string();
            let bytes = std::fs::read(&path).ok()?;
            let mut run: Run = serde_json::from_slice(&bytes)
                .map_err(|e| tracing::warn!("ignoring {}: {e}", path.display()))
                .ok()?;
            run.id = id;
            (run.format == FORMAT).then_some(run)
        })
        .collect();
    runs.sort_by(|a, b| a.started.total_cmp(&b.started));
    runs
}

/// The student's last run that could change something (not `--check`).
pub(crate) fn last_by_student(runs: &[Run]) -> Option<&Run> {
    runs.iter()
        .rev()
        .find(|r| r.by == BY_STUDENT && !r.check)
}

/// deploylab's second run of `run`, if it made one.
pub(crate) fn second_of<'a>(runs: &'a [Run], run: &Run) -> Option<&'a Run> {
    runs.iter()
        .rev()
        .find(|r| r.by == BY_DEPLOYLAB && r.rerun_of.as_deref() == Some(run.id.as_str()))
}

/// A lab machine as an inventory may name it.
pub(crate) struct Reach<'a> {
    /// Its name in the lab (its hostname on the lab's network).
    pub(crate) name: &'a str,
    /// Where its SSH port is published on the student's machine.
    pub(crate) published: std::net::SocketAddr,
}

impl Reach<'_> {
    /// Whether `host` of an inventory is this machine: its published SSH
    /// port (127.0.0.1 or the published address), or its name on the
    /// lab's network at port 22 (the control container resolves it).
    fn is(&self, host: &InventoryHost) -> bool {
        if host.connection.as_deref().is_some_and(|c| c != "ssh" && !c.ends_with(".ssh")) {
            return false;
        }
        let address = host.address.as_str();
        let port = host.port();
        let local = ["127.0.0.1", "localhost", "::1"].contains(&address)
            || address == self.published.ip().to_string();
        if local && port == Some(self.published.port()) {
            return true;
        }
        address == self.name && port.is_none_or(|p| p == 22)
    }
}

/// What one run says of one machine of the lab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MachineView {
    /// The run's playbooks, as the student named them.
    pub(crate) playbooks: Vec<String>,
    /// Seconds since the Unix epoch.
    pub(crate) started: u64,
    pub(crate) complete: bool,
    /// The machine's name in the run's inventory (None: not in it).
    pub(crate) host: Option<String>,
    /// Every host of the run's inventory, as `name (address:port)`.
    pub(crate) inventory: Vec<String>,
    /// The hosts the run's plays name (`hosts:`).
    pub(crate) plays_on: Vec<String>,
    /// The machine's task results that matter to the checks: failed,
    /// unreachable and changed ones, in order.
    pub(crate) tasks: Vec<TaskResult>,
    /// How many tasks ran on it (any result).
    pub(crate) ran: u32,
    /// Its recap line, where the run reached it.
    pub(crate) recap: Option<Recap>,
    /// The task under way when the run stopped, if it stopped halfway.
    #[serde(default)]
    pub(crate) stopped_at: Option<Current>,
}

impl Run {
    /// What the run says of `machine`.
    pub(crate) fn view(&self, machine: &Reach<'_>) -> MachineView {
        let host = self
            .hosts
            .iter()
            .find(|(_, h)| machine.is(h))
            .map(|(name, _)| name.clone())
            // Else a host named as the machine (an inventory with a wrong
            // port still means it), or one the plugin could not describe.
            .or_else(|| {
                let named = self.hosts.contains_key(machine.name)
                    || self.tasks.iter().any(|t| t.host == machine.name);
                named.then(|| machine.name.to_string())
            });
        let mine: Vec<&TaskResult> = match &host {
            Some(h) => self.tasks.iter().filter(|t| &t.host == h).collect(),
            None => Vec::new(),
        };
        let playbooks = self
            .playbooks
            .iter()
            .map(|p| relative_to(p, &self.cwd))
            .collect();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let started = self.started as u64;
        MachineView {
            playbooks,
            started,
            complete: self.complete,
            inventory: self
                .hosts
                .iter()
                .map(|(name, h)| match h.port() {
                    Some(port) => format!("{name} ({}:{port})", h.address),
                    None => format!("{name} ({})", h.address),
                })
                .collect(),
            plays_on: self
                .plays
                .iter()
                .flat_map(|p| match &p.hosts {
                    serde_json::Value::String(s) => vec![s.clone()],
                    serde_json::Value::Array(all) => {
                        all.iter().filter_map(|h| h.as_str().map(String::from)).collect()
                    }
                    _ => Vec::new(),
                })
                .collect(),
            recap: host.as_ref().and_then(|h| self.stats.get(h).cloned()),
            stopped_at: (!self.complete).then(|| self.current.clone()).flatten(),
            ran: u32::try_from(mine.len()).unwrap_or(u32::MAX),
            tasks: mine
                .into_iter()
                .filter(|t| {
                    matches!(t.status, Status::Failed | Status::Unreachable | Status::Changed)
                })
                .cloned()
                .collect(),
            host,
        }
    }
}

impl MachineView {
    /// The first task that failed on the machine, or found it unreachable.
    pub(crate) fn first_failure(&self) -> Option<&TaskResult> {
        self.tasks
            .iter()
            .find(|t| matches!(t.status, Status::Failed | Status::Unreachable))
    }
}

/// `path` as the student would name it from `cwd`.
fn relative_to(path: &str, cwd: &str) -> String {
    Path::new(path)
        .strip_prefix(cwd)
        .map_or_else(|_| path.to_string(), |p| p.display().to_string())
}
