//! `deploylab grade <lab> <SUBMISSION>...`: every submission restored in a
//! fresh environment, checked, removed (`grading/`); the results in the
//! formats an instructor's tools read. `--merge` combines the JSON results
//! of several runs (the shards of a CI matrix).

use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use crate::cli::GradeArgs;
use crate::docker;
use crate::environment;
use crate::error::{Error, Result, exit};
use crate::grading::results::{ErrorKind, Graded, RESULTS_SCHEMA, Results};
use crate::grading::{self, Board, Budget, Grader};
use crate::images;
use crate::seam::{Ctx, GradeLimits};
use crate::state;

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn not_results() -> String {
        tr!("grade-cmd-not-results")
    }

    pub(super) fn other_lab(file: &str, lab: &str, first: &str) -> String {
        tr!("grade-cmd-other-lab", file = file, lab = lab, first = first)
    }

    pub(super) fn below(count: usize, points: u32) -> String {
        tr!("grade-cmd-below", count = count, points = points)
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, args: GradeArgs) -> Result<i32> {
    let results = match args.merge.is_empty() {
        false => merge(&args.merge)?,
        true => grade(ctx, &args).await?,
    };
    // Every environment is removed by now; an interrupted run says so.
    crate::interrupt::check()?;
    print!("{}", results.render(args.format));
    for (format, file) in &args.out {
        state::write_shared(file, results.render(*format).as_bytes())?;
    }
    if let Some(dir) = &args.evidence {
        write_evidence(dir, &results)?;
    }
    Ok(exit_code(&results, args.fail_under))
}

/// 2 when a submission was bad input, 3 when the grader's environment
/// failed one, 1 when one is below `--fail-under`, else 0: every
/// submission graded, whatever its points.
fn exit_code(results: &Results, fail_under: Option<u32>) -> i32 {
    let kind = |k: ErrorKind| results.submissions.iter().any(|g| g.error_kind == Some(k));
    let below = fail_under.map_or(0, |p| {
        results.submissions.iter().filter(|g| g.points < p).count()
    });
    if kind(ErrorKind::Submission) {
        exit::USAGE
    } else if kind(ErrorKind::Environment) {
        exit::ENVIRONMENT
    } else if below > 0 {
        eprintln!("{}", text::below(below, fail_under.unwrap_or(0)));
        exit::CHECKS_FAILED
    } else {
        exit::OK
    }
}

async fn grade(ctx: &Ctx<'_>, args: &GradeArgs) -> Result<Results> {
    let lab = args.lab.as_deref().unwrap_or_default();
    let loaded = environment::load(ctx.catalog, lab)?;
    let docker = docker::connect().await?;
    crate::interrupt::watch();
    // Every environment starts from the VM image: built once, before the
    // jobs start side by side.
    images::ensure_vm_image(&docker, &ctx.home.cache, &ctx.catalog.all()?, ctx.progress).await?;
    ctx.progress.finish();
    let paths = grading::shard(args.submissions.clone(), args.shard);
    let ids: Vec<String> = paths.iter().map(|p| grading::submission_id(p)).collect();
    let board = Board::new(&ids, ctx.progress.is_quiet());
    let budget = Budget {
        timeout: args.timeout,
        limits: GradeLimits {
            disk: args.disk_limit,
        },
    };
    let jobs = args
        .jobs
        .map_or_else(grading::default_jobs, std::num::NonZero::get);
    let grader = Grader {
        catalog: ctx.catalog,
        loaded: &loaded,
        docker: &docker,
        home: ctx.home,
        budget,
    };
    let (grader, board) = (&grader, &board);
    // Unordered: a finished grade frees its job at once, even while an
    // earlier one still runs (`buffered` would hold it until that one
    // ends); the results are put back in the paths' order.
    let mut graded: Vec<(usize, Graded)> = futures_util::stream::iter(paths.iter().enumerate())
        .map(|(index, path)| async move {
            let phase = move |p| board.set(index, p);
            let graded = grading::grade_one(grader, path, &phase).await;
            board.finished(index, &graded);
            (index, graded)
        })
        .buffer_unordered(jobs)
        .collect()
        .await;
    graded.sort_by_key(|(index, _)| *index);
    let graded: Vec<Graded> = graded.into_iter().map(|(_, g)| g).collect();
    Ok(Results {
        schema: RESULTS_SCHEMA,
        lab: loaded.lab.id.clone(),
        max_points: loaded.lab.max_points(),
        stages: loaded.lab.stages.iter().map(|s| s.id.clone()).collect(),
        submissions: graded,
    })
}

/// The JSON results of several runs, as one.
fn merge(files: &[PathBuf]) -> Result<Results> {
    let mut merged: Option<Results> = None;
    for file in files {
        let bad = |why: String| Error::BadSubmission {
            path: file.clone(),
            why,
        };
        let bytes = std::fs::read(file).map_err(|e| bad(e.to_string()))?;
        let results: Results =
            serde_json::from_slice(&bytes).map_err(|_| bad(text::not_results()))?;
        match &mut merged {
            None => merged = Some(results),
            Some(m) if m.lab != results.lab => {
                return Err(bad(text::other_lab(
                    &file.display().to_string(),
                    &results.lab,
                    &m.lab,
                )));
            }
            Some(m) => m.submissions.extend(results.submissions),
        }
    }
    let mut merged = merged.expect("clap requires at least one file");
    merged.submissions.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(merged)
}

/// Per submission: its grade (report, facts seen, errors, notes), named by
/// its sha256 so a disputed grade points at the exact file.
fn write_evidence(dir: &Path, results: &Results) -> Result<()> {
    for graded in &results.submissions {
        let name = sanitize(&graded.id);
        let folder = dir.join(match &graded.sha256 {
            Some(sha) => format!("{name}-{}", &sha[..12]),
            None => name,
        });
        std::fs::create_dir_all(&folder)
            .map_err(Error::io(format!("creating {}", folder.display())))?;
        let json = serde_json::to_vec_pretty(graded).expect("a grade serializes");
        state::write_shared(&folder.join("grade.json"), &json)?;
        if let Some(facts) = graded.report.as_ref().and_then(|r| r.facts.as_ref()) {
            let json = serde_json::to_vec_pretty(facts).expect("facts serialize");
            state::write_shared(&folder.join("facts.json"), &json)?;
        }
    }
    Ok(())
}

/// A folder name from a student's id (no separators, no dot-dot).
fn sanitize(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| match c.is_alphanumeric() || "-_.@".contains(c) {
            true => c,
            false => '_',
        })
        .collect();
    match clean.trim_matches('.') {
        "" => "_".into(),
        c => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::GradeFormat;

    #[test]
    fn evidence_folders_are_named_safely() {
        assert_eq!(sanitize("../../etc"), "_.._etc");
        assert_eq!(sanitize("ana silva"), "ana_silva");
        assert_eq!(sanitize(".."), "_");
    }

    #[test]
    fn the_format_names_match_the_flag() {
        let file = PathBuf::from("x.csv");
        assert_eq!(
            grading::parse_out("csv=x.csv"),
            Ok((GradeFormat::Csv, file))
        );
    }
}
