//! A VM's work as a submission, and back: what `submit` captures and what
//! `grade` restores into a fresh VM of the same image.
//!
//! Captured: what changed against the image (the engine's container diff),
//! minus what can be rebuilt exactly — files of Debian packages that dpkg
//! says are unmodified (the package list and versions are kept instead,
//! and reinstalled from the image's offline repository at grading), caches
//! and bytecode, and what deploylab itself manages (the mounts of its
//! offline repositories, the VM's pip.conf, Docker's own files). Owners
//! and modes travel as numbers, with symlinks and the enablement links of
//! systemd and nginx.
//!
//! Restored: packages first (their maintainer scripts create files: what
//! the student had removed since is removed again), then the files and
//! the deletions; deploylab's key is swapped for the grader's wherever the
//! student authorized it; then a real boot.

use std::collections::{BTreeMap, BTreeSet};

use bollard::Docker;
use bollard::models::ChangeType;
use serde::{Deserialize, Serialize};

use super::carry;
use crate::docker;
use crate::error::{Error, Result};
use crate::lab::Lab;

/// Where the work files are staged inside the VM (excluded from capture).
const STAGING: &str = "/var/tmp/deploylab-submit";

/// Paths never captured nor deleted at restore: rebuilt, volatile, or
/// deploylab's and Docker's own. A path matches a prefix when it is the
/// prefix or lies below it.
const EXCLUDED: &[&str] = &[
    "/tmp",
    "/var/tmp",
    "/run",
    "/proc",
    "/sys",
    "/dev",
    "/var/cache",
    "/var/log",
    "/var/lib/apt",
    "/var/lib/dpkg",
    "/srv/deploylab",
    "/etc/pip.conf",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/.dockerenv",
];

/// Messages, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn command_failed(what: &str, stderr: &str) -> String {
        let said = stderr.lines().rev().find(|l| !l.trim().is_empty());
        format!("{what} failed: {}", said.unwrap_or("no message").trim())
    }

    pub(super) fn not_offline(packages: &str) -> String {
        tr!("notes-vm-not-offline", packages = packages)
    }

    pub(super) fn machines(wanted: &[&String], brought: &[&String]) -> String {
        let list = |names: &[&String]| {
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "the lab's machines are {}, but the work is of {}",
            list(wanted),
            match brought {
                [] => "one machine".to_string(),
                some => list(some),
            }
        )
    }

    pub(super) fn bundle(why: &str) -> String {
        tr!("notes-vm-bundle", why = why)
    }
}

/// A VM lab's side of a submission (`state.json`): one machine's state, as
/// submissions of a lab with one machine have always been, or each
/// machine's by name. The files of several machines travel as one tar of
/// `<machine>.tar.gz` (`bundle`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub(crate) enum VmWork {
    /// A lab done with Ansible hands in its playbook's folder, not the
    /// machines (first, so an untagged read tries it first).
    Playbook {
        playbook: super::ansible::PlaybookWork,
    },
    One(VmState),
    Several {
        machines: BTreeMap<String, VmState>,
    },
}

impl VmWork {
    /// Each machine's state by name, for `lab`: a submission must bring
    /// every machine the lab has, and no other.
    pub(crate) fn by_machine(&self, lab: &Lab) -> Result<Vec<(String, &VmState)>> {
        let mut machines = lab.machines();
        let by_machine: Vec<(String, &VmState)> = match self {
            VmWork::One(state) if machines.len() == 1 => vec![(machines.remove(0), state)],
            VmWork::Several { machines: states } => {
                let named: Vec<&String> = states.keys().collect();
                let mut wanted: Vec<&String> = machines.iter().collect();
                wanted.sort();
                if named != wanted {
                    return Err(Error::SubmissionState {
                        why: text::machines(&wanted, &named),
                    });
                }
                states.iter().map(|(n, s)| (n.clone(), s)).collect()
            }
            VmWork::One(_) | VmWork::Playbook { .. } => {
                return Err(Error::SubmissionState {
                    why: text::machines(&machines.iter().collect::<Vec<_>>(), &[]),
                });
            }
        };
        Ok(by_machine)
    }
}

/// Several machines' files as one: an uncompressed tar of
/// `<machine>.tar.gz`, each as `capture` made it.
pub(crate) fn bundle<'a>(files: impl Iterator<Item = (&'a str, &'a [u8])>) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (machine, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("{machine}.tar.gz"), bytes)
            .map_err(Error::io("bundling the machines' files"))?;
    }
    tar.into_inner()
        .map_err(Error::io("bundling the machines' files"))
}

