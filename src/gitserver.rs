//! The lab's git server: the course clones its code from a repository, so
//! the lab offers one, offline. A small container on the lab's network,
//! named `git.deploylab.test`, serves bare repositories over HTTP (git's
//! "dumb" protocol needs only static files), built on the host from the
//! folders a lab names in `git_repos`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::state::hex;

/// The name the VM reaches the git server by (`.test` is reserved for this).
pub(crate) const GIT_HOST: &str = "git.deploylab.test";
/// A fixed author and date make the same files give the same commit ids.
const COMMIT_DATE: &str = "2024-03-01T12:00:00+00:00";

/// A repository the student brought (`start --repo`), served beside the
/// lab's own under its name.
pub(crate) struct ExtraRepo {
    /// As given: a URL or a local path.
    pub(crate) source: String,
    /// `shop` for `…/shop.git` or `~/code/shop`.
    pub(crate) name: String,
    /// The commit its HEAD names now (the cache key).
    head: String,
}

impl ExtraRepo {
    /// Finds out what `--repo` names, before anything starts: a clear
    /// error for a path or URL that is no git repository.
    pub(crate) fn resolve(given: &str) -> Result<ExtraRepo> {
        let bad = |why: String| Error::BadRepo {
            repo: given.to_string(),
            why,
        };
        // A local path is taken as an absolute one (git runs elsewhere).
        let source = match std::fs::canonicalize(given) {
            Ok(path) => path.to_string_lossy().into_owned(),
            Err(_) if given.contains("://") || given.contains('@') => given.to_string(),
            Err(_) => return Err(bad(text::NO_SUCH_PATH.to_string())),
        };
        let name: String = source
            .trim_end_matches('/')
            .rsplit(['/', ':'])
            .next()
            .unwrap_or_default()
            .trim_end_matches(".git")
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
                _ => '-',
            })
            .collect::<String>()
            // A hidden folder's name, shown: no file name starts with a dot.
            .trim_start_matches('.')
            .to_string();
        if name.is_empty() {
            return Err(bad(text::NO_NAME.to_string()));
        }
        let output = git()
            .args(["ls-remote", "--", &source, "HEAD"])
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|_| missing_git())?;
        let head = String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        if !output.status.success() || head.is_empty() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let why = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            return Err(bad(text::not_a_repo(why)));
        }
        Ok(ExtraRepo { source, name, head })
    }
}

/// Builds (once per content) the lab's bare repositories, and the one the
/// student brought, under the cache and returns the folder that holds them.
pub(crate) fn prepare(
    catalog: &Catalog,
    lab: &Lab,
    extra: Option<&ExtraRepo>,
    cache: &Path,
) -> Result<PathBuf> {
    let mut trees = Vec::new();
    let mut hasher = Sha256::new();
    if let Some(extra) = extra {
        hasher.update(extra.name.as_bytes());
        hasher.update(extra.source.as_bytes());
        hasher.update(extra.head.as_bytes());
    }
    for (name, folder) in &lab.git_repos {
        let files = catalog.tree(folder)?;
        hasher.update(name.as_bytes());
        for (path, bytes) in &files {
            hasher.update(path.to_string_lossy().as_bytes());
            hasher.update(bytes);
        }
        trees.push((name.clone(), files));
    }
    let root = cache.join("git").join(&hex(&hasher.finalize())[..16]);
    if root.join(".complete").exists() {
        return Ok(root);
    }
    let _ = std::fs::remove_dir_all(&root);
    for (name, files) in trees {
        build_repo(&root, &name, &files)?;
    }
    if let Some(extra) = extra {
        clone_bare(&root, extra)?;
    }
    std::fs::write(root.join(".complete"), "").map_err(Error::io("writing the git cache"))?;
    Ok(root)
}

