//! The submission file: a student's work in one file they commit, which
//! `grade` restores into a fresh environment and checks there.
//!
//! A plain tar of three members, in this order:
//! - `manifest.json` ([`Manifest`]): what it is (lab, environment, the
//!   recipe of the environment it came from, deploylab's version, when),
//!   the student's own check at submit time (shown, never trusted) and
//!   the sha256 of the two others;
//! - `state.json`: the environment's own description of the work
//!   (for a VM: its Debian packages, deletions, deploylab's key);
//! - `files.tar.gz`: the files the work added or changed.
//!
//! Nothing here is believed: the hashes catch a damaged or hand-edited file
//! (a clear error, never a crash), and the points come only from checks run
//! on what the submission restores.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::state;

/// The manifest's format version.
pub(crate) const SCHEMA: u32 = 1;

/// What a submission file may hold at most (a reference solution is a few
/// MB; this keeps a hostile file from exhausting the grader's memory).
pub(crate) const MAX_BYTES: u64 = 256 * 1024 * 1024;

const MANIFEST: &str = "manifest.json";
const STATE: &str = "state.json";
const FILES: &str = "files.tar.gz";

/// Messages, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn not_a_submission() -> String {
        tr!("submission-not-a-submission")
    }
    pub(super) fn too_large() -> String {
        tr!("submission-too-large")
    }
    pub(super) fn no_manifest() -> String {
        tr!("submission-no-manifest")
    }
    pub(super) fn edited() -> String {
        tr!("submission-edited")
    }
    pub(super) fn none_in_folder() -> String {
        tr!("submission-none-in-folder")
    }

    pub(super) fn newer_schema(found: u32) -> String {
        format!(
            "made by a newer deploylab (submission format {found}, this one reads {})",
            super::SCHEMA
        )
    }

    pub(super) fn several_in_folder(names: &str) -> String {
        tr!("submission-several-in-folder", names = names)
    }
}

/// What a submission is, in its own words (never trusted for points).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    pub(crate) schema: u32,
    pub(crate) lab: String,
    /// The lab's environment (`vm`, `heroku`).
    pub(crate) environment: String,
    /// What the environment was built from (for a VM: its image's tag,
    /// which names the recipe); grading needs the same.
    pub(crate) recipe: String,
    pub(crate) deploylab_version: String,
    /// Seconds since the Unix epoch.
    pub(crate) created_at: u64,
    /// The student's own `check --format json` at submit time: shown to
    /// the instructor, never used for points.
    pub(crate) self_check: Option<serde_json::Value>,
    pub(crate) state_sha256: String,
    pub(crate) files_sha256: String,
    pub(crate) files_bytes: u64,
}

impl Manifest {
    /// The manifest of work captured now (`write` fills in the hashes).
    pub(crate) fn new(
        lab: &str,
        environment: &str,
        recipe: String,
        self_check: Option<serde_json::Value>,
    ) -> Manifest {
        Manifest {
            schema: SCHEMA,
            lab: lab.to_string(),
            environment: environment.to_string(),
            recipe,
            deploylab_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: state::now(),
            self_check,
            state_sha256: String::new(),
            files_sha256: String::new(),
            files_bytes: 0,
        }
    }
}

/// A submission read back and verified.
pub(crate) struct Submission {
    pub(crate) path: PathBuf,
    pub(crate) manifest: Manifest,
    /// The environment's description, as JSON (its own type reads it).
    pub(crate) state: Vec<u8>,
    /// `files.tar.gz`, as made.
    pub(crate) files: Vec<u8>,
    /// The sha256 of the whole file: how an instructor names it.
    pub(crate) sha256: String,
}

/// Writes a submission file (atomically: a half-written one never exists).
pub(crate) fn write(
    path: &Path,
    manifest_base: Manifest,
    state_json: &[u8],
    files: &[u8],
) -> Result<u64> {
    let manifest = Manifest {
        state_sha256: sha256(state_json),
        files_sha256: sha256(files),
        files_bytes: files.len() as u64,
        ..manifest_base
    };
    let manifest_json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    let mut archive = tar::Builder::new(Vec::new());
    for (name, bytes) in [
        (MANIFEST, manifest_json.as_slice()),
        (STATE, state_json),
        (FILES, files),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(manifest.created_at);
        archive
            .append_data(&mut header, name, bytes)
            .map_err(Error::io("packing the submission"))?;
    }
    let bytes = archive
        .into_inner()
        .map_err(Error::io("packing the submission"))?;
    state::write_shared(path, &bytes)?;
    Ok(bytes.len() as u64)
}

