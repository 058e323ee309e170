//! Images, built here from Debian packages, never pulled from a registry.
//!
//! The VM image is one `mmdebstrap` run (recipe: `images/vm/`), streamed
//! straight into Docker's image import. The same run fills the offline apt
//! repository with every package the VM labs ask students to install, taken
//! from the same archive snapshot, so `apt-get install` inside the VM always
//! finds consistent versions. Python wheels for the labs, for every Python
//! offered (`pythons`), are downloaded on the host with pip. The other
//! Pythons get a small base image of their own Debian release
//! (`images/python-base/`), made the same way (`ensure_base`). An image's
//! tag is a hash of everything that goes into it: an unchanged recipe is
//! never rebuilt.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use bollard::Docker;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::docker::{self, LABEL_BUILD, LABEL_IMAGE, LABEL_RECIPE, is_not_found};
use crate::error::describe_docker as describe;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::progress::Progress;
use crate::pythons::{self, Python};
use crate::state::hex;

const VM_PACKAGES: &str = include_str!("../images/vm/packages.txt");
const VM_CUSTOMIZE: &str = include_str!("../images/vm/customize.sh");
const BASE_PACKAGES: &str = include_str!("../images/python-base/packages.txt");
const BASE_CUSTOMIZE: &str = include_str!("../images/python-base/customize.sh");
/// Bump when the way images are assembled changes (not their recipe files).
const BUILD_FORMAT: &str = "vm-image-2";
pub(crate) const VM_REPO: &str = "deploylab/vm";
pub(crate) const BASE_REPO: &str = "deploylab/python-base";
/// Testing suites' Release files expire within days, and an archive
/// snapshot's long ago: apt still verifies every signature.
const APT_NO_EXPIRY: &str = "Acquire::Check-Valid-Until \"false\"";

/// The VM image's PID 1 (systemd).
pub(crate) const VM_INIT: &str = "/sbin/init";
/// Where a VM image's offline package sources are mounted inside the VM.
pub(crate) const APT_MOUNT: &str = "/srv/deploylab/apt";
pub(crate) const WHEELS_MOUNT: &str = "/srv/deploylab/wheels";
/// pip in the images: the wheel cache mounted at `WHEELS_MOUNT`, never the
/// network (an unreachable index would make every `pip install` wait
/// through retries). Images that reach the package proxy replace it.
pub(crate) const OFFLINE_PIP_CONF: &str = "[global]
no-index = true
find-links = /srv/deploylab/wheels
disable-pip-version-check = true";

/// Everything the VM image is made of; its hash names the image.
pub(crate) struct VmRecipe {
    apt_packages: BTreeSet<String>,
    python_packages: BTreeSet<String>,
}

/// A built VM image and the host folders its containers mount.
#[derive(Debug, Clone)]
pub(crate) struct VmImage {
    pub(crate) tag: String,
    pub(crate) apt_dir: PathBuf,
    pub(crate) wheels_dir: PathBuf,
}

impl VmRecipe {
    /// One image serves every lab: it carries the union of their packages
    /// (environments build on it, e.g. the Heroku stack).
    pub(crate) fn for_labs(labs: &[Lab]) -> VmRecipe {
        VmRecipe {
            apt_packages: labs.iter().flat_map(|l| l.apt_packages.clone()).collect(),
            python_packages: labs
                .iter()
                .flat_map(|l| l.python_packages.clone())
                .collect(),
        }
    }

