//! What each command does. Each returns the process exit code, or an
//! `Error` that carries its own.

use std::time::Instant;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::check::{self, HostFacts};
use crate::cli::{Cli, Command, Format, HerokuAction, ImagesAction};
use crate::docker;
use crate::error::{Error, Result, exit};
use crate::images;
use crate::lab::{Catalog, Lab};
use crate::lifecycle;
use crate::packages;
use crate::probe;
use crate::progress::Progress;
use crate::report::Report;
use crate::state::{self, Home, RunningLab};
use crate::vm;

/// Messages shown by the commands, kept together for translation.
mod text {
    pub const NO_HINT: &str = "Nothing to hint: every check passes.";
    pub const NO_DEEPER_HINT: &str = "(this check has no deeper hint)";
    pub const NO_VM: &str =
        "it has no VM; use the heroku CLI and git after `eval \"$(deploylab heroku env)\"`.";
    pub const NO_HEROKU_CLI: &str =
        "Install the real heroku CLI (`npm install -g heroku`) and put it on PATH.";
    pub const NO_SSH_CLIENT: &str =
        "no `ssh` client on PATH; `deploylab shell` opens a shell without one.";

    pub fn ready(
        lab: &str,
        key: &str,
        known_hosts: &str,
        ssh_port: u16,
        http_port: u16,
        user: &str,
    ) -> String {
        format!(
            "Lab {lab} is ready: a Debian 12 \"VM\" with hostname {lab}.\n\
             \n  ssh -i {key} -p {ssh_port} -o UserKnownHostsFile={known_hosts} {user}@127.0.0.1\n\
             \n  (or: deploylab ssh)   user: {user}, sudo without password (password: {user})\
             \n  the VM's port 80 is at http://127.0.0.1:{http_port}/\n\
             \nNext: work through the course, then `deploylab check`. `deploylab stop` removes the VM."
        )
    }
}

