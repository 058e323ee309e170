//! The runs of a playbook (labs with `ansible:` in lab.yaml): the
//! student's last run reached the machine and succeeded on it, and a
//! second run of it, made by deploylab, changed nothing there. Each
//! message names the play, the task and the host, never a wall of
//! Ansible's output.

use crate::verdict::{Outcome, Verdict};
use crate::vm::ansible::AnsibleFacts;
use crate::vm::ansible::runs::{MachineView, Status, TaskResult};
use crate::vm::facts::MachineFacts;

/// Messages, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn not_gathered() -> String {
        tr!("ansible-not-gathered")
    }
    pub(super) fn no_run(inventory: &str) -> String {
        tr!("ansible-no-run", inventory = inventory)
    }
    pub(super) fn reached_expected() -> String {
        tr!("ansible-reached-expected")
    }
    pub(super) fn not_in_inventory(machine: &str, playbooks: &str, hosts: &str) -> String {
        tr!("ansible-not-in-inventory", machine = machine, playbooks = playbooks, hosts = hosts)
    }
    pub(super) fn not_played(machine: &str, host: &str, plays_on: &str) -> String {
        tr!("ansible-not-played", machine = machine, host = host, plays_on = plays_on)
    }
    pub(super) fn unreachable(machine: &str, task: &str, message: &str) -> String {
        tr!("ansible-unreachable", machine = machine, task = task, message = message)
    }
    pub(super) fn reached(machine: &str, host: &str, playbooks: &str, ran: u32) -> String {
        tr!("ansible-reached", machine = machine, host = host, playbooks = playbooks, ran = ran)
    }
    pub(super) fn succeeded_expected() -> String {
        tr!("ansible-succeeded-expected")
    }
    pub(super) fn failed(machine: &str, task: &str, message: &str) -> String {
        tr!("ansible-failed", machine = machine, task = task, message = message)
    }
    pub(super) fn stopped(machine: &str, during: &str) -> String {
        tr!("ansible-stopped", machine = machine, during = during)
    }
    pub(super) fn nothing_ran() -> String {
        tr!("ansible-nothing-ran")
    }
    pub(super) fn did_you_mean(name: &str, meant: &str) -> String {
        tr!("ansible-did-you-mean", name = name, meant = meant)
    }
    /// Ansible's own recap line: its words are Ansible's, in every language.
    pub(super) fn recap(machine: &str, ok: u32, changed: u32) -> String {
        format!("{machine}: ok={ok} changed={changed} failed=0 unreachable=0")
    }
    pub(super) fn idempotent_expected() -> String {
        tr!("ansible-idempotent-expected")
    }
    pub(super) fn not_repeated() -> String {
        tr!("ansible-not-repeated")
    }
    pub(super) fn changed(machine: &str, count: usize, tasks: &str) -> String {
        tr!("ansible-changed", machine = machine, count = count, tasks = tasks)
    }
    pub(super) fn unchanged(machine: &str, ok: u32) -> String {
        tr!("ansible-unchanged", machine = machine, ok = ok)
    }
    pub(super) fn ran_nothing(machine: &str) -> String {
        tr!("ansible-ran-nothing", machine = machine)
    }
    pub(super) fn second_ran_nothing(machine: &str) -> String {
        tr!("ansible-second-ran-nothing", machine = machine)
    }
    pub(super) fn second_failed(machine: &str, task: &str, message: &str) -> String {
        tr!("ansible-second-failed", machine = machine, task = task, message = message)
    }
    /// A task as a student finds it: the play, the task, where it is.
    pub(super) fn task(play: &str, task: &str, item: Option<&str>) -> String {
        let item = item
            .map(|i| tr!("ansible-item", item = i))
            .unwrap_or_default();
        match play.is_empty() {
            true => tr!("ansible-task", task = task, item = item),
            false => tr!("ansible-play-task", play = play, task = task, item = item),
        }
    }

    // Why a task changes something on every run, in words.
    pub(super) fn why_command() -> String {
        tr!("ansible-why-command")
    }
    pub(super) fn why_restart() -> String {
        tr!("ansible-why-restart")
    }
    pub(super) fn why_file() -> String {
        tr!("ansible-why-file")
    }
    pub(super) fn why_latest() -> String {
        tr!("ansible-why-latest")
    }
    pub(super) fn why_cache() -> String {
        tr!("ansible-why-cache")
    }
    pub(super) fn why_handler() -> String {
        tr!("ansible-why-handler")
    }
    pub(super) fn why_other() -> String {
        tr!("ansible-why-other")
    }
}

fn facts(machine: &MachineFacts) -> Result<&AnsibleFacts, String> {
    machine.ansible.as_ref().ok_or_else(|| text::not_gathered().to_string())
}

fn task_name(t: &TaskResult) -> String {
    text::task(&t.play, &t.task, t.item.as_deref())
}

/// The student's last run, or the failure that there is none.
fn last<'a>(facts: &'a AnsibleFacts, expected: &str) -> Result<&'a MachineView, Outcome> {
    facts
        .last
        .as_ref()
        .ok_or_else(|| Outcome::fail(expected, text::no_run(&facts.inventory)))
}

pub(super) fn reached(machine: &MachineFacts) -> Verdict {
    let facts = facts(machine)?;
    let name = machine.name.as_str();
    let expected = text::reached_expected();
    let run = match last(facts, &expected) {
        Ok(run) => run,
        Err(outcome) => return Ok(outcome),
    };
    let playbooks = run.playbooks.join(", ");
    let Some(host) = &run.host else {
        let hosts = run.inventory.join(", ");
        return Ok(Outcome::fail(expected, text::not_in_inventory(name, &playbooks, &hosts)));
    };
    if let Some(t) = run.tasks.iter().find(|t| t.status == Status::Unreachable) {
        return Ok(Outcome::fail(
            expected,
            text::unreachable(name, &task_name(t), &plainly(&t.message)),
        ));
    }
    if run.ran == 0 && !run.complete {
        return Ok(Outcome::fail(expected, stopped(run, name)));
    }
    if run.ran == 0 {
        let plays_on = run.plays_on.join(", ");
        return Ok(Outcome::fail(expected, text::not_played(name, host, &plays_on)));
    }
    Ok(Outcome::pass(expected, text::reached(name, host, &playbooks, run.ran)))
}