    pub(crate) fn hash(&self) -> String {
        let mut h = Sha256::new();
        let bootstrap = Bootstrap::here().id();
        for part in [
            BUILD_FORMAT,
            &bootstrap,
            pythons::VM.suite,
            VM_PACKAGES,
            VM_CUSTOMIZE,
        ]
        .into_iter()
        .chain(pythons::ALL.iter().map(|p| p.version))
        {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for p in self.apt_packages.iter().chain(&self.python_packages) {
            h.update(p.as_bytes());
            h.update([0]);
        }
        hex(&h.finalize())[..16].to_string()
    }

    pub(crate) fn image(&self, cache: &Path) -> VmImage {
        VmImage::of_tag(&format!("{VM_REPO}:{}", self.hash()), cache)
    }
}

/// The package names of a `packages.txt` (comments and blank lines out).
fn package_list(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// An image other images are derived from (`standin::derive`): the VM
/// image, or a Python base image of another Debian release.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    pub(crate) tag: String,
    /// The build that made it: images derived from an older build of the
    /// same tag are made again.
    pub(crate) build: String,
    /// The offline apt repository its derived images install from (the
    /// VM's); a Python base has its packages installed already.
    pub(crate) apt_dir: Option<PathBuf>,
}

/// The base image of `python`'s Debian release: its tag, known without
/// the engine (`images list` marks it current).
pub(crate) fn base_tag(vm: &VmImage, python: &Python) -> String {
    match python.is_vm() {
        true => vm.tag.clone(),
        false => {
            let mut h = Sha256::new();
            let bootstrap = Bootstrap::here().id();
            for part in [
                BUILD_FORMAT,
                &bootstrap,
                python.suite,
                BASE_PACKAGES,
                BASE_CUSTOMIZE,
            ] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            format!("{BASE_REPO}:{}-{}", python.suite, &hex(&h.finalize())[..12])
        }
    }
}

/// The base image for `python`, built if missing (the VM image's own
/// Python needs nothing more than the VM image).
pub(crate) async fn ensure_base(
    docker: &Docker,
    vm: &VmImage,
    python: &Python,
    progress: &Progress,
) -> Result<Base> {
    if python.is_vm() {
        return Ok(vm.base());
    }
    let tag = base_tag(vm, python);
    let built = || async {
        let labels = match docker.inspect_image(&tag).await {
            Ok(image) => image.config.and_then(|c| c.labels).unwrap_or_default(),
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(Error::docker(format!("looking up image {tag}"))(e)),
        };
        Ok(labels.get(LABEL_BUILD).filter(|b| !b.is_empty()).cloned())
    };
    let ready = |build: String| Base {
        tag: tag.clone(),
        build,
        apt_dir: None,
    };
    if let Some(build) = built().await? {
        return Ok(ready(build));
    }
    let cache = vm.cache_dir().parent().unwrap_or(vm.cache_dir());
    let lock = lock_builds(cache, &format!("{}.lock", python.suite), &tag, progress).await?;
    if let Some(build) = built().await? {
        return Ok(ready(build));
    }
    let started = std::time::Instant::now();
    progress.println(&format!(
        "Building {tag} ({}'s Python {}) from Debian packages (first use only)…",
        python.debian, python.version
    ));
    let build = uuid::Uuid::new_v4().to_string();
    let rootfs = Rootfs {
        tag: &tag,
        suite: python.suite,
        packages: package_list(BASE_PACKAGES),
        hook: BASE_CUSTOMIZE,
        env: vec![("DEPLOYLAB_PIP_CONF", OFFLINE_PIP_CONF.to_string())],
        cmd: &["python3"],
        image_env: &[],
        labels: vec![
            (LABEL_IMAGE, "python-base".into()),
            (LABEL_BUILD, build.clone()),
        ],
    };
    import_rootfs(docker, &rootfs, progress).await?;
    drop(lock);
    progress.println(&format!(
        "Built {tag} in {:.0} s.",
        started.elapsed().as_secs_f64()
    ));
    Ok(ready(build))
}

/// Holds the lock file `name` in `cache` while an image is built, so
/// concurrent callers (two terminals, parallel tests) build it once.
async fn lock_builds(
    cache: &Path,
    name: &str,
    tag: &str,
    progress: &Progress,
) -> Result<std::fs::File> {
    std::fs::create_dir_all(cache).map_err(Error::io(format!("creating {}", cache.display())))?;
    let lock_path = cache.join(name);
    let lock = std::fs::File::create(&lock_path)
        .map_err(Error::io(format!("creating {}", lock_path.display())))?;
    progress.set(&crate::i18n::tr!("progress-waiting-build", tag = tag));
    tokio::task::spawn_blocking(move || lock.lock().map(|_| lock))
        .await
        .expect("lock task does not panic")
        .map_err(Error::io("locking the image build"))
}

impl VmImage {
    fn cache_dir(&self) -> &Path {
        self.apt_dir.parent().expect("apt dir has a parent")
    }

