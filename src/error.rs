//! Every way deploylab can fail, each with one message for people and an exit
//! code from the documented contract (README, "Exit codes").
//!
//! All user-facing error text lives here, so it can be translated in one place.

use std::path::PathBuf;

use crate::i18n::tr;

/// Exit codes are a public contract: CI scripts and graders depend on them.
pub(crate) mod exit {
    /// Success; for `check`, every check passed.
    pub(crate) const OK: i32 = 0;
    /// The checks ran and at least one did not pass.
    pub(crate) const CHECKS_FAILED: i32 = 1;
    /// The command line or the input was wrong (unknown lab, broken lab.yaml,
    /// no lab running). Same code clap uses for its own usage errors.
    pub(crate) const USAGE: i32 = 2;
    /// The environment failed: Docker unreachable, image build failed, port
    /// taken, the VM vanished or did not boot.
    pub(crate) const ENVIRONMENT: i32 = 3;
    /// Interrupted by Ctrl-C (128 + SIGINT), SIGTERM or SIGHUP, all alike;
    /// everything started was removed.
    pub(crate) const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    // --- usage and input -------------------------------------------------
    #[error("unknown lab '{name}'{suggestion}")]
    UnknownLab { name: String, suggestion: String },

    #[error("{file}:{line}:{column}: {message}")]
    LabFile {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },

    #[error("{file}: {message}")]
    LabInvalid { file: String, message: String },

    #[error("cannot read the labs in {}: {source}", dir.display())]
    LabsDir {
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error("{}", tr!("error-po-needs-language"))]
    PoNeedsLanguage,

    #[error("{}", tr!("error-book", why = why))]
    Book { why: String },

    #[error("no lab is running.")]
    NothingRunning,

    #[error("several labs are running ({running}); say which one with --lab <id>.")]
    WhichLab { running: String },

    #[error("lab '{lab}' is not running.")]
    LabNotRunning { lab: String },

    #[error("unknown stage '{stage}' in lab '{lab}'; its stages are: {known}.")]
    UnknownStage {
        lab: String,
        stage: String,
        known: String,
    },

    #[error("lab '{lab}' has no machine '{machine}'; its machines are: {known}.")]
    UnknownMachine {
        lab: String,
        machine: String,
        known: String,
    },

    #[error("--ssh-port and --http-port are both {port}; they must differ")]
    SamePort { port: u16 },

    #[error(
        "lab '{lab}' already runs serving {serving}; `--repo` needs `--fresh` to serve {wanted}"
    )]
    RepoNeedsFresh {
        lab: String,
        serving: String,
        wanted: String,
    },

    #[error("--repo {repo}: {why}")]
    BadRepo { repo: String, why: String },

    #[error("`{command}` is not available for lab '{lab}': {why}")]
    NotForThisLab {
        command: &'static str,
        lab: String,
        why: &'static str,
    },

    #[error("{}: {why}", path.display())]
    BadSubmission { path: PathBuf, why: String },

    #[error("{}: {why}", path.display())]
    AppFolder { path: PathBuf, why: &'static str },

    #[error("the fake Heroku has no app named '{app}' (its apps: {known})")]
    NoSuchApp { app: String, known: String },

    #[error("the submission's description of the work is unreadable: {why}")]
    SubmissionState { why: String },

    // --- environment -----------------------------------------------------
    #[error("capturing the work: {why}")]
    Capture { why: String },

    #[error("{name}={value}: {why}")]
    BadSetting {
        name: &'static str,
        value: String,
        why: &'static str,
    },

    #[error("cannot reach the Docker engine at {host}: {detail}")]
    DockerUnreachable { host: String, detail: String },

    #[error("Docker: {action}: {}", describe_docker(source))]
    Docker {
        action: String,
        source: bollard::errors::Error,
    },

    #[error("the lab's network {network} has no IPv4 gateway")]
    NoGateway { network: String },

    #[error("port {port} on 127.0.0.1 is already in use.")]
    PortTaken { port: u16 },

    #[error(
        "port {port} on {address} is already in use: the container lab's package proxy listens there, where images built offline ask for packages."
    )]
    ProxyPortTaken { address: String, port: u16 },

    #[error("building image {image} failed: {detail}")]
    ImageBuild { image: String, detail: String },

    #[error("{tool} is needed to {purpose} but was not found on PATH.")]
    MissingTool {
        tool: &'static str,
        purpose: &'static str,
        fix: &'static str,
    },

    #[error("the VM of lab '{lab}' did not become ready within {seconds} s: {detail}")]
    BootTimeout {
        lab: String,
        seconds: u64,
        detail: String,
    },

    #[error("the container of lab '{lab}' no longer exists (removed outside deploylab).")]
    ContainerGone { lab: String },

    #[error(
        "the reference solution failed at stage '{stage}' (exit code {code}); its last lines:\n{tail}"
    )]
    SolutionFailed {
        stage: String,
        code: i32,
        tail: String,
    },

    #[error("the probe inside the VM failed: {detail}")]
    Probe { detail: String },

    #[error("{what} exited ({status}): {log}")]
    Background {
        what: String,
        status: String,
        log: String,
        /// It exited with `background::PORT_TAKEN`.
        port_taken: bool,
    },

    #[error("{context}: {program} failed ({status}): {stderr}")]
    Program {
        context: String,
        program: &'static str,
        status: std::process::ExitStatus,
        stderr: String,
    },

    #[error("{context}: {source}")]
    Json {
        context: String,
        source: serde_json::Error,
    },

    #[error("making the local TLS certificate: {source}")]
    Tls {
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("creating the SSH key {}: {source}", path.display())]
    SshKey {
        path: PathBuf,
        source: ssh_key::Error,
    },

    #[error("answering HTTP: {source}")]
    Http { source: hyper::http::Error },

    /// The fake platform refuses, in Heroku's words.
    #[error("{message}")]
    Platform { message: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    #[error("interrupted; everything deploylab had started for this command was removed.")]
    Interrupted,
}

