//! The resource limits of every container deploylab runs, in one place:
//! the README's "Limits" table is this file. A student is root in a lab and
//! a graded submission is untrusted, so nothing they run may take more of
//! the host than this (memory, processes, CPUs).

use bollard::models::HostConfig;

pub(crate) struct Limits {
    memory_mib: i64,
    pids: i64,
    /// At most this many of the host's CPUs (fewer on a smaller host).
    cpus: f64,
}

/// The VM stand-in: enough for apt, pip and the course's services.
pub(crate) const VM: Limits = Limits {
    memory_mib: 2048,
    pids: 2048,
    cpus: 2.0,
};

/// The lab's git server (static files).
pub(crate) const GIT_SERVER: Limits = Limits {
    memory_mib: 128,
    pids: 64,
    cpus: 0.5,
};

/// A heroku build (pip install of the app).
pub(crate) const BUILD: Limits = Limits {
    memory_mib: 1024,
    pids: 1024,
    cpus: 2.0,
};

/// A heroku dyno (a standard-1X has 512 MB) and a one-off check container.
pub(crate) const DYNO: Limits = Limits {
    memory_mib: 512,
    pids: 256,
    cpus: 1.0,
};

/// The vm-ansible lab's control container (`deploylab ansible-playbook`):
/// Ansible forks a process per host and task.
pub(crate) const ANSIBLE_CONTROL: Limits = Limits {
    memory_mib: 1024,
    pids: 512,
    cpus: 1.0,
};

/// Past this much written to a VM's disk (its writable layer), `check`
/// warns. The storage drivers deploylab meets take no size limit, so the
/// layer is watched instead (`vm/disk.rs`).
pub(crate) const VM_DISK_WARN: u64 = 4_000_000_000;

impl Limits {
    /// A container's host configuration with these limits; the caller adds
    /// the rest (`..limits::VM.host_config()`).
    pub(crate) fn host_config(&self) -> HostConfig {
        let host_cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let nano_cpus = (self.cpus.min(host_cpus as f64) * 1e9) as i64;
        HostConfig {
            memory: Some(self.memory_mib * 1024 * 1024),
            pids_limit: Some(self.pids),
            nano_cpus: Some(nano_cpus),
            ..Default::default()
        }
    }
}
