//! The Heroku Postgres add-on: `heroku addons:create heroku-postgresql`
//! provisions a real PostgreSQL server (deploylab's stand-in image of
//! Debian's PostgreSQL 15) for the app, on the dynos' network under the
//! add-on's name, with its data on a volume of its own, SSL on; it attaches
//! as `DATABASE` (`DATABASE_URL=postgres://…`), a release like any config
//! change. Destroyed with the add-on or the app; the server comes back with
//! its data when the fake starts again.
//!
//! Without the add-on an app has no `DATABASE_URL`, as on Heroku: what a
//! dyno writes to its own disk (SQLite) is lost when it restarts, and no
//! other dyno sees it.
//!
//! Provisioning is synchronous here (a few seconds): the CLI prints
//! "Created … as DATABASE_URL" and the next push finds the database.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Fake;
use super::api::{Answer, App, error, iso8601, push_release};
use crate::docker::{LABEL_INSTANCE, LABEL_LAB, LABEL_ROLE, remove_container};

/// The one add-on service the fake offers.
pub(crate) const SERVICE: &str = "heroku-postgresql";
const SERVICE_ID: &str = "6c67493d-8fc2-4cd4-9161-4f1ec11cbe69";
/// What `heroku-postgresql` alone provisions (Heroku's smallest plan).
const DEFAULT_PLAN: &str = "essential-0";
/// The plans, with their monthly price in cents (Heroku's list prices).
const PLANS: &[(&str, u64)] = &[
    ("essential-0", 500),
    ("essential-1", 900),
    ("essential-2", 2000),
    ("standard-0", 5000),
];
pub(crate) const ATTACHMENT: &str = "DATABASE";
pub(crate) const CONFIG_VAR: &str = "DATABASE_URL";
const LABEL_ADDON: &str = "deploylab.heroku.addon";

/// Messages of the add-ons, kept together for translation.
mod text {
    pub(super) fn no_such_plan(asked: &str) -> String {
        format!(
            "Couldn't find either the add-on service or the add-on plan of \"{asked}\". \
             (deploylab's fake offers heroku-postgresql, plans {}; Heroku retired the free \
             hobby-dev plan in 2022.)",
            super::PLANS
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
    pub(super) fn one_database(existing: &str) -> String {
        format!(
            "This app already has a Heroku Postgres database ({existing}); deploylab's fake \
             offers one per app."
        )
    }
    pub(super) const NO_DOCKER: &str =
        "This fake Heroku runs without Docker: it cannot provision databases.";
    pub(super) fn failed(why: &str) -> String {
        format!("The database could not be provisioned: {why}")
    }
    pub(super) fn attach(name: &str) -> String {
        format!("Attach {} (@ref:{name})", super::ATTACHMENT)
    }
    pub(super) fn detach(name: &str) -> String {
        format!("Detach {} (@ref:{name})", super::ATTACHMENT)
    }
}

/// An add-on as the platform keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Addon {
    pub(crate) id: String,
    pub(crate) name: String,
    /// `essential-0`, …
    pub(crate) plan: String,
    pub(crate) created_at: String,
    pub(crate) attachment_id: String,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) database: String,
}

impl Addon {
    /// `DATABASE_URL`, as dynos on the fake's network reach the server.
    pub(crate) fn url(&self) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            self.user,
            self.password,
            self.name,
            crate::standin::postgres::PORT,
            self.database
        )
    }

    fn plan_name(&self) -> String {
        format!("{SERVICE}:{}", self.plan)
    }

    fn price(&self) -> Value {
        let cents = PLANS
            .iter()
            .find(|(p, _)| *p == self.plan)
            .map_or(0, |(_, c)| *c);
        json!({ "cents": cents, "contract": false, "metered": false, "unit": "month" })
    }
}

/// The add-on as the Platform API shows it.
pub(crate) fn addon_json(app: &App, addon: &Addon) -> Value {
    json!({
        "actions": [],
        "addon_service": { "id": SERVICE_ID, "name": SERVICE, "human_name": "Heroku Postgres" },
        "app": { "id": app.id, "name": app.name },
        "billed_price": addon.price(),
        "billing_entity": { "id": app.id, "name": app.name, "type": "app" },
        "config_vars": [CONFIG_VAR],
        "created_at": addon.created_at,
        "id": addon.id,
        "name": addon.name,
        "plan": { "id": uuid_for(&addon.plan_name()), "name": addon.plan_name(), "price": addon.price() },
        "provider_id": format!("resource{}", &addon.id[..8]),
        "provision_message": null,
        "state": "provisioned",
        "updated_at": addon.created_at,
        "web_url": null,
    })
}

