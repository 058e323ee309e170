//! Images derived from a base image (the VM image, or a Python base of
//! another Debian release: `images::ensure_base`), for what a registry
//! would otherwise provide: the fake Heroku's stacks, and stand-ins for
//! official images (Python, PostgreSQL, nginx). Each is made once per base
//! image and setup script by running the script in a container of the base,
//! with the VM's offline apt repository mounted where the base is the VM
//! image and no network, and committing the result. No registry, no
//! download.

pub(crate) mod nginx;
pub(crate) mod postgres;
pub(crate) mod python;

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use sha2::Digest;

use crate::docker::{LABEL_BUILD, LABEL_IMAGE};
use crate::error::{Error, Result};
use crate::images::{APT_MOUNT, Base};
use crate::progress::Progress;
use crate::pythons::Python;

/// An image made from the VM image by a setup script.
pub(crate) struct Derived<'a> {
    /// `repo:tag`, from `tag_for`.
    pub(crate) tag: &'a str,
    /// The `deploylab.image` label: what `images list` calls it.
    pub(crate) kind: &'a str,
    /// Run as root with `sh -c`; apt installs from the offline repository.
    pub(crate) setup: &'a str,
    /// The image's configuration (command, user, environment, ...); its
    /// labels are deploylab's.
    pub(crate) config: ContainerConfig,
    /// Host folders the setup reads (`host:container:ro`), beside the
    /// offline apt repository.
    pub(crate) binds: Vec<String>,
}

/// The tag of an image derived from the base tagged `base` by `setup`: a
/// new setup makes a new image, even on the same base.
pub(crate) fn tag_for(repo: &str, base: &str, setup: &str) -> String {
    let base_hash = base.rsplit(':').next().unwrap_or_default();
    let setup_hash = crate::state::hex(&sha2::Sha256::digest(setup.as_bytes()));
    format!("{repo}:{base_hash}-{}", &setup_hash[..8])
}

/// The lines of a setup script that install Debian `packages`: from the
/// VM's offline repository on the VM's Python, or, on a Python base, a
/// check that the base has them already (its packages.txt).
pub(crate) fn install(python: &Python, packages: &str) -> String {
    match python.is_vm() {
        true => format!(
            "apt-get update -qq\napt-get install -y -qq --no-install-recommends {packages} >/dev/null\nrm -rf /var/lib/apt/lists/*\n"
        ),
        false => format!("dpkg-query -W {packages} >/dev/null\n"),
    }
}

/// Makes the image unless it is there, of this base image's build.
pub(crate) async fn derive(
    docker: &Docker,
    base: &Base,
    recipe: &Derived<'_>,
    progress: &Progress,
) -> Result<()> {
    let tag = recipe.tag;
    let build = base.build.clone();
    if crate::images::has_build(docker, tag, &build).await? {
        return Ok(());
    }
    progress.set(&crate::i18n::tr!("progress-building", tag = tag));
    let binds = base
        .apt_dir
        .iter()
        .map(|dir| format!("{}:{APT_MOUNT}:ro", dir.display()))
        .chain(recipe.binds.iter().cloned())
        .collect();
    let config = ContainerCreateBody {
        image: Some(base.tag.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), recipe.setup.into()]),
        host_config: Some(HostConfig {
            binds: Some(binds),
            network_mode: Some("none".into()),
            ..crate::limits::BUILD.host_config()
        }),
        ..Default::default()
    };
    let mut image = recipe.config.clone();
    image.labels = Some(HashMap::from([
        (LABEL_IMAGE.to_string(), recipe.kind.to_string()),
        (LABEL_BUILD.to_string(), build.clone()),
    ]));
    crate::docker::build_by_commit(docker, config, &[], tag, image).await
}

/// Gives a stand-in the official names it stands in for (`python:3.11-slim`),
/// so a student's `FROM` and `image:` find it offline, where no image of
/// that name exists: a pulled official image is never shadowed. A name an
/// older build of the same stand-in carries moves to this one. Returns the
/// names it carries.
pub(crate) async fn name_as_official(
    docker: &Docker,
    tag: &str,
    kind: &str,
    names: &[&str],
) -> Result<Vec<String>> {
    let ours = docker
        .inspect_image(tag)
        .await
        .map_err(Error::docker(format!("looking up image {tag}")))?
        .id
        .unwrap_or_default();
    let mut carried = Vec::new();
    for name in names {
        let free = match docker.inspect_image(name).await {
            Ok(found) if found.id.as_deref() == Some(ours.as_str()) => {
                carried.push(name.to_string());
                continue;
            }
            Ok(found) => {
                let labels = found.config.and_then(|c| c.labels).unwrap_or_default();
                labels.get(LABEL_IMAGE).map(String::as_str) == Some(kind)
            }
            Err(e) if crate::docker::is_not_found(&e) => true,
            Err(e) => return Err(Error::docker(format!("looking up image {name}"))(e)),
        };
        if !free {
            continue;
        }
        let (repo, version) = name.rsplit_once(':').unwrap_or((name, "latest"));
        let options = bollard::query_parameters::TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(version)
            .build();
        docker
            .tag_image(tag, Some(options))
            .await
            .map_err(Error::docker(format!("naming {tag} {name}")))?;
        carried.push(name.to_string());
    }
    Ok(carried)
}

/// The kinds of the stand-ins for official images.
#[cfg(test)]
const KINDS: &[&str] = &[postgres::KIND, python::KIND, nginx::KIND];

#[cfg(test)]
mod tests {
    /// Images built `FROM` a stand-in inherit its labels, so an untagged
    /// image of a stand-in's kind may be a student's: `images` knows those
    /// kinds by their suffix, and `images prune` leaves them alone.
    #[test]
    fn every_standin_kind_is_known_to_images_as_one() {
        for kind in super::KINDS {
            assert!(kind.ends_with(crate::images::STANDIN_KIND_SUFFIX), "{kind}");
        }
    }
}
