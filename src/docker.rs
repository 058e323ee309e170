//! The Docker engine, through bollard only (no `docker` CLI): connecting,
//! labels, and the few container operations the rest of deploylab builds on.

use std::collections::HashMap;
use std::net::SocketAddr;

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::error::{Error, Result};

/// Every container deploylab creates carries `deploylab.lab=<lab id>`...
pub(crate) const LABEL_LAB: &str = "deploylab.lab";
/// ...and the deploylab home it belongs to, so `stop --all` of one home (one
/// user, one test) never touches another's.
pub(crate) const LABEL_INSTANCE: &str = "deploylab.instance";
/// What a container is to its lab: `vm`, or `git` (the lab's git server).
pub(crate) const LABEL_ROLE: &str = "deploylab.role";
/// A spare's network carries `deploylab.spare=<lab id>` (and no lab label:
/// until claimed, a spare belongs to no lab).
pub(crate) const LABEL_SPARE: &str = "deploylab.spare";
/// A spare VM's container name starts with this until a `start` claims it
/// and renames it; names are the one thing of a container that can change,
/// so the name, not a label, says whether it is claimed.
pub(crate) const SPARE_PREFIX: &str = "deploylab-spare-";
/// Every image deploylab builds carries `deploylab.image=<name>`.
pub(crate) const LABEL_IMAGE: &str = "deploylab.image";
/// ...and the content hash of the recipe it was built from.
pub(crate) const LABEL_RECIPE: &str = "deploylab.recipe";
/// ...and the id of the build, which its offline repository shares.
pub(crate) const LABEL_BUILD: &str = "deploylab.build";

/// The engine's address: `DOCKER_HOST`, unless unset or empty.
fn docker_host() -> Option<String> {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
}

/// Where deploylab looks for the engine, for messages.
pub(crate) fn host() -> String {
    docker_host().unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// How long the engine may take to say its version: an endpoint that
/// accepts connections and never answers must not hang every command.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connects to the engine named by `DOCKER_HOST` (or the local default),
/// negotiating the API version, and makes sure it answers.
/// Where lab containers' ports are published and where deploylab reaches
/// them: 127.0.0.1 (Docker Desktop forwards published ports there too), or
/// `DEPLOYLAB_PUBLISH_HOST` where deploylab runs apart from the engine's
/// host network (another machine's address, a container's gateway).
/// deploylab never connects to containers' own addresses, which only a
/// Linux host running the engine itself can route to.
pub(crate) fn published_host() -> std::net::IpAddr {
    published_host_setting()
        .ok()
        .flatten()
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into())
}

const PUBLISH_HOST: &str = "DEPLOYLAB_PUBLISH_HOST";

fn published_host_setting() -> Result<Option<std::net::IpAddr>> {
    match std::env::var(PUBLISH_HOST) {
        Ok(value) if !value.trim().is_empty() => {
            value
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::BadSetting {
                    name: PUBLISH_HOST,
                    value,
                    why: "not an IP address",
                })
        }
        _ => Ok(None),
    }
}

/// Runs a build container made from `create` (with `files` put in before
/// it starts) to its end and saves its filesystem as image `tag` with the
/// configuration `image`; the container goes either way, also when this is
/// dropped half-way. A build that fails is an `Error::ImageBuild` with its
/// output.
pub(crate) async fn build_by_commit(
    docker: &Docker,
    create: bollard::models::ContainerCreateBody,
    files: &[FileEntry<'_>],
    tag: &str,
    image: bollard::models::ContainerConfig,
) -> Result<()> {
    let name = format!(
        "deploylab-image-build-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let options = bollard::query_parameters::CreateContainerOptionsBuilder::default()
        .name(&name)
        .build();
    let created = docker
        .create_container(Some(options), create)
        .await
        .map_err(Error::docker("creating an image's build container"))?;
    let mut leftover = RemoveOnDrop {
        docker: docker.clone(),
        container: Some(created.id.clone()),
    };
    let result = async {
        if !files.is_empty() {
            upload_files(docker, &created.id, files, false).await?;
        }
        docker
            .start_container(&created.id, None)
            .await
            .map_err(Error::docker("starting an image's build container"))?;
        let code = wait_exit(docker, &created.id).await?;
        if code != 0 {
            let logs = container_logs(docker, &created.id).await;
            return Err(Error::ImageBuild {
                image: tag.to_string(),
                detail: format!("the build exited with {code}: {logs}"),
            });
        }
        let (repo, version) = tag.rsplit_once(':').unwrap_or((tag, "latest"));
        let options = bollard::query_parameters::CommitContainerOptionsBuilder::default()
            .container(&created.id)
            .repo(repo)
            .tag(version)
            .build();
        docker
            .commit_container(options, image)
            .await
            .map_err(Error::docker(format!("saving the image {tag}")))?;
        Ok(())
    }
    .await;
    leftover.container = None;
    remove_container(docker, &created.id).await?;
    result
}

/// Removes a container when dropped (a build cut off by a grade's timeout
/// or Ctrl-C); forgotten when the build removes it itself.
struct RemoveOnDrop {
    docker: Docker,
    container: Option<String>,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let (docker, container) = (self.docker.clone(), self.container.take());
        if let (Some(id), Ok(runtime)) = (container, tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move {
                let _ = remove_container(&docker, &id).await;
            });
        }
    }
}

