//! A push becomes a release: the Python build Heroku's buildpack does,
//! in a container from the stack image with no network, then a release
//! image (the slug), the release phase, and the dynos' turn.
//!
//! The pre-receive hook (`git::hook`) reaches this over a Unix socket;
//! every line said here appears in the student's terminal as `remote: ...`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptionsBuilder, LogsOptionsBuilder};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::api::Slug;
use crate::heroku::stack::{DYNO_UID, DYNO_USER, PATH, Stack};
use super::{Fake, git};
use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE, remove_container};
use crate::error::{Error, Result};

const COMPILE: &str = include_str!("compile.sh");
/// Names every requirement a failed `pip install` could not have.
const UNAVAILABLE: &str = include_str!("unavailable.py");
/// Files that make a directory a Python app for Heroku's buildpack.
const PYTHON_FILES: &[&str] = &[
    "requirements.txt",
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "setup.py",
    "setup.cfg",
    "manage.py",
    ".python-version",
    "runtime.txt",
];
pub(crate) const SLUG_REPO: &str = "deploylab-heroku";
/// The `deploylab.image` label of slug images.
pub(crate) const SLUG_KIND: &str = "heroku-slug";

/// What a build prints, as Heroku words it; kept together for translation.
pub(crate) mod text {
    pub(crate) const NOT_PYTHON: &[&str] = &[
        " !     No default language could be detected for this app.",
        "\t\t\tHINT: This occurs when Heroku cannot detect the buildpack to use for this application automatically.",
        "\t\t\tSee https://devcenter.heroku.com/articles/buildpacks",
    ];
    pub(crate) const NO_PACKAGE_MANAGER: &[&str] = &[
        " !     Error: Couldn't find any supported Python package manager files.",
        " !     ",
        " !     A Python app on Heroku must have a 'requirements.txt' package manager",
        " !     file in the root directory of its source code (deploylab's fake",
        " !     builds requirements.txt apps).",
    ];
    /// Heroku's buildpack warns (and will one day refuse) runtime.txt.
    pub(crate) const RUNTIME_TXT_DEPRECATED: &[&str] = &[
        "",
        " !     Warning: The runtime.txt file is deprecated.",
        " !     ",
        " !     It has been replaced by the .python-version file:",
        " !     https://devcenter.heroku.com/changelog-items/3141",
        " !     ",
        " !     Delete runtime.txt and create a file named .python-version",
        " !     (with the leading dot) holding the major version, e.g.: 3.11",
        " !     ",
        " !     In the future support for runtime.txt will be removed and",
        " !     this warning will be made an error.",
        "",
    ];
    pub(crate) const RELEASE_FAILED: &str = "Release command failed";
    pub(crate) const REJECTED: &str = " !     Push rejected, failed to compile Python app.";
    pub(crate) const PUSH_FAILED: &str = " !     Push failed";
    /// Heroku's wording for a version it does not build, with the ones
    /// this stack has (Debian's: 3.10 and 3.12 are no Debian release's).
    pub(crate) fn no_python(version: &str, file: &str, available: &str) -> Vec<String> {
        vec![
            " !     Error: The requested Python version isn't available.".into(),
            " !     ".into(),
            format!(" !     Your app's {file} file specifies a Python version"),
            format!(" !     of {version}, which deploylab's offline stack doesn't have:"),
            " !     its Pythons are Debian's, and no Debian release ships that one.".into(),
            " !     ".into(),
            format!(" !     Available: Python {available}. Update {file} to one of them."),
        ]
    }
    /// Heroku's heading for a version past its upstream end of life.
    pub(crate) fn end_of_life(version: &str, file: &str, available: &str) -> Vec<String> {
        vec![
            " !     Error: The requested Python version has reached end-of-life.".into(),
            " !     ".into(),
            format!(" !     Python {version} (asked for in {file}) no longer receives security"),
            " !     updates from its developers, and Heroku no longer builds it:".into(),
            " !     https://devguide.python.org/versions/#supported-versions".into(),
            " !     ".into(),
            format!(" !     Update {file} to a supported version: {available}"),
        ]
    }
    pub(crate) fn non_deploy_branch(branch: &str) -> String {
        format!("Pushed to non-deploy branch {branch}, ignoring. Only main or master deploy.")
    }
}

#[derive(Deserialize)]
struct HookRequest {
    app: String,
    updates: Vec<RefUpdate>,
    /// Where git keeps the pushed objects until the hook accepts them
    /// (its quarantine): git commands about the push need these variables.
    #[serde(default)]
    git_env: BTreeMap<String, String>,
}