impl Error {
    pub(crate) fn exit_code(&self) -> i32 {
        use Error::*;
        match self {
            UnknownLab { .. }
            | LabFile { .. }
            | LabInvalid { .. }
            | LabsDir { .. }
            | NothingRunning
            | PoNeedsLanguage
            | Book { .. }
            | WhichLab { .. }
            | LabNotRunning { .. }
            | UnknownStage { .. }
            | UnknownMachine { .. }
            | SamePort { .. }
            | NotForThisLab { .. }
            | RepoNeedsFresh { .. }
            | BadRepo { .. }
            | BadSubmission { .. }
            | NoSuchApp { .. }
            | AppFolder { .. }
            | SubmissionState { .. }
            | BadSetting { .. } => exit::USAGE,
            DockerUnreachable { .. }
            | Docker { .. }
            | PortTaken { .. }
            | ProxyPortTaken { .. }
            | ImageBuild { .. }
            | MissingTool { .. }
            | BootTimeout { .. }
            | ContainerGone { .. }
            | Probe { .. }
            | SolutionFailed { .. }
            | Background { .. }
            | NoGateway { .. }
            | Program { .. }
            | Json { .. }
            | Tls { .. }
            | SshKey { .. }
            | Http { .. }
            | Platform { .. }
            | Capture { .. }
            | Io { .. } => exit::ENVIRONMENT,
            Interrupted => exit::INTERRUPTED,
        }
    }

    /// What to do about it, one line (shown below the error; `grade` and
    /// JSON outputs carry it beside the error).
    pub(crate) fn hint(&self) -> Option<String> {
        use Error::*;
        Some(match self {
            UnknownLab { .. } => "`deploylab labs` lists the labs.".to_string(),
            NothingRunning => {
                "Start one with `deploylab start <lab>` (`deploylab labs` lists them).".to_string()
            }
            LabNotRunning { lab } => format!("Start it with `deploylab start {lab}`."),
            DockerUnreachable { .. } => {
                "Is Docker running? `deploylab doctor` checks the setup.".to_string()
            }
            PortTaken { .. } => {
                "Free it, or leave out the port option to let deploylab pick a free one."
                    .to_string()
            }
            ProxyPortTaken { .. } => {
                "Stop the program holding it (`ss -ltnp` names it), or the container lab running in another deploylab home (`deploylab stop container` there).".to_string()
            }
            MissingTool { fix, .. } => (*fix).to_string(),
            BootTimeout { .. } => {
                "Its container was removed. `deploylab doctor` checks the setup.".to_string()
            }
            ContainerGone { lab } => format!("Run `deploylab start {lab}` for a new one."),
            _ => return None,
        })
    }

    /// A program deploylab ran that exited unsuccessfully.
    pub(crate) fn program(
        context: impl Into<String>,
        program: &'static str,
        output: &std::process::Output,
    ) -> Error {
        Error::Program {
            context: context.into(),
            program,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub(crate) fn docker(
        action: impl Into<String>,
    ) -> impl FnOnce(bollard::errors::Error) -> Error {
        let action = action.into();
        move |source| Error::Docker { action, source }
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// One line for a bollard error: the engine's own message when it sent one.
pub(crate) fn describe_docker(error: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    match error {
        E::DockerResponseServerError {
            status_code,
            message,
        } => {
            let message = message.trim();
            // Something else answered (a web server): not its whole page.
            if message.starts_with('<') {
                return format!(
                    "HTTP {status_code} with a web page: this is not a Docker engine's API"
                );
            }
            let first = message.lines().next().unwrap_or_default();
            first.chars().take(300).collect()
        }
        E::DockerStreamError { error } => error.trim().to_string(),
        other => {
            // hyper's errors hide the useful cause (e.g. "No such file or
            // directory") a level or two down.
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !text.contains(&cause_text) {
                    text = format!("{text}: {cause_text}");
                }
                source = cause.source();
            }
            text
        }
    }
}

/// What the fake-platform kit reports, as deploylab's own errors (the
/// same exit codes and messages as before the kit was a crate).
impl From<fakekit::Error> for Error {
    fn from(error: fakekit::Error) -> Error {
        match error {
            fakekit::Error::Io { context, source } => Error::Io { context, source },
            fakekit::Error::Tls { source } => Error::Tls { source },
        }
    }
}
