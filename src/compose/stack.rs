//! The Compose project started from the app folder, found by Compose's
//! own labels (v1 and v2 both write them): any project name, any service
//! names, any file name. Each container's role (app, PostgreSQL, nginx) is
//! read from what it runs, not from its name.

use std::collections::HashMap;
use std::path::Path;

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{ListContainersOptionsBuilder, TopOptionsBuilder};

use super::facts::{ContainerState, DatabaseUrl, MountKind, Db, MountPoint, Role, Service, Stack};
use crate::error::{Error, Result};

const PROJECT: &str = "com.docker.compose.project";
const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
const SERVICE: &str = "com.docker.compose.service";
/// The official image's data folder (PGDATA's default).
const PGDATA: &str = "/var/lib/postgresql/data";
/// Variables an app's database URL is read from (the blog reads both).
const URL_VARIABLES: &[&str] = &["BLOG_DATABASE_URL", "DATABASE_URL"];

/// The project whose working folder is `dir`, or the folder of the Compose
/// file found in a sub-folder of it (the latest, if several).
/// With `ask` (the lab's folder, where the answers are kept), the running
/// app's Django is asked which database it uses; without, only its
/// environment is read.
pub(crate) async fn find(docker: &Docker, dir: &Path, ask: Option<&Path>) -> Result<Stack> {
    // Started in the folder, or where its Compose file is (a sub-folder).
    let dirs = super::layout::Layout::of(dir).compose_dirs;
    let filters = HashMap::from([("label", vec![WORKING_DIR])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let listed = docker
        .list_containers(Some(options))
        .await
        .map_err(Error::docker("listing Compose's containers"))?;
    let ours: Vec<_> = listed
        .into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .and_then(|l| l.get(WORKING_DIR))
                .is_some_and(|w| dirs.iter().any(|dir| same_folder(Path::new(w), dir)))
        })
        .collect();
    let Some(latest) = ours.iter().max_by_key(|c| c.created.unwrap_or_default()) else {
        return Ok(Stack::default());
    };
    let project = latest
        .labels
        .as_ref()
        .and_then(|l| l.get(PROJECT).cloned())
        .unwrap_or_default();
    let mut stack = Stack {
        project: Some(project.clone()),
        ..Stack::default()
    };
    let mut inspected = Vec::new();
    for c in &ours {
        let labels = c.labels.clone().unwrap_or_default();
        if labels.get(PROJECT) != Some(&project) {
            continue;
        }
        let Some(id) = &c.id else { continue };
        let Ok(inspect) = docker.inspect_container(id, None).await else {
            continue;
        };
        let service = labels.get(SERVICE).cloned().unwrap_or_default();
        let role = role_of(docker, &inspect).await;
        let mut described = describe(docker, &inspect, service, role).await;
        described.created = c.created.unwrap_or_default();
        stack.services.push(described);
        inspected.push(inspect);
    }
    pick_app(&mut stack.services, &project);
    let env_of = |stack: &Stack, role: Role| {
        let service = stack.with_role(role)?;
        let found = inspected
            .iter()
            .find(|i| i.id.as_deref() == Some(service.container.as_str()))?;
        Some(env(found))
    };
    let app = stack.with_role(Role::App).and_then(|service| {
        inspected
            .iter()
            .find(|i| i.id.as_deref() == Some(service.container.as_str()))
    });
    let asked = match (app, ask) {
        (Some(app), Some(work)) => django_database(docker, work, app).await,
        _ => None,
    };
    stack.app_database_url =
        asked.or_else(|| env_of(&stack, Role::App).and_then(|env| database_url(&env)));
    if let Some(service) = stack.with_role(Role::Db)
        && let Some(db_env) = env_of(&stack, Role::Db)
    {
        let wanted = stack.app_database_url.as_ref().map(|u| u.database.clone());
        stack.db = Some(ask_postgres(docker, service, &db_env, wanted).await);
    }
    Ok(stack)
}

fn same_folder(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    a == b || canon(a) == canon(b)
}