    fn build_id_file(&self) -> PathBuf {
        self.cache_dir().join("build-id")
    }

    /// Both halves present: the image in the engine, the repository on disk.
    /// The image and the repository must come from the same build: the
    /// repository's packages depend on the exact versions in the image.
    pub(crate) async fn is_ready(&self, docker: &Docker) -> Result<bool> {
        if !self.apt_dir.join("Packages").is_file() || !self.wheels_dir.is_dir() {
            return Ok(false);
        }
        has_build(docker, &self.tag, &self.build_id()).await
    }

    /// Whether an image with these labels is the one this cache's build
    /// made (the `deploylab.build` label names the build).
    #[cfg(test)]
    fn pairs_with(&self, labels: Option<&HashMap<String, String>>) -> bool {
        carries_build(labels, &self.build_id())
    }

    /// The VM image tagged `tag` and the cache folders its hash names (a
    /// running lab knows its image by tag).
    pub(crate) fn of_tag(tag: &str, cache: &Path) -> VmImage {
        let hash = tag.rsplit(':').next().unwrap_or_default();
        let dir = cache.join(format!("vm-{hash}"));
        VmImage {
            tag: tag.to_string(),
            apt_dir: dir.join("apt"),
            wheels_dir: dir.join("wheels"),
        }
    }

    /// The VM image as the base of derived images.
    pub(crate) fn base(&self) -> Base {
        Base {
            tag: self.tag.clone(),
            build: self.build_id(),
            apt_dir: Some(self.apt_dir.clone()),
        }
    }