/// The app's repository as the hook sees it, quarantined objects included.
pub(crate) struct Repo {
    pub(crate) path: std::path::PathBuf,
    env: BTreeMap<String, String>,
}

impl Repo {
    /// The repository as it is (no push in progress).
    pub(crate) fn at(path: std::path::PathBuf) -> Repo {
        Repo {
            path,
            env: BTreeMap::new(),
        }
    }

    /// `git show <what>`: a file (`main:Procfile`) or a commit; None if
    /// there is no such thing.
    pub(crate) fn show(&self, what: &str) -> Option<String> {
        let output = self.git().args(["show", what]).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn git(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new("git");
        cmd.arg("-C").arg(&self.path).envs(&self.env);
        cmd
    }
}

#[derive(Deserialize)]
struct RefUpdate {
    new: String,
    #[serde(rename = "ref")]
    name: String,
}

/// Serves the pre-receive hooks of every app's repository.
pub(crate) async fn serve_hooks(fake: Arc<Fake>, listener: tokio::net::UnixListener) {
    // One build at a time: two cores are shared with the dynos.
    let one_at_a_time = Arc::new(tokio::sync::Mutex::new(()));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let fake = fake.clone();
        let lock = one_at_a_time.clone();
        tokio::spawn(async move {
            let _turn = lock.lock().await;
            if let Err(e) = hook_connection(&fake, stream).await {
                tracing::warn!("a push's build ended early: {e}");
            }
        });
    }
}

/// Where build output goes: the pushing git client, line by line.
pub(crate) struct Say {
    stream: tokio::net::unix::OwnedWriteHalf,
    pub(crate) lines: Vec<String>,
}

impl Say {
    pub(crate) async fn line(&mut self, line: &str) {
        self.lines.push(line.to_string());
        // The client may have gone; the build still finishes.
        let _ = self.stream.write_all(format!("{line}\n").as_bytes()).await;
    }

    async fn lines(&mut self, lines: &[&str]) {
        for line in lines {
            self.line(line).await;
        }
    }
}

async fn hook_connection(fake: &Fake, stream: UnixStream) -> Result<()> {
    let (read, write) = stream.into_split();
    let mut request = String::new();
    BufReader::new(read)
        .read_line(&mut request)
        .await
        .map_err(Error::io("reading the hook's request"))?;
    let request: HookRequest = serde_json::from_str(&request).map_err(|source| Error::Json {
        context: "reading the hook's request".into(),
        source,
    })?;
    let mut say = Say {
        stream: write,
        lines: Vec::new(),
    };
    let mut ok = true;
    for update in &request.updates {
        let branch = update.name.trim_start_matches("refs/heads/");
        let deleting = update.new.bytes().all(|b| b == b'0');
        if !matches!(branch, "main" | "master") {
            say.line(&text::non_deploy_branch(branch)).await;
            continue;
        }
        if deleting {
            say.line(" !     The deploy branch cannot be deleted.")
                .await;
            ok = false;
            continue;
        }
        let repo = Repo {
            path: git::repo_path(&fake.dir, &request.app),
            env: request.git_env.clone(),
        };
        ok &= deploy(fake, &request.app, &repo, &update.new, &mut say).await;
    }
    let code = if ok { 0 } else { 1 };
    let _ = say
        .stream
        .write_all(format!("{}{code}\n", git::EXIT_MARK).as_bytes())
        .await;
    Ok(())
}

/// Builds `commit` of `app` and releases it. False when the push must be
/// declined (the build failed).
pub(crate) async fn deploy(
    fake: &Fake,
    app: &str,
    repo: &Repo,
    commit: &str,
    say: &mut Say,
) -> bool {
    let Some(build_id) = fake.platform.lock().await.begin_build(app, commit) else {
        return false;
    };
    fake.logs.add(
        app,
        "app",
        "api",
        "Build started by user student@deploylab.test",
    );
    let result = build(fake, app, repo, commit, &build_id, say).await;
    let release = match result {
        Ok(Some(slug)) => release(fake, app, slug, say).await,
        Ok(None) => None,
        Err(e) => {
            say.line(&format!(" !     {e}")).await;
            None
        }
    };
    if release.is_none() {
        // Heroku says "failed to compile" only once a buildpack ran.
        let detected = !say.lines.iter().any(|l| l == text::NOT_PYTHON[0]);
        if detected {
            say.line(text::REJECTED).await;
        }
        say.line("").await;
        say.line(text::PUSH_FAILED).await;
        fake.logs
            .add(app, "app", "api", "Build failed -- check your build output");
    } else {
        fake.logs.add(app, "app", "api", "Build succeeded");
    }
    let output = std::mem::take(&mut say.lines);
    fake.platform
        .lock()
        .await
        .finish_build(app, &build_id, release, output);
    release.is_some()
}

