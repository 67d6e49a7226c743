use chrono::{DateTime, Utc};

use super::*;
use crate::config::notifications::WebhookFormat;
use crate::release::ReleaseId;

fn event(kind: &str, actor: &str, env: Option<&str>, detail: &str) -> ReleaseEvent {
    ReleaseEvent {
        release_id: ReleaseId::from_number(12),
        at: DateTime::<Utc>::UNIX_EPOCH,
        kind: kind.into(),
        actor: actor.into(),
        environment: env.map(str::to_string),
        detail: detail.into(),
    }
}

#[test]
fn timeline_kinds_map_to_webhook_events() {
    let cases: &[(&str, &str, Option<&str>, &str, &[&str])] = &[
        ("created", "baton", None, "Release 12 created", &[RELEASE_CREATED]),
        ("approval-requested", "baton", Some("TEST"), "", &[APPROVAL_REQUESTED]),
        ("approved", "rm@example.com", Some("TEST"), "", &[APPROVAL_DECIDED]),
        ("rejected", "rm@example.com", Some("TEST"), "", &[APPROVAL_DECIDED]),
        (
            "rejected",
            "baton",
            Some("TEST"),
            "Rejected in TEST: no",
            &[RELEASE_FINISHED],
        ),
        ("deploying", "baton", Some("TEST"), "", &[DEPLOYMENT_STARTED]),
        ("live", "baton", Some("TEST"), "", &[DEPLOYMENT_SUCCEEDED]),
        (
            "failed",
            "baton",
            Some("PROD"),
            "Failed in PROD: x",
            &[DEPLOYMENT_FAILED, RELEASE_FINISHED],
        ),
        (
            "rolledback",
            "baton",
            Some("PROD"),
            "RolledBack in PROD: x",
            &[DEPLOYMENT_FAILED, RELEASE_FINISHED],
        ),
        ("failed", "baton", None, "Failed: x", &[RELEASE_FINISHED]),
        (
            "released",
            "baton",
            Some("PROD"),
            "live in every environment",
            &[RELEASE_FINISHED],
        ),
        (
            "expired",
            "baton",
            Some("TEST"),
            "Expired in TEST: x",
            &[RELEASE_FINISHED],
        ),
        ("stopped", "baton", None, "Release 12 stopped", &[RELEASE_FINISHED]),
        (
            "blocked",
            "baton",
            Some("TEST"),
            "Blocked in TEST: x",
            &[RELEASE_FINISHED],
        ),
        (
            "superseded",
            "baton",
            Some("TEST"),
            "Superseded in TEST: x",
            &[RELEASE_FINISHED],
        ),
        (
            "superseded",
            "baton",
            Some("TEST"),
            "replaced by release 13 while waiting",
            &[],
        ),
        ("held", "rm@example.com", Some("TEST"), "", &[]),
        ("plan-changed", "baton", Some("TEST"), "", &[]),
    ];
    for (kind, actor, env, detail, want) in cases {
        assert_eq!(
            webhook_events(&event(kind, actor, *env, detail)),
            want.to_vec(),
            "{kind} by {actor}"
        );
    }
}

#[test]
fn a_delivery_id_is_stable_per_event_and_hook() {
    let e = event("created", "baton", None, "");
    assert_eq!(
        delivery_id(&e, "a", RELEASE_CREATED),
        delivery_id(&e.clone(), "a", RELEASE_CREATED)
    );
    assert_ne!(
        delivery_id(&e, "a", RELEASE_CREATED),
        delivery_id(&e, "b", RELEASE_CREATED)
    );
    assert_ne!(
        delivery_id(&e, "a", DEPLOYMENT_FAILED),
        delivery_id(&e, "a", RELEASE_FINISHED)
    );
    assert_eq!(delivery_id(&e, "a", RELEASE_CREATED).len(), 32);
}

