//! Everything one check run of the container lab reads, typed and
//! serializable (fixture tests judge recorded facts without Docker).
//! Gathered in `gather`: the image (the Compose project's app image, or
//! one deploylab builds from the folder), what the image does when run
//! alone (`probe.rs`, once per image), the Compose project (`stack.rs`),
//! nginx from outside (`web.rs`), and which databases were seen before.

use std::collections::BTreeMap;
use std::path::Path;

use bollard::Docker;
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Facts {
    /// The app folder judged.
    pub(crate) dir: String,
    /// The Compose file found, relative to `dir` (it may be in a
    /// sub-folder, as the course's `docker/docker-compose.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) compose_file: Option<String>,
    /// The image judged, or why there is none (the build's error).
    pub(crate) image: Option<ImageFacts>,
    pub(crate) image_error: Option<String>,
    /// The image run alone by deploylab (None: no image).
    pub(crate) probe: Option<Probe>,
    pub(crate) stack: Stack,
    /// nginx asked from outside (None: no nginx container runs).
    pub(crate) web: Option<Web>,
    pub(crate) persistence: Persistence,
}

/// Where the judged image came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ImageSource {
    /// The image of the Compose project's app container.
    Compose { service: String },
    /// Built by deploylab from the folder's Dockerfile (no project runs).
    Built,
}

/// The image's configuration, as `docker inspect` and `docker history`
/// show it. Values of variables with secret-looking names are not kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImageFacts {
    pub(crate) id: String,
    pub(crate) source: ImageSource,
    /// `USER` ("" when none: root).
    pub(crate) user: String,
    /// ENV: name → value (secret-looking names: "<redacted>").
    pub(crate) env: BTreeMap<String, String>,
    /// EXPOSE: "8000/tcp", …
    pub(crate) exposed: Vec<String>,
    pub(crate) working_dir: String,
    pub(crate) size: u64,
    pub(crate) layers: usize,
    /// Secret-looking names set by ENV or ARG in the image's history.
    pub(crate) secrets_in_config: Vec<String>,
}

/// What the image did when deploylab ran it alone: with `PORT` and
/// `WEB_CONCURRENCY` of its own, on a network with nothing else on it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Probe {
    pub(crate) port: u16,
    pub(crate) workers: u32,
    /// Sockets listening inside the container.
    pub(crate) listening: Vec<Listener>,
    /// The container's processes once it listened (or gave up).
    pub(crate) processes: Vec<Process>,
    /// Set when the container stopped by itself.
    pub(crate) exited: Option<Exited>,
    /// What the image's files hold (None: could not be read).
    pub(crate) files: Option<Files>,
    /// How the app's database answered (None: not a Django project, or
    /// the container did not stay up to be asked).
    pub(crate) database: Option<DatabaseProbe>,
    /// The image run as built (no PORT, no WEB_CONCURRENCY): what a
    /// Compose service gets without settings of its own.
    pub(crate) as_built: Option<AsBuilt>,
    /// Why part of the probe could not run.
    pub(crate) trouble: Option<String>,
    /// Run by this check (not read from the cache).
    #[serde(default)]
    pub(crate) fresh: bool,
}

/// The image run with no settings of deploylab's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsBuilt {
    /// The port the image EXPOSEs (the first), where it should listen.
    pub(crate) exposed: Option<u16>,
    pub(crate) listening: Vec<Listener>,
    pub(crate) exited: Option<Exited>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Listener {
    pub(crate) ip: String,
    pub(crate) port: u16,
}

