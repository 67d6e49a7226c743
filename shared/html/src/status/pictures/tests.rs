use std::collections::BTreeMap;

use baton_domain::ReleaseId;
use baton_domain::ports::status::{
    ApplicationView, ComponentView, DeliveryFigures, EnvironmentView, InFlightView, LiveView, PendingKind, PendingView,
    ReleaseSummary, StatusView, TREND_WEEKS, Trends, WaitingOn, WeekTrend,
};
use baton_domain::release::ReleaseStatus;
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;

use super::stack::stack_of;
use super::{Tone, stack_drawings, trend_charts};
use crate::status::overview_page;
use crate::time::Clock;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 14, 30, 0).unwrap()
}

fn env(name: &str, web: &str, state: &str, deploying: Option<u64>) -> EnvironmentView {
    EnvironmentView {
        name: name.into(),
        display_name: name.into(),
        live: Some(LiveView {
            release: ReleaseId::from_number(1),
            number: 1,
            since: now() - Duration::days(1),
            approved_by: None,
            components: vec![
                ComponentView {
                    component: web.into(),
                    display_name: web.into(),
                    version: "1.0.1".into(),
                    pages_url: Some("https://abc.pages.dev".into()),
                    cloudhub_applications: vec![],
                },
                ComponentView {
                    component: "state".into(),
                    display_name: "state".into(),
                    version: "2.0.0".into(),
                    pages_url: None,
                    cloudhub_applications: vec![
                        ApplicationView {
                            name: "admissions-api".into(),
                            change: "unchanged at 1.2.0".into(),
                        },
                        ApplicationView {
                            name: state.into(),
                            change: "create at 1.4.2".into(),
                        },
                    ],
                },
            ],
        }),
        previous: None,
        deploying: deploying.map(ReleaseId::from_number),
        pending: vec![],
        drift: vec![],
    }
}

fn summary(number: u64, web: &str, state: &str) -> ReleaseSummary {
    ReleaseSummary {
        id: ReleaseId::from_number(number),
        number,
        status: ReleaseStatus::AwaitingApproval,
        outcome: String::new(),
        created_at: now(),
        versions: BTreeMap::from([("web".into(), web.into()), ("state".into(), state.into())]),
        changes: vec![],
        url: format!("/releases/rel-{number}"),
        changed_at: now(),
        live_in: None,
    }
}

fn trends(weeks_known: usize) -> Trends {
    let weeks = (0..TREND_WEEKS)
        .map(|i| WeekTrend {
            starts: now() - Duration::days(7 * (TREND_WEEKS - i) as i64),
            known: i >= TREND_WEEKS - weeks_known,
            deployments: i % 3,
            lead_time: None,
            approval_wait: None,
        })
        .collect();
    Trends {
        production: "PROD".into(),
        weeks,
        weeks_known,
    }
}

fn view(environments: Vec<EnvironmentView>) -> StatusView {
    StatusView {
        generated_at: now(),
        environments,
        in_flight: vec![],
        recent_releases: vec![summary(1, "1.0.1", "2.0.0")],
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
        trends: trends(TREND_WEEKS),
        depends_on: BTreeMap::from([("patient-api".into(), vec!["admissions-api".into()])]),
    }
}

fn names(view: &StatusView, env: &EnvironmentView) -> Vec<(String, String)> {
    let stack = stack_of(view, env);
    stack
        .calls
        .iter()
        .map(|&(a, b)| (stack.parts[a].name.clone(), stack.parts[b].name.clone()))
        .collect()
}

#[test]
fn markup_in_names_is_escaped_and_nothing_needs_a_style_attribute_or_script() {
    let mut v = view(vec![env(
        "TEST",
        "<script>alert(1)</script>",
        "x\" onload=\"alert(1)",
        None,
    )]);
    v.depends_on.clear();
    let page = overview_page(&v, Tz::UTC);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    assert!(!page.contains("\" onload=\""), "{page}");
    // The CSP blocks style attributes and scripts: the pictures must need neither.
    assert!(!page.contains(" style="), "{page}");
    assert!(!page.contains("<script"), "{page}");
}

#[test]
fn the_stack_is_drawn_from_the_browser_through_the_site_to_the_apis_in_call_order() {
    let v = view(vec![env("TEST", "web", "patient-api", None)]);
    assert_eq!(
        names(&v, &v.environments[0]),
        [
            ("Browser".to_string(), "web".to_string()),
            ("web".into(), "patient-api".into()),
            ("patient-api".into(), "admissions-api".into()),
        ]
    );
    let stack = stack_of(&v, &v.environments[0]);
    let versions: Vec<Option<&str>> = stack.parts.iter().map(|p| p.version.as_deref()).collect();
    assert_eq!(versions, [None, Some("1.0.1"), Some("1.2.0"), Some("1.4.2")]);
    assert!(stack.parts[1..].iter().all(|p| p.tone == Tone::Healthy));
    let html = stack_drawings(&v).into_string();
    assert!(html.contains("role=\"img\""), "{html}");
    assert!(
        html.contains("<title id=\"stack-0-title\">The stack in TEST</title>"),
        "{html}"
    );
    assert!(
        html.contains("Browser calls web; web calls patient-api; patient-api calls admissions-api."),
        "{html}"
    );
    assert!(html.contains("viewBox=\"0 0 320 "), "{html}");
    assert!(html.contains("<li>admissions-api 1.2.0, healthy</li>"), "{html}");
}

