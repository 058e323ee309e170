//! What `deploylab doctor` asks of the VM environment: how this engine
//! runs systemd, whether the VM image is built, and a throwaway VM booted
//! with those settings.

use bollard::Docker;

use super::machine::{self, SystemdFlags};
use crate::docker;
use crate::error::Result;
use crate::images::VmRecipe;
use crate::seam::{Ctx, Diagnosis};
use crate::state::Home;

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn cgroup(version: &str, flags: &str) -> String {
        tr!("vm-doctor-cgroup", version = version, flags = flags)
    }
    pub(super) fn cgroup_v2() -> String {
        tr!("vm-doctor-cgroup-v2")
    }
    pub(super) fn cgroup_v2_fix() -> String {
        tr!("vm-doctor-cgroup-v2-fix")
    }
    pub(super) fn fuse() -> String {
        tr!("vm-doctor-fuse")
    }
    pub(super) fn fuse_fix() -> String {
        tr!("vm-doctor-fuse-fix")
    }

    pub(super) fn image(tag: &str, ready: bool) -> String {
        match ready {
            true => tr!("vm-doctor-image-built", tag = tag),
            false => tr!("vm-doctor-image-not-built", tag = tag),
        }
    }
    pub(super) fn image_fix() -> String {
        tr!("vm-doctor-image-fix")
    }

    pub(super) fn booted(seconds: f64) -> String {
        tr!("vm-doctor-booted", seconds = format!("{seconds:.1}"))
    }
    pub(super) fn not_booted() -> String {
        tr!("vm-doctor-not-booted")
    }

    pub(super) fn ansible(found: Option<&str>) -> String {
        match found {
            Some(path) => tr!("vm-doctor-ansible", path = path),
            None => tr!("vm-doctor-no-ansible"),
        }
    }
    pub(super) fn ansible_fix() -> String {
        tr!("vm-doctor-ansible-fix")
    }
}

pub(super) async fn diagnose(ctx: &Ctx<'_>, docker: &Docker) -> Result<Vec<Diagnosis>> {
    let mut lines = Vec::new();
    let flags = SystemdFlags::for_engine(docker).await?;
    lines.push(Diagnosis::new(
        true,
        true,
        text::cgroup(&flags.cgroup_version, &flags.describe()),
        "",
    ));
    if flags.cgroup_version == "2" {
        lines.push(Diagnosis::new(true, false, text::cgroup_v2(), text::cgroup_v2_fix()));
    }
    // Advice about the engine's storage driver, where it changes what the
    // course teaches.
    let driver = docker.info().await.ok().and_then(|i| i.driver);
    if driver.as_deref() == Some("fuse-overlayfs") {
        lines.push(Diagnosis::new(false, false, text::fuse(), text::fuse_fix()));
    }
    let labs = ctx.catalog.all()?;
    let image = VmRecipe::for_labs(&labs).image(&ctx.home.cache);
    let ready = image.is_ready(docker).await?;
    lines.push(Diagnosis::new(
        ready,
        false,
        text::image(&image.tag, ready),
        text::image_fix(),
    ));
    if ready {
        lines.push(boot_trial(ctx.home, docker, &image).await);
    }
    // Advice for labs done with Ansible: the student's own, or deploylab's.
    if labs.iter().any(|l| l.ansible.is_some()) {
        let found = crate::images::which("ansible-playbook");
        let path = found.as_ref().map(|p| p.display().to_string());
        lines.push(Diagnosis::new(
            found.is_some(),
            false,
            text::ansible(path.as_deref()),
            text::ansible_fix(),
        ));
    }
    Ok(lines)
}

/// Proves the systemd flags on this engine: boots a throwaway VM until sshd
/// answers, then removes it.
async fn boot_trial(home: &Home, docker: &Docker, image: &crate::images::VmImage) -> Diagnosis {
    const TRIAL: &str = "doctor";
    let started = std::time::Instant::now();
    let result = async {
        let public_key = crate::state::ensure_ssh_key(&home.key_path())?;
        let vm = machine::create_and_boot(
            docker,
            &machine::VmSpec {
                lab: TRIAL,
                machine: None,
                instance: &home.instance(),
                image,
                public_key: &public_key,
                ssh_port: None,
                http_port: None,
                network: None,
                spare: false,
                held: false,
            },
        )
        .await?;
        docker::remove_container(docker, &vm.container_id).await
    }
    .await;
    match result {
        Ok(()) => Diagnosis::new(
            true,
            true,
            text::booted(started.elapsed().as_secs_f64()),
            "",
        ),
        Err(e) => Diagnosis::new(false, true, text::not_booted(), e.to_string()),
    }
}
