//! The Ansible side of a VM lab (`ansible:` in lab.yaml: the vm-ansible
//! lab). `start` writes, in the lab's folder, an inventory of the lab's
//! machines (their published SSH ports, the lab's user, deploylab's key,
//! their pinned host keys), an `ansible.cfg` and a callback plugin that
//! records every run as JSON (`runs.rs`). The student runs the course's
//! command with their own Ansible (`export ANSIBLE_CONFIG=…`) or with
//! `deploylab ansible-playbook` (the real one, in a control container on
//! the lab's network: `control.rs`). The checks read the runs; the
//! idempotence check has deploylab repeat the student's last run itself.

pub(crate) mod control;
pub(crate) mod runs;

use std::collections::BTreeMap;
use std::path::PathBuf;

use bollard::Docker;
use serde::{Deserialize, Serialize};

use super::{Running, machine, machine_name};
use crate::error::{Error, Result};
use crate::lab::{AnsibleSettings, Lab};
use crate::seam::Ctx;
use crate::state::Home;
use runs::{MachineView, Reach};

/// The callback plugin, written beside the inventory.
const PLUGIN: &str = include_str!("deploylab_runs.py");
const PLUGIN_FILE: &str = "deploylab_runs.py";

/// Messages and the files' comments, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn inventory_head(lab: &str) -> String {
        format!(
            "# deploylab's inventory of lab {lab}: its machines, reached at their SSH\n\
             # ports on this machine, as the lab's user, with deploylab's key and\n\
             # their host keys pinned. Use it as it is, or copy it beside your playbook.\n"
        )
    }

    pub(super) fn ready(inventory: &str, group: &str, hosts: &str) -> String {
        format!(
            "\n  {}\
             \n    eval \"$(deploylab ansible env)\"   {}\
             \n    ansible-playbook -i {inventory} playbook.yaml --ask-become-pass\
             \n  {}\
             \n    deploylab ansible-playbook -i {inventory} playbook.yaml --ask-become-pass",
            tr!("ansible-ready", inventory = inventory, group = group, hosts = hosts),
            tr!("ansible-ready-env"),
            tr!("ansible-ready-offline"),
        )
    }

    pub(super) const ENV_HEAD: &str = "# deploylab's Ansible settings for the running lab: eval \"$(deploylab ansible env)\"\n";

    pub(super) fn rebooting() -> String {
        tr!("ansible-env-rebooting")
    }
    pub(super) fn rerun_failed() -> String {
        tr!("ansible-env-rerun-failed")
    }
    pub(super) fn no_run() -> String {
        tr!("ansible-env-no-run")
    }
    pub(super) fn graded_run(args: &str, machines: &str, code: i32) -> String {
        tr!("ansible-env-graded-run", args = args, machines = machines, code = code)
    }
    pub(super) fn own_plugins(folders: &str) -> String {
        tr!("ansible-env-own-plugins", folders = folders)
    }
    pub(super) fn on_control(tasks: &str) -> String {
        tr!("ansible-env-on-control", tasks = tasks)
    }
    pub(super) fn run_output(tail: &str) -> String {
        format!("{}:\n{tail}", tr!("ansible-run-output"))
    }
}

/// The lab's Ansible files, in `<home>/<lab>/ansible/`.
pub(crate) struct Files {
    pub(crate) dir: PathBuf,
}

impl Files {
    pub(crate) fn of(home: &Home, lab: &str) -> Files {
        Files {
            dir: home.dir.join(lab).join("ansible"),
        }
    }

    pub(crate) fn inventory(&self) -> PathBuf {
        self.dir.join("inventory")
    }

    fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    fn plugins(&self) -> PathBuf {
        self.dir.join("plugins").join("callback")
    }

    pub(crate) fn runs(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// The lab user's password, for deploylab's own runs of a playbook
    /// the student ran with `--ask-become-pass`.
    pub(crate) fn become_password(&self) -> PathBuf {
        self.dir.join("become-password")
    }
}

/// What a check run reads of Ansible, per machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnsibleFacts {
    /// The student's last run that could change something (None: no run
    /// seen), as it concerns this machine.
    pub(crate) last: Option<MachineView>,
    /// deploylab's second run of it (None: not asked for, or the last run
    /// did not succeed), or why it could not be made.
    pub(crate) second: Option<Result<MachineView, String>>,
    /// The inventory deploylab wrote (for the messages).
    pub(crate) inventory: String,
}

