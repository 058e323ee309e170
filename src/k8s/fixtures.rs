//! Every k8s check judged from facts without a cluster: the facts
//! recorded from the reference solution on the built-in cluster
//! (`fixtures/solved.json`, `DEPLOYLAB_RECORD_FACTS`), and the classic
//! failures as that record changed the way each changes what the API
//! shows.

use super::facts::Facts;
use crate::catalog::Catalog;
use crate::environment;
use crate::report::{Report, Status};

fn solved() -> Facts {
    serde_json::from_str(&crate::fixtures::read("src/k8s/fixtures", "solved")).unwrap()
}

fn judge(facts: &Facts) -> Report {
    let lab = environment::load(&Catalog::BuiltIn, "k8s").unwrap();
    lab.judge_recorded(&serde_json::to_string(facts).unwrap())
}

/// The checks that fail (not blocked), with what they observed.
fn failing(report: &Report) -> Vec<(String, String)> {
    report
        .stages
        .iter()
        .flat_map(|s| &s.checks)
        .filter(|c| c.status == Status::Fail)
        .map(|c| (c.id.clone(), c.observed.clone()))
        .collect()
}

/// Exactly these checks fail; the first observes `observed`.
fn only_fail(facts: &Facts, checks: &[&str], observed: &str) {
    let failed = failing(&judge(facts));
    let ids: Vec<&str> = failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, checks, "{failed:#?}");
    assert!(failed[0].1.contains(observed), "{}", failed[0].1);
}

fn app_pods(facts: &mut Facts) -> impl Iterator<Item = &mut k8s_openapi::api::core::v1::Pod> {
    facts
        .pods
        .iter_mut()
        .filter(|p| p.metadata.name.as_deref().is_some_and(|n| n.starts_with("blog-")))
}

#[test]
fn the_reference_solution_passes_every_check() {
    let report = judge(&solved());
    assert!(failing(&report).is_empty(), "{:#?}", failing(&report));
    assert_eq!(report.points, report.max_points);
}

#[test]
fn a_rollout_not_finished_fails_only_rolled_out() {
    let mut facts = solved();
    let blog = facts.deployments.iter_mut().find(|d| d.metadata.name.as_deref() == Some("blog")).unwrap();
    blog.status.as_mut().unwrap().updated_replicas = Some(1);
    only_fail(&facts, &["rolled-out"], "1 out of 2 new replicas have been updated");
}

#[test]
fn ready_pods_of_an_older_replica_set_do_not_make_the_rollout_ready() {
    let mut facts = solved();
    let blog = facts.deployments.iter_mut().find(|d| d.metadata.name.as_deref() == Some("blog")).unwrap();
    blog.metadata.annotations.as_mut().unwrap().insert("deployment.kubernetes.io/revision".into(), "9".into());
    only_fail(&facts, &["ready"], "has no ReplicaSet yet");
}

#[test]
fn a_crash_loop_fails_ready_with_its_last_log_lines() {
    let mut facts = solved();
    let pod = app_pods(&mut facts).next().unwrap();
    let name = pod.metadata.name.clone().unwrap();
    let status = pod.status.as_mut().unwrap();
    for c in status.conditions.iter_mut().flatten() {
        c.status = "False".into();
    }
    let container = &mut status.container_statuses.as_mut().unwrap()[0];
    container.restart_count = 5;
    container.state = Some(serde_json::from_value(serde_json::json!({"waiting": {"reason": "CrashLoopBackOff"}})).unwrap());
    facts.logs.insert(name, "Traceback\npsycopg.OperationalError: connection refused\n".into());
    only_fail(&facts, &["ready"], "connection refused");
}

#[test]
fn a_local_latest_image_fails_image_with_the_pull_policy() {
    let mut facts = solved();
    let blog = facts.deployments.iter_mut().find(|d| d.metadata.name.as_deref() == Some("blog")).unwrap();
    let container = &mut blog.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0];
    container.image_pull_policy = Some("Always".into());
    for pod in app_pods(&mut facts) {
        let s = &mut pod.status.as_mut().unwrap().container_statuses.as_mut().unwrap()[0];
        s.state = Some(serde_json::from_value(serde_json::json!({"waiting": {"reason": "ImagePullBackOff"}})).unwrap());
    }
    only_fail(&facts, &["image"], "imagePullPolicy Always");
    let mut facts = solved();
    facts.images.insert("blog:1".into(), false);
    only_fail(&facts, &["image"], "blog:1 is not in the cluster's images");
}

#[test]
fn a_service_that_selects_nothing_fails_selects_and_blocks_answers() {
    let mut facts = solved();
    let service = facts.services.iter_mut().find(|s| s.metadata.name.as_deref() == Some("blog")).unwrap();
    service.spec.as_mut().unwrap().selector = Some([("app".to_string(), "blogg".to_string())].into());
    let report = judge(&facts);
    let failed = failing(&report);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].0, "selects");
    assert!(failed[0].1.contains("select other labels"), "{}", failed[0].1);
    let answers = report.stages.iter().flat_map(|s| &s.checks).find(|c| c.id == "answers").unwrap();
    assert_eq!(answers.status, Status::Blocked);
}

#[test]
fn disallowed_host_behind_the_service_is_named() {
    let mut facts = solved();
    for answers in facts.answers.values_mut() {
        for a in answers {
            a.status = Some(400);
            a.cookies.clear();
        }
    }
    only_fail(&facts, &["answers"], "DisallowedHost");
}

#[test]
fn production_settings_are_judged_each_on_its_own() {
    let mut facts = solved();
    let blog = facts.deployments.iter_mut().find(|d| d.metadata.name.as_deref() == Some("blog")).unwrap();
    let container = &mut blog.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0];
    container.readiness_probe = None;
    container.resources = None;
    for env in container.env.iter_mut().flatten() {
        if env.value_from.as_ref().is_some_and(|v| v.secret_key_ref.is_some()) {
            env.value_from = None;
            env.value = Some("in-the-manifest".into());
        }
    }
    only_fail(&facts, &["readiness", "resources", "secret"], "not on blog");
}

#[test]
fn a_cluster_that_does_not_answer_fails_every_check() {
    let facts = Facts {
        api: Err("connection refused".into()),
        ..Facts::default()
    };
    let report = judge(&facts);
    assert_eq!(report.points, 0);
    assert!(failing(&report)[0].1.contains("deploylab start k8s"), "{:#?}", failing(&report));
}
