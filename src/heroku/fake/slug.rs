//! Slugs: what a build leaves for dynos to run. On Heroku a slug is one
//! archive of `/app`; here it is kept in two parts, because committing a
//! build container into an image walks the whole image on some storage
//! drivers (fuse-overlayfs: 10 s of a warm push and 17 s of a first one):
//!
//! - the installed Python and packages (`/app/.heroku`) in a Docker volume,
//!   which the app's slugs share while its requirements stay the same; a
//!   build whose requirements changed fills a new one, starting from a copy
//!   of the previous (Heroku's build cache);
//! - the rest of `/app` (the pushed code and what the build made of it,
//!   such as collected static files) as a tar file of the fake's, unpacked
//!   into each dyno before it starts.
//!
//! A dyno is a container of the stack image with both: its disk is its own
//! and goes with it, as on Heroku. The one difference: `/app/.heroku` is
//! read-only in dynos, where Heroku would let a write happen and lose it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::CreateContainerOptionsBuilder;
use sha2::Digest;

use super::api::Slug;
use super::dynos::LABEL_APP;
use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE};
use crate::error::{Error, Result};

/// Where a slug's Python and packages are, in builds and dynos.
pub(crate) const PACKAGES: &str = "/app/.heroku";
/// Where a build finds the previous packages to start from.
pub(crate) const CACHE: &str = "/tmp/cache";
/// What a finished build leaves in its container: `source.tar` and `size`.
pub(crate) const OUTPUT: &str = "/tmp/slug";
/// The `deploylab.role` of packages volumes.
const ROLE: &str = "slug-packages";

/// Where the fake keeps the source archive of a slug.
pub(crate) fn source_path(dir: &Path, app: &str, slug_id: &str) -> PathBuf {
    dir.join("slugs").join(app).join(format!("{slug_id}.tar"))
}

/// The volume holding an app's packages for one packages key.
pub(crate) fn volume_name(instance: &str, app: &str, key: &str) -> String {
    format!(
        "deploylab-heroku-{}-{app}-packages-{key}",
        crate::docker::short(instance)
    )
}