/// The machines' files `bundle` made, by machine.
pub(crate) fn unbundle(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let bad = |e: std::io::Error| Error::SubmissionState {
        why: text::bundle(&e.to_string()),
    };
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let Some(machine) = path.strip_suffix(".tar.gz") else {
            continue;
        };
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).map_err(bad)?;
        files.insert(machine.to_string(), content);
    }
    Ok(files)
}

/// The VM's side of a submission (`state.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmState {
    /// Every installed Debian package (`name:arch`) and its version.
    pub(crate) packages: Vec<Package>,
    /// Paths of the image the work deleted, and package files it removed.
    pub(crate) deleted: Vec<String>,
    /// The public key deploylab logged in with on the student's machine
    /// (`type base64`): where the student authorized it, the grader's key
    /// takes its place.
    pub(crate) deploylab_key: String,
    /// How many paths `files.tar.gz` holds.
    pub(crate) files: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) version: String,
}

/// Whether a path is left out of captures and restores.
fn excluded(path: &str) -> bool {
    let below = |prefix: &&str| {
        path == *prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    EXCLUDED.iter().any(below)
        // The probe each VM mounts read-only (`probe::IN_VM`), of any build.
        || path.starts_with("/.deploylab-probe-")
        || path.ends_with(".pyc")
        || path
            .split('/')
            .any(|part| part == "__pycache__" || part == ".cache")
}

/// What the engine says changed against the image: (changed or added, deleted).
async fn changes(docker: &Docker, container: &str) -> Result<(Vec<String>, Vec<String>)> {
    let changes = docker
        .container_changes(container)
        .await
        .map_err(Error::docker("listing what changed in the VM"))?
        .unwrap_or_default();
    let (mut written, mut deleted) = (Vec::new(), Vec::new());
    for change in changes {
        if excluded(&change.path) {
            continue;
        }
        match change.kind {
            ChangeType::_2 => deleted.push(change.path),
            _ => written.push(change.path),
        }
    }
    Ok((written, deleted))
}

/// Runs a command as root in the VM; its stdout, or the failure.
async fn run(docker: &Docker, container: &str, what: &str, cmd: &[&str]) -> Result<String> {
    let cmd = cmd.iter().map(|s| (*s).to_string()).collect();
    let out = docker::exec(docker, container, cmd, Some("root")).await?;
    match out.exit_code {
        0 => Ok(out.stdout),
        _ => Err(Error::Capture {
            why: text::command_failed(what, &out.stderr),
        }),
    }
}

/// Installed packages, as dpkg lists them.
async fn packages(docker: &Docker, container: &str) -> Result<Vec<Package>> {
    let listed = run(
        docker,
        container,
        "dpkg-query",
        &[
            "dpkg-query",
            "-W",
            "-f",
            "${db:Status-Abbrev}\t${binary:Package}\t${Version}\n",
        ],
    )
    .await?;
    let mut packages: Vec<Package> = listed
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (status, name, version) = (fields.next()?, fields.next()?, fields.next()?);
            status.starts_with("ii").then(|| Package {
                name: name.to_string(),
                version: version.to_string(),
            })
        })
        .collect();
    packages.sort();
    Ok(packages)
}

/// Every path some installed package ships.
async fn package_files(docker: &Docker, container: &str) -> Result<BTreeSet<String>> {
    let listed = run(
        docker,
        container,
        "reading dpkg's file lists",
        &["sh", "-c", "cat /var/lib/dpkg/info/*.list"],
    )
    .await?;
    Ok(listed.lines().map(str::to_string).collect())
}

/// Package files that differ from what their package shipped, and the
/// ones that are gone (`dpkg --verify`).
async fn verify(docker: &Docker, container: &str) -> Result<(BTreeSet<String>, Vec<String>)> {
    let cmd = ["dpkg", "--verify"].map(String::from).to_vec();
    // dpkg exits 1 when something differs: that is the answer, not a failure.
    let out = docker::exec(docker, container, cmd, Some("root")).await?;
    let (mut changed, mut missing) = (BTreeSet::new(), Vec::new());
    for line in out.stdout.lines() {
        // "??5??????   /usr/bin/x", "??5?????? c /etc/x.conf", "missing     /usr/y"
        let Some(path) = line.find(" /").map(|at| line[at + 1..].to_string()) else {
            continue;
        };
        match line.starts_with("missing") {
            true => missing.push(path),
            false => {
                changed.insert(path);
            }
        }
    }
    Ok((changed, missing))
}

