//! Grading: each submission restored into a fresh environment of its lab,
//! checked there with the lab's own checks, and removed. Nothing the
//! submission says about itself is believed; its points come from the
//! checks run on what it restores.
//!
//! Each graded environment lives in a scratch deploylab home of its own
//! (its own labels, ports, key and state), so submissions graded side by
//! side never see each other, and whatever happens (a timeout, a crash of
//! the grade) everything labelled for that home is removed.

mod board;
pub(crate) mod results;

pub(crate) use board::Board;
pub(crate) use results::GradeFormat;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::Docker;

use crate::catalog::Catalog;
use crate::docker;
use crate::environment::{LoadedLab, Running};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::seam::{Captured, Ctx, GradeLimits};
use crate::state::Home;
use crate::submission::{self, Submission};
use results::{ErrorKind, Graded, Timings};

/// Messages, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn wrong_lab(found: &str, wanted: &str) -> String {
        tr!("grade-wrong-lab", found = found, wanted = wanted)
    }

    pub(super) fn other_recipe(found: &str, here: &str) -> String {
        tr!("grade-other-recipe", found = found, here = here)
    }

    pub(super) fn timed_out(limit: std::time::Duration, over: Option<&str>) -> String {
        let seconds = limit.as_secs();
        match over {
            Some(why) => format!("did not finish within {seconds} s; {why}: 0 points"),
            None => {
                format!("did not finish within {seconds} s (restore, boot and checks): 0 points")
            }
        }
    }

    pub(super) fn withheld(why: &str) -> String {
        tr!("grade-withheld", why = why)
    }
}

/// What each graded environment may take and how long it may run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) timeout: Duration,
    pub(crate) limits: GradeLimits,
}

/// One phase of a submission's grading, for the live view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Queued,
    Starting,
    Restoring,
    Checking,
    Done,
}

impl Phase {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Starting => "starting a fresh environment",
            Phase::Restoring => "restoring and booting",
            Phase::Checking => "checking",
            Phase::Done => "done",
        }
    }
}

/// How an instructor names a submission: the folder given (a student's
/// repository), the folder of a file with the default name, else the file.
pub(crate) fn submission_id(given: &Path) -> String {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    if given.is_dir() {
        let canonical = given.canonicalize().unwrap_or_else(|_| given.to_path_buf());
        return name(&canonical);
    }
    let file = name(given);
    if file.starts_with("deploylab-") && file.ends_with(".submission") {
        let parent = given
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        if let Ok(parent) = parent.canonicalize() {
            return name(&parent);
        }
    }
    file.trim_end_matches(".submission").to_string()
}

/// The slice `--shard K/N` grades: the K-th of every N submissions, in the
/// order of their paths, so every runner of a matrix computes the same
/// slices whatever order its shell listed them in.
pub(crate) fn shard(mut paths: Vec<PathBuf>, shard: Option<(usize, usize)>) -> Vec<PathBuf> {
    paths.sort();
    paths.dedup();
    match shard {
        Some((k, n)) => paths
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k - 1)
            .map(|(_, p)| p)
            .collect(),
        None => paths,
    }
}

/// How many submissions this machine grades side by side by default: one
/// per core, and no more than its memory holds (a VM may take 2 GiB).
pub(crate) fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let available_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(4, |kib| kib / (1024 * 1024));
    let by_memory = usize::try_from(available_gib / 2).unwrap_or(1);
    cores.min(by_memory).max(1)
}

/// A scratch home for one graded environment, inside the grader's home
/// (`grading/<pid>-<n>`: what it labels is found from the grader's process
/// and order): its folder goes when dropped, what it started with `remove`.
pub(crate) struct Scratch {
    pub(crate) home: Home,
    /// What started, kept where the cleanup finds it even when the
    /// grading is cut off by its timeout.
    running: Mutex<Option<Running>>,
}

