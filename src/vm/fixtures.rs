//! Every VM check kind judged from facts recorded on real VMs, without
//! Docker, in milliseconds: the way to change a check. The fixtures
//! (`fixtures/<name>.json`) were recorded with `DEPLOYLAB_RECORD_FACTS`
//! from `deploylab check` on a vm-nginx lab: fresh, after each stage of the
//! reference solution, and with the breakages and tricks the integration
//! tests build. Each is judged by the built-in vm-nginx lab and by a lab
//! listing every check kind; the reports (table and JSON) are snapshots.
//!
//! To add a case: record it (`DEPLOYLAB_RECORD_FACTS=<file> deploylab
//! check`), add its name below, `cargo insta review`.

use super::checks::Check;
use crate::catalog::Catalog;
use crate::environment;
use crate::fixtures;

const FIXTURES: &[&str] = &[
    "fresh",
    "database",
    "deployed",
    "socket-disabled",
    "gunicorn-by-hand",
    "debug-on",
    "app-dir-course-way",
    "app-dir-not-writable",
];

/// Facts of the vm-ansible lab's two machines and the runs deploylab saw,
/// recorded the same way: fresh (no run yet), a run that failed at a typo
/// in a module's arguments, a playbook for web1 only that runs gunicorn as
/// root and is not idempotent (with deploylab's second run), and the
/// reference playbook deployed, run twice and rebooted.
const ANSIBLE_FIXTURES: &[&str] = &[
    "ansible-fresh",
    "ansible-task-failed",
    "ansible-web1-only-sloppy",
    "ansible-deployed",
];

/// A lab with one check of every kind, so each kind meets each fixture.
const EVERY_KIND: &str = r#"
schema: 1
id: every-kind
title: Every check kind of VM labs
environment: vm
stages:
  - id: all
    title: All
    checks:
      - { id: ssh_banner, title: t, hint: h, expect: { ssh_banner: {} } }
      - { id: tcp_listening, title: t, hint: h, expect: { tcp_listening: { port: 22, program: sshd } } }
      - { id: user_exists, title: t, hint: h, expect: { user_exists: {} } }
      - { id: sudo_allowed, title: t, hint: h, expect: { sudo_allowed: {} } }
      - { id: ssh_key_authorized, title: t, hint: h, expect: { ssh_key_authorized: {} } }
      - { id: packages_installed, title: t, hint: h, expect: { packages_installed: { packages: [nginx, git] } } }
      - { id: venv_ready, title: t, hint: h, expect: { venv_ready: {} } }
      - { id: pip_upgraded, title: t, hint: h, expect: { pip_upgraded: {} } }
      - { id: app_dir_ready, title: t, hint: h, expect: { app_dir_ready: {} } }
      - { id: code_checked_out, title: t, hint: h, expect: { code_checked_out: {} } }
      - { id: app_installed, title: t, hint: h, expect: { app_installed: {} } }
      - { id: settings_debug_off, title: t, hint: h, expect: { settings_debug_off: {} } }
      - { id: settings_allowed_hosts, title: t, hint: h, expect: { settings_allowed_hosts: {} } }
      - { id: settings_secret_key, title: t, hint: h, expect: { settings_secret_key: {} } }
      - { id: migrations_applied, title: t, hint: h, expect: { migrations_applied: {} } }
      - { id: superuser_exists, title: t, hint: h, expect: { superuser_exists: {} } }
      - { id: static_collected, title: t, hint: h, expect: { static_collected: {} } }
      - { id: socket_unit_enabled, title: t, hint: h, expect: { socket_unit_enabled: {} } }
      - { id: socket_listening, title: t, hint: h, expect: { socket_listening: {} } }
      - { id: service_unprivileged, title: t, hint: h, expect: { service_unprivileged: {} } }
      - { id: socket_reaches_django, title: t, hint: h, expect: { socket_reaches_django: {} } }
      - { id: units_enabled_at_boot, title: t, hint: h, expect: { units_enabled_at_boot: {} } }
      - { id: app_under_systemd, title: t, hint: h, expect: { app_under_systemd: {} } }
      - { id: rebooted_after_deploy, title: t, hint: h, expect: { rebooted_after_deploy: {} } }
      - { id: nginx_config_valid, title: t, hint: h, expect: { nginx_config_valid: {} } }
      - { id: nginx_proxies_to_socket, title: t, hint: h, expect: { nginx_proxies_to_socket: {} } }
      - { id: default_site_gone, title: t, hint: h, expect: { default_site_gone: {} } }
      - { id: blog_through_nginx, title: t, hint: h, expect: { blog_through_nginx: {} } }
      - { id: static_through_nginx, title: t, hint: h, expect: { static_through_nginx: {} } }
      - { id: debug_off_live, title: t, hint: h, expect: { debug_off_live: {} } }
      - { id: app_not_exposed, title: t, hint: h, expect: { app_not_exposed: {} } }
      - { id: ansible_reached, title: t, hint: h, expect: { ansible_reached: {} } }
      - { id: playbook_succeeded, title: t, hint: h, expect: { playbook_succeeded: {} } }
      - { id: playbook_idempotent, title: t, hint: h, expect: { playbook_idempotent: {} } }