pub(super) fn succeeded(machine: &MachineFacts) -> Verdict {
    let facts = facts(machine)?;
    let name = machine.name.as_str();
    let expected = text::succeeded_expected();
    let run = match last(facts, &expected) {
        Ok(run) => run,
        Err(outcome) => return Ok(outcome),
    };
    if let Some(t) = run.first_failure() {
        let message = text::failed(name, &task_name(t), &plainly(&t.message));
        return Ok(Outcome::fail(expected, message));
    }
    if !run.complete {
        return Ok(Outcome::fail(expected, stopped(run, name)));
    }
    if run.ran == 0 {
        return Ok(Outcome::fail(expected, text::ran_nothing(name)));
    }
    let recap = run.recap.clone().unwrap_or_default();
    Ok(Outcome::pass(expected, text::recap(name, recap.ok, recap.changed)))
}

pub(super) fn idempotent(machine: &MachineFacts) -> Verdict {
    let facts = facts(machine)?;
    let name = machine.name.as_str();
    let expected = text::idempotent_expected();
    if let Err(outcome) = last(facts, &expected) {
        return Ok(outcome);
    }
    let second = match &facts.second {
        None => return Ok(Outcome::fail(expected, text::not_repeated())),
        // The second run could not be made: nothing to judge.
        Some(Err(why)) => return Err(why.clone()),
        Some(Ok(second)) => second,
    };
    if let Some(t) = second.first_failure() {
        let message = text::second_failed(name, &task_name(t), &plainly(&t.message));
        return Ok(Outcome::fail(expected, message));
    }
    if second.ran == 0 {
        return Ok(Outcome::fail(expected, text::second_ran_nothing(name)));
    }
    let changed: Vec<&TaskResult> = second
        .tasks
        .iter()
        .filter(|t| t.status == Status::Changed)
        .collect();
    if changed.is_empty() {
        let ok = second.recap.as_ref().map_or(0, |r| r.ok);
        return Ok(Outcome::pass(expected, text::unchanged(name, ok)));
    }
    let lines: Vec<String> = changed
        .iter()
        .map(|t| format!("  - {} ({}): {}", task_name(t), t.path_short(), why_changed(t)))
        .collect();
    Ok(Outcome::fail(expected, text::changed(name, changed.len(), &lines.join("\n"))))
}

/// A run that stopped halfway, and where.
fn stopped(run: &MachineView, machine: &str) -> String {
    let during = run.stopped_at.as_ref().map_or_else(
        || text::nothing_ran().to_string(),
        |t| text::task(&t.play, &t.task, None),
    );
    text::stopped(machine, &during)
}

/// Why a task that changed something on a second run does so every time.
fn why_changed(t: &TaskResult) -> String {
    let module = t.action.rsplit('.').next().unwrap_or(&t.action);
    let arg = |name: &str| t.args.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    let has = |name: &str| t.args.contains_key(name);
    if t.handler {
        return text::why_handler();
    }
    match module {
        "command" | "shell" | "raw" | "script" if !t.changed_when && !has("creates") && !has("removes") => {
            text::why_command()
        }
        "service" | "systemd" | "systemd_service" | "sysvinit" if arg("state") == "restarted" || arg("state") == "reloaded" => {
            text::why_restart()
        }
        "template" | "copy" | "lineinfile" | "blockinfile" | "ini_file" => text::why_file(),
        "apt" | "pip" | "package" | "dnf" | "yum" if arg("state") == "latest" => text::why_latest(),
        "apt" if has("update_cache") && !has("cache_valid_time") => text::why_cache(),
        _ => text::why_other(),
    }
}

impl TaskResult {
    /// Where the task is written, as `file:line` without the folder.
    fn path_short(&self) -> String {
        self.path.rsplit('/').next().unwrap_or(&self.path).to_string()
    }
}

/// An Ansible message as a student should read it: a module's unknown
/// arguments with the one meant (not the list of every argument it
/// takes), else its first lines.
fn plainly(message: &str) -> String {
    let parts = message
        .split_once(". Supported parameters include: ")
        .and_then(|(head, supported)| Some((head.split_once(" module: ")?, supported)));
    let Some(((prefix, unknown), supported)) = parts else {
        return first_lines(message).to_string();
    };
    let known: Vec<&str> = supported
        .split([',', '(', ')', ' '])
        .map(|n| n.trim_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '-'))
        .filter(|n| !n.is_empty())
        .collect();
    let named: Vec<String> = unknown
        .split(", ")
        .map(|name| {
            let nearest = known
                .iter()
                .map(|k| (strsim::damerau_levenshtein(name, k), *k))
                .filter(|(distance, _)| *distance <= 3)
                .min();
            match nearest {
                Some((_, meant)) => text::did_you_mean(name, meant),
                None => name.to_string(),
            }
        })
        .collect();
    format!("{prefix} module: {}", named.join(", "))
}

/// The first lines of an Ansible message (a module's error may run long).
fn first_lines(message: &str) -> &str {
    let three_lines = message
        .match_indices('\n')
        .nth(2)
        .map_or(message.len(), |(i, _)| i);
    let mut end = three_lines.min(600);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].trim()
}