/// The machines of a running lab as inventories may name them.
fn reaches<'a>(lab: &'a Lab, running: &'a Running) -> Vec<Reach<'a>> {
    running
        .machines
        .iter()
        .map(|m| Reach {
            name: machine_name(lab, m),
            published: m.ssh_address(),
        })
        .collect()
}

/// Writes the lab's inventory, its pinned host keys, ansible.cfg and the
/// plugin (at start, and again when a lab resumes).
pub(crate) async fn write(
    home: &Home,
    docker: &Docker,
    lab: &Lab,
    settings: &AnsibleSettings,
    running: &Running,
) -> Result<()> {
    let files = Files::of(home, &lab.id);
    let io = |path: &std::path::Path| Error::io(format!("writing {}", path.display()));
    for dir in [files.plugins(), files.runs()] {
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    }
    let mut hosts = String::new();
    let mut known = String::new();
    for m in &running.machines {
        let name = machine_name(lab, m);
        let address = m.ssh_address();
        hosts.push_str(&format!(
            "{name} ansible_host={} ansible_port={}\n",
            address.ip(),
            address.port()
        ));
        let key = machine::host_key(docker, m).await?;
        known.push_str(&format!("[{}]:{} {key}\n{name} {key}\n", address.ip(), address.port()));
    }
    let key = home.key_path();
    let known_hosts = files.known_hosts();
    let inventory = format!(
        "{}[{}]\n{hosts}\n[all:vars]\nansible_user={}\nansible_ssh_private_key_file={}\n\
         ansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n\
         ansible_python_interpreter=/usr/bin/python3\n",
        text::inventory_head(&lab.id),
        settings.group,
        lab.user,
        key.display(),
        known_hosts.display(),
    );
    let writes = [
        (files.inventory(), inventory),
        (known_hosts.clone(), known),
        (files.plugins().join(PLUGIN_FILE), PLUGIN.to_string()),
    ];
    for (path, contents) in writes {
        crate::state::write_atomically(&path, contents.as_bytes())?;
    }
    // The course's VMs take the user's own name as password.
    crate::state::write_private(&files.become_password(), lab.user.as_bytes())
        .map_err(io(&files.become_password()))?;
    Ok(())
}

/// The environment Ansible runs with for deploylab to see its runs: the
/// plugin enabled, deploylab's inventory as the default, the pinned host
/// keys. Variables rather than an ansible.cfg, so a project's own
/// ansible.cfg still counts.
pub(crate) fn env_vars(files: &Files) -> Vec<(&'static str, String)> {
    vec![
        ("ANSIBLE_CALLBACK_PLUGINS", files.plugins().display().to_string()),
        ("ANSIBLE_CALLBACKS_ENABLED", "deploylab_runs".into()),
        ("ANSIBLE_INVENTORY", files.inventory().display().to_string()),
        (
            "ANSIBLE_SSH_ARGS",
            format!(
                "-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={}",
                files.known_hosts().display()
            ),
        ),
    ]
}

/// `deploylab ansible env`: the variables as shell `export` lines.
pub(crate) fn env_script(files: &Files) -> String {
    let mut out = text::ENV_HEAD.to_string();
    for (name, value) in env_vars(files) {
        out.push_str(&format!("export {name}='{}'\n", value.replace('\'', r"'\''")));
    }
    out
}

/// What `start` prints about Ansible.
pub(crate) fn ready_text(home: &Home, lab: &Lab, settings: &AnsibleSettings) -> String {
    let files = Files::of(home, &lab.id);
    text::ready(
        &files.inventory().display().to_string(),
        &settings.group,
        &lab.machines().join(", "),
    )
}

