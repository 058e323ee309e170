//! `deploylab selftest [LAB]`: proves a lab's checks against its own
//! reference solution, in a scratch home of its own: a fresh environment
//! passes only the stages that need no work; after the solution's step of
//! each stage exactly the stages up to it pass; the whole solution earns
//! every point; and its submission, graded, earns every point again.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::solve::apply_step;
use crate::docker;
use crate::environment::{self, LoadedLab};
use crate::error::{Error, Result, exit};
use crate::grading::{self, Budget, Grader, Scratch};
use crate::images;
use crate::progress::Progress;
use crate::report::{Report, Status};
use crate::seam::{Captured, Ctx, GradeLimits};
use crate::submission::{self, Manifest};

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) const HEADER: [&str; 4] = ["lab", "step", "result", "detail"];
    pub(super) fn fresh() -> String {
        tr!("selftest-fresh")
    }
    pub(super) fn full() -> String {
        tr!("selftest-full")
    }
    pub(super) fn graded() -> String {
        tr!("selftest-graded")
    }
    pub(super) fn ok() -> String {
        tr!("selftest-ok")
    }
    pub(super) fn mismatch() -> String {
        tr!("selftest-mismatch")
    }
    pub(super) fn not_available() -> String {
        tr!("selftest-not-available")
    }
    pub(super) fn all_ok() -> String {
        tr!("selftest-all-ok")
    }
    pub(super) fn some_wrong() -> String {
        tr!("selftest-some-wrong")
    }

    pub(super) fn solved(stage: &str) -> String {
        tr!("selftest-solved", stage = stage)
    }

    pub(super) fn passing(stages: &[String]) -> String {
        match stages.is_empty() {
            true => "none pass".into(),
            false => format!("passing: {}", stages.join(", ")),
        }
    }

    /// What passed, and what was expected when that differs.
    pub(super) fn expected(wanted: &[String], got: &[String]) -> String {
        match wanted == got {
            true => passing(got),
            false => format!("expected {}; got {}", passing(wanted), passing(got)),
        }
    }

    pub(super) fn points(points: u32, max: u32) -> String {
        tr!("selftest-points", points = points, max = max)
    }
}

