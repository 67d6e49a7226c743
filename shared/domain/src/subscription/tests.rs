use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use super::*;
use crate::ports::ReleaseEvent;
use crate::release::Release;
use crate::release::{ComponentChange, PackageRef, ReleaseStatus};
use crate::version::Version;

fn config() -> BatonConfig {
    BatonConfig::from_yaml(include_str!("../../../../infra/config/baton.local.yaml")).unwrap()
}

fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn release(number: u64, changed: &[&str], previous: Option<u64>) -> Release {
    let snapshot = ["web", "state"]
        .into_iter()
        .map(|c| {
            (
                c.to_string(),
                PackageRef {
                    component: c.into(),
                    version: Version::parse("1.0.0").unwrap(),
                    sha256: "s".into(),
                    object_key: format!("packages/{c}/1.0.0/f"),
                    s3_version_id: None,
                },
            )
        })
        .collect();
    Release {
        id: ReleaseId::from_number(number),
        number,
        snapshot,
        content_hash: "h".into(),
        changes: changed
            .iter()
            .map(|c| ComponentChange {
                component: c.to_string(),
                from: None,
                to: Version::parse("1.0.0").unwrap(),
            })
            .collect(),
        notes: Vec::new(),
        previous: previous.map(ReleaseId::from_number),
        triggered_by: "t".into(),
        created_at: t0(),
        status: ReleaseStatus::Deploying,
    }
}

fn live_event(env: &str, at: DateTime<Utc>) -> ReleaseEvent {
    ReleaseEvent {
        release_id: ReleaseId::from_number(7),
        at,
        kind: "live".into(),
        actor: "baton".into(),
        environment: Some(env.into()),
        detail: "release 7 is live".into(),
    }
}

#[test]
fn addresses_are_trimmed_and_lower_cased() {
    assert_eq!(
        normalise_address("  Ann.Lee@Example.COM ").unwrap(),
        "ann.lee@example.com"
    );
}

