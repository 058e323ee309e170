//! Grading's cache of a class's virtualenvs: a graded image (`graded.rs`)
//! with the first submission's venv already in it, so the next submissions
//! with a venv at the same place write only what differs from it. A class
//! installs the same packages: of the course's ~7,700 files of work, ~7,350
//! are the venv, and writing them through fuse-overlayfs was most of a
//! restore.
//!
//! What a restore leaves is the submission's venv, exactly: a member is
//! left as the image has it only when its kind, mode, owner, size and
//! content (SHA-256) are the submission's; whatever else the image has
//! under the venv is removed, whatever else the submission has is
//! unpacked. Only the files' times are the first submission's (pip writes
//! install times; no check reads them). Only folders and regular files are
//! carried: links, and anything with `..` in its name, are always the
//! restore's own to unpack, so a hostile first submission cannot reach
//! outside its venv in an image others start from.
//!
//! One image per graded image and set of venv folders, made by a container
//! that only unpacks (no boot) and compiles the venv's bytecode, and is
//! committed. A submission whose venv
//! shares less than half its members with the image restores as before.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use bollard::Docker;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::graded;
use super::submission;
use crate::docker::{self, LABEL_IMAGE};
use crate::error::{Error, Result};
use crate::state;

/// A venv larger than this is not carried: an image of it would cost more
/// to make than it saves (a Django venv is ~40 MB, one with the scientific
/// stack a few hundred).
const CARRY_AT_MOST: u64 = 1_000_000_000;

/// Where the maker stages the archive and its list.
const STAGING: &str = "/var/tmp/deploylab-carry";

/// What must match for the image's copy of a member to stand for the
/// submission's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mark {
    pub(crate) dir: bool,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) size: u64,
    /// Hex SHA-256 of the content (empty for a folder).
    pub(crate) sha256: String,
}

impl Mark {
    /// The disk it takes, as the VM's walk counts it (4 KiB blocks).
    fn blocks_bytes(&self) -> u64 {
        match self.dir {
            true => 4096,
            false => self.size.div_ceil(4096) * 4096,
        }
    }
}

/// A submission's venvs: their folders (member names, no trailing slash)
/// and the members under them that may be carried, by member name.
#[derive(Debug, Default)]
pub(crate) struct Venvs {
    pub(crate) roots: Vec<String>,
    pub(crate) members: BTreeMap<String, Mark>,
}

impl Venvs {
    /// Reads the work's archive: a venv is a folder with a `pyvenv.cfg`.
    pub(crate) fn read(files: &[u8]) -> Result<Venvs> {
        let bad = |_| Error::SubmissionState {
            why: "the submission's files are not a readable archive".into(),
        };
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(files));
        let mut roots = Vec::new();
        let mut marked = BTreeMap::new();
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let kind = entry.header().entry_type();
            if !kind.is_file() && !kind.is_dir() || !plain(&name) {
                continue;
            }
            let header = entry.header();
            let (mode, uid, gid) = (
                header.mode().map_err(bad)?,
                header.uid().map_err(bad)?,
                header.gid().map_err(bad)?,
            );
            let size = entry.size();
            let mut sha256 = String::new();
            if kind.is_file() {
                if let Some(root) = name.strip_suffix("/pyvenv.cfg") {
                    roots.push(root.to_string());
                }
                let mut hash = Sha256::new();
                let mut buffer = vec![0; 64 * 1024];
                loop {
                    let n = entry.read(&mut buffer).map_err(bad)?;
                    if n == 0 {
                        break;
                    }
                    hash.update(&buffer[..n]);
                }
                sha256 = state::hex(&hash.finalize());
            }
            let dir = kind.is_dir();
            let mark = Mark {
                dir,
                mode,
                uid,
                gid,
                size,
                sha256,
            };
            marked.insert(name, mark);
        }
        roots.sort();
        roots.dedup();
        let members = marked
            .into_iter()
            .filter(|(name, _)| roots.iter().any(|root| under(name, root)))
            .collect();
        Ok(Venvs { roots, members })
    }

    fn bytes(&self) -> u64 {
        self.members.values().map(Mark::blocks_bytes).sum()
    }
}

