//! The fake Heroku's stack images, where builds and dynos run: one per
//! Python offered (`pythons::ALL`), made from that Python's base image
//! (the VM image for 3.11: Debian 12, pip pointed at the offline wheels,
//! `python3-venv` installed from the offline apt repository; a Python base
//! of Debian 13 or 14 for the others), with a `dyno` user whose home is
//! `/app`, as on Heroku. A build picks one by the app's `.python-version`
//! or `runtime.txt`. Made once per base image by running a container and
//! committing it; no registry, no network.

use bollard::Docker;
use bollard::models::ContainerConfig;

use crate::error::Result;
use crate::images::VmImage;
use crate::progress::Progress;
use crate::pythons::{self, Python};

pub(crate) const STACK_REPO: &str = "deploylab/heroku-24";
/// The dynos' PATH: a slug's Python lives in /app/.heroku/python, as on Heroku.
pub(crate) const PATH: &str = "/app/.heroku/python/bin:/usr/local/bin:/usr/bin:/bin";
/// The unprivileged user builds and dynos run as.
pub(crate) const DYNO_USER: &str = "dyno";
pub(crate) const DYNO_UID: u64 = 1100;

fn setup(python: &Python) -> String {
    let install = crate::standin::install(python, "python3-venv");
    format!(
        "set -e
export DEBIAN_FRONTEND=noninteractive
{install}useradd --uid 1100 --home-dir /app --create-home --shell /bin/bash dyno
# /app is the app's alone, as on Heroku: no shell start-up files.
rm -f /app/.bash_logout /app/.bashrc /app/.profile
# Each app's database volume is mounted here; Docker copies this owner.
install -d -o 1100 -g 1100 /data
# The Python every build starts from (Heroku installs it at this path).
python3 -m venv /app/.heroku/python
chown -R dyno:dyno /app
"
    )
}

/// A stack image and the Python it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stack {
    /// major.minor, as `pythons::Python::version`.
    pub(crate) python: String,
    pub(crate) image: String,
}

impl Stack {
    /// `3.13=deploylab/heroku-24:…`, as the fake's `--stack` takes it.
    pub(crate) fn arg(&self) -> String {
        format!("{}={}", self.python, self.image)
    }

    pub(crate) fn parse(arg: &str) -> std::result::Result<Stack, String> {
        match arg.split_once('=') {
            Some((python, image)) if !python.is_empty() && !image.is_empty() => Ok(Stack {
                python: python.to_string(),
                image: image.to_string(),
            }),
            _ => Err(format!("expected PYTHON=IMAGE, got {arg}")),
        }
    }
}

/// The stack image's tag for a Python on a VM image: a new setup makes a
/// new stack, even on the same base.
pub(crate) fn tag_for(vm: &VmImage, python: &Python) -> String {
    let base = crate::images::base_tag(vm, python);
    crate::standin::tag_for(STACK_REPO, &base, &setup(python))
}

/// Every Python's stack image, built if missing.
pub(crate) async fn ensure(
    docker: &Docker,
    vm: &VmImage,
    progress: &Progress,
) -> Result<Vec<Stack>> {
    let mut stacks = Vec::new();
    for python in pythons::ALL {
        let base = crate::images::ensure_base(docker, vm, python, progress).await?;
        let tag = tag_for(vm, python);
        let setup = setup(python);
        let recipe = crate::standin::Derived {
            tag: &tag,
            kind: "heroku-stack",
            setup: &setup,
            config: ContainerConfig {
                cmd: Some(vec!["/bin/bash".into()]),
                working_dir: Some("/app".into()),
                env: Some(vec![format!("PATH={PATH}"), "LANG=C.UTF-8".into()]),
                ..Default::default()
            },
            binds: Vec::new(),
        };
        crate::standin::derive(docker, &base, &recipe, progress).await?;
        stacks.push(Stack {
            python: python.version.to_string(),
            image: tag,
        });
    }
    Ok(stacks)
}