    /// The id of the build that made this image's cache ("" if none did).
    pub(crate) fn build_id(&self) -> String {
        std::fs::read_to_string(self.build_id_file())
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}

/// Whether the image `tag` exists and carries build id `build` (its
/// `deploylab.build` label): images made from another build do not count.
pub(crate) async fn has_build(docker: &Docker, tag: &str, build: &str) -> Result<bool> {
    match docker.inspect_image(tag).await {
        Ok(image) => Ok(carries_build(
            image.config.and_then(|c| c.labels).as_ref(),
            build,
        )),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(Error::docker(format!("looking up image {tag}"))(e)),
    }
}

/// Whether image labels name build `build` (an empty id, a cache no build
/// finished, pairs with nothing).
fn carries_build(labels: Option<&HashMap<String, String>>, build: &str) -> bool {
    !build.is_empty()
        && labels
            .and_then(|l| l.get(LABEL_BUILD))
            .is_some_and(|id| id == build)
}

/// Makes sure the VM image for these labs exists, building it if not.
/// Concurrent callers (two terminals, parallel tests) build it once: the
/// second waits on a lock file and then finds it ready.
pub(crate) async fn ensure_vm_image(
    docker: &Docker,
    cache: &Path,
    labs: &[Lab],
    progress: &Progress,
) -> Result<VmImage> {
    let recipe = VmRecipe::for_labs(labs);
    let image = recipe.image(cache);
    if image.is_ready(docker).await? {
        return Ok(image);
    }
    let lock = lock_builds(cache, "build.lock", &image.tag, progress).await?;
    if image.is_ready(docker).await? {
        return Ok(image);
    }
    let result = build_vm_image(docker, &recipe, &image, progress).await;
    drop(lock);
    result.map(|_| image)
}

async fn build_vm_image(
    docker: &Docker,
    recipe: &VmRecipe,
    image: &VmImage,
    progress: &Progress,
) -> Result<()> {
    let started = std::time::Instant::now();
    let failed = |detail: String| Error::ImageBuild {
        image: image.tag.clone(),
        detail,
    };
    progress.println(&format!(
        "Building {} from Debian packages (first use only; about a minute)…",
        image.tag
    ));
    let dir = image.cache_dir();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;

    progress.set(&crate::i18n::tr!("progress-wheels"));
    let wheels_tmp = dir.join("wheels.partial");
    download_wheels(docker, &recipe.python_packages, &wheels_tmp)
        .await
        .map_err(&failed)?;

    progress.set(&crate::i18n::tr!("progress-mmdebstrap"));
    let repo_tmp = dir.join("apt.partial");
    let build_id = uuid::Uuid::new_v4().to_string();
    let hash = image.tag.rsplit(':').next().unwrap_or_default();
    let rootfs = Rootfs {
        tag: &image.tag,
        suite: pythons::VM.suite,
        packages: package_list(VM_PACKAGES),
        hook: VM_CUSTOMIZE,
        env: vec![
            (
                "DEPLOYLAB_APT_PACKAGES",
                recipe
                    .apt_packages
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            ("DEPLOYLAB_REPO_OUT", repo_tmp.display().to_string()),
            ("DEPLOYLAB_PIP_CONF", OFFLINE_PIP_CONF.to_string()),
        ],
        cmd: &[VM_INIT],
        image_env: &["container=docker"],
        labels: vec![
            (LABEL_IMAGE, "vm".into()),
            (LABEL_RECIPE, hash.into()),
            (LABEL_BUILD, build_id.clone()),
        ],
    };
    import_rootfs(docker, &rootfs, progress).await?;
    if !repo_tmp.join("Packages").is_file() {
        return Err(failed(
            "the offline package repository was not written".into(),
        ));
    }

    for (from, to) in [
        (&wheels_tmp, &image.wheels_dir),
        (&repo_tmp, &image.apt_dir),
    ] {
        std::fs::rename(from, to).map_err(Error::io(format!("moving {}", from.display())))?;
    }
    std::fs::write(image.build_id_file(), &build_id).map_err(Error::io("writing the build id"))?;
    progress.println(&format!(
        "Built {} in {:.0} s.",
        image.tag,
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// One root filesystem made by mmdebstrap and imported as an image.
struct Rootfs<'a> {
    /// `repo:tag` of the image.
    tag: &'a str,
    suite: &'a str,
    packages: Vec<&'a str>,
    /// The customize hook (a shell script; `$1` is the root).
    hook: &'a str,
    /// The hook's environment.
    env: Vec<(&'static str, String)>,
    /// The image's command, environment and labels.
    cmd: &'a [&'a str],
    image_env: &'a [&'a str],
    labels: Vec<(&'static str, String)>,
}

impl Rootfs<'_> {
    /// The image's configuration as Docker's import takes it (Dockerfile
    /// instructions).
    fn changes(&self) -> Vec<String> {
        let cmd = serde_json::to_string(self.cmd).expect("strings serialize");
        let mut changes = vec![format!("CMD {cmd}")];
        changes.extend(self.image_env.iter().map(|e| format!("ENV {e}")));
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        changes.push(format!("LABEL {}", labels.join(" ")));
        changes
    }

    /// The same, as a commit takes it.
    fn config(&self) -> bollard::models::ContainerConfig {
        bollard::models::ContainerConfig {
            cmd: Some(self.cmd.iter().map(ToString::to_string).collect()),
            env: Some(self.image_env.iter().map(ToString::to_string).collect()),
            labels: Some(
                self.labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

/// How root filesystems are made here: mmdebstrap where it is installed
/// (Debian and Ubuntu hosts), else in a container of Debian's own image of
/// the suite (`debian:bookworm`), which the engine has or pulls: Docker
/// Desktop reaches Docker Hub, and `DEPLOYLAB_DEBIAN_IMAGE` names a copy in
/// a registry of one's own (`127.0.0.1:5000/debian`). The two make
/// different images (the tag says which), each with everything inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bootstrap {
    Mmdebstrap,
    /// The repository of Debian's images (`debian`); the suite is the tag.
    DebianImage(String),
}

impl Bootstrap {
    /// The one place that picks how images are made.
    pub(crate) fn here() -> Bootstrap {
        match which("mmdebstrap") {
            Some(_) => Bootstrap::Mmdebstrap,
            None => Bootstrap::DebianImage(
                std::env::var("DEPLOYLAB_DEBIAN_IMAGE")
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| "debian".to_string()),
            ),
        }
    }

    /// What goes into image hashes (a different way, a different image).
    fn id(&self) -> String {
        match self {
            Bootstrap::Mmdebstrap => "mmdebstrap".into(),
            Bootstrap::DebianImage(repo) => format!("image:{repo}"),
        }
    }

    /// How `doctor` says it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Bootstrap::Mmdebstrap => text::by_mmdebstrap(),
            Bootstrap::DebianImage(repo) => text::by_image(repo),
        }
    }
}

/// Messages shown here, kept together for translation.
mod text {
    pub(super) fn by_mmdebstrap() -> String {
        crate::i18n::tr!("doctor-by-mmdebstrap")
    }
    pub(super) fn by_image(repo: &str) -> String {
        crate::i18n::tr!("doctor-by-image", repo = repo)
    }
    pub(super) fn no_debian_image(image: &str, why: &str) -> String {
        format!(
            "Debian's image {image} is not in the engine and could not be pulled ({why}). \
             Install mmdebstrap (Debian, Ubuntu), let Docker reach Docker Hub once, or \
             name a registry's copy with DEPLOYLAB_DEBIAN_IMAGE=host:port/debian."
        )
    }
}

/// Makes the root filesystem the way this machine can (`Bootstrap::here`).
async fn import_rootfs(docker: &Docker, rootfs: &Rootfs<'_>, progress: &Progress) -> Result<()> {
    match Bootstrap::here() {
        Bootstrap::Mmdebstrap => by_mmdebstrap(docker, rootfs, progress).await,
        Bootstrap::DebianImage(repo) => by_debian_image(docker, rootfs, &repo, progress).await,
    }
}

/// Runs mmdebstrap with the recipe and streams its tar output into
/// `POST /images/create?fromSrc=-` (Docker's `import`).
async fn by_mmdebstrap(docker: &Docker, rootfs: &Rootfs<'_>, progress: &Progress) -> Result<()> {
    let failed = |detail: String| Error::ImageBuild {
        image: rootfs.tag.to_string(),
        detail,
    };
    let hook_dir = tempfile::tempdir().map_err(Error::io("creating a temporary folder"))?;
    let hook = hook_dir.path().join("customize.sh");
    std::fs::write(&hook, rootfs.hook).map_err(Error::io("writing the image recipe"))?;

    let mut child = tokio::process::Command::new("mmdebstrap")
        .arg("--variant=minbase")
        .arg("--format=tar")
        .arg(format!("--aptopt={APT_NO_EXPIRY}"))
        .arg(format!("--include={}", rootfs.packages.join(",")))
        .arg(format!("--customize-hook=sh {} \"$1\"", hook.display()))
        .arg(rootfs.suite)
        .arg("-")
        .envs(rootfs.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed(format!("cannot run mmdebstrap: {e}")))?;
    // mmdebstrap narrates on stderr: show its last line as progress, keep the
    // tail for the error message.
    let stderr = child.stderr.take().expect("stderr is piped");
    let progress_lines = progress.clone();
    let narration = tokio::spawn(async move {
        let mut tail: Vec<String> = Vec::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            progress_lines.set(&format!("mmdebstrap: {}", line.trim()));
            tail.push(line);
            if tail.len() > 15 {
                tail.remove(0);
            }
        }
        tail
    });

    let stdout = child.stdout.take().expect("stdout is piped");
    let (repo, version) = rootfs
        .tag
        .rsplit_once(':')
        .unwrap_or((rootfs.tag, "latest"));
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(repo)
        .tag(version)
        .changes(rootfs.changes())
        .build();
    let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(stdout));
    let mut import = docker.create_image(Some(options), Some(body), None);
    let mut import_error = None;
    while let Some(step) = import.next().await {
        if let Err(e) = step {
            import_error = Some(describe(&e));
            break;
        }
    }
    drop(import);
    let status = child
        .wait()
        .await
        .map_err(|e| failed(format!("waiting for mmdebstrap: {e}")))?;
    let tail = narration.await.unwrap_or_default();
    if !status.success() {
        let _ = remove_image(docker, rootfs.tag).await;
        return Err(failed(format!(
            "mmdebstrap exited with {status}; its last lines:\n    {}",
            tail.join("\n    ")
        )));
    }
    if let Some(e) = import_error {
        return Err(failed(format!(
            "Docker could not import the root filesystem: {e}"
        )));
    }
    Ok(())
}

/// The script a Debian image's container runs to become the root
/// filesystem mmdebstrap would have made: the packages, then the same
/// customize hook with `/` as the root.
const FROM_IMAGE: &str = r#"set -eu
export DEBIAN_FRONTEND=noninteractive
apt="apt-get -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false"
$apt update -qq
# shellcheck disable=SC2086 # the package list is split on purpose
$apt install -y -qq $DEPLOYLAB_INCLUDE >/dev/null
sh /deploylab-build/customize.sh /
if [ -d /deploylab-out ]; then chown -R "$DEPLOYLAB_OWNER" /deploylab-out; fi
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
"#;

/// Makes the root filesystem in a container of Debian's image of the
/// suite, pulled if missing, and commits it. The container uses the host's
/// network (the archive must answer, as for mmdebstrap) and writes the
/// offline repository into a folder of the host's.
async fn by_debian_image(
    docker: &Docker,
    rootfs: &Rootfs<'_>,
    repo: &str,
    progress: &Progress,
) -> Result<()> {
    let failed = |detail: String| Error::ImageBuild {
        image: rootfs.tag.to_string(),
        detail,
    };
    let debian = format!("{repo}:{}", rootfs.suite);
    if let Err(e) = docker.inspect_image(&debian).await {
        if !is_not_found(&e) {
            return Err(Error::docker(format!("looking up image {debian}"))(e));
        }
        progress.set(&crate::i18n::tr!("progress-pulling", image = debian));
        let options = CreateImageOptionsBuilder::default()
            .from_image(repo)
            .tag(rootfs.suite)
            .build();
        let mut pull = docker.create_image(Some(options), None, None);
        while let Some(step) = pull.next().await {
            if let Err(e) = step {
                return Err(failed(text::no_debian_image(&debian, &describe(&e))));
            }
        }
    }
    let build = tempfile::tempdir().map_err(Error::io("creating a temporary folder"))?;
    std::fs::write(build.path().join("customize.sh"), rootfs.hook)
        .map_err(Error::io("writing the image recipe"))?;
    let mut binds = vec![format!("{}:/deploylab-build:ro", build.path().display())];
    let mut env: Vec<String> = vec![
        format!("DEPLOYLAB_INCLUDE={}", rootfs.packages.join(" ")),
        format!("DEPLOYLAB_OWNER={}", owner(build.path())),
    ];
    for (key, value) in &rootfs.env {
        // The hook's output folder is the host's, mounted.
        if *key == "DEPLOYLAB_REPO_OUT" {
            std::fs::create_dir_all(value).map_err(Error::io(format!("creating {value}")))?;
            binds.push(format!("{value}:/deploylab-out"));
            env.push(format!("{key}=/deploylab-out"));
        } else {
            env.push(format!("{key}={value}"));
        }
    }
    let config = bollard::models::ContainerCreateBody {
        image: Some(debian.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), FROM_IMAGE.into()]),
        env: Some(env),
        host_config: Some(bollard::models::HostConfig {
            binds: Some(binds),
            network_mode: Some("host".into()),
            ..crate::limits::BUILD.host_config()
        }),
        ..Default::default()
    };
    progress.set(&crate::i18n::tr!(
        "progress-building-in",
        tag = rootfs.tag,
        image = debian
    ));
    docker::build_by_commit(docker, config, &[], rootfs.tag, rootfs.config()).await
}

