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
//! - Until claimed it is no lab's: its name starts with `deploylab-spare-`
//!   (labelled lookups skip it, so `status` and `stop <lab>` do not see it)
//!   and it sits alone on a closed network of its own, its ports not yet
//!   published. `stop --all` and `images prune` remove it.
//! - It is a VM booted from the lab's image like any other: host keys and
//!   machine-id are made on its own first boot, its clock is the host's,
//!   no one has logged in. Claiming moves it to the lab's network (which
//!   publishes its ports) under the lab's container name.

use bollard::Docker;
use bollard::models::{EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest};
use serde::{Deserialize, Serialize};

use super::machine::{self, Machine, VmSpec};
use crate::docker;
use crate::error::{Error, Result};
use crate::images::VmImage;
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
    /// The image it booted from: a spare of an older image is not claimed.
    image: String,
    /// Its SSH host key, read right after its first boot.
    host_key: String,
}

/// Whether this lab may have a spare: a VM lab of one machine (a lab of
/// several, or one done with Ansible, boots as before).
pub(crate) fn fits(lab: &Lab) -> bool {
    !lab.has_several_machines() && lab.ansible.is_none()
}

/// Whether this start may claim a spare: asked for none of what a spare
/// cannot be (ports of its own, a graded image).
fn claimable(options: &StartOptions) -> bool {
    options.spare && options.ssh_port.is_none() && options.http_port.is_none() && options.bases.is_empty()
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
    };
    let booted = async {
        let vm = machine::create_and_boot(docker, &spec).await?;
        let host_key = machine::host_key(docker, &vm).await?;
        Ok::<_, Error>(Record {
            container_id: vm.container_id,
            network: network.clone(),
            ssh_port: vm.ssh_port,
            http_port: vm.http_port,
            image: image.tag.clone(),
            host_key,
        })
    };
    match booted.await {
        Ok(record) => {
            let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
            state::write_atomically(&record_path(home, &lab.id), &json)
        }
        Err(e) => {
            let _ = docker::remove_spares(docker, &instance, Some(&lab.id)).await;
            Err(e)
        }
    }
}

/// The lab's spare as its machine, moved onto the lab's `network`, with its
/// host key; None when there is none this start can take (then the start
/// boots a VM as before). A spare that cannot be taken is removed.
pub(crate) async fn claim(
    ctx: &Ctx<'_>,
    docker: &Docker,
    lab: &Lab,
    image: &VmImage,
    network: &str,
    options: &StartOptions,
) -> Result<Option<(Machine, String)>> {
    if !claimable(options) || !fits(lab) {
        return Ok(None);
    }
    // Waits for a maker still booting one.
    let Some(_held) = lock(ctx.home, &lab.id, true).await? else {
        return Ok(None);
    };
    let Some(record) = read(ctx.home, &lab.id) else {
        return Ok(None);
    };
    // Claimed from here on, whatever follows.
    let _ = std::fs::remove_file(record_path(ctx.home, &lab.id));
    if record.image != image.tag {
        discard(docker, ctx.home, &lab.id).await;
        return Ok(None);
    }
    match take(docker, &ctx.home.instance(), lab, network, &record).await {
        Ok(machine) => Ok(Some((machine, record.host_key))),
        Err(e) => {
            tracing::debug!("spare of {} not taken: {e}", lab.id);
            let _ = docker::remove_container(docker, &record.container_id).await;
            discard(docker, ctx.home, &lab.id).await;
            Ok(None)
        }
    }
}

/// Renames the spare to the lab's VM and moves it to the lab's network
/// (under its hostname, as a new VM is), off its own.
async fn take(docker: &Docker, instance: &str, lab: &Lab, network: &str, record: &Record) -> Result<Machine> {
    let name = machine::container_name(&lab.id, None, instance);
    let rename = bollard::query_parameters::RenameContainerOptionsBuilder::default()
        .name(&name)
        .build();
    docker
        .rename_container(&record.container_id, rename)
        .await
        .map_err(Error::docker("naming the spare VM"))?;
    // Off its own network first: the lab's then becomes its first
    // interface, eth0, as on a new VM. Its own network is removed by the
    // next spare's maker, out of this start's way (a removal takes about
    // as long as the rest of the claim).
    let disconnect = NetworkDisconnectRequest {
        container: record.container_id.clone(),
        force: Some(true),
    };
    docker
        .disconnect_network(&record.network, disconnect)
        .await
        .map_err(Error::docker("disconnecting the spare VM"))?;
    let connect = NetworkConnectRequest {
        container: record.container_id.clone(),
        endpoint_config: Some(EndpointSettings {
            aliases: Some(vec![lab.id.clone()]),
            ..Default::default()
        }),
    };
    docker
        .connect_network(network, connect)
        .await
        .map_err(Error::docker("connecting the spare VM"))?;
    let machine = Machine {
        name: lab.id.clone(),
        container_id: record.container_id.clone(),
        container_name: name,
        ssh_port: record.ssh_port,
        http_port: record.http_port,
    };
    // Its ports answer once the engine has published them.
    machine::wait_for_ssh(docker, &lab.id, &machine).await?;
    Ok(machine)
}

/// Removes the lab's spare, if any, and what names it.
async fn discard(docker: &Docker, home: &Home, lab: &str) {
    let _ = std::fs::remove_file(record_path(home, lab));
    let _ = docker::remove_spares(docker, &home.instance(), Some(lab)).await;
}
