//! The fake Heroku's stack image, where builds and dynos run: the VM image
//! (Debian 12, Python 3.11, pip pointed at the offline wheels) with
//! `python3-venv` installed from the offline apt repository and a `dyno`
//! user whose home is `/app`, as on Heroku. Made once per VM image by
//! running a container and committing it; no registry, no network.

use bollard::Docker;
use bollard::models::ContainerConfig;

use crate::error::Result;
use crate::images::VmImage;
use crate::progress::Progress;

pub(crate) const STACK_REPO: &str = "deploylab/heroku-24";
/// The Python every build gets (Debian 12's); `.python-version` must ask for it.
pub(crate) const PYTHON_VERSION: &str = "3.11";
/// The dynos' PATH: a slug's Python lives in /app/.heroku/python, as on Heroku.
pub(crate) const PATH: &str = "/app/.heroku/python/bin:/usr/local/bin:/usr/bin:/bin";
/// The unprivileged user builds and dynos run as.
pub(crate) const DYNO_USER: &str = "dyno";
pub(crate) const DYNO_UID: u64 = 1100;

const SETUP: &str = "set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
useradd --uid 1100 --home-dir /app --create-home --shell /bin/bash dyno
# /app is the app's alone, as on Heroku: no shell start-up files.
rm -f /app/.bash_logout /app/.bashrc /app/.profile
# Each app's database volume is mounted here; Docker copies this owner.
install -d -o 1100 -g 1100 /data
# The Python every build starts from (Heroku installs it at this path).
python3 -m venv /app/.heroku/python
chown -R dyno:dyno /app
rm -rf /var/lib/apt/lists/*";

/// The stack image's tag for a VM image: a new setup makes a new stack,
/// even on the same VM image.
pub(crate) fn tag_for(vm: &VmImage) -> String {
    crate::standin::tag_for(STACK_REPO, vm, SETUP)
}

/// The stack image for a VM image: its tag, built if missing.
pub(crate) async fn ensure(docker: &Docker, vm: &VmImage, progress: &Progress) -> Result<String> {
    let tag = tag_for(vm);
    let recipe = crate::standin::Derived {
        tag: &tag,
        kind: "heroku-stack",
        setup: SETUP,
        config: ContainerConfig {
            cmd: Some(vec!["/bin/bash".into()]),
            working_dir: Some("/app".into()),
            env: Some(vec![format!("PATH={PATH}"), "LANG=C.UTF-8".into()]),
            ..Default::default()
        },
    };
    crate::standin::derive(docker, vm, &recipe, progress).await?;
    Ok(tag)
}