impl Scratch {
    pub(crate) fn new(grader: &Home) -> Result<Scratch> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = grader
            .dir
            .join("grading")
            .join(format!("{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        Ok(Scratch {
            home: Home {
                dir: dir.canonicalize().unwrap_or(dir),
                cache: grader.cache.clone(),
            },
            running: Mutex::new(None),
        })
    }

    pub(crate) fn running(&self) -> Option<Running> {
        self.running.lock().expect("not poisoned").clone()
    }

    /// Keeps what started for the cleanup, and writes the scratch home's
    /// state file as `start` would: deploylab's own commands run inside a
    /// practice or a grade (the vm-ansible lab's `deploylab
    /// ansible-playbook`) find the lab there.
    pub(crate) fn keep(&self, lab: &str, running: Running) {
        let mut state = crate::environment::State::default();
        state.labs.insert(lab.to_string(), running.clone());
        if let Err(e) = self.home.save(&state) {
            tracing::warn!("scratch state not written: {e}");
        }
        *self.running.lock().expect("not poisoned") = Some(running);
    }

    /// Everything this scratch home started and labelled goes, whatever
    /// happened to it.
    pub(crate) async fn remove(&self, docker: &Docker, loaded: &LoadedLab) {
        let running = self.running.lock().expect("not poisoned").take();
        if let Some(running) = &running {
            running.stop(&self.home);
        }
        let _ = docker::remove_lab_resources(docker, &self.home.instance(), &loaded.lab.id).await;
        // After its containers: an image still in use would only lose its name.
        if let Some(running) = &running {
            running.discard_practice(docker).await;
        }
        let _ = docker::remove_lab_volumes(docker, &self.home.instance(), &loaded.lab.id).await;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home.dir);
    }
}

/// What grades submissions of one lab: the lab, the engine, the grader's
/// own home (scratch homes go inside it) and the budget of each.
pub(crate) struct Grader<'a> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) loaded: &'a LoadedLab,
    pub(crate) docker: &'a Docker,
    pub(crate) home: &'a Home,
    pub(crate) budget: Budget,
}

/// Grades one submission. Never fails: what goes wrong is the grade's
/// `error` (with its kind), and everything started is removed.
pub(crate) async fn grade_one(
    grader: &Grader<'_>,
    given: &Path,
    phase: &(dyn Fn(Phase) + Sync),
) -> Graded {
    let Grader {
        loaded,
        docker,
        budget,
        ..
    } = *grader;
    let started = Instant::now();
    let max_points = loaded.lab.max_points();
    let mut graded = Graded {
        id: submission_id(given),
        path: given.display().to_string(),
        sha256: None,
        points: 0,
        max_points,
        report: None,
        error: None,
        error_kind: None,
        notes: Vec::new(),
        self_reported_points: None,
        timings: Timings::default(),
    };
    let submission = match read_for(loaded, given) {
        Ok(s) => s,
        Err(e) => {
            graded.error = Some(e.to_string());
            graded.error_kind = Some(ErrorKind::Submission);
            return graded;
        }
    };
    graded.sha256 = Some(submission.sha256.clone());
    graded.self_reported_points = submission
        .manifest
        .self_check
        .as_ref()
        .and_then(|c| c.get("points")?.as_u64())
        .and_then(|p| u32::try_from(p).ok());
    let scratch = match Scratch::new(grader.home) {
        Ok(s) => s,
        Err(e) => {
            graded.error = Some(e.to_string());
            graded.error_kind = Some(ErrorKind::Environment);
            return graded;
        }
    };
    let work = grade_in(grader, &scratch, &submission, &mut graded, phase);
    let outcome = tokio::time::timeout(budget.timeout, work).await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err((kind, why))) => {
            graded.error = Some(why);
            graded.error_kind = Some(kind);
        }
        Err(_) => {
            // What the VM was doing then, if it outgrew a limit (a fork
            // bomb keeps everything else waiting).
            let running = scratch.running();
            let over = match &running {
                Some(r) => {
                    let asked = loaded.over_limits(&scratch.home, docker, r, &budget.limits);
                    tokio::time::timeout(Duration::from_secs(20), asked)
                        .await
                        .ok()
                        .flatten()
                }
                None => None,
            };
            graded.error = Some(text::timed_out(budget.timeout, over.as_deref()));
            graded.error_kind = Some(ErrorKind::Limits);
        }
    }
    if graded.error.is_some() {
        graded.points = 0;
    }
    scratch.remove(docker, loaded).await;
    graded.timings.total_ms = millis(started);
    phase(Phase::Done);
    graded
}

