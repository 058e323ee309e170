//! deploylab's own files: where they live, and the state file that says which
//! labs run in which containers.
//!
//! - data home (`DEPLOYLAB_HOME`, default `~/.local/share/deploylab` or the
//!   platform's equivalent): `state.json`, the SSH key.
//! - cache (`DEPLOYLAB_CACHE`, default `~/.cache/deploylab`): what image
//!   builds produce for the VMs (offline apt repository, wheels). Shared
//!   between homes, so tests with throwaway homes reuse one build.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub(crate) struct Home {
    pub(crate) dir: PathBuf,
    pub(crate) cache: PathBuf,
}

impl Home {
    pub(crate) fn from_env() -> Result<Home> {
        let dir = env_dir("DEPLOYLAB_HOME")
            .or_else(|| dirs::data_dir().map(|d| d.join("deploylab")))
            .unwrap_or_else(|| PathBuf::from(".deploylab"));
        let cache = env_dir("DEPLOYLAB_CACHE")
            .or_else(|| dirs::cache_dir().map(|d| d.join("deploylab")))
            .unwrap_or_else(|| dir.join("cache"));
        for d in [&dir, &cache] {
            std::fs::create_dir_all(d).map_err(Error::io(format!("creating {}", d.display())))?;
        }
        // Canonical, so one home reached by two spellings is one instance.
        let dir = dir.canonicalize().unwrap_or(dir);
        Ok(Home { dir, cache })
    }

    /// Holds this home for one command that changes its labs (`start`,
    /// `stop`): a second one waits until the first is done, instead of both
    /// racing on the same containers and state file. Released when the file
    /// is dropped (or the process ends, however it ends).
    pub(crate) async fn lock(&self, progress: &crate::progress::Progress) -> Result<std::fs::File> {
        let path = self.dir.join("lock");
        let file = lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                progress.set(&crate::i18n::tr!("progress-lock-wait"));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", path.display()))(e));
            }
        }
        // Waiting blocks a thread; Ctrl-C still ends the wait.
        let waiting = tokio::task::spawn_blocking(move || file.lock().map(|()| file));
        tokio::select! {
            locked = waiting => locked
                .map_err(|e| Error::io(format!("locking {}", path.display()))(std::io::Error::other(e)))?
                .map_err(Error::io(format!("locking {}", path.display()))),
            () = crate::interrupt::requested() => Err(Error::Interrupted),
        }
    }

    /// Short id of this home, written on every container as a label.
    pub(crate) fn instance(&self) -> String {
        let digest = Sha256::digest(self.dir.to_string_lossy().as_bytes());
        hex(&digest)[..12].to_string()
    }

    fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub(crate) fn load<R: serde::de::DeserializeOwned>(&self) -> Result<State<R>> {
        let path = self.state_file();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                // A damaged state file (bad JSON, not UTF-8, an older
                // format) must not lock the student out: the containers
                // are found again through their labels.
                tracing::warn!("ignoring unreadable {}: {e}", path.display());
                State::default()
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Error::io(format!("reading {}", path.display()))(e)),
        }
    }

    /// Writes the state atomically: a crash leaves the old file or the new.
    pub(crate) fn save<R: Serialize>(&self, state: &State<R>) -> Result<()> {
        let text = serde_json::to_string_pretty(state).expect("state always serializes");
        write_atomically(&self.state_file(), text.as_bytes())
    }

    pub(crate) fn key_path(&self) -> PathBuf {
        self.dir.join("ssh").join("id_ed25519")
    }

    /// The host keys of this home's VMs, for ssh's `UserKnownHostsFile`.
    pub(crate) fn known_hosts_path(&self) -> PathBuf {
        self.dir.join("ssh").join("known_hosts")
    }

    /// Pins a VM's SSH host key for its address (replacing an older VM's).
    pub(crate) fn pin_host_key(&self, address: std::net::SocketAddr, key: &str) -> Result<()> {
        let path = self.known_hosts_path();
        let host = format!("[{}]:{}", address.ip(), address.port());
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut lines: Vec<&str> = old
            .lines()
            .filter(|l| l.split_whitespace().next() != Some(host.as_str()))
            .collect();
        let pinned = format!("{host} {}", key.trim());
        lines.push(&pinned);
        write_atomically(&path, format!("{}\n", lines.join("\n")).as_bytes())
    }
}