/// What a container is, by what runs in it (or, stopped, by its image).
async fn role_of(docker: &Docker, inspect: &ContainerInspectResponse) -> Role {
    let running = inspect
        .state
        .as_ref()
        .and_then(|s| s.running)
        .unwrap_or(false);
    let image = inspect
        .config
        .as_ref()
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    if running && let Some(id) = &inspect.id {
        let args: Vec<String> = processes(docker, id)
            .await
            .into_iter()
            .map(|p| p.3)
            .collect();
        if args.iter().any(|a| is_postgres(a)) {
            return Role::Db;
        }
        if args.iter().any(|a| a.starts_with("nginx: master")) {
            return Role::Web;
        }
        return Role::Other;
    }
    match () {
        () if image.contains("postgres") => Role::Db,
        () if image.contains("nginx") => Role::Web,
        () => Role::Other,
    }
}

fn is_postgres(args: &str) -> bool {
    let program = args.split_whitespace().next().unwrap_or_default();
    program == "postgres" || program.ends_with("/postgres") || args.starts_with("postgres: ")
}

/// The app is the project's service Compose built from the folder
/// (`<project>_<service>` in v1, `<project>-<service>` in v2), else the
/// one left that is neither PostgreSQL nor nginx.
fn pick_app(services: &mut [Service], project: &str) {
    let built = |s: &Service| {
        let image = s.image.split(':').next().unwrap_or_default();
        image == format!("{project}_{}", s.service) || image == format!("{project}-{}", s.service)
    };
    let index = services
        .iter()
        .position(|s| s.role == Role::Other && built(s))
        .or_else(|| services.iter().position(|s| s.role == Role::Other));
    if let Some(i) = index {
        services[i].role = Role::App;
    }
}

/// ps in the container: (pid, ppid, uid, args).
pub(crate) async fn processes(docker: &Docker, id: &str) -> Vec<(u32, u32, u32, String)> {
    let options = TopOptionsBuilder::default()
        .ps_args("-o pid,ppid,uid,args")
        .build();
    let Ok(top) = docker.top_processes(id, Some(options)).await else {
        return Vec::new();
    };
    top.processes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|row| {
            let mut row = row.into_iter();
            let pid = row.next()?.trim().parse().ok()?;
            let ppid = row.next()?.trim().parse().ok()?;
            let uid = row.next()?.trim().parse().ok()?;
            let args = row.collect::<Vec<_>>().join(" ");
            Some((pid, ppid, uid, args))
        })
        .collect()
}

async fn describe(
    docker: &Docker,
    inspect: &ContainerInspectResponse,
    service: String,
    role: Role,
) -> Service {
    let state = inspect.state.clone().unwrap_or_default();
    let status = ContainerState::from_engine(
        &state.status.map(|s| s.to_string()).unwrap_or_default(),
    );
    let id = inspect.id.clone().unwrap_or_default();
    let name = inspect
        .name
        .clone()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let networks = inspect
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default();
    let mut aliases = vec![service.clone(), name.clone()];
    let mut ip = None;
    for endpoint in networks.values() {
        aliases.extend(endpoint.aliases.clone().unwrap_or_default());
        if ip.is_none() {
            ip = endpoint.ip_address.clone().filter(|a| !a.is_empty());
        }
    }
    aliases.sort();
    aliases.dedup();
    let log_tail = match status {
        ContainerState::Running => String::new(),
        _ => last_lines(&crate::docker::container_logs(docker, &id).await, 6),
    };
    Service {
        service,
        container: id,
        role,
        state: status,
        exit_code: state.exit_code.unwrap_or_default(),
        restarts: inspect.restart_count.unwrap_or_default(),
        image: inspect
            .config
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        log_tail,
        aliases,
        image_id: inspect.image.clone().unwrap_or_default(),
        published_80: published_80(inspect),
        reach_80: reach_80(inspect),
        mounts: mounts(inspect),
        ip,
        created: 0,
    }
}

pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn published_80(inspect: &ContainerInspectResponse) -> Vec<u16> {
    // A graded project publishes nothing; what it would have, it says.
    let recorded = inspect
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(super::submission::PUBLISHED_LABEL).cloned());
    match recorded {
        Some(ports) => ports.split(',').filter_map(|p| p.parse().ok()).collect(),
        None => configured_80(inspect),
    }
}

/// The host port its port 80 is bound to where deploylab reaches it: on
/// `docker::published_host` or on every address.
fn reach_80(inspect: &ContainerInspectResponse) -> Option<u16> {
    let host = crate::docker::published_host().to_string();
    let ports = inspect.network_settings.as_ref()?.ports.as_ref()?;
    ports.get("80/tcp")?.as_ref()?.iter().find_map(|binding| {
        let ip = binding.host_ip.as_deref().unwrap_or_default();
        let reached = ["", "0.0.0.0", "::", host.as_str()].contains(&ip);
        reached.then(|| binding.host_port.as_deref()?.parse().ok())?
    })
}

