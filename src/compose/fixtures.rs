//! Every container check judged from facts without Docker: one recorded
//! from the reference solution's running stack (`fixtures/solved.json`,
//! `DEPLOYLAB_RECORD_FACTS`), and the classic failures as that record
//! changed the way each failure changes what deploylab sees.

use super::checks::Check;
use super::facts::{Answer, ContainerState, Exited, Facts, Listener, Role};
use crate::catalog::Catalog;
use crate::environment;
use crate::report::{Report, Status};

fn solved() -> Facts {
    serde_json::from_str(&crate::fixtures::read("src/compose/fixtures", "solved")).unwrap()
}

fn judge(facts: &Facts) -> Report {
    let lab = environment::load(&Catalog::BuiltIn, "container").unwrap();
    lab.judge_recorded(&serde_json::to_string(facts).unwrap())
}

/// The checks that do not pass, with what they observed.
fn failing(report: &Report) -> Vec<(String, String)> {
    report
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .filter(|c| c.status != Status::Pass)
        .map(|c| (c.id.clone(), c.observed.clone()))
        .collect()
}

/// Exactly `check` fails (others may be blocked behind it), observing
/// `observed`.
fn only_fails(facts: &Facts, check: &str, observed: &str) {
    let report = judge(facts);
    let failed: Vec<_> = report
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .filter(|c| c.status == Status::Fail)
        .collect();
    assert_eq!(failed.len(), 1, "{:#?}", failing(&report));
    assert_eq!(failed[0].id, check);
    assert!(
        failed[0].observed.contains(observed),
        "{}",
        failed[0].observed
    );
}

const EVERY_KIND: &str = r#"
schema: 1
id: every-kind
title: Every check kind of Compose labs
environment: container
stages:
  - id: all
    title: All
    checks:
      - { id: image_builds, title: t, hint: h, expect: { image_builds: {} } }
      - { id: image_non_root, title: t, hint: h, expect: { image_non_root: {} } }
      - { id: image_env, title: t, hint: h, expect: { image_env: { name: PYTHONUNBUFFERED } } }
      - { id: image_exposes, title: t, hint: h, expect: { image_exposes: { port: 8000 } } }
      - { id: image_static, title: t, hint: h, expect: { image_static: { file: admin/css/base.css } } }
      - { id: image_no_secrets, title: t, hint: h, expect: { image_no_secrets: {} } }
      - { id: image_context_clean, title: t, hint: h, expect: { image_context_clean: {} } }
      - { id: serves_on_port, title: t, hint: h, expect: { serves_on_port: {} } }
      - { id: listens_on_all_interfaces, title: t, hint: h, expect: { listens_on_all_interfaces: {} } }
      - { id: workers_follow_env, title: t, hint: h, expect: { workers_follow_env: {} } }
      - { id: alone_needs_database, title: t, hint: h, expect: { alone_needs_database: {} } }
      - { id: compose_services, title: t, hint: h, expect: { compose_services: {} } }
      - { id: compose_app_running, title: t, hint: h, expect: { compose_app_running: {} } }
      - { id: compose_db_volume, title: t, hint: h, expect: { compose_db_volume: {} } }
      - { id: compose_app_database, title: t, hint: h, expect: { compose_app_database: {} } }
      - { id: compose_migrated, title: t, hint: h, expect: { compose_migrated: {} } }
      - { id: web_published, title: t, hint: h, expect: { web_published: { port: 80 } } }
      - { id: web_live, title: t, hint: h, expect: { web_live: { path: /admin/login/ } } }
      - { id: web_static, title: t, hint: h, expect: { web_static: { path: /static/, file: admin/css/base.css } } }
      - { id: data_survives, title: t, hint: h, expect: { data_survives: {} } }
"#;

/// Exhaustive, so a new kind must be named here and listed above.
fn kind(check: &Check) -> &'static str {
    match check {
        Check::ImageBuilds {} => "image_builds",
        Check::ImageNonRoot {} => "image_non_root",
        Check::ImageEnv { .. } => "image_env",
        Check::ImageExposes { .. } => "image_exposes",
        Check::ImageStatic { .. } => "image_static",
        Check::ImageNoSecrets {} => "image_no_secrets",
        Check::ImageContextClean {} => "image_context_clean",
        Check::ServesOnPort {} => "serves_on_port",
        Check::ListensOnAllInterfaces {} => "listens_on_all_interfaces",
        Check::WorkersFollowEnv {} => "workers_follow_env",
        Check::AloneNeedsDatabase {} => "alone_needs_database",
        Check::ComposeServices {} => "compose_services",
        Check::ComposeAppRunning {} => "compose_app_running",
        Check::ComposeDbVolume {} => "compose_db_volume",
        Check::ComposeAppDatabase {} => "compose_app_database",
        Check::ComposeMigrated {} => "compose_migrated",
        Check::WebPublished { .. } => "web_published",
        Check::WebLive { .. } => "web_live",
        Check::WebStatic { .. } => "web_static",
        Check::DataSurvives {} => "data_survives",
    }
}

