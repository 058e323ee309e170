//! Where students are: deploylab where the engine's container addresses
//! are not routed (as with Docker Desktop on macOS and Windows), and images
//! made without mmdebstrap (which only Debian and Ubuntu have).

use super::support::*;

/// A Docker registry of Debian's `docker-registry` package on 127.0.0.1,
/// holding `debian:<suite>` images made from mmdebstrap's output: what
/// Docker Hub is to Docker Desktop, where no registry answers. Stopped
/// when dropped.
struct DebianRegistry {
    process: std::process::Child,
    _storage: tempfile::TempDir,
    /// `127.0.0.1:<port>/debian`, for `DEPLOYLAB_DEBIAN_IMAGE`.
    repo: String,
}

/// Fixed, so the images made from it keep their names between runs.
const REGISTRY_PORT: u16 = 35741;

impl DebianRegistry {
    fn start(suites: &[&str]) -> DebianRegistry {
        let storage = tempfile::tempdir().unwrap();
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{REGISTRY_PORT}\n",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let process = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian: apt-get install docker-registry)");
        let registry = DebianRegistry {
            process,
            _storage: storage,
            repo: format!("127.0.0.1:{REGISTRY_PORT}/debian"),
        };
        // Ready when its API answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", REGISTRY_PORT)).is_err() {
            assert!(Instant::now() < deadline, "the registry never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
        for suite in suites {
            registry.push_debian(suite);
        }
        registry
    }

    /// mmdebstrap's minbase of `suite`, imported and pushed as
    /// `<repo>:<suite>`, then removed from the engine (deploylab pulls it).
    fn push_debian(&self, suite: &str) {
        let image = format!("{}:{suite}", self.repo);
        let script = format!(
            "set -euo pipefail; mmdebstrap --quiet --variant=minbase \
             --aptopt='Acquire::Check-Valid-Until \"false\"' --format=tar {suite} - \
             | docker import - {image} >/dev/null && docker push -q {image} >/dev/null \
             && docker rmi -f {image} >/dev/null"
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        assert!(out.status.success(), "{image}: {}", stderr(&out));
    }
}

impl Drop for DebianRegistry {
    /// The registry stops, and the Debian images deploylab pulled from it
    /// go (what it made from them stays, for `images prune`).
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        for suite in ["bookworm", "trixie", "forky"] {
            let _ = Command::new("docker")
                .args(["rmi", "-f", &format!("{}:{suite}", self.repo)])
                .output();
        }
    }
}

/// A PATH with every program of this one but `hidden`: a folder of links
/// to the others, standing in for each folder that holds `hidden`.
fn path_without(hidden: &str, links: &std::path::Path) -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs = Vec::new();
    for (i, dir) in std::env::split_paths(&path).enumerate() {
        if !dir.join(hidden).exists() {
            dirs.push(dir);
            continue;
        }
        let shadow = links.join(i.to_string());
        std::fs::create_dir_all(&shadow).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_name() != hidden {
                let _ = std::os::unix::fs::symlink(entry.path(), shadow.join(entry.file_name()));
            }
        }
        dirs.push(shadow);
    }
    std::env::join_paths(dirs)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A network of its own for deploylab's host side, and a container on it
/// that runs commands over the host's files (chroot) with the engine's
/// socket and the host's processes in view, but the network's own routes:
/// Docker's isolation rules drop what it sends to other networks, so no
/// container of a lab is reachable at its address, and published ports
/// answer at the network's gateway (`DEPLOYLAB_PUBLISH_HOST`).
struct Outside {
    network: String,
    gateway: String,
    image: String,
}

impl Outside {
    fn new(image: &str) -> Outside {
        let network = format!("deploylab-outside-{}", std::process::id());
        let made = Command::new("docker")
            .args([
                "network",
                "create",
                "--label",
                "deploylab.test=outside",
                &network,
            ])
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", stderr(&made));
        let inspected = Command::new("docker")
            .args(["network", "inspect", &network, "--format"])
            .arg("{{(index .IPAM.Config 0).Gateway}}")
            .output()
            .unwrap();
        Outside {
            network,
            gateway: stdout(&inspected).trim().to_string(),
            image: image.to_string(),
        }
    }

    /// `program args…` run outside, with only `env`.
    fn run(&self, env: &[(&str, String)], program: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new("docker");
        cmd.args(["run", "--rm", "--pid", "host", "--network", &self.network])
            .args([
                "-v",
                "/:/host",
                "--entrypoint",
                "chroot",
                &self.image,
                "/host",
            ])
            .arg("/usr/bin/env")
            .arg("-i");
        for (key, value) in env {
            cmd.arg(format!("{key}={value}"));
        }
        cmd.arg(program).args(args).stdin(Stdio::null());
        cmd.output().unwrap()
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["network", "rm", &self.network])
            .output();
    }
}