/// Host ports the container's port 80 is bound to.
fn configured_80(inspect: &ContainerInspectResponse) -> Vec<u16> {
    let bindings = inspect
        .host_config
        .as_ref()
        .and_then(|h| h.port_bindings.clone())
        .unwrap_or_default();
    let mut ports: Vec<u16> = bindings
        .get("80/tcp")
        .cloned()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| b.host_port?.parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn mounts(inspect: &ContainerInspectResponse) -> Vec<MountPoint> {
    inspect
        .mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let kind = MountKind::from_engine(m.typ.map(|t| t.to_string()).as_deref());
            MountPoint {
                kind,
                name: match kind {
                    MountKind::Volume => m.name.unwrap_or_default(),
                    _ => m.source.unwrap_or_default(),
                },
                destination: m.destination.unwrap_or_default(),
                writable: m.rw.unwrap_or(true),
            }
        })
        .collect()
}

fn env(inspect: &ContainerInspectResponse) -> HashMap<String, String> {
    inspect
        .config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.into(), v.into())))
        .collect()
}

/// The database the running app's Django uses, asked inside its container
/// (as its user, in its folder): whatever the settings read it from. Kept
/// per container start in `<work>/django.json`: a process reads its
/// settings when it starts. None when the app is not running or Django
/// does not answer.
async fn django_database(
    docker: &Docker,
    work: &Path,
    app: &ContainerInspectResponse,
) -> Option<DatabaseUrl> {
    let state = app.state.as_ref()?;
    if state.running != Some(true) {
        return None;
    }
    let id = app.id.as_deref()?;
    let key = format!("{id}@{}", state.started_at.clone().unwrap_or_default());
    let file = work.join("django.json");
    let kept: Option<(String, DatabaseUrl)> = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if let Some((seen, url)) = kept
        && seen == key
    {
        return Some(url);
    }
    let answer = super::probe::ask_django(docker, id, None).await?;
    if answer.vendor.is_empty() {
        return None;
    }
    let url = DatabaseUrl {
        variable: "DATABASES".into(),
        // No host: a local socket, inside the app's own container.
        host: match answer.host.as_str() {
            "" => "localhost".into(),
            host => host.into(),
        },
        database: answer.name,
    };
    if let Ok(text) = serde_json::to_string(&(key, &url)) {
        let _ = std::fs::create_dir_all(work);
        let _ = std::fs::write(&file, text);
    }
    Some(url)
}

/// The app's database URL, from the variables apps read it from.
fn database_url(env: &HashMap<String, String>) -> Option<DatabaseUrl> {
    let (variable, url) = URL_VARIABLES
        .iter()
        .find_map(|v| env.get(*v).map(|u| (v.to_string(), u.clone())))?;
    let rest = url.split_once("://")?.1;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    Some(DatabaseUrl {
        variable,
        host: host.to_string(),
        database: path.split('?').next().unwrap_or_default().to_string(),
    })
}