/// A folder with nothing built yet, as the facts of `start` in a fresh
/// clone record it.
fn fresh() -> Facts {
    Facts {
        dir: "/home/aluno/blog".into(),
        image_error: Some("no Dockerfile in /home/aluno/blog".into()),
        ..Facts::default()
    }
}

#[test]
fn the_every_kind_lab_lists_every_kind_once() {
    let kinds = crate::fixtures::kinds(EVERY_KIND, kind);
    assert_eq!(kinds.len(), 20, "a new kind belongs in EVERY_KIND");
}

#[test]
fn every_kind_meets_every_fixture() {
    let lab = crate::fixtures::lab(EVERY_KIND);
    for (name, facts) in [("fresh", fresh()), ("solved", solved())] {
        let report = lab.judge_recorded(&serde_json::to_string(&facts).unwrap());
        insta::assert_snapshot!(format!("every-kind-{name}"), report.to_table(0));
    }
}

#[test]
fn the_container_lab_judges_every_fixture() {
    for (name, facts) in [("fresh", fresh()), ("solved", solved())] {
        insta::assert_json_snapshot!(format!("container-{name}"), judge(&facts));
    }
}

#[test]
fn the_reference_solution_gets_every_point() {
    let report = judge(&solved());
    assert_eq!(report.points, report.max_points, "{:#?}", failing(&report));
}

#[test]
fn a_fresh_folder_fails_first_on_the_dockerfile() {
    let facts = fresh();
    let report = judge(&facts);
    assert_eq!(report.points, 0);
    let failed = failing(&report);
    assert_eq!(
        failed[0],
        ("builds".into(), "no Dockerfile in /home/aluno/blog".into())
    );
    // What needs the image has nothing to look at: blocked by the build.
    // The Compose stages fail on their own: nothing runs yet.
    let blocked_by_build = |c: &&crate::report::CheckResult| {
        c.status == Status::Blocked && c.blocked_by == ["builds"] && c.observed.starts_with("no image")
    };
    assert!(report.stages[0].checks[1..].iter().all(|c| blocked_by_build(&c)));
    assert!(report.stages[1..3].iter().flat_map(|s| &s.checks).all(|c| blocked_by_build(&c)));
    assert_eq!(report.first_failure.as_ref().unwrap().check, "builds");
}

#[test]
fn the_image_checks_read_its_configuration_and_files() {
    let mut facts = solved();
    facts.image.as_mut().unwrap().user = String::new();
    only_fails(&facts, "non-root", "root");

    let mut facts = solved();
    facts.image.as_mut().unwrap().env.remove("PYTHONUNBUFFERED");
    only_fails(&facts, "unbuffered", "PYTHONUNBUFFERED not set");

    let mut facts = solved();
    facts.image.as_mut().unwrap().exposed.clear();
    only_fails(&facts, "expose", "no EXPOSE");

    let mut facts = solved();
    let files = facts.probe.as_mut().unwrap().files.as_mut().unwrap();
    files.static_files.clear();
    only_fails(&facts, "collectstatic", "no …/admin/css/base.css");

    let mut facts = solved();
    let image = facts.image.as_mut().unwrap();
    image.secrets_in_config.push("BLOG_SECRET_KEY".into());
    only_fails(&facts, "no-secrets", "BLOG_SECRET_KEY (ENV or ARG)");

    let mut facts = solved();
    let files = facts.probe.as_mut().unwrap().files.as_mut().unwrap();
    files.git.push("/app/.git".into());
    files.databases.push("/app/db.sqlite3".into());
    only_fails(&facts, "context", "/app/.git, /app/db.sqlite3");
}

#[test]
fn an_app_left_on_gunicorns_default_bind_is_unreachable() {
    let mut facts = solved();
    let built = facts.probe.as_mut().unwrap().as_built.as_mut().unwrap();
    built.listening = vec![Listener {
        ip: "127.0.0.1".into(),
        port: 8000,
    }];
    only_fails(&facts, "all-interfaces", "127.0.0.1:8000 only");

    let mut facts = solved();
    let probe = facts.probe.as_mut().unwrap();
    probe.listening = vec![Listener {
        ip: "0.0.0.0".into(),
        port: 8000,
    }];
    only_fails(&facts, "port", "not on PORT=8765");
}

