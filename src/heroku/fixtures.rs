//! Every heroku check kind judged from typed snapshots of the fake
//! (`fixtures/<name>.json`: the shapes `facts.rs` gathers, written for the
//! course's states and classic failures: no fake, no app, an app created,
//! deployed, crashed (H10), and a failed build, release phase and settings
//! with web=0 and a rollback; a Flask app whose web process never binds
//! `$PORT`), without Docker. Reports are snapshots.

use super::checks::Check;
use crate::environment;
use crate::fixtures;

const FIXTURES: &[&str] = &[
    "fake-stopped",
    "no-app",
    "created",
    "deployed",
    "crashed",
    "broken-release",
    "flask-r10",
];

const EVERY_KIND: &str = r#"
schema: 1
id: every-kind
title: Every check kind of heroku labs
environment: heroku
stages:
  - id: all
    title: All
    checks:
      - { id: heroku_app, title: t, hint: h, expect: { heroku_app: {} } }
      - { id: heroku_procfile, title: t, hint: h, expect: { heroku_procfile: { process: web, program: gunicorn } } }
      - { id: heroku_build_succeeded, title: t, hint: h, expect: { heroku_build_succeeded: {} } }
      - { id: heroku_released, title: t, hint: h, expect: { heroku_released: {} } }
      - { id: heroku_migrated, title: t, hint: h, expect: { heroku_migrated: {} } }
      - { id: heroku_debug_off, title: t, hint: h, expect: { heroku_debug_off: {} } }
      - { id: heroku_secret_key, title: t, hint: h, expect: { heroku_secret_key: {} } }
      - { id: heroku_allowed_hosts, title: t, hint: h, expect: { heroku_allowed_hosts: {} } }
      - { id: heroku_web_dyno, title: t, hint: h, expect: { heroku_web_dyno: {} } }
      - { id: heroku_http, title: t, hint: h, expect: { heroku_http: { path: /, status: 200 } } }
"#;

/// Exhaustive, so a new kind must be named here and listed above.
fn kind(check: &Check) -> &'static str {
    match check {
        Check::HerokuApp {} => "heroku_app",
        Check::HerokuProcfile { .. } => "heroku_procfile",
        Check::HerokuBuildSucceeded {} => "heroku_build_succeeded",
        Check::HerokuReleased {} => "heroku_released",
        Check::HerokuMigrated {} => "heroku_migrated",
        Check::HerokuDebugOff {} => "heroku_debug_off",
        Check::HerokuSecretKey {} => "heroku_secret_key",
        Check::HerokuAllowedHosts {} => "heroku_allowed_hosts",
        Check::HerokuWebDyno {} => "heroku_web_dyno",
        Check::HerokuHttp { .. } => "heroku_http",
    }
}

fn fixture(name: &str) -> String {
    fixtures::read("src/heroku/fixtures", name)
}

#[test]
fn the_every_kind_lab_lists_every_kind_once() {
    let kinds = fixtures::kinds(EVERY_KIND, kind);
    assert_eq!(kinds.len(), 10, "a new kind belongs in EVERY_KIND");
}

#[test]
fn every_kind_meets_every_fixture() {
    let lab = fixtures::lab(EVERY_KIND);
    for name in FIXTURES {
        let report = lab.judge_recorded(&fixture(name));
        insta::assert_snapshot!(format!("every-kind-{name}"), report.to_table(0));
    }
}

#[test]
fn the_heroku_lab_judges_every_fixture() {
    let heroku = environment::load(&crate::catalog::Catalog::BuiltIn, "heroku").unwrap();
    for name in FIXTURES {
        let report = heroku.judge_recorded(&fixture(name));
        insta::assert_json_snapshot!(format!("heroku-{name}"), report);
    }
}

/// A deployed app with one quality finding (the code's `django-insecure-`
/// key; DEBUG left on) loses that finding's check and nothing else.
#[test]
fn a_quality_finding_costs_only_its_own_check() {
    let heroku = environment::load(&crate::catalog::Catalog::BuiltIn, "heroku").unwrap();
    for (field, check) in [("secret_key_insecure", "secret-key"), ("debug", "debug-off")] {
        let mut facts: serde_json::Value = serde_json::from_str(&fixture("deployed")).unwrap();
        let settings = find_settings(&mut facts).expect("the deployed app's settings");
        settings[field] = true.into();
        let report = heroku.judge_recorded(&facts.to_string());
        let failing: Vec<&str> = report
            .stages
            .iter()
            .flat_map(|s| &s.checks)
            .filter(|c| c.status != crate::report::Status::Pass)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(failing, [check]);
        assert_eq!(report.points, report.max_points - 1);
        if check == "secret-key" {
            insta::assert_snapshot!("heroku-insecure-key", report.to_table(0));
        }
    }
}

/// The `settings.Ok` object wherever the app's facts keep it.
fn find_settings(value: &mut serde_json::Value) -> Option<&mut serde_json::Value> {
    if value.get("settings").and_then(|s| s.get("Ok")).is_some() {
        return value.get_mut("settings")?.get_mut("Ok");
    }
    match value {
        serde_json::Value::Object(map) => map.values_mut().find_map(find_settings),
        serde_json::Value::Array(list) => list.iter_mut().find_map(find_settings),
        _ => None,
    }
}

/// Hints name the student's own app; none is left with a word unfilled.
#[test]
fn hints_name_the_students_app() {
    let heroku = environment::load(&crate::catalog::Catalog::BuiltIn, "heroku").unwrap();
    let mut facts: serde_json::Value = serde_json::from_str(&fixture("deployed")).unwrap();
    let settings = find_settings(&mut facts).unwrap();
    settings["debug"] = true.into();
    let report = heroku.judge_recorded(&facts.to_string());
    let (_, check) = report.first_failure().unwrap();
    let app = facts["app"]["name"].as_str().unwrap();
    assert!(check.hint.as_deref().unwrap().contains(&format!("-a {app}`")), "{check:?}");
    for name in FIXTURES {
        fixtures::assert_hints_filled(name, &heroku.judge_recorded(&fixture(name)));
    }
}

/// A fresh fake earns nothing, an app created only its creation: nothing
/// passes for want of a build, a release or a dyno.
#[test]
fn a_fresh_fake_earns_only_what_was_done() {
    let heroku = environment::load(&crate::catalog::Catalog::BuiltIn, "heroku").unwrap();
    assert_eq!(heroku.judge_recorded(&fixture("no-app")).points, 0);
    let created = heroku.judge_recorded(&fixture("created"));
    assert_eq!(created.points, 1);
    assert_eq!(created.counts.passed, 1);
}