/// Anonymous volumes are named by 64 hex digits.
fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// PostgreSQL's data mount, identifier and applied migrations, asked
/// with psql inside its container (the official image trusts local
/// connections).
async fn ask_postgres(
    docker: &Docker,
    service: &Service,
    env: &HashMap<String, String>,
    wanted: Option<String>,
) -> Db {
    let data_dir = env.get("PGDATA").cloned().unwrap_or_else(|| PGDATA.into());
    let mount = service
        .mounts
        .iter()
        .filter(|m| Path::new(&data_dir).starts_with(&m.destination))
        .max_by_key(|m| m.destination.len())
        .map(|m| super::facts::Mount {
            kind: m.kind,
            name: m.name.clone(),
            named: m.kind == MountKind::Volume && !is_anonymous(&m.name),
        });
    let user = env
        .get("POSTGRES_USER")
        .cloned()
        .unwrap_or_else(|| "postgres".into());
    let database = wanted
        .filter(|d| !d.is_empty())
        .or_else(|| env.get("POSTGRES_DB").cloned())
        .unwrap_or_else(|| user.clone());
    let mut db = Db {
        data_dir,
        mount,
        system_id: None,
        database: database.clone(),
        migrations: Err(text::NOT_RUNNING.into()),
    };
    if service.state != ContainerState::Running {
        return db;
    }
    let psql = |database: &str, sql: &str| {
        vec![
            "psql".into(),
            "-U".into(),
            user.clone(),
            "-d".into(),
            database.to_string(),
            "-AtX".into(),
            "-c".into(),
            sql.to_string(),
        ]
    };
    let asked = crate::docker::exec(
        docker,
        &service.container,
        psql(
            "postgres",
            "select system_identifier from pg_control_system()",
        ),
        None,
    )
    .await;
    if let Ok(out) = &asked
        && out.exit_code == 0
    {
        db.system_id = out.stdout.lines().next().map(|l| l.trim().to_string());
    }
    let sql = "select app || '.' || name from django_migrations order by 1";
    db.migrations =
        match crate::docker::exec(docker, &service.container, psql(&database, sql), None).await {
            Ok(out) if out.exit_code == 0 => Ok(out.stdout.lines().map(str::to_string).collect()),
            Ok(out)
                if out.stderr.contains("does not exist")
                    && out.stderr.contains("django_migrations") =>
            {
                Ok(Vec::new())
            }
            Ok(out) => Err(last_lines(&out.stderr, 1)),
            Err(e) => Err(e.to_string()),
        };
    db
}

mod text {
    pub(super) const NOT_RUNNING: &str = "PostgreSQL's container is not running";
}

/// Removes a Compose project started from `dir` (containers, networks,
/// volumes, the images Compose built), as `docker-compose down -v
/// --rmi local` would: for deploylab's own practice folders (selftest,
/// tests), never a student's.
pub(crate) async fn remove_project(docker: &Docker, dir: &Path) {
    let Ok(stack) = find(docker, dir, None).await else {
        return;
    };
    let Some(project) = stack.project else { return };
    for service in &stack.services {
        let _ = crate::docker::remove_container(docker, &service.container).await;
    }
    let label = format!("{PROJECT}={project}");
    let filters = HashMap::from([("label", vec![label.as_str()])]);
    if let Ok(networks) = docker
        .list_networks(Some(
            bollard::query_parameters::ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
    {
        for n in networks.into_iter().filter_map(|n| n.name) {
            let _ = docker.remove_network(&n).await;
        }
    }
    if let Ok(volumes) = docker
        .list_volumes(Some(
            bollard::query_parameters::ListVolumesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
    {
        for v in volumes.volumes.unwrap_or_default() {
            let _ = docker
                .remove_volume(
                    &v.name,
                    None::<bollard::query_parameters::RemoveVolumeOptions>,
                )
                .await;
        }
    }
    for service in &stack.services {
        let image = service.image.split(':').next().unwrap_or_default();
        let built = [
            format!("{project}_{}", service.service),
            format!("{project}-{}", service.service),
        ];
        if built.iter().any(|b| b == image) {
            let _ = crate::images::remove_image(docker, &service.image).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_read_as_apps_read_them() {
        let env = HashMap::from([(
            "DATABASE_URL".to_string(),
            "postgres://blog:s3cr@t@db:5432/blog?sslmode=disable".to_string(),
        )]);
        let url = database_url(&env).unwrap();
        assert_eq!((url.host.as_str(), url.database.as_str()), ("db", "blog"));
        let env = HashMap::from([
            ("DATABASE_URL".to_string(), "sqlite:///x".to_string()),
            (
                "BLOG_DATABASE_URL".to_string(),
                "postgresql://u@localhost/app".to_string(),
            ),
        ]);
        let url = database_url(&env).unwrap();
        assert_eq!(url.variable, "BLOG_DATABASE_URL");
        assert_eq!(url.host, "localhost");
        assert!(database_url(&HashMap::new()).is_none());
    }

    #[test]
    fn postgres_is_recognised_by_its_processes() {
        assert!(is_postgres("postgres -D /var/lib/postgresql/data"));
        assert!(is_postgres("/usr/lib/postgresql/15/bin/postgres -D /x"));
        assert!(is_postgres("postgres: checkpointer "));
        assert!(!is_postgres("gunicorn --bind postgres"));
        assert!(is_anonymous(&"a".repeat(64)));
        assert!(!is_anonymous("blog_pgdata"));
    }
}