pub async fn dispatch(cli: Cli) -> Result<i32> {
    let progress = Progress::new(cli.quiet);
    let home = Home::from_env()?;
    let catalog = Catalog::from_env();
    match cli.command {
        Command::Labs => labs(&catalog),
        Command::Start {
            lab,
            fresh,
            ssh_port,
            http_port,
        } => {
            let lab = catalog.get(&lab)?;
            let docker = docker::connect().await?;
            let options = lifecycle::StartOptions {
                fresh,
                ssh_port,
                http_port,
            };
            let result =
                lifecycle::interruptible_start(&home, &catalog, &docker, &lab, options, &progress)
                    .await;
            progress.finish();
            let running = result?;
            if running.heroku.is_some() {
                println!("{}", crate::heroku::lab::ready_text(&running));
                return Ok(exit::OK);
            }
            let key = home.key_path();
            println!(
                "{}",
                text::ready(
                    &lab.id,
                    &key.display().to_string(),
                    &home.known_hosts_path().display().to_string(),
                    running.ssh_port,
                    running.http_port,
                    &lab.user
                )
            );
            Ok(exit::OK)
        }
        Command::Status => lifecycle::status(&home).await,
        Command::Check {
            target,
            stage,
            format,
        } => {
            let (lab, report, elapsed) = run_checks(&home, &catalog, target.lab.as_deref()).await?;
            let report = match stage {
                Some(stage) => {
                    lab.stage_index(&stage)?;
                    report.only_stage(&stage)
                }
                None => report,
            };
            match format {
                Format::Table => print!("{}", report.to_table(elapsed)),
                Format::Json => println!("{}", report.to_json()),
                Format::Junit => print!("{}", report.to_junit(elapsed)),
            }
            Ok(if report.passed {
                exit::OK
            } else {
                exit::CHECKS_FAILED
            })
        }
        Command::Hint { target, more } => {
            let (_, report, _) = run_checks(&home, &catalog, target.lab.as_deref()).await?;
            match report.first_failure() {
                None => println!("{}", text::NO_HINT),
                Some((stage, check)) => {
                    println!("{} › {}: {}", stage.id, check.title, check.observed);
                    println!("hint: {}", check.hint.as_deref().unwrap_or_default());
                    if more {
                        println!(
                            "more: {}",
                            check.hint_more.as_deref().unwrap_or(text::NO_DEEPER_HINT)
                        );
                    }
                }
            }
            Ok(if report.passed {
                exit::OK
            } else {
                exit::CHECKS_FAILED
            })
        }
        Command::Solve { target, stage } => {
            let (lab_id, running) = home.load()?.pick(target.lab.as_deref())?;
            let lab = catalog.get(&lab_id)?;
            solve(&home, &catalog, &lab, &running, &stage).await
        }
        Command::Ssh { target, command } => {
            let (lab_id, running) = vm_lab(&home, target.lab.as_deref(), "ssh")?;
            let lab = catalog.get(&lab_id)?;
            ssh(&home, &lab, &running, &command)
        }
        Command::Shell { target } => {
            let (lab_id, running) = vm_lab(&home, target.lab.as_deref(), "shell")?;
            let lab = catalog.get(&lab_id)?;
            let docker = docker::connect().await?;
            crate::shell::interactive(&docker, &running.container_id, &lab.user).await
        }
        Command::Restart { target } => {
            let (lab_id, running) = vm_lab(&home, target.lab.as_deref(), "restart")?;
            let docker = docker::connect().await?;
            progress.set(&format!("rebooting {lab_id}"));
            let started = Instant::now();
            vm::restart(&docker, &lab_id, &lifecycle::as_vm(&running)).await?;
            progress.finish();
            println!(
                "Rebooted {lab_id}; SSH answers again after {:.1} s.",
                started.elapsed().as_secs_f64()
            );
            Ok(exit::OK)
        }
        Command::Stop { lab, all } => lifecycle::stop(&home, lab.as_deref(), all).await,
        Command::Doctor => crate::doctor::run(&home, &catalog).await,
        Command::PackageProxy(args) => {
            packages::serve(args).await?;
            Ok(exit::OK)
        }
        Command::HerokuServe(args) => {
            crate::heroku::serve(args).await?;
            Ok(exit::OK)
        }
        Command::HerokuHook => crate::heroku::git::hook(),
        Command::Heroku {
            action: HerokuAction::Env,
        } => {
            let running = crate::heroku::lab::running(&home)?;
            print!("{}", crate::heroku::lab::env_script(&running));
            Ok(exit::OK)
        }
        Command::Images { action } => {
            let docker = docker::connect().await?;
            let labs = catalog.all()?;
            let current = images::VmRecipe::for_labs(&labs).image(&home.cache);
            match action {
                ImagesAction::Build => {
                    let started = Instant::now();
                    let image =
                        images::ensure_vm_image(&docker, &home.cache, &labs, &progress).await;
                    progress.finish();
                    let image = image?;
                    println!(
                        "{} is up to date ({:.1} s).",
                        image.tag,
                        started.elapsed().as_secs_f64()
                    );
                }
                ImagesAction::List => {
                    let mut table = Table::new();
                    table.load_style(UTF8_FULL_CONDENSED);
                    table.set_header(vec!["image", "kind", "size", "current"]);
                    for row in images::list(&docker, &current).await? {
                        table.add_row(vec![
                            row.tag,
                            row.kind,
                            format!("{} MB", row.size_mb),
                            if row.current {
                                "✓".into()
                            } else {
                                String::new()
                            },
                        ]);
                    }
                    println!("{table}");
                }
                ImagesAction::Prune => {
                    let removed = images::prune(&docker, &home.cache, &current).await?;
                    println!("Removed {} old image(s).", removed.len());
                }
            }
            Ok(exit::OK)
        }
    }
}

