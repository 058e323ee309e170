//! The heroku lab as an environment (`seam::Environment`): `deploylab
//! start heroku` builds the images it needs, starts the fake
//! (`heroku-serve`) as a process of its own and records it; `deploylab
//! heroku env` prints what the real CLI and git need; `stop` ends the fake
//! and removes its dynos (apps, releases and their images stay, like an
//! account's; `start --fresh` forgets them).

use std::path::{Path, PathBuf};

use std::process::Command;

use bollard::Docker;
use bollard::models::ContainerSummary;
use serde::{Deserialize, Serialize};

use super::Ports;
use super::checks::Check;
use super::facts::Facts;
use crate::error::{Error, Result};
use crate::images;
use crate::lab::Lab;
use crate::images::VmImage;
use crate::seam::{Ctx, Environment, StartOptions, StatusRow};
use crate::state::Home;
use crate::verdict::Verdict;

pub(crate) const LAB: &str = "heroku";

/// Messages of the heroku lab, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn no_vm() -> String {
        tr!("heroku-start-no-vm")
    }
    pub(super) fn no_heroku_cli() -> String {
        tr!("heroku-start-no-heroku-cli")
    }
    pub(super) fn alive() -> String {
        tr!("heroku-start-alive")
    }
    pub(super) fn dead() -> String {
        tr!("heroku-start-dead")
    }

    /// All `start heroku --quiet` prints.
    pub(super) fn where_it_is(api: u16, router: u16) -> String {
        tr!("heroku-start-where-it-is", api = api, router = router)
    }

    pub(super) fn place(pid: u32, api: u16) -> String {
        tr!("heroku-start-place", pid = pid, api = api)
    }

    pub(super) fn router(port: u16) -> String {
        tr!("heroku-start-router", port = port)
    }

    pub(super) fn ready(api: u16, router: u16, blog: &str) -> String {
        format!(
            "{}\n\n{}\n\n  eval \"$(deploylab heroku env)\"\n\n{}  git clone {blog} blog\n\n{}\n{}",
            tr!("heroku-ready", api = api, router = router),
            tr!("heroku-ready-env"),
            tr!("heroku-ready-blog"),
            tr!("heroku-ready-next"),
            tr!("heroku-ready-check"),
        )
    }
}

/// The fake Heroku environment.
pub(crate) struct Heroku;

/// The fake's process and how it is reached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Running {
    pub(crate) pid: u32,
    pub(crate) ports: Ports,
    pub(crate) token: String,
    pub(crate) dir: PathBuf,
    /// The course's blog as a git repository to clone, if the lab has one.
    #[serde(default)]
    pub(crate) blog_repo: Option<PathBuf>,
    /// Seconds since the Unix epoch.
    pub(crate) started_at: u64,
    /// The package proxy builds install from (none on hosts where it
    /// cannot run: builds then have the offline wheels only).
    #[serde(default)]
    pub(crate) proxy_pid: Option<u32>,
    #[serde(default)]
    pub(crate) proxy_port: Option<u16>,
}

impl Environment for Heroku {
    type Check = Check;
    type Running = Running;
    type Facts = Facts;
    type Work = super::submission::HerokuWork;

