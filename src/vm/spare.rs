//! A spare VM: booted ahead, in the background, so the next `start` of the
//! lab only claims it. A student restarts a lab many times a session; each
//! restart then waits for a rename and a network connection, not a boot.
//!
//! - One per lab per home (`spares/<lab>.json` names it; a lock file beside
//!   it keeps one maker at a time, and a claim waits for a spare still
//!   booting: it is nearer ready than a new boot).
//! - Made by `deploylab spare <lab>` (hidden), which `start` and `stop`
//!   launch detached when spares are on (`--no-spare`, `DEPLOYLAB_SPARE=off`
//!   or `spare: false` in the home's config.yaml turn them off).
//! - A spare is what a start would make but the proxy: a network of its
//!   own, the VM on it, and the lab's git server. Claiming renames the
//!   containers to the lab's and the network becomes the lab's, so a claim
//!   costs no boot and no network change (each takes the engine longer
//!   than the rest of a start).
//! - Until claimed it is no lab's: its containers' names start with
//!   `deploylab-spare-` (labelled lookups skip them, so `status` and
//!   `stop <lab>` do not see them). `stop --all` and `images prune` remove
//!   it.
//! - It is a VM booted from the lab's image like any other: host keys and
//!   machine-id are made on its own first boot, its clock is the host's,
//!   no one has logged in.

use bollard::Docker;
use serde::{Deserialize, Serialize};

use super::machine::{self, Machine, VmSpec};
use crate::docker;
use crate::gitserver;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::seam::{Ctx, StartOptions};
use crate::spare::{lock, record_path};
use crate::state::{self, Home};

/// What `spares/<lab>.json` keeps of a booted spare.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    container_id: String,
    network: String,
    ssh_port: u16,
    http_port: u16,
    /// The lab's git server beside it, if the lab serves repositories.
    git: Option<String>,
    /// The image it booted from: a spare of an older image is not claimed.
    image: String,
    /// Its SSH host key, read right after its first boot.
    host_key: String,
}

/// A spare held for a start: nothing else may make or claim one until it
/// is taken or dropped.
pub(crate) struct Held {
    _lock: std::fs::File,
    record: Record,
}

/// What a start takes from a spare.
pub(crate) struct Claimed {
    pub(crate) machine: Machine,
    pub(crate) host_key: String,
    /// The lab's network from now on.
    pub(crate) network: String,
    /// Whether the lab's git server came with it.
    pub(crate) git: bool,
}

/// Whether this lab may have a spare: a VM lab of one machine (a lab of
/// several, or one done with Ansible, boots as before).
pub(crate) fn fits(lab: &Lab) -> bool {
    !lab.has_several_machines() && lab.ansible.is_none()
}

/// Whether this start may claim a spare: asked for none of what a spare
/// cannot be (ports of its own, a graded image).
fn claimable(options: &StartOptions) -> bool {
    options.spare
        && options.ssh_port.is_none()
        && options.http_port.is_none()
        && options.bases.is_empty()
}

