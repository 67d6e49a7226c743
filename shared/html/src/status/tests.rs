use std::collections::BTreeMap;

use baton_domain::ports::status::{
    DeliveryFigures, EnvironmentView, InFlightView, PendingKind, PendingView, ReleaseSummary, StatusView, WaitingOn,
};
use baton_domain::release::ReleaseStatus;
use chrono::{Duration, TimeZone};
use chrono_tz::Tz;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 14, 30, 0).unwrap()
}

#[test]
fn times_read_like_a_person_would_say_them() {
    let now = now();
    let clock = Clock::new(now, Tz::UTC);
    assert_eq!(clock.relative(now - Duration::minutes(5)), "14:25");
    assert_eq!(clock.relative(now - Duration::days(1)), "yesterday 14:30");
    assert_eq!(clock.relative(now - Duration::days(3)), "Sun 14:30");
    assert_eq!(clock.relative(now - Duration::days(30)), "2 Feb");
    assert_eq!(clock.relative(now - Duration::days(400)), "28 Jan 2025");
    assert_eq!(ago(now - Duration::seconds(20), now), "just now");
    assert_eq!(ago(now - Duration::seconds(23 * 60 + 10), now), "23 min ago");
    assert_eq!(duration_words(40), "40 s");
    assert_eq!(duration_words(3 * 3600 + 5 * 60), "3 h 5 min");
    assert_eq!(duration_words(7200), "2 h");
    assert_eq!(duration_words(86_400 + 4 * 3600), "1 day 4 h");
    let markup = time_at(now - Duration::minutes(18), clock).into_string();
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
            display_name: "Test".into(),
            live: None,
            previous: None,
            deploying: None,
            pending: vec![],
            drift: vec![],
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
                on_hold: None,
            },
            summary: format!("Waiting for sign-off for TEST by {markup}"),
        }],
        recent_releases: vec![ReleaseSummary {
            id: ReleaseId::from_number(3),
            number: 3,
            status: ReleaseStatus::AwaitingApproval,
            outcome: "Waiting for sign-off".into(),
            created_at: now(),
            changed_at: now(),
            live_in: Some(vec![]),
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
        trends: baton_domain::ports::status::Trends {
            production: "PROD".into(),
            weeks: vec![],
            weeks_known: 0,
        },
        depends_on: BTreeMap::new(),
    }
}

#[test]
fn the_overview_says_who_is_asked_and_since_when() {
    let page = overview_page(&view("rm@example.com"), Tz::UTC);
    assert!(page.contains("1 release on its way, 1 waiting for sign-off."), "{page}");
    assert!(
        page.contains("Waiting for sign-off for TEST by rm@example.com since"),
        "{page}"
    );
    assert!(page.contains(">13:42</time>"), "{page}");
    assert!(page.contains("(48 min ago)"), "{page}");
    assert!(page.contains("Nothing deployed yet"), "{page}");
    assert!(page.contains(">14:30</time> UTC"), "{page}");
    assert!(
        page.contains("Times are in UTC; hover over a time to see it exactly."),
        "{page}"
    );
}

#[test]
fn the_overview_shows_times_in_the_configured_zone() {
    // 14:30 UTC on 4 March is 09:30 EST in New York, and 13:42 UTC is 08:42 EST.
    let page = overview_page(&view("rm@example.com"), chrono_tz::America::New_York);
    assert!(
        page.contains("Updated <time datetime=\"2026-03-04T14:30:00+00:00\""),
        "{page}"
    );
    assert!(page.contains(">09:30</time> EST"), "{page}");
    assert!(page.contains(">08:42</time>"), "{page}");
    assert!(page.contains("title=\"Wed 4 Mar 2026, 08:42:00 EST\""), "{page}");
    assert!(page.contains("datetime=\"2026-03-04T13:42:00+00:00\""), "{page}");
    assert!(
        page.contains("Times are in New York time (America/New_York); hover over a time to see it exactly."),
        "{page}"
    );
    assert!(!page.contains("UTC"), "{page}");
}

#[test]
fn a_summer_page_in_london_says_bst_and_shifts_the_hour() {
    let mut summer = view("rm@example.com");
    summer.generated_at = Utc.with_ymd_and_hms(2026, 7, 4, 12, 0, 0).unwrap();
    let page = overview_page(&summer, chrono_tz::Europe::London);
    assert!(page.contains(">13:00</time> BST"), "{page}");
    assert!(page.contains("datetime=\"2026-07-04T12:00:00+00:00\""), "{page}");
    assert!(page.contains("Times are in London time (Europe/London);"), "{page}");
    let winter = overview_page(&view("rm@example.com"), chrono_tz::Europe::London);
    assert!(winter.contains(">14:30</time> GMT"), "{winter}");
}