    fn without_machine() -> String {
        text::no_vm()
    }
    const KEPT_IMAGE_KINDS: &'static [&'static str] = &[super::build::SLUG_KIND];

    /// `deploylab start heroku` (the caller removes the network if it fails).
    async fn start(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        previous: Option<Running>,
        options: StartOptions,
    ) -> Result<Running> {
        if options.repo.is_some() {
            return Err(Error::NotForThisLab {
                command: "start --repo",
                lab: lab.id.clone(),
                why: "here you deploy with `git push`: push your own app to the fake Heroku".to_string(),
            });
        }
        let home = ctx.home;
        let instance = home.instance();
        let dir = dir(home);
        if let Some(running) = previous
            && is_running(running.pid)
        {
            if !options.fresh {
                return Ok(running);
            }
            stop_server(running.pid);
        }
        crate::docker::remove_lab_resources(docker, &instance, &lab.id).await?;
        if options.fresh {
            forget_everything(docker, &instance, &dir).await?;
        }
        std::fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        let labs = ctx.catalog.all()?;
        let vm = tokio::select! {
            image = images::ensure_vm_image(docker, &home.cache, &labs, ctx.progress) => image?,
            () = crate::interrupt::requested() => return Err(Error::Interrupted),
        };
        let stacks = tokio::select! {
            stacks = super::stack::ensure(docker, &vm, ctx.progress) => stacks?,
            () = crate::interrupt::requested() => return Err(Error::Interrupted),
        };
        let postgres = tokio::select! {
            image = crate::standin::postgres::ensure(docker, &vm, ctx.progress) => image?,
            () = crate::interrupt::requested() => return Err(Error::Interrupted),
        };
        crate::interrupt::check()?;
        let network = crate::docker::create_network(docker, &instance, &lab.id).await?;
        // Builds run on a network of their own that reaches only the
        // package proxy.
        let build_network =
            crate::docker::create_closed_network(docker, &instance, &lab.id).await?;
        ctx.progress.set(&crate::i18n::tr!("progress-proxy"));
        let on = crate::packages::OnNetwork {
            network: &build_network,
            shared: false,
            lab: &lab.id,
            port: None,
            wheels: &vm.wheels_dir,
        };
        let proxy = crate::packages::start_on(docker, home, &on).await?;
        let mut proxy_guard = crate::packages::Guard(proxy.as_ref().map(|p| p.pid));
        crate::interrupt::check()?;
        ctx.progress.set(&crate::i18n::tr!("progress-heroku"));
        // The same ports as last time when free: git remotes name the port.
        let last: Option<Ports> = std::fs::read_to_string(dir.join("ports.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let api_port = last.map(|p| p.api).filter(|p| port_free(*p)).unwrap_or(0);
        let router = match options.http_port {
            Some(p) => p,
            None => last
                .map(|p| p.router)
                .filter(|p| port_free(*p))
                .unwrap_or(0),
        };
        let token = token(&dir)?;
        let blog_repo = match lab.git_repos.contains_key("blog") {
            true => Some(
                crate::gitserver::prepare(ctx.catalog, lab, None, &home.cache)?.join("blog.git"),
            ),
            false => None,
        };
        let spawned = Spawn {
            dir: &dir,
            token: &token,
            instance: &instance,
            network: &network,
            stacks: &stacks,
            postgres: &postgres,
            wheels: &vm.wheels_dir,
            // Docker Desktop lets no internal network reach the host: there
            // builds reach the proxy from the lab's network.
            builds: proxy.as_ref().map(|p| match p.address.is_desktop_host() {
                true => (network.as_str(), p.address.clone()),
                false => (build_network.as_str(), p.address.clone()),
            }),
        };
        let (pid, ports) = spawned.run(api_port, router).await?;
        let guard = ServerGuard(Some(pid));
        crate::state::write_atomically(
            &dir.join("ports.json"),
            serde_json::to_string(&ports)
                .expect("ports serialize")
                .as_bytes(),
        )?;
        crate::interrupt::check()?;
        std::mem::forget(guard);
        proxy_guard.0 = None;
        Ok(Running {
            pid,
            ports,
            token,
            dir,
            blog_repo,
            started_at: crate::state::now(),
            proxy_pid: proxy.as_ref().map(|p| p.pid),
            proxy_port: proxy.as_ref().map(|p| p.address.port),
        })
    }

    fn ready_text(ctx: &Ctx<'_>, _: &Lab, running: &Running) -> String {
        if ctx.progress.is_quiet() {
            return text::where_it_is(running.ports.api, running.ports.router);
        }
        let blog = running
            .blog_repo
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string());
        text::ready(running.ports.api, running.ports.router, &blog)
    }

    async fn status(
        _: &Ctx<'_>,
        _: &Docker,
        running: &Running,
        _: &[ContainerSummary],
    ) -> StatusRow {
        StatusRow {
            state: if is_running(running.pid) {
                text::alive()
            } else {
                text::dead()
            },
            endpoints: vec![("http", text::router(running.ports.router))],
            written: None,
            place: text::place(running.pid, running.ports.api),
            proxy: crate::packages::status(running.proxy_pid, running.proxy_port),
        }
    }

    fn started_at(running: &Running) -> u64 {
        running.started_at
    }

    /// The stack images (one per Python, and the bases of those that are
    /// not the VM's), and the PostgreSQL stand-in its add-ons run on.
    async fn current_images(_: &Docker, vm: &VmImage) -> Vec<String> {
        let mut tags = vec![crate::standin::postgres::tag_for(vm)];
        for python in crate::pythons::ALL {
            tags.push(super::stack::tag_for(vm, python));
            tags.push(crate::images::base_tag(vm, python));
        }
        tags
    }

    /// The stack images this home's slugs run on, which `images prune`
    /// keeps while a release needs them.
    fn images_in_use(home: &Home) -> Vec<String> {
        let state = saved_state(&dir(home));
        state
            .apps
            .values()
            .flat_map(|app| app.releases.iter())
            .filter_map(|release| release.slug.as_ref())
            .filter(|slug| slug.packages.is_some())
            .map(|slug| slug.image.clone())
            .collect()
    }

    fn stop(_: &Home, running: &Running) {
        stop_server(running.pid);
        if let Some(pid) = running.proxy_pid {
            crate::packages::stop(pid);
        }
    }

    async fn gather(
        ctx: &Ctx<'_>,
        docker: &Docker,
        lab: &Lab,
        running: &Running,
        checks: &[&Check],
    ) -> Result<Facts> {
        if !is_running(running.pid) {
            return Err(Error::LabNotRunning {
                lab: lab.id.clone(),
            });
        }
        let settings = checks.iter().any(|c| c.needs_settings());
        let paths: Vec<&str> = checks.iter().filter_map(|c| c.path()).collect();
        let instance = ctx.home.instance();
        let about = super::facts::About {
            app: ctx.subject,
            settings,
            paths: &paths,
        };
        super::facts::gather(docker, &instance, running, &about).await
    }

    const HINT_WORDS: &[&str] = super::hints::WORDS;

    fn hint_words(_: &Lab, facts: &Facts, _: &str) -> Vec<(&'static str, String)> {
        super::hints::words(facts)
    }

    fn evaluate(_: &Lab, check: &Check, facts: &Facts, _: &str) -> Verdict {
        check.evaluate(facts)
    }

    /// The solution runs on this machine, in `<home>/heroku/work`, with the
    /// environment `deploylab heroku env` gives (the real heroku CLI must
    /// be on PATH).
    fn step_runner(
        _: &Ctx<'_>,
        _: &Lab,
        running: &Running,
        _: Option<&str>,
    ) -> Result<Command> {
        if images::which("heroku").is_none() {
            return Err(Error::MissingTool {
                tool: "heroku",
                purpose: "run the heroku lab's reference solution",
                fix: text::no_heroku_cli(),
            });
        }
        let work = running.dir.join("work");
        std::fs::create_dir_all(&work)
            .map_err(Error::io(format!("creating {}", work.display())))?;
        let mut cmd = Command::new("bash");
        cmd.arg("-s").current_dir(&work).envs(env_pairs(running));
        if let Some(repo) = &running.blog_repo {
            cmd.env("DEPLOYLAB_BLOG_REPO", repo);
        }
        Ok(cmd)
    }

    async fn capture(
        ctx: &Ctx<'_>,
        docker: &Docker,
        _: &Lab,
        running: &Running,
    ) -> Result<(super::submission::HerokuWork, Vec<u8>)> {
        super::submission::capture(docker, &ctx.home.instance(), running).await
    }

    /// A grade's fake keeps its apps like an account: their slugs go with
    /// the scratch home.
    async fn discard_practice(docker: &Docker, running: &Running) {
        super::slug::remove_saved(docker, &running.dir, &saved_state(&running.dir)).await;
    }

    fn recipe(_: &Running) -> String {
        recipe()
    }

    async fn current_recipe(_: &Ctx<'_>, _: &Docker) -> Result<String> {
        Ok(recipe())
    }

    /// The app made again on the fresh fake, through its API and git.
    async fn restore(
        ctx: &Ctx<'_>,
        docker: &Docker,
        _: &Lab,
        running: &Running,
        work: &super::submission::HerokuWork,
        files: &[u8],
    ) -> Result<Vec<String>> {
        let instance = ctx.home.instance();
        super::submission::restore(docker, &instance, running, work, files).await
    }
}

