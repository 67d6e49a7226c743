//! Guards how the overview and a release's page show the two requests that are not a release's
//! sign-off: a failure question (guided failure: retry, roll back or leave it) is a decision the
//! release waits on; a redeploy's confirmation stands beside its environment and never puts a
//! finished release back in flight. (A child of `status_overview`, whose fixtures it uses.)

use baton_domain::ports::status::{PendingKind, ReleaseDetail, ReleaseRecord, StatusView, WaitingOn};
use baton_domain::release::{ReleaseId, ReleaseStatus};

use super::{env, looked, only, page, sign_off, summaries};
use crate::common::{at, event, from_json, local, release};

/// Release `number`'s deployment to `environment` failed with `reason`; asked at 1, lapses at 600.
fn question(number: u64, environment: &str, reason: &str) -> baton_domain::ports::status::PendingSignOff {
    let mut request = sign_off(number, environment, 1, 600);
    request.failure = Some(from_json(serde_json::json!({ "reason": reason })));
    request
}

/// Approver `rm@example.com` asked to redeploy release `number` to `environment`, where
/// `replacing` was live; asked at 1, lapses at 60.
fn confirmation(number: u64, environment: &str, replacing: Option<u64>) -> baton_domain::ports::status::PendingSignOff {
    let mut request = sign_off(number, environment, 1, 60);
    request.approvers = vec!["rm@example.com".into()];
    request.redeploy = Some(from_json(serde_json::json!({
        "execution": format!("redeploy-{number}-x"),
        "environment": environment,
        "requestedBy": "rm@example.com",
        "reason": "login broken",
        "replacing": replacing,
    })));
    request
}

#[test]
fn a_failed_deployment_asking_what_to_do_waits_for_a_decision_until_it_rolls_back() {
    let build = |now| {
        StatusView::build(
            &local(),
            &page(vec![release(6, "deploying", at(0))]),
            &[question(6, "TEST", "the Pages deployment failed.")],
            &[],
            &looked(vec![env("TEST", Some(5), Some(6)), env("PROD", Some(5), None)]),
            now,
        )
    };
    let v = build(at(30));
    let f = only(&v);
    assert_eq!(
        f.summary,
        "Deploying to TEST failed: the Pages deployment failed. Waits for release-manager@example.com, \
         cab@example.com or qa@example.com to choose: retry, roll back or leave it"
    );
    assert_eq!(f.status, ReleaseStatus::Deploying);
    assert_eq!(v.recent_releases[0].outcome, f.summary);
    assert_eq!(
        serde_json::to_value(&f.waiting_on).unwrap(),
        serde_json::json!({
            "kind": "decision",
            "environment": "TEST",
            "approvers": ["release-manager@example.com", "cab@example.com", "qa@example.com"],
            "reason": "the Pages deployment failed.",
            "expires_at": "2026-03-02T19:00:00Z",
        })
    );
    // Lapsed (it rolls back): the release is simply deploying there.
    assert_eq!(summaries(&build(at(600))), [(6, "Deploying to TEST".to_string())]);
}

#[test]
fn a_pending_redeploy_never_puts_a_finished_release_back_in_flight() {
    let environments = || looked(vec![env("TEST", Some(7), None), env("PROD", Some(7), None)]);
    for releases in [vec![release(5, "released", at(0))], vec![]] {
        let known = !releases.is_empty();
        let v = StatusView::build(
            &local(),
            &page(releases),
            &[confirmation(5, "PROD", Some(7))],
            &[],
            &environments(),
            at(30),
        );
        assert_eq!(summaries(&v), [], "known: {known}");
        if known {
            // Where it is live now: nowhere, release 7 replaced it in both.
            assert_eq!(
                v.recent_releases[0].outcome,
                "Was live in TEST (now release 7) and PROD (now release 7)"
            );
        }
        let pending = &v.environments[1].pending;
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].kind, PendingKind::Redeploy);
        assert_eq!(
            pending[0].summary,
            "Roll PROD back to release 5 \u{2014} waits for rm@example.com to confirm"
        );
        assert_eq!(
            (pending[0].since, pending[0].expires_at, pending[0].reason.as_str()),
            (at(1), at(60), "login broken")
        );
        assert!(v.environments[0].pending.is_empty());
    }
    // Worded as what it does: again, or a retry where nothing newer is live; gone once lapsed.
    let words = |number, replacing, now| {
        let v = StatusView::build(
            &local(),
            &page(vec![]),
            &[confirmation(number, "TEST", replacing)],
            &[],
            &environments(),
            now,
        );
        v.environments[0]
            .pending
            .iter()
            .map(|p| p.summary.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(7, Some(7), at(30)),
        ["Deploy release 7 to TEST again \u{2014} waits for rm@example.com to confirm"]
    );
    assert_eq!(
        words(8, None, at(30)),
        ["Retry release 8 in TEST \u{2014} waits for rm@example.com to confirm"]
    );
    assert!(words(8, None, at(60)).is_empty());
}

