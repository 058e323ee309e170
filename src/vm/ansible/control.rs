//! The control container: the real `ansible-playbook` of Debian's
//! ansible-core, installed from the offline repository into an image
//! derived from the VM image, run on the lab's network for students
//! without Ansible (`deploylab ansible-playbook`), for deploylab's own
//! second run of a student's playbook, and for grading. One container per
//! run, removed after it; the student's folder is mounted at its own path,
//! so the paths of the command line, the inventory and the run records are
//! the same inside and out. Each machine's SSH answers inside at
//! 127.0.0.1:<its published port> (a forwarder to `<machine>:22`), so the
//! inventory deploylab wrote works unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;

use super::Files;
use super::runs::{BY_DEPLOYLAB, BY_STUDENT, Run};
use crate::docker::{self, LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE};
use crate::error::{Error, Result};
use crate::images::VmImage;
use crate::lab::Lab;
use crate::seam::Ctx;
use crate::vm::{Running, machine_name};

pub(crate) const REPO: &str = "deploylab/ansible";
/// The `deploylab.image` label of the control image.
pub(crate) const KIND: &str = "ansible-control";
const ROLE: &str = "ansible";
const ENTRY: &str = "/usr/local/bin/deploylab-ansible";
const FORWARD: &str = include_str!("forward.py");
/// Ansible's short flags that take no value (they may come combined: `-bK`).
const BARE_FLAGS: &str = "bKkvCDJ";

/// Messages, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn vault() -> String {
        tr!("notes-control-vault")
    }
    pub(super) fn folder_gone(dir: &str) -> String {
        tr!("notes-control-folder-gone", dir = dir)
    }
    pub(super) fn repeating() -> String {
        tr!("notes-control-repeating")
    }
    pub(super) fn running() -> String {
        tr!("notes-control-running")
    }
}