/// The runs' facts for each machine, by name. With `second`, deploylab
/// first repeats the student's last run where it succeeded and was not
/// repeated yet (the idempotence check reads that second run).
pub(crate) async fn gather(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    running: &Running,
    second: bool,
) -> BTreeMap<String, AnsibleFacts> {
    let files = Files::of(ctx.home, &lab.id);
    let mut all = runs::all(&files.runs());
    let mut second_run: Option<std::result::Result<runs::Run, String>> = None;
    if second && let Some(last) = runs::last_by_student(&all).filter(|r| succeeded(r)).cloned() {
        second_run = Some(match runs::second_of(&all, &last) {
            Some(done) => Ok(done.clone()),
            None => {
                let made = control::repeat(ctx, docker, lab, running, &last).await;
                all = runs::all(&files.runs());
                match (made, runs::second_of(&all, &last)) {
                    (_, Some(done)) => Ok(done.clone()),
                    (Err(e), None) => Err(format!("{}: {e}", text::rerun_failed())),
                    (Ok(tail), None) => Err(format!("{}: {tail}", text::rerun_failed())),
                }
            }
        });
    }
    let last = runs::last_by_student(&all);
    let inventory = files.inventory().display().to_string();
    reaches(lab, running)
        .iter()
        .map(|reach| {
            let facts = AnsibleFacts {
                last: last.map(|r| r.view(reach)),
                second: second_run
                    .as_ref()
                    .map(|r| r.as_ref().map(|run| run.view(reach)).map_err(Clone::clone)),
                inventory: inventory.clone(),
            };
            (reach.name.to_string(), facts)
        })
        .collect()
}

/// Whether a run reached its end with no task failed on any host.
fn succeeded(run: &runs::Run) -> bool {
    run.complete
        && !run
            .tasks
            .iter()
            .any(|t| matches!(t.status, runs::Status::Failed | runs::Status::Unreachable))
}

/// bash on the student's machine, reading a solution step on stdin, in
/// the lab's project folder, with `$SOLUTION` (the solution's files),
/// `$INVENTORY` and `$DEPLOYLAB` (this program, for its ansible-playbook).
pub(crate) fn solution_runner(ctx: &Ctx<'_>, lab: &Lab) -> Result<std::process::Command> {
    let work = ctx.home.dir.join(&lab.id);
    let project = work.join("project");
    std::fs::create_dir_all(&project)
        .map_err(Error::io(format!("creating {}", project.display())))?;
    let mut cmd = crate::compose::solution_runner(ctx, lab, &work, &project)?;
    let me = std::env::current_exe().map_err(Error::io("finding deploylab's own program"))?;
    // The home this lab runs in (a selftest's or a grade's own).
    cmd.env("DEPLOYLAB", me)
        .env("DEPLOYLAB_HOME", &ctx.home.dir)
        .env("DEPLOYLAB_CACHE", &ctx.home.cache)
        .env("INVENTORY", Files::of(ctx.home, &lab.id).inventory());
    Ok(cmd)
}

/// A submission of a lab done with Ansible: the folder of the student's
/// last run (its playbook, roles, templates; `files.tar.gz`) and how the
/// playbook was run, without the inventory (a grade brings its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlaybookWork {
    /// ansible-playbook's arguments, relative to the folder.
    pub(crate) args: Vec<String>,
    /// How many files the folder has.
    pub(crate) files: usize,
}

/// The folder of the student's last run, and its arguments.
pub(crate) fn capture(home: &Home, lab: &Lab) -> Result<(PlaybookWork, Vec<u8>)> {
    let all = runs::all(&Files::of(home, &lab.id).runs());
    let last = runs::last_by_student(&all).ok_or_else(|| Error::Capture {
        why: text::no_run(),
    })?;
    let (folder, files) = crate::compose::submission::capture(std::path::Path::new(&last.cwd))?;
    let args = without_inventory(last.argv.iter().skip(1).cloned());
    Ok((PlaybookWork { args, files: folder.files }, files))
}

