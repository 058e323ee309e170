//! Spare VMs (`src/spare.rs`, `src/vm/spare.rs`): booted ahead in the
//! background, claimed by the next `start`, and no different from a VM
//! booted for that start.

use super::support::*;

/// A home with spares on (the tests' default is off).
fn with_spares() -> Lab {
    Lab::new().env("DEPLOYLAB_SPARE", "on")
}

fn record(lab: &Lab) -> PathBuf {
    lab.home.path().join("data/spares/vm-nginx.json")
}

/// Waits until the background maker has booted the spare and let go of it
/// (its record written, its lock free): the readiness signal, bounded.
fn wait_for_spare(lab: &Lab) -> Value {
    let lock = lab.home.path().join("data/spares/vm-nginx.lock");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(text) = std::fs::read_to_string(record(lab))
            && let Ok(file) = std::fs::OpenOptions::new().write(true).open(&lock)
            && file.try_lock().is_ok()
        {
            return serde_json::from_str(&text).unwrap();
        }
        let log = std::fs::read_to_string(lab.home.path().join("data/spare-vm-nginx.log"));
        assert!(Instant::now() < deadline, "no spare within 90 s: {log:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The VM's identity and what it has seen, over SSH (as root, so the
/// journal and the host keys can be read).
fn identity(lab: &Lab, port: u16) -> Vec<String> {
    let out = lab.ssh(
        port,
        "hostname; cat /etc/machine-id; sudo cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2; \
         date +%s; ip -4 -br addr | grep -vc '^lo'; \
         sudo journalctl -q --no-pager -u ssh | grep -c 'Accepted publickey'; \
         sudo last -w student | grep -c '^student'; ls -A /home/student | sort | tr '\\n' ' '",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

/// The names, among this home's containers (`docker ps -a`) or networks
/// (`docker network ls`), of the spares'.
fn spare_names(lab: &Lab, list: &[&str], name: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(list)
        .args(["--format", name, "--filter"])
        .arg(format!("label=deploylab.instance={}", lab.instance()))
        .output()
        .unwrap();
    stdout(&out)
        .lines()
        .filter(|n| n.starts_with("deploylab-spare-"))
        .map(str::to_string)
        .collect()
}

fn spare_containers(lab: &Lab) -> Vec<String> {
    spare_names(lab, &["ps", "-a"], "{{.Names}}")
}

fn spare_networks(lab: &Lab) -> Vec<String> {
    spare_names(lab, &["network", "ls"], "{{.Name}}")
}

#[test]
fn the_next_start_claims_a_spare_that_is_a_fresh_vm() {
    let lab = with_spares();
    let first = lab.run(&["start", "vm-nginx", "--quiet"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let first_port = ssh_port(&stdout(&first));
    let spare = wait_for_spare(&lab);

    // Waiting, it is no lab's: `status` shows one lab. It is a VM and the
    // lab's git server, on a network of their own.
    assert_eq!(spare_containers(&lab).len(), 2);
    let status = stdout(&lab.run(&["status"]));
    assert_eq!(status.matches("│ vm-nginx ").count(), 1, "{status}");
    let spare_port = spare["ssh_port"].as_u64().unwrap() as u16;

    let before = identity(&lab, first_port);
    let second = lab.run(&["start", "vm-nginx", "--fresh", "--quiet"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let port = ssh_port(&stdout(&second));
    // Claimed: the VM now running is the spare's container, on its ports,
    // under the lab's name; the first VM is gone.
    assert_eq!(port, spare_port);
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(lab.home.path().join("data/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["labs"]["vm-nginx"]["machines"][0]["container_id"],
        spare["container_id"]
    );
    assert!(
        !record(&lab).exists() || wait_for_spare(&lab)["container_id"] != spare["container_id"]
    );

    // A VM of its own: its own machine-id and host key (made on its own
    // first boot), the lab's hostname, the host's clock, one network, and
    // no one logged in before this test's login.
    let after = identity(&lab, port);
    assert_eq!(after[0], "vm-nginx");
    assert_ne!(after[1], before[1], "machine-id");
    assert_ne!(after[2], before[2], "host key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let clock: i64 = after[3].parse().unwrap();
    assert!((clock - now).abs() <= 5, "VM clock {clock}, host {now}");
    assert_eq!(after[4], "1", "interfaces besides lo");
    assert_eq!(after[5], "1", "logins in the journal: only this one");
    assert_eq!(after[6], before[6], "wtmp logins: only this one");
    assert_eq!(after[7], before[7], "the student's home");
    // The host key deploylab pinned is the VM's own: deploylab's ssh
    // (StrictHostKeyChecking=yes) logs in.
    let out = lab.run(&["ssh", "--", "cat /etc/pip.conf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The lab's package proxy, on the lab's network.
    assert!(
        stdout(&out).contains("index-url = http://"),
        "{}",
        stdout(&out)
    );
    // The lab's git server came with it, under the lab's name.
    let fetch = "python3 -c \"import urllib.request as u; \
                 print(u.urlopen('http://git.deploylab.test/blog.git/info/refs').status)\"";
    let out = lab.run(&["ssh", "--", fetch]);
    assert_eq!(stdout(&out).trim(), "200", "{}", stderr(&out));

    // Judged as a fresh VM is: the same statuses as a VM booted for the start.
    let claimed: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    let booted = lab.run(&["start", "vm-nginx", "--fresh", "--no-spare", "--quiet"]);
    assert_eq!(booted.status.code(), Some(0), "{}", stderr(&booted));
    let fresh: Value =
        serde_json::from_slice(&lab.run(&["check", "--format", "json"]).stdout).unwrap();
    assert_eq!(stage_statuses(&claimed), stage_statuses(&fresh));
    assert_eq!(claimed["points"], fresh["points"]);

    // `stop --all` leaves nothing, spares and their networks included.
    let stopped = lab.run(&["stop", "--all"]);
    assert_eq!(stopped.status.code(), Some(0), "{}", stderr(&stopped));
    assert_eq!(lab.containers(), Vec::<String>::new());
    assert_eq!(spare_networks(&lab), Vec::<String>::new());
}

#[test]
fn a_stop_leaves_a_spare_and_turned_off_there_is_none() {
    let lab = with_spares();
    let started = lab.run(&["start", "vm-nginx", "--no-spare", "--quiet"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    // --no-spare: none made behind this start.
    assert!(!lab.home.path().join("data/spare-vm-nginx.log").exists());
    let stopped = lab.run(&["stop", "vm-nginx"]);
    assert_eq!(stopped.status.code(), Some(0), "{}", stderr(&stopped));
    let spare = wait_for_spare(&lab);
    // The next start takes it.
    let again = lab.run(&["start", "vm-nginx", "--quiet"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        ssh_port(&stdout(&again)),
        spare["ssh_port"].as_u64().unwrap() as u16
    );

    assert_eq!(lab.run(&["stop", "--all"]).status.code(), Some(0));
    assert_eq!(lab.containers(), Vec::<String>::new());

    // The home's config turns spares off (no DEPLOYLAB_SPARE set): a start
    // and a stop then leave none.
    let off = Lab::new().env("DEPLOYLAB_SPARE", "");
    std::fs::create_dir_all(off.home.path().join("data")).unwrap();
    std::fs::write(off.home.path().join("data/config.yaml"), "spare: false\n").unwrap();
    let started = off.run(&["start", "vm-nginx", "--quiet"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    assert_eq!(off.run(&["stop", "vm-nginx"]).status.code(), Some(0));
    assert!(!off.home.path().join("data/spare-vm-nginx.log").exists());
    assert_eq!(spare_containers(&off), Vec::<String>::new());

    // A broken config is a clear error naming the place.
    std::fs::write(off.home.path().join("data/config.yaml"), "spare: maybe\n").unwrap();
    let broken = off.run(&["start", "vm-nginx", "--quiet"]);
    assert_eq!(broken.status.code(), Some(2), "{}", stderr(&broken));
    assert!(
        stderr(&broken).contains("config.yaml:1:"),
        "{}",
        stderr(&broken)
    );
}