/// Whether the engine is Docker Desktop's (macOS, Windows, WSL2), whose
/// networks live in a VM of its own; its `info` says so.
pub(crate) async fn is_desktop(docker: &Docker) -> bool {
    docker
        .info()
        .await
        .ok()
        .and_then(|i| i.operating_system)
        .is_some_and(|os| os.contains("Docker Desktop"))
}

/// The TCP sockets listening in a container, as its kernel's tables say
/// (`/proc/net/tcp{,6}`, read as root: no tool of the image is trusted).
pub(crate) async fn listening(docker: &Docker, container: &str) -> Vec<(std::net::IpAddr, u16)> {
    let read = ["cat", "/proc/net/tcp", "/proc/net/tcp6"];
    let read = read.iter().map(ToString::to_string).collect();
    match exec(docker, container, read, Some("0")).await {
        Ok(out) => parse_listening(&out.stdout),
        Err(_) => Vec::new(),
    }
}

/// Whether a process in the container listens on TCP `port` where others
/// can reach it (any address but loopback).
pub(crate) async fn listens(docker: &Docker, container: &str, port: u16) -> bool {
    listening(docker, container)
        .await
        .iter()
        .any(|(ip, at)| *at == port && !ip.is_loopback())
}

/// `/proc/net/tcp{,6}` lines in state 0A (LISTEN): address and port
/// (an IPv4-mapped IPv6 address as the IPv4 one).
pub(crate) fn parse_listening(text: &str) -> Vec<(std::net::IpAddr, u16)> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) != Some(&"0A") {
                return None;
            }
            let (ip, port) = fields.get(1)?.split_once(':')?;
            Some((hex_ip(ip)?, u16::from_str_radix(port, 16).ok()?))
        })
        .collect()
}

/// The kernel writes addresses as host-order 32-bit words in hex.
fn hex_ip(hex: &str) -> Option<std::net::IpAddr> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).into()),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            let v6 = std::net::Ipv6Addr::from(octets);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => v4.into(),
                None => v6.into(),
            })
        }
        _ => None,
    }
}

/// Where the engine publishes the container's TCP `port`
/// (`published_host` and the host port it chose).
pub(crate) async fn published_at(
    docker: &Docker,
    container: &str,
    port: u16,
) -> Option<SocketAddr> {
    let info = docker.inspect_container(container, None).await.ok()?;
    let ports = info.network_settings?.ports?;
    let bindings = ports.get(&format!("{port}/tcp"))?.clone()?;
    let host_port = bindings
        .iter()
        .find_map(|b| b.host_port.as_deref()?.parse::<u16>().ok())?;
    Some(SocketAddr::new(published_host(), host_port))
}

