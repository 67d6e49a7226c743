use std::collections::BTreeMap;

use baton_domain::ports::status::{
    DeliveryFigures, EnvironmentView, InFlightView, ReleaseSummary, StatusView, WaitingOn,
};
use baton_domain::release::ReleaseStatus;
use chrono::{Duration, TimeZone};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 14, 30, 0).unwrap()
}

#[test]
fn times_read_like_a_person_would_say_them() {
    let now = now();
    assert_eq!(clock(now - Duration::minutes(5), now), "14:25");
    assert_eq!(clock(now - Duration::days(1), now), "yesterday 14:30");
    assert_eq!(clock(now - Duration::days(3), now), "Sun 14:30");
    assert_eq!(clock(now - Duration::days(30), now), "2 Feb");
    assert_eq!(clock(now - Duration::days(400), now), "28 Jan 2025");
    assert_eq!(ago(now - Duration::seconds(20), now), "just now");
    assert_eq!(ago(now - Duration::seconds(23 * 60 + 10), now), "23 min ago");
    assert_eq!(duration_words(40), "40 s");
    assert_eq!(duration_words(3 * 3600 + 5 * 60), "3 h 5 min");
    assert_eq!(duration_words(7200), "2 h");
    assert_eq!(duration_words(86_400 + 4 * 3600), "1 day 4 h");
    let markup = time_at(now - Duration::minutes(18), now).into_string();
    assert!(markup.contains("title=\"Wed 4 Mar 2026, 14:12:00 UTC\""), "{markup}");
    assert!(markup.contains("datetime=\"2026-03-04T14:12:00+00:00\""), "{markup}");
}

#[test]
fn only_web_urls_become_links() {
    assert_eq!(safe_url("https://ci.example.com/1"), Some("https://ci.example.com/1"));
    assert_eq!(safe_url("javascript:alert(1)"), None);
    assert_eq!(safe_url(" JaVaScRiPt:alert(1)"), None);
    assert_eq!(safe_url("data:text/html,x"), None);
}

fn view(markup: &str) -> StatusView {
    StatusView {
        generated_at: now(),
        environments: vec![EnvironmentView {
            name: "TEST".into(),
            live: None,
            previous: None,
            deploying: None,
        }],
        in_flight: vec![InFlightView {
            release: ReleaseId::from_number(3),
            number: 3,
            status: ReleaseStatus::AwaitingApproval,
            waiting_on: WaitingOn::SignOff {
                environment: "TEST".into(),
                approvers: vec![markup.into()],
                since: now() - Duration::minutes(48),
                expires_at: None,
                unreachable: None,
            },
            summary: format!("Waiting for sign-off for TEST by {markup}"),
        }],
        recent_releases: vec![ReleaseSummary {
            id: ReleaseId::from_number(3),
            number: 3,
            status: ReleaseStatus::AwaitingApproval,
            outcome: "Waiting for sign-off".into(),
            created_at: now(),
            versions: BTreeMap::from([("web".into(), markup.into())]),
            changes: vec![],
            url: "/releases/rel-3".into(),
        }],
        rejected_packages: vec![],
        delivery: DeliveryFigures {
            window_days: 30,
            since: now() - Duration::days(30),
            releases: 1,
            production: "PROD".into(),
            deployments_to_production: 0,
            per_week: 0.0,
            lead_time: None,
            deployed_releases: 0,
            failed_releases: 0,
            change_failure_rate: None,
            approval_wait: None,
        },
    }
}

#[test]
fn the_overview_says_who_is_asked_and_since_when() {
    let page = overview_page(&view("rm@example.com"));
    assert!(page.contains("1 release on its way, 1 waiting for sign-off."), "{page}");
    assert!(
        page.contains("Waiting for sign-off for TEST by rm@example.com since"),
        "{page}"
    );
    assert!(page.contains(">13:42</time>"), "{page}");
    assert!(page.contains("(48 min ago)"), "{page}");
    assert!(page.contains("Nothing deployed yet"), "{page}");
}

#[test]
fn markup_in_the_data_is_escaped() {
    let page = overview_page(&view("<script>alert(1)</script>"));
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn an_error_page_says_what_was_wrong_and_leads_back() {
    let page = error_page("Not found", "There is no release rel-9.");
    assert!(page.contains("There is no release rel-9."));
    assert!(page.contains("href=\"/\""));
}
