//! The image judged, and what it does when deploylab runs it alone: with
//! `PORT` and `WEB_CONCURRENCY` of deploylab's choosing, on an internal
//! network with nothing else on it (no database, no way out). What it
//! binds, how many workers it forks, as which user, which files it holds,
//! and what Django says of its database. An image's probe never changes:
//! it is kept by image id, so checks of a running stack stay fast.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;

use super::facts::{
    AsBuilt, DatabaseProbe, Exited, Files, ImageFacts, ImageSource, Listener, Probe, Process, Role,
    Stack, Where,
};
use crate::docker::{LABEL_INSTANCE, LABEL_LAB};

/// The values the image is run with: not the defaults anyone writes.
pub(crate) const PORT: u16 = 8765;
pub(crate) const WORKERS: u32 = 3;
/// How long the app may take to listen.
pub(crate) const LISTEN_WITHIN: Duration = Duration::from_secs(40);
/// How long deploylab's own build of the folder may take.
const BUILD_WITHIN: Duration = Duration::from_secs(900);
const SCAN: &str = include_str!("scan.py");
const DJANGO_DB: &str = include_str!("django_db.py");

/// Variable names whose values are secrets.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "API_KEY",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|s| upper.contains(s))
}

mod text {
    use crate::i18n::tr;

    pub(super) fn no_dockerfile(dir: &str) -> String {
        tr!("container-probe-no-dockerfile", dir = dir)
    }
    pub(super) fn build_failed(tail: &str) -> String {
        format!("{}:\n{tail}", tr!("container-probe-build-failed"))
    }
    pub(super) fn missing_base(image: &str, offered: &str) -> String {
        tr!("container-probe-missing-base", image = image, offered = offered)
    }
    pub(super) fn build_timeout() -> String {
        tr!("container-probe-build-timeout")
    }
    pub(super) fn no_docker_cli() -> String {
        tr!("container-probe-no-docker-cli")
    }
    pub(super) fn probe_failed() -> String {
        tr!("container-probe-probe-failed")
    }
}

/// The image to judge: the Compose project's app image, or deploylab's
/// own build of the folder's Dockerfile when no project runs. `Err`: why
/// there is none, in words for the student.
pub(crate) async fn image(
    docker: &Docker,
    at: &Where<'_>,
    stack: &Stack,
) -> std::result::Result<ImageFacts, String> {
    let (id, source) = match stack.with_role(Role::App) {
        Some(app) if !app.image_id.is_empty() => (
            app.image_id.clone(),
            ImageSource::Compose {
                service: app.service.clone(),
            },
        ),
        _ => (build(docker, at).await?, ImageSource::Built),
    };
    let inspect = docker
        .inspect_image(&id)
        .await
        .map_err(|e| crate::error::describe_docker(&e))?;
    let history = docker.image_history(&id).await.unwrap_or_default();
    let config = inspect.config.unwrap_or_default();
    let env: BTreeMap<String, String> = config
        .env
        .unwrap_or_default()
        .into_iter()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let v = if is_secret_name(k) { "<redacted>" } else { v };
            Some((k.to_string(), v.to_string()))
        })
        .collect();
    let mut secrets: Vec<String> = env
        .iter()
        .filter(|(k, v)| is_secret_name(k) && !v.is_empty())
        .map(|(k, _)| k.clone())
        .collect();
    secrets.extend(history.iter().flat_map(|h| secrets_in_step(&h.created_by)));
    secrets.sort();
    secrets.dedup();
    Ok(ImageFacts {
        id,
        source,
        user: config.user.unwrap_or_default(),
        env,
        exposed: config.exposed_ports.unwrap_or_default(),
        working_dir: config.working_dir.unwrap_or_default(),
        size: u64::try_from(inspect.size.unwrap_or_default()).unwrap_or_default(),
        layers: inspect
            .root_fs
            .and_then(|r| r.layers)
            .map_or(0, |l| l.len()),
        secrets_in_config: secrets,
    })
}