pub(crate) async fn connect() -> Result<Docker> {
    published_host_setting()?;
    let unreachable = |detail: String| Error::DockerUnreachable {
        host: host(),
        detail,
    };
    // An empty DOCKER_HOST means unset, as for the docker CLI.
    let docker = Docker::connect_with_host(&host())
        .map_err(|e| unreachable(crate::error::describe_docker(&e)))?;
    // Negotiating asks the engine for its version: that round trip is also
    // the proof that it answers.
    match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
        Ok(answer) => answer.map_err(|e| unreachable(crate::error::describe_docker(&e))),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

pub(crate) fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Containers of this deploylab home, optionally of one lab, running or not;
/// never an unclaimed spare (it is no lab's yet: `stop`, `status` and a
/// lab's replacement leave it alone).
pub(crate) async fn labelled_containers(
    docker: &Docker,
    instance: &str,
    lab: Option<&str>,
) -> Result<Vec<bollard::models::ContainerSummary>> {
    let listed = every_container(docker, instance, lab).await?;
    Ok(listed.into_iter().filter(|c| !is_spare(c)).collect())
}

/// Containers of this deploylab home (of one lab), spares included.
async fn every_container(
    docker: &Docker,
    instance: &str,
    lab: Option<&str>,
) -> Result<Vec<bollard::models::ContainerSummary>> {
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&lab_filters(instance, lab))
        .build();
    docker
        .list_containers(Some(options))
        .await
        .map_err(Error::docker("listing containers"))
}

/// Whether a listed container is an unclaimed spare (by its name).
fn is_spare(container: &bollard::models::ContainerSummary) -> bool {
    (container.names.iter().flatten())
        .any(|name| name.trim_start_matches('/').starts_with(SPARE_PREFIX))
}

/// Removes this home's unclaimed spares, of one lab or all: their
/// containers and networks. Returns how many containers there were.
pub(crate) async fn remove_spares(
    docker: &Docker,
    instance: &str,
    lab: Option<&str>,
) -> Result<usize> {
    let listed = every_container(docker, instance, lab).await?;
    let spares: Vec<_> = listed.into_iter().filter(is_spare).collect();
    for c in &spares {
        remove_container(docker, c.id.as_deref().unwrap_or_default()).await?;
    }
    remove_spare_networks(docker, instance, lab).await?;
    Ok(spares.len())
}

/// Removes the spares' networks (of one lab, or all) that no container is
/// on: a claimed spare's network once its lab is gone (it is the lab's,
/// under the spare's label: labels do not change); a waiting spare's own
/// is in use and stays.
async fn remove_spare_networks(docker: &Docker, instance: &str, lab: Option<&str>) -> Result<()> {
    let label = match lab {
        Some(lab) => format!("{LABEL_SPARE}={lab}"),
        None => LABEL_SPARE.to_string(),
    };
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_INSTANCE}={instance}"), label],
    )]);
    let options = bollard::query_parameters::ListNetworksOptionsBuilder::default()
        .filters(&filters)
        .build();
    let networks = docker
        .list_networks(Some(options))
        .await
        .map_err(Error::docker("listing networks"))?;
    for network in networks {
        remove_unused_network(docker, &network.id.unwrap_or_default()).await?;
    }
    Ok(())
}

/// Removes a network unless a container is on it (a spare's, waiting).
async fn remove_unused_network(docker: &Docker, id: &str) -> Result<()> {
    match remove_network(docker, id).await {
        Err(Error::Docker {
            source:
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 403 | 409,
                    ..
                },
            ..
        }) => Ok(()),
        other => other,
    }
}

/// Removes a network; one already gone is fine.
pub(crate) async fn remove_network(docker: &Docker, id: &str) -> Result<()> {
    match docker.remove_network(id).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(Error::docker(format!("removing network {id}"))(e)),
    }
}