/// A relative member name with no `..`: safe to unpack in an image others
/// start from.
fn plain(name: &str) -> bool {
    !name.starts_with('/') && !name.split('/').any(|part| part == "..")
}

/// Whether member `name` is folder `root` or lies below it.
fn under(name: &str, root: &str) -> bool {
    let name = name.trim_end_matches('/');
    name == root
        || name
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// What a restore does with a carried image.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Members the image already has as the submission has them: not
    /// unpacked.
    pub(crate) carried: BTreeSet<String>,
    /// Paths of the image the submission does not have (or has as another
    /// kind of file): removed before the unpacking.
    pub(crate) remove: Vec<String>,
    /// The disk the carried members take (counted as the work's).
    pub(crate) bytes: u64,
}

/// The restore's plan for a submission (its members, and the marks of its
/// venvs') on an image carrying `image`.
pub(crate) fn plan(
    image: &BTreeMap<String, Mark>,
    work: &Venvs,
    members: &[(String, tar::EntryType)],
) -> Plan {
    let trim = |name: &str| name.trim_end_matches('/').to_string();
    let submitted: HashMap<String, bool> = members
        .iter()
        .map(|(name, kind)| (trim(name), kind.is_dir()))
        .collect();
    // A folder the submission does not name but unpacks into stays.
    let mut ancestors = BTreeSet::new();
    for name in submitted.keys() {
        let mut path = name.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            if !ancestors.insert(parent.to_string()) {
                break;
            }
            path = parent;
        }
    }
    let mut remove = BTreeSet::new();
    for (name, mark) in image {
        let path = trim(name);
        let gone = match submitted.get(&path) {
            None => !ancestors.contains(&path),
            Some(&dir) => dir != mark.dir,
        };
        if gone {
            remove.insert(path);
        }
    }
    let carried_now = |remove: &BTreeSet<String>| -> BTreeSet<String> {
        (work.members.iter())
            .filter(|(name, mark)| image.get(*name) == Some(mark) && !removed(remove, name))
            .map(|(name, _)| name.clone())
            .collect()
    };
    let carried = carried_now(&remove);
    // The bytecode the maker compiled stays only beside the very source it
    // was compiled from: Python would trust it beside another of the same
    // size and time.
    let stale: Vec<String> = (image.keys())
        .filter(|name| name.ends_with(".py") && !carried.contains(*name))
        .filter_map(|name| name.rsplit_once('/'))
        .map(|(folder, _)| format!("{folder}/__pycache__"))
        .filter(|cache| !removed(&remove, cache))
        .collect();
    remove.extend(stale);
    let carried = carried_now(&remove);
    let bytes = carried.iter().map(|name| image[name].blocks_bytes()).sum();
    Plan {
        carried,
        remove: remove.into_iter().map(|p| format!("/{p}")).collect(),
        bytes,
    }
}

/// Whether member `name` is a path of `remove` or lies below one.
fn removed(remove: &BTreeSet<String>, name: &str) -> bool {
    let mut path = name.trim_end_matches('/');
    loop {
        if remove.contains(path) {
            return true;
        }
        match path.rsplit_once('/') {
            Some((parent, _)) => path = parent,
            None => return false,
        }
    }
}

