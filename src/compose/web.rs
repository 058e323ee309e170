//! nginx asked from outside, as a browser would: the live page twice
//! (only a running Django sets a fresh CSRF cookie each time), a static
//! file, and a file deploylab writes into the volume nginx shares with
//! the app, which only nginx reading that disk can serve.

use std::time::Duration;

use bollard::Docker;

use crate::http_answer::Body;
use super::facts::{Answer, ContainerState, MountKind, Role, Service, Stack, Web, Where};
use crate::docker::FileEntry;

const TIMEOUT: Duration = Duration::from_secs(8);
/// The Host the course's ALLOWED_HOSTS accepts.
const HOST: &str = "localhost";

mod text {
    pub(super) const NOT_WRITABLE: &str =
        "deploylab could not write into the shared volume from either container";
}

/// None when no nginx container runs. nginx is asked where its port 80 is
/// published; at its container address only where it is published nowhere
/// (which only a Linux host running the engine routes).
pub(crate) async fn ask(docker: &Docker, at: &Where<'_>, stack: &Stack) -> Option<Web> {
    let nginx = stack
        .with_role(Role::Web)
        .filter(|s| s.state == ContainerState::Running)?;
    let base = match (nginx.reach_80.as_ref(), &nginx.ip) {
        (Some(port), _) => format!(
            "http://{}",
            std::net::SocketAddr::new(crate::docker::published_host(), *port)
        ),
        (None, Some(ip)) => format!("http://{ip}:80"),
        (None, None) => return None,
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .ok()?;
    let mut web = Web {
        published: nginx.published_80.clone(),
        base: base.clone(),
        ..Web::default()
    };
    for _ in 0..2 {
        web.live
            .push(get(&client, &format!("{base}{}", at.live_path)).await);
    }
    web.static_file = Some(
        get(
            &client,
            &format!("{base}{}{}", at.static_prefix, at.static_file),
        )
        .await,
    );
    let app = stack.with_role(Role::App);
    let shared = app.and_then(|app| {
        // A named volume, or a folder of the host bind-mounted in both.
        nginx.mounts.iter().find(|m| {
            m.kind != MountKind::Other
                && app
                    .mounts
                    .iter()
                    .any(|a| a.kind == m.kind && a.name == m.name)
        })
    });
    if let (Some(mount), Some(app)) = (shared, app) {
        web.shared_volume = Some(mount.name.clone());
        web.volume_files = count_files(docker, &nginx.container, &mount.destination).await;
        web.from_disk = Some(from_disk(docker, &client, &base, at, nginx, app, &mount.name).await);
    }
    Some(web)
}

async fn get(client: &reqwest::Client, url: &str) -> Answer {
    match client.get(url).header("Host", HOST).send().await {
        Ok(response) => Answer::read(url.to_string(), response, Body::Dropped).await,
        Err(e) => Answer::failed(url.to_string(), Answer::why_none(&e, TIMEOUT)),
    }
}

async fn count_files(docker: &Docker, container: &str, dir: &str) -> Option<usize> {
    let cmd = vec![
        "find".to_string(),
        dir.to_string(),
        "-type".into(),
        "f".into(),
    ];
    let out = crate::docker::exec(docker, container, cmd, Some("0"))
        .await
        .ok()?;
    (out.exit_code == 0).then(|| out.stdout.lines().count())
}

/// Writes a file of random contents into the shared volume (through
/// nginx's mount, or the app's when nginx mounts it read-only), asks for
/// it through nginx, and removes it.
async fn from_disk(
    docker: &Docker,
    client: &reqwest::Client,
    base: &str,
    at: &Where<'_>,
    nginx: &Service,
    app: &Service,
    volume: &str,
) -> std::result::Result<bool, String> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("deploylab-{}.txt", &nonce[..12]);
    for service in [nginx, app] {
        let Some(mount) = service.mounts.iter().find(|m| m.name == volume) else {
            continue;
        };
        let path = format!("{}/{name}", mount.destination.trim_end_matches('/'));
        let file = FileEntry {
            path: &path,
            contents: nonce.as_bytes(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        if crate::docker::put_files_unmapped(docker, &service.container, &[file])
            .await
            .is_err()
        {
            continue;
        }
        let url = format!("{base}{}{name}", at.static_prefix);
        let served = match client.get(&url).header("Host", HOST).send().await {
            Ok(r) if r.status().is_success() => r.text().await.is_ok_and(|t| t == nonce),
            _ => false,
        };
        let rm = vec!["rm".to_string(), "-f".into(), path];
        let _ = crate::docker::exec(docker, &service.container, rm, Some("0")).await;
        return Ok(served);
    }
    Err(text::NOT_WRITABLE.into())
}