/// The labs this home has anything of in the engine (containers or
/// networks), whatever deploylab's state file says.
pub(crate) async fn labelled_lab_ids(docker: &Docker, instance: &str) -> Result<Vec<String>> {
    let mut ids: Vec<String> = labelled_containers(docker, instance, None)
        .await?
        .into_iter()
        .filter_map(|c| c.labels?.get(LABEL_LAB).cloned())
        .collect();
    let options = bollard::query_parameters::ListNetworksOptionsBuilder::default()
        .filters(&lab_filters(instance, None))
        .build();
    let networks = docker
        .list_networks(Some(options))
        .await
        .map_err(Error::docker("listing networks"))?;
    ids.extend(
        networks
            .into_iter()
            .filter_map(|n| n.labels?.get(LABEL_LAB).cloned()),
    );
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn lab_filters(instance: &str, lab: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut label = vec![format!("{LABEL_INSTANCE}={instance}")];
    label.push(match lab {
        Some(lab) => format!("{LABEL_LAB}={lab}"),
        None => LABEL_LAB.to_string(),
    });
    HashMap::from([("label".to_string(), label)])
}

pub(crate) fn network_name(instance: &str, lab: &str) -> String {
    format!("deploylab-{lab}-{}", short(instance))
}

/// The instance id as names show it (labels carry it whole).
pub(crate) fn short(instance: &str) -> &str {
    &instance[..8.min(instance.len())]
}

/// Creates the lab's own network (so its containers find each other by
/// name), labelled like its containers. Returns its name.
pub(crate) async fn create_network(docker: &Docker, instance: &str, lab: &str) -> Result<String> {
    let name = network_name(instance, lab);
    make_network(docker, &name, instance, lab, false).await?;
    Ok(name)
}

/// A lab's second network with no way out (Docker's `internal`): its
/// containers reach the host's address on it, where a package proxy
/// listens, and nothing else. Removed with the lab's other resources.
pub(crate) async fn create_closed_network(
    docker: &Docker,
    instance: &str,
    lab: &str,
) -> Result<String> {
    let name = format!("{}-closed", network_name(instance, lab));
    make_network(docker, &name, instance, lab, true).await?;
    Ok(name)
}

pub(crate) async fn make_network(
    docker: &Docker,
    name: &str,
    instance: &str,
    lab: &str,
    internal: bool,
) -> Result<()> {
    make_labelled_network(docker, name, (LABEL_LAB, lab), instance, internal).await
}

/// A spare's network: the lab's network once the spare is claimed (its
/// name then stays, so each has its own), labelled as a spare of `lab`.
/// Returns its name.
pub(crate) async fn create_spare_network(
    docker: &Docker,
    instance: &str,
    lab: &str,
) -> Result<String> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() % 0x100_0000)
        .unwrap_or_default();
    let name = format!("{SPARE_PREFIX}{lab}-{}-{nonce:06x}", short(instance));
    make_labelled_network(docker, &name, (LABEL_SPARE, lab), instance, false).await?;
    Ok(name)
}

async fn make_labelled_network(
    docker: &Docker,
    name: &str,
    (key, value): (&str, &str),
    instance: &str,
    internal: bool,
) -> Result<()> {
    let request = bollard::models::NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".into()),
        internal: Some(internal),
        labels: Some(HashMap::from([
            (key.to_string(), value.to_string()),
            (LABEL_INSTANCE.to_string(), instance.to_string()),
        ])),
        ..Default::default()
    };
    docker
        .create_network(request)
        .await
        .map_err(Error::docker("creating the lab's network"))?;
    Ok(())
}

/// The address the host has on a network (its gateway): what containers on
/// it reach the host by; and the network's id (a network made again under
/// the same name has another).
pub(crate) async fn gateway(docker: &Docker, network: &str) -> Result<(std::net::IpAddr, String)> {
    let inspect = docker
        .inspect_network(
            network,
            None::<bollard::query_parameters::InspectNetworkOptions>,
        )
        .await
        .map_err(Error::docker("inspecting the lab's network"))?;
    inspect
        .ipam
        .and_then(|i| i.config)
        .into_iter()
        .flatten()
        .find_map(|c| match c.gateway {
            Some(gateway) => gateway.parse().ok(),
            // The default bridge names only its subnet: Docker gives the
            // host its first address.
            None => first_address(c.subnet.as_deref()?),
        })
        .map(|ip| (ip, inspect.id.unwrap_or_else(|| network.to_string())))
        .ok_or_else(|| Error::NoGateway {
            network: network.to_string(),
        })
}

/// The first host address of an IPv4 subnet ("172.17.0.0/16" → .1).
fn first_address(subnet: &str) -> Option<std::net::IpAddr> {
    let (network, _) = subnet.split_once('/')?;
    let network: std::net::Ipv4Addr = network.parse().ok()?;
    Some(std::net::Ipv4Addr::from(u32::from(network) + 1).into())
}