"#;

/// The name of a check's kind: an exhaustive match, so a new kind does not
/// compile until it is named here (and so in `EVERY_KIND`, by the test).
fn kind(check: &Check) -> &'static str {
    match check {
        Check::SshBanner {} => "ssh_banner",
        Check::TcpListening { .. } => "tcp_listening",
        Check::UserExists { .. } => "user_exists",
        Check::SudoAllowed { .. } => "sudo_allowed",
        Check::SshKeyAuthorized { .. } => "ssh_key_authorized",
        Check::PackagesInstalled { .. } => "packages_installed",
        Check::VenvReady {} => "venv_ready",
        Check::PipUpgraded {} => "pip_upgraded",
        Check::AppDirReady {} => "app_dir_ready",
        Check::CodeCheckedOut {} => "code_checked_out",
        Check::AppInstalled {} => "app_installed",
        Check::SettingsDebugOff {} => "settings_debug_off",
        Check::SettingsAllowedHosts {} => "settings_allowed_hosts",
        Check::SettingsSecretKey {} => "settings_secret_key",
        Check::MigrationsApplied {} => "migrations_applied",
        Check::SuperuserExists {} => "superuser_exists",
        Check::StaticCollected {} => "static_collected",
        Check::SocketUnitEnabled {} => "socket_unit_enabled",
        Check::SocketListening {} => "socket_listening",
        Check::ServiceUnprivileged {} => "service_unprivileged",
        Check::SocketReachesDjango {} => "socket_reaches_django",
        Check::UnitsEnabledAtBoot {} => "units_enabled_at_boot",
        Check::AppUnderSystemd {} => "app_under_systemd",
        Check::RebootedAfterDeploy {} => "rebooted_after_deploy",
        Check::NginxConfigValid {} => "nginx_config_valid",
        Check::NginxProxiesToSocket {} => "nginx_proxies_to_socket",
        Check::DefaultSiteGone {} => "default_site_gone",
        Check::BlogThroughNginx {} => "blog_through_nginx",
        Check::StaticThroughNginx {} => "static_through_nginx",
        Check::DebugOffLive {} => "debug_off_live",
        Check::AppNotExposed {} => "app_not_exposed",
        Check::AnsibleReached {} => "ansible_reached",
        Check::PlaybookSucceeded {} => "playbook_succeeded",
        Check::PlaybookIdempotent {} => "playbook_idempotent",
    }
}

fn fixture(name: &str) -> String {
    fixtures::read("src/vm/fixtures", name)
}

#[test]
fn the_every_kind_lab_lists_every_kind_once() {
    let kinds = fixtures::kinds(EVERY_KIND, kind);
    assert_eq!(kinds.len(), 34, "a new kind belongs in EVERY_KIND");
}

#[test]
fn vm_nginx_judges_every_fixture() {
    let vm_nginx = environment::load(&Catalog::BuiltIn, "vm-nginx").unwrap();
    for name in FIXTURES {
        let report = vm_nginx.judge_recorded(&fixture(name));
        insta::assert_snapshot!(format!("vm-nginx-{name}"), report.to_table(0));
    }
}