/// Runs a submitted playbook as its student did, against this graded lab's
/// fresh machines (the files unpacked into the lab's folder), then reboots
/// them; the second run is the idempotence check's own.
pub(crate) async fn restore(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    running: &Running,
    work: &PlaybookWork,
    files: &[u8],
) -> Result<Vec<String>> {
    let project = ctx.home.dir.join(&lab.id).join("project");
    crate::compose::submission::unpack(files, &project)?;
    let ours = Files::of(ctx.home, &lab.id);
    let mut argv = vec!["ansible-playbook".to_string()];
    argv.extend(work.args.iter().cloned());
    let asked = control::repeat_args(&argv, &ours.become_password())
        .map_err(|why| Error::SubmissionState { why })?;
    let mut args = vec!["-i".to_string(), ours.inventory().display().to_string()];
    args.extend(asked);
    let (code, tail) =
        control::student_run(ctx, docker, lab, running, args, project.clone(), control::Io::Captured)
            .await?;
    let machines = lab.machines().join(", ");
    let mut notes = vec![text::graded_run(&work.args.join(" "), &machines, code)];
    if code != 0 {
        notes.push(text::run_output(&tail));
    }
    notes.extend(control_side(&project, &ours));
    ctx.progress.set(&text::rebooting());
    <super::Vm as crate::seam::Environment>::restart(docker, lab, running, None).await?;
    Ok(notes)
}

/// What of a graded playbook runs on the machine that runs Ansible, where
/// the run records are written: its own plugins, and tasks run there. The
/// records are then the playbook's word (the converge and reboot stages
/// are judged on the VMs either way): said to the instructor.
fn control_side(project: &std::path::Path, ours: &Files) -> Vec<String> {
    let mut notes = Vec::new();
    let plugins: Vec<&str> = PLUGIN_FOLDERS
        .iter()
        .copied()
        .filter(|dir| project.join(dir).is_dir() || has_role_plugins(project, dir))
        .collect();
    if !plugins.is_empty() {
        notes.push(text::own_plugins(&plugins.join(", ")));
    }
    let all = runs::all(&ours.runs());
    let mut local: Vec<&str> = Vec::new();
    for task in all.iter().flat_map(|r| &r.tasks).filter(|t| t.control) {
        if !local.contains(&task.task.as_str()) {
            local.push(&task.task);
        }
    }
    if !local.is_empty() {
        notes.push(text::on_control(&local.join("', '")));
    }
    notes
}

/// Folders of Python code Ansible loads into itself from a project.
const PLUGIN_FOLDERS: &[&str] = &[
    "library",
    "module_utils",
    "action_plugins",
    "callback_plugins",
    "connection_plugins",
    "filter_plugins",
    "lookup_plugins",
    "strategy_plugins",
    "test_plugins",
    "vars_plugins",
    "inventory_plugins",
];

/// Whether a role of the project brings the plugin folder `dir`.
fn has_role_plugins(project: &std::path::Path, dir: &str) -> bool {
    std::fs::read_dir(project.join("roles"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|role| role.path().join(dir).is_dir())
}

/// A run's arguments without its inventory (`-i x`, `--inventory=x`, …).
fn without_inventory(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for arg in args {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        match arg.as_str() {
            "-i" | "--inventory" | "--inventory-file" => skip_next = true,
            a if a.starts_with("--inventory=") || a.starts_with("--inventory-file=") => {}
            a if a.starts_with("-i") && !a.starts_with("--") => {}
            _ => out.push(arg),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_grade_says_what_of_a_playbook_ran_where_its_records_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        let ours = super::Files {
            dir: dir.path().join("ansible"),
        };
        std::fs::create_dir_all(project.join("roles/web/filter_plugins")).unwrap();
        std::fs::create_dir_all(project.join("library")).unwrap();
        std::fs::create_dir_all(ours.runs()).unwrap();
        assert_eq!(super::control_side(&project, &ours).len(), 1);
        let run = serde_json::json!({
            "format": 1, "started": 1.0, "by": "student", "argv": ["ansible-playbook"], "cwd": "/p",
            "tasks": [{"play": "p", "task": "write a record", "action": "copy", "host": "web1",
                       "status": "changed", "control": true}]
        });
        std::fs::write(ours.runs().join("1.json"), run.to_string()).unwrap();
        let notes = super::control_side(&project, &ours);
        assert!(notes[0].contains("(library, filter_plugins)"), "{notes:?}");
        assert!(notes[1].contains("('write a record')"), "{notes:?}");
    }

    #[test]
    fn a_submitted_run_leaves_its_inventory_behind() {
        let args = ["-i", "inventory", "site.yml", "--inventory=x", "-iy", "-K", "-e", "a=1"];
        let kept = super::without_inventory(args.iter().map(ToString::to_string));
        assert_eq!(kept, ["site.yml", "-K", "-e", "a=1"]);
    }
}