/// The work's archive without the members carried: the VM's tars read it
/// whole once per list, and the engine writes it into the VM; ~1 MB then
/// rather than the whole work. None when a member cannot be written again
/// as it came (the archive is then used as it is).
pub(crate) fn without(files: &[u8], carried: &BTreeSet<String>) -> Option<Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(files));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut kept = tar::Builder::new(gz);
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if carried.contains(&name) {
            continue;
        }
        let mut header = entry.header().clone();
        let path = PathBuf::from(&name);
        match entry.header().entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry.link_name().ok()??.into_owned();
                kept.append_link(&mut header, &path, &target).ok()?;
            }
            _ => kept.append_data(&mut header, &path, &mut entry).ok()?,
        }
    }
    kept.into_inner().ok()?.finish().ok()
}

/// What is kept beside a carrying image.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    /// The graded image it was made from.
    pub(crate) parent: String,
    /// The venv members it has.
    pub(crate) members: BTreeMap<String, Mark>,
}

fn manifest_file(cache: &Path, tag: &str) -> PathBuf {
    let key = tag.rsplit(':').next().unwrap_or(tag);
    cache.join("graded").join(format!("{key}.venvs.json"))
}

/// What a carrying image was made from and has (None: not one).
pub(crate) fn manifest(cache: &Path, tag: &str) -> Option<Manifest> {
    let text = std::fs::read(manifest_file(cache, tag)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The image for a graded image and a set of venv folders.
fn tag_for(parent: &str, roots: &[String]) -> String {
    let mut hash = Sha256::new();
    // (The maker's version: what it puts in the image.)
    hash.update(b"venvs 2 bytecode\n");
    hash.update(parent.as_bytes());
    for root in roots {
        hash.update(format!("\n{root}").as_bytes());
    }
    format!("deploylab/{}:{}", graded::KIND, &state::hex(&hash.finalize())[..16])
}

/// The image a grade of this work starts from: the graded image `parent`
/// or, when the work has a venv, one carrying the class's (made from this
/// work if there is none yet).
pub(crate) async fn base(docker: &Docker, cache: &Path, parent: &str, files: &[u8]) -> Result<String> {
    // (A machine of several may have no files.)
    if files.is_empty() {
        return Ok(parent.to_string());
    }
    let work = Venvs::read(files)?;
    if work.roots.is_empty() || work.bytes() > CARRY_AT_MOST {
        return Ok(parent.to_string());
    }
    let tag = tag_for(parent, &work.roots);
    let lock = graded::maker_lock(&tag);
    let _making = lock.lock().await;
    let image = match manifest(cache, &tag) {
        Some(made) if docker.inspect_image(&tag).await.is_ok() => made.members,
        _ => make(docker, cache, parent, &tag, files, &work).await?,
    };
    Ok(match worth_carrying(&image, &work) {
        true => tag,
        false => parent.to_string(),
    })
}

/// Whether a work shares at least half its venv members with an image's:
/// below, removing the image's venv costs about what it saves.
fn worth_carrying(image: &BTreeMap<String, Mark>, work: &Venvs) -> bool {
    let shared = (work.members.iter())
        .filter(|(name, mark)| image.get(*name) == Some(mark))
        .count();
    shared * 2 >= work.members.len()
}

/// Unpacks the work's venvs into a container of `parent` and saves it as
/// `tag`, with its manifest.
async fn make(
    docker: &Docker,
    cache: &Path,
    parent: &str,
    tag: &str,
    files: &[u8],
    work: &Venvs,
) -> Result<BTreeMap<String, Mark>> {
    let started = std::time::Instant::now();
    let parent_config = docker
        .inspect_image(parent)
        .await
        .map_err(Error::docker("inspecting the graded image"))?
        .config
        .unwrap_or_default();
    let archive = format!("{STAGING}/files.tar.gz");
    let list = format!("{STAGING}/venvs");
    let names: Vec<String> = work.members.keys().cloned().collect();
    let listed = submission::nul_separated(&names);
    let roots: Vec<String> = work.roots.iter().map(|root| format!("/{root}")).collect();
    let roots_listed = submission::nul_separated(&roots);
    let roots_list = format!("{STAGING}/roots");
    let staged = [
        submission::staged(&archive, files),
        submission::staged(&list, &listed),
        submission::staged(&roots_list, &roots_listed),
    ];
    // The venvs' bytecode too, as a student's VM has it once the app ran
    // (a submission leaves it out): each grade's app then starts without
    // compiling Django (~0.6 s of CPU per Python process here). Python
    // trusts a .pyc only with its source's size and time, so a later work
    // whose source differs compiles its own.
    let script = format!(
        "\"$@\" && {{ xargs -0 -r python3 -m compileall -q -j 0 -- < {roots_list} \
         >/dev/null 2>&1 || true; }} && rm -rf {STAGING}"
    );
    let mut cmd = vec!["sh".to_string(), "-c".to_string(), script, "sh".to_string()];
    cmd.extend(submission::extract_args(&archive, &list));
    let create = bollard::models::ContainerCreateBody {
        image: Some(parent.to_string()),
        cmd: Some(cmd),
        host_config: Some(bollard::models::HostConfig {
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let saved = bollard::models::ContainerConfig {
        cmd: parent_config.cmd,
        entrypoint: parent_config.entrypoint,
        labels: Some(HashMap::from([(
            LABEL_IMAGE.to_string(),
            graded::KIND.to_string(),
        )])),
        ..Default::default()
    };
    docker::build_by_commit(docker, create, &staged, tag, saved).await?;
    let made = Manifest {
        parent: parent.to_string(),
        members: work.members.clone(),
    };
    let path = manifest_file(cache, tag);
    std::fs::create_dir_all(path.parent().expect("a folder"))
        .map_err(Error::io("keeping the graded image's venvs"))?;
    let json = serde_json::to_vec(&made).expect("a manifest serializes");
    state::write_atomically(&path, &json)?;
    tracing::debug!("carry: made {tag} in {:?}", started.elapsed());
    Ok(made.members)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str) -> Mark {
        Mark {
            dir: false,
            mode: 0o644,
            uid: 1000,
            gid: 1000,
            size: content.len() as u64,
            sha256: state::hex(&Sha256::digest(content.as_bytes())),
        }
    }

    fn folder() -> Mark {
        Mark {
            dir: true,
            mode: 0o755,
            uid: 1000,
            gid: 1000,
            size: 0,
            sha256: String::new(),
        }
    }

    /// A work's archive from (name, content; None: a folder) pairs.
    fn archive(members: &[(&str, Option<&str>)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (name, content) in members {
            let mut header = tar::Header::new_gnu();
            header.set_uid(1000);
            header.set_gid(1000);
            // Set raw: the builder refuses the `..` a hostile archive has.
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            let data = content.unwrap_or_default().as_bytes();
            let (kind, mode) = match content {
                Some(_) => (tar::EntryType::Regular, 0o644),
                None => (tar::EntryType::Directory, 0o755),
            };
            header.set_entry_type(kind);
            header.set_mode(mode);
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder.append(&header, data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn entries(names: &[(&str, bool)]) -> Vec<(String, tar::EntryType)> {
        names
            .iter()
            .map(|(name, dir)| {
                let kind = match dir {
                    true => tar::EntryType::Directory,
                    false => tar::EntryType::Regular,
                };
                (name.to_string(), kind)
            })
            .collect()
    }

    #[test]
    fn a_venv_is_a_folder_with_pyvenv_cfg_and_only_its_members_are_read() {
        let files = archive(&[
            ("home/ana/blog/", None),
            ("home/ana/blog/manage.py", Some("print()")),
            ("home/ana/.venv/", None),
            ("home/ana/.venv/lib/", None),
            ("home/ana/.venv/lib/django.py", Some("django")),
            ("home/ana/.venv/pyvenv.cfg", Some("home = /usr/bin")),
            ("home/ana/.venvs-old/x.py", Some("not a venv")),
            ("srv/../etc/cron.d/x", Some("hostile")),
        ]);
        let venvs = Venvs::read(&files).unwrap();
        assert_eq!(venvs.roots, ["home/ana/.venv"]);
        let names: Vec<&str> = venvs.members.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "home/ana/.venv/",
                "home/ana/.venv/lib/",
                "home/ana/.venv/lib/django.py",
                "home/ana/.venv/pyvenv.cfg"
            ]
        );
        assert_eq!(venvs.members["home/ana/.venv/lib/django.py"], file("django"));
        assert_eq!(venvs.members["home/ana/.venv/lib/"], folder());
    }

    #[test]
    fn work_without_a_venv_has_nothing_to_carry() {
        let files = archive(&[("app/", None), ("app/manage.py", Some("x"))]);
        let venvs = Venvs::read(&files).unwrap();
        assert!(venvs.roots.is_empty());
        assert!(venvs.members.is_empty());
        assert!(Venvs::read(b"not gzip").is_err());
    }

    #[test]
    fn only_members_equal_in_every_mark_are_carried_and_the_rest_of_the_image_goes() {
        let image = BTreeMap::from([
            ("v/".to_string(), folder()),
            ("v/same.py".to_string(), file("same")),
            ("v/changed.py".to_string(), file("old")),
            ("v/extra.py".to_string(), file("only in the image")),
            ("v/pkg/".to_string(), folder()),
            ("v/pkg/a.py".to_string(), file("a")),
            ("v/now-a-link".to_string(), file("was a file")),
        ]);
        let mut owned_otherwise = file("same owner?");
        owned_otherwise.uid = 0;
        let mut work = Venvs {
            roots: vec!["v".into()],
            members: BTreeMap::from([
                ("v/".to_string(), folder()),
                ("v/same.py".to_string(), file("same")),
                ("v/changed.py".to_string(), file("new")),
                ("v/pkg/a.py".to_string(), file("a")),
                ("v/new.py".to_string(), file("new")),
            ]),
        };
        let mut image = image;
        image.insert("v/owner.py".into(), file("same owner?"));
        work.members.insert("v/owner.py".into(), owned_otherwise);
        let mut members = entries(&[
            ("v/", true),
            ("v/same.py", false),
            ("v/changed.py", false),
            ("v/pkg/a.py", false),
            ("v/new.py", false),
            ("v/owner.py", false),
        ]);
        members.push(("v/now-a-link".into(), tar::EntryType::Symlink));
        let plan = plan(&image, &work, &members);
        let carried: Vec<&str> = plan.carried.iter().map(String::as_str).collect();
        // v/pkg/ is not named but a.py unpacks into it: it stays.
        assert_eq!(carried, ["v/", "v/pkg/a.py", "v/same.py"]);
        // The bytecode compiled beside sources not carried goes too.
        assert_eq!(plan.remove, ["/v/__pycache__", "/v/extra.py"]);
        assert_eq!(plan.bytes, 3 * 4096);
    }

    #[test]
    fn the_archive_without_the_carried_keeps_every_other_member_as_it_came() {
        let long = format!("app/{}/views.py", "deep".repeat(40));
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        let mut add = |name: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(kind);
            header.set_mode(0o750);
            header.set_uid(1001);
            header.set_gid(1002);
            header.set_mtime(1_700_000_000);
            header.set_size(data.len() as u64);
            match link {
                Some(target) => builder.append_link(&mut header, name, target).unwrap(),
                None => builder.append_data(&mut header, name, data).unwrap(),
            }
        };
        add("v/", tar::EntryType::Directory, b"", None);
        add("v/django.py", tar::EntryType::Regular, b"carried", None);
        add("v/bin/python", tar::EntryType::Symlink, b"", Some("/usr/bin/python3"));
        add("app/", tar::EntryType::Directory, b"", None);
        add(&long, tar::EntryType::Regular, b"def view(): pass", None);
        add("app/same", tar::EntryType::Link, b"", Some(&long));
        let files = builder.into_inner().unwrap().finish().unwrap();
        let carried = BTreeSet::from(["v/".to_string(), "v/django.py".to_string()]);
        let kept = without(&files, &carried).expect("rewritten");
        let read = |bytes: &[u8]| {
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
            (archive.entries().unwrap())
                .map(|e| {
                    let mut e = e.unwrap();
                    let h = e.header().clone();
                    let link = e.link_name().unwrap().map(|l| l.display().to_string());
                    let mut data = Vec::new();
                    e.read_to_end(&mut data).unwrap();
                    let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
                    let meta = (h.entry_type(), h.mode().unwrap(), h.uid().unwrap(), h.gid().unwrap());
                    (name, meta, h.mtime().unwrap(), link, data)
                })
                .collect::<Vec<_>>()
        };
        let expected: Vec<_> = (read(&files).into_iter())
            .filter(|(name, ..)| !carried.contains(name))
            .collect();
        assert_eq!(read(&kept), expected);
        assert_eq!(expected.len(), 4);
    }

    #[test]
    fn a_venv_sharing_less_than_half_is_not_carried() {
        let image: BTreeMap<String, Mark> = (0..10)
            .map(|i| (format!("v/{i}.py"), file(&format!("{i}"))))
            .collect();
        let work = |same: usize| Venvs {
            roots: vec!["v".into()],
            members: (0..10)
                .map(|i| {
                    let content = match i < same {
                        true => format!("{i}"),
                        false => format!("other {i}"),
                    };
                    (format!("v/{i}.py"), file(&content))
                })
                .collect(),
        };
        assert!(worth_carrying(&image, &work(10)));
        assert!(worth_carrying(&image, &work(5)));
        assert!(!worth_carrying(&image, &work(4)));
    }

    #[test]
    fn a_folder_submitted_as_a_file_goes_with_everything_below_it() {
        let image = BTreeMap::from([
            ("v/".to_string(), folder()),
            ("v/lib/".to_string(), folder()),
            ("v/lib/a.py".to_string(), file("a")),
        ]);
        let work = Venvs {
            roots: vec!["v".into()],
            members: BTreeMap::from([
                ("v/".to_string(), folder()),
                ("v/lib/a.py".to_string(), file("a")),
            ]),
        };
        // A hostile archive naming v/lib/a.py below a v/lib that is a file.
        let members = entries(&[("v/", true), ("v/lib", false), ("v/lib/a.py", false)]);
        let plan = plan(&image, &work, &members);
        assert_eq!(plan.remove, ["/v/lib"]);
        assert!(!plan.carried.contains("v/lib/a.py"));
    }

    #[test]
    fn bytecode_stays_only_beside_carried_sources() {
        let image = BTreeMap::from([
            ("v/pkg/".to_string(), folder()),
            ("v/pkg/a.py".to_string(), file("a")),
            ("v/pkg/b.py".to_string(), file("b")),
            ("v/other/c.py".to_string(), file("c")),
        ]);
        // b.py as long as the image's, another content; a and c the same.
        let work = Venvs {
            roots: vec!["v".into()],
            members: BTreeMap::from([
                ("v/pkg/".to_string(), folder()),
                ("v/pkg/a.py".to_string(), file("a")),
                ("v/pkg/b.py".to_string(), file("B")),
                ("v/other/c.py".to_string(), file("c")),
            ]),
        };
        let members = entries(&[
            ("v/pkg/", true),
            ("v/pkg/a.py", false),
            ("v/pkg/b.py", false),
            ("v/other/c.py", false),
        ]);
        let plan = plan(&image, &work, &members);
        assert_eq!(plan.remove, ["/v/pkg/__pycache__"]);
        let carried: Vec<&str> = plan.carried.iter().map(String::as_str).collect();
        assert_eq!(carried, ["v/other/c.py", "v/pkg/", "v/pkg/a.py"]);
    }
}