/// What a fake is built from: deploylab's own version.
fn recipe() -> String {
    format!("heroku/{}", env!("CARGO_PKG_VERSION"))
}

fn dir(home: &Home) -> PathBuf {
    home.dir.join("heroku")
}

/// The token of this home's fake: made once, kept, so exported
/// environments and git remotes stay valid across restarts.
fn token(dir: &Path) -> Result<String> {
    let file = dir.join("token");
    if let Ok(token) = std::fs::read_to_string(&file)
        && !token.trim().is_empty()
    {
        return Ok(token.trim().to_string());
    }
    let token = format!("HRKU-{}", uuid::Uuid::new_v4().simple());
    crate::state::write_private(&file, token.as_bytes())
        .map_err(Error::io("saving the fake Heroku's token"))?;
    Ok(token)
}

/// The fake's (hidden) subcommand, by which its process is recognised.
const SUBCOMMAND: &str = "heroku-serve";

pub(crate) fn is_running(pid: u32) -> bool {
    crate::background::is_running(pid, SUBCOMMAND)
}

/// Stops the fake and waits until it is gone, so it restarts no dynos
/// while they are being removed.
pub(crate) fn stop_server(pid: u32) {
    crate::background::stop(pid, SUBCOMMAND);
}

/// What the real CLI and git need to use the fake, as name-value pairs
/// (`solve` runs the CLI with them; `env_script` prints them).
pub(crate) fn env_pairs(running: &Running) -> Vec<(String, String)> {
    let api = format!("https://localhost:{}", running.ports.api);
    let ca = super::tls::ca_path(&running.dir).display().to_string();
    let helper = "!f() { test \"$1\" = get && echo username=heroku && echo \"password=$HEROKU_API_KEY\"; }; f";
    let mut pairs = vec![
        ("HEROKU_HOST", api.clone()),
        ("HEROKU_API_KEY", running.token.clone()),
        ("NODE_EXTRA_CA_CERTS", ca.clone()),
        ("DISABLE_TELEMETRY", "true".into()),
        // The CLI asks Heroku's account service (particleboard) beside the
        // API for GET /account (`apps`, `auth:whoami`), and waits through
        // retries offline; it ignores the answer's errors. The fake
        // answers its `/account` at once.
        ("HEROKU_PARTICLEBOARD_URL", api.clone()),
        // `pg:*` asks Heroku's data API; the CLI sends it to this host
        // with the API's port and token: the fake answers it too.
        ("HEROKU_DATA_HOST", "localhost".into()),
        // git: trust the local CA and send the token, for the fake only.
        // The empty helper first clears the helpers configured before it
        // (git's rule): the CLI's own `heroku git:credentials`, which it
        // writes for the fake's URL and which starts Node twice per git
        // command (2.3 s a push here), and any store of the student's,
        // which would keep the lab's token.
        ("GIT_CONFIG_COUNT", "3".into()),
        ("GIT_CONFIG_KEY_0", format!("http.{api}/.sslCAInfo")),
        ("GIT_CONFIG_VALUE_0", ca.clone()),
        ("GIT_CONFIG_KEY_1", format!("credential.{api}.helper")),
        ("GIT_CONFIG_VALUE_1", String::new()),
        ("GIT_CONFIG_KEY_2", format!("credential.{api}.helper")),
        ("GIT_CONFIG_VALUE_2", helper.into()),
    ];
    // The real CLI writes a credential helper for the fake's URL with `git
    // config --global` before nearly every command: into a file of the lab's
    // own, which includes the student's real global configuration (their
    // name, email, aliases), so nothing of the lab is left in theirs.
    let global = running.dir.join("gitconfig");
    if std::fs::write(&global, global_gitconfig(&global)).is_ok() {
        pairs.push(("GIT_CONFIG_GLOBAL", global.display().to_string()));
    }
    // curl and Python's requests trust one bundle: the system's
    // certificates and the local CA (the router's https://<app>.localhost).
    // GIT_SSL_CAINFO, when set, overrides git's configuration: then it
    // must name such a bundle too.
    let git_bundle = std::env::var_os("GIT_SSL_CAINFO");
    let system = git_bundle
        .clone()
        .or_else(|| std::env::var_os("SSL_CERT_FILE"))
        .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
    let joined = running.dir.join("ca-bundle.pem");
    let mut pem = std::fs::read(&system).unwrap_or_default();
    pem.push(b'\n');
    pem.extend(std::fs::read(&ca).unwrap_or_default());
    if std::fs::write(&joined, pem).is_ok() {
        let joined = joined.display().to_string();
        pairs.push(("CURL_CA_BUNDLE", joined.clone()));
        pairs.push(("REQUESTS_CA_BUNDLE", joined.clone()));
        if git_bundle.is_some() {
            pairs.push(("GIT_SSL_CAINFO", joined));
        }
    }
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The lab's global git configuration: includes of the student's own (git
/// skips an include that does not exist). What the CLI adds comes after.
fn global_gitconfig(ours: &Path) -> String {
    // Already ours (a shell that ran `heroku env` before): not an include of
    // itself.
    let set = std::env::var_os("GIT_CONFIG_GLOBAL").filter(|p| Path::new(p) != ours);
    let own: Vec<std::path::PathBuf> = match set {
        Some(path) => vec![path.into()],
        None => {
            let xdg = std::env::var_os("XDG_CONFIG_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| dirs::home_dir().map(|h| h.join(".config")));
            xdg.map(|x| x.join("git/config"))
                .into_iter()
                .chain(dirs::home_dir().map(|h| h.join(".gitconfig")))
                .collect()
        }
    };
    let mut text = String::from(
        "# deploylab's heroku lab: your global git configuration, and what the\n\
         # heroku CLI adds for the fake (kept out of yours).\n",
    );
    for path in own {
        text.push_str(&format!("[include]\n\tpath = {}\n", path.display()));
    }
    text
}

/// `deploylab heroku env`: the pairs as shell lines, for `eval`.
pub(crate) fn env_script(running: &Running) -> String {
    env_pairs(running)
        .iter()
        .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', "'\\''")))
        .collect()
}

/// Stops the fake if this start fails after spawning it.
struct ServerGuard(Option<u32>);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            stop_server(pid);
        }
    }
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The fake's records as it last saved them (empty if none).
fn saved_state(dir: &Path) -> super::api::State {
    let state = std::fs::read_to_string(dir.join("state.json")).unwrap_or_default();
    serde_json::from_str(&state).unwrap_or_default()
}

/// `start heroku --fresh`: apps, releases, slugs and databases go.
async fn forget_everything(docker: &Docker, instance: &str, dir: &Path) -> Result<()> {
    let state = saved_state(dir);
    super::slug::remove_saved(docker, dir, &state).await;
    for app in state.apps.values() {
        super::addons::forget_volume(docker, instance, &app.name).await;
    }
    for sub in ["state.json", "repos"] {
        let path = dir.join(sub);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir_all(&path);
    }
    Ok(())
}

/// What the fake's process is started with.
struct Spawn<'a> {
    dir: &'a Path,
    token: &'a str,
    instance: &'a str,
    network: &'a str,
    stacks: &'a [super::stack::Stack],
    postgres: &'a str,
    wheels: &'a Path,
    /// The closed network builds run on and the package proxy on it.
    builds: Option<(&'a str, crate::packages::Endpoint)>,
}

impl Spawn<'_> {
    async fn run(&self, api_port: u16, router_port: u16) -> Result<(u32, Ports)> {
        let ready = self.dir.join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let log = self.dir.join("fake-heroku.log");
        let mut cmd = crate::background::command(SUBCOMMAND)?;
        cmd.arg("--dir")
            .arg(self.dir)
            .args(["--port", &api_port.to_string()])
            .args(["--router-port", &router_port.to_string()])
            .arg("--ready-file")
            .arg(&ready)
            .args(["--instance", self.instance, "--network", self.network])
            .args(["--postgres", self.postgres]);
        for stack in self.stacks {
            cmd.args(["--stack", &stack.arg()]);
        }
        cmd
            .arg("--wheels")
            .arg(self.wheels)
            .env("DEPLOYLAB_HEROKU_TOKEN", self.token);
        if let Some((network, proxy)) = &self.builds {
            cmd.args(["--build-network", network])
                .args(["--package-proxy", &proxy.to_string()]);
        }
        let parse = |text: &str| serde_json::from_str::<Ports>(text).ok();
        match crate::background::start(cmd, "the fake Heroku", &ready, &log, parse).await {
            Err(Error::Background {
                port_taken: true, ..
            }) => Err(Error::PortTaken { port: router_port }),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_script_round_trips_and_scopes_git_to_the_fake() {
        let running = Running {
            pid: 1,
            ports: Ports {
                api: 5443,
                router: 5080,
                rendezvous: 5444,
            },
            token: "HRKU-it's".into(),
            dir: PathBuf::from("/home/a b/heroku"),
            blog_repo: None,
            started_at: 0,
            proxy_pid: None,
            proxy_port: None,
        };
        let pairs: std::collections::HashMap<String, String> =
            env_pairs(&running).into_iter().collect();
        assert_eq!(pairs["HEROKU_HOST"], "https://localhost:5443");
        assert_eq!(pairs["HEROKU_PARTICLEBOARD_URL"], "https://localhost:5443");
        assert_eq!(pairs["HEROKU_DATA_HOST"], "localhost");
        assert_eq!(pairs["HEROKU_API_KEY"], "HRKU-it's");
        assert_eq!(pairs["NODE_EXTRA_CA_CERTS"], "/home/a b/heroku/ca.pem");
        assert_eq!(
            pairs["GIT_CONFIG_KEY_0"],
            "http.https://localhost:5443/.sslCAInfo"
        );
        assert_eq!(
            pairs["GIT_CONFIG_KEY_1"],
            "credential.https://localhost:5443.helper"
        );
        assert_eq!(pairs["GIT_CONFIG_VALUE_1"], "", "clears the CLI's helper");
        assert_eq!(pairs["GIT_CONFIG_KEY_2"], pairs["GIT_CONFIG_KEY_1"]);
        assert!(pairs["GIT_CONFIG_VALUE_2"].contains("password=$HEROKU_API_KEY"));
    }
}