/// A file deploylab stages in a VM or an image: root's, private.
pub(super) fn staged<'a>(path: &'a str, contents: &'a [u8]) -> docker::FileEntry<'a> {
    docker::FileEntry {
        path,
        contents,
        mode: 0o600,
        uid: 0,
        gid: 0,
    }
}

/// Writes into `STAGING`, in one request, the archive if given
/// (`ARCHIVE`) and NUL-separated lists of paths (relative to /) by name.
async fn stage(
    docker: &Docker,
    container: &str,
    archive: Option<&[u8]>,
    lists: &[(String, &[String])],
) -> Result<()> {
    let listed: Vec<(String, Vec<u8>)> = (lists.iter())
        .map(|(name, paths)| (format!("{STAGING}/{name}"), nul_separated(paths)))
        .collect();
    let archive_path = format!("{STAGING}/{ARCHIVE}");
    let mut files: Vec<docker::FileEntry<'_>> =
        archive.map(|files| staged(&archive_path, files)).into_iter().collect();
    files.extend(listed.iter().map(|(path, list)| staged(path, list)));
    docker::put_files_unmapped(docker, container, &files).await
}

/// Paths as tar's `--null --files-from` reads them (relative to /).
pub(super) fn nul_separated(paths: &[String]) -> Vec<u8> {
    paths
        .iter()
        .flat_map(|p| p.trim_start_matches('/').bytes().chain([0]))
        .collect()
}

/// Captures the VM's work: its description and `files.tar.gz`.
pub(crate) async fn capture(
    docker: &Docker,
    container: &str,
    deploylab_key: &str,
) -> Result<(VmState, Vec<u8>)> {
    let ((written, mut deleted), packages, owned, verified) = tokio::try_join!(
        changes(docker, container),
        packages(docker, container),
        package_files(docker, container),
        verify(docker, container),
    )?;
    let (modified, missing) = verified;
    let keep: Vec<String> = written
        .into_iter()
        .filter(|p| !owned.contains(p) || modified.contains(p))
        .collect();
    deleted.extend(missing.into_iter().filter(|p| !excluded(p)));
    deleted.sort();
    deleted.dedup();
    stage(docker, container, None, &[("keep".into(), &keep)]).await?;
    let archive = format!("{STAGING}/{ARCHIVE}");
    let list = format!("{STAGING}/keep");
    let tar = docker::exec(
        docker,
        container,
        [
            "tar",
            "--create",
            "--gzip",
            "--file",
            &archive,
            "--directory",
            "/",
            "--no-recursion",
            "--numeric-owner",
            "--null",
            "--files-from",
            &list,
        ]
        .map(String::from)
        .to_vec(),
        Some("root"),
    )
    .await?;
    // 1: a file changed or vanished while read (a running service's
    // files): the archive is still whole.
    if tar.exit_code > 1 {
        return Err(Error::Capture {
            why: text::command_failed("tar", &tar.stderr),
        });
    }
    let files = read_file(docker, container, &archive).await;
    let _ = run(docker, container, "cleaning up", &["rm", "-rf", STAGING]).await;
    let state = VmState {
        packages,
        deleted,
        deploylab_key: key_body(deploylab_key),
        files: keep.len(),
    };
    Ok((state, files?))
}