/// Whether a TCP connection to `address` opens from outside.
fn connects_from(outside: &Outside, address: &str) -> bool {
    let (ip, port) = address.rsplit_once(':').unwrap();
    let probe = format!("import socket; socket.create_connection(('{ip}', {port}), timeout=3)");
    let path = ("PATH", "/usr/bin:/bin".to_string());
    outside
        .run(&[path], "python3", &["-c", &probe])
        .status
        .success()
}

/// `selftest` for every lab where the two portability paths meet: its
/// images built without mmdebstrap, from Debian's own images pulled from a
/// registry (mmdebstrap hidden from PATH), and deploylab's host side where
/// container addresses are not routed. Each lab's checks agree with its
/// reference solution stage by stage, and each solution, submitted and
/// graded, earns every point. (Every other test proves the labs the usual
/// way: mmdebstrap's images, on the engine's own host.)
#[test]
fn selftest_proves_every_lab_without_mmdebstrap_or_routes_to_containers() {
    let registry = DebianRegistry::start(&["bookworm", "trixie", "forky"]);
    let links = tempfile::tempdir().unwrap();
    let cli = super::heroku::heroku_cli();
    let path = format!(
        "{}:{}",
        cli.parent().unwrap().display(),
        path_without("mmdebstrap", links.path())
    );
    let lab = Lab::new()
        .env("PATH", path.clone())
        .env("DEPLOYLAB_DEBIAN_IMAGE", registry.repo.clone());

    // The images, from the registry's Debian: none of them is mmdebstrap's.
    let built = lab.run(&["images", "build"]);
    assert!(
        built.status.success(),
        "{}{}",
        stdout(&built),
        stderr(&built)
    );
    let doctor = stdout(&lab.run(&["doctor"]));
    assert!(
        doctor.contains(&format!(
            "images are built from Debian's own images ({}:<suite>)",
            registry.repo
        )),
        "{doctor}"
    );
    let vm = stdout(&built)
        .lines()
        .find_map(|l| l.strip_suffix(" is up to date."))
        .filter(|tag| tag.starts_with("deploylab/vm:"))
        .expect("the VM image's tag")
        .to_string();
    let usual = stdout(&Lab::new().run(&["images", "build"]));
    assert!(
        !usual.contains(&vm),
        "the same tag as mmdebstrap's: {usual}"
    );

    // The premise: from outside, a container is not reachable at its own
    // address, only at a port published on the gateway.
    let outside = Outside::new(&vm);
    let server = Command::new("docker")
        .args(["run", "-d", "--rm", "--label", "deploylab.test=outside"])
        .args(["-p", &format!("{}::8000", outside.gateway)])
        .args([&vm, "python3", "-m", "http.server", "8000"])
        .output()
        .unwrap();
    let server = stdout(&server).trim().to_string();
    let inspect = |format: &str| {
        stdout(
            &Command::new("docker")
                .args(["inspect", &server, "--format", format])
                .output()
                .unwrap(),
        )
        .trim()
        .to_string()
    };
    let own = format!("{}:8000", inspect("{{.NetworkSettings.IPAddress}}"));
    let published = format!(
        "{}:{}",
        outside.gateway,
        inspect("{{(index (index .NetworkSettings.Ports \"8000/tcp\") 0).HostPort}}")
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&own).is_err() {
        assert!(Instant::now() < deadline, "the server never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !connects_from(&outside, &own),
        "{own} is routed from outside"
    );
    assert!(connects_from(&outside, &published), "{published}");
    let _ = Command::new("docker").args(["rm", "-f", &server]).output();

    let home = lab.home.path();
    let env = [
        ("PATH", path),
        ("HOME", home.display().to_string()),
        ("DEPLOYLAB_HOME", home.join("data").display().to_string()),
        ("DEPLOYLAB_CACHE", shared_cache().display().to_string()),
        ("DEPLOYLAB_DEBIAN_IMAGE", registry.repo.clone()),
        ("DEPLOYLAB_PUBLISH_HOST", outside.gateway.clone()),
    ];
    let out = outside.run(&env, env!("CARGO_BIN_EXE_deploylab"), &["selftest"]);
    let printed = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}{}", stderr(&out));
    let row = |lab: &str, step: &str| {
        printed
            .lines()
            .find(|l| l.contains(lab) && l.contains(step))
            .unwrap_or_else(|| panic!("no {lab} · {step} in\n{printed}"))
            .to_string()
    };
    for (lab, points) in [
        ("vm-nginx", "33/33"),
        ("vm-ansible", "34/34"),
        ("heroku", "14/14"),
        ("container", "26/26"),
        ("k8s", "14/14"),
    ] {
        assert!(row(lab, "fresh environment").contains(" ok "), "{printed}");
        assert!(row(lab, "whole solution").contains(" ok "), "{printed}");
        let graded = row(lab, "its submission, graded");
        assert!(
            graded.contains(" ok ") && graded.contains(points),
            "{graded}"
        );
    }
    assert!(!printed.contains("MISMATCH"), "{printed}");
}