fn labs(catalog: &Catalog) -> Result<i32> {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec!["lab", "environment", "stages", "points", "title"]);
    for lab in catalog.all()? {
        table.add_row(vec![
            lab.id.clone(),
            format!("{:?}", lab.environment).to_lowercase(),
            lab.stages.len().to_string(),
            lab.max_points().to_string(),
            lab.title.clone(),
        ]);
    }
    println!("{table}");
    Ok(exit::OK)
}

/// One check run: all in-VM facts in one probe execution, the host-side
/// facts alongside it, then a pure evaluation.
async fn run_checks(
    home: &Home,
    catalog: &Catalog,
    lab: Option<&str>,
) -> Result<(Lab, Report, u128)> {
    let started = Instant::now();
    let mut state = home.load()?;
    let (lab_id, running) = state.pick(lab)?;
    let lab = catalog.get(&lab_id)?;
    let docker = docker::connect().await?;
    if let Some(heroku) = &running.heroku {
        if !crate::heroku::lab::is_running(heroku.pid) {
            return Err(Error::LabNotRunning { lab: lab_id });
        }
        let checks: Vec<&crate::heroku::checks::HerokuCheck> = lab
            .stages
            .iter()
            .flat_map(|s| &s.checks)
            .filter_map(|c| match &c.expect {
                check::Check::Heroku(h) => Some(h),
                _ => None,
            })
            .collect();
        let facts = crate::heroku::checks::gather(&docker, &home.instance(), heroku, &checks).await;
        let host = HostFacts {
            ssh_banner: Err(String::new()),
            public_key: String::new(),
            http: serde_json::Value::Null,
        };
        let report = check::evaluate(&lab, &facts, &host);
        return Ok((lab, report, started.elapsed().as_millis()));
    }
    match docker.inspect_container(&running.container_id, None).await {
        Err(e) if docker::is_not_found(&e) => {
            state.labs.remove(&lab_id);
            home.save(&state)?;
            return Err(Error::ContainerGone { lab: lab_id });
        }
        Err(e) => return Err(Error::docker("inspecting the VM")(e)),
        Ok(inspect) if inspect.state.as_ref().and_then(|s| s.running) != Some(true) => {
            return Err(Error::LabNotRunning { lab: lab_id });
        }
        Ok(_) => {}
    }
    let public_key = state::ensure_ssh_key(&home.key_path())?;
    let facts = check::facts_for(&lab);
    let needs_http = lab
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .any(|c| c.expect.needs_http());
    // All at once: the probe's requests over the socket and the host's
    // requests through nginx both wake a socket-activated app, whichever
    // comes first; the probe lists processes after its own requests.
    let http = async {
        match needs_http {
            true => check::http::gather(running.http_port).await,
            false => serde_json::Value::Null,
        }
    };
    let (facts, banner, http) = tokio::join!(
        probe::gather(&docker, &running.container_id, &facts),
        vm::ssh_banner(running.ssh_port, std::time::Duration::from_secs(2)),
        http,
    );
    let host = HostFacts {
        ssh_banner: banner,
        public_key,
        http,
    };
    let report = check::evaluate(&lab, &facts?, &host);
    Ok((lab, report, started.elapsed().as_millis()))
}

/// The system's ssh client, set up with deploylab's key and the VM's port.
fn ssh_client(home: &Home, lab: &Lab, running: &RunningLab) -> Result<std::process::Command> {
    let Some(ssh) = images::which("ssh") else {
        return Err(Error::MissingTool {
            tool: "ssh",
            purpose: "open an SSH session",
            fix: text::NO_SSH_CLIENT,
        });
    };
    let mut cmd = std::process::Command::new(ssh);
    cmd.arg("-i")
        .arg(home.key_path())
        .args(["-p", &running.ssh_port.to_string()])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            home.known_hosts_path().display()
        ))
        .args(["-o", "StrictHostKeyChecking=yes"])
        .args(["-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes"])
        .arg(format!("{}@127.0.0.1", lab.user));
    Ok(cmd)
}

