//! The fake Heroku's stack image, where builds and dynos run: the VM image
//! (Debian 12, Python 3.11, pip pointed at the offline wheels) with
//! `python3-venv` installed from the offline apt repository and a `dyno`
//! user whose home is `/app`, as on Heroku. Made once per VM image by
//! running a container and committing it; no registry, no network.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CommitContainerOptionsBuilder, CreateContainerOptionsBuilder};
use sha2::Digest;

use crate::docker::{LABEL_BUILD, LABEL_IMAGE, remove_container};
use crate::error::{Error, Result};
use crate::images::{APT_MOUNT, VmImage};
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
# Each app's database volume is mounted here; Docker copies this owner.
install -d -o 1100 -g 1100 /data
# The Python every build starts from (Heroku installs it at this path).
python3 -m venv /app/.heroku/python
chown -R dyno:dyno /app
rm -rf /var/lib/apt/lists/*";

/// The stack image's tag for a VM image: a new setup makes a new stack,
/// even on the same VM image.
pub(crate) fn tag_for(vm: &VmImage) -> String {
    let vm_hash = vm.tag.rsplit(':').next().unwrap_or_default();
    let setup_hash = crate::state::hex(&sha2::Sha256::digest(SETUP.as_bytes()));
    format!("{STACK_REPO}:{vm_hash}-{}", &setup_hash[..8])
}

/// The stack image for a VM image: its tag, built if missing.
pub(crate) async fn ensure(docker: &Docker, vm: &VmImage, progress: &Progress) -> Result<String> {
    let tag = tag_for(vm);
    let build = vm.build_id();
    if crate::images::has_build(docker, &tag, &build).await? {
        return Ok(tag);
    }
    progress.set(&format!("building {tag} (first use only)"));
    let failed = |detail: String| Error::ImageBuild {
        image: tag.clone(),
        detail,
    };
    let config = ContainerCreateBody {
        image: Some(vm.tag.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), SETUP.into()]),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{}:{APT_MOUNT}:ro", vm.apt_dir.display())]),
            network_mode: Some("none".into()),
            ..crate::limits::BUILD.host_config()
        }),
        ..Default::default()
    };
    let name = format!(
        "deploylab-stack-build-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(Error::docker("creating the stack build container"))?;
    let result = async {
        docker
            .start_container(&created.id, None)
            .await
            .map_err(Error::docker("starting the stack build container"))?;
        let code = crate::docker::wait_exit(docker, &created.id).await?;
        if code != 0 {
            let logs = crate::docker::container_logs(docker, &created.id).await;
            return Err(failed(format!("setup exited with {code}: {logs}")));
        }
        let options = CommitContainerOptionsBuilder::default()
            .container(&created.id)
            .repo(STACK_REPO)
            .tag(tag.rsplit(':').next().unwrap_or_default())
            .build();
        let config = ContainerConfig {
            cmd: Some(vec!["/bin/bash".into()]),
            working_dir: Some("/app".into()),
            env: Some(vec![format!("PATH={PATH}"), "LANG=C.UTF-8".into()]),
            labels: Some(HashMap::from([
                (LABEL_IMAGE.to_string(), "heroku-stack".to_string()),
                (LABEL_BUILD.to_string(), build.clone()),
            ])),
            ..Default::default()
        };
        docker
            .commit_container(options, config)
            .await
            .map_err(Error::docker("saving the Heroku stack image"))?;
        Ok(tag.clone())
    }
    .await;
    remove_container(docker, &created.id).await?;
    result
}
