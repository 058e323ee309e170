//! A stand-in for the official `python:3.11-slim` image: Debian 12's
//! Python 3.11 with `python`, `pip` and `pip install` as root working the
//! way they do in the official image (no "externally managed" refusal;
//! packages land in /usr/local). Its pip asks deploylab's package proxy
//! (cached wheels, and what the host fetches when it is online), so `pip
//! install` works inside `docker build` and in containers with no network
//! but the way to the host.

use std::net::SocketAddr;

use bollard::Docker;
use bollard::models::ContainerConfig;

use crate::error::Result;
use crate::images::VmImage;
use crate::progress::Progress;

pub(crate) const REPO: &str = "deploylab/python";
/// The `deploylab.image` label of the stand-in.
pub(crate) const KIND: &str = "python-standin";
/// The official names it answers to where no such image exists.
pub(crate) const OFFICIAL: &[&str] = &[
    "python:3.11-slim",
    "python:3.11-slim-bookworm",
    "python:3.11",
    "python:3.11-bookworm",
];
/// Debian 12's Python.
const VERSION: &str = "3.11.2";

/// The setup script: packages, then pip pointed at the proxy at `proxy`.
fn setup(proxy: SocketAddr) -> String {
    format!(
        r#"set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-pip python3-venv python-is-python3 >/dev/null
rm -rf /var/lib/apt/lists/*
# The official image's Python is not Debian's: pip as root installs freely.
rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
ln -sf /usr/bin/pip3 /usr/local/bin/pip
ln -sf /usr/bin/pip3 /usr/local/bin/pip3
cat > /etc/pip.conf <<'CONF'
{conf}CONF
"#,
        conf = crate::packages::pip_conf(proxy)
    )
}

/// The stand-in's tag for a VM image and proxy address.
pub(crate) fn tag_for(vm: &VmImage, proxy: SocketAddr) -> String {
    super::tag_for(REPO, vm, &setup(proxy))
}

/// The stand-in, built if missing, under its official names where free:
/// its tag and those names.
pub(crate) async fn ensure(
    docker: &Docker,
    vm: &VmImage,
    proxy: SocketAddr,
    progress: &Progress,
) -> Result<(String, Vec<String>)> {
    let tag = tag_for(vm, proxy);
    let setup = setup(proxy);
    let recipe = super::Derived {
        tag: &tag,
        kind: KIND,
        setup: &setup,
        config: ContainerConfig {
            cmd: Some(vec!["python3".into()]),
            env: Some(vec![
                "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "LANG=C.UTF-8".into(),
                format!("PYTHON_VERSION={VERSION}"),
            ]),
            stop_signal: Some("SIGTERM".into()),
            working_dir: Some("/".into()),
            ..Default::default()
        },
    };
    super::derive(docker, vm, &recipe, progress).await?;
    let names = super::name_as_official(docker, &tag, KIND, OFFICIAL).await?;
    Ok((tag, names))
}