/// Secret-looking names a build step set: `ENV K=V` lines, and the build
/// arguments a RUN step saw (`|2 K=V L=W /bin/sh -c …` in the history).
fn secrets_in_step(created_by: &str) -> Vec<String> {
    let step = created_by.trim();
    let assignments: Vec<&str> = if let Some(env) = step.split("#(nop)").nth(1) {
        match env.trim().strip_prefix("ENV ") {
            Some(rest) => rest.split_whitespace().collect(),
            None => Vec::new(),
        }
    } else if let Some(args) = step.strip_prefix('|') {
        let count: usize = args
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        args.split_whitespace().skip(1).take(count).collect()
    } else if let Some(env) = step.strip_prefix("ENV ") {
        // BuildKit writes ENV steps without the #(nop) prefix.
        env.split_whitespace().collect()
    } else {
        Vec::new()
    };
    assignments
        .iter()
        .filter_map(|a| a.split_once('='))
        .filter(|(k, v)| is_secret_name(k) && !v.is_empty())
        .map(|(k, _)| k.to_string())
        .collect()
}

/// deploylab's own build of the folder, with the docker CLI (it honours
/// .dockerignore as the student's build does). Labelled, tagged per home.
async fn build(docker: &Docker, at: &Where<'_>) -> std::result::Result<String, String> {
    // What the Compose file builds (`context: ..` from docker/), else the
    // folder's own Dockerfile.
    let layout = super::layout::Layout::of(at.dir);
    if !layout.dockerfile.is_file() {
        return Err(text::no_dockerfile(&at.dir.display().to_string()));
    }
    if crate::images::which("docker").is_none() {
        return Err(text::no_docker_cli());
    }
    let previous = docker
        .inspect_image(&check_tag(at.instance))
        .await
        .ok()
        .and_then(|i| i.id);
    let mut build = tokio::process::Command::new("docker");
    build
        .args(["build", "-q", "-t", &check_tag(at.instance)])
        .args(["--label", &format!("{LABEL_LAB}={}", at.lab)])
        .args(["--label", &format!("{LABEL_INSTANCE}={}", at.instance)])
        .arg("-f")
        .arg(&layout.dockerfile)
        .arg(&layout.context);
    let out = super::output_within(build, BUILD_WITHIN, &text::build_timeout()).await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success()
        && let Some(id) = stdout.lines().rev().find(|l| l.starts_with("sha256:"))
    {
        // The build before this one is no one's now.
        if let Some(old) = previous.filter(|old| old != id.trim()) {
            let _ = crate::images::remove_image_if_unused(docker, &old).await;
        }
        return Ok(id.trim().to_string());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let dockerfile = std::fs::read_to_string(&layout.dockerfile).unwrap_or_default();
    Err(explain_build_failure(&stderr, &dockerfile))
}

/// The tag of deploylab's own build of a home's app folder.
pub(crate) fn check_tag(instance: &str) -> String {
    format!(
        "deploylab-container-check:{}",
        crate::docker::short(instance)
    )
}

/// A build's error in a sentence: a base image that cannot be had offline
/// names the stand-ins there are.
pub(crate) fn explain_build_failure(stderr: &str, dockerfile: &str) -> String {
    const NO_REGISTRY: &[&str] = &[
        "registry-1.docker.io",
        "pull access denied",
        "manifest unknown",
        "failed to resolve source metadata",
        "repository does not exist",
        "no such host",
    ];
    let registry = NO_REGISTRY.iter().any(|s| stderr.contains(s));
    match from_images(dockerfile).into_iter().next() {
        Some(image) if registry => text::missing_base(&image, &super::official_names().join(", ")),
        _ => text::build_failed(&super::stack::last_lines(stderr, 8)),
    }
}

/// The images a Dockerfile's FROM lines name (not its own stages).
fn from_images(dockerfile: &str) -> Vec<String> {
    let mut stages = Vec::new();
    let mut images = Vec::new();
    for line in dockerfile.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if !words
            .first()
            .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
        {
            continue;
        }
        let rest: Vec<&str> = words[1..]
            .iter()
            .copied()
            .filter(|w| !w.starts_with("--"))
            .collect();
        let Some(image) = rest.first() else { continue };
        if !stages.contains(&image.to_string()) {
            images.push(image.to_string());
        }
        if rest.len() >= 3 && rest[1].eq_ignore_ascii_case("AS") {
            stages.push(rest[2].to_string());
        }
    }
    images
}