#[test]
fn vm_ansible_judges_every_ansible_fixture() {
    let vm_ansible = environment::load(&Catalog::BuiltIn, "vm-ansible").unwrap();
    for name in ANSIBLE_FIXTURES {
        let report = vm_ansible.judge_recorded(&fixture(name));
        insta::assert_snapshot!(format!("vm-ansible-{name}"), report.to_table(0));
    }
}

#[test]
fn every_kind_meets_every_fixture() {
    let lab = fixtures::lab(EVERY_KIND);
    for name in FIXTURES {
        let report = lab.judge_recorded(&fixture(name));
        insta::assert_snapshot!(format!("every-kind-{name}"), report.to_json());
    }
}

#[test]
fn a_probe_that_failed_makes_its_checks_errors_only() {
    let mut facts: serde_json::Value = serde_json::from_str(&fixture("deployed")).unwrap();
    facts["machines"][0]["probe"] =
        serde_json::json!({ "Err": "the probe inside the VM failed: exit code 137" });
    let report = fixtures::lab(EVERY_KIND).judge_recorded(&facts.to_string());
    let checks = &report.stages[0].checks;
    let status = |id: &str| checks.iter().find(|c| c.id == id).unwrap().status;
    use crate::report::Status;
    // The banner is the host's own fact; everything else needed the probe.
    assert_eq!(status("ssh_banner"), Status::Pass);
    assert_eq!(status("venv_ready"), Status::Error);
    assert!(
        checks
            .iter()
            .filter(|c| c.id != "ssh_banner")
            .all(|c| c.status == Status::Error)
    );
}

/// The deployed lab's facts, changed by `edit`, judged by vm-nginx: the
/// failing checks as `stage/check: observed`.
fn failing_after(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<String> {
    let mut facts: serde_json::Value = serde_json::from_str(&fixture("deployed")).unwrap();
    edit(&mut facts["machines"][0]["probe"]["Ok"]);
    let vm_nginx = environment::load(&Catalog::BuiltIn, "vm-nginx").unwrap();
    let report = vm_nginx.judge_recorded(&facts.to_string());
    report
        .stages
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        .filter(|(_, c)| c.status != crate::report::Status::Pass)
        .map(|(s, c)| format!("{}/{}: {}", s.id, c.id, c.observed))
        .collect()
}

#[test]
fn debian_12s_name_for_the_courses_venv_package_passes() {
    // Only python3.11-venv (what the course's python3.10-venv is on Debian 12).
    let failing = failing_after(|f| {
        f["packages"]["python3-venv"] = serde_json::json!({
            "installed": false, "status": "", "version": "", "files_listed": 0, "files_missing": []
        });
        f["packages"]["python3.11-venv"]["installed"] = serde_json::json!(true);
    });
    assert_eq!(failing, Vec::<String>::new());
    // Neither: named as the alternatives they are.
    let failing = failing_after(|f| {
        for name in ["python3-venv", "python3.11-venv"] {
            f["packages"][name]["installed"] = serde_json::json!(false);
        }
    });
    assert_eq!(
        failing,
        vec!["packages/apt-packages: not installed: python3-venv or python3.11-venv"]
    );
}

#[test]
fn a_socket_whose_holder_cannot_be_seen_never_passes() {
    // As on a VM where the probe cannot read other users' processes: the
    // listener is there, its holder unknown.
    let failing = failing_after(|f| {
        f["tcp_listen"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "address": "0.0.0.0", "port": 8000, "processes": [], "holders_known": false
            }));
    });
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert!(
        failing[0]
            .starts_with("web-server/not-exposed: cannot tell which process holds 0.0.0.0:8000"),
        "{failing:?}"
    );
}

