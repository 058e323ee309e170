//! Python packages in the VM through the host's package proxy.

use super::support::*;

const VENV: &str = "sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv >/dev/null && python3 -m venv /tmp/v";

/// Online (as this machine's host is), pip in the VM installs any package:
/// the host's pip fetches it, and the shared cache keeps it for next time.
/// `stop` ends the proxy.
#[test]
fn pip_in_the_vm_gets_any_package_through_the_host() {
    let lab = Lab::new();
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    assert_eq!(lab.proxies().len(), 1);
    let out = lab.ssh(port, &format!("{VENV} && /tmp/v/bin/pip install six"));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let cached = std::fs::read_dir(shared_cache().join("pypi"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("six-"));
    assert!(cached, "six was not kept in the shared cache");
    assert_eq!(lab.run(&["stop"]).status.code(), Some(0));
    assert!(
        lab.proxies().is_empty(),
        "stop left the package proxy running"
    );
}

/// Offline (the host's index unreachable), cached packages still install and
/// any other fails at once with pip's own message, no retries.
#[test]
fn offline_pip_serves_the_cache_and_fails_fast_otherwise() {
    let lab = Lab::new().env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/");
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    let out = lab.ssh(
        port,
        &format!("{VENV} && /tmp/v/bin/pip install 'django>=5.2,<6' gunicorn"),
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = lab.ssh(port, "/tmp/v/bin/pip install idna");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("No matching distribution found for idna"),
        "{}",
        stderr(&out)
    );
}