#[test]
fn yesterday_on_a_page_follows_the_local_midnight() {
    // 23:30 UTC on 3 March is 08:30 on 4 March in Tokyo: today there, yesterday in UTC.
    let mut late = view("rm@example.com");
    late.generated_at = Utc.with_ymd_and_hms(2026, 3, 4, 1, 0, 0).unwrap();
    late.recent_releases[0].created_at = Utc.with_ymd_and_hms(2026, 3, 3, 23, 30, 0).unwrap();
    let tokyo = overview_page(&late, chrono_tz::Asia::Tokyo);
    assert!(tokyo.contains(">08:30</time>"), "{tokyo}");
    assert!(!tokyo.contains("yesterday 08:30"), "{tokyo}");
    let utc = overview_page(&late, Tz::UTC);
    assert!(utc.contains(">yesterday 23:30</time>"), "{utc}");
}

#[test]
fn markup_in_the_data_is_escaped() {
    let page = overview_page(&view("<script>alert(1)</script>"), Tz::UTC);
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

/// The overview with release 3 waiting for a decision about its failed deployment to TEST.
fn deciding(markup: &str) -> StatusView {
    let mut v = view(markup);
    let flight = &mut v.in_flight[0];
    flight.status = ReleaseStatus::Deploying;
    flight.waiting_on = WaitingOn::Decision {
        environment: "TEST".into(),
        approvers: vec!["rm@example.com".into()],
        reason: markup.into(),
        expires_at: Some(now() + Duration::minutes(50)),
    };
    flight.summary =
        format!("Deploying to TEST failed: {markup}. Waits for rm@example.com to choose: retry, roll back or leave it");
    v
}

#[test]
fn a_failed_deployment_waiting_for_a_decision_says_until_when_and_what_then() {
    let page = overview_page(&deciding("disk full"), Tz::UTC);
    assert!(
        page.contains("1 release on its way, 1 waiting for a decision about a failed deployment."),
        "{page}"
    );
    assert!(page.contains(">needs a decision</span>"), "{page}");
    assert!(
        page.contains(
            "Deploying to TEST failed: disk full. Waits for rm@example.com to choose: retry, roll back or leave it \
             (until <time datetime=\"2026-03-04T15:20:00+00:00\" title=\"Wed 4 Mar 2026, 15:20:00 UTC\">15:20</time>; \
             then it rolls back)."
        ),
        "{page}"
    );
    let page = overview_page(&deciding("<script>alert(1)</script>"), Tz::UTC);
    assert!(!page.contains("<script>"), "{page}");
    assert!(
        page.contains("failed: &lt;script&gt;alert(1)&lt;/script&gt;."),
        "{page}"
    );
}

fn pending_redeploy(markup: &str) -> PendingView {
    PendingView {
        kind: PendingKind::Redeploy,
        release: ReleaseId::from_number(5),
        number: 5,
        asked_of: vec![markup.into()],
        since: now() - Duration::minutes(10),
        expires_at: now() + Duration::minutes(50),
        reason: markup.into(),
        summary: format!("Roll TEST back to release 5 \u{2014} waits for {markup} to confirm"),
    }
}

#[test]
fn an_environment_shows_a_redeploy_waiting_for_its_confirmation_not_a_release_in_flight() {
    let mut v = view("rm@example.com");
    v.in_flight.clear();
    v.environments[0].pending = vec![pending_redeploy("rm@example.com")];
    let page = overview_page(&v, Tz::UTC);
    assert!(page.contains("Nothing is on its way right now."), "{page}");
    assert!(
        page.contains(
            "Roll TEST back to release 5 \u{2014} waits for rm@example.com to confirm \
             (until <time datetime=\"2026-03-04T15:20:00+00:00\" title=\"Wed 4 Mar 2026, 15:20:00 UTC\">15:20</time>)."
        ),
        "{page}"
    );
    assert!(page.contains("Why: rm@example.com"), "{page}");
    assert!(page.contains("<a href=\"/releases/rel-5\">Release 5</a>"), "{page}");
    assert!(!page.contains("then it rolls back"), "{page}");
    // A failed redeploy's question says it rolls back when unanswered.
    v.environments[0].pending[0].kind = PendingKind::Decision;
    let page = overview_page(&v, Tz::UTC);
    assert!(page.contains("15:20</time>; then it rolls back)."), "{page}");
    assert!(!page.contains("Why:"), "{page}");
    // Everything from the request is escaped.
    v.environments[0].pending = vec![pending_redeploy("<b>x</b>")];
    let page = overview_page(&v, Tz::UTC);
    assert!(!page.contains("<b>"), "{page}");
    assert!(page.contains("Why: &lt;b&gt;x&lt;/b&gt;"), "{page}");
}

#[test]
fn a_release_page_waiting_for_a_decision_says_the_environment_stays_and_when_it_rolls_back() {
    let mut d = detail(3);
    d.summary.status = ReleaseStatus::Deploying;
    d.headline =
        "Deploying to <TEST> failed: disk full. Waits for rm@example.com to choose: retry, roll back or leave it"
            .into();
    d.waiting_on = Some(WaitingOn::Decision {
        environment: "<TEST>".into(),
        approvers: vec!["rm@example.com".into()],
        reason: "disk full".into(),
        expires_at: Some(now() + Duration::minutes(50)),
    });
    let page = release_page(&d, now(), Tz::UTC);
    assert!(page.contains("class=\"banner bad\""), "{page}");
    assert!(page.contains("Deploying to &lt;TEST&gt; failed: disk full."), "{page}");
    assert!(
        page.contains(
            "&lt;TEST&gt; stays as the failure left it. The approvers have the choice in their email: retry, \
             roll back or leave it as it is. Unanswered by <strong>Wed 4 Mar, 15:20 UTC</strong>, it rolls back."
        ),
        "{page}"
    );
    d.waiting_on = Some(WaitingOn::Decision {
        environment: "TEST".into(),
        approvers: vec![],
        reason: String::new(),
        expires_at: None,
    });
    let page = release_page(&d, now(), Tz::UTC);
    assert!(page.contains("Unanswered, it rolls back."), "{page}");
}

#[test]
fn an_error_page_says_what_was_wrong_and_leads_back() {
    let page = error_page("Not found", "There is no release rel-9.");
    assert!(page.contains("There is no release rel-9."));
    assert!(page.contains("href=\"/\""));
}

fn detail(number: u64) -> baton_domain::ports::status::ReleaseDetail {
    baton_domain::ports::status::ReleaseDetail {
        summary: ReleaseSummary {
            id: ReleaseId::from_number(number),
            number,
            status: ReleaseStatus::Released,
            outcome: "Live everywhere".into(),
            created_at: now(),
            changed_at: now(),
            live_in: None,
            versions: BTreeMap::new(),
            changes: vec![],
            url: format!("/releases/rel-{number}"),
        },
        headline: "Live everywhere".into(),
        waiting_on: None,
        content_hash: "h".into(),
        previous: None,
        triggered_by: "packages/web/1.0.5/site.zip".into(),
        packages: vec![],
        notes: vec![],
        environment_notes: vec![],
        environments: vec![],
        deployments: vec![],
        events: vec![],
    }
}

#[test]
fn a_release_page_offers_to_deploy_it_again_where_it_was_deployed() {
    let again = DeployAgain {
        public_url: "https://baton.example.com/".into(),
        targets: vec![
            RedeployTarget {
                environment: "TEST".into(),
                live: Some(5),
            },
            RedeployTarget {
                environment: "PROD".into(),
                live: Some(7),
            },
        ],
    };
    let page = release_page_with(&detail(5), &again, now(), Tz::UTC);
    assert!(page.contains("<h2 id=\"again\">Deploy again</h2>"), "{page}");
    let forms: Vec<&str> = page.split("<form").skip(1).collect();
    assert_eq!(forms.len(), 2, "{page}");
    for (form, env, button) in [
        (forms[0], "TEST", "Deploy release 5 to TEST again"),
        (forms[1], "PROD", "Roll PROD back to release 5"),
    ] {
        for says in [
            r#" method="post" action="https://baton.example.com/redeploys""#.to_string(),
            r#"<input type="hidden" name="release" value="rel-5">"#.into(),
            format!(r#"<input type="hidden" name="environment" value="{env}">"#),
            format!("Your address (an approver of {env})"),
            r#"type="email" name="email" required"#.into(),
            r#"name="reason" required maxlength="500""#.into(),
            format!(r#"<button type="submit">{button}</button>"#),
            format!(
                "Baton mails you a confirmation link if you are an approver of {env}; nothing changes until you confirm."
            ),
        ] {
            assert!(form.contains(&says), "{says}: {form}");
        }
    }
    // In lifecycle order, as given; the section comes before the timeline.
    assert!(page.find("value=\"TEST\"") < page.find("value=\"PROD\""), "{page}");
    assert!(page.find("Deploy again") < page.find("Timeline"), "{page}");
    // A retry where nothing (or an older release) is live.
    let retry = DeployAgain {
        public_url: "https://baton.example.com".into(),
        targets: vec![RedeployTarget {
            environment: "PROD".into(),
            live: None,
        }],
    };
    let page = release_page_with(&detail(8), &retry, now(), Tz::UTC);
    assert!(page.contains(">Retry release 8 in PROD</button>"), "{page}");
}

#[test]
fn a_release_page_without_targets_offers_nothing() {
    for page in [
        release_page(&detail(5), now(), Tz::UTC),
        release_page_with(&detail(5), &DeployAgain::default(), now(), Tz::UTC),
    ] {
        assert!(!page.contains("Deploy again"), "{page}");
        assert!(!page.contains("<form"), "{page}");
    }
}

#[test]
fn an_environment_name_in_the_section_is_escaped() {
    let again = DeployAgain {
        public_url: "https://baton.example.com".into(),
        targets: vec![RedeployTarget {
            environment: "<b>\"X".into(),
            live: None,
        }],
    };
    let page = release_page_with(&detail(5), &again, now(), Tz::UTC);
    assert!(!page.contains("<b>"), "{page}");
    assert!(page.contains("value=\"&lt;b&gt;&quot;X\""), "{page}");
}

mod progress;