/// "ssh-ed25519 AAAA… comment" → "ssh-ed25519 AAAA…".
fn key_body(key: &str) -> String {
    key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// One file of the VM, through the engine's archive endpoint.
async fn read_file(docker: &Docker, container: &str, path: &str) -> Result<Vec<u8>> {
    crate::docker::read_file(docker, container, path)
        .await?
        .ok_or_else(|| Error::Capture {
            why: format!("{path} was not made"),
        })
}

/// Installs packages as a restore does, and returns the paths their
/// scripts created (not the packages' own files): what a graded image
/// (`vm/graded.rs`) records.
pub(crate) async fn install_recording(
    docker: &Docker,
    container: &str,
    packages: &[Package],
) -> Result<BTreeSet<String>> {
    let before = every_path(docker, container).await?;
    packages_as_submitted(docker, container, packages).await?;
    let (after, owned) = tokio::try_join!(
        every_path(docker, container),
        package_files(docker, container)
    )?;
    Ok(after
        .into_iter()
        .filter(|p| !before.contains(p) && !owned.contains(p))
        .collect())
}

/// What the fresh VM a restore writes into already has beyond the lab's
/// image.
#[derive(Debug, Default)]
pub(crate) struct Base {
    /// A graded image's packages: the paths their scripts created.
    pub(crate) installed: Option<BTreeSet<String>>,
    /// A carrying image's venv members (`carry.rs`).
    pub(crate) carried: Option<BTreeMap<String, carry::Mark>>,
}

/// What a restore did.
#[derive(Debug)]
pub(crate) struct Restored {
    /// For the instructor: what could not be restored exactly.
    pub(crate) notes: Vec<String>,
    /// The disk the work takes (carried members included).
    pub(crate) bytes: u64,
    /// Of which the image already had (the VM's walk does not see them as
    /// written since the restore).
    pub(crate) carried_bytes: u64,
    /// When it began (seconds since the epoch): what changes on the VM's
    /// disk after it is the work's (`written_since`).
    pub(crate) since: u64,
}

/// Restores a submission's work into a fresh VM (running) of the same
/// image, or of one made from it for grading (`base`).
pub(crate) async fn restore(
    docker: &Docker,
    container: &str,
    state: &VmState,
    files: &[u8],
    grader_key: &str,
    base: Base,
) -> Result<Restored> {
    let Base { installed, carried } = base;
    let t = std::time::Instant::now();
    let since = crate::state::now();
    let before = match &installed {
        Some(_) => BTreeSet::new(),
        None => every_path(docker, container).await?,
    };
    let (entries, bytes) = entries(files)?;
    let members: Vec<String> = entries.iter().map(|(name, _)| name.clone()).collect();
    let plan = match &carried {
        Some(image) => carry::plan(image, &carry::Venvs::read(files)?, &entries),
        None => carry::Plan::default(),
    };
    let entries: Vec<(String, tar::EntryType)> = (entries.into_iter())
        .filter(|(name, _)| !plan.carried.contains(name))
        .collect();
    tracing::debug!(
        "restore: carried {} members, removing {}, unpacking {}",
        plan.carried.len(),
        plan.remove.len(),
        entries.len()
    );
    let rest = match plan.carried.is_empty() {
        true => None,
        false => carry::without(files, &plan.carried),
    };
    let files = rest.as_deref().unwrap_or(files);
    // One upload: the archive (the VM's own tar unpacks it: the engine's
    // extraction of thousands of files is several times slower on
    // fuse-overlayfs), and the lists of the work's first unpacking.
    let lists = work_lists(&entries);
    let mut named = vec![("carried-gone".to_string(), &plan.remove[..])];
    named.extend(lists.iter().enumerate().map(|(i, list)| (format!("work-{i}"), &list[..])));
    stage(docker, container, Some(files), &named).await?;
    // The work outside the system's folders (the app, the venv: most of
    // it) is unpacked while the packages install; what lies in them after,
    // so the work's version of a package's file is the one that stays.
    // What the carrying image has that the work has not goes first.
    let script = work_script(lists.len());
    let unpack = ["sh", "-c", &script];
    let work = run(docker, container, "unpacking the work", &unpack);
    let (notes, _) = tokio::try_join!(
        packages_as_submitted(docker, container, &state.packages),
        work,
    )?;
    tracing::debug!("restore: packages and the app's files at {:?}", t.elapsed());
    // What the packages' scripts made that the work no longer had (a
    // default site the student removed, a service they disabled).
    let created = match installed {
        Some(created) => created,
        None => {
            let (after, owned) = tokio::try_join!(
                every_path(docker, container),
                package_files(docker, container)
            )?;
            after
                .into_iter()
                .filter(|p| !before.contains(p) && !owned.contains(p))
                .collect()
        }
    };
    let submitted: BTreeSet<String> = members
        .iter()
        .map(|m| format!("/{}", m.trim_end_matches('/')))
        .collect();
    let stray: Vec<String> = created
        .into_iter()
        .filter(|p| !submitted.contains(p))
        .collect();
    let system: Vec<String> = (entries.iter())
        .map(|(name, _)| name.clone())
        .filter(|m| in_system(m))
        .collect();
    let mut gone = state.deleted.clone();
    gone.extend(stray);
    gone.retain(|p| !excluded(p) && p.starts_with('/') && !p.contains("/../"));
    let named = [("system".to_string(), &system[..]), ("gone".into(), &gone[..])];
    stage(docker, container, None, &named).await?;
    // Where the student authorized deploylab's key (any user's
    // `authorized_keys`), the grader's key takes its place.
    let (old, new) = (key_body(&state.deploylab_key), key_body(grader_key));
    let old = match old == new {
        true => String::new(),
        false => old,
    };
    let finish = ["sh", "-c", &finish_script(), "sh", &old, &new];
    run(docker, container, "restoring the system's files", &finish).await?;
    tracing::debug!("restore: done at {:?}", t.elapsed());
    Ok(Restored {
        notes,
        bytes,
        carried_bytes: plan.bytes,
        since,
    })
}

/// The staged archive's name in `STAGING`.
const ARCHIVE: &str = "files.tar.gz";

/// The restore scripts' shell functions over a staged list (each only
/// when the list is not empty: an empty list would unpack everything):
/// `x LIST` unpacks the members it names from the staged archive; `r
/// LIST` removes the paths it names, with all below them.
fn list_functions() -> String {
    let tar = extract_args(&format!("{STAGING}/{ARCHIVE}"), "\"$1\"").join(" ");
    format!(
        "x() {{ if [ -s \"$1\" ]; then {tar}; fi; }}\n\
         r() {{ if [ -s \"$1\" ]; then xargs -0 -r rm -rf -- < \"$1\"; fi; }}"
    )
}

/// The work's first unpacking, in one exec (each is a runc process and an
/// engine round trip): what the carrying image has that the work has not
/// removed, then the work's folders, the rest by several tars at once,
/// its hard links last (their targets must be there).
fn work_script(lists: usize) -> String {
    let shares: Vec<String> = (1..lists - 1).map(|i| format!("{STAGING}/work-{i}")).collect();
    format!(
        "set -e; cd /\n{}\n\
         r {STAGING}/carried-gone\n\
         x {STAGING}/work-0\n\
         pids=; for l in {}; do x \"$l\" & pids=\"$pids $!\"; done\n\
         for p in $pids; do wait \"$p\"; done\n\
         x {STAGING}/work-{}",
        list_functions(),
        shares.join(" "),
        lists - 1,
    )
}

/// The restore's end, in one exec: the work's files in the system's
/// folders (after the packages, so the work's version of a package's file
/// stays), what the work deleted removed, the grader's key where the
/// student had authorized deploylab's ($1 the old key's body, empty: none;
/// $2 the new; base64 has no '|': a safe sed delimiter; `sed -i` keeps
/// owner and mode), and the staging cleaned up.
fn finish_script() -> String {
    format!(
        r#"set -e; cd /
{}
x {STAGING}/system
r {STAGING}/gone
old="$1"; new="$2"
if [ -n "$old" ]; then
    getent passwd | cut -d: -f6 | sort -u | while read -r home; do
        for f in "$home"/.ssh/authorized_keys "$home"/.ssh/authorized_keys2; do
            [ -f "$f" ] && [ ! -L "$f" ] && grep -qF "$old" "$f" && sed -i "s|$old|$new|g" "$f"
        done
    done || true
fi
rm -rf {STAGING}"#,
        list_functions()
    )
}

/// Every path of the VM's disk outside the excluded ones (a walk takes a
/// fraction of a second; the engine's diff takes seconds).
async fn every_path(docker: &Docker, container: &str) -> Result<BTreeSet<String>> {
    let mut cmd: Vec<String> = ["find", "/", "-xdev", "("].map(String::from).to_vec();
    for (i, prefix) in EXCLUDED.iter().enumerate() {
        if i > 0 {
            cmd.push("-o".into());
        }
        cmd.extend(["-path".to_string(), (*prefix).to_string()]);
    }
    cmd.extend([")", "-prune", "-o", "-print"].map(String::from));
    let out = docker::exec(docker, container, cmd, Some("root")).await?;
    Ok(out
        .stdout
        .lines()
        .filter(|p| !excluded(p))
        .map(str::to_string)
        .collect())
}

/// The members of a `files.tar.gz`: name as tar wrote it (relative) and
/// kind; and the disk they take unpacked (4 KiB blocks, as the VM's walk
/// counts).
fn entries(files: &[u8]) -> Result<(Vec<(String, tar::EntryType)>, u64)> {
    let gz = flate2::read::GzDecoder::new(files);
    let mut archive = tar::Archive::new(gz);
    let bad = |_| Error::SubmissionState {
        why: "the submission's files are not a readable archive".into(),
    };
    let mut found = Vec::new();
    let mut bytes = 0;
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        bytes += entry.size().div_ceil(4096).max(1) * 4096;
        found.push((name, entry.header().entry_type()));
    }
    Ok((found, bytes))
}