#[test]
fn the_app_folder_is_judged_by_who_can_write_and_read() {
    // (mode, owner, group), as the probe reports them.
    let with = |mode: u32, owner: (u32, &str), group: (u32, &str)| {
        failing_after(|f| {
            let d = &mut f["deploy"]["student"];
            d["app_dir_stat"]["mode"] = serde_json::json!(mode);
            d["app_dir_stat"]["uid"] = serde_json::json!(owner.0);
            d["app_dir_stat"]["gid"] = serde_json::json!(group.0);
            d["app_dir_owner"] = serde_json::json!(owner.1);
            d["app_dir_group"] = serde_json::json!(group.1);
        })
    };
    let (student, root, www_data) = ((1000, "student"), (0, "root"), (33, "www-data"));
    // The student's own folder, group www-data (the lab's solution).
    assert_eq!(with(0o775, student, www_data), Vec::<String>::new());
    // The course's way, but the student never joined www-data (the
    // deployed fixture's student is not a member): they cannot write.
    assert_eq!(
        with(0o2775, root, www_data),
        ["code/app-dir: /app is root:www-data, mode 2775: student cannot write there"]
    );
    assert_eq!(
        with(0o777, student, www_data),
        [
            "code/app-dir: /app is student:www-data, mode 777: every user of the server may write there"
        ]
    );
    // Before any service: the student's private folder, which www-data
    // (nginx, and the service the course will write) cannot read.
    let failing = failing_after(|f| {
        let d = &mut f["deploy"]["student"];
        d["service"] = serde_json::Value::Null;
        d["app_dir_stat"]["mode"] = serde_json::json!(0o750);
        d["app_dir_stat"]["gid"] = serde_json::json!(1000);
        d["app_dir_group"] = serde_json::json!("student");
    });
    assert!(
        failing.contains(
            &"code/app-dir: /app is student:student, mode 750: the group www-data cannot read it"
                .to_string()
        ),
        "{failing:?}"
    );
}

#[test]
fn a_key_in_place_but_no_real_login_fails() {
    // As with a program that prints an SSH banner on port 22 in sshd's place:
    // the file is right, nobody gets in.
    let mut facts: serde_json::Value = serde_json::from_str(&fixture("deployed")).unwrap();
    facts["machines"][0]["host"]["ssh_login"] = serde_json::json!({ "Err": "kex_exchange_identification: Connection closed by remote host" });
    let vm_nginx = environment::load(&Catalog::BuiltIn, "vm-nginx").unwrap();
    let report = vm_nginx.judge_recorded(&facts.to_string());
    let access = &report.stages[0];
    let failing: Vec<(&str, &str)> = access
        .checks
        .iter()
        .filter(|c| c.status != crate::report::Status::Pass)
        .map(|c| (c.id.as_str(), c.observed.as_str()))
        .collect();
    assert_eq!(
        failing,
        [(
            "key-authorized",
            "present, but logging in fails: kex_exchange_identification: Connection closed by remote host"
        )]
    );
}

