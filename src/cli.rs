//! The command line. Each command's `--help` should be enough to learn it.

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};

pub(crate) use crate::grading::GradeFormat;

const AFTER_HELP: &str = "\
Exit codes: 0 ok (all checks pass) · 1 some check fails · 2 usage or input error \
· 3 environment problem (Docker, images, ports) · 130 interrupted.
Environment: DOCKER_HOST (engine), DEPLOYLAB_HOME (state, SSH key), \
DEPLOYLAB_CACHE (image build cache), DEPLOYLAB_LABS (load labs from a folder), \
DEPLOYLAB_LANG (en, pt-BR).";

#[derive(Debug, Parser)]
#[command(
    name = "deploylab",
    version,
    about = "Disposable practice environments for the Python deploy course, with checks that teach.",
    long_about = "deploylab gives you a fresh Debian 12 \"VM\" (a container with systemd and sshd) \
in about a second, checks your work stage by stage, and removes everything when you are done.\n\n\
Typical session:\n  deploylab start vm-nginx\n  deploylab ssh        (work as the course says)\n  \
deploylab check\n  deploylab stop",
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,

    /// Print less: no progress, no tips.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,

    /// The language of what deploylab prints (default: the locale, from
    /// LC_ALL, LC_MESSAGES or LANG; `pt_BR…` is Portuguese). Machine
    /// outputs (JSON keys, ids, exit codes) are the same in every language.
    #[arg(long, global = true, env = "DEPLOYLAB_LANG", value_name = "LANG")]
    pub(crate) lang: Option<crate::i18n::Lang>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the labs.
    Labs {
        /// Print this lab's translation catalog (gettext `.po`) for the
        /// language of `--lang`, with the translations its `<lang>.po`
        /// already has: save it beside its lab.yaml and fill in the rest.
        #[arg(long, value_name = "LAB", add = ArgValueCompleter::new(lab_ids))]
        po: Option<String>,
    },

    /// Start a lab's environment (builds its image on first use) and print how to connect.
    ///
    /// Running `start` again for a running lab only prints the connection details again.
    Start {
        /// The lab id, e.g. vm-nginx (see `deploylab labs`).
        #[arg(add = ArgValueCompleter::new(lab_ids))]
        lab: String,
        /// Throw away the lab's current VM and start from a clean one.
        #[arg(long)]
        fresh: bool,
        /// Publish the VM's SSH on this port of 127.0.0.1 (default: a free port).
        #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
        ssh_port: Option<u16>,
        /// Publish the VM's port 80 on this port of 127.0.0.1 (default: a free port).
        #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
        http_port: Option<u16>,
        /// Serve this git repository (a URL or a local path) from the lab's
        /// git server too, under its own name: deploy the course's
        /// repository or your own project instead of the lab's sample.
        #[arg(long, value_name = "GIT URL OR PATH")]
        repo: Option<String>,
        /// The app folder the container lab checks (default: the current
        /// folder): where your Dockerfile and Compose file are.
        #[arg(long, value_name = "PATH")]
        dir: Option<std::path::PathBuf>,
        /// The k8s lab's cluster: `builtin` (deploylab's own, offline) or
        /// `kind` (default: builtin).
        #[arg(long, value_name = "BACKEND", value_parser = ["builtin", "kind"])]
        backend: Option<String>,
        /// Neither claim nor keep a spare VM booted ahead for the next start
        /// (for a machine short of memory; `spare: false` in the home's
        /// config.yaml, or DEPLOYLAB_SPARE=off, for always).
        #[arg(long)]
        no_spare: bool,
    },

    /// Show the running labs, their state and ports.
    Status,

    /// Check your work: a table of stages with ✓/✗, and a hint for the first thing to fix.
    ///
    /// Exit code 0 when every check passes, 1 when some fail.
    Check {
        #[command(flatten)]
        target: LabArg,
        /// Show only this stage (all are still evaluated, for "blocked").
        #[arg(long, value_name = "STAGE", add = ArgValueCompleter::new(stage_ids))]
        stage: Option<String>,
        /// Output format: a table for people, JSON (schema in the README) or JUnit XML for tools.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// The heroku lab: judge this app (default: the one pushed to last).
        #[arg(long, value_name = "NAME")]
        app: Option<String>,
    },

    /// Show the hint for the first check that fails.
    Hint {
        #[command(flatten)]
        target: LabArg,
        /// The heroku lab: about this app (default: the one pushed to last).
        #[arg(long, value_name = "NAME")]
        app: Option<String>,
        /// A deeper hint, one step closer to the answer.
        #[arg(long)]
        more: bool,
    },

    /// Apply the reference solution up to and including a stage (to skip ahead).
    ///
    /// Each stage's script runs over SSH as the student, as typed in the course.
    Solve {
        #[command(flatten)]
        target: LabArg,
        /// The last stage to solve (see `deploylab check` for their ids).
        #[arg(add = ArgValueCompleter::new(stage_ids))]
        stage: String,
    },

    /// Open an SSH session in the lab's VM with your system's ssh client.
    ///
    /// Anything after `--` is run as a remote command: `deploylab ssh -- sudo apt-get update`.
    Ssh {
        #[command(flatten)]
        target: LabArg,
        #[command(flatten)]
        on: MachineArg,
        /// A command to run instead of an interactive shell.
        #[arg(last = true)]
        command: Vec<String>,
    },

    /// Open a shell in the VM as the student user, without SSH (through Docker).
    Shell {
        #[command(flatten)]
        target: LabArg,
        #[command(flatten)]
        on: MachineArg,
    },

    /// Reboot the lab's VM (systemd shuts down and boots again; files are kept).
    Restart {
        #[command(flatten)]
        target: LabArg,
        /// Reboot only this machine (default: every machine of the lab).
        #[arg(long, short = 'm', value_name = "NAME", add = ArgValueCompleter::new(machine_names))]
        machine: Option<String>,
    },

    /// Stop a lab and remove its container. Nothing labelled by deploylab is left.
    Stop {
        /// The lab to stop (default: the only one running).
        #[arg(add = ArgValueCompleter::new(running_lab_ids))]
        lab: Option<String>,
        /// Stop every lab of this deploylab home.
        #[arg(long, conflicts_with = "lab")]
        all: bool,
    },

    /// Save your work in the lab as one file to hand in (commit it to your
    /// assignment repository).
    ///
    /// For a VM lab: what you changed in the VM (files, packages, services);
    /// your instructor's `deploylab grade` restores it in a fresh VM and
    /// checks it there.
    Submit {
        #[command(flatten)]
        target: LabArg,
        /// Where to write it (default: deploylab-<lab>.submission here).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },

    /// Grade submissions: each one restored in a fresh environment of the
    /// lab, checked there, and removed.
    ///
    /// A submission is a file made by `deploylab submit`, or a folder (an
    /// assignment repository) holding one. Exit codes: 0 every submission
    /// graded · 1 some below --fail-under · 2 a submission or the command
    /// line is bad · 3 environment problem.
    #[command(after_help = GRADE_AFTER_HELP)]
    Grade(GradeArgs),

    /// Prove a lab's checks: a fresh environment passes only what needs no
    /// work, the reference solution up to each stage passes exactly the
    /// stages up to it, and its submission, graded, earns every point.
    Selftest {
        /// The lab (default: every lab).
        #[arg(add = ArgValueCompleter::new(lab_ids))]
        lab: Option<String>,
    },

    /// Check that this machine can run the labs, with a fix for each problem.
    Doctor,

    /// Print the shell completion script: e.g. `source <(deploylab
    /// completions bash)` in ~/.bashrc. Lab, stage and machine names are
    /// completed from the labs and the running lab.
    Completions {
        /// The shell.
        shell: CompletionShell,
    },

    /// Print deploylab's man page (roff): `deploylab man > deploylab.1`.
    Man,

    /// The course book's generated pages: an mdbook preprocessor that turns
    /// `{{#deploylab lab <id>}}`, `check-kinds` and `cli` into pages made
    /// from the labs and from deploylab itself (`mdbook/<lang>/book.toml`
    /// runs it; `scripts/book.sh` builds the book in every language).
    Book {
        #[command(subcommand)]
        command: BookCommand,
    },

    /// Build, list or prune deploylab's images.
    Images {
        #[command(subcommand)]
        action: ImagesAction,
    },

    /// The package proxy a lab's VM installs Python packages from (started by `start`).
    #[command(hide = true)]
    PackageProxy(crate::packages::ProxyArgs),

    /// Boots a lab's spare VM for its next start (launched in the background by `start` and `stop`).
    #[command(hide = true)]
    Spare { lab: String },

    /// Commands of one kind of environment (`deploylab heroku env`).
    #[command(flatten)]
    Environment(crate::environment::EnvCommand),
}

