//! Commands that need little or no Docker engine: listing labs, bad input,
//! usage errors, completions.

use super::support::*;

#[test]
fn labs_lists_the_built_in_labs() {
    assert_cmd_snapshot!(Lab::new().cmd(&["labs"]));
}

#[test]
fn unknown_lab_suggests_the_nearest_name() {
    assert_cmd_snapshot!(Lab::new().cmd(&["start", "vm-ngnix"]));
}

#[test]
fn broken_lab_yaml_is_reported_with_file_line_and_column() {
    let labs = tempfile::tempdir().unwrap();
    std::fs::create_dir(labs.path().join("broken")).unwrap();
    std::fs::write(
        labs.path().join("broken/lab.yaml"),
        "schema: 1\nid: broken\ntitle: Broken\nenvironment: vm\nstages:\n  - id: one\n    titel: One\n    checks: []\n",
    )
    .unwrap();
    let lab = Lab::new().env("DEPLOYLAB_LABS", labs.path().to_string_lossy());
    let out = lab.run(&["labs"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let expected = format!("{}:7:5: ", labs.path().join("broken/lab.yaml").display());
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    assert!(stderr(&out).contains("titel"), "{}", stderr(&out));
}

#[test]
fn docker_unreachable_is_an_environment_error() {
    let lab = Lab::new().env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    redacted! {
        assert_cmd_snapshot!(lab.cmd(&["start", "vm-nginx"]));
    }
    let doctor = lab.run(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(3));
    assert!(stdout(&doctor).contains("✗ Docker engine at unix:///nonexistent/docker.sock"));
}

#[test]
fn commands_on_a_lab_need_one_running() {
    assert_cmd_snapshot!(Lab::new().cmd(&["check"]));
    assert_cmd_snapshot!(Lab::new().cmd(&["stop"]));
}

#[test]
fn usage_errors_exit_2() {
    let out = Lab::new().run(&["check", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Where lab ports are published is an address, said so before anything
/// starts.
#[test]
fn a_publish_host_that_is_no_address_is_a_usage_error() {
    let out = Lab::new()
        .env("DEPLOYLAB_PUBLISH_HOST", "localhost")
        .run(&["start", "vm-nginx"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("DEPLOYLAB_PUBLISH_HOST=localhost: not an IP address"),
        "{}",
        stderr(&out)
    );
}

/// Ports: 0 is no port, and SSH and HTTP cannot share one.
#[test]
fn bad_ports_are_usage_errors() {
    let lab = Lab::new();
    let out = lab.run(&["start", "vm-nginx", "--ssh-port", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = lab.run(&[
        "start",
        "vm-nginx",
        "--ssh-port",
        "5555",
        "--http-port",
        "5555",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--ssh-port and --http-port are both 5555"),
        "{}",
        stderr(&out)
    );
}

/// A lab that does not exist is unknown, not "not running" (which would
/// tell the student to start it).
#[test]
fn commands_on_an_unknown_lab_say_it_is_unknown() {
    for args in [
        &["check", "--lab", "vm-ngnix"][..],
        &["stop", "vm-ngnix"][..],
    ] {
        let out = Lab::new().run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("unknown lab 'vm-ngnix'; did you mean 'vm-nginx'?"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// A loopback endpoint that answers every connection with `answer` (or,
/// with `None`, never answers), for as long as the returned guard lives.
fn fake_endpoint(answer: Option<&'static str>) -> (u16, std::sync::mpsc::Sender<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while stopped.try_recv().is_err() {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    if let Some(answer) = answer {
                        let mut buf = [0u8; 4096];
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.read(&mut buf);
                        let _ = stream.write_all(answer.as_bytes());
                    } else {
                        held.push(stream);
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (port, stop)
}

/// DOCKER_HOST naming something that is not a Docker engine: one clear
/// line (not its web page), exit 3; one that never answers: the same
/// within seconds, not after two minutes.
#[test]
fn a_docker_host_that_is_not_docker_is_a_clear_error() {
    let page = "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n\
                <html><body><h1>Not Found</h1><p>a long page</p></body></html>";
    let (port, _guard) = fake_endpoint(Some(page));
    let lab = Lab::new().env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"));
    let out = lab.run(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a Docker engine's API"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("<html>"), "{}", stderr(&out));

    let (port, _guard) = fake_endpoint(None);
    let lab = Lab::new().env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"));
    let started = Instant::now();
    let out = lab.run(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no answer within 10 s"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// An empty DOCKER_HOST is unset, as for the docker CLI.
#[test]
fn an_empty_docker_host_means_the_local_engine() {
    let out = Lab::new().env("DOCKER_HOST", "").run(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The completion scripts and the man page come from the command line's
/// own definition; bash, with the real script sourced, completes commands,
/// lab ids, and the stage and machine names of the running lab.
#[test]
fn completions_and_the_man_page_are_generated_and_bash_completes_labs_and_stages() {
    let lab = Lab::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = lab.run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(
            script.contains("DEPLOYLAB_COMPLETE") && script.contains("deploylab"),
            "{shell}: {script}"
        );
    }
    let man = lab.run(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(page.contains(".TH deploylab 1"), "{page}");
    for command in ["start", "check", "ansible\\-playbook", "completions"] {
        assert!(page.contains(command), "{command} in {page}");
    }

    // bash itself, as a student's shell would: the script sourced, then the
    // completion function asked for each word.
    let complete = |words: &str| {
        let script = stdout(&lab.run(&["completions", "bash"]));
        let program = format!(
            "{script}\nCOMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
             _clap_complete_deploylab deploylab \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(program);
        for (key, value) in lab.cmd(&[]).get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).lines().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(complete("deploylab st"), ["start", "status", "stop"]);
    assert_eq!(complete("deploylab start vm-"), ["vm-ansible", "vm-nginx"]);
    // No lab running: no stage to offer.
    assert!(
        !complete("deploylab solve ''")
            .iter()
            .any(|w| w == "web-server")
    );
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    assert_eq!(complete("deploylab check --stage we"), ["web-server"]);
    let stages = complete("deploylab solve ''");
    assert!(
        stages.starts_with(&["access".to_string(), "packages".to_string()]),
        "{stages:?}"
    );
    assert_eq!(complete("deploylab ssh --machine ''"), ["vm-nginx"]);
}