/// Removes every container and network of a lab (of one deploylab home).
/// Returns how many containers there were.
pub(crate) async fn remove_lab_resources(
    docker: &Docker,
    instance: &str,
    lab: &str,
) -> Result<usize> {
    let containers = labelled_containers(docker, instance, Some(lab)).await?;
    // Side by side: each removal waits on its container's stop.
    futures_util::future::try_join_all(
        (containers.iter()).map(|c| remove_container(docker, c.id.as_deref().unwrap_or_default())),
    )
    .await?;
    let options = bollard::query_parameters::ListNetworksOptionsBuilder::default()
        .filters(&lab_filters(instance, Some(lab)))
        .build();
    let networks = docker
        .list_networks(Some(options))
        .await
        .map_err(Error::docker("listing networks"))?;
    for network in networks {
        remove_network(docker, &network.id.unwrap_or_default()).await?;
    }
    remove_spare_networks(docker, instance, Some(lab)).await?;
    Ok(containers.len())
}

/// Removes the named volumes a deploylab home's lab made (the heroku lab's
/// databases): for homes that are thrown away whole (grading's scratch
/// homes); `stop` keeps them, as it keeps the apps.
pub(crate) async fn remove_lab_volumes(docker: &Docker, instance: &str, lab: &str) -> Result<()> {
    let options = bollard::query_parameters::ListVolumesOptionsBuilder::default()
        .filters(&lab_filters(instance, Some(lab)))
        .build();
    let listed = docker
        .list_volumes(Some(options))
        .await
        .map_err(Error::docker("listing volumes"))?;
    for volume in listed.volumes.unwrap_or_default() {
        match docker
            .remove_volume(
                &volume.name,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::docker(format!("removing volume {}", volume.name))(e)),
        }
    }
    Ok(())
}

/// Removes a container and its anonymous volumes; one already gone is fine.
pub(crate) async fn remove_container(docker: &Docker, id: &str) -> Result<()> {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        // "removal already in progress" (409): someone else is removing it.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(()),
        Err(e) => Err(Error::docker(format!("removing container {id}"))(e)),
    }
}

/// What a command run inside a container returned.
#[derive(Debug)]
pub(crate) struct ExecOutput {
    pub(crate) exit_code: i64,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs a command in a running container (as root unless `user` is given)
/// and collects its output.
pub(crate) async fn exec(
    docker: &Docker,
    container: &str,
    cmd: Vec<String>,
    user: Option<&str>,
) -> Result<ExecOutput> {
    let created = docker
        .create_exec(
            container,
            CreateExecOptions {
                cmd: Some(cmd),
                user: user.map(str::to_string),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(Error::docker("starting a command in the VM"))?;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let StartExecResults::Attached { mut output, .. } = docker
        .start_exec(&created.id, None)
        .await
        .map_err(Error::docker("starting a command in the VM"))?
    {
        while let Some(chunk) = output.next().await {
            use bollard::container::LogOutput;
            match chunk.map_err(Error::docker("reading a command's output"))? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    stdout.extend_from_slice(&message);
                }
                LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                LogOutput::StdIn { .. } => {}
            }
        }
    }
    let inspect = docker
        .inspect_exec(&created.id)
        .await
        .map_err(Error::docker("reading a command's exit code"))?;
    Ok(ExecOutput {
        exit_code: inspect.exit_code.unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// A file to place into a container.
pub(crate) struct FileEntry<'a> {
    pub(crate) path: &'a str,
    pub(crate) contents: &'a [u8],
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
}

/// Writes files into a container (created or running) in one request,
/// keeping the owners given (the API's copyUIDGID).
pub(crate) async fn put_files(
    docker: &Docker,
    container: &str,
    files: &[FileEntry<'_>],
) -> Result<()> {
    upload_files(docker, container, files, true).await
}

/// Like `put_files`, for a container whose user Docker cannot look up
/// before it starts (copyUIDGID asks the container's passwd): the owners
/// written in the archive are kept as they are.
pub(crate) async fn put_files_unmapped(
    docker: &Docker,
    container: &str,
    files: &[FileEntry<'_>],
) -> Result<()> {
    upload_files(docker, container, files, false).await
}

async fn upload_files(
    docker: &Docker,
    container: &str,
    files: &[FileEntry<'_>],
    copy_uidgid: bool,
) -> Result<()> {
    let mut archive = tar::Builder::new(Vec::new());
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.contents.len() as u64);
        header.set_mode(file.mode);
        header.set_uid(file.uid);
        header.set_gid(file.gid);
        header.set_mtime(0);
        archive
            .append_data(
                &mut header,
                file.path.trim_start_matches('/'),
                file.contents,
            )
            .map_err(Error::io("packing files for the VM"))?;
    }
    let bytes = archive
        .into_inner()
        .map_err(Error::io("packing files for the VM"))?;
    put_archive(docker, container, "/", bytes, copy_uidgid).await
}

/// Unpacks a tar archive into a container (created or running) at `path`.
pub(crate) async fn put_archive(
    docker: &Docker,
    container: &str,
    path: &str,
    archive: Vec<u8>,
    copy_uidgid: bool,
) -> Result<()> {
    let options = UploadToContainerOptionsBuilder::default()
        .path(path)
        .copy_uidgid(if copy_uidgid { "1" } else { "0" })
        .build();
    docker
        .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
        .await
        .map_err(Error::docker("copying files into a container"))
}

/// One file of a container (running or not), through the engine's archive
/// endpoint; None if the archive holds no file.
pub(crate) async fn read_file(
    docker: &Docker,
    container: &str,
    path: &str,
) -> Result<Option<Vec<u8>>> {
    let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
        .path(path)
        .build();
    let mut stream = docker.download_from_container(container, Some(options));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        archive
            .extend_from_slice(&chunk.map_err(Error::docker("copying a file out of a container"))?);
    }
    let unreadable = || Error::io("reading a container's archive");
    let mut reader = tar::Archive::new(archive.as_slice());
    let Some(entry) = reader.entries().map_err(unreadable())?.next() else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut entry.map_err(unreadable())?, &mut bytes)
        .map_err(unreadable())?;
    Ok(Some(bytes))
}

/// How many processes a container runs, and its limit (`None` when the
/// engine does not say).
pub(crate) async fn processes(docker: &Docker, container: &str) -> Option<(u64, u64)> {
    let options = bollard::query_parameters::StatsOptionsBuilder::default()
        .stream(false)
        .one_shot(true)
        .build();
    let mut stats = docker.stats(container, Some(options));
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), stats.next());
    let pids = first.await.ok()??.ok()?.pids_stats?;
    Some((pids.current?, pids.limit?))
}