#[test]
fn a_bad_address_says_what_was_wrong() {
    for bad in [
        "",
        "ann",
        "ann@localhost",
        "a b@example.com",
        "<a@example.com>",
        "a@example.com,b@example.com",
        "a@b.com\r\nBcc: x@y.z",
    ] {
        let err = normalise_address(bad).unwrap_err();
        assert!(err.contains("email address"), "{bad:?}: {err}");
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert!(normalise_address(&long).is_err());
}

#[test]
fn the_id_is_the_same_for_the_same_address_and_scope_only() {
    let prod = Scope::Environment {
        environment: "PROD".into(),
    };
    let test = Scope::Environment {
        environment: "TEST".into(),
    };
    let id = subscription_id("ann@example.com", &prod);
    assert!(is_subscription_id(&id));
    assert_eq!(id, subscription_id("ann@example.com", &prod));
    assert_ne!(id, subscription_id("bob@example.com", &prod));
    assert_ne!(id, subscription_id("ann@example.com", &test));
    assert!(!is_subscription_id("../../x"));
    assert!(!is_subscription_id(&id.to_uppercase()));
}

#[test]
fn a_form_names_a_scope_checked_against_the_configuration() {
    let config = config();
    assert_eq!(
        Scope::from_form(&form(&[("environment", "PROD")]), &config),
        Ok(Scope::Environment {
            environment: "PROD".into()
        })
    );
    assert_eq!(
        Scope::from_form(
            &form(&[("scope", "release"), ("release", "rel-12"), ("environment", "TEST")]),
            &config
        ),
        Ok(Scope::Release {
            release: ReleaseId::from_number(12),
            environment: "TEST".into()
        })
    );
    assert_eq!(
        Scope::from_form(&form(&[("scope", "component"), ("component", "web")]), &config),
        Ok(Scope::Component {
            component: "web".into()
        })
    );
    assert_eq!(
        Scope::from_form(&form(&[("scope", "digest")]), &config),
        Ok(Scope::Digest)
    );
}

#[test]
fn a_form_naming_nothing_configured_is_refused_with_the_choices() {
    let config = config();
    let err = Scope::from_form(&form(&[("environment", "STAGING")]), &config).unwrap_err();
    assert!(
        err.contains("no environment 'STAGING'") && err.contains("TEST, PROD"),
        "{err}"
    );
    let err = Scope::from_form(&form(&[("scope", "component"), ("component", "api")]), &config).unwrap_err();
    assert!(err.contains("no component 'api'") && err.contains("web"), "{err}");
    let err = Scope::from_form(
        &form(&[("scope", "release"), ("release", "rel-012"), ("environment", "PROD")]),
        &config,
    )
    .unwrap_err();
    assert!(err.contains("not a release"), "{err}");
    let err = Scope::from_form(&form(&[("scope", "everything")]), &config).unwrap_err();
    assert!(err.contains("not something to subscribe to"), "{err}");
}

#[test]
fn confirming_needs_the_right_token_in_time_and_is_idempotent() {
    let scope = Scope::Environment {
        environment: "PROD".into(),
    };
    let mut s = Subscription::pending("ann@example.com", scope, t0(), "confirm", "leave");
    assert_eq!(s.check_confirm("forged", t0()), Err(SubscriptionLinkProblem::Forbidden));
    assert_eq!(
        s.check_confirm("leave", t0()),
        Err(SubscriptionLinkProblem::Forbidden),
        "the other token"
    );
    assert_eq!(s.check_confirm("confirm", t0()), Ok(true));
    assert_eq!(
        s.check_confirm("confirm", t0() + CONFIRM_TTL + Duration::seconds(1)),
        Err(SubscriptionLinkProblem::Expired)
    );
    s.state = SubscriptionState::Confirmed;
    assert_eq!(
        s.check_confirm("confirm", t0() + Duration::days(9)),
        Ok(false),
        "confirmed already"
    );
    s.state = SubscriptionState::Unsubscribed;
    assert_eq!(
        s.check_confirm("confirm", t0()),
        Err(SubscriptionLinkProblem::Unsubscribed)
    );
    assert_eq!(SubscriptionLinkProblem::Forbidden.status(), 403);
    assert_eq!(SubscriptionLinkProblem::Expired.status(), 410);
}

#[test]
fn unsubscribing_needs_the_right_token_and_is_idempotent() {
    let mut s = Subscription::pending("ann@example.com", Scope::Digest, t0(), "confirm", "leave");
    assert_eq!(s.check_unsubscribe("confirm"), Err(SubscriptionLinkProblem::Forbidden));
    assert_eq!(s.check_unsubscribe("leave"), Ok(true));
    s.state = SubscriptionState::Unsubscribed;
    assert_eq!(s.check_unsubscribe("leave"), Ok(false));
    assert_eq!(s.check_unsubscribe("x"), Err(SubscriptionLinkProblem::Forbidden));
}

#[test]
fn only_hashes_of_the_tokens_are_kept() {
    let s = Subscription::pending("ann@example.com", Scope::Digest, t0(), "confirm-token", "leave-token");
    let stored = serde_json::to_string(&s).unwrap();
    assert!(
        !stored.contains("confirm-token") && !stored.contains("leave-token"),
        "{stored}"
    );
}

#[test]
fn links_and_one_click_headers() {
    let link = unsubscribe_link("https://baton.example.com/", "abc", None, "t0k");
    assert_eq!(
        unsubscribe_link("https://baton.example.com", "abc", Some("live-1"), "t"),
        "https://baton.example.com/subscriptions/unsubscribe?id=abc&notice=live-1&token=t"
    );
    assert_eq!(
        link,
        "https://baton.example.com/subscriptions/unsubscribe?id=abc&token=t0k"
    );
    assert_eq!(
        confirm_link("https://baton.example.com", "abc", "t"),
        "https://baton.example.com/subscriptions/confirm?id=abc&token=t"
    );
    assert_eq!(
        unsubscribe_headers(&link),
        vec![
            ("List-Unsubscribe".to_string(), format!("<{link}>")),
            (
                "List-Unsubscribe-Post".to_string(),
                "List-Unsubscribe=One-Click".to_string()
            ),
        ]
    );
}

#[test]
fn a_live_event_reaches_the_environment_the_release_and_the_changed_components() {
    let topics = live_topics(&release(7, &["web"], Some(6)), "PROD");
    assert_eq!(topics, ["ENV#PROD", "RELEASE#rel-7#PROD", "COMPONENT#web"]);
    let first = live_topics(&release(1, &[], None), "TEST");
    assert_eq!(
        first,
        ["ENV#TEST", "RELEASE#rel-1#TEST", "COMPONENT#state", "COMPONENT#web"]
    );
}

#[test]
fn only_live_events_with_an_environment_announce() {
    assert_eq!(live_in(&live_event("PROD", t0())), Some("PROD"));
    let mut other = live_event("PROD", t0());
    other.kind = "deploying".into();
    assert_eq!(live_in(&other), None);
    other.kind = "live".into();
    other.environment = None;
    assert_eq!(live_in(&other), None);
}

#[test]
fn the_same_event_delivered_twice_has_one_notice_key() {
    let a = live_event("PROD", t0());
    assert_eq!(notice_key(&a), notice_key(&a.clone()));
    assert_ne!(notice_key(&a), notice_key(&live_event("TEST", t0())));
    assert_ne!(
        notice_key(&a),
        notice_key(&live_event("PROD", t0() + Duration::hours(1))),
        "a redeploy is news"
    );
}

#[test]
fn the_digest_key_names_the_iso_week() {
    assert_eq!(digest_key(t0()), "digest-2026-W10");
    assert_eq!(digest_key(t0() + Duration::days(6)), "digest-2026-W10");
    assert_eq!(digest_key(t0() + Duration::days(7)), "digest-2026-W11");
}

#[test]
fn a_notice_mark_unsubscribes_with_its_own_token_for_its_own_subscription() {
    let mark = NoticeMark {
        notice: "live-1".into(),
        address: "ann@example.com".into(),
        subscription: Some("sub-a".into()),
        unsubscribe_hash: Some(token_hash("mail-token")),
        at: t0(),
    };
    assert!(mark.unsubscribes("sub-a", "mail-token"));
    assert!(!mark.unsubscribes("sub-a", "forged"));
    assert!(
        !mark.unsubscribes("sub-b", "mail-token"),
        "another subscription of the same address"
    );
    let approver = NoticeMark {
        subscription: None,
        unsubscribe_hash: None,
        ..mark
    };
    assert!(!approver.unsubscribes("sub-a", ""));
    assert!(is_notice_key(&notice_key(&live_event("PROD", t0()))));
    assert!(is_notice_key(&digest_key(t0())));
    assert!(!is_notice_key("a/b") && !is_notice_key(""));
}