fn build_repo(root: &Path, name: &str, files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let work = tempfile::tempdir().map_err(Error::io("creating a temporary folder"))?;
    for (path, bytes) in files {
        let dest = work.path().join(path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io("writing the repository"))?;
        }
        std::fs::write(&dest, bytes).map_err(Error::io("writing the repository"))?;
    }
    let bare = root.join(format!("{name}.git"));
    std::fs::create_dir_all(root).map_err(Error::io("creating the git cache"))?;
    let steps: [&[&str]; 5] = [
        &["init", "--quiet", "--initial-branch=main"],
        &["add", "--all"],
        &["commit", "--quiet", "--message", "The course's blog"],
        &["clone", "--quiet", "--bare", ".", &bare.to_string_lossy()],
        &["-C", &bare.to_string_lossy(), "update-server-info"],
    ];
    for args in steps {
        let output = git()
            .args(args)
            .current_dir(work.path())
            .env("GIT_AUTHOR_NAME", "deploylab")
            .env("GIT_AUTHOR_EMAIL", "deploylab@localhost")
            .env("GIT_COMMITTER_NAME", "deploylab")
            .env("GIT_COMMITTER_EMAIL", "deploylab@localhost")
            .env("GIT_AUTHOR_DATE", COMMIT_DATE)
            .env("GIT_COMMITTER_DATE", COMMIT_DATE)
            .output()
            .map_err(|_| missing_git())?;
        if !output.status.success() {
            return Err(Error::program(
                format!("preparing the lab's repository (git {})", args.join(" ")),
                "git",
                &output,
            ));
        }
    }
    Ok(())
}

/// The student's repository as a bare clone beside the lab's (replacing a
/// lab repository of the same name).
fn clone_bare(root: &Path, extra: &ExtraRepo) -> Result<()> {
    let bare = root.join(format!("{}.git", extra.name));
    let _ = std::fs::remove_dir_all(&bare);
    let bare = bare.to_string_lossy().into_owned();
    let steps: [&[&str]; 2] = [
        &["clone", "--quiet", "--bare", "--", &extra.source, &bare],
        &["-C", &bare, "update-server-info"],
    ];
    for args in steps {
        let output = git()
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|_| missing_git())?;
        if !output.status.success() {
            return Err(Error::program(text::cloning(&extra.source), "git", &output));
        }
    }
    Ok(())
}

/// git, without the user's or the system's configuration.
fn git() -> Command {
    let mut command = Command::new("git");
    command
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

fn missing_git() -> Error {
    Error::MissingTool {
        tool: "git",
        purpose: "prepare the lab's git repository",
        fix: "Install git (`sudo apt-get install git`).".to_string(),
    }
}

/// Messages of this module, in one place for translation.
mod text {
    pub(super) const NO_SUCH_PATH: &str =
        "no such folder, and not a URL (https://…, ssh://…, git@host:path)";
    pub(super) const NO_NAME: &str = "cannot tell the repository's name from it";

    pub(super) fn not_a_repo(git_says: &str) -> String {
        match git_says {
            "" => "not a git repository with at least one commit".to_string(),
            says => format!("not a git repository with at least one commit (git: {says})"),
        }
    }

    pub(super) fn cloning(source: &str) -> String {
        format!("cloning {source} for the lab's git server")
    }
}

/// The lab's git server's container name.
pub(crate) fn container_name(lab: &str, instance: &str) -> String {
    format!("deploylab-{lab}-git-{}", crate::docker::short(instance))
}

/// Starts the git server on the lab's network. It runs the VM image's own
/// Python (`http.server`), so it needs no image of its own.
/// `name`: the container's name (`container_name`, or a spare's).
pub(crate) async fn start(
    docker: &Docker,
    (lab, instance, name): (&str, &str, &str),
    image: &str,
    network: &str,
    repos: &Path,
) -> Result<String> {
    let config = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(
            [
                "python3",
                "-m",
                "http.server",
                "80",
                "--directory",
                "/srv/git",
            ]
            .map(String::from)
            .to_vec(),
        ),
        labels: Some(HashMap::from([
            (LABEL_LAB.to_string(), lab.to_string()),
            (LABEL_INSTANCE.to_string(), instance.to_string()),
            (LABEL_ROLE.to_string(), "git".to_string()),
        ])),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{}:/srv/git:ro", repos.display())]),
            network_mode: Some(network.to_string()),
            // Serving files on port 80 needs no other privilege.
            cap_drop: Some(vec!["ALL".into()]),
            cap_add: Some(vec!["NET_BIND_SERVICE".into()]),
            ..crate::limits::GIT_SERVER.host_config()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.to_string(),
                EndpointSettings {
                    aliases: Some(vec![GIT_HOST.to_string()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(Error::docker("creating the lab's git server"))?;
    docker
        .start_container(&created.id, None)
        .await
        .map_err(Error::docker("starting the lab's git server"))?;
    Ok(created.id)
}