/// The files at the top of the pushed tree, and a file's text.
fn git_tree(repo: &Repo, commit: &str) -> Result<Vec<String>> {
    let output = repo
        .git()
        .args(["ls-tree", "--name-only", commit])
        .output()
        .map_err(Error::io("reading the pushed tree"))?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn git_file(repo: &Repo, commit: &str, file: &str) -> Option<String> {
    repo.show(&format!("{commit}:{file}"))
}

/// `web: gunicorn blog.wsgi` lines into process types.
pub(crate) fn parse_procfile(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (name, command) = line.split_once(':')?;
            let name = name.trim();
            let valid = !name.is_empty()
                && !name.starts_with('#')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            (valid && !command.trim().is_empty())
                .then(|| (name.to_string(), command.trim().to_string()))
        })
        .collect()
}

/// The Python version an app asks for and the file that asks, if any:
/// `runtime.txt` wins when both exist, as in Heroku's buildpack.
fn requested_python(repo: &Repo, commit: &str, files: &[String]) -> Option<(String, &'static str)> {
    let has = |f: &str| files.iter().any(|x| x == f);
    if has("runtime.txt") {
        let text = git_file(repo, commit, "runtime.txt")?;
        let version = text.trim().trim_start_matches("python-").to_string();
        return Some((version, "runtime.txt"));
    }
    if has(".python-version") {
        let text = git_file(repo, commit, ".python-version")?;
        let version = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?
            .to_string();
        return Some((version, ".python-version"));
    }
    None
}

/// The stack a requested version (`3.13`, `3.13.2`, `python-3.13`) asks
/// for, by major.minor as Heroku reads it; None if the fake has none.
pub(crate) fn stack_for<'a>(stacks: &'a [Stack], requested: &str) -> Option<&'a Stack> {
    let python = crate::pythons::find(requested)?;
    stacks.iter().find(|s| s.python == python.version)
}

/// The versions of the stacks, for messages: "3.11, 3.13, 3.14".
fn versions(stacks: &[Stack]) -> String {
    stacks
        .iter()
        .map(|s| s.python.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a requested version is past its upstream end of life (Python
/// 2, and 3.9 and older as of October 2025).
pub(crate) fn end_of_life(requested: &str) -> bool {
    let mut parts = requested.trim().split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), _) if major < 3 => true,
        (Some(Ok(3)), Some(Ok(minor))) => minor <= 9,
        _ => false,
    }
}