/// How many tars unpack the work at once. fuse-overlayfs makes each file
/// created a round trip to its own process, and several overlap: 7,200
/// files took 5.0 s with one tar, 2.8 s with two, 1.5 s with four; but
/// four per grade slowed `grade --jobs 2` on two cores (73 s for 8 grades,
/// 64 s with two per grade).
const UNPACKERS: usize = 2;

/// The members outside the system's folders (the app, the venv: most of
/// the work) in lists: folders first, then the rest split between the
/// unpackers, then hard links (their targets must be there).
fn work_lists(entries: &[(String, tar::EntryType)]) -> Vec<Vec<String>> {
    let mut folders = Vec::new();
    let mut links = Vec::new();
    let mut shares = vec![Vec::new(); UNPACKERS];
    for (i, (name, kind)) in entries.iter().filter(|(n, _)| !in_system(n)).enumerate() {
        match kind {
            tar::EntryType::Directory => folders.push(name.clone()),
            tar::EntryType::Link => links.push(name.clone()),
            _ => shares[i % UNPACKERS].push(name.clone()),
        }
    }
    let mut lists = vec![folders];
    lists.extend(shares);
    lists.push(links);
    lists
}

/// The folders Debian's packages write in: the work's files there are
/// unpacked after the packages, to stay the work's.
const SYSTEM: &[&str] = &[
    "etc", "usr", "var", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "boot",
];