/// A file that is only ever locked (made if missing, never truncated:
/// another process may hold it).
pub(crate) fn lock_file(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(Error::io(format!("opening {}", path.display())))
}

/// Replaces a file atomically (a temporary file in the same folder, then a
/// rename): a crash leaves the old content or the new, never half.
/// As `write_atomically`, for a file meant for others (a submission to
/// commit, a gradebook): readable by all, as a new file usually is.
pub(crate) fn write_shared(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let readable = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(path, readable)
            .map_err(Error::io(format!("writing {}", path.display())))?;
    }
    Ok(())
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(fakekit::store::write_atomically(path, bytes)?)
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The state file: what runs for each started lab (`R`: the running state
/// of any environment, `environment::Running`). A cache of the engine's
/// truth: containers are found again through their labels.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(deserialize = "R: serde::de::DeserializeOwned"))]
pub(crate) struct State<R> {
    #[serde(default = "BTreeMap::new")]
    pub(crate) labs: BTreeMap<String, R>,
}

impl<R> Default for State<R> {
    fn default() -> Self {
        State {
            labs: BTreeMap::new(),
        }
    }
}

impl<R: Clone> State<R> {
    /// The lab a command is about: the one named, or the only one running.
    pub(crate) fn pick(&self, lab: Option<&str>) -> Result<(String, R)> {
        if let Some(id) = lab {
            return self
                .labs
                .get(id)
                .map(|r| (id.to_string(), r.clone()))
                .ok_or_else(|| Error::LabNotRunning { lab: id.into() });
        }
        let mut running = self.labs.iter();
        match (running.next(), running.next()) {
            (None, _) => Err(Error::NothingRunning),
            (Some((id, r)), None) => Ok((id.clone(), r.clone())),
            _ => Err(Error::WhichLab {
                running: self.labs.keys().cloned().collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

/// Generates deploylab's SSH key pair on first use (ed25519, one per home).
/// Returns the public key in OpenSSH format.
pub(crate) fn ensure_ssh_key(private: &Path) -> Result<String> {
    let public = private.with_extension("pub");
    if let Ok(text) = std::fs::read_to_string(&public)
        && private.exists()
    {
        return Ok(text.trim().to_string());
    }
    let context = format!("creating the SSH key {}", private.display());
    let key_error = |source| Error::SshKey {
        path: private.to_path_buf(),
        source,
    };
    let parent = private.parent().expect("key path has a parent");
    std::fs::create_dir_all(parent).map_err(Error::io(&context))?;
    let key =
        ssh_key::PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .map_err(key_error)?;
    let mut key = key;
    key.set_comment("deploylab");
    let pem = key.to_openssh(ssh_key::LineEnding::LF).map_err(key_error)?;
    let public_text = key.public_key().to_openssh().map_err(key_error)?;
    write_private(private, pem.as_bytes()).map_err(Error::io(&context))?;
    std::fs::write(&public, format!("{public_text}\n")).map_err(Error::io(&context))?;
    Ok(public_text)
}

/// Writes a file only its owner may read (keys).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fakekit::write_private(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ssh/id_ed25519");
        let first = ensure_ssh_key(&path).unwrap();
        assert!(first.starts_with("ssh-ed25519 "), "{first}");
        assert_eq!(ensure_ssh_key(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn pick_names_the_only_lab_or_asks() {
        let mut state: State<u32> = State::default();
        assert!(matches!(state.pick(None), Err(Error::NothingRunning)));
        let lab = 7;
        state.labs.insert("a".into(), lab);
        assert_eq!(state.pick(None).unwrap().0, "a");
        state.labs.insert("b".into(), lab);
        assert!(matches!(state.pick(None), Err(Error::WhichLab { .. })));
        assert_eq!(state.pick(Some("b")).unwrap().0, "b");
        assert!(matches!(
            state.pick(Some("z")),
            Err(Error::LabNotRunning { .. })
        ));
    }
}