/// The submission, read, verified and matched to the lab.
fn read_for(loaded: &LoadedLab, given: &Path) -> Result<Submission> {
    let submission = submission::read(given)?;
    let bad = |why: String| Error::BadSubmission {
        path: submission.path.clone(),
        why,
    };
    if submission.manifest.lab != loaded.lab.id {
        return Err(bad(text::wrong_lab(
            &submission.manifest.lab,
            &loaded.lab.id,
        )));
    }
    Ok(submission)
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Start, restore, check; the grade's fields filled as it goes.
async fn grade_in(
    grader: &Grader<'_>,
    scratch: &Scratch,
    submission: &Submission,
    graded: &mut Graded,
    phase: &(dyn Fn(Phase) + Sync),
) -> std::result::Result<(), (ErrorKind, String)> {
    let Grader {
        catalog,
        loaded,
        docker,
        budget,
        ..
    } = *grader;
    let environment = |e: Error| (ErrorKind::Environment, e.to_string());
    let progress = Progress::new(true);
    let ctx = Ctx {
        home: &scratch.home,
        catalog,
        progress: &progress,
        subject: None,
    };
    phase(Phase::Starting);
    let t = Instant::now();
    // Another recipe is found out before anything starts.
    let here = loaded
        .current_recipe(&ctx, docker)
        .await
        .map_err(environment)?;
    if submission.manifest.recipe != here {
        let why = text::other_recipe(&submission.manifest.recipe, &here);
        return Err((ErrorKind::Submission, why));
    }
    let work = Captured {
        state: submission.state.clone(),
        files: submission.files.clone(),
    };
    let options = loaded
        .grading_start(&ctx, docker, &work)
        .await
        .map_err(|e| match e {
            Error::SubmissionState { .. } => (ErrorKind::Submission, e.to_string()),
            e => environment(e),
        })?;
    let running = loaded
        .start(&ctx, docker, None, options)
        .await
        .map_err(environment)?;
    scratch.keep(&loaded.lab.id, running.clone());
    graded.timings.start_ms = millis(t);
    let here = running.recipe();
    if submission.manifest.recipe != here
        || submission.manifest.environment != running.kind().name()
    {
        let why = text::other_recipe(&submission.manifest.recipe, &here);
        return Err((ErrorKind::Submission, why));
    }
    // Nothing is created from here on: Ctrl-C may drop the rest at once
    // (the start above stops at its own safe points).
    let rest = async {
        phase(Phase::Restoring);
        let t = Instant::now();
        graded.notes = loaded
            .restore(&ctx, docker, &running, &work)
            .await
            .map_err(|e| match e {
                Error::SubmissionState { .. } => (ErrorKind::Submission, e.to_string()),
                // The work itself failed to come up (a VM that never boots):
                // the submission's doing, graded 0 with the reason.
                Error::BootTimeout { .. } | Error::ContainerGone { .. } => {
                    (ErrorKind::Limits, e.to_string())
                }
                e => environment(e),
            })?;
        graded.timings.restore_ms = millis(t);
        phase(Phase::Checking);
        let t = Instant::now();
        // The engine measures the disk in seconds: beside the checks.
        let (report, over) = tokio::join!(
            loaded.check(&ctx, docker, &running),
            loaded.over_limits(&scratch.home, docker, &running, &budget.limits)
        );
        graded.timings.check_ms = millis(t);
        // Outgrown limits explain checks that could not even run.
        let withheld = over.map(|why| (ErrorKind::Limits, text::withheld(&why)));
        match (report, withheld) {
            (Ok(report), withheld) => {
                graded.points = report.points;
                graded.report = Some(report);
                withheld.map_or(Ok(()), Err)
            }
            (Err(_), Some(withheld)) => Err(withheld),
            (Err(e), None) => Err(environment(e)),
        }
    };
    tokio::select! {
        done = rest => done,
        () = crate::interrupt::requested() => {
            Err((ErrorKind::Environment, Error::Interrupted.to_string()))
        }
    }
}

/// `--shard K/N`.
pub(crate) fn parse_shard(text: &str) -> std::result::Result<(usize, usize), String> {
    let bad = || format!("'{text}' is not K/N with 1 ≤ K ≤ N (e.g. 2/4)");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    match (1..=n).contains(&k) {
        true => Ok((k, n)),
        false => Err(bad()),
    }
}

/// `--timeout`: `90`, `90s`, `5m`, `1h`.
pub(crate) fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("'{text}' is not a duration (e.g. 90s, 5m)");
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "" | "s" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        _ => return Err(bad()),
    };
    match seconds {
        0 => Err(bad()),
        s => Ok(Duration::from_secs(s)),
    }
}

/// `--disk-limit`: bytes, or with k/M/G (powers of 1000, as `status` shows).
pub(crate) fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let bad = || format!("'{text}' is not a size (e.g. 500M, 4G)");
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "m" | "mb" => 1000 * 1000,
        "g" | "gb" => 1000 * 1000 * 1000,
        _ => return Err(bad()),
    };
    n.checked_mul(factor).filter(|b| *b > 0).ok_or_else(bad)
}

