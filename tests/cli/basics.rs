//! Commands that need no Docker engine: listing labs, bad input, usage errors.

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