/// Waits for a container to exit and returns its exit code.
pub(crate) async fn wait_exit(docker: &Docker, id: &str) -> Result<i64> {
    let mut wait =
        docker.wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>);
    let mut code = 0;
    while let Some(status) = wait.next().await {
        match status {
            Ok(s) => code = s.status_code,
            // Docker reports a non-zero exit as an error of the wait stream.
            Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => code = c,
            Err(e) => return Err(Error::docker("waiting for a container")(e)),
        }
    }
    Ok(code)
}

/// A container's output so far, for error messages.
pub(crate) async fn container_logs(docker: &Docker, id: &str) -> String {
    let options = bollard::query_parameters::LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail("40")
        .build();
    let mut stream = docker.logs(id, Some(options));
    let mut text = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    text.trim().to_string()
}

/// The engine's CPU architecture as pip names it (the VMs' and every
/// container's).
pub(crate) async fn arch(docker: &Docker) -> String {
    let arch = docker
        .info()
        .await
        .ok()
        .and_then(|i| i.architecture)
        .unwrap_or_else(|| "x86_64".into());
    if arch == "arm64" {
        "aarch64".to_string()
    } else {
        arch
    }
}

#[cfg(test)]
mod tests {
    /// Read from a container listening six ways (ports 8080–8085).
    const PROC_NET: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200A8C0:1F92 0100A8C0:D431 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0000000000000000 100 0 0 10 0
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:1F93 00000000000000000000000000000000:0000 0A
   1: 00000000000000000000000000000000:1F94 00000000000000000000000000000000:0000 0A
   2: 0000000000000000FFFF00000100007F:1F95 00000000000000000000000000000000:0000 0A
";

    #[test]
    fn only_a_listening_socket_others_reach_counts() {
        let found = super::parse_listening(PROC_NET);
        let listens = |port| {
            found
                .iter()
                .any(|(ip, at)| *at == port && !ip.is_loopback())
        };
        assert!(!listens(8080), "127.0.0.1 only");
        assert!(listens(8081), "0.0.0.0");
        assert!(!listens(8082), "connected, not listening");
        assert!(!listens(8083), "::1 only");
        assert!(listens(8084), "::");
        assert!(!listens(8085), "::ffff:127.0.0.1");
        assert!(!listens(9000), "nothing there");
    }
}