/// The add-on's attachment to its app (`DATABASE`).
pub(crate) fn attachment_json(app: &App, addon: &Addon) -> Value {
    json!({
        "addon": {
            "id": addon.id,
            "name": addon.name,
            "app": { "id": app.id, "name": app.name },
            "plan": { "id": uuid_for(&addon.plan_name()), "name": addon.plan_name() },
        },
        "app": { "id": app.id, "name": app.name },
        "config_vars": [CONFIG_VAR],
        "created_at": addon.created_at,
        "id": addon.attachment_id,
        "log_input_url": null,
        "name": ATTACHMENT,
        "namespace": null,
        "updated_at": addon.created_at,
        "web_url": null,
    })
}

/// Whether `key` names the add-on: its id, its name, or its attachment
/// (`DATABASE`, `DATABASE_URL`), optionally as `app::NAME`.
pub(crate) fn matches(addon: &Addon, key: &str) -> bool {
    let key = key.rsplit("::").next().unwrap_or(key);
    [
        addon.id.as_str(),
        addon.name.as_str(),
        ATTACHMENT,
        CONFIG_VAR,
        SERVICE,
    ]
    .contains(&key)
}

/// A stable id for a plan.
fn uuid_for(name: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// The plan a `heroku addons:create` argument asks for, if the fake has it.
fn plan_of(asked: &str) -> Option<&'static str> {
    let (service, plan) = asked.split_once(':').unwrap_or((asked, DEFAULT_PLAN));
    if service != SERVICE {
        return None;
    }
    PLANS.iter().map(|(p, _)| *p).find(|p| *p == plan)
}

fn container_name(fake: &Fake, app: &str) -> String {
    server_name(&fake.instance, app)
}

/// The container of an app's database server.
pub(crate) fn server_name(instance: &str, app: &str) -> String {
    format!(
        "deploylab-heroku-{}-{app}-postgres",
        crate::docker::short(instance)
    )
}

/// The database's contents as SQL (`pg_dump`, without owners or grants,
/// so it loads into another server's database).
pub(crate) async fn dump(
    docker: &bollard::Docker,
    instance: &str,
    app: &str,
    addon: &Addon,
) -> crate::error::Result<String> {
    let cmd = [
        "pg_dump",
        "--no-owner",
        "--no-privileges",
        "-U",
        &addon.user,
        &addon.database,
    ];
    in_server(docker, &server_name(instance, app), &cmd).await
}

/// Runs a command in an add-on's server as its `postgres` user; its
/// output, or its error output as the error.
pub(crate) async fn in_server(
    docker: &bollard::Docker,
    server: &str,
    cmd: &[&str],
) -> crate::error::Result<String> {
    let out = crate::docker::exec(
        docker,
        server,
        cmd.iter().map(ToString::to_string).collect(),
        Some("postgres"),
    )
    .await?;
    match out.exit_code {
        0 => Ok(out.stdout),
        _ => Err(crate::error::Error::Capture { why: out.stderr }),
    }
}

/// Loads SQL from `dump` into the app's database (`DATABASE_URL` names it).
pub(crate) async fn load(
    docker: &bollard::Docker,
    instance: &str,
    app: &str,
    database_url: &str,
    sql: &[u8],
) -> crate::error::Result<()> {
    // postgres://user:password@host:port/database
    let rest = database_url.split("://").nth(1).unwrap_or_default();
    let user = rest.split(':').next().unwrap_or_default();
    let database = rest.rsplit('/').next().unwrap_or_default();
    let server = server_name(instance, app);
    let file = crate::docker::FileEntry {
        path: "/tmp/restore.sql",
        contents: sql,
        mode: 0o644,
        uid: 0,
        gid: 0,
    };
    crate::docker::put_files_unmapped(docker, &server, &[file]).await?;
    let cmd = [
        "psql",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-U",
        user,
        "-d",
        database,
        "-f",
        "/tmp/restore.sql",
    ];
    in_server(docker, &server, &cmd).await.map(drop)
}

/// The Docker volume holding an app's database.
pub(crate) fn volume_name(instance: &str, app: &str) -> String {
    format!(
        "deploylab-heroku-{}-{app}-pgdata",
        crate::docker::short(instance)
    )
}

