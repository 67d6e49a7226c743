//! Guards the delivery figures of the status page (`delivery` in `GET /api/status`): how often
//! releases reach production, how long a change takes from upload to production, how often a
//! deployment fails, how long releases wait for sign-off, and since when all that is measured.

use baton_domain::Package;
use baton_domain::Release;
use baton_domain::deployment::ComponentDeployment;
use baton_domain::ports::status::{
    DeliveryFigures, DurationFigure, EnvironmentNow, FIGURES_WINDOW_DAYS, LookedUp, ReleasePage, StatusView,
};
use chrono::{DateTime, Utc};

use crate::common::{at, deployment, from_json, local, release};

/// Minutes in a day, for `at(n * DAY)`.
const DAY: i64 = 24 * 60;

/// An environment nothing has been deployed to yet.
fn empty(name: &str) -> EnvironmentNow {
    EnvironmentNow {
        state: from_json(serde_json::json!({ "environment": name, "current": null, "previous": null })),
        deploying: None,
    }
}

/// `component` at `version`, uploaded (registered by Baton) at `uploaded`.
fn package(component: &str, version: &str, uploaded: DateTime<Utc>) -> Package {
    from_json(serde_json::json!({
        "component": component,
        "version": version,
        "kind": if component == "web" { "web" } else { "state" },
        "object_key": format!("packages/{component}/{version}/package"),
        "size": 1,
        "sha256": format!("{component}-{version}"),
        "metadata": {},
        "contents": { "kind": "web", "files": 1, "bytes": 1 },
        "registered_at": uploaded,
    }))
}

/// The figures the status page shows at `now` for `releases` (newest first), `more_exist`
/// telling whether older releases lie beyond them.
fn figures(
    releases: Vec<Release>,
    more_exist: bool,
    deployments: Vec<ComponentDeployment>,
    packages: Vec<Package>,
    now: DateTime<Utc>,
) -> DeliveryFigures {
    let next_before = more_exist.then(|| releases.last().map_or(1, |r| r.number));
    StatusView::build(
        &local(),
        &ReleasePage {
            releases,
            next_before,
            ..Default::default()
        },
        &[],
        &[],
        &LookedUp {
            environments: vec![empty("TEST"), empty("PROD")],
            deployments,
            packages,
        },
        now,
    )
    .delivery
}

/// Release `number` went live in PROD: its web deployment there started at `minutes` and
/// succeeded `took` minutes later.
fn live_in_prod(number: u64, minutes: i64, took: i64) -> ComponentDeployment {
    deployment(number, "PROD", "web", "succeeded", minutes, took)
}

#[test]
fn the_figures_count_releases_deployments_failures_lead_times_and_sign_off_waits_of_the_last_thirty_days() {
    let now = at(10 * DAY);
    let d0 = 7 * DAY;
    let d = figures(
        vec![
            release(5, "failed", at(9 * DAY)),
            release(4, "rolled-back", at(9 * DAY)),
            release(3, "rejected", at(8 * DAY)),
            release(2, "released", at(d0)),
            release(1, "released", at(-40 * DAY)),
        ],
        false,
        vec![
            // Release 5: live in TEST after 3 + 2 minutes, its PROD deployment started 15
            // minutes later and failed.
            deployment(5, "TEST", "web", "succeeded", 9 * DAY + 3, 2),
            deployment(5, "PROD", "web", "failed", 9 * DAY + 20, 1),
            // Release 4: rolled back in TEST, 5 minutes after it was created.
            deployment(4, "TEST", "web", "rolled-back", 9 * DAY + 5, 1),
            // Release 2: signed off for TEST after 10 minutes, live there at +12, signed off for
            // PROD 30 minutes later, live in PROD at +50.
            deployment(2, "TEST", "state", "succeeded", d0 + 10, 1),
            deployment(2, "TEST", "web", "succeeded", d0 + 11, 1),
            deployment(2, "PROD", "state", "succeeded", d0 + 42, 4),
            live_in_prod(2, d0 + 46, 4),
            // Release 1 is older than the window: it counts nowhere.
            live_in_prod(1, -40 * DAY, 1),
        ],
        vec![
            package("web", "1.0.2", at(d0 - 10)),
            package("state", "1.0.2", at(d0 - 30)),
            package("web", "1.0.1", at(-41 * DAY)),
        ],
        now,
    );
    assert_eq!(d.window_days, 30);
    assert_eq!(d.window_days, FIGURES_WINDOW_DAYS);
    assert_eq!(d.since, at(10 * DAY - 30 * DAY));
    assert_eq!(d.production, "PROD");
    assert_eq!(d.releases, 4);
    assert_eq!(d.deployments_to_production, 1);
    // One release live in production in 30 days: 7 / 30 a week, to one decimal.
    assert_eq!(d.per_week, 0.2);
    // Uploads 10 and 30 minutes before release 2 was created, live in PROD at +50: 60 and 80
    // minutes.
    assert_eq!(
        d.lead_time,
        Some(DurationFigure {
            median_seconds: 70 * 60,
            samples: 2
        })
    );
    // Releases 5 and 2 were deployed to PROD and 5 failed there; release 4's rollback in TEST
    // is not a failed change in production.
    assert_eq!((d.deployed_releases, d.failed_releases), (2, 1));
    assert_eq!(d.change_failure_rate, Some(0.5));
    // Waits: 3 and 15 (release 5), 5 (release 4), 10 and 30 minutes (release 2).
    assert_eq!(
        d.approval_wait,
        Some(DurationFigure {
            median_seconds: 10 * 60,
            samples: 5
        })
    );
}

