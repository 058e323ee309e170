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
    #[error("{}", tr!("error-unknown-lab", name = name, suggestion = suggestion))]
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

    #[error("{}", tr!("error-labs-dir", dir = dir.display(), source = source))]
    LabsDir {
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error("{}", tr!("error-po-needs-language"))]
    PoNeedsLanguage,

    #[error("{}", tr!("error-book", why = why))]
    Book { why: String },

    #[error("{}", tr!("error-nothing-running"))]
    NothingRunning,

    #[error("{}", tr!("error-which-lab", running = running))]
    WhichLab { running: String },

    #[error("{}", tr!("error-lab-not-running", lab = lab))]
    LabNotRunning { lab: String },

    #[error("{}", tr!("error-unknown-stage", stage = stage, lab = lab, known = known))]
    UnknownStage {
        lab: String,
        stage: String,
        known: String,
    },

    #[error("{}", tr!("error-unknown-machine", lab = lab, machine = machine, known = known))]
    UnknownMachine {
        lab: String,
        machine: String,
        known: String,
    },

    #[error("{}", tr!("error-same-port", port = port))]
    SamePort { port: u16 },

    #[error("{}", tr!("error-repo-needs-fresh", lab = lab, serving = serving, wanted = wanted))]
    RepoNeedsFresh {
        lab: String,
        serving: String,
        wanted: String,
    },

    #[error("--repo {repo}: {why}")]
    BadRepo { repo: String, why: String },

    #[error("{}", tr!("error-not-for-this-lab", command = command, lab = lab, why = why))]
    NotForThisLab {
        command: &'static str,
        lab: String,
        why: String,
    },

    #[error("{}: {why}", path.display())]
    BadSubmission { path: PathBuf, why: String },

    #[error("{}: {why}", path.display())]
    AppFolder { path: PathBuf, why: String },

    #[error("{}", tr!("error-no-such-app", app = app, known = known))]
    NoSuchApp { app: String, known: String },

    #[error("{}", tr!("error-submission-state", why = why))]
    SubmissionState { why: String },

    // --- environment -----------------------------------------------------
    #[error("{}", tr!("error-capture", why = why))]
    Capture { why: String },

    #[error("{name}={value}: {why}")]
    BadSetting {
        name: &'static str,
        value: String,
        why: &'static str,
    },

    #[error("{}", tr!("error-docker-unreachable", host = host, detail = detail))]
    DockerUnreachable { host: String, detail: String },

    #[error("Docker: {action}: {}", describe_docker(source))]
    Docker {
        action: String,
        source: bollard::errors::Error,
    },

    #[error("{}", tr!("error-no-gateway", network = network))]
    NoGateway { network: String },

    #[error("{}", tr!("error-port-taken", port = port))]
    PortTaken { port: u16 },

    #[error("{}", tr!("error-proxy-port-taken", port = port, address = address))]
    ProxyPortTaken { address: String, port: u16 },

    #[error("{}", tr!("error-image-build", image = image, detail = detail))]
    ImageBuild { image: String, detail: String },

    #[error("{}", tr!("error-missing-tool", tool = tool, purpose = purpose))]
    MissingTool {
        tool: &'static str,
        purpose: &'static str,
        fix: String,
    },

    #[error("{}", tr!("error-boot-timeout", lab = lab, seconds = seconds, detail = detail))]
    BootTimeout {
        lab: String,
        seconds: u64,
        detail: String,
    },

    #[error("{}", tr!("error-container-gone", lab = lab))]
    ContainerGone { lab: String },

    #[error("{}", tr!("error-solution-failed", stage = stage, code = code, tail = tail))]
    SolutionFailed {
        stage: String,
        code: i32,
        tail: String,
    },

    #[error("{}", tr!("error-probe", detail = detail))]
    Probe { detail: String },

    #[error("{}", tr!("error-background", what = what, status = status, log = log))]
    Background {
        what: String,
        status: String,
        log: String,
        /// It exited with `background::PORT_TAKEN`.
        port_taken: bool,
    },

    #[error("{}", tr!("error-program", context = context, program = program, status = status, stderr = stderr))]
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

    #[error("{}", tr!("error-tls", source = source))]
    Tls {
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("{}", tr!("error-ssh-key", path = path.display(), source = source))]
    SshKey {
        path: PathBuf,
        source: ssh_key::Error,
    },

    #[error("{}", tr!("error-http", source = source))]
    Http { source: hyper::http::Error },

    /// The fake platform refuses, in Heroku's words.
    #[error("{message}")]
    Platform { message: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    #[error("{}", tr!("error-interrupted"))]
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
            UnknownLab { .. } => tr!("hint-unknown-lab"),
            NothingRunning => tr!("hint-nothing-running"),
            LabNotRunning { lab } => tr!("hint-lab-not-running", lab = lab),
            DockerUnreachable { .. } => tr!("hint-docker-unreachable"),
            PortTaken { .. } => tr!("hint-port-taken"),
            ProxyPortTaken { .. } => tr!("hint-proxy-port-taken"),
            MissingTool { fix, .. } => fix.clone(),
            BootTimeout { .. } => tr!("hint-boot-timeout"),
            ContainerGone { lab } => tr!("hint-container-gone", lab = lab),
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
                return tr!("error-not-docker", status = status_code);
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