/// `uid:gid` of a folder this process made, to own what a build container
/// writes into the host's folders (root inside the container otherwise).
fn owner(made: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(made)
            .map_or_else(|_| "0:0".into(), |m| format!("{}:{}", m.uid(), m.gid()))
    }
    #[cfg(not(unix))]
    {
        let _ = made;
        "0:0".to_string()
    }
}

/// Downloads wheels (and their dependencies) for every Python offered into
/// `dest`, using the host's pip and its configured index: pip in each image
/// picks the ones for its own Python.
async fn download_wheels(
    docker: &Docker,
    packages: &BTreeSet<String>,
    dest: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("creating {}: {e}", dest.display()))?;
    if packages.is_empty() {
        return Ok(());
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| which(p).is_some())
        .ok_or("python3 with pip is needed on the host to download wheels")?;
    let arch = docker::arch(docker).await;
    for offered in pythons::ALL {
        download_wheels_for(python, offered.version, &arch, packages, dest).await?;
    }
    Ok(())
}

async fn download_wheels_for(
    python: &str,
    version: &str,
    arch: &str,
    packages: &BTreeSet<String>,
    dest: &Path,
) -> Result<(), String> {
    let output = tokio::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args([
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            version,
        ])
        .args(["--platform", &format!("manylinux2014_{arch}")])
        .args(["--platform", &format!("manylinux_2_36_{arch}")])
        .args(["--platform", "any"])
        .arg("--dest")
        .arg(dest)
        .args(packages)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("running pip: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "pip download for Python {version} failed:\n{}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}

pub(crate) fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// An image deploylab built, as `images list` shows it.
pub(crate) struct ImageRow {
    pub(crate) id: String,
    /// The tag, or "(untagged)" for an image a rebuild replaced.
    pub(crate) tag: String,
    pub(crate) kind: String,
    pub(crate) size_mb: u64,
    pub(crate) created: i64,
    pub(crate) current: bool,
}

/// Images deploylab made; `current` marks those of the current recipe
/// (the VM image and what environments build on it:
/// `environment::current_images`).
pub(crate) async fn list(docker: &Docker, current_tags: &[String]) -> Result<Vec<ImageRow>> {
    let filters = std::collections::HashMap::from([("label", vec![LABEL_IMAGE])]);
    let options = ListImagesOptionsBuilder::default()
        .filters(&filters)
        .build();
    let images = docker
        .list_images(Some(options))
        .await
        .map_err(Error::docker("listing images"))?;
    let mut rows = Vec::new();
    for image in images {
        let kind = image.labels.get(LABEL_IMAGE).cloned().unwrap_or_default();
        let mut tags: Vec<String> = image
            .repo_tags
            .into_iter()
            .filter(|t| t != "<none>:<none>")
            .collect();
        if !is_ours(&tags, &kind) {
            continue;
        }
        if tags.is_empty() {
            tags.push("(untagged)".to_string());
        }
        for tag in tags {
            rows.push(ImageRow {
                id: image.id.clone(),
                current: current_tags.contains(&tag),
                tag,
                kind: kind.clone(),
                size_mb: (image.size.max(0) as u64) / 1_000_000,
                created: image.created,
            });
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.created));
    Ok(rows)
}

/// How the kind (`deploylab.image` label) of every stand-in for an
/// official image ends (`python-standin`): images built `FROM` one inherit
/// its labels.
pub(crate) const STANDIN_KIND_SUFFIX: &str = "-standin";

/// Whether an image labelled as deploylab's is one deploylab made: an
/// image built `FROM` a stand-in (a student's app) inherits its labels,
/// but never carries a deploylab name (`deploylab/…`, `deploylab-…`).
fn is_ours(tags: &[String], kind: &str) -> bool {
    match tags.is_empty() {
        true => !kind.ends_with(STANDIN_KIND_SUFFIX),
        false => tags.iter().any(|t| t.starts_with("deploylab")),
    }
}

pub(crate) async fn remove_image(docker: &Docker, tag: &str) -> Result<()> {
    let options = RemoveImageOptionsBuilder::default().force(true).build();
    match docker.remove_image(tag, Some(options), None).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(Error::docker(format!("removing image {tag}"))(e)),
    }
}