#[test]
fn with_nothing_deployed_there_is_no_failure_rate_lead_time_or_wait_to_show() {
    let d = figures(vec![release(3, "rejected", at(0))], false, vec![], vec![], at(DAY));
    assert_eq!(d.releases, 1);
    assert_eq!(d.deployments_to_production, 0);
    assert_eq!(d.per_week, 0.0);
    assert_eq!((d.deployed_releases, d.failed_releases), (0, 0));
    // Not 0 %, and not "NaN": nothing was deployed to fail.
    assert_eq!(d.change_failure_rate, None);
    assert_eq!(d.lead_time, None);
    assert_eq!(d.approval_wait, None);
    // It reads as `null` in the API.
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["change_failure_rate"], serde_json::Value::Null);

    // A release deployed without failing: a rate of zero.
    let d = figures(
        vec![release(3, "released", at(0))],
        false,
        vec![live_in_prod(3, 10, 5)],
        vec![],
        at(DAY),
    );
    assert_eq!((d.deployed_releases, d.failed_releases), (1, 0));
    assert_eq!(d.change_failure_rate, Some(0.0));
}

#[test]
fn when_older_releases_exist_beyond_the_page_the_figures_are_measured_since_its_oldest_release() {
    let now = at(14 * DAY);
    let window_start = at(14 * DAY - 30 * DAY);
    let page = || vec![release(3, "released", at(7 * DAY)), release(2, "released", at(0))];
    let live = || vec![live_in_prod(3, 7 * DAY + 10, 5), live_in_prod(2, 10, 5)];

    // The page stops two weeks back although older releases exist: the figures cover only
    // those two weeks, so two releases make one a week (not 2 × 7 / 30).
    let d = figures(page(), true, live(), vec![], now);
    assert_eq!(d.since, at(0));
    assert_eq!((d.releases, d.deployments_to_production), (2, 2));
    assert_eq!(d.per_week, 1.0);

    // The page holds every release there is: the whole window is measured.
    let d = figures(page(), false, live(), vec![], now);
    assert_eq!(d.since, window_start);
    assert_eq!((d.releases, d.deployments_to_production), (2, 2));
    assert_eq!(d.per_week, 0.5);

    // Older releases exist, but the page already reaches past the window: the window it is,
    // and the release older than it counts nowhere.
    let mut older = page();
    older.push(release(1, "released", at(-20 * DAY)));
    let mut older_live = live();
    older_live.push(live_in_prod(1, -20 * DAY + 10, 5));
    let d = figures(older, true, older_live, vec![], now);
    assert_eq!(d.since, window_start);
    assert_eq!((d.releases, d.deployments_to_production), (2, 2));
    assert_eq!(d.per_week, 0.5);
}

#[test]
fn a_lead_time_runs_from_the_upload_of_the_very_component_and_version_released() {
    // Release 5 changed only web, to 1.0.5; it went live in PROD at +50.
    let mut r = release(5, "released", at(0));
    r.changes.retain(|c| c.component == "web");
    assert_eq!(r.changes.len(), 1);
    let d = figures(
        vec![r],
        false,
        vec![live_in_prod(5, 40, 10)],
        vec![
            // Another component's package of the same version, and web's previous version,
            // uploaded long before: neither is what release 5 brought.
            package("state", "1.0.5", at(-3 * DAY)),
            package("web", "1.0.4", at(-2 * DAY)),
            package("web", "1.0.5", at(-10)),
        ],
        at(DAY),
    );
    assert_eq!(
        d.lead_time,
        Some(DurationFigure {
            median_seconds: 60 * 60,
            samples: 1
        })
    );
}

#[test]
fn a_release_not_yet_live_in_production_adds_no_lead_time_and_no_deployment_to_production() {
    let d = figures(
        vec![release(5, "deploying", at(0))],
        false,
        vec![
            deployment(5, "TEST", "web", "succeeded", 10, 2),
            deployment(5, "PROD", "web", "in-progress", 20, 1),
        ],
        vec![package("web", "1.0.5", at(-10))],
        at(DAY),
    );
    assert_eq!(d.deployments_to_production, 0);
    assert_eq!(d.lead_time, None);
    assert_eq!(d.deployed_releases, 1);
    // Waits: 10 minutes for TEST, 8 for PROD (ready at +12, started at +20).
    assert_eq!(
        d.approval_wait,
        Some(DurationFigure {
            median_seconds: 9 * 60,
            samples: 2
        })
    );
}
