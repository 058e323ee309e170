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
    pub(super) const NOT_GATHERED: &str = "the runs of Ansible were not read";
    pub(super) fn no_run(inventory: &str) -> String {
        format!(
            "no ansible-playbook run seen yet (runs are seen through `deploylab ansible-playbook`, \
             or your own after `eval \"$(deploylab ansible env)\"`; deploylab's inventory: {inventory})"
        )
    }
    pub(super) const REACHED_EXPECTED: &str = "the last run reached the server";
    pub(super) fn not_in_inventory(machine: &str, playbooks: &str, hosts: &str) -> String {
        format!(
            "{machine} is not in the inventory your last run ({playbooks}) used; its hosts: {hosts}"
        )
    }
    pub(super) fn not_played(machine: &str, host: &str, plays_on: &str) -> String {
        format!(
            "no play of your last run ran on {machine} (`{host}` in the inventory); the plays' hosts: {plays_on}"
        )
    }
    pub(super) fn unreachable(machine: &str, task: &str, message: &str) -> String {
        format!("Ansible could not reach {machine} ({task}): {message}")
    }
    pub(super) fn reached(machine: &str, host: &str, playbooks: &str, ran: u32) -> String {
        format!("{playbooks} ran {ran} task(s) on {machine} (`{host}` in the inventory)")
    }
    pub(super) const SUCCEEDED_EXPECTED: &str = "every task of the last run succeeded on the server";
    pub(super) fn failed(machine: &str, task: &str, message: &str) -> String {
        format!("{task} failed on {machine}: {message}")
    }
    pub(super) fn stopped(machine: &str, during: &str) -> String {
        format!("your last run stopped before its end (interrupted?) on {machine}, during {during}")
    }
    pub(super) const NOTHING_RAN: &str = "its start";
    pub(super) fn did_you_mean(name: &str, meant: &str) -> String {
        format!("{name} (did you mean {meant}?)")
    }
    pub(super) fn recap(machine: &str, ok: u32, changed: u32) -> String {
        format!("{machine}: ok={ok} changed={changed} failed=0 unreachable=0")
    }
    pub(super) const IDEMPOTENT_EXPECTED: &str =
        "a second run of the last playbook changes nothing on the server";
    pub(super) const NOT_REPEATED: &str =
        "your last run did not succeed: a second run is made of a run that succeeded";
    pub(super) fn changed(machine: &str, count: usize, tasks: &str) -> String {
        format!("a second run changed {count} task(s) on {machine}:\n{tasks}")
    }
    pub(super) fn unchanged(machine: &str, ok: u32) -> String {
        format!("a second run changed nothing on {machine} (ok={ok} changed=0)")
    }
    pub(super) fn ran_nothing(machine: &str) -> String {
        format!("no task of your last run ran on {machine}")
    }
    pub(super) fn second_ran_nothing(machine: &str) -> String {
        format!("the second run ran no task on {machine}")
    }
    pub(super) fn second_failed(machine: &str, task: &str, message: &str) -> String {
        format!("the second run failed on {machine} at {task}: {message}")
    }
    /// A task as a student finds it: the play, the task, where it is.
    pub(super) fn task(play: &str, task: &str, item: Option<&str>) -> String {
        let item = item.map(|i| format!(" (item {i})")).unwrap_or_default();
        match play.is_empty() {
            true => format!("task '{task}'{item}"),
            false => format!("play '{play}' › task '{task}'{item}"),
        }
    }

    // Why a task changes something on every run, in words.
    pub(super) const WHY_COMMAND: &str = "command and shell tasks report a change every time they run: \
         give it `creates:`/`removes:`, or `changed_when:` from its output";
    pub(super) const WHY_RESTART: &str = "it restarts the service on every run: \
         restart from a handler that the tasks changing its files notify";
    pub(super) const WHY_FILE: &str = "the file it writes differs on every run \
         (a timestamp, a random value or `ansible_date_time` in the template?)";
    pub(super) const WHY_LATEST: &str = "`state: latest` upgrades whenever a newer version is out: \
         pin the version, or use `state: present`";
    pub(super) const WHY_CACHE: &str = "refreshing the package lists counts as a change: \
         add `cache_valid_time:`";
    pub(super) const WHY_HANDLER: &str =
        "a handler ran: a task it is notified by changed something";
    pub(super) const WHY_OTHER: &str =
        "this task changes something on every run: it does not check the state first";
}

fn facts(machine: &MachineFacts) -> Result<&AnsibleFacts, String> {
    machine.ansible.as_ref().ok_or_else(|| text::NOT_GATHERED.to_string())
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
    let expected = text::REACHED_EXPECTED;
    let run = match last(facts, expected) {
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
    let expected = text::SUCCEEDED_EXPECTED;
    let run = match last(facts, expected) {
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
    let expected = text::IDEMPOTENT_EXPECTED;
    if let Err(outcome) = last(facts, expected) {
        return Ok(outcome);
    }
    let second = match &facts.second {
        None => return Ok(Outcome::fail(expected, text::NOT_REPEATED)),
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
        || text::NOTHING_RAN.to_string(),
        |t| text::task(&t.play, &t.task, None),
    );
    text::stopped(machine, &during)
}

/// Why a task that changed something on a second run does so every time.
fn why_changed(t: &TaskResult) -> &'static str {
    let module = t.action.rsplit('.').next().unwrap_or(&t.action);
    let arg = |name: &str| t.args.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    let has = |name: &str| t.args.contains_key(name);
    if t.handler {
        return text::WHY_HANDLER;
    }
    match module {
        "command" | "shell" | "raw" | "script" if !t.changed_when && !has("creates") && !has("removes") => {
            text::WHY_COMMAND
        }
        "service" | "systemd" | "systemd_service" | "sysvinit" if arg("state") == "restarted" || arg("state") == "reloaded" => {
            text::WHY_RESTART
        }
        "template" | "copy" | "lineinfile" | "blockinfile" | "ini_file" => text::WHY_FILE,
        "apt" | "pip" | "package" | "dnf" | "yum" if arg("state") == "latest" => text::WHY_LATEST,
        "apt" if has("update_cache") && !has("cache_valid_time") => text::WHY_CACHE,
        _ => text::WHY_OTHER,
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