/// The build proper. `Ok(None)`: it failed and said why.
async fn build(
    fake: &Fake,
    app: &str,
    repo: &Repo,
    commit: &str,
    build_id: &str,
    say: &mut Say,
) -> Result<Option<Slug>> {
    let Some(super::Runtime {
        docker,
        stacks,
        packages: build_packages,
        ..
    }) = &fake.runtime
    else {
        say.line(" !     This fake Heroku runs without Docker: it cannot build.")
            .await;
        return Ok(None);
    };
    say.lines(&[
        "Building source:",
        "",
        "-----> Building on the Heroku-24 stack",
        "-----> Determining which buildpack to use for this app",
    ])
    .await;
    let files = git_tree(repo, commit)?;
    if !PYTHON_FILES.iter().any(|f| files.iter().any(|x| x == f)) {
        say.lines(text::NOT_PYTHON).await;
        return Ok(None);
    }
    say.lines(&[
        "-----> Using buildpack: heroku/python",
        "-----> Python app detected",
    ])
    .await;
    if !files.iter().any(|f| f == "requirements.txt") {
        say.lines(text::NO_PACKAGE_MANAGER).await;
        return Ok(None);
    }
    let Some(default) = stacks.first() else {
        say.line(" !     This fake Heroku has no stack image: it cannot build.")
            .await;
        return Ok(None);
    };
    let stack = match requested_python(repo, commit, &files) {
        Some((version, file)) => match stack_for(stacks, &version) {
            None => {
                let lines = match end_of_life(&version) {
                    true => text::end_of_life(&version, file, &versions(stacks)),
                    false => text::no_python(&version, file, &versions(stacks)),
                };
                for line in lines {
                    say.line(&line).await;
                }
                return Ok(None);
            }
            Some(stack) => {
                say.line(&format!(
                    "-----> Using Python {} specified in {file}",
                    stack.python
                ))
                .await;
                if file == "runtime.txt" {
                    say.lines(text::RUNTIME_TXT_DEPRECATED).await;
                }
                stack
            }
        },
        None => {
            say.line(&format!(
                "-----> No Python version was specified. Using the buildpack default: Python {}",
                default.python
            ))
            .await;
            default
        }
    };
    let stack = &stack.image;

    let config = fake
        .platform
        .lock()
        .await
        .find(app)
        .map(|a| a.config)
        .unwrap_or_default();
    let mut env: Vec<String> = config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain([
            format!("PATH={PATH}"),
            "HOME=/app".into(),
            "LANG=C.UTF-8".into(),
            // The build cache is the previous slug's packages, not pip's.
            "PIP_NO_CACHE_DIR=1".into(),
        ])
        .collect();
    let labels = HashMap::from([
        (LABEL_LAB.to_string(), "heroku".to_string()),
        (LABEL_INSTANCE.to_string(), fake.instance.clone()),
        (LABEL_ROLE.to_string(), "build".to_string()),
    ]);
    // With the package proxy: a network that reaches it and nothing else,
    // and pip pointed at it (the stack's pip.conf, which names the offline
    // wheels, is not read). Without: no network, the wheels mounted.
    let (network, binds) = match build_packages {
        super::BuildPackages::Proxy { network, address } => {
            env.extend(crate::packages::pip_env(address));
            (network.clone(), None)
        }
        super::BuildPackages::Offline { wheels } => {
            let wheels = wheels.as_ref().map(|w| {
                vec![format!(
                    "{}:{}:ro",
                    w.display(),
                    crate::images::WHEELS_MOUNT
                )]
            });
            ("none".to_string(), wheels)
        }
    };
    let key = super::slug::packages_key(stack, commit, |f| git_file(repo, commit, f));
    let saved = slug_packages(fake, app).await;
    let packages = super::slug::for_build(docker, &fake.instance, app, &key, &saved).await?;
    if packages.restoring {
        say.line("-----> Restoring cache").await;
    }
    let mut binds = binds.unwrap_or_default();
    binds.extend(packages.binds.iter().cloned());
    let create = ContainerCreateBody {
        image: Some(stack.clone()),
        user: Some(DYNO_USER.into()),
        cmd: Some(vec!["bash".into(), "/tmp/compile.sh".into()]),
        env: Some(env),
        working_dir: Some("/app".into()),
        labels: Some(labels),
        host_config: Some(HostConfig {
            binds: Some(binds),
            network_mode: Some(network),
            ..crate::limits::BUILD.host_config()
        }),
        ..Default::default()
    };
    let name = format!(
        "deploylab-heroku-{}-{app}-build-{}",
        crate::docker::short(&fake.instance),
        &build_id[..8]
    );
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let result = async {
        let container = docker
            .create_container(Some(options), create)
            .await
            .map_err(Error::docker("creating the build container"))?
            .id;
        let built = run_build_container(fake, docker, &container, repo, commit, app, say).await;
        remove_container(docker, &container).await?;
        built
    }
    .await;
    // A failed build's new packages are not an earlier build's to reuse.
    if !packages.reused && !matches!(result, Ok(Some(_))) {
        super::slug::remove_volume(docker, &packages.volume).await;
    }
    Ok(result?.map(|built| Slug {
        id: built.id,
        image: stack.clone(),
        packages: Some(packages.volume),
        commit: commit.to_string(),
        process_types: built.process_types,
        size: built.size,
    }))
}

/// What a build that succeeded made, its source archive saved.
struct Built {
    id: String,
    process_types: BTreeMap<String, String>,
    size: u64,
}

/// The packages volumes of the app's slugs, oldest first.
async fn slug_packages(fake: &Fake, app: &str) -> Vec<String> {
    let Some(app) = fake.platform.lock().await.find(app) else {
        return Vec::new();
    };
    app.releases
        .iter()
        .filter_map(|r| r.slug.as_ref().and_then(|s| s.packages.clone()))
        .collect()
}