impl Listener {
    /// Listening on every address of the container (0.0.0.0 or ::).
    pub(crate) fn is_any(&self) -> bool {
        self.ip == "0.0.0.0" || self.ip == "::"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Process {
    pub(crate) pid: u32,
    pub(crate) ppid: u32,
    pub(crate) uid: u32,
    pub(crate) args: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exited {
    pub(crate) code: i64,
    /// The last lines of its output.
    pub(crate) log_tail: String,
}

/// Files found in the image (outside Python's own packages).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Files {
    /// Paths ending in the static file the lab names (collectstatic's).
    pub(crate) static_files: Vec<String>,
    /// `.git` folders, virtualenvs (`pyvenv.cfg`), SQLite databases,
    /// `.env` files: what a build context should leave out.
    pub(crate) git: Vec<String>,
    pub(crate) venvs: Vec<String>,
    pub(crate) databases: Vec<String>,
    pub(crate) dotenv: Vec<String>,
    /// The app's own migrations: "app_label.0001_initial".
    pub(crate) migrations: Vec<String>,
    /// Whether the working folder has a manage.py.
    pub(crate) manage_py: bool,
}

/// Django asked, in a probe container or the running app's, which database
/// it uses and whether it can reach it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatabaseProbe {
    /// Django's `connection.vendor`: "postgresql", "sqlite", …; "" when
    /// the settings did not load.
    pub(crate) vendor: String,
    /// The connection's error (its last line), or None: it connected.
    pub(crate) error: Option<String>,
    /// The server's host and the database's name, as the settings give
    /// them (`HOST` empty: a local socket).
    #[serde(default)]
    pub(crate) host: String,
    #[serde(default)]
    pub(crate) name: String,
}

/// The Compose project started from the app folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Stack {
    /// Compose's project name (None: no container of a project started
    /// from this folder).
    pub(crate) project: Option<String>,
    pub(crate) services: Vec<Service>,
    pub(crate) db: Option<Db>,
    /// The app's database URL, as its container's environment gives it.
    pub(crate) app_database_url: Option<DatabaseUrl>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Role {
    App,
    Db,
    Web,
    Other,
}

/// One container of the project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Service {
    pub(crate) service: String,
    pub(crate) container: String,
    pub(crate) role: Role,
    pub(crate) state: ContainerState,
    pub(crate) exit_code: i64,
    pub(crate) restarts: i64,
    pub(crate) image: String,
    /// The last lines of output of a container that is not running.
    pub(crate) log_tail: String,
    /// Names other containers reach it by on its networks.
    pub(crate) aliases: Vec<String>,
    /// The image's id (what deploylab judges of the app's).
    pub(crate) image_id: String,
    /// Host ports its port 80 is published on (as configured, even when
    /// the container could not start).
    pub(crate) published_80: Vec<u16>,
    pub(crate) mounts: Vec<MountPoint>,
    /// Its address on its first network (nginx is asked there when it is
    /// published nowhere).
    pub(crate) ip: Option<String>,
    /// The host port deploylab reaches its port 80 at
    /// (`docker::published_host`): where the student published it, or
    /// where a grade does.
    #[serde(default)]
    pub(crate) reach_80: Option<u16>,
    /// When the container was made, seconds since the epoch.
    #[serde(default)]
    pub(crate) created: i64,
}

/// Docker's state of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    /// A state this deploylab does not know (a newer engine's).
    #[serde(other)]
    Unknown,
}

impl ContainerState {
    /// As the engine names it (`docker ps`).
    pub(crate) fn from_engine(name: &str) -> ContainerState {
        serde_json::from_value(serde_json::Value::String(name.to_lowercase()))
            .unwrap_or(ContainerState::Unknown)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Unknown => "in an unknown state",
        }
    }
}

/// What a mount is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MountKind {
    /// A Docker volume, by name.
    Volume,
    /// A folder of the host.
    Bind,
    /// tmpfs, a named pipe, or what the engine adds next.
    #[serde(other)]
    Other,
}

impl MountKind {
    /// As the engine names it (`Mounts[].Type`).
    pub(crate) fn from_engine(name: Option<&str>) -> MountKind {
        match name {
            Some("volume") => MountKind::Volume,
            Some("bind") => MountKind::Bind,
            _ => MountKind::Other,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            MountKind::Volume => "volume",
            MountKind::Bind => "bind",
            MountKind::Other => "other",
        }
    }
}

/// One mount of a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MountPoint {
    pub(crate) kind: MountKind,
    /// The volume's name, or the bind's source.
    pub(crate) name: String,
    pub(crate) destination: String,
    pub(crate) writable: bool,
}

impl Stack {
    pub(crate) fn with_role(&self, role: Role) -> Option<&Service> {
        self.services.iter().find(|s| s.role == role)
    }
}

/// PostgreSQL of the project, asked from inside its container.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Db {
    /// Where its data is (PGDATA).
    pub(crate) data_dir: String,
    /// What is mounted there: "volume" with a name, "bind", or None (the
    /// container's own layer).
    pub(crate) mount: Option<Mount>,
    /// PostgreSQL's system identifier (made by initdb, once per data
    /// folder).
    pub(crate) system_id: Option<String>,
    /// The database asked for migrations.
    pub(crate) database: String,
    /// Applied migrations ("app.name"), or why they could not be read.
    pub(crate) migrations: std::result::Result<Vec<String>, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mount {
    pub(crate) kind: MountKind,
    /// The volume's name, or the bind's source.
    pub(crate) name: String,
    /// Made by Compose from the file's `volumes:` (not anonymous).
    pub(crate) named: bool,
}

/// The database the running app uses: as its Django answers (`DATABASES`),
/// or, when it cannot answer, as a URL in its environment says.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatabaseUrl {
    /// Where it was read: `DATABASES`, or the variable holding the URL.
    pub(crate) variable: String,
    pub(crate) host: String,
    pub(crate) database: String,
}