/// The setup script of the control image: ansible-core from the offline
/// repository, the forwarder, and the entry point.
fn setup() -> String {
    format!(
        r#"set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends ansible-core openssh-client >/dev/null
rm -rf /var/lib/apt/lists/*
mkdir -p /usr/local/lib/deploylab
cat > /usr/local/lib/deploylab/forward.py <<'PY'
{FORWARD}PY
cat > {ENTRY} <<'SH'
#!/bin/sh
# deploylab's control container: each machine's SSH at its published port,
# then the command as the student's own uid (files it writes are theirs).
set -e
python3 /usr/local/lib/deploylab/forward.py $DEPLOYLAB_FORWARD
uid="${{DEPLOYLAB_UID:-0}}" gid="${{DEPLOYLAB_GID:-0}}"
mkdir -p /tmp/home
if [ "$uid" = 0 ]; then exec env HOME=/tmp/home "$@"; fi
getent group "$gid" >/dev/null || groupadd -o -g "$gid" deploylab
getent passwd "$uid" >/dev/null || useradd -o -u "$uid" -g "$gid" -M -d /tmp/home -s /bin/sh deploylab
chown "$uid:$gid" /tmp/home
exec setpriv --reuid="$uid" --regid="$gid" --init-groups env HOME=/tmp/home "$@"
SH
chmod 755 {ENTRY}
ansible-playbook --version >/dev/null
"#
    )
}

/// The control image's tag for the VM image `vm` (its setup's hash in it).
pub(crate) fn tag(vm: &VmImage) -> String {
    crate::standin::tag_for(REPO, &vm.tag, &setup())
}

/// Makes the control image unless it is there; returns its tag.
pub(crate) async fn ensure(
    docker: &Docker,
    vm: &VmImage,
    progress: &crate::progress::Progress,
) -> Result<String> {
    let setup = setup();
    let tag = tag(vm);
    let recipe = crate::standin::Derived {
        tag: &tag,
        kind: KIND,
        setup: &setup,
        config: ContainerConfig {
            cmd: Some(vec!["sleep".into(), "infinity".into()]),
            env: Some(vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                // Ansible refuses to run without a UTF-8 locale.
                "LANG=C.UTF-8".into(),
                "LC_ALL=C.UTF-8".into(),
            ]),
            ..Default::default()
        },
        binds: Vec::new(),
    };
    crate::standin::derive(docker, &vm.base(), &recipe, progress).await?;
    Ok(tag)
}

/// One `ansible-playbook` run in a control container.
pub(crate) struct Invocation<'a> {
    /// Its arguments (not the program).
    pub(crate) args: Vec<String>,
    /// Where it runs (mounted at its own path).
    pub(crate) cwd: PathBuf,
    /// Whether the run may write there (the student's own runs may; a
    /// repeat or a grade reads only).
    pub(crate) cwd_writable: bool,
    /// `student`, or `deploylab` for its second run of `rerun_of`.
    pub(crate) by: &'static str,
    pub(crate) rerun_of: Option<&'a str>,
}

/// How a run's output goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Io {
    /// To this terminal (the student's runs).
    Attached,
    /// Kept, for a note when it fails.
    Captured,
}

/// Runs `ansible-playbook` in a control container on the lab's network;
/// returns its exit code and, captured, the last lines of its output.
pub(crate) async fn run(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    running: &Running,
    invocation: Invocation<'_>,
    io: Io,
) -> Result<(i32, String)> {
    // Ctrl-C, SIGTERM or SIGHUP end the run and remove its container.
    crate::interrupt::watch();
    let vm = VmImage::of_tag(&running.image, &ctx.home.cache);
    let image = ensure(docker, &vm, ctx.progress).await?;
    let files = Files::of(ctx.home, &lab.id);
    let instance = ctx.home.instance();
    let network = docker::network_name(&instance, &lab.id);
    let key = ctx.home.key_path();
    let mut binds = vec![
        format!("{0}:{0}", files.dir.display()),
        format!("{0}:{0}:ro", key.display()),
        format!(
            "{0}:{0}:{1}",
            invocation.cwd.display(),
            if invocation.cwd_writable { "rw" } else { "ro" }
        ),
    ];
    for dir in outside_paths(&invocation.args, &invocation.cwd, &files.dir) {
        binds.push(format!("{0}:{0}:ro", dir.display()));
    }
    let forward: Vec<String> = running
        .machines
        .iter()
        .map(|m| format!("{}={}:22", m.ssh_port, machine_name(lab, m)))
        .collect();
    let (uid, gid) = owner(&ctx.home.dir);
    let mut env: Vec<String> = super::env_vars(&files)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.extend([
        format!("DEPLOYLAB_FORWARD={}", forward.join(" ")),
        format!("DEPLOYLAB_UID={uid}"),
        format!("DEPLOYLAB_GID={gid}"),
        format!("DEPLOYLAB_ANSIBLE_BY={}", invocation.by),
        "ANSIBLE_RETRY_FILES_ENABLED=false".into(),
    ]);
    if let Some(id) = invocation.rerun_of {
        env.push(format!("DEPLOYLAB_ANSIBLE_RERUN_OF={id}"));
    }
    let config = ContainerCreateBody {
        image: Some(image),
        env: Some(env),
        working_dir: Some(invocation.cwd.display().to_string()),
        labels: Some(HashMap::from([
            (LABEL_LAB.to_string(), lab.id.clone()),
            (LABEL_INSTANCE.to_string(), instance.clone()),
            (LABEL_ROLE.to_string(), ROLE.to_string()),
        ])),
        host_config: Some(HostConfig {
            binds: Some(binds),
            network_mode: Some(network),
            init: Some(true),
            ..crate::limits::ANSIBLE_CONTROL.host_config()
        }),
        ..Default::default()
    };
    let name = format!(
        "deploylab-{}-ansible-{}-{}",
        lab.id,
        docker::short(&instance),
        std::process::id()
    );
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(Error::docker("creating the Ansible control container"))?;
    let outcome = async {
        docker
            .start_container(&created.id, None)
            .await
            .map_err(Error::docker("starting the Ansible control container"))?;
        let mut cmd = vec![ENTRY.to_string(), "ansible-playbook".to_string()];
        cmd.extend(invocation.args.iter().cloned());
        match io {
            Io::Attached => {
                let attached = crate::shell::Attached {
                    cmd,
                    env: Vec::new(),
                    what: "running ansible-playbook",
                };
                Ok((crate::shell::attached(docker, &created.id, attached).await?, String::new()))
            }
            Io::Captured => {
                let out = docker::exec(docker, &created.id, cmd, None).await?;
                let all = format!("{}{}", out.stdout, out.stderr);
                let lines: Vec<&str> = all.lines().collect();
                let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                Ok((i32::try_from(out.exit_code).unwrap_or(-1), tail))
            }
        }
    };
    let result = tokio::select! {
        result = outcome => result,
        () = crate::interrupt::requested() => Err(Error::Interrupted),
    };
    let _ = docker::remove_container(docker, &created.id).await;
    result
}

/// deploylab's second run of the student's run `last`: the same command
/// in the same folder (read-only), the password prompts answered from
/// the lab user's password. Returns the output's last lines.
pub(crate) async fn repeat(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    running: &Running,
    last: &Run,
) -> std::result::Result<String, String> {
    let files = Files::of(ctx.home, &lab.id);
    let args = repeat_args(&last.argv, &files.become_password())?;
    let cwd = PathBuf::from(&last.cwd);
    if !cwd.is_dir() {
        return Err(text::folder_gone(&last.cwd));
    }
    ctx.progress.set(&text::repeating());
    let invocation = Invocation {
        args,
        cwd,
        cwd_writable: false,
        by: BY_DEPLOYLAB,
        rerun_of: Some(&last.id),
    };
    run(ctx, docker, lab, running, invocation, Io::Captured)
        .await
        .map(|(_, tail)| tail)
        .map_err(|e| e.to_string())
}

/// The student's own run through deploylab (`deploylab ansible-playbook`),
/// in the current folder; returns ansible-playbook's exit code.
pub(crate) async fn student_run(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    running: &Running,
    args: Vec<String>,
    cwd: PathBuf,
    io: Io,
) -> Result<(i32, String)> {
    if io == Io::Captured {
        ctx.progress.set(&text::running());
    }
    let invocation = Invocation {
        args,
        cwd,
        cwd_writable: true,
        by: BY_STUDENT,
        rerun_of: None,
    };
    run(ctx, docker, lab, running, invocation, io).await
}

/// A run's arguments for deploylab to repeat it: without the program, and
/// with every password prompt answered from `password_file`.
pub(crate) fn repeat_args(
    argv: &[String],
    password_file: &Path,
) -> std::result::Result<Vec<String>, String> {
    let file = password_file.display().to_string();
    let mut out = Vec::new();
    for arg in argv.iter().skip(1) {
        let (become_pass, ssh_pass, vault) = match arg.as_str() {
            "-K" | "--ask-become-pass" => (true, false, false),
            "-k" | "--ask-pass" => (false, true, false),
            "-J" | "--ask-vault-pass" | "--ask-vault-password" => (false, false, true),
            "--step" => continue,
            flags
                if flags.len() > 2
                    && flags.starts_with('-')
                    && !flags.starts_with("--")
                    && flags[1..].chars().all(|c| BARE_FLAGS.contains(c)) =>
            {
                let kept: String = flags[1..].chars().filter(|c| !"Kk".contains(*c)).collect();
                if !kept.is_empty() {
                    out.push(format!("-{kept}"));
                }
                (flags.contains('K'), flags.contains('k'), flags.contains('J'))
            }
            _ => {
                out.push(arg.clone());
                continue;
            }
        };
        if vault {
            return Err(text::vault());
        }
        if become_pass {
            out.extend(["--become-password-file".into(), file.clone()]);
        }
        if ssh_pass {
            out.extend(["--connection-password-file".into(), file.clone()]);
        }
    }
    Ok(out)
}

/// The folders a run reads outside `cwd` and deploylab's own folder (an
/// inventory or playbook named by an absolute path, or with `../`):
/// mounted read-only at their own paths.
fn outside_paths(args: &[String], cwd: &Path, ours: &Path) -> Vec<PathBuf> {
    let cwd_canonical = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let mut dirs: Vec<PathBuf> = Vec::new();
    for arg in args {
        let value = arg.split_once('=').map_or(arg.as_str(), |(_, v)| v);
        let value = value.strip_prefix('@').unwrap_or(value);
        if value.is_empty() {
            continue;
        }
        let Ok(path) = cwd.join(value).canonicalize() else {
            continue;
        };
        let dir = match path.is_dir() {
            true => path,
            false => match path.parent() {
                Some(parent) => parent.to_path_buf(),
                None => continue,
            },
        };
        if dir.starts_with(&cwd_canonical) || dir.starts_with(ours) || dir == Path::new("/") {
            continue;
        }
        if !dirs.iter().any(|d| dir.starts_with(d)) {
            dirs.retain(|d| !d.starts_with(&dir));
            dirs.push(dir);
        }
    }
    dirs
}

/// Who owns deploylab's home: the uid and gid the control container runs
/// the student's command as, so what it writes is theirs.
fn owner(dir: &Path) -> (u32, u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata(dir) {
            return (meta.uid(), meta.gid());
        }
    }
    let _ = dir;
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(all: &[&str]) -> Vec<String> {
        all.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_repeat_answers_the_password_prompts_from_the_file() {
        let file = Path::new("/lab/become-password");
        let repeated = repeat_args(
            &args(&["/usr/bin/ansible-playbook", "-i", "inventory", "deploy.yaml", "--ask-become-pass"]),
            file,
        )
        .unwrap();
        assert_eq!(
            repeated,
            args(&["-i", "inventory", "deploy.yaml", "--become-password-file", "/lab/become-password"])
        );
        let combined = repeat_args(&args(&["ansible-playbook", "-bKv", "site.yml", "-e", "K=1"]), file).unwrap();
        assert_eq!(
            combined,
            args(&["-bv", "--become-password-file", "/lab/become-password", "site.yml", "-e", "K=1"])
        );
        let vault = repeat_args(&args(&["ansible-playbook", "site.yml", "-J"]), file);
        assert!(vault.unwrap_err().contains("vault"));
    }

    #[test]
    fn folders_outside_the_run_are_mounted_once() {
        let root = tempfile::tempdir().unwrap();
        let cwd = root.path().join("project");
        let other = root.path().join("other");
        let ours = root.path().join("home");
        for dir in [&cwd, &other, &other.join("sub"), &ours] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(other.join("inventory"), "").unwrap();
        std::fs::write(other.join("sub").join("vars.yml"), "").unwrap();
        std::fs::write(ours.join("inventory"), "").unwrap();
        std::fs::write(cwd.join("site.yml"), "").unwrap();
        let given = args(&[
            "-i",
            "../other/inventory",
            "-e",
            &format!("@{}", other.join("sub/vars.yml").display()),
            "-i",
            &ours.join("inventory").display().to_string(),
            "site.yml",
        ]);
        let canonical = |p: &Path| p.canonicalize().unwrap();
        assert_eq!(outside_paths(&given, &cwd, &canonical(&ours)), vec![canonical(&other)]);
    }
}
