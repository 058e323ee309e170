//! Grading's cache of package installs: the lab's VM image with a set of
//! Debian packages already installed, made once per set and reused by every
//! submission with the same packages (a class mostly installs the same
//! ones). Reinstalling them per submission was most of a grade's time and
//! what kept grades side by side from scaling.
//!
//! Made from a booted VM: the packages installed as a restore would, the
//! paths their scripts created recorded (what a restore must remove when
//! the work had removed them), the VM shut down and committed. The images
//! are labelled `vm-graded`: `images list` shows them, `images prune`
//! removes them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bollard::Docker;
use sha2::{Digest, Sha256};

use super::submission::{self, Package};
use super::machine::{self, VmSpec};
use crate::docker::{self, LABEL_IMAGE};
use crate::error::{Error, Result};
use crate::images::VmImage;
use crate::state;

/// The kind label of these images.
pub(crate) const KIND: &str = "vm-graded";

/// The image for a recipe and a package set.
pub(crate) fn tag_for(recipe: &str, packages: &[Package]) -> String {
    let mut hash = Sha256::new();
    hash.update(recipe.as_bytes());
    for p in packages {
        hash.update(format!("\n{}={}", p.name, p.version).as_bytes());
    }
    format!("deploylab/{KIND}:{}", &state::hex(&hash.finalize())[..16])
}

/// Where the paths an image's package scripts created are kept.
fn created_file(cache: &Path, tag: &str) -> PathBuf {
    let key = tag.rsplit(':').next().unwrap_or(tag);
    cache.join("graded").join(format!("{key}.created.json"))
}

/// The paths the package scripts created in a graded image (None: not one).
pub(crate) fn created_paths(cache: &Path, tag: &str) -> Option<BTreeSet<String>> {
    let text = std::fs::read(created_file(cache, tag)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The graded image for these packages, made if it does not exist yet.
/// One maker per package set at a time; the others wait for its image.
pub(crate) async fn ensure(
    docker: &Docker,
    cache: &Path,
    image: &VmImage,
    packages: &[Package],
    public_key: &str,
) -> Result<String> {
    let tag = tag_for(&image.tag, packages);
    let lock = maker_lock(&tag);
    let _making = lock.lock().await;
    if docker.inspect_image(&tag).await.is_ok() && created_paths(cache, &tag).is_some() {
        return Ok(tag);
    }
    make(docker, cache, image, packages, public_key, &tag).await?;
    Ok(tag)
}

/// The lock of the one maker of image `tag` in this run (grades side by
/// side wait for the first's image instead of making it again).
pub(super) fn maker_lock(tag: &str) -> Arc<tokio::sync::Mutex<()>> {
    static MAKING: Mutex<Option<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = Mutex::new(None);
    MAKING
        .lock()
        .expect("not poisoned")
        .get_or_insert_with(HashMap::new)
        .entry(tag.to_string())
        .or_default()
        .clone()
}

async fn make(
    docker: &Docker,
    cache: &Path,
    image: &VmImage,
    packages: &[Package],
    public_key: &str,
    tag: &str,
) -> Result<()> {
    let instance = format!("graded-{}", std::process::id());
    let lab = tag.rsplit(':').next().unwrap_or("graded").to_string();
    let spec = VmSpec {
        lab: &lab,
        machine: None,
        instance: &instance,
        image,
        public_key,
        ssh_port: None,
        http_port: None,
        network: None,
        spare: false,
        held: false,
    };
    let made = async {
        let vm = machine::create_and_boot(docker, &spec).await?;
        let created = submission::install_recording(docker, &vm.container_id, packages).await?;
        let options = bollard::query_parameters::StopContainerOptionsBuilder::default()
            .t(10)
            .build();
        docker
            .stop_container(&vm.container_id, Some(options))
            .await
            .map_err(Error::docker("stopping the VM"))?;
        let (repo, version) = tag.split_once(':').expect("a tag has a version");
        let options = bollard::query_parameters::CommitContainerOptionsBuilder::default()
            .container(&vm.container_id)
            .repo(repo)
            .tag(version)
            .build();
        let config = bollard::models::ContainerConfig {
            labels: Some(HashMap::from([(LABEL_IMAGE.to_string(), KIND.to_string())])),
            ..Default::default()
        };
        docker
            .commit_container(options, config)
            .await
            .map_err(Error::docker("saving the graded image"))?;
        let path = created_file(cache, tag);
        std::fs::create_dir_all(path.parent().expect("a folder"))
            .map_err(Error::io("keeping the graded image's paths"))?;
        let json = serde_json::to_vec(&created).expect("paths serialize");
        state::write_atomically(&path, &json)
    };
    // Removed also when this is dropped half-way (a grade's timeout).
    let leftovers = Leftovers {
        docker: docker.clone(),
        instance: instance.clone(),
        lab: lab.clone(),
    };
    let result = made.await;
    let _ = docker::remove_lab_resources(docker, &instance, &lab).await;
    std::mem::forget(leftovers);
    result
}

/// Removes the maker's VM when dropped, finished or not.
struct Leftovers {
    docker: Docker,
    instance: String,
    lab: String,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let (docker, instance, lab) = (
            self.docker.clone(),
            std::mem::take(&mut self.instance),
            std::mem::take(&mut self.lab),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = docker::remove_lab_resources(&docker, &instance, &lab).await;
            });
        }
    }
}