/// One row of the table: what was proven, and whether it held.
struct Row {
    lab: String,
    step: String,
    ok: Option<bool>,
    detail: String,
}

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>) -> Result<i32> {
    let labs = match lab {
        Some(id) => vec![environment::load(ctx.catalog, id)?],
        None => environment::load_all(ctx.catalog)?,
    };
    let docker = docker::connect().await?;
    crate::interrupt::watch();
    images::ensure_vm_image(&docker, &ctx.home.cache, &ctx.catalog.all()?, ctx.progress).await?;
    ctx.progress.finish();
    let mut rows = Vec::new();
    for loaded in &labs {
        let scratch = Scratch::new(ctx.home)?;
        let proven = tokio::select! {
            proven = prove(ctx, &docker, &scratch, loaded, &mut rows) => proven,
            () = crate::interrupt::requested() => Err(Error::Interrupted),
        };
        scratch.remove(&docker, loaded).await;
        proven?;
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(text::HEADER.to_vec());
    for row in &rows {
        let result = match row.ok {
            Some(true) => text::ok(),
            Some(false) => text::mismatch(),
            None => text::not_available(),
        };
        table.add_row(vec![&row.lab, &row.step, &result, &row.detail]);
    }
    println!("{table}");
    let wrong = rows.iter().any(|r| r.ok == Some(false));
    println!(
        "{}",
        if wrong {
            text::some_wrong()
        } else {
            text::all_ok()
        }
    );
    Ok(if wrong { exit::CHECKS_FAILED } else { exit::OK })
}

fn passing(report: &Report) -> Vec<String> {
    report
        .stages
        .iter()
        .filter(|s| s.status == Status::Pass)
        .map(|s| s.id.clone())
        .collect()
}

/// The lab's proofs, one row each (printed as they come, for CI logs).
async fn prove(
    ctx: &Ctx<'_>,
    docker: &bollard::Docker,
    scratch: &Scratch,
    loaded: &LoadedLab,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let lab = &loaded.lab;
    let quiet = Progress::new(true);
    let own = Ctx {
        home: &scratch.home,
        catalog: ctx.catalog,
        progress: &quiet,
        subject: None,
    };
    let mut push = |step: String, ok: Option<bool>, detail: String| {
        ctx.progress
            .println(&format!("{} · {step}: {detail}", lab.id));
        rows.push(Row {
            lab: lab.id.clone(),
            step,
            ok,
            detail,
        });
    };
    let options = loaded.practice_start(&own, &scratch.home.dir).await?;
    let running = loaded.start(&own, docker, None, options).await?;
    scratch.keep(&lab.id, running.clone());
    let solution = ctx.catalog.solution(&lab.id)?;
    // The stages that pass once a step is applied (`None`: fresh).
    let passing_after = |step: Option<&str>| -> Vec<String> {
        lab.stages
            .iter()
            .filter(|s| solution.passes_with(&s.id).as_deref() == step)
            .map(|s| s.id.clone())
            .collect()
    };
    let mut wanted = passing_after(None);
    let report = loaded.check(&own, docker, &running).await?;
    let got = passing(&report);
    push(
        text::fresh(),
        Some(got == wanted),
        text::expected(&wanted, &got),
    );
    let mut last = report;
    for (_, stage, step) in &solution.steps {
        apply_step(&own, loaded, &running, stage, &solution, step).await?;
        wanted.extend(passing_after(Some(stage)));
        let order = |id: &String| lab.stages.iter().position(|s| &s.id == id);
        wanted.sort_by_key(order);
        last = loaded.check(&own, docker, &running).await?;
        let got = passing(&last);
        push(
            text::solved(stage),
            Some(got == wanted),
            text::expected(&wanted, &got),
        );
    }
    push(
        text::full(),
        Some(last.points == last.max_points),
        text::points(last.points, last.max_points),
    );
    // The submission of the whole solution, through the file and `grade`.
    match loaded.capture(&own, docker, &running).await {
        Err(Error::NotForThisLab { why, .. }) => push(text::graded(), None, why.to_string()),
        captured => {
            let (ok, detail) =
                grade_solution(ctx, docker, scratch, loaded, &last, &captured?).await?;
            push(text::graded(), Some(ok), detail);
        }
    }
    Ok(())
}

/// The whole solution's work, written as a submission file and graded as
/// an instructor would: whether it earned every point, and what it got.
async fn grade_solution(
    ctx: &Ctx<'_>,
    docker: &bollard::Docker,
    scratch: &Scratch,
    loaded: &LoadedLab,
    own_check: &Report,
    captured: &Captured,
) -> Result<(bool, String)> {
    let lab = &loaded.lab;
    let running = scratch.running().expect("the lab was started");
    let file = scratch
        .home
        .dir
        .join(format!("deploylab-{}.submission", lab.id));
    let self_check = serde_json::to_value(own_check).ok();
    let manifest = Manifest::new(&lab.id, running.kind().name(), running.recipe(), self_check);
    submission::write(&file, manifest, &captured.state, &captured.files)?;
    let grader = Grader {
        catalog: ctx.catalog,
        loaded,
        docker,
        home: ctx.home,
        budget: Budget {
            timeout: std::time::Duration::from_secs(600),
            limits: GradeLimits {
                disk: crate::limits::VM_DISK_WARN,
            },
        },
    };
    let graded = grading::grade_one(&grader, &file, &|_| {}).await;
    let detail = match &graded.error {
        Some(why) => why.clone(),
        None => text::points(graded.points, graded.max_points),
    };
    Ok((
        graded.error.is_none() && graded.points == graded.max_points,
        detail,
    ))
}