/// The running lab a VM command is about; the heroku lab has no VM.
fn vm_lab(home: &Home, lab: Option<&str>, command: &'static str) -> Result<(String, RunningLab)> {
    let (lab_id, running) = home.load()?.pick(lab)?;
    if running.heroku.is_some() {
        return Err(Error::NotForThisLab {
            command,
            lab: lab_id,
            why: text::NO_VM,
        });
    }
    Ok((lab_id, running))
}

/// What runs a solution step (`bash -s`, the script on stdin): over SSH in
/// the VM as the student; for the heroku lab, on this machine, in
/// `<home>/heroku/work`, with the environment `deploylab heroku env` gives
/// (the real heroku CLI must be on PATH).
fn step_runner(home: &Home, lab: &Lab, running: &RunningLab) -> Result<std::process::Command> {
    let Some(heroku) = &running.heroku else {
        let mut cmd = ssh_client(home, lab, running)?;
        cmd.args(["bash", "-s"]);
        return Ok(cmd);
    };
    if images::which("heroku").is_none() {
        return Err(Error::MissingTool {
            tool: "heroku",
            purpose: "run the heroku lab's reference solution",
            fix: text::NO_HEROKU_CLI,
        });
    }
    let work = heroku.dir.join("work");
    std::fs::create_dir_all(&work).map_err(Error::io(format!("creating {}", work.display())))?;
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-s")
        .current_dir(&work)
        .envs(crate::heroku::lab::env_pairs(heroku));
    if let Some(repo) = &heroku.blog_repo {
        cmd.env("DEPLOYLAB_BLOG_REPO", repo);
    }
    Ok(cmd)
}

/// Hands over to the system's ssh client.
fn ssh(home: &Home, lab: &Lab, running: &RunningLab, command: &[String]) -> Result<i32> {
    let status = ssh_client(home, lab, running)?
        .args(command)
        .status()
        .map_err(Error::io("running ssh"))?;
    Ok(status.code().unwrap_or(exit::ENVIRONMENT))
}

/// Runs the solution's steps up to `stage` over SSH, as the student would,
/// skipping stages that already pass (the student's own work stays).
async fn solve(
    home: &Home,
    catalog: &Catalog,
    lab: &Lab,
    running: &RunningLab,
    stage: &str,
) -> Result<i32> {
    /// A step whose script says this needs the VM rebooted after it.
    const RESTART: &str = "# deploylab: restart the VM after this step";
    let last = lab.stage_index(stage)?;
    let solution = catalog.solution(&lab.id)?;
    let (_, report, _) = run_checks(home, catalog, Some(&lab.id)).await?;
    for stage in &lab.stages[..=last] {
        let passes = report
            .stages
            .iter()
            .any(|s| s.id == stage.id && s.status == crate::report::Status::Pass);
        if passes {
            println!("· {} already passes", stage.id);
            continue;
        }
        let Some((_, _, step)) = solution.steps.iter().find(|(_, id, _)| *id == stage.id) else {
            continue;
        };
        let started = Instant::now();
        let mut child = step_runner(home, lab, running)?
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(Error::io("running ssh"))?;
        let script = solution.script(step);
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(script.as_bytes());
        });
        let output = child.wait_with_output().map_err(Error::io("running ssh"))?;
        let _ = writer.join();
        if !output.status.success() {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let lines: Vec<&str> = all.lines().collect();
            return Err(Error::SolutionFailed {
                stage: stage.id.clone(),
                code: output.status.code().unwrap_or(-1),
                tail: lines[lines.len().saturating_sub(15)..].join("\n"),
            });
        }
        if step.contains(RESTART) {
            let docker = docker::connect().await?;
            vm::restart(&docker, &lab.id, &lifecycle::as_vm(running)).await?;
        }
        println!("✓ {} ({:.1} s)", stage.id, started.elapsed().as_secs_f64());
    }
    Ok(exit::OK)
}