#[test]
fn without_links_configured_the_site_calls_every_api() {
    let mut v = view(vec![env("TEST", "web", "patient-api", None)]);
    v.depends_on.clear();
    assert_eq!(
        names(&v, &v.environments[0]),
        [
            ("Browser".to_string(), "web".to_string()),
            ("web".into(), "admissions-api".into()),
            ("web".into(), "patient-api".into()),
        ]
    );
}

#[test]
fn a_deployment_under_way_colours_what_it_changes_and_shows_the_version_on_its_way() {
    let mut v = view(vec![
        env("TEST", "web", "patient-api", Some(2)),
        env("PROD", "web", "patient-api", None),
    ]);
    // Release 2 changes the site only and deploys to TEST; release 3 waits for sign-off for PROD.
    v.recent_releases = vec![summary(3, "1.0.3", "2.1.0"), summary(2, "1.0.2", "2.0.0")];
    v.in_flight = vec![InFlightView {
        release: ReleaseId::from_number(3),
        number: 3,
        status: ReleaseStatus::AwaitingApproval,
        waiting_on: WaitingOn::SignOff {
            environment: "PROD".into(),
            approvers: vec![],
            since: now(),
            expires_at: None,
            unreachable: None,
            on_hold: None,
        },
        summary: String::new(),
    }];
    let test = stack_of(&v, &v.environments[0]);
    let tones: Vec<Tone> = test.parts.iter().map(|p| p.tone).collect();
    assert_eq!(tones, [Tone::Neutral, Tone::Changing, Tone::Healthy, Tone::Healthy]);
    let prod = stack_of(&v, &v.environments[1]);
    let coming: Vec<Option<&str>> = prod.parts.iter().map(|p| p.coming.as_deref()).collect();
    assert_eq!(coming, [None, Some("1.0.3"), Some("state 2.1.0"), Some("state 2.1.0")]);
    let html = stack_drawings(&v).into_string();
    assert!(html.contains("1.0.1 · changing"), "{html}");
    assert!(html.contains("1.0.1 → 1.0.3"), "{html}");
    assert!(
        html.contains("<li>web 1.0.1, healthy; on its way: 1.0.3</li>"),
        "{html}"
    );
}

#[test]
fn an_open_question_about_a_failed_deployment_colours_the_environment_failed() {
    let mut e = env("PROD", "web", "patient-api", None);
    e.pending = vec![PendingView {
        kind: PendingKind::Decision,
        release: ReleaseId::from_number(1),
        number: 1,
        asked_of: vec![],
        since: now(),
        expires_at: now() + Duration::hours(1),
        reason: "timed out".into(),
        summary: String::new(),
    }];
    let v = view(vec![e]);
    let stack = stack_of(&v, &v.environments[0]);
    assert!(stack.parts[1..].iter().all(|p| p.tone == Tone::Failed));
    let html = stack_drawings(&v).into_string();
    assert!(html.contains("fill=\"#fbeeee\" stroke=\"#a4131c\""), "{html}");
    assert!(html.contains("1.0.1 · failed"), "{html}");
}

#[test]
fn an_environment_with_nothing_live_says_so_instead_of_a_drawing() {
    let mut e = env("PROD", "web", "patient-api", None);
    e.live = None;
    let html = stack_drawings(&view(vec![e])).into_string();
    assert!(html.contains("Nothing deployed yet."), "{html}");
    assert!(!html.contains("<svg"), "{html}");
}

#[test]
fn trend_charts_draw_twelve_weeks_and_say_which_are_not_known() {
    let clock = Clock::new(now(), Tz::UTC);
    let html = trend_charts(&trends(3), clock).into_string();
    assert_eq!(html.matches("<svg").count(), 3, "{html}");
    assert!(
        html.contains("Only the last 3 of 12 weeks are known: older releases were not read."),
        "{html}"
    );
    assert_eq!(
        html.matches("stroke-dasharray").count(),
        27,
        "9 unknown weeks in 3 charts"
    );
    assert!(html.contains("<li>Week of 10 Dec: not known</li>"), "{html}");
    assert!(html.contains("<li>Week of 25 Feb: 2 deployments</li>"), "{html}");
    assert!(html.contains("<li>Week of 25 Feb: nothing measured</li>"), "{html}");
    let all = trend_charts(&trends(TREND_WEEKS), clock).into_string();
    assert!(all.contains("Week by week over the last 12 weeks."), "{all}");
    assert!(!all.contains("stroke-dasharray"), "{all}");
}

#[test]
fn the_overview_opens_with_the_stack_and_shows_trends_below_the_figures() {
    let page = overview_page(&view(vec![env("TEST", "web", "patient-api", None)]), Tz::UTC);
    let stack = page.find("id=\"stack\"").unwrap();
    let live = page.find("id=\"live-now\"").unwrap();
    let delivery = page.find("id=\"delivery\"").unwrap();
    let trends = page.find("id=\"trends\"").unwrap();
    assert!(stack < live && delivery < trends, "{page}");
}