/// Removes an image unless a container uses it (not forced).
pub(crate) async fn remove_image_if_unused(docker: &Docker, id: &str) -> Result<()> {
    match docker
        .remove_image(
            id,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(Error::docker(format!("removing image {id}"))(e)),
    }
}

/// Removes images of older recipes and their caches. Images of the kinds
/// in `keep` stay (the heroku lab's slugs are its apps' releases: they go
/// when their app is destroyed, not here).
pub(crate) async fn prune(
    docker: &Docker,
    cache: &Path,
    current: &VmImage,
    current_tags: &[String],
    keep: &[&str],
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for row in list(docker, current_tags).await? {
        if !row.current && !keep.contains(&row.kind.as_str()) {
            // By id: an untagged image has no name to remove it by.
            remove_image(docker, &row.id).await?;
            removed.push(row.tag);
        }
    }
    // What grading's images recorded goes with them (`vm/graded.rs`).
    let _ = std::fs::remove_dir_all(cache.join("graded"));
    if let Ok(entries) = std::fs::read_dir(cache) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("vm-") && path != current.cache_dir() {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_pip_reads_the_mounted_wheels() {
        assert!(OFFLINE_PIP_CONF.contains(&format!("find-links = {WHEELS_MOUNT}\n")));
        for hook in [VM_CUSTOMIZE, BASE_CUSTOMIZE] {
            assert!(hook.contains("\"$DEPLOYLAB_PIP_CONF\" > \"$root/etc/pip.conf\""));
        }
    }

    /// The offline repository depends on the exact package versions in the
    /// image: an image and a repository from two different builds never
    /// pair, nor does a cache no build finished.
    #[test]
    fn image_and_repository_from_different_builds_do_not_pair() {
        let labs = crate::catalog::Catalog::BuiltIn.all().unwrap();
        let recipe = VmRecipe::for_labs(&labs);
        let cache = |build: Option<&str>| {
            let dir = tempfile::tempdir().unwrap();
            let image = recipe.image(dir.path());
            std::fs::create_dir_all(image.apt_dir.parent().unwrap()).unwrap();
            if let Some(build) = build {
                std::fs::write(image.build_id_file(), format!("{build}\n")).unwrap();
            }
            (dir, image)
        };
        let labelled = |build: &str| HashMap::from([(LABEL_BUILD.to_string(), build.to_string())]);
        let (_one, built) = cache(Some("build-1"));
        let (_other, rebuilt) = cache(Some("build-2"));
        let (_none, unfinished) = cache(None);
        assert!(built.pairs_with(Some(&labelled("build-1"))));
        assert!(!rebuilt.pairs_with(Some(&labelled("build-1"))));
        assert!(!unfinished.pairs_with(Some(&labelled(""))));
        assert!(!built.pairs_with(None));
        assert!(!built.pairs_with(Some(&HashMap::new())));
    }
}