#[test]
fn a_release_in_flight_is_not_waiting_on_a_redeploy_of_it() {
    let v = StatusView::build(
        &local(),
        &page(vec![release(7, "awaiting-approval", at(0))]),
        &[confirmation(7, "TEST", Some(7)), sign_off(7, "PROD", 2, 600)],
        &[],
        &looked(vec![env("TEST", Some(7), None), env("PROD", Some(6), None)]),
        at(30),
    );
    assert!(matches!(&only(&v).waiting_on, WaitingOn::SignOff { environment, .. } if environment == "PROD"));
    assert_eq!(v.environments[0].pending.len(), 1);
    assert!(v.environments[1].pending.is_empty(), "a sign-off is the release's own");
}

#[test]
fn a_question_about_a_failed_redeploy_stands_beside_its_environment() {
    let mut prod = env("PROD", Some(7), None);
    prod.deploying = Some(ReleaseId("redeploy-5-x".into()));
    let v = StatusView::build(
        &local(),
        &page(vec![release(5, "released", at(0))]),
        &[question(5, "PROD", "timeout")],
        &[],
        &looked(vec![env("TEST", Some(7), None), prod]),
        at(30),
    );
    assert_eq!(summaries(&v), []);
    let p = &v.environments[1].pending[0];
    assert_eq!(p.kind, PendingKind::Decision);
    assert_eq!(
        p.summary,
        "Deploying release 5 to PROD failed: timeout. Waits for release-manager@example.com, \
         cab@example.com or qa@example.com to choose: retry, roll back or leave it"
    );
    let json = serde_json::to_value(&v.environments[1]).unwrap();
    assert_eq!(json["pending"][0]["kind"], "decision");
    assert_eq!(json["pending"][0]["asked_of"][1], "cab@example.com");
}

#[test]
fn a_release_page_waits_for_the_answer_to_its_failure_question() {
    let asked = event(
        7,
        "failure-question",
        Some("PROD"),
        4,
        "baton",
        "deploying to PROD failed: quota. Exceeded. PROD stays as the failure left it; release-manager@example.com, \
         cab@example.com asked to retry, roll back or leave it, until Mon 2 Mar 10:04 (then it rolls back)",
    );
    let mut record = ReleaseRecord {
        release: release(7, "deploying", at(0)),
        events: vec![
            event(7, "deploying", Some("PROD"), 3, "baton", "deploying to PROD"),
            asked,
        ],
        deployments: Vec::new(),
        environment_notes: Vec::new(),
    };
    let detail = ReleaseDetail::build(&local(), &record, at(5));
    assert_eq!(
        detail.headline,
        "Deploying to PROD failed: quota. Exceeded. Waits for release-manager@example.com or cab@example.com \
         to choose: retry, roll back or leave it"
    );
    assert_eq!(
        detail.waiting_on,
        Some(WaitingOn::Decision {
            environment: "PROD".into(),
            approvers: vec!["release-manager@example.com".into(), "cab@example.com".into()],
            reason: "quota. Exceeded".into(),
            expires_at: None,
        })
    );
    // Answered (retry): deploying again; left as it is: over.
    record.events.push(event(
        7,
        "failure-answered",
        Some("PROD"),
        5,
        "cab@example.com",
        "retry chosen",
    ));
    assert_eq!(
        ReleaseDetail::build(&local(), &record, at(6)).headline,
        "Deploying to PROD"
    );
}
