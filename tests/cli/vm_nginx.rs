//! The vm-nginx lab stage by stage: the reference solution, its variations, tricks that must not pass, single breakages.

use super::support::*;

/// A started vm-nginx lab with helpers to apply the reference solution and
/// read the checks.
pub(crate) struct Deployment {
    pub(crate) lab: Lab,
    port: u16,
}

impl Deployment {
    pub(crate) fn start() -> Deployment {
        Deployment::start_with(&[])
    }

    /// `deploylab start vm-nginx <extra>`.
    pub(crate) fn start_with(extra: &[&str]) -> Deployment {
        let lab = Lab::new();
        let mut args = vec!["start", "vm-nginx"];
        args.extend_from_slice(extra);
        let out = lab.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let port = ssh_port(&stdout(&out));
        Deployment { lab, port }
    }

    pub(crate) fn solve(&self, stage: &str) {
        let out = self.lab.run(&["solve", stage]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "solve {stage}: {}",
            stderr(&out)
        );
    }

    /// Runs the reference solution with variables changed (a variation).
    fn solve_with(&self, env: &str) {
        for (stage, script) in solution_steps("vm-nginx") {
            let out = self.run_script(&format!("env {env} bash -s"), &script);
            assert!(
                out.status.success(),
                "{stage} with {env}: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        // The last stage asks for a reboot after the deployment.
        self.restart();
    }

    pub(crate) fn restart(&self) {
        let out = self.lab.run(&["restart"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }

    pub(crate) fn run_script(&self, command: &str, script: &str) -> Output {
        let mut ssh = Command::new("ssh");
        ssh.arg("-i")
            .arg(self.lab.key())
            .args(["-p", &self.port.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "BatchMode=yes"])
            .arg("student@127.0.0.1")
            .arg(command);
        with_input(ssh, script)
    }

    /// Runs shell commands in the VM (as the student, sudo available).
    pub(crate) fn sh(&self, script: &str) {
        let out = self.run_script("bash -s", &format!("set -euo pipefail\n{script}"));
        assert!(
            out.status.success(),
            "{script}\n{}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    pub(crate) fn check(&self) -> Value {
        let out = self.lab.run(&["check", "--format", "json"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// The reference solution, one stage at a time: after solving up to stage
/// k exactly the stages up to k pass; at the end everything passes, and
/// still does after a reboot.
#[test]
fn vm_nginx_solution_passes_exactly_the_stages_it_reached() {
    let d = Deployment::start();
    let fresh = d.check();
    let stages: Vec<String> = stage_statuses(&fresh)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        stage_statuses(&fresh)[0].1,
        "pass",
        "access works on a fresh VM"
    );
    for stage in fresh["stages"].as_array().unwrap().iter().skip(1) {
        assert_ne!(
            stage["status"], "pass",
            "{} passes on a fresh VM",
            stage["id"]
        );
        for check in stage["checks"].as_array().unwrap() {
            if check["status"] != "pass" {
                assert!(
                    !check["hint"].as_str().unwrap_or_default().is_empty(),
                    "{} has no hint",
                    check["id"]
                );
            }
        }
    }
    for (k, stage) in stages.iter().enumerate().skip(1) {
        d.solve(stage);
        let report = d.check();
        let statuses = stage_statuses(&report);
        for (i, (id, status)) in statuses.iter().enumerate() {
            if i <= k {
                assert_eq!(
                    status,
                    "pass",
                    "after solving {stage}, {id} should pass: {:?}",
                    failing(&report)
                );
            } else {
                assert_ne!(
                    status, "pass",
                    "after solving {stage}, {id} should not pass yet"
                );
            }
        }
    }
    redacted! { assert_cmd_snapshot!("vm_nginx_all_green", d.lab.cmd(&["check"])); }
    let restart = d.lab.run(&["restart"]);
    assert_eq!(restart.status.code(), Some(0), "{}", stderr(&restart));
    let after = d.check();
    assert_eq!(
        after["passed"],
        true,
        "after a reboot: {:?}",
        failing(&after)
    );
}

fn assert_variation_passes(env: &str) {
    let d = Deployment::start();
    d.solve_with(env);
    let report = d.check();
    assert_eq!(report["passed"], true, "{env}: {:?}", failing(&report));
}

#[test]
fn variation_another_user_runs_the_app() {
    assert_variation_passes("APP_USER=blog");
}

#[test]
fn variation_another_socket_path() {
    assert_variation_passes("SOCKET=/run/blog/app.sock");
}

#[test]
fn variation_uvicorn_instead_of_gunicorn() {
    assert_variation_passes("APP_SERVER=uvicorn");
}

#[test]
fn variation_app_in_another_folder() {
    assert_variation_passes("APP_DIR=/srv/blog");
}

/// The course's own folder: root's, group www-data, mode 2775, the student
/// added to www-data.
#[test]
fn variation_the_courses_app_folder() {
    assert_variation_passes("APP_DIR_OWNER=root");
}

/// The student is root in the VM; none of these fakes a pass.
#[test]
fn tricks_do_not_pass() {
    let d = Deployment::start();

    // Fake tools earlier on PATH change nothing: the probe reads dpkg's files.
    d.sh(r#"for tool in dpkg-query systemctl ss curl; do
        printf '#!/bin/sh\necho "ii  nginx 1.0 all"\nexit 0\n' | sudo tee /usr/local/bin/$tool >/dev/null
        sudo chmod +x /usr/local/bin/$tool
    done"#);
    let report = d.check();
    assert_eq!(first_failure(&report), "packages/apt-packages");
    assert_eq!(status(&report, "packages", "apt-packages"), "fail");
    d.sh("sudo rm /usr/local/bin/dpkg-query /usr/local/bin/systemctl /usr/local/bin/ss /usr/local/bin/curl");
    d.solve("reboot");
    assert_eq!(d.check()["passed"], true);

    // A stale socket file after the socket unit stopped.
    d.sh("sudo systemctl stop gunicorn.socket gunicorn.service; test -S /run/gunicorn.sock");
    let report = d.check();
    assert_eq!(first_failure(&report), "app-server/socket-listening");
    assert!(
        observed(&report, "app-server", "socket-listening")
            .starts_with("nothing listens on /run/gunicorn.sock")
    );

    // A Python one-liner bound to the socket path, answering like a web page.
    d.sh(r#"sudo rm -f /run/gunicorn.sock
sudo nohup python3 -c '
import socket, os
s = socket.socket(socket.AF_UNIX); s.bind("/run/gunicorn.sock"); os.chmod("/run/gunicorn.sock", 0o777); s.listen(8)
while True:
    c, _ = s.accept()
    try:
        c.recv(65536)
        c.sendall(b"HTTP/1.0 200 OK\r\nSet-Cookie: csrftoken=fixed\r\n\r\n<form>csrfmiddlewaretoken</form>")
    except OSError:
        pass
    c.close()
' </dev/null >/dev/null 2>&1 &
until python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("/run/gunicorn.sock")' 2>/dev/null; do sleep 0.05; done"#);
    let report = d.check();
    assert_eq!(first_failure(&report), "app-server/socket-listening");
    // What answers on it is not judged: it is not the app's socket.
    assert_eq!(status(&report, "app-server", "socket-answers"), "blocked");
    let socket = observed(&report, "app-server", "socket-listening");
    assert!(socket.contains("not by systemd"), "{socket}");
    d.sh("sudo pkill -f '[s]ocket.AF_UNIX' || true; sudo rm -f /run/gunicorn.sock; sudo systemctl start gunicorn.socket");
    assert_eq!(d.check()["passed"], true);

    // nginx serving a saved copy of the blog's page, the app stopped.
    d.sh(r#"curl -s http://localhost/ | sudo tee /var/www/html/saved.html >/dev/null
grep -q csrfmiddlewaretoken /var/www/html/saved.html
sudo sed -i 's|proxy_pass http://unix:/run/gunicorn.sock;|root /var/www/html; try_files /saved.html =404;|' /etc/nginx/sites-available/blog
sudo systemctl stop gunicorn.socket gunicorn.service
sudo systemctl restart nginx"#);
    let report = d.check();
    assert_eq!(first_failure(&report), "app-server/socket-listening");
    assert_eq!(status(&report, "web-server", "blog-on-80"), "fail");
    let blog = observed(&report, "web-server", "blog-on-80");
    assert!(blog.contains("not live"), "{blog}");
    d.solve("reboot");
    assert_eq!(d.check()["passed"], true);

    // The service set to run as root: named as that, not as the app
    // folder's permissions, which are judged for the deploying user still.
    d.sh(r#"sudo mkdir -p /etc/systemd/system/gunicorn.service.d
printf '[Service]\nUser=root\nGroup=root\n' | sudo tee /etc/systemd/system/gunicorn.service.d/root.conf >/dev/null
sudo systemctl daemon-reload && sudo systemctl restart gunicorn.service"#);
    let report = d.check();
    assert_eq!(first_failure(&report), "app-server/service");
    assert_eq!(status(&report, "code", "app-dir"), "pass");
    d.sh("sudo rm -r /etc/systemd/system/gunicorn.service.d && sudo systemctl daemon-reload && sudo systemctl restart gunicorn.service");
    d.solve("reboot");
    assert_eq!(d.check()["passed"], true);

    // The course's own test command left running by the student: gunicorn
    // on 0.0.0.0:8000 beside the real deployment, as another user than the
    // probe's (its sockets must still be seen).
    d.sh(r#"cd /app
BLOG_ENV=production DJANGO_SETTINGS_MODULE=blog.settings nohup ~/.venv/bin/gunicorn --bind 0.0.0.0:8000 blog.wsgi </dev/null >/dev/null 2>&1 &
until python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8000))' 2>/dev/null; do sleep 0.05; done"#);
    let report = d.check();
    assert_eq!(first_failure(&report), "web-server/not-exposed");
    let exposed = observed(&report, "web-server", "not-exposed");
    assert!(exposed.contains("0.0.0.0:8000"), "{exposed}");
    d.sh("pkill -u student -f '[0].0.0.0:8000'; while pgrep -u student -f '[0].0.0.0:8000' >/dev/null; do sleep 0.05; done");
    assert_eq!(d.check()["passed"], true);

    // gunicorn started by hand with nohup instead of by systemd.
    d.sh(r#"sudo systemctl disable --now gunicorn.socket gunicorn.service
sudo rm -f /run/gunicorn.sock
sudo install -d -o student /run/by-hand
cd /app
BLOG_ENV=production DJANGO_SETTINGS_MODULE=blog.settings nohup ~/.venv/bin/gunicorn --bind unix:/run/by-hand/gunicorn.sock blog.wsgi </dev/null >/dev/null 2>&1 &
until test -S /run/by-hand/gunicorn.sock; do sleep 0.05; done
sudo sed -i 's|/run/gunicorn.sock|/run/by-hand/gunicorn.sock|' /etc/nginx/sites-available/blog
sudo systemctl restart nginx
until curl -sf http://localhost/ >/dev/null; do sleep 0.05; done"#);
    let report = d.check();
    assert_eq!(first_failure(&report), "app-server/socket-unit");
    let reboot: Vec<String> = report["stages"][10]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(reboot.contains(&"enabled".to_string()), "{reboot:?}");
    assert!(reboot.contains(&"under-systemd".to_string()), "{reboot:?}");
    assert!(observed(&report, "reboot", "under-systemd").starts_with("started by hand"));

    // Last, as it takes SSH away: Python renamed sshd, printing sshd's
    // banner on port 22. The name and the banner are right; nobody can log
    // in, and the access stage says so.
    d.sh(r#"sudo cp /usr/bin/python3 /usr/local/sbin/sshd
sudo systemctl stop ssh.service ssh.socket 2>/dev/null || sudo systemctl stop ssh.service
sudo setsid nohup /usr/local/sbin/sshd -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 22)); s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n")
    c.close()
' </dev/null >/dev/null 2>&1 &
until python3 -c 'import socket; socket.create_connection(("127.0.0.1", 22))' 2>/dev/null; do sleep 0.05; done"#);
    let report = d.check();
    assert_eq!(first_failure(&report), "access/key-authorized");
    assert!(observed(&report, "access", "key-authorized").contains("logging in fails"));
}

/// One thing broken at a time: exactly the checks that watch it fail, what
/// really depends on them is blocked, and everything else keeps its points.
#[test]
fn single_breakages_fail_exactly_their_check() {
    let d = Deployment::start();
    d.solve("reboot");
    assert_eq!(d.check()["passed"], true);

    d.sh("sudo systemctl stop gunicorn.socket gunicorn.service");
    let report = d.check();
    assert_eq!(first_failure(&report), "app-server/socket-listening");
    assert_eq!(
        not_passing(&report),
        vec![
            "app-server/socket-listening",
            "app-server/socket-answers",
            "web-server/blog-on-80",
            "web-server/debug-off-live",
            "web-server/not-exposed",
            "reboot/rebooted",
            "reboot/under-systemd",
        ]
    );
    assert_eq!(status(&report, "app-server", "socket-answers"), "blocked");
    d.sh("sudo systemctl start gunicorn.socket");

    d.sh("sudo rm /etc/nginx/sites-enabled/blog && sudo systemctl restart nginx");
    let report = d.check();
    assert_eq!(first_failure(&report), "web-server/proxy");
    assert_eq!(
        not_passing(&report),
        vec![
            "web-server/proxy",
            "web-server/blog-on-80",
            "web-server/static-by-nginx",
            "web-server/debug-off-live",
            "reboot/rebooted",
        ]
    );
    d.sh("sudo ln -s /etc/nginx/sites-available/blog /etc/nginx/sites-enabled/blog && sudo systemctl restart nginx");
    assert_eq!(d.check()["passed"], true);

    d.sh("sed -i '/allowed_hosts/d' /app/blog_settings.toml && sudo systemctl restart gunicorn.service");
    let report = d.check();
    // With DEBUG off and no ALLOWED_HOSTS, Django refuses every host: the
    // site is down, and says so; the database and static files still count.
    assert_eq!(first_failure(&report), "settings/allowed-hosts");
    assert_eq!(
        not_passing(&report),
        vec![
            "settings/allowed-hosts",
            "app-server/socket-answers",
            "web-server/blog-on-80",
            "web-server/debug-off-live",
            "reboot/rebooted"
        ]
    );
    assert_eq!(status(&report, "web-server", "debug-off-live"), "blocked");
    d.sh(r#"sed -i 's/^debug = false/debug = false\nallowed_hosts = ["*"]/' /app/blog_settings.toml && sudo systemctl restart gunicorn.service"#);
    // The settings changed since the last reboot: the last stage wants one.
    assert_eq!(failing(&d.check()), vec!["reboot/rebooted"]);
    d.restart();
    assert_eq!(d.check()["passed"], true);

    d.sh("sed -i 's/^debug = false/debug = true/' /app/blog_settings.toml && sudo systemctl restart gunicorn.service");
    let report = d.check();
    assert_eq!(first_failure(&report), "settings/debug-off");
    assert_eq!(
        not_passing(&report),
        vec![
            "settings/debug-off",
            "web-server/debug-off-live",
            "reboot/rebooted"
        ]
    );
}
