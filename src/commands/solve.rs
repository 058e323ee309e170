//! `deploylab solve <stage>`: the reference solution's steps up to a stage,
//! run as the student would (over SSH in the VM; with the heroku CLI on
//! this machine), skipping stages that already pass.

use std::io::Write;
use std::process::Stdio;
use std::time::Instant;

use super::run_checks;
use crate::catalog::Solution;
use crate::docker;
use crate::environment::{LoadedLab, Running};
use crate::error::{Error, Result, exit};
use crate::report::Status;
use crate::seam::Ctx;

/// A step whose script says this needs the VM rebooted after it.
const RESTART: &str = "# deploylab: restart the VM after this step";

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn already(stage: &str) -> String {
        tr!("solve-already", stage = stage)
    }

    pub(super) fn done(stage: &str, seconds: f64) -> String {
        format!("✓ {stage} ({seconds:.1} s)")
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, lab: Option<&str>, stage: &str) -> Result<i32> {
    let super::Checked {
        loaded,
        running,
        report,
        ..
    } = run_checks(ctx, lab).await?;
    let lab = &loaded.lab;
    let last = lab.stage_index(stage)?;
    let solution = ctx.catalog.solution(&lab.id)?;
    for stage in &lab.stages[..=last] {
        let passes = report
            .stages
            .iter()
            .any(|s| s.id == stage.id && s.status == Status::Pass);
        if passes {
            println!("{}", text::already(&stage.id));
            continue;
        }
        let Some((_, _, step)) = solution.steps.iter().find(|(_, id, _)| *id == stage.id) else {
            continue;
        };
        let started = Instant::now();
        apply_step(ctx, &loaded, &running, &stage.id, &solution, step).await?;
        println!("{}", text::done(&stage.id, started.elapsed().as_secs_f64()));
    }
    Ok(exit::OK)
}

/// One step of the reference solution (each of its parts on its machine),
/// and the reboot it may ask for.
pub(super) async fn apply_step(
    ctx: &Ctx<'_>,
    loaded: &LoadedLab,
    running: &Running,
    stage: &str,
    solution: &Solution,
    step: &str,
) -> Result<()> {
    for (machine, script) in solution.scripts(step) {
        run_step(ctx, loaded, running, stage, machine.as_deref(), &script)?;
    }
    if step.contains(RESTART) {
        let docker = docker::connect().await?;
        loaded.restart(&docker, running, None).await?;
    }
    Ok(())
}

/// Runs one step's script on the environment's runner (stdin), and turns
/// a failure into the step's last lines.
fn run_step(
    ctx: &Ctx<'_>,
    loaded: &LoadedLab,
    running: &Running,
    stage: &str,
    machine: Option<&str>,
    script: &str,
) -> Result<()> {
    let mut child = loaded
        .step_runner(ctx, running, machine)?
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::io("running a solution step"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let script = script.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(script.as_bytes());
    });
    let output = child
        .wait_with_output()
        .map_err(Error::io("running a solution step"))?;
    let _ = writer.join();
    if output.status.success() {
        return Ok(());
    }
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = all.lines().collect();
    Err(Error::SolutionFailed {
        stage: stage.to_string(),
        code: output.status.code().unwrap_or(-1),
        tail: lines[lines.len().saturating_sub(15)..].join("\n"),
    })
}
