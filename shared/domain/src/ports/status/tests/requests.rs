//! Redeploy confirmations and failure questions on the overview and a release's page: what
//! they are, in words, and never a finished release back in flight.

use chrono::Duration;

use super::*;
use crate::approval::guided_failure::FailureQuestion;
use crate::redeploy::Redeploy;

fn question(number: u64, env: &str, reason: &str) -> PendingSignOff {
    PendingSignOff {
        approvers: vec!["release-manager@example.com".into()],
        expires_at: t0() + Duration::hours(1),
        failure: Some(FailureQuestion {
            reason: reason.into(),
            execution: None,
        }),
        ..sign_off(number, env, t0())
    }
}

fn confirmation(number: u64, env: &str, replacing: Option<u64>) -> PendingSignOff {
    PendingSignOff {
        approvers: vec!["rm@example.com".into()],
        expires_at: t0() + Duration::hours(1),
        redeploy: Some(Redeploy {
            execution: format!("redeploy-{number}-prod-0123"),
            environment: env.into(),
            requested_by: "rm@example.com".into(),
            reason: "login broken since 7".into(),
            replacing,
        }),
        ..sign_off(number, env, t0())
    }
}

fn envs(test: EnvironmentNow, prod: EnvironmentNow) -> LookedUp {
    LookedUp {
        environments: vec![test, prod],
        ..Default::default()
    }
}

#[test]
fn a_failure_question_is_a_decision_about_the_failed_deployment() {
    let page = ReleasePage {
        releases: vec![release(2, ReleaseStatus::Deploying, t0())],
        next_before: None,
        ..Default::default()
    };
    let reason = "disk full in arn:aws:s3:::baton-artefacts (quota).";
    let looked = envs(environment("TEST", Some(1), Some(2)), environment("PROD", None, None));
    let view = StatusView::build(&config(), &page, &[question(2, "TEST", reason)], &[], &looked, t0());
    let flight = &view.in_flight[0];
    assert_eq!(
        flight.waiting_on,
        WaitingOn::Decision {
            environment: "TEST".into(),
            approvers: vec!["release-manager@example.com".into()],
            reason: "disk full in (an AWS resource) (quota).".into(),
            expires_at: Some(t0() + Duration::hours(1)),
        }
    );
    assert_eq!(
        flight.summary,
        "Deploying to TEST failed: disk full in (an AWS resource) (quota). Waits for release-manager@example.com \
         to choose: retry, roll back or leave it"
    );
    assert_eq!(view.recent_releases[0].outcome, flight.summary);
    assert!(view.environments.iter().all(|e| e.pending.is_empty()));
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["in_flight"][0]["waiting_on"]["kind"], "decision");
    assert_eq!(json["in_flight"][0]["waiting_on"]["expires_at"], "2026-03-02T10:00:00Z");
}

#[test]
fn a_redeploy_confirmation_stands_beside_its_environment_never_in_flight() {
    let looked = envs(environment("TEST", Some(7), None), environment("PROD", Some(7), None));
    // Release 5 finished long ago (known, or beyond the recent list): still not in flight.
    for releases in [vec![release(5, ReleaseStatus::Released, t0())], vec![]] {
        let page = ReleasePage {
            releases,
            next_before: None,
            ..Default::default()
        };
        let view = StatusView::build(
            &config(),
            &page,
            &[confirmation(5, "PROD", Some(7))],
            &[],
            &looked,
            t0(),
        );
        assert!(view.in_flight.is_empty(), "{:?}", view.in_flight);
        let prod = &view.environments[1];
        assert_eq!(prod.pending.len(), 1);
        let p = &prod.pending[0];
        assert_eq!(p.kind, PendingKind::Redeploy);
        assert_eq!(
            p.summary,
            "Roll PROD back to release 5 \u{2014} waits for rm@example.com to confirm"
        );
        assert_eq!(p.asked_of, vec!["rm@example.com".to_string()]);
        assert_eq!((p.number, p.reason.as_str()), (5, "login broken since 7"));
        assert_eq!(p.expires_at, t0() + Duration::hours(1));
        assert!(view.environments[0].pending.is_empty());
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["environments"][1]["pending"][0]["kind"], "redeploy");
    }
}