fn read(home: &Home, lab: &str) -> Option<Record> {
    let bytes = std::fs::read(record_path(home, lab)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Boots the lab's spare unless there is one (or one is being made). Never
/// builds an image: a spare is worth only a boot.
pub(crate) async fn make(ctx: &Ctx<'_>, docker: &Docker, lab: &Lab) -> Result<()> {
    let home = ctx.home;
    let Some(_held) = lock(home, &lab.id, false).await? else {
        return Ok(());
    };
    let instance = home.instance();
    if let Some(record) = read(home, &lab.id) {
        let alive = docker.inspect_container(&record.container_id, None).await;
        if alive.is_ok_and(|c| c.state.and_then(|s| s.running) == Some(true)) {
            return Ok(());
        }
        discard(docker, home, &lab.id).await;
    }
    // Leftovers of a maker that was killed half-way.
    docker::remove_spares(docker, &instance, Some(&lab.id)).await?;
    let image = crate::images::VmRecipe::for_labs(&ctx.catalog.all()?).image(&home.cache);
    if !image.is_ready(docker).await? {
        return Ok(());
    }
    let public_key = state::ensure_ssh_key(&home.key_path())?;
    let network = docker::create_spare_network(docker, &instance, &lab.id).await?;
    let spec = VmSpec {
        lab: &lab.id,
        machine: None,
        instance: &instance,
        image: &image,
        public_key: &public_key,
        ssh_port: None,
        http_port: None,
        network: Some(&network),
        spare: true,
        held: false,
    };
    let vm = async {
        let vm = machine::create_and_boot(docker, &spec).await?;
        let host_key = machine::host_key(docker, &vm).await?;
        Ok::<_, Error>((vm, host_key))
    };
    let git = async {
        if lab.git_repos.is_empty() {
            return Ok(None);
        }
        let repos = gitserver::prepare(ctx.catalog, lab, None, &home.cache)?;
        let name = spare_name(&gitserver::container_name(&lab.id, &instance));
        gitserver::start(docker, (&lab.id, &instance, &name), &image.tag, &network, &repos)
            .await
            .map(Some)
    };
    match tokio::try_join!(vm, git) {
        Ok(((vm, host_key), git)) => {
            let record = Record {
                container_id: vm.container_id,
                network,
                ssh_port: vm.ssh_port,
                http_port: vm.http_port,
                git,
                image: image.tag.clone(),
                host_key,
            };
            let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
            state::write_atomically(&record_path(home, &lab.id), &json)
        }
        Err(e) => {
            let _ = docker::remove_spares(docker, &instance, Some(&lab.id)).await;
            Err(e)
        }
    }
}

/// A container's name while it is a spare's.
pub(crate) fn spare_name(name: &str) -> String {
    format!("{}{}", docker::SPARE_PREFIX, name.trim_start_matches("deploylab-"))
}

/// The lab's spare, held for this start (waiting for one still booting: it
/// is nearer ready than a new boot); None when this start may take none.
/// Held before the lab's old containers go, so no new spare is being made
/// while they do.
pub(crate) async fn hold(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    options: &StartOptions,
) -> Result<Option<Held>> {
    if !claimable(options) || !fits(lab) {
        return Ok(None);
    }
    let Some(lock) = lock(ctx.home, &lab.id, true).await? else {
        return Ok(None);
    };
    let Some(record) = read(ctx.home, &lab.id) else {
        return Ok(None);
    };
    // Claimed from here on, whatever follows.
    let _ = std::fs::remove_file(record_path(ctx.home, &lab.id));
    let labs = ctx.catalog.all()?;
    let image = crate::images::VmRecipe::for_labs(&labs).image(&ctx.home.cache);
    if record.image != image.tag {
        discard(docker, ctx.home, &lab.id).await;
        return Ok(None);
    }
    Ok(Some(Held { _lock: lock, record }))
}

/// Takes a held spare as the lab's: its containers renamed to the lab's,
/// its network the lab's. `own_git`: the start serves another repository,
/// so the spare's git server goes. None (and the spare removed) if it
/// cannot be taken: the start then boots as before.
pub(crate) async fn claim(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    held: Held,
    own_git: bool,
) -> Option<Claimed> {
    let record = held.record;
    match take(docker, &ctx.home.instance(), lab, &record, own_git).await {
        Ok(machine) => Some(Claimed {
            machine,
            host_key: record.host_key,
            network: record.network,
            git: record.git.is_some() && !own_git,
        }),
        Err(e) => {
            tracing::debug!("spare of {} not taken: {e}", lab.id);
            discard(docker, ctx.home, &lab.id).await;
            None
        }
    }
}

async fn take(
    docker: &Docker,
    instance: &str,
    lab: &Lab,
    record: &Record,
    own_git: bool,
) -> Result<Machine> {
    let name = machine::container_name(&lab.id, None, instance);
    rename(docker, &record.container_id, &name).await?;
    if let Some(git) = &record.git {
        match own_git {
            true => docker::remove_container(docker, git).await?,
            false => rename(docker, git, &gitserver::container_name(&lab.id, instance)).await?,
        }
    }
    let machine = Machine {
        name: lab.id.clone(),
        container_id: record.container_id.clone(),
        container_name: name,
        ssh_port: record.ssh_port,
        http_port: record.http_port,
    };
    // Still answering (a banner costs a millisecond).
    machine::wait_for_ssh(docker, &lab.id, &machine).await?;
    Ok(machine)
}

async fn rename(docker: &Docker, id: &str, name: &str) -> Result<()> {
    let options = bollard::query_parameters::RenameContainerOptionsBuilder::default()
        .name(name)
        .build();
    docker
        .rename_container(id, options)
        .await
        .map_err(Error::docker("naming the spare VM"))
}

/// Removes the lab's spare, if any, and what names it.
async fn discard(docker: &Docker, home: &Home, lab: &str) {
    let _ = std::fs::remove_file(record_path(home, lab));
    let _ = docker::remove_spares(docker, &home.instance(), Some(lab)).await;
}