async fn run_build_container(
    fake: &Fake,
    docker: &bollard::Docker,
    container: &str,
    repo: &Repo,
    commit: &str,
    app: &str,
    say: &mut Say,
) -> Result<Option<Built>> {
    // The pushed tree, as git archives it, into /app.
    let archive = repo
        .git()
        .args(["archive", "--format=tar", commit])
        .output()
        .map_err(Error::io("packing the pushed source"))?;
    // The build script unpacks it as the dyno user.
    let file = |path, contents, mode| crate::docker::FileEntry {
        path,
        contents,
        mode,
        uid: DYNO_UID,
        gid: DYNO_UID,
    };
    crate::docker::put_files_unmapped(
        docker,
        container,
        &[
            file("/tmp/source.tar", &archive.stdout, 0o644),
            file("/tmp/compile.sh", COMPILE.as_bytes(), 0o755),
            file("/tmp/unavailable.py", UNAVAILABLE.as_bytes(), 0o644),
        ],
    )
    .await?;
    docker
        .start_container(container, None)
        .await
        .map_err(Error::docker("starting the build"))?;
    let options = LogsOptionsBuilder::default()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut logs = docker.logs(container, Some(options));
    let mut pending = String::new();
    while let Some(Ok(chunk)) = logs.next().await {
        pending.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            say.line(line.trim_end()).await;
        }
    }
    if !pending.is_empty() {
        say.line(pending.trim_end()).await;
    }
    if crate::docker::wait_exit(docker, container).await? != 0 {
        return Ok(None);
    }
    let procfile = git_file(repo, commit, "Procfile")
        .map(|t| parse_procfile(&t))
        .unwrap_or_default();
    say.line("-----> Discovering process types").await;
    let types = if procfile.is_empty() {
        "(none)".to_string()
    } else {
        procfile.keys().cloned().collect::<Vec<_>>().join(", ")
    };
    say.line(&format!("       Procfile declares types -> {types}"))
        .await;
    say.line("").await;
    say.line("-----> Compressing...").await;
    let id = uuid::Uuid::new_v4().to_string();
    let size = super::slug::save(docker, container, &fake.dir, app, &id).await?;
    say.line(&format!("       Done: {:.1}M", size as f64 / 1_048_576.0))
        .await;
    Ok(Some(Built {
        id,
        process_types: procfile,
        size,
    }))
}

/// Releases a slug: straight away, or after its release phase succeeds.
async fn release(fake: &Fake, app: &str, slug: Slug, say: &mut Say) -> Option<u32> {
    say.line("-----> Launching...").await;
    let release_command = slug.process_types.get("release").cloned();
    let commit = slug.commit.clone();
    let version =
        fake.platform
            .lock()
            .await
            .release_slug(app, slug.clone(), release_command.is_some())?;
    let short = &commit[..commit.len().min(8)];
    fake.logs.add(
        app,
        "app",
        "api",
        &format!("Deploy {short} by user student@deploylab.test"),
    );
    fake.logs.add(
        app,
        "app",
        "api",
        &format!("Release v{version} created by user student@deploylab.test"),
    );
    if release_command.is_some() {
        say.line(" !     Release command declared: this new release will not be available until the command succeeds.").await;
    }
    say.line(&format!("       Released v{version}")).await;
    say.line(&format!("       {} deployed to Heroku", fake.web_url(app)))
        .await;
    say.line("").await;
    say.line("Verifying deploy... done.").await;
    if let Some(command) = release_command {
        say.line("Running release command...").await;
        say.line("").await;
        let ok = super::dynos::release_phase(fake, app, &slug, version, &command, say).await;
        fake.platform.lock().await.settle_release(app, version, ok);
        if ok {
            say.line("Waiting for release.... done.").await;
        } else {
            say.line("Waiting for release.... failed.").await;
            say.line(&format!(" !     {}", text::RELEASE_FAILED)).await;
        }
    }
    fake.apply_changes().await;
    Some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procfiles_parse_like_herokus() {
        let types = parse_procfile(
            "web: gunicorn blog.wsgi --log-file -\nrelease: python manage.py migrate\n# worker: x\n\nbad line\n",
        );
        assert_eq!(types.len(), 2);
        assert_eq!(types["web"], "gunicorn blog.wsgi --log-file -");
        assert_eq!(types["release"], "python manage.py migrate");
    }

    #[test]
    fn a_build_gets_the_stack_of_the_python_it_asks_for() {
        let stacks = [
            Stack { python: "3.11".into(), image: "a".into() },
            Stack { python: "3.13".into(), image: "b".into() },
        ];
        assert_eq!(stack_for(&stacks, "3.11").map(|s| s.image.as_str()), Some("a"));
        assert_eq!(stack_for(&stacks, "3.13.1").map(|s| s.image.as_str()), Some("b"));
        assert_eq!(stack_for(&stacks, "3.14"), None, "offered, but not given to this fake");
        assert_eq!(versions(&stacks), "3.11, 3.13");
        for missing in ["3.12", "3", "3.1"] {
            assert_eq!(stack_for(&stacks, missing), None, "{missing}");
        }
    }

    #[test]
    fn end_of_life_versions_are_told_apart() {
        assert!(end_of_life("2.7"));
        assert!(end_of_life("3.9"));
        assert!(end_of_life("3.8.18"));
        assert!(!end_of_life("3.10"));
        assert!(!end_of_life("3.12"));
        assert!(!end_of_life("latest"));
    }
}