/// Random letters and digits for names and secrets.
fn random(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(len);
    out
}

/// The add-on requests that need Docker: create and destroy. The rest
/// (lists, resolution) is the platform's bookkeeping (`api`).
pub(crate) async fn answer(
    fake: &Fake,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Option<Answer> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let (&Method::DELETE, ["apps", app]) = (method, segments.as_slice()) {
        // `apps:destroy`: its database goes before the platform forgets the
        // app (which it then does as for any app).
        if let Some(found) = fake.platform.lock().await.find(app) {
            forget(fake, &found.name).await;
        }
        return None;
    }
    let (app, key) = match (method, segments.as_slice()) {
        (&Method::POST, ["apps", app, "addons"]) => (*app, None),
        (&Method::DELETE, ["apps", app, "addons", key]) => (*app, Some(*key)),
        _ => return None,
    };
    // Unknown apps get the platform's own 404.
    let app = fake.platform.lock().await.find(app)?;
    Some(match key {
        None => create(fake, &app, body).await,
        Some(key) => destroy(fake, &app, key).await,
    })
}

async fn create(fake: &Fake, app: &App, body: &[u8]) -> Answer {
    #[derive(Deserialize)]
    struct Plan {
        name: String,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum PlanField {
        Object(Plan),
        Name(String),
    }
    #[derive(Deserialize)]
    struct Create {
        plan: PlanField,
    }
    let Ok(request) = serde_json::from_slice::<Create>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            super::api::text::BAD_JSON,
        );
    };
    let asked = match request.plan {
        PlanField::Object(p) => p.name,
        PlanField::Name(n) => n,
    };
    let Some(plan) = plan_of(&asked) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            &text::no_such_plan(&asked),
        );
    };
    if let Some(existing) = app.addons.first() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_params",
            &text::one_database(&existing.name),
        );
    }
    let addon = Addon {
        id: uuid::Uuid::new_v4().to_string(),
        name: format!(
            "postgresql-{}-{:05}",
            super::api::word(),
            uuid::Uuid::new_v4().as_u128() % 100_000
        ),
        plan: plan.to_string(),
        created_at: iso8601(SystemTime::now()),
        attachment_id: uuid::Uuid::new_v4().to_string(),
        user: format!("u{}", random(13)),
        password: format!("p{}", random(39)),
        database: format!("d{}", random(13)),
    };
    if let Err(e) = provision(fake, &app.name, &addon).await {
        if let Some(docker) = fake.docker() {
            let _ = remove_container(docker, &container_name(fake, &app.name)).await;
            remove_volume(docker, &fake.instance, &app.name).await;
        }
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &text::failed(&e.to_string()),
        );
    }
    record(fake, &app.name, &addon, true).await
}

async fn destroy(fake: &Fake, app: &App, key: &str) -> Answer {
    let Some(addon) = app.addons.iter().find(|a| matches(a, key)).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            super::api::text::NO_ADDON,
        );
    };
    if let Some(docker) = fake.docker() {
        let _ = remove_container(docker, &container_name(fake, &app.name)).await;
        remove_volume(docker, &fake.instance, &app.name).await;
    }
    record(fake, &app.name, &addon, false).await
}

/// Records an add-on attached (or detached): the app's add-ons and
/// `DATABASE_URL`, a release like any config change, the `app[api]` line;
/// answers with the add-on.
async fn record(fake: &Fake, app: &str, addon: &Addon, attached: bool) -> Answer {
    let mut platform = fake.platform.lock().await;
    let Some(stored) = platform.state.apps.get_mut(app) else {
        return error(StatusCode::NOT_FOUND, "not_found", super::api::text::NO_APP);
    };
    let change = if attached {
        stored.addons.push(addon.clone());
        stored.config.insert(CONFIG_VAR.into(), addon.url());
        text::attach(&addon.name)
    } else {
        stored.addons.retain(|a| a.id != addon.id);
        stored.config.remove(CONFIG_VAR);
        text::detach(&addon.name)
    };
    push_release(stored, change.clone());
    let mut json = addon_json(stored, addon);
    platform.save();
    drop(platform);
    let line = format!("{change} by user student@deploylab.test");
    fake.logs.add(app, "app", "api", &line);
    if attached {
        (StatusCode::CREATED, json)
    } else {
        json["state"] = json!("deprovisioned");
        (StatusCode::OK, json)
    }
}