/// The probe of an image, from the lab's cache or by running it.
pub(crate) async fn run_cached(docker: &Docker, at: &Where<'_>, image: &ImageFacts) -> Probe {
    let dir = at.work.join("probes");
    let file = dir.join(format!("{}.json", image.id.replace(':', "-")));
    if let Some(probe) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str::<Probe>(&t).ok())
    {
        return probe;
    }
    let mut probe = run(docker, at, image).await;
    probe.fresh = true;
    // A probe that could not run is not kept: the next check tries again.
    if probe.trouble.is_none() {
        let _ = std::fs::create_dir_all(&dir);
        let kept = Probe {
            fresh: false,
            ..probe.clone()
        };
        if let Ok(text) = serde_json::to_string(&kept) {
            let _ = std::fs::write(&file, text);
        }
    }
    probe
}

async fn run(docker: &Docker, at: &Where<'_>, image: &ImageFacts) -> Probe {
    let mut probe = Probe {
        port: PORT,
        workers: WORKERS,
        ..Probe::default()
    };
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let network = format!(
        "{}-probe-{suffix}",
        crate::docker::network_name(at.instance, at.lab)
    );
    let made = crate::docker::make_network(docker, &network, at.instance, at.lab, true).await;
    if let Err(e) = made {
        probe.trouble = Some(e.to_string());
        return probe;
    }
    let settings = vec![format!("PORT={PORT}"), format!("WEB_CONCURRENCY={WORKERS}")];
    let set = start(
        docker,
        at,
        image,
        &network,
        &format!("{suffix}-set"),
        settings,
    )
    .await;
    let built = start(
        docker,
        at,
        image,
        &network,
        &format!("{suffix}-built"),
        Vec::new(),
    )
    .await;
    match (&set, &built) {
        (Ok(set), Ok(built)) => {
            let observed = observe(docker, set, image, at.static_file, &mut probe);
            let (_, as_built) = tokio::join!(observed, watch_as_built(docker, built, image));
            probe.as_built = Some(as_built);
        }
        (Err(e), _) | (_, Err(e)) => {
            probe.trouble = Some(format!("{}: {e}", text::probe_failed()));
        }
    }
    for id in [set, built].into_iter().flatten() {
        let _ = crate::docker::remove_container(docker, &id).await;
    }
    let _ = docker.remove_network(&network).await;
    probe
}

/// The image as built: where it listens by itself.
async fn watch_as_built(docker: &Docker, id: &str, image: &ImageFacts) -> AsBuilt {
    let (listening, exited) = wait_listening(docker, id).await;
    AsBuilt {
        exposed: image
            .exposed
            .iter()
            .find_map(|p| p.strip_suffix("/tcp")?.parse().ok()),
        listening,
        exited,
    }
}