/// `--out FORMAT=FILE`.
pub(crate) fn parse_out(text: &str) -> std::result::Result<(GradeFormat, PathBuf), String> {
    use clap::ValueEnum;
    let (format, file) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not FORMAT=FILE (e.g. csv=grades.csv)"))?;
    let format = GradeFormat::from_str(format, true).map_err(|_| {
        format!("unknown format '{format}' (table, json, junit, csv, markdown, github-classroom)")
    })?;
    if file.is_empty() {
        return Err(format!("'{text}' names no file"));
    }
    Ok((format, PathBuf::from(file)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_submission_once_whatever_the_order_given() {
        let paths: Vec<PathBuf> = ["c", "a", "e", "b", "d", "a"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let mut seen: Vec<PathBuf> = (1..=3)
            .flat_map(|k| shard(paths.clone(), Some((k, 3))))
            .collect();
        assert_eq!(
            shard(paths.clone(), Some((1, 3))),
            ["a", "d"].map(PathBuf::from)
        );
        seen.sort();
        assert_eq!(seen, ["a", "b", "c", "d", "e"].map(PathBuf::from));
    }

    #[test]
    fn flags_read_as_people_write_them() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err() && parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("0").is_err() && parse_duration("5 weeks").is_err());
        assert_eq!(parse_size("500M"), Ok(500_000_000));
        assert_eq!(parse_size("4G"), Ok(4_000_000_000));
        assert!(parse_size("-1").is_err() && parse_size("99999999999999G").is_err());
        assert!(parse_out("csv=grades.csv").is_ok());
        assert!(parse_out("github-classroom=r.txt").is_ok());
        assert!(parse_out("xls=a").is_err() && parse_out("csv=").is_err());
    }

    #[test]
    fn a_submission_is_named_by_its_students_folder() {
        let dir = tempfile::tempdir().unwrap();
        let student = dir.path().join("ana-silva");
        std::fs::create_dir(&student).unwrap();
        let file = student.join("deploylab-vm-nginx.submission");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(submission_id(&student), "ana-silva");
        assert_eq!(submission_id(&file), "ana-silva");
        let named = dir.path().join("bruno.submission");
        std::fs::write(&named, "x").unwrap();
        assert_eq!(submission_id(&named), "bruno");
    }
}

/// The workflow files the README tells instructors to copy: valid YAML,
/// and every `deploylab grade` line in them one this command line accepts.
#[cfg(test)]
mod workflow_examples {
    use clap::Parser;

    const FILES: [(&str, &str); 3] = [
        (
            "github-classroom.yml",
            include_str!("../../docs/grading/github-classroom.yml"),
        ),
        (
            "instructor-matrix.yml",
            include_str!("../../docs/grading/instructor-matrix.yml"),
        ),
        (
            "gitlab-ci.yml",
            include_str!("../../docs/grading/gitlab-ci.yml"),
        ),
    ];

    /// A `deploylab grade …` shell line as the words clap receives.
    fn words(line: &str) -> Vec<String> {
        let line = line
            .replace("${{ matrix.shard }}", "1")
            .replace("$CI_NODE_INDEX", "1")
            .replace("$CI_NODE_TOTAL", "4");
        let command = line
            .split(" || ")
            .next()
            .unwrap()
            .split(['>', '|'])
            .next()
            .unwrap();
        command
            .split_whitespace()
            .map(|w| w.trim_matches('"').to_string())
            .collect()
    }

    #[test]
    fn the_workflows_parse_and_their_grade_commands_are_valid() {
        for (name, text) in FILES {
            let yaml: serde_json::Value =
                serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(yaml.is_object(), "{name}");
            // Continuation lines joined, as the shell does.
            let joined = text.replace("\\\n", " ");
            let commands: Vec<&str> = joined
                .lines()
                .map(|l| l.trim().trim_start_matches("- ").trim())
                .filter(|l| l.starts_with("deploylab grade"))
                .collect();
            assert!(!commands.is_empty(), "{name} grades nothing");
            for command in commands {
                let words = words(command);
                crate::cli::Cli::try_parse_from(&words)
                    .unwrap_or_else(|e| panic!("{name}: {command}\n{e}"));
            }
        }
        let classroom: serde_json::Value = serde_saphyr::from_str(FILES[0].1).unwrap();
        let steps = &classroom["jobs"]["run-autograding-tests"]["steps"];
        let reporter = steps
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["uses"] == "classroom-resources/autograding-grading-reporter@v1")
            .expect("the reporter step");
        assert_eq!(reporter["with"]["runners"], "deploylab");
        assert!(reporter["env"]["DEPLOYLAB_RESULTS"].is_string());
    }
}
