//! Stand-ins for the official `python:3.X-slim` images, one per Python
//! deploylab offers (`pythons::ALL`): Debian's Python of that release with
//! `python`, `pip` and `pip install` as root working the way they do in the
//! official image (no "externally managed" refusal). Their pip asks
//! deploylab's package proxy (cached wheels, and what the host fetches when
//! it is online), so `pip install` works inside `docker build` and in
//! containers with no network but the way to the host.

use bollard::Docker;
use bollard::models::ContainerConfig;

use crate::error::Result;
use crate::images::{VmImage, WHEELS_MOUNT};
use crate::packages::Endpoint;
use crate::progress::Progress;
use crate::pythons::{self, Python};

pub(crate) const REPO: &str = "deploylab/python";
/// The `deploylab.image` label of the stand-ins.
pub(crate) const KIND: &str = "python-standin";

/// The official names the stand-in for `python` answers to where no such
/// image exists: the release's own spellings only (the official 3.14
/// images are Debian 13's, this one is Debian 14's: no `-trixie` name).
pub(crate) fn official(python: &Python) -> Vec<String> {
    let v = python.version;
    let mut names = vec![format!("python:{v}-slim"), format!("python:{v}")];
    if python.suite != "forky" {
        let s = python.suite;
        names.extend([format!("python:{v}-slim-{s}"), format!("python:{v}-{s}")]);
    }
    names
}

/// Every official name a Python stand-in may carry.
pub(crate) fn all_official() -> Vec<String> {
    pythons::ALL.iter().flat_map(official).collect()
}

/// Where the wheels are mounted while a stand-in without a proxy is made.
const WHEELS_SOURCE: &str = "/mnt/deploylab-wheels";

/// The setup script: packages, then pip pointed at the proxy at `proxy`;
/// without one (no container here reaches the host), the offline wheels
/// go inside and pip reads them alone.
fn setup(python: &Python, proxy: Option<&Endpoint>) -> String {
    let (wheels, conf) = match proxy {
        Some(proxy) => (String::new(), crate::packages::pip_conf(proxy)),
        None => (
            format!("mkdir -p {WHEELS_MOUNT}\ncp {WHEELS_SOURCE}/* {WHEELS_MOUNT}/\n"),
            format!("{}\n", crate::images::OFFLINE_PIP_CONF),
        ),
    };
    format!(
        r#"set -e
export DEBIAN_FRONTEND=noninteractive
{install}# The official image's Python is not Debian's: pip as root installs freely.
rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
ln -sf /usr/bin/pip3 /usr/local/bin/pip
ln -sf /usr/bin/pip3 /usr/local/bin/pip3
{wheels}cat > /etc/pip.conf <<'CONF'
{conf}CONF
"#,
        install = super::install(python, "python3 python3-pip python3-venv python-is-python3"),
    )
}

/// The stand-in's tag for a Python, VM image and proxy address.
pub(crate) fn tag_for(vm: &VmImage, python: &Python, proxy: Option<&Endpoint>) -> String {
    let base = crate::images::base_tag(vm, python);
    super::tag_for(REPO, &base, &setup(python, proxy))
}

/// A stand-in made: its tag, the official names it carries, and what it is.
pub(crate) struct Made {
    pub(crate) tag: String,
    pub(crate) names: Vec<String>,
    pub(crate) what: String,
}

/// Every Python's stand-in, built if missing, under its official names
/// where free.
pub(crate) async fn ensure(
    docker: &Docker,
    vm: &VmImage,
    proxy: Option<&Endpoint>,
    progress: &Progress,
) -> Result<Vec<Made>> {
    let mut made = Vec::new();
    for python in pythons::ALL {
        let base = crate::images::ensure_base(docker, vm, python, progress).await?;
        let tag = tag_for(vm, python, proxy);
        let setup = setup(python, proxy);
        let recipe = super::Derived {
            tag: &tag,
            kind: KIND,
            setup: &setup,
            config: ContainerConfig {
                cmd: Some(vec!["python3".into()]),
                env: Some(vec![
                    "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                    "LANG=C.UTF-8".into(),
                    format!("PYTHON_VERSION={}", python.version),
                ]),
                stop_signal: Some("SIGTERM".into()),
                working_dir: Some("/".into()),
                ..Default::default()
            },
            binds: match proxy {
                Some(_) => Vec::new(),
                None => vec![format!("{}:{WHEELS_SOURCE}:ro", vm.wheels_dir.display())],
            },
        };
        super::derive(docker, &base, &recipe, progress).await?;
        let official = official(python);
        let official: Vec<&str> = official.iter().map(String::as_str).collect();
        let names = super::name_as_official(docker, &tag, KIND, &official).await?;
        made.push(Made {
            tag,
            names,
            what: text::what(python),
        });
    }
    Ok(made)
}

mod text {
    pub(super) fn what(python: &crate::pythons::Python) -> String {
        format!(
            "{}'s Python {}, pip through deploylab's proxy",
            python.debian, python.version
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_python_answers_to_its_releases_official_names() {
        let names = super::all_official();
        for name in [
            "python:3.11-slim",
            "python:3.11-slim-bookworm",
            "python:3.13-slim",
            "python:3.13-slim-trixie",
            "python:3.13",
            "python:3.14-slim",
        ] {
            assert!(names.iter().any(|n| n == name), "{name}: {names:?}");
        }
        assert!(!names.iter().any(|n| n == "python:3.14-slim-trixie"));
        assert!(!names.iter().any(|n| n.starts_with("python:3.12")));
    }
}
