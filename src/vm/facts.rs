//! Everything a VM lab's check run reads: the probe's facts from inside
//! each machine (types shared with the probe: `probe/facts.rs`) and what
//! the host measures itself from outside (SSH banner, HTTP through the
//! published port).


use serde::{Deserialize, Serialize};

#[path = "../../probe/facts.rs"]
mod shared;

pub(crate) use shared::*;

/// The facts of one check run of a VM lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmFacts {
    /// One entry per machine of the lab, the lab's first machine first.
    pub(crate) machines: Vec<MachineFacts>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MachineFacts {
    pub(crate) name: String,
    /// The probe's answer, or why it gave none (its checks are `error`).
    pub(crate) probe: Result<Facts, String>,
    pub(crate) host: HostFacts,
    /// What the runs of Ansible say of this machine (labs with `ansible:`,
    /// when a check reads them).
    #[serde(default)]
    pub(crate) ansible: Option<super::ansible::AnsibleFacts>,
}

/// What the host measured itself, outside the VM.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostFacts {
    /// The first line sshd sent through the published port, or why none came.
    pub(crate) ssh_banner: Option<Result<String, String>>,
    /// A real login with deploylab's key through the published port (the
    /// host key pinned at start): the user it logged in as, or why not.
    pub(crate) ssh_login: Option<Result<String, String>>,
    /// The public key deploylab logs in with (OpenSSH format).
    pub(crate) public_key: String,
    /// Requests to the VM's port 80, when a check reads them.
    pub(crate) http: Option<HttpFacts>,
    /// How much the VM has written to disk (none when the engine did not say).
    #[serde(default)]
    pub(crate) disk: Option<super::disk::DiskUse>,
}

/// The requests the web checks read (see `http.rs`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpFacts {
    /// `/`, twice (redirects within the site followed).
    pub(crate) home: Vec<HttpAnswer>,
    /// `/admin/login/`, twice: a live Django's other proof of life.
    pub(crate) admin: Vec<HttpAnswer>,
    /// `/static/admin/css/base.css`.
    pub(crate) static_file: HttpAnswer,
    /// A page that does not exist.
    pub(crate) missing: HttpAnswer,
}

pub(crate) use crate::http_answer::HttpAnswer;