#[test]
fn a_release_in_flight_waits_on_its_own_requests_not_on_a_redeploy_of_it() {
    let page = ReleasePage {
        releases: vec![release(7, ReleaseStatus::AwaitingApproval, t0())],
        next_before: None,
        ..Default::default()
    };
    let looked = envs(environment("TEST", Some(7), None), environment("PROD", Some(6), None));
    let view = StatusView::build(
        &config(),
        &page,
        &[confirmation(7, "TEST", Some(7))],
        &[],
        &looked,
        t0(),
    );
    assert_eq!(view.in_flight[0].summary, "Moving on to PROD");
    assert_eq!(
        view.environments[0].pending[0].summary,
        "Deploy release 7 to TEST again \u{2014} waits for rm@example.com to confirm"
    );
}

#[test]
fn a_failed_redeploy_s_question_stands_beside_its_environment() {
    let mut prod = environment("PROD", Some(7), None);
    prod.deploying = Some(ReleaseId("redeploy-5-prod-0123".into()));
    let looked = envs(environment("TEST", Some(7), None), prod);
    let page = ReleasePage {
        releases: vec![release(5, ReleaseStatus::Released, t0())],
        next_before: None,
        ..Default::default()
    };
    let view = StatusView::build(&config(), &page, &[question(5, "PROD", "timeout")], &[], &looked, t0());
    assert!(view.in_flight.is_empty());
    let p = &view.environments[1].pending[0];
    assert_eq!(p.kind, PendingKind::Decision);
    assert_eq!(
        p.summary,
        "Deploying release 5 to PROD failed: timeout. Waits for release-manager@example.com to choose: \
         retry, roll back or leave it"
    );
    // Beyond the recent list, holding its environment itself: a release in flight, deploying.
    let mine = envs(environment("TEST", Some(1), Some(3)), environment("PROD", None, None));
    let empty = ReleasePage::default();
    let view = StatusView::build(&config(), &empty, &[question(3, "TEST", "")], &[], &mine, t0());
    assert_eq!(view.in_flight[0].status, ReleaseStatus::Deploying);
    assert_eq!(
        view.in_flight[0].summary,
        "Deploying to TEST failed. Waits for release-manager@example.com to choose: retry, roll back or leave it"
    );
}

#[test]
fn a_release_page_waits_for_the_answer_to_its_open_failure_question() {
    let mut r = release(7, ReleaseStatus::Deploying, t0());
    r.id = ReleaseId::from_number(7);
    let asked = event(
        "failure-question",
        Some("TEST"),
        4,
        "baton",
        "deploying to TEST failed: disk on fire. TEST stays as the failure left it; \
         release-manager@example.com asked to retry, roll back or leave it, until Mon 2 Mar 10:04 (then it rolls back)",
    );
    let mut record = ReleaseRecord {
        release: r,
        events: vec![event("deploying", Some("TEST"), 3, "baton", "deploying to TEST"), asked],
        deployments: vec![],
        environment_notes: vec![],
    };
    let detail = ReleaseDetail::build(&config(), &record, t0());
    assert_eq!(
        detail.headline,
        "Deploying to TEST failed: disk on fire. Waits for release-manager@example.com to choose: \
         retry, roll back or leave it"
    );
    assert!(matches!(
        detail.waiting_on,
        Some(WaitingOn::Decision { expires_at: None, .. })
    ));
    // Answered (retry): deploying again.
    record.events.push(event(
        "failure-answered",
        Some("TEST"),
        5,
        "release-manager@example.com",
        "retry chosen",
    ));
    let detail = ReleaseDetail::build(&config(), &record, t0());
    assert_eq!(detail.headline, "Deploying to TEST");
}

#[test]
fn requests_recorded_before_their_kind_was_kept_still_read_as_sign_offs() {
    let old: PendingSignOff = serde_json::from_value(serde_json::json!({
        "release_id": "rel-3", "number": 3, "environment": "PROD", "approvers": [],
        "created_at": "2026-03-02T09:00:00Z", "expires_at": "2026-03-02T10:00:00Z",
    }))
    .unwrap();
    assert_eq!((old.redeploy, old.failure), (None, None));
    let json = serde_json::to_value(confirmation(5, "PROD", None)).unwrap();
    assert_eq!(json["redeploy"]["requestedBy"], "rm@example.com");
    assert!(json.get("failure").is_none(), "{json}");
}