#[derive(Debug, clap::Args)]
pub(crate) struct LabArg {
    /// The lab (default: the only one running).
    #[arg(long, value_name = "LAB", add = ArgValueCompleter::new(running_lab_ids))]
    pub(crate) lab: Option<String>,
}

/// Which machine of a lab with several (`machines:` in lab.yaml).
#[derive(Debug, clap::Args)]
pub(crate) struct MachineArg {
    /// The machine (default: the lab's first).
    #[arg(long, short = 'm', value_name = "NAME", add = ArgValueCompleter::new(machine_names))]
    pub(crate) machine: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImagesAction {
    /// Build the images the labs need (no-op when they are up to date).
    Build,
    /// List the images deploylab built.
    List,
    /// Remove images and caches of older recipes.
    Prune {
        /// Also empty the Python packages the package proxy keeps for every
        /// lab (fetched again when a lab asks, while the host is online).
        #[arg(long)]
        packages: bool,
    },
}

const GRADE_AFTER_HELP: &str = "\
Examples:
  deploylab grade vm-nginx submissions/*/
  deploylab grade vm-nginx repos/* --jobs 4 --out csv=grades.csv --out markdown=summary.md
  deploylab grade vm-nginx repos/* --shard 2/4 --out json=results-2.json   (one CI runner)
  deploylab grade --merge results-*.json --out csv=grades.csv            (after all shards)";

#[derive(Debug, clap::Args)]
pub(crate) struct GradeArgs {
    /// The lab the submissions are for.
    #[arg(required_unless_present = "merge", add = ArgValueCompleter::new(lab_ids))]
    pub(crate) lab: Option<String>,

    /// Submission files, or folders holding one.
    #[arg(required_unless_present = "merge")]
    pub(crate) submissions: Vec<std::path::PathBuf>,

    /// Combine the JSON results of several runs (the shards of a CI matrix)
    /// instead of grading.
    #[arg(long, value_name = "RESULTS.json", num_args = 1.., conflicts_with_all = ["lab", "submissions", "jobs", "shard", "evidence"])]
    pub(crate) merge: Vec<std::path::PathBuf>,

    /// Submissions graded side by side (default: what this machine holds,
    /// from its cores and memory).
    #[arg(long, short = 'j', value_name = "N")]
    pub(crate) jobs: Option<std::num::NonZeroUsize>,

    /// Grade only slice K of N (1-based), the same on every runner: a CI
    /// matrix grades a class on N machines.
    #[arg(long, value_name = "K/N", value_parser = crate::grading::parse_shard)]
    pub(crate) shard: Option<(usize, usize)>,

    /// Wall-clock limit per submission (restore, boot, checks), e.g. 300s, 5m.
    #[arg(long, value_name = "TIME", default_value = "5m", value_parser = crate::grading::parse_duration)]
    pub(crate) timeout: std::time::Duration,

    /// What a graded VM may write to disk, e.g. 4G, 500M.
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = crate::grading::parse_size)]
    pub(crate) disk_limit: u64,

    /// How the results are printed.
    #[arg(long, value_enum, default_value_t = GradeFormat::Table)]
    pub(crate) format: GradeFormat,

    /// Also write the results in a format to a file: `--out csv=grades.csv`
    /// (repeatable).
    #[arg(long, value_name = "FORMAT=FILE", value_parser = crate::grading::parse_out)]
    pub(crate) out: Vec<(GradeFormat, std::path::PathBuf)>,

    /// Exit 1 when a submission earns fewer points than this.
    #[arg(long, value_name = "POINTS")]
    pub(crate) fail_under: Option<u32>,

    /// Keep, per submission, what a disputed grade needs: the report, the
    /// facts the checks saw, the submission's manifest and hash.
    #[arg(long, value_name = "DIR")]
    pub(crate) evidence: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Junit,
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks of the whole command line (argument
    /// order, conflicts), which otherwise only run when a command is used.
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

/// The shells `deploylab completions` writes a script for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

impl CompletionShell {
    /// Its name for clap_complete.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CompletionShell::Bash => "bash",
            CompletionShell::Zsh => "zsh",
            CompletionShell::Fish => "fish",
            CompletionShell::Powershell => "powershell",
            CompletionShell::Elvish => "elvish",
        }
    }
}

/// The environment variable that asks deploylab for completions (the
/// completion scripts set it; `run` answers before anything else).
pub(crate) const COMPLETE_VAR: &str = "DEPLOYLAB_COMPLETE";

// Completers: what a shell offers for lab, stage and machine names. They
// run in the completion request, so they never fail: nothing to offer is
// an empty list.

/// The catalog's lab ids starting with `current`.
fn lab_ids(current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
    let labs = crate::catalog::Catalog::from_env()
        .all()
        .unwrap_or_default();
    offer(
        current,
        labs.iter().map(|l| (l.id.clone(), l.title.clone())),
    )
}

/// The labs running in this home.
fn running_labs() -> Vec<crate::lab::Lab> {
    let Ok(home) = crate::state::Home::from_env() else {
        return Vec::new();
    };
    let state: crate::state::State<serde_json::Value> = home.load().unwrap_or_default();
    let labs = crate::catalog::Catalog::from_env()
        .all()
        .unwrap_or_default();
    labs.into_iter()
        .filter(|lab| state.labs.contains_key(&lab.id))
        .collect()
}

fn running_lab_ids(current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
    let labs = running_labs();
    offer(
        current,
        labs.iter().map(|l| (l.id.clone(), l.title.clone())),
    )
}

/// The stage ids of the running labs.
fn stage_ids(current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
    let labs = running_labs();
    let stages = labs
        .iter()
        .flat_map(|l| l.stages.iter().map(|s| (s.id.clone(), s.title.clone())));
    offer(current, stages)
}

/// The machine names of the running labs.
fn machine_names(current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
    let labs = running_labs();
    let machines = labs
        .iter()
        .flat_map(|l| l.machines().into_iter().map(|m| (m, l.id.clone())));
    offer(current, machines)
}

/// The (name, help) pairs whose name starts with `current`, once each.
fn offer(
    current: &std::ffi::OsStr,
    all: impl Iterator<Item = (String, String)>,
) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let mut seen = Vec::new();
    all.filter(|(name, _)| name.starts_with(current.as_ref()))
        .filter(|(name, _)| {
            let new = !seen.contains(name);
            seen.push(name.clone());
            new
        })
        .map(|(name, help)| CompletionCandidate::new(name).help(Some(help.into())))
        .collect()
}

#[derive(Debug, Subcommand)]
pub(crate) enum BookCommand {
    /// mdbook's preprocessor protocol: `[context, book]` as JSON on standard
    /// input, the book with its pages rendered on standard output.
    Preprocess {
        #[command(subcommand)]
        supports: Option<Supports>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum Supports {
    /// mdbook's question whether a renderer is supported (every one is).
    Supports { renderer: String },
}

/// The command line's help in the run's language. clap's definitions (the
/// doc comments above) are the English; another language's texts are in
/// `locales/<lang>/cli.ftl`, keyed by the command's path and the argument's
/// id (`cli-start-ssh_port`, `cli-start-about`). `--help`, the man page and
/// the book's command reference all come from here.
pub(crate) fn command() -> clap::Command {
    let command = <Cli as clap::CommandFactory>::command();
    match crate::i18n::current() {
        crate::i18n::Lang::En => command,
        lang => localise(command, "cli", lang),
    }
}

fn localise(mut command: clap::Command, path: &str, lang: crate::i18n::Lang) -> clap::Command {
    let text = |key: &str| crate::i18n::cli_text(lang, key);
    if let Some(about) = text(&format!("{path}-about")) {
        let short = first_paragraph(&about);
        command = command.about(short).long_about(about);
    }
    if let Some(after) = text(&format!("{path}-after")) {
        command = command.after_help(after);
    }
    let ids: Vec<String> = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        if let Some(help) = text(&format!("{path}-{id}")) {
            let short = first_paragraph(&help);
            command = command.mut_arg(&id, |a| a.help(short).long_help(help));
        }
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = format!("{path}-{name}");
        command = command.mut_subcommand(&name, |c| localise(c, &sub_path, lang));
    }
    command
}

/// What `-h` shows of a text `--help` shows whole.
fn first_paragraph(text: &str) -> String {
    text.split("\n\n").next().unwrap_or(text).to_string()
}

/// Every help text of the command line in English, by key (for the test
/// that every one is translated).
#[cfg(test)]
pub(crate) fn english_help() -> Vec<(String, String)> {
    fn walk(command: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        let about = command.get_long_about().or(command.get_about());
        if let Some(about) = about {
            out.push((format!("{path}-about"), about.to_string()));
        }
        if let Some(after) = command.get_after_help() {
            out.push((format!("{path}-after"), after.to_string()));
        }
        for arg in command.get_arguments() {
            if arg.is_hide_set() || (arg.is_global_set() && path != "cli") {
                continue;
            }
            if let Some(help) = arg.get_long_help().or(arg.get_help()) {
                out.push((format!("{path}-{}", arg.get_id()), help.to_string()));
            }
        }
        // deploylab's own background processes are not for people.
        for sub in command.get_subcommands().filter(|c| !c.is_hide_set()) {
            walk(sub, &format!("{path}-{}", sub.get_name()), out);
        }
    }
    let mut out = Vec::new();
    walk(&<Cli as clap::CommandFactory>::command(), "cli", &mut out);
    out
}

#[cfg(test)]
mod help_tests {
    use crate::i18n::Lang;

    #[test]
    fn every_help_text_is_translated() {
        let keys: Vec<String> = super::english_help().into_iter().map(|(k, _)| k).collect();
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
            let missing: Vec<&String> = keys
                .iter()
                .filter(|k| crate::i18n::cli_text(lang, k).is_none())
                .collect();
            assert!(
                missing.is_empty(),
                "{}: cli.ftl lacks {missing:?}",
                lang.tag()
            );
            let stale: Vec<String> = crate::i18n::cli_keys(lang)
                .into_iter()
                .filter(|k| !keys.contains(k))
                .collect();
            assert!(
                stale.is_empty(),
                "{}: cli.ftl translates no help: {stale:?}",
                lang.tag()
            );
        }
    }
}