fn in_system(member: &str) -> bool {
    let top = member.split('/').next().unwrap_or_default();
    SYSTEM.contains(&top)
}

/// tar's arguments to unpack the members a list names (one by one, no
/// recursion) from an archive at /, owners and modes as the archive has
/// them.
pub(super) fn extract_args(archive: &str, list: &str) -> Vec<String> {
    let mut cmd: Vec<String> = [
        "tar",
        "--extract",
        "--gzip",
        "--file",
        archive,
        "--directory",
        "/",
        "--same-permissions",
        "--same-owner",
        "--numeric-owner",
        "--overwrite",
    ]
    .map(String::from)
    .to_vec();
    cmd.extend(
        [
            "--no-recursion",
            "--null",
            "--verbatim-files-from",
            "--files-from",
            list,
        ]
        .map(String::from),
    );
    cmd
}

/// Runs its arguments with the packages' scripts kept from starting or
/// stopping services (Debian's `policy-rc.d`, exit 101): a VM held before
/// its first boot has no systemd, and a sysv script would start a daemon
/// that then holds the port the boot's unit wants. The boot starts what
/// the work enabled. A `policy-rc.d` already there is left as it is.
const NO_SERVICE_STARTS: &str = r#"p=/usr/sbin/policy-rc.d; made=
    [ -e "$p" ] || { printf '#!/bin/sh\nexit 101\n' > "$p" && chmod 755 "$p" && made=1; }
    "$@"; rc=$?
    [ -z "$made" ] || rm -f "$p"
    exit $rc"#;

/// `apt-get`, non-interactive, with `NO_SERVICE_STARTS`.
const APT_GET: [&str; 7] = [
    "sh",
    "-c",
    NO_SERVICE_STARTS,
    "sh",
    "env",
    "DEBIAN_FRONTEND=noninteractive",
    "apt-get",
];

