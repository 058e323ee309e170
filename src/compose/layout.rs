//! Where a student's stack is, from the folder they started the lab in:
//! the Compose file (there, or in a sub-folder such as the course's
//! `docker/docker-compose.yaml`), and what the app is built from (the
//! Compose file's `build:` — `context: ..` and a `dockerfile:` of its own
//! included — else the folder's Dockerfile). Read afresh on every check:
//! files the student moves are followed.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Compose's own file names, in the order Compose prefers them.
pub(crate) const COMPOSE_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
/// Sub-folders never searched for a Compose file.
const SKIPPED: &[&str] = &[".git", ".venv", "venv", "__pycache__", "node_modules"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The Compose file found, if any: the folder's own first, else the
    /// first sub-folder's (by name).
    pub(crate) compose_file: Option<PathBuf>,
    /// Folders a Compose project of this lab may have been started from:
    /// the lab's folder and the Compose file's.
    pub(crate) compose_dirs: Vec<PathBuf>,
    /// The build context of the app's image, and its Dockerfile.
    pub(crate) context: PathBuf,
    pub(crate) dockerfile: PathBuf,
}

impl Layout {
    pub(crate) fn of(dir: &Path) -> Layout {
        let compose_file = compose_file_in(dir).or_else(|| {
            let mut subfolders: Vec<PathBuf> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    !name.starts_with('.') && !SKIPPED.contains(&name)
                })
                .collect();
            subfolders.sort();
            subfolders.iter().find_map(|sub| compose_file_in(sub))
        });
        let mut compose_dirs = vec![dir.to_path_buf()];
        let folder = compose_file.as_ref().and_then(|f| f.parent());
        if let Some(folder) = folder.filter(|f| *f != dir) {
            compose_dirs.push(folder.to_path_buf());
        }
        let built = compose_file.as_deref().and_then(app_build);
        let (context, dockerfile) = built
            .filter(|(_, dockerfile)| dockerfile.is_file())
            .unwrap_or_else(|| (dir.to_path_buf(), dir.join("Dockerfile")));
        Layout {
            compose_file,
            compose_dirs,
            context,
            dockerfile,
        }
    }
}

fn compose_file_in(dir: &Path) -> Option<PathBuf> {
    COMPOSE_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|file| file.is_file())
}

/// The first service of a Compose file that is built, as (context,
/// Dockerfile), each resolved as Compose does: the context from the
/// file's folder, the Dockerfile from the context.
fn app_build(file: &Path) -> Option<(PathBuf, PathBuf)> {
    let text = std::fs::read_to_string(file).ok()?;
    let compose: Value = serde_saphyr::from_str(&text).ok()?;
    let folder = file.parent()?;
    let services = compose.get("services")?.as_object()?;
    services.values().find_map(|service| {
        let (context, dockerfile) = match service.get("build")? {
            Value::String(context) => (context.as_str(), "Dockerfile"),
            Value::Object(build) => (
                build.get("context").and_then(Value::as_str).unwrap_or("."),
                build
                    .get("dockerfile")
                    .and_then(Value::as_str)
                    .unwrap_or("Dockerfile"),
            ),
            _ => return None,
        };
        let context = normalize(&folder.join(context));
        let dockerfile = context.join(dockerfile);
        Some((context, dockerfile))
    })
}

/// `a/b/../c` as `a/c`, without asking the file system (the folder may be
/// a link the student made).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// The course's layout: the Compose file in docker/, building `..`.
    #[test]
    fn a_compose_file_in_a_sub_folder_building_the_parent_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "Dockerfile", "FROM python:3.11-slim\n");
        write(
            root,
            "docker/docker-compose.yaml",
            "services:\n  web:\n    build:\n      context: ..\n  database:\n    image: postgres:15\n",
        );
        let layout = Layout::of(root);
        assert_eq!(layout.compose_file, Some(root.join("docker/docker-compose.yaml")));
        assert_eq!(layout.compose_dirs, [root.to_path_buf(), root.join("docker")]);
        assert_eq!(layout.context, root);
        assert_eq!(layout.dockerfile, root.join("Dockerfile"));

        // Started in the sub-folder itself: the same stack and build.
        let inside = Layout::of(&root.join("docker"));
        assert_eq!(inside.compose_dirs, [root.join("docker")]);
        assert_eq!(inside.context, root);
    }

    #[test]
    fn a_dockerfile_named_by_the_compose_file_is_the_one_built() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "docker/Dockerfile", "FROM python:3.11-slim\n");
        write(
            root,
            "docker/compose.yml",
            "services:\n  app:\n    build: {context: .., dockerfile: docker/Dockerfile}\n",
        );
        let layout = Layout::of(root);
        assert_eq!(layout.context, root);
        assert_eq!(layout.dockerfile, root.join("docker/Dockerfile"));
    }

    #[test]
    fn without_a_compose_file_the_folder_is_built_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), ".git/compose.yaml", "services: {}\n");
        let layout = Layout::of(dir.path());
        assert_eq!(layout.compose_file, None);
        assert_eq!(layout.compose_dirs, [dir.path().to_path_buf()]);
        assert_eq!(layout.dockerfile, dir.path().join("Dockerfile"));
    }
}