/// Waits until the container listens somewhere, or stops, or the time is
/// up.
async fn wait_listening(docker: &Docker, id: &str) -> (Vec<Listener>, Option<Exited>) {
    let started = Instant::now();
    loop {
        let stopped = docker
            .inspect_container(id, None)
            .await
            .ok()
            .and_then(|i| i.state)
            .filter(|s| s.running != Some(true));
        if let Some(state) = stopped {
            let logs = crate::docker::container_logs(docker, id).await;
            let exited = Exited {
                code: state.exit_code.unwrap_or_default(),
                log_tail: super::stack::last_lines(&logs, 8),
            };
            return (Vec::new(), Some(exited));
        }
        let listening = listeners(docker, id).await;
        if !listening.is_empty() || started.elapsed() > LISTEN_WITHIN {
            return (listening, None);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn start(
    docker: &Docker,
    at: &Where<'_>,
    image: &ImageFacts,
    network: &str,
    suffix: &str,
    env: Vec<String>,
) -> crate::error::Result<String> {
    let config = ContainerCreateBody {
        image: Some(image.id.clone()),
        env: Some(env),
        labels: Some(HashMap::from([
            (LABEL_LAB.to_string(), at.lab.to_string()),
            (LABEL_INSTANCE.to_string(), at.instance.to_string()),
        ])),
        host_config: Some(HostConfig {
            network_mode: Some(network.to_string()),
            ..crate::limits::DYNO.host_config()
        }),
        ..Default::default()
    };
    let name = format!(
        "deploylab-{}-container-probe-{suffix}",
        crate::docker::short(at.instance)
    );
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(crate::error::Error::docker("creating the probe container"))?;
    if let Err(e) = docker.start_container(&created.id, None).await {
        let _ = crate::docker::remove_container(docker, &created.id).await;
        return Err(crate::error::Error::docker("starting the probe container")(
            e,
        ));
    }
    Ok(created.id)
}

/// Waits until the app listens (or stops), then reads what it does.
async fn observe(
    docker: &Docker,
    id: &str,
    image: &ImageFacts,
    static_file: &str,
    probe: &mut Probe,
) {
    let (listening, exited) = wait_listening(docker, id).await;
    probe.listening = listening;
    probe.exited = exited;
    if probe.exited.is_none() {
        probe.processes = settled_processes(docker, id).await;
        probe.files = scan(docker, id, static_file).await;
        if probe.files.as_ref().is_some_and(|f| f.manage_py) {
            let user = (!image.user.is_empty()).then_some(image.user.as_str());
            probe.database = ask_django(docker, id, user).await;
        }
    }
}

/// The container's processes once their number stops changing (workers
/// are forked after the socket is bound).
async fn settled_processes(docker: &Docker, id: &str) -> Vec<Process> {
    let mut last = Vec::new();
    for _ in 0..25 {
        let now = super::stack::processes(docker, id).await;
        if !last.is_empty() && now.len() == last.len() {
            break;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    last.into_iter()
        .map(|(pid, ppid, uid, args)| Process {
            pid,
            ppid,
            uid,
            args,
        })
        .collect()
}

/// Listening TCP sockets, from the kernel's tables in the container.
async fn listeners(docker: &Docker, id: &str) -> Vec<Listener> {
    listeners_of(crate::docker::listening(docker, id).await)
}

/// Docker's own DNS resolver, in every container of a user network: not
/// the app's.
const DOCKER_DNS: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 11));

fn listeners_of(sockets: Vec<(std::net::IpAddr, u16)>) -> Vec<Listener> {
    let mut found: Vec<Listener> = sockets
        .into_iter()
        .filter(|(ip, _)| *ip != DOCKER_DNS)
        .map(|(ip, port)| Listener {
            ip: ip.to_string(),
            port,
        })
        .collect();
    found.sort_by(|a, b| (a.port, &a.ip).cmp(&(b.port, &b.ip)));
    found.dedup();
    found
}

/// The image's files, read by a Python script inside the container.
async fn scan(docker: &Docker, id: &str, static_file: &str) -> Option<Files> {
    for python in ["python3", "python"] {
        let cmd = vec![
            python.to_string(),
            "-c".into(),
            SCAN.into(),
            static_file.into(),
        ];
        if let Ok(out) = crate::docker::exec(docker, id, cmd, Some("0")).await
            && out.exit_code == 0
        {
            return serde_json::from_str(out.stdout.trim()).ok();
        }
    }
    None
}

/// Django, as the container's user (`user`, else its own) in its working
/// folder, says which database it uses and whether it reaches it.
pub(crate) async fn ask_django(
    docker: &Docker,
    id: &str,
    user: Option<&str>,
) -> Option<DatabaseProbe> {
    let cmd = vec![
        "python".to_string(),
        "manage.py".into(),
        "shell".into(),
        "-c".into(),
        DJANGO_DB.into(),
    ];
    let asked = crate::docker::exec(docker, id, cmd, user);
    let out = tokio::time::timeout(Duration::from_secs(60), asked)
        .await
        .ok()?
        .ok()?;
    let mut probe = DatabaseProbe {
        vendor: String::new(),
        error: None,
        host: String::new(),
        name: String::new(),
    };
    for line in out.stdout.lines() {
        if let Some(vendor) = line.strip_prefix("VENDOR ") {
            probe.vendor = vendor.trim().to_string();
        } else if let Some(error) = line.strip_prefix("ERROR ") {
            probe.error = Some(error.trim().to_string());
        } else if let Some(host) = line.strip_prefix("HOST ") {
            probe.host = host.trim().to_string();
        } else if let Some(name) = line.strip_prefix("NAME ") {
            probe.name = name.trim().to_string();
        }
    }
    if probe.vendor.is_empty() {
        // The settings did not load: their error is the answer.
        probe.error = Some(super::stack::last_lines(&out.stderr, 1));
    }
    Some(probe)
}

/// Whether a folder's app has a Dockerfile (start's advice).
pub(crate) fn has_dockerfile(dir: &Path) -> bool {
    super::layout::Layout::of(dir).dockerfile.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_sockets_are_read_from_the_kernel_tables() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:223D 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n   1: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1\n   2: 0100007F:1F40 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 3 1\n   3: 0B00007F:9491 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1\n   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1\n";
        let found = listeners_of(crate::docker::parse_listening(text));
        let pairs: Vec<(String, u16)> = found.iter().map(|l| (l.ip.clone(), l.port)).collect();
        assert_eq!(
            pairs,
            vec![
                ("::".to_string(), 80),
                ("127.0.0.1".to_string(), 8000),
                ("0.0.0.0".to_string(), 8765),
            ]
        );
        assert!(found[0].is_any() && !found[1].is_any() && found[2].is_any());
    }

    #[test]
    fn secrets_set_by_env_or_build_arguments_are_found_in_the_history() {
        assert_eq!(
            secrets_in_step("/bin/sh -c #(nop)  ENV BLOG_SECRET_KEY=abc PYTHONUNBUFFERED=1"),
            vec!["BLOG_SECRET_KEY"]
        );
        assert_eq!(
            secrets_in_step("|2 DB_PASSWORD=x OTHER=y /bin/sh -c pip install ."),
            vec!["DB_PASSWORD"]
        );
        assert!(secrets_in_step("/bin/sh -c #(nop)  ENV PYTHONUNBUFFERED=1").is_empty());
        assert!(
            secrets_in_step("/bin/sh -c BLOG_SECRET_KEY=build-only python manage.py collectstatic")
                .is_empty()
        );
    }

    #[test]
    fn a_missing_base_image_names_the_stand_ins() {
        let dockerfile = "FROM python:3.12-slim AS build\nRUN true\nFROM build\n";
        let err = "Step 1/3 : FROM python:3.12-slim AS build\nGet \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host";
        let said = explain_build_failure(err, dockerfile);
        assert!(
            said.starts_with("the base image python:3.12-slim is not"),
            "{said}"
        );
        assert!(said.contains("python:3.11-slim"), "{said}");
        let said = explain_build_failure(
            "Step 2/3 : RUN false\nreturned a non-zero code: 1",
            dockerfile,
        );
        assert!(said.contains("RUN false"), "{said}");
        assert_eq!(from_images(dockerfile), vec!["python:3.12-slim"]);
    }
}