#[test]
fn signatures_verify_and_forgeries_do_not() {
    assert_eq!(signature_header("k", 7, b"x"), format!("t=7,v1={}", sign("k", 7, b"x")));
    let body = br#"{"event":"release.created"}"#;
    let now = 1_800_000_000;
    let good = signature_header("s3cret", now, body);
    assert_eq!(verify("s3cret", Some(&good), body, now + 10), Ok(()));
    assert_eq!(verify("other", Some(&good), body, now), Err(SignatureProblem::Mismatch));
    assert_eq!(
        verify("s3cret", Some(&good), b"{}", now),
        Err(SignatureProblem::Mismatch)
    );
    assert_eq!(verify("s3cret", None, body, now), Err(SignatureProblem::Missing));
    assert_eq!(
        verify("s3cret", Some("v1=00"), body, now),
        Err(SignatureProblem::Malformed)
    );
    assert_eq!(
        verify("s3cret", Some("t=1,v1=zz"), body, now),
        Err(SignatureProblem::Malformed)
    );
    assert_eq!(
        verify("s3cret", Some(&good), body, now + 301),
        Err(SignatureProblem::Stale(301))
    );
    // A replay under a fresh timestamp: the signature covers the timestamp too.
    let replayed = good.replace(&format!("t={now}"), &format!("t={}", now + 200));
    assert_eq!(
        verify("s3cret", Some(&replayed), body, now + 200),
        Err(SignatureProblem::Mismatch)
    );
}

#[test]
fn hmac_matches_rfc_4231() {
    // RFC 4231 test case 2 for the primitive; then what `sign` feeds it: "<t>.<body>".
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2_hmac::Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
    mac.update(b"what do ya want for nothing?");
    assert_eq!(
        hex::encode(mac.finalize().into_bytes()),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let mut mac = <Hmac<sha2_hmac::Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
    mac.update(b"1700000000.{}");
    assert_eq!(
        hex::encode(mac.finalize().into_bytes()),
        sign("Jefe", 1_700_000_000, b"{}")
    );
}

fn announcement() -> Announcement {
    Announcement {
        id: "d1".into(),
        event: DEPLOYMENT_SUCCEEDED.into(),
        occurred_at: "2026-01-02T03:04:05+00:00".into(),
        release_id: "rel-12".into(),
        release_number: Some(12),
        release_url: "https://baton.example.com/releases/rel-12".into(),
        environment: Some("PROD".into()),
        actor: "baton".into(),
        summary: "Live in PROD <now> & happy".into(),
    }
}

#[test]
fn bodies_have_each_formats_shape() {
    let a = announcement();
    let baton: serde_json::Value = serde_json::from_str(&body(WebhookFormat::Baton, &a)).unwrap();
    assert_eq!(baton["id"], "d1");
    assert_eq!(baton["event"], "deployment.succeeded");
    assert_eq!(baton["release"]["number"], 12);
    assert_eq!(baton["release"]["url"], a.release_url);
    assert_eq!(baton["environment"], "PROD");
    let slack: serde_json::Value = serde_json::from_str(&body(WebhookFormat::Slack, &a)).unwrap();
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("<https://baton.example.com/releases/rel-12|Release 12: deployment.succeeded>"),
        "{text}"
    );
    assert!(text.contains("&lt;now&gt; &amp; happy"), "{text}");
    let teams: serde_json::Value = serde_json::from_str(&body(WebhookFormat::Teams, &a)).unwrap();
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["actions"][0]["url"], a.release_url);
}

#[test]
fn retries_back_off_exponentially_up_to_fifteen_minutes() {
    let secs = |n| retry_delay(30, n).as_secs();
    assert_eq!((secs(2), secs(3), secs(4), secs(8)), (30, 60, 120, 900));
    assert_eq!(retry_delay(1, 2).as_secs(), 1);
    assert_eq!(retry_delay(1, 4).as_secs(), 4);
    assert_eq!(retry_delay(1, 100).as_secs(), 900);
}