#[test]
fn workers_are_counted_under_the_servers_master() {
    let mut facts = solved();
    let probe = facts.probe.as_mut().unwrap();
    let pids: Vec<u32> = probe.processes.iter().map(|p| p.pid).collect();
    let master = probe
        .processes
        .iter()
        .find(|p| p.args.contains("gunicorn") && !pids.contains(&p.ppid))
        .map(|p| p.pid)
        .unwrap();
    let first_worker = probe
        .processes
        .iter()
        .position(|p| p.ppid == master)
        .unwrap();
    probe.processes.remove(first_worker);
    only_fails(&facts, "workers", "2 workers with WEB_CONCURRENCY=3");
}

#[test]
fn alone_the_app_must_fail_on_its_database() {
    let mut facts = solved();
    let db = facts.probe.as_mut().unwrap().database.as_mut().unwrap();
    db.vendor = "sqlite".into();
    db.error = None;
    only_fails(&facts, "database-error", "SQLite inside the container");

    // An entrypoint that migrates first stops the container: that is the
    // same lesson, read from its output.
    let mut facts = solved();
    let probe = facts.probe.as_mut().unwrap();
    probe.exited = Some(Exited {
        code: 1,
        log_tail:
            "django.db.utils.OperationalError: could not translate host name \"db\" to address"
                .into(),
    });
    let report = judge(&facts);
    let alone = report.stages.iter().find(|s| s.id == "alone").unwrap();
    assert_eq!(alone.checks[0].status, Status::Pass);
}

#[test]
fn compose_failures_name_their_cause() {
    let mut facts = solved();
    facts.stack.app_database_url.as_mut().unwrap().host = "localhost".into();
    only_fails(&facts, "db-url", "names localhost");

    let mut facts = solved();
    facts.stack.db.as_mut().unwrap().mount = None;
    only_fails(
        &facts,
        "db-volume",
        "nothing mounted on /var/lib/postgresql/data",
    );

    let mut facts = solved();
    facts.stack.db.as_mut().unwrap().migrations = Ok(vec!["auth.0001_initial".into()]);
    only_fails(&facts, "migrated", "posts.0001_initial");

    // depends_on without waiting: the app ran before PostgreSQL listened.
    let mut facts = solved();
    let app = facts
        .stack
        .services
        .iter_mut()
        .find(|s| s.role == Role::App)
        .unwrap();
    app.state = ContainerState::Exited;
    app.exit_code = 1;
    app.log_tail = "psycopg.OperationalError: connection failed: Connection refused".into();
    facts.web = None;
    let report = judge(&facts);
    let failed: Vec<String> = failing(&report).into_iter().map(|(id, _)| id).collect();
    assert_eq!(failed[..2], ["services", "app-up"], "{failed:?}");
}

#[test]
fn nginx_failures_name_their_cause() {
    let mut facts = solved();
    let nginx = facts
        .stack
        .services
        .iter_mut()
        .find(|s| s.role == Role::Web)
        .unwrap();
    nginx.state = ContainerState::Created;
    facts.web = None;
    let report = judge(&facts);
    let published = report
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .find(|c| c.id == "published")
        .unwrap();
    assert!(
        published.observed.contains("never started"),
        "{}",
        published.observed
    );

    let mut facts = solved();
    let web = facts.web.as_mut().unwrap();
    web.live = vec![
        Answer {
            status: Some(502),
            ..Answer::default()
        };
        2
    ];
    only_fails(&facts, "live", "502, 502");

    let mut facts = solved();
    let web = facts.web.as_mut().unwrap();
    let cookies = web.live[0].cookies.clone();
    web.live[1].cookies = cookies;
    only_fails(&facts, "live", "did not change");

    let mut facts = solved();
    let web = facts.web.as_mut().unwrap();
    web.volume_files = Some(0);
    web.static_file.as_mut().unwrap().status = Some(404);
    only_fails(&facts, "static", "static volume is empty");

    let mut facts = solved();
    facts.web.as_mut().unwrap().from_disk = Some(Ok(false));
    only_fails(
        &facts,
        "static",
        "does not serve that location from the volume",
    );
}

#[test]
fn persistence_is_proven_by_a_replaced_database_with_the_same_data() {
    let mut facts = solved();
    facts.persistence.survived.clear();
    facts.persistence.lost.clear();
    facts.persistence.older_than_container = false;
    only_fails(&facts, "survives", "not proven yet");
    facts.persistence.lost.push("0ld".into());
    only_fails(&facts, "survives", "data was lost");

    let mut seen = super::facts::Seen::default();
    assert!(seen.record("c1", "7").survived.is_empty());
    let again = seen.record("c2", "7");
    assert_eq!(again.survived, vec!["c1".to_string()]);
    let lost = seen.record("c3", "8");
    assert!(lost.survived.is_empty() && lost.lost.len() == 2, "{lost:?}");
    // initdb's time is in the system identifier's top bits.
    assert_eq!(
        super::facts::made_at("7713618782993375251"),
        Some(1_795_966_826)
    );
}