/// Installs and removes packages until the VM has the submitted ones, from
/// the image's offline repository. Returns notes on what could not be had.
async fn packages_as_submitted(
    docker: &Docker,
    container: &str,
    wanted: &[Package],
) -> Result<Vec<String>> {
    let installed = packages(docker, container).await?;
    let missing: Vec<&Package> = wanted.iter().filter(|p| !installed.contains(p)).collect();
    let wanted_names: BTreeSet<&str> = wanted.iter().map(|p| p.name.as_str()).collect();
    let extra: Vec<String> = installed
        .iter()
        .filter(|p| !wanted_names.contains(p.name.as_str()))
        .map(|p| p.name.clone())
        .collect();
    let mut notes = Vec::new();
    if !missing.is_empty() {
        run(
            docker,
            container,
            "apt-get update",
            &["apt-get", "update", "-qq"],
        )
        .await?;
        // Only what the offline repository has: a package the student
        // marked installed by hand (or built themselves) is not there.
        let specs: Vec<String> = missing
            .iter()
            .map(|p| format!("{}={}", p.name, p.version))
            .collect();
        let mut cmd = vec![
            "sh",
            "-c",
            // All at once (the usual case), else one by one to name the missing.
            r#"apt-cache show --no-all-versions "$@" >/dev/null 2>&1 && exit 0
               for spec; do apt-cache show --no-all-versions "$spec" >/dev/null 2>&1 || echo "$spec"; done"#,
            "sh",
        ];
        cmd.extend(specs.iter().map(String::as_str));
        let absent: Vec<String> = run(docker, container, "apt-cache", &cmd)
            .await?
            .lines()
            .map(str::to_string)
            .collect();
        let available: Vec<String> = specs.into_iter().filter(|s| !absent.contains(s)).collect();
        if !absent.is_empty() {
            notes.push(text::not_offline(&absent.join(", ")));
        }
        if !available.is_empty() {
            let mut cmd = APT_GET.to_vec();
            cmd.extend([
                "install",
                "-y",
                "-qq",
                // A throwaway VM: dpkg's fsyncs only cost time here.
                "-o",
                "Dpkg::Options::=--force-unsafe-io",
                "--no-install-recommends",
                "--allow-downgrades",
            ]);
            cmd.extend(available.iter().map(String::as_str));
            run(docker, container, "reinstalling the packages", &cmd).await?;
        }
    }
    if !extra.is_empty() {
        let mut cmd = APT_GET.to_vec();
        cmd.extend(["purge", "-y", "-qq"]);
        cmd.extend(extra.iter().map(String::as_str));
        // apt refuses to remove what the system needs: the work keeps it.
        if let Err(e) = run(
            docker,
            container,
            "removing packages the work removed",
            &cmd,
        )
        .await
        {
            notes.push(e.to_string());
        }
    }
    Ok(notes)
}

