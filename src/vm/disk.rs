//! How much disk a VM has written: the size of its container's writable
//! layer. The storage drivers deploylab meets (fuse-overlayfs, overlay2 on
//! most hosts) take no size limit, so a student's `fallocate -l 30G` is 30
//! GB of the host's disk; deploylab watches instead: `status` shows the
//! size, `check` warns past [`limits::VM_DISK_WARN`].
//!
//! The engine measures by walking the whole layer (about 2 s for a fresh
//! VM here), far over a check's budget, so a check measures at most every
//! [`MEASURE_EVERY`] and otherwise reuses the last figure, kept in the
//! home per container.

use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use serde::{Deserialize, Serialize};

use crate::limits;
use crate::state::{self, Home};

/// How old a remembered figure may be before a check measures again.
const MEASURE_EVERY: Duration = Duration::from_secs(10 * 60);

/// The engine may take long on a large layer; past this the figure is
/// simply missing (nothing is judged on it).
const MEASURE_TIMEOUT: Duration = Duration::from_secs(20);

/// Messages, kept together for translation.
mod text {
    pub(super) fn too_much(written: &str, limit: &str) -> String {
        format!(
            "the VM has written {written} to disk (over {limit}): delete what you do not \
             need (large files, caches), or `deploylab start --fresh` for a new VM"
        )
    }
}

/// The VM's writable layer, as a check saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiskUse {
    pub(crate) bytes: u64,
    /// Measured during this check (it took a while) rather than remembered.
    pub(crate) measured_now: bool,
}

/// What is kept in the home between checks.
#[derive(Serialize, Deserialize)]
struct Remembered {
    /// Seconds since the Unix epoch.
    at: u64,
    bytes: u64,
}

fn remembered_path(home: &Home, container: &str) -> PathBuf {
    home.dir.join("disk").join(format!("{container}.json"))
}

/// The size of a container's writable layer, asked of the engine.
pub(crate) async fn measure(docker: &Docker, container: &str) -> Option<u64> {
    let options = bollard::query_parameters::InspectContainerOptionsBuilder::default()
        .size(true)
        .build();
    let inspect = docker.inspect_container(container, Some(options));
    let inspect = tokio::time::timeout(MEASURE_TIMEOUT, inspect)
        .await
        .ok()?
        .ok()?;
    inspect.size_rw.and_then(|b| u64::try_from(b).ok())
}

/// Remembers a figure (`start` records a new VM's, so the first check does
/// not pay for a measurement).
pub(crate) fn remember(home: &Home, container: &str, bytes: u64) {
    let path = remembered_path(home, container);
    let record = Remembered {
        at: state::now(),
        bytes,
    };
    let text = serde_json::to_vec(&record).expect("a figure serializes");
    // A figure that cannot be kept is measured again next time.
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(&home.dir));
    let _ = state::write_atomically(&path, &text);
}

/// Forgets a removed container's figures.
pub(crate) fn forget(home: &Home, container: &str) {
    let _ = std::fs::remove_file(remembered_path(home, container));
    let _ = std::fs::remove_file(restore_path(home, container));
}

/// A graded VM's restore, kept in the home for the grade's limits.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Restore {
    /// When it began (seconds since the epoch): what the VM's disk changes
    /// after is the work's. Kept on the host, out of the work's reach.
    pub(crate) since: u64,
    /// The bytes of the work its image already had (`vm/carry.rs`): its
    /// own, though no walk sees them written.
    pub(crate) carried: u64,
}

fn restore_path(home: &Home, container: &str) -> PathBuf {
    home.dir.join("disk").join(format!("{container}.restore.json"))
}

/// Remembers a graded VM's restore.
pub(crate) fn remember_restore(home: &Home, container: &str, restore: &Restore) {
    let path = restore_path(home, container);
    let text = serde_json::to_vec(restore).expect("a restore serializes");
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(&home.dir));
    let _ = state::write_atomically(&path, &text);
}

/// A graded VM's restore (None: not restored).
pub(crate) fn restore_of(home: &Home, container: &str) -> Option<Restore> {
    let text = std::fs::read(restore_path(home, container)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The figure a check uses: remembered when recent, else measured now.
pub(crate) async fn for_check(docker: &Docker, home: &Home, container: &str) -> Option<DiskUse> {
    let path = remembered_path(home, container);
    let recent = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Remembered>(&b).ok())
        .filter(|r| state::now().saturating_sub(r.at) < MEASURE_EVERY.as_secs());
    if let Some(r) = recent {
        return Some(DiskUse {
            bytes: r.bytes,
            measured_now: false,
        });
    }
    let bytes = measure(docker, container).await?;
    remember(home, container, bytes);
    Some(DiskUse {
        bytes,
        measured_now: true,
    })
}

/// The warning a check prints, past the threshold.
pub(crate) fn warning(disk: Option<DiskUse>) -> Option<String> {
    let disk = disk.filter(|d| d.bytes > limits::VM_DISK_WARN)?;
    Some(text::too_much(
        &human(disk.bytes),
        &human(limits::VM_DISK_WARN),
    ))
}

pub(crate) use crate::units::human_bytes as human;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graded_vms_restore_is_kept_apart_and_forgotten_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home {
            dir: dir.path().to_path_buf(),
            cache: dir.path().join("cache"),
        };
        let (a, b) = (
            Restore { since: 1_796_451_741, carried: 7 },
            Restore { since: 5, carried: 0 },
        );
        assert_eq!(restore_of(&home, "a"), None);
        remember_restore(&home, "a", &a);
        remember_restore(&home, "b", &b);
        assert_eq!(restore_of(&home, "a"), Some(a));
        forget(&home, "a");
        assert_eq!(restore_of(&home, "a"), None);
        assert_eq!(restore_of(&home, "b"), Some(b));
    }

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(8_390_298), "8.4 MB");
        assert_eq!(human(820_000_000), "820 MB");
        assert_eq!(human(3_000_000_000), "3.0 GB");
    }

    #[test]
    fn only_a_layer_past_the_threshold_is_warned_about() {
        let small = DiskUse {
            bytes: 600_000_000,
            measured_now: false,
        };
        let large = DiskUse {
            bytes: limits::VM_DISK_WARN + 1,
            measured_now: true,
        };
        assert_eq!(warning(Some(small)), None);
        assert_eq!(warning(None), None);
        let said = warning(Some(large)).expect("a warning");
        assert!(said.contains("4.0 GB"), "{said}");
    }
}