/// Another correct project, not the blog: other service names (web,
/// database, proxy), another user, uvicorn's workers (listening on `::`,
/// the lab's EXPOSE 8000 kept), static
/// files collected elsewhere, its own app's migrations, the database URL in
/// DATABASE_URL. Every check passes.
#[test]
fn another_project_deployed_its_own_way_gets_every_point() {
    let mut facts = solved();
    let image = facts.image.as_mut().unwrap();
    image.user = "app:app".into();
    image.source = super::facts::ImageSource::Compose {
        service: "web".into(),
    };
    let probe = facts.probe.as_mut().unwrap();
    for process in &mut probe.processes {
        process.args = "/usr/local/bin/python /usr/local/bin/uvicorn shop.asgi:application --host 0.0.0.0 --port 8765 --workers 3".into();
    }
    let built = probe.as_built.as_mut().unwrap();
    built.listening = vec![Listener {
        ip: "::".into(),
        port: 8000,
    }];
    let files = probe.files.as_mut().unwrap();
    files.static_files = vec!["/srv/shop/staticfiles/admin/css/base.css".into()];
    files.migrations = vec!["shop.0001_initial".into(), "shop.0002_order".into()];
    for service in &mut facts.stack.services {
        let name = match service.role {
            Role::App => "web",
            Role::Db => "database",
            _ => "proxy",
        };
        service.service = name.into();
        service.aliases = vec![name.into(), format!("shop_{name}_1")];
    }
    let url = facts.stack.app_database_url.as_mut().unwrap();
    url.variable = "DATABASE_URL".into();
    url.host = "database".into();
    url.database = "shop".into();
    let db = facts.stack.db.as_mut().unwrap();
    db.database = "shop".into();
    if let Ok(applied) = &mut db.migrations {
        applied.extend(["shop.0001_initial".into(), "shop.0002_order".into()]);
    }
    let report = judge(&facts);
    assert_eq!(report.points, report.max_points, "{:#?}", failing(&report));
}

/// A stack that works with one quality finding (a SECRET_KEY baked into
/// the image; the app running as root) loses that finding's check and
/// nothing else.
#[test]
fn a_quality_finding_costs_only_its_own_check() {
    let mut facts = solved();
    let image = facts.image.as_mut().unwrap();
    image.secrets_in_config.push("BLOG_SECRET_KEY".into());
    let report = judge(&facts);
    let not_passing: Vec<&str> = report
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .filter(|c| c.status != Status::Pass)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(not_passing, ["no-secrets"]);
    assert_eq!(report.points, report.max_points - 1);
    insta::assert_snapshot!("container-secret-in-image", report.to_table(0));

    let mut facts = solved();
    facts.image.as_mut().unwrap().user = String::new();
    let report = judge(&facts);
    assert_eq!(report.points, report.max_points - 1);
    assert_eq!(report.first_failure.unwrap().check, "non-root");
}

/// Hints name the student's own services and where their Compose file is
/// (the course keeps it in docker/); no word is left unfilled.
#[test]
fn hints_name_the_students_own_stack() {
    let mut facts = solved();
    facts.compose_file = Some("docker/docker-compose.yaml".into());
    for service in &mut facts.stack.services {
        service.service = format!("my-{}", service.service);
    }
    // The app's container stopped: its check fails and says how to look.
    let app = facts.stack.services.iter_mut().find(|s| s.role == super::facts::Role::App).unwrap();
    app.state = super::facts::ContainerState::Exited;
    let app_service = app.service.clone();
    let report = judge(&facts);
    let (_, check) = report.first_failure().unwrap();
    assert_eq!(check.id, "services");
    let more = check.hint_more.as_deref().unwrap();
    assert!(more.contains("`docker-compose -f docker/docker-compose.yaml ps`"), "{more}");
    let app_up = report.stages.iter().flat_map(|s| &s.checks).find(|c| c.id == "app-up");
    let more = app_up.unwrap().hint_more.as_deref().unwrap();
    assert!(
        more.contains(&format!("`docker-compose -f docker/docker-compose.yaml logs {app_service}`")),
        "{more}"
    );
    for name in ["fresh", "solved"] {
        let facts = if name == "fresh" { fresh() } else { solved() };
        crate::fixtures::assert_hints_filled(name, &judge(&facts));
    }
}