/// Reads and verifies a submission given as a file, or as a folder (an
/// assignment repository) holding exactly one `*.submission` file.
pub(crate) fn read(given: &Path) -> Result<Submission> {
    let path = locate(given)?;
    let bad = |why: &str| Error::BadSubmission {
        path: path.clone(),
        why: why.to_string(),
    };
    let size = std::fs::metadata(&path)
        .map_err(|e| bad(&e.to_string()))?
        .len();
    if size > MAX_BYTES {
        return Err(bad(&text::too_large()));
    }
    let bytes = std::fs::read(&path).map_err(|e| bad(&e.to_string()))?;
    let (mut manifest, mut state, mut files) = (None, None, None);
    let mut archive = tar::Archive::new(bytes.as_slice());
    let entries = archive
        .entries()
        .map_err(|_| bad(&text::not_a_submission()))?;
    for entry in entries {
        let mut entry = entry.map_err(|_| bad(&text::not_a_submission()))?;
        let name = entry
            .path()
            .map_err(|_| bad(&text::not_a_submission()))?
            .to_string_lossy()
            .into_owned();
        let slot = match name.as_str() {
            MANIFEST => &mut manifest,
            STATE => &mut state,
            FILES => &mut files,
            _ => return Err(bad(&text::not_a_submission())),
        };
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|_| bad(&text::not_a_submission()))?;
        *slot = Some(data);
    }
    let (Some(manifest_json), Some(state), Some(files)) = (manifest, state, files) else {
        return Err(bad(&text::not_a_submission()));
    };
    // The schema first, so a newer format says so rather than "unreadable".
    let schema = serde_json::from_slice::<serde_json::Value>(&manifest_json)
        .ok()
        .and_then(|v| v.get("schema")?.as_u64());
    match schema {
        Some(s) if s > u64::from(SCHEMA) => {
            return Err(bad(&text::newer_schema(
                u32::try_from(s).unwrap_or(u32::MAX),
            )));
        }
        Some(_) => {}
        None => return Err(bad(&text::no_manifest())),
    }
    let manifest: Manifest =
        serde_json::from_slice(&manifest_json).map_err(|_| bad(&text::no_manifest()))?;
    if sha256(&state) != manifest.state_sha256
        || sha256(&files) != manifest.files_sha256
        || files.len() as u64 != manifest.files_bytes
    {
        return Err(bad(&text::edited()));
    }
    Ok(Submission {
        path,
        manifest,
        state,
        files,
        sha256: sha256(&bytes),
    })
}

/// A file as given, or the one `*.submission` file of a folder.
fn locate(given: &Path) -> Result<PathBuf> {
    if !given.is_dir() {
        return Ok(given.to_path_buf());
    }
    let bad = |why: String| Error::BadSubmission {
        path: given.to_path_buf(),
        why,
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(given)
        .map_err(|e| bad(e.to_string()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "submission") && p.is_file())
        .collect();
    found.sort();
    match found.len() {
        0 => Err(bad(text::none_in_folder())),
        1 => Ok(found.remove(0)),
        _ => {
            let names: Vec<String> = found
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            Err(bad(text::several_in_folder(&names.join(", "))))
        }
    }
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    state::hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            schema: SCHEMA,
            lab: "vm-nginx".into(),
            environment: "vm".into(),
            recipe: "deploylab/vm:abc".into(),
            deploylab_version: "0.1.0".into(),
            created_at: 1_700_000_000,
            self_check: None,
            state_sha256: String::new(),
            files_sha256: String::new(),
            files_bytes: 0,
        }
    }

    fn written(dir: &Path) -> PathBuf {
        let path = dir.join("deploylab-vm-nginx.submission");
        write(&path, manifest(), b"{\"packages\":[]}", b"not really gzip").unwrap();
        path
    }

    #[test]
    fn a_written_submission_reads_back_from_its_file_or_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        for given in [path.as_path(), dir.path()] {
            let read = read(given).unwrap();
            assert_eq!(read.path, path);
            assert_eq!(read.manifest.lab, "vm-nginx");
            assert_eq!(read.state, b"{\"packages\":[]}");
            assert_eq!(read.files, b"not really gzip");
            assert_eq!(read.sha256, sha256(&std::fs::read(&path).unwrap()));
        }
    }

    fn why(given: &Path) -> String {
        match read(given) {
            Err(Error::BadSubmission { why, .. }) => why,
            Err(other) => panic!("another error: {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn an_edited_payload_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes
            .windows(4)
            .position(|w| w == b"gzip")
            .expect("the payload");
        bytes[at] = b'G';
        std::fs::write(&path, bytes).unwrap();
        assert!(why(&path).contains("edited or damaged"));
    }

    #[test]
    fn foreign_truncated_and_newer_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("a.submission");
        std::fs::write(&foreign, "hello, I am a text file\n").unwrap();
        assert_eq!(why(&foreign), text::not_a_submission());

        let path = written(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.bin");
        std::fs::write(&cut, &bytes[..700]).unwrap();
        assert_eq!(why(&cut), text::not_a_submission());

        let newer = dir.path().join("newer.bin");
        let mut m = manifest();
        m.schema = 9;
        write(&newer, m, b"{}", b"x").unwrap();
        assert!(why(&newer).contains("newer deploylab"), "{}", why(&newer));

        assert!(why(dir.path()).contains("several submission files"));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(why(empty.path()), text::none_in_folder());
    }
}