/// A deployment that works, with one quality finding: it costs that
/// finding's checks and nothing else (the course's own repository runs
/// with the `django-insecure-` key from its code; DEBUG left on).
#[test]
fn a_quality_finding_costs_only_its_own_checks() {
    let vm_nginx = environment::load(&Catalog::BuiltIn, "vm-nginx").unwrap();
    let mut facts: serde_json::Value = serde_json::from_str(&fixture("deployed")).unwrap();
    let deploy = &mut facts["machines"][0]["probe"]["Ok"]["deploy"]["student"];
    let answer = deploy["django"]["answer"].as_str().unwrap();
    let insecure = answer.replace(r#""secret_key": "ok""#, r#""secret_key": "insecure""#);
    assert_ne!(answer, insecure, "the recorded answer names its key's kind");
    deploy["django"]["answer"] = insecure.into();
    let report = vm_nginx.judge_recorded(&facts.to_string());
    assert_eq!(report.points, report.max_points - 1);
    assert_eq!(report.first_failure.as_ref().unwrap().check, "secret-key");
    insta::assert_snapshot!("vm-nginx-insecure-key", report.to_table(0));

    // DEBUG on (recorded after the settings changed; the VM then rebooted).
    let mut facts: serde_json::Value = serde_json::from_str(&fixture("debug-on")).unwrap();
    let deploy = &mut facts["machines"][0]["probe"]["Ok"]["deploy"]["student"];
    let booted = deploy["booted_at_cs"].as_u64().unwrap();
    deploy["last_change"]["mtime_cs"] = (booted - 100).into();
    let report = vm_nginx.judge_recorded(&facts.to_string());
    let failing: Vec<&str> = report
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .filter(|c| c.status != crate::report::Status::Pass)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(failing, ["debug-off", "debug-off-live"]);
    assert_eq!(report.points, report.max_points - 2);
}

/// A service set to run as root is named as that first, not as the app
/// folder's permissions; and the hints speak of the student's own project
/// (its module, venv, socket and unit), not the course's sample.
#[test]
fn a_root_service_is_the_cause_and_hints_name_the_students_project() {
    let vm_nginx = environment::load(&Catalog::BuiltIn, "vm-nginx").unwrap();
    let mut facts: serde_json::Value = serde_json::from_str(&fixture("deployed")).unwrap();
    let deploy = &mut facts["machines"][0]["probe"]["Ok"]["deploy"]["student"];
    deploy["service"]["user"] = "root".into();
    deploy["service"]["uid"] = 0.into();
    deploy["service"]["user_gids"] = serde_json::json!([0]);
    let answer = deploy["django"]["answer"].as_str().unwrap();
    let shop = answer
        .replace("blog.wsgi:application", "shopsite.wsgi:application")
        .replace(r#""settings_module": "blog.settings""#, r#""settings_module": "shopsite.settings""#);
    deploy["django"]["answer"] = shop.into();
    let report = vm_nginx.judge_recorded(&facts.to_string());
    let (stage, check) = report.first_failure().unwrap();
    assert_eq!((stage.id.as_str(), check.id.as_str()), ("app-server", "service"));
    let status = |id: &str| {
        let all = report.stages.iter().flat_map(|s| &s.checks);
        all.clone().find(|c| c.id == id).unwrap().status
    };
    assert_eq!(status("app-dir"), crate::report::Status::Pass);
    let more = check.hint_more.as_deref().unwrap();
    assert!(more.contains("(gunicorn.service)"), "{more}");
    assert!(
        more.contains("ExecStart=/home/student/.venv/bin/gunicorn --workers 3 --bind unix:/run/gunicorn.sock shopsite.wsgi"),
        "{more}"
    );
    assert!(!more.contains("blog") && !more.contains("{{"), "{more}");
}

/// Every word a hint of a built-in lab says is filled in, from the facts
/// of a deployed lab and of a fresh one.
#[test]
fn no_hint_is_left_with_a_word_unfilled() {
    let vm_nginx = environment::load(&Catalog::BuiltIn, "vm-nginx").unwrap();
    for name in FIXTURES {
        fixtures::assert_hints_filled(name, &vm_nginx.judge_recorded(&fixture(name)));
    }
}

/// A drop-in that sets `User=root` leaves the unit file as it was: what
/// runs decides, so the service's processes running as root fail it.
#[test]
fn a_service_whose_processes_run_as_root_fails_whatever_its_unit_says() {
    let failing = failing_after(|f| {
        let deploy = &mut f["deploy"]["student"];
        for process in deploy["processes"].as_array_mut().unwrap() {
            if process["cgroup"].as_str().unwrap().ends_with("/gunicorn.service") {
                process["uid"] = 0.into();
            }
        }
    });
    assert_eq!(
        failing,
        vec!["app-server/service: gunicorn.service runs as root"]
    );
}

/// A fresh VM earns what the student really has there, access, and
/// nothing passes for want of a subject (no site, no service, no app).
#[test]
fn a_fresh_vm_earns_only_its_access() {
    let vm_nginx = environment::load(&Catalog::BuiltIn, "vm-nginx").unwrap();
    let report = vm_nginx.judge_recorded(&fixture("fresh"));
    let passing: Vec<&str> = report
        .stages
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        .filter(|(_, c)| c.status == crate::report::Status::Pass)
        .map(|(s, _)| s.id.as_str())
        .collect();
    assert!(passing.iter().all(|s| *s == "access"), "{passing:?}");
    assert_eq!(report.points, 4);
}