/// nginx asked from outside.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Web {
    /// Host ports nginx's port 80 is published on.
    pub(crate) published: Vec<u16>,
    /// The address asked (a published port, or the container's own).
    pub(crate) base: String,
    /// Two requests for the live page: status and the CSRF cookie set.
    pub(crate) live: Vec<Answer>,
    /// The static file asked through nginx.
    pub(crate) static_file: Option<Answer>,
    /// The volume nginx and the app share, if any.
    pub(crate) shared_volume: Option<String>,
    /// How many files the shared volume holds (as nginx sees it).
    pub(crate) volume_files: Option<usize>,
    /// A file deploylab wrote into the shared volume came back through
    /// nginx (Ok(true)), did not (Ok(false)), or could not be tried.
    pub(crate) from_disk: Option<std::result::Result<bool, String>>,
}

pub(crate) use crate::http_answer::HttpAnswer as Answer;

/// Databases seen by earlier checks, by PostgreSQL system identifier.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Persistence {
    /// The database container now, and its data's identifier.
    pub(crate) container: Option<String>,
    pub(crate) system_id: Option<String>,
    /// Earlier database containers (of this folder's project) with the
    /// same data: the data outlived them.
    pub(crate) survived: Vec<String>,
    /// Earlier database containers with other data: lost.
    pub(crate) lost: Vec<String>,
    /// The data folder was made (initdb) before the current database
    /// container was: it outlived the container it was made in.
    #[serde(default)]
    pub(crate) older_than_container: bool,
}

/// Which databases earlier checks saw, kept in the lab's folder.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Seen {
    /// container id → system identifier.
    pub(crate) databases: BTreeMap<String, String>,
}

impl Seen {
    pub(crate) fn load(file: &Path) -> Seen {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Records the current database and says what became of earlier ones.
    pub(crate) fn record(&mut self, container: &str, system_id: &str) -> Persistence {
        self.databases
            .insert(container.to_string(), system_id.to_string());
        let (survived, lost) = self
            .databases
            .iter()
            .filter(|(c, _)| c.as_str() != container)
            .partition::<Vec<_>, _>(|(_, id)| id.as_str() == system_id);
        Persistence {
            container: Some(container.to_string()),
            system_id: Some(system_id.to_string()),
            survived: survived.into_iter().map(|(c, _)| c.clone()).collect(),
            lost: lost.into_iter().map(|(c, _)| c.clone()).collect(),
            older_than_container: false,
        }
    }
}

/// When a PostgreSQL data folder was made: initdb writes the time, in
/// seconds, into the top 32 bits of the system identifier.
pub(crate) fn made_at(system_id: &str) -> Option<i64> {
    let id: u64 = system_id.parse().ok()?;
    i64::try_from(id >> 32).ok()
}

/// Everything a check run needs to know about where to look.
pub(crate) struct Where<'a> {
    pub(crate) instance: &'a str,
    pub(crate) lab: &'a str,
    pub(crate) dir: &'a Path,
    /// The lab's own folder (probe cache, seen databases).
    pub(crate) work: &'a Path,
    pub(crate) static_file: &'a str,
    pub(crate) static_prefix: &'a str,
    pub(crate) live_path: &'a str,
}

/// One pass over everything the lab's checks read.
pub(crate) async fn gather(docker: &Docker, at: &Where<'_>) -> Result<Facts> {
    let layout = super::layout::Layout::of(at.dir);
    let mut facts = Facts {
        dir: at.dir.display().to_string(),
        compose_file: layout
            .compose_file
            .as_ref()
            .and_then(|f| f.strip_prefix(at.dir).ok())
            .map(|f| f.display().to_string()),
        ..Facts::default()
    };
    facts.stack = super::stack::find(docker, at.dir, Some(at.work)).await?;
    match super::probe::image(docker, at, &facts.stack).await {
        Ok(image) => {
            facts.probe = Some(super::probe::run_cached(docker, at, &image).await);
            facts.image = Some(image);
        }
        Err(why) => facts.image_error = Some(why),
    }
    if let Some(db) = &facts.stack.db
        && let (Some(id), Some(service)) = (&db.system_id, facts.stack.with_role(Role::Db))
    {
        let file = at.work.join("databases.json");
        let mut seen = Seen::load(&file);
        facts.persistence = seen.record(&service.container, id);
        facts.persistence.older_than_container =
            made_at(id).is_some_and(|made| made + 1 < service.created);
        if let Ok(text) = serde_json::to_string_pretty(&seen) {
            let _ = std::fs::write(&file, text);
        }
    }
    facts.web = super::web::ask(docker, at, &facts.stack).await;
    Ok(facts)
}