/// Starts the add-on's server (its volume made if new) and waits until it
/// accepts connections on its network address.
async fn provision(fake: &Fake, app: &str, addon: &Addon) -> Result<(), String> {
    let Some((docker, image)) = fake
        .runtime
        .as_ref()
        .and_then(|r| Some((&r.docker, r.postgres.as_ref()?)))
    else {
        return Err(text::NO_DOCKER.into());
    };
    let failed = |what: &'static str| move |e: bollard::errors::Error| format!("{what}: {e}");
    let labels = HashMap::from([
        (LABEL_LAB.to_string(), "heroku".to_string()),
        (LABEL_INSTANCE.to_string(), fake.instance.clone()),
        (LABEL_ROLE.to_string(), "addon".to_string()),
        (super::dynos::LABEL_APP.to_string(), app.to_string()),
        (LABEL_ADDON.to_string(), addon.name.clone()),
    ]);
    let volume = volume_name(&fake.instance, app);
    docker
        .create_volume(bollard::models::VolumeCreateRequest {
            name: Some(volume.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        })
        .await
        .map_err(failed("creating the database's volume"))?;
    let name = container_name(fake, app);
    remove_container(docker, &name)
        .await
        .map_err(|e| e.to_string())?;
    let network = fake
        .runtime
        .as_ref()
        .and_then(|r| r.network.clone())
        .unwrap_or_else(|| "bridge".into());
    let config = ContainerCreateBody {
        image: Some(image.clone()),
        hostname: Some(addon.name.clone()),
        env: Some(vec![
            format!("POSTGRES_USER={}", addon.user),
            format!("POSTGRES_PASSWORD={}", addon.password),
            format!("POSTGRES_DB={}", addon.database),
        ]),
        labels: Some(labels),
        host_config: Some(HostConfig {
            network_mode: Some(network.clone()),
            binds: Some(vec![format!(
                "{volume}:{}",
                crate::standin::postgres::DATA_DIR
            )]),
            ..crate::limits::DYNO.host_config()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network,
                EndpointSettings {
                    aliases: Some(vec![addon.name.clone()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let id = docker
        .create_container(Some(options), config)
        .await
        .map_err(failed("creating the database's container"))?
        .id;
    docker
        .start_container(&id, None)
        .await
        .map_err(failed("starting the database"))?;
    wait_ready(docker, &id, addon).await
}

/// Readiness is PostgreSQL's own: `pg_isready` over TCP inside the
/// container, which answers only once the real server (not the one that
/// runs during the first initialization, on the socket only) listens.
async fn wait_ready(docker: &bollard::Docker, id: &str, addon: &Addon) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let probe = vec![
        "pg_isready".to_string(),
        "-q".into(),
        "-h".into(),
        "127.0.0.1".into(),
        "-U".into(),
        addon.user.clone(),
        "-d".into(),
        addon.database.clone(),
    ];
    loop {
        let ready = crate::docker::exec(docker, id, probe.clone(), Some("postgres")).await;
        if ready.is_ok_and(|o| o.exit_code == 0) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let logs = crate::docker::container_logs(docker, id).await;
            return Err(format!("PostgreSQL did not start within 60 s: {logs}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn remove_volume(docker: &bollard::Docker, instance: &str, app: &str) {
    let _ = docker
        .remove_volume(
            &volume_name(instance, app),
            None::<bollard::query_parameters::RemoveVolumeOptions>,
        )
        .await;
}

/// When the fake starts: every app's database server runs again, on the
/// data it had.
pub(crate) async fn resume(fake: &Fake) {
    let apps = fake.apps().await;
    for app in apps {
        for addon in &app.addons {
            if let Err(e) = provision(fake, &app.name, addon).await {
                tracing::warn!("{}'s database did not start again: {e}", app.name);
            }
        }
    }
}

/// A destroyed app's database: its server and its data.
pub(crate) async fn forget(fake: &Fake, app: &str) {
    if let Some(docker) = fake.docker() {
        let _ = remove_container(docker, &container_name(fake, app)).await;
        remove_volume(docker, &fake.instance, app).await;
    }
}

/// The same for `start --fresh`, with no fake running: the servers went
/// with the lab's containers.
pub(crate) async fn forget_volume(docker: &bollard::Docker, instance: &str, app: &str) {
    remove_volume(docker, instance, app).await;
}