/// The bytes of disk the files changed since the restore began (`since`,
/// seconds since the epoch) take: the work and whatever it ran at boot. A
/// walk of the VM's disk, much cheaper than the engine's measure of its
/// layer. By ctime, which no one in the VM can set back, against a time
/// kept on the host (a file in the VM as the reference could be touched
/// later by the work itself). `None` when the VM cannot run it (the
/// engine's measure is the fallback).
pub(crate) async fn written_since(docker: &Docker, container: &str, since: u64) -> Option<u64> {
    let script = format!(
        "find / -xdev -newerct @{since} -printf '%b\\n' 2>/dev/null | awk '{{s += $1}} END {{print s * 512}}'"
    );
    let out = run(
        docker,
        container,
        "measuring the work's disk",
        &["sh", "-c", &script],
    )
    .await
    .ok()?;
    out.trim().parse::<f64>().ok().map(|b| b as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(files: usize) -> VmState {
        VmState {
            packages: vec![Package {
                name: "nginx:amd64".into(),
                version: "1.22".into(),
            }],
            deleted: Vec::new(),
            deploylab_key: "ssh-ed25519 AAAA".into(),
            files,
        }
    }

    fn two_machine_lab() -> Lab {
        crate::lab::parse(
            "lab.yaml",
            "schema: 1\nid: two\ntitle: T\nenvironment: vm\nmachines: [control, web]\nstages:\n  - { id: s, title: S, checks: [{ id: c, title: C, hint: h, expect: { ssh_banner: {} } }] }\n",
        )
        .unwrap()
    }

    /// A lab with one machine writes the state it always wrote, so older
    /// submissions and older graders read it alike.
    #[test]
    fn one_machine_work_is_the_state_as_before() {
        let one = serde_json::to_value(VmWork::One(state(3))).unwrap();
        assert_eq!(one, serde_json::to_value(state(3)).unwrap());
        let read: VmWork = serde_json::from_value(one).unwrap();
        assert_eq!(read, VmWork::One(state(3)));
    }

    #[test]
    fn several_machines_work_goes_by_name_and_must_match_the_lab() {
        let lab = two_machine_lab();
        let work = VmWork::Several {
            machines: BTreeMap::from([("control".into(), state(1)), ("web".into(), state(2))]),
        };
        let read: VmWork =
            serde_json::from_str(&serde_json::to_string(&work).unwrap()).unwrap();
        assert_eq!(read, work);
        let names: Vec<String> = work.by_machine(&lab).unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["control", "web"]);
        let err = VmWork::One(state(1)).by_machine(&lab).unwrap_err().to_string();
        assert!(err.contains("the lab's machines are control, web, but the work is of one machine"), "{err}");
        let partial = VmWork::Several {
            machines: BTreeMap::from([("web".into(), state(2))]),
        };
        assert!(partial.by_machine(&lab).is_err());
    }

    #[test]
    fn machines_files_bundle_and_unbundle() {
        let bundled = bundle([("control", &b"one"[..]), ("web", &b"two"[..])].into_iter()).unwrap();
        let files = unbundle(&bundled).unwrap();
        assert_eq!(files["control"], b"one");
        assert_eq!(files["web"], b"two");
    }

    #[test]
    fn the_restores_scripts_are_shell_and_unpack_each_list_once() {
        let lists = 2 + UNPACKERS;
        for script in [work_script(lists), finish_script()] {
            let parsed = std::process::Command::new("sh")
                .args(["-n", "-c", &script])
                .output()
                .unwrap();
            assert!(parsed.status.success(), "{script}\n{}", String::from_utf8_lossy(&parsed.stderr));
        }
        let work = work_script(lists);
        for i in 0..lists {
            assert_eq!(work.matches(&format!("{STAGING}/work-{i}")).count(), 1, "{work}");
        }
        // Folders before the shares, side by side, and links after them.
        let at = |needle: &str| work.find(needle).unwrap();
        assert!(at("work-0") < at("work-1") && at("wait") < at(&format!("work-{}", lists - 1)));
        assert!(work.contains("& pids="), "{work}");
        let finish = finish_script();
        assert!(at_line(&finish, "x /var/tmp/deploylab-submit/system") < at_line(&finish, "gone"));
        assert!(finish.trim_end().ends_with(&format!("rm -rf {STAGING}")), "{finish}");
    }

    fn at_line(script: &str, needle: &str) -> usize {
        script.lines().position(|l| l.contains(needle)).unwrap()
    }

    #[test]
    fn the_work_is_unpacked_folders_first_then_in_shares_then_hard_links() {
        use tar::EntryType::{Directory, Link, Regular, Symlink};
        let mut entries = vec![
            ("app/".to_string(), Directory),
            ("etc/nginx/sites-enabled/blog".to_string(), Symlink),
            ("app/venv/bin/python".to_string(), Symlink),
            ("app/hard".to_string(), Link),
        ];
        entries.extend((0..10).map(|i| (format!("app/f{i}"), Regular)));
        let lists = work_lists(&entries);
        assert_eq!(lists.len(), UNPACKERS + 2);
        assert_eq!(lists[0], vec!["app/"]);
        assert_eq!(lists[UNPACKERS + 1], vec!["app/hard"]);
        let shared: Vec<&String> = lists[1..=UNPACKERS].iter().flatten().collect();
        // Every other member outside the system's folders, once; the
        // system's are unpacked after the packages.
        assert_eq!(shared.len(), 11);
        assert!(!shared.iter().any(|m| m.starts_with("etc/")));
        assert!(lists[1..=UNPACKERS].iter().all(|l| l.len() >= 2));
    }

    #[test]
    fn rebuilt_volatile_and_deploylabs_own_paths_are_left_out() {
        for path in [
            "/tmp",
            "/tmp/x",
            "/var/cache/apt/archives/nginx.deb",
            "/var/lib/dpkg/status",
            "/home/student/.cache/pip/http/x",
            "/app/blog/__pycache__/settings.cpython-311.pyc",
            "/etc/pip.conf",
            "/srv/deploylab/apt",
            "/.deploylab-probe-fbf6e5ab8ca0d0ac",
        ] {
            assert!(excluded(path), "{path}");
        }
        for path in [
            "/tmpfiles",
            "/etc/nginx/sites-enabled/blog",
            "/home/student/.venv/bin/gunicorn",
            "/etc/systemd/system/sockets.target.wants/blog.socket",
            "/var/lib/dpkg-extra",
        ] {
            assert!(!excluded(path), "{path}");
        }
    }

    #[test]
    fn the_key_is_compared_without_its_comment() {
        assert_eq!(
            key_body("ssh-ed25519 AAAAC3 me@host\n"),
            "ssh-ed25519 AAAAC3"
        );
    }
}