/// What decides a build's installed packages: the stack and the text of
/// `requirements.txt` with every file it includes (`-r`, `-c`). A
/// requirement that names a local path or a URL can change with the code,
/// so such an app's key is its commit's: its packages are built anew.
pub(crate) fn packages_key(
    stack: &str,
    commit: &str,
    read: impl Fn(&str) -> Option<String>,
) -> String {
    let mut hash = sha2::Sha256::new();
    hash.update(stack.as_bytes());
    let mut pending = vec!["requirements.txt".to_string()];
    let mut seen = Vec::new();
    while let Some(file) = pending.pop() {
        if seen.contains(&file) {
            continue;
        }
        let text = read(&file).unwrap_or_default();
        hash.update([0]);
        hash.update(file.as_bytes());
        hash.update([0]);
        hash.update(text.as_bytes());
        let folder = Path::new(&file).parent().unwrap_or(Path::new(""));
        for line in text.lines() {
            let line = line.split(" #").next().unwrap_or_default().trim();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let include = ["-r", "--requirement", "-c", "--constraint"]
                .iter()
                .find_map(|flag| line.strip_prefix(flag))
                .map(|rest| rest.trim_start_matches('=').trim());
            match include {
                Some(name) if !name.is_empty() => {
                    pending.push(folder.join(name).to_string_lossy().into_owned());
                }
                _ if names_a_path(line) => hash.update(commit.as_bytes()),
                _ => {}
            }
        }
        seen.push(file);
    }
    let digest = hash.finalize();
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// `-e .`, `./lib`, `/abs/lib`, `file:lib`, `pkg @ https://…`, `git+https://…`
/// (options such as `--index-url https://…` are not requirements).
fn names_a_path(requirement: &str) -> bool {
    if requirement.starts_with("-e") || requirement.starts_with("--editable") {
        return true;
    }
    !requirement.starts_with('-')
        && (requirement.starts_with('.')
            || requirement.starts_with('/')
            || requirement.starts_with("file:")
            || requirement.contains("://"))
}

/// Messages of slugs, kept together for translation.
mod text {
    pub(super) fn packages_gone(volume: &str) -> String {
        format!(
            "this release's packages (Docker volume {volume}) are gone: push again to build them anew"
        )
    }
}

/// Creates (not starts) a container running `slug`: `config` with the
/// slug's image and its packages mounted read-only, its source unpacked
/// into `/app`. A slug whose packages volume is gone (`docker volume prune`
/// while the fake was stopped) is refused: a container made anyway would
/// get an empty new volume of that name and crash on its first import.
/// Slugs of older fakes (an image of their own) need neither.
pub(crate) async fn create_container(
    docker: &Docker,
    dir: &Path,
    app: &str,
    slug: &Slug,
    name: Option<&str>,
    mut config: ContainerCreateBody,
) -> Result<String> {
    if let Some(volume) = &slug.packages
        && !volume_exists(docker, volume).await
    {
        return Err(Error::Platform {
            message: text::packages_gone(volume),
        });
    }
    config.image = Some(slug.image.clone());
    let host = config.host_config.get_or_insert_default();
    host.binds = slug
        .packages
        .as_ref()
        .map(|volume| vec![format!("{volume}:{PACKAGES}:ro")]);
    let options = name.map(|n| CreateContainerOptionsBuilder::default().name(n).build());
    let id = docker
        .create_container(options, config)
        .await
        .map_err(Error::docker("creating a dyno"))?
        .id;
    if slug.packages.is_some()
        && let Err(e) = unpack(docker, dir, app, slug, &id).await
    {
        let _ = crate::docker::remove_container(docker, &id).await;
        return Err(e);
    }
    Ok(id)
}

/// Puts a slug's source into a created container's `/app`.
async fn unpack(
    docker: &Docker,
    dir: &Path,
    app: &str,
    slug: &Slug,
    container: &str,
) -> Result<()> {
    let path = source_path(dir, app, &slug.id);
    let archive =
        std::fs::read(&path).map_err(Error::io(format!("reading the slug {}", path.display())))?;
    // The archive keeps the dyno user as owner.
    crate::docker::put_archive(docker, container, "/app", archive, false).await
}

/// The packages a build gets.
pub(crate) struct ForBuild {
    /// The volume the slug will have.
    pub(crate) volume: String,
    /// An earlier build filled it (mounted read-only: pip finds everything
    /// satisfied); else it is new.
    pub(crate) reused: bool,
    /// Whether the build starts from earlier packages (Heroku's "Restoring
    /// cache"): the reused ones, or a copy of the previous slug's.
    pub(crate) restoring: bool,
    pub(crate) binds: Vec<String>,
}

/// Chooses a build's packages: the volume of its packages key when a build
/// that filled it succeeded (`saved`: the app's slugs' volumes, oldest
/// first); else a new one, with the newest saved volume mounted as the
/// cache to copy from.
pub(crate) async fn for_build(
    docker: &Docker,
    instance: &str,
    app: &str,
    key: &str,
    saved: &[String],
) -> Result<ForBuild> {
    let volume = volume_name(instance, app, key);
    let exists = volume_exists(docker, &volume).await;
    if exists && saved.contains(&volume) {
        return Ok(ForBuild {
            binds: vec![format!("{volume}:{PACKAGES}:ro")],
            volume,
            reused: true,
            restoring: true,
        });
    }
    // One an interrupted build left is filled again.
    if exists {
        remove_volume(docker, &volume).await;
    }
    create_volume(docker, instance, app, &volume).await?;
    let mut binds = vec![format!("{volume}:{PACKAGES}")];
    let previous = match saved.last() {
        Some(previous) if volume_exists(docker, previous).await => Some(previous),
        _ => None,
    };
    if let Some(previous) = previous {
        binds.push(format!("{previous}:{CACHE}:ro"));
    }
    Ok(ForBuild {
        volume,
        reused: false,
        restoring: previous.is_some(),
        binds,
    })
}

async fn volume_exists(docker: &Docker, name: &str) -> bool {
    docker.inspect_volume(name).await.is_ok()
}

/// A new, empty packages volume of `app` (Docker copies the stack's fresh
/// Python into it when a build first mounts it).
async fn create_volume(docker: &Docker, instance: &str, app: &str, name: &str) -> Result<()> {
    let options = bollard::models::VolumeCreateRequest {
        name: Some(name.to_string()),
        labels: Some(HashMap::from([
            (LABEL_LAB.to_string(), "heroku".to_string()),
            (LABEL_INSTANCE.to_string(), instance.to_string()),
            (LABEL_ROLE.to_string(), ROLE.to_string()),
            (LABEL_APP.to_string(), app.to_string()),
        ])),
        ..Default::default()
    };
    docker
        .create_volume(options)
        .await
        .map_err(Error::docker("creating the slug's packages volume"))?;
    Ok(())
}

/// Keeps what a finished build left in its container: the source archive
/// goes to the fake's disk. Returns the slug's size in bytes.
pub(crate) async fn save(
    docker: &Docker,
    container: &str,
    dir: &Path,
    app: &str,
    slug_id: &str,
) -> Result<u64> {
    let missing = || Error::Platform {
        message: "the build left no slug".into(),
    };
    let source = crate::docker::read_file(docker, container, &format!("{OUTPUT}/source.tar"))
        .await?
        .ok_or_else(missing)?;
    let size = crate::docker::read_file(docker, container, &format!("{OUTPUT}/size"))
        .await?
        .and_then(|s| String::from_utf8_lossy(&s).trim().parse().ok())
        .unwrap_or(source.len() as u64);
    let path = source_path(dir, app, slug_id);
    let parent = path.parent().expect("a slug path has a folder");
    std::fs::create_dir_all(parent).map_err(Error::io(format!("creating {}", parent.display())))?;
    std::fs::write(&path, source).map_err(Error::io(format!("writing {}", path.display())))?;
    Ok(size)
}

/// Removes a volume; one in use or gone is left (the caller stopped what
/// used it).
pub(crate) async fn remove_volume(docker: &Docker, name: &str) {
    let _ = docker
        .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
        .await;
}

/// Removes every slug the saved state names: packages volumes, source
/// archives and the images of older fakes' slugs.
pub(crate) async fn remove_saved(docker: &Docker, dir: &Path, state: &super::api::State) {
    for app in state.apps.values() {
        for slug in app.releases.iter().filter_map(|r| r.slug.as_ref()) {
            match &slug.packages {
                Some(volume) => remove_volume(docker, volume).await,
                None => {
                    let _ = crate::images::remove_image(docker, &slug.image).await;
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir.join("slugs"));
}

/// Removes every slug of an app: its packages volumes, its source archives
/// and the slug images older fakes made.
pub(crate) async fn forget(docker: &Docker, instance: &str, dir: &Path, app: &str) {
    let filters = HashMap::from([(
        "label",
        vec![
            format!("{LABEL_INSTANCE}={instance}"),
            format!("{LABEL_ROLE}={ROLE}"),
            format!("{LABEL_APP}={app}"),
        ],
    )]);
    let options = bollard::query_parameters::ListVolumesOptionsBuilder::default()
        .filters(&filters)
        .build();
    if let Ok(listed) = docker.list_volumes(Some(options)).await {
        for volume in listed.volumes.unwrap_or_default() {
            remove_volume(docker, &volume.name).await;
        }
    }
    let _ = std::fs::remove_dir_all(dir.join("slugs").join(app));
    let filters = HashMap::from([(
        "reference",
        vec![format!("{}/{app}", super::build::SLUG_REPO)],
    )]);
    let options = bollard::query_parameters::ListImagesOptionsBuilder::default()
        .filters(&filters)
        .build();
    for image in docker.list_images(Some(options)).await.unwrap_or_default() {
        let _ = crate::images::remove_image(docker, &image.id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(files: &[(&str, &str)], commit: &str) -> String {
        let files: HashMap<&str, &str> = files.iter().copied().collect();
        packages_key("stack:1", commit, |f| files.get(f).map(ToString::to_string))
    }

    #[test]
    fn the_same_requirements_share_their_packages() {
        let a = key(&[("requirements.txt", "django==5.2\ngunicorn\n")], "c1");
        assert_eq!(
            a,
            key(&[("requirements.txt", "django==5.2\ngunicorn\n")], "c2")
        );
        assert_ne!(a, key(&[("requirements.txt", "django==5.2\n")], "c1"));
        assert_eq!(a.len(), 12);
    }

    #[test]
    fn included_files_count_and_paths_rebuild() {
        let with = |base: &str| {
            key(
                &[
                    ("requirements.txt", "-r requirements/base.txt\n"),
                    ("requirements/base.txt", base),
                ],
                "c1",
            )
        };
        assert_ne!(with("django\n"), with("flask\n"));
        // An editable install of the app itself changes with each commit.
        let local = [("requirements.txt", "-e .\n")];
        assert_ne!(key(&local, "c1"), key(&local, "c2"));
        let url = [("requirements.txt", "lib @ https://example.test/lib.whl\n")];
        assert_ne!(key(&url, "c1"), key(&url, "c2"));
        let hashed = [("requirements.txt", "django==5.2 --hash=sha256:ab\n")];
        assert_eq!(key(&hashed, "c1"), key(&hashed, "c2"));
        let index = [(
            "requirements.txt",
            "--index-url https://pypi.test/simple\nflask\n",
        )];
        assert_eq!(key(&index, "c1"), key(&index, "c2"));
    }
}
