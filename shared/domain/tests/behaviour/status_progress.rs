//! Guards what the status page, the API and the feed say of a release's progress (issue 16,
//! items 6 and 9): the badge is where it is live now, "rolled back" only when something was
//! changed and put back, the change failure rate counts production only, and a release's last
//! change is when it was last updated.

use baton_domain::Release;
use baton_domain::deployment::ComponentDeployment;
use baton_domain::ports::status::{
    EnvironmentNow, LastChanges, LookedUp, ReleaseDetail, ReleaseListView, ReleasePage, ReleaseRecord, StatusView,
};
use baton_domain::release::ReleaseId;

use crate::common::{at, deployment, event, from_json, local, release};

/// An environment running release `live`, if any.
fn env(name: &str, live: Option<u64>) -> EnvironmentNow {
    let live_release = |n: u64| {
        serde_json::json!({
            "release_id": format!("rel-{n}"),
            "number": n,
            "components": {},
            "since": at(n as i64),
            "approved_by": "release-manager@example.com",
        })
    };
    EnvironmentNow {
        state: from_json(serde_json::json!({
            "environment": name,
            "current": live.map(live_release),
            "previous": null,
        })),
        deploying: None,
    }
}

fn overview(
    releases: Vec<Release>,
    environments: Vec<EnvironmentNow>,
    deployments: Vec<ComponentDeployment>,
) -> StatusView {
    StatusView::build(
        &local(),
        &ReleasePage {
            releases,
            ..Default::default()
        },
        &[],
        &[],
        &LookedUp {
            environments,
            deployments,
            ..Default::default()
        },
        at(600),
    )
}

fn outcome_of(view: &StatusView, number: u64) -> (String, Option<Vec<String>>) {
    let s = view
        .recent_releases
        .iter()
        .find(|r| r.number == number)
        .expect("the release is listed");
    (s.outcome.clone(), s.live_in.clone())
}

#[test]
fn a_release_s_badge_is_where_it_is_live_now_not_where_it_once_was() {
    // Release 1 went live everywhere; TEST has moved on to release 8, PROD still runs 1.
    let view = overview(
        vec![release(8, "released", at(100)), release(1, "released", at(0))],
        vec![env("TEST", Some(8)), env("PROD", Some(1))],
        vec![
            deployment(1, "TEST", "web", "succeeded", 1, 1),
            deployment(1, "PROD", "web", "succeeded", 5, 1),
            deployment(8, "TEST", "web", "succeeded", 101, 1),
        ],
    );
    assert_eq!(
        outcome_of(&view, 1),
        (
            "Live in PROD; was live in TEST (now release 8)".to_string(),
            Some(vec!["PROD".to_string()])
        )
    );
    // Release 8 is live in TEST only, though its status says released (a redeploy put PROD
    // back, say): the badge tells where it runs.
    assert_eq!(
        outcome_of(&view, 8),
        ("Live in TEST".to_string(), Some(vec!["TEST".to_string()]))
    );

    // Live in both: every environment; replaced in both: where it was, and by what.
    let view = overview(
        vec![release(3, "released", at(0))],
        vec![env("TEST", Some(3)), env("PROD", Some(3))],
        vec![],
    );
    assert_eq!(outcome_of(&view, 3).0, "Live in every environment");
    let view = overview(
        vec![release(3, "released", at(0))],
        vec![env("TEST", Some(9)), env("PROD", Some(8))],
        vec![],
    );
    assert_eq!(
        outcome_of(&view, 3),
        (
            "Was live in TEST (now release 9) and PROD (now release 8)".to_string(),
            Some(vec![])
        )
    );
    // Superseded before PROD while live in TEST: both facts.
    let view = overview(
        vec![release(4, "superseded", at(0))],
        vec![env("TEST", Some(4)), env("PROD", Some(2))],
        vec![deployment(4, "TEST", "web", "succeeded", 1, 1)],
    );
    assert_eq!(outcome_of(&view, 4).0, "Live in TEST; replaced by a newer release");
}

#[test]
fn rolled_back_only_when_something_was_changed_and_put_back_otherwise_failed_before_any_change() {
    let envs = || vec![env("TEST", Some(4)), env("PROD", Some(2))];
    // Live in TEST; in PROD its state deployment went live, web failed, state was put back.
    let changed = overview(
        vec![release(4, "rolled-back", at(0))],
        envs(),
        vec![
            deployment(4, "TEST", "web", "succeeded", 1, 1),
            deployment(4, "PROD", "state", "rolled-back", 10, 1),
            deployment(4, "PROD", "web", "failed", 11, 1),
        ],
    );
    assert_eq!(outcome_of(&changed, 4).0, "Live in TEST; rolled back in PROD");
    // The first deployment in PROD failed: nothing there was changed, nothing rolled back.
    let unchanged = overview(
        vec![release(4, "rolled-back", at(0))],
        envs(),
        vec![
            deployment(4, "TEST", "web", "succeeded", 1, 1),
            deployment(4, "PROD", "state", "failed", 10, 1),
        ],
    );
    assert_eq!(
        outcome_of(&unchanged, 4).0,
        "Live in TEST; failed before any change in PROD"
    );
    // Failed (not put back) after a change: it failed, and says where.
    let left = overview(
        vec![release(5, "failed", at(0))],
        vec![env("TEST", Some(2)), env("PROD", Some(2))],
        vec![
            deployment(5, "TEST", "state", "succeeded", 10, 1),
            deployment(5, "TEST", "web", "failed", 11, 1),
        ],
    );
    assert_eq!(outcome_of(&left, 5).0, "Deployment to TEST failed");

    // The release page says the same per environment and in its headline.
    let record = |deployments: Vec<ComponentDeployment>| ReleaseRecord {
        release: release(4, "rolled-back", at(0)),
        events: vec![
            event(4, "live", Some("TEST"), 2, "baton", "live in TEST"),
            event(
                4,
                "rolledback",
                Some("PROD"),
                12,
                "baton",
                "RolledBack in PROD: web failed",
            ),
        ],
        deployments,
        environment_notes: Vec::new(),
    };
    for (deployments, words) in [
        (
            vec![
                deployment(4, "PROD", "state", "rolled-back", 10, 1),
                deployment(4, "PROD", "web", "failed", 11, 1),
            ],
            ("Rolled back in PROD", "Live in TEST; rolled back in PROD"),
        ),
        (
            vec![deployment(4, "PROD", "state", "failed", 10, 1)],
            (
                "Failed before any change in PROD",
                "Live in TEST; failed before any change in PROD",
            ),
        ),
    ] {
        let (words, headline) = words;
        let record = record(deployments);
        let d = ReleaseDetail::build(&local(), &record, at(600)).live_now(&record, &envs());
        assert_eq!(d.environments[1].summary, words);
        assert_eq!(d.headline, headline);
        assert_eq!(d.summary.live_in, Some(vec!["TEST".to_string()]));
        // Its last change is its last event.
        assert_eq!(d.summary.changed_at, at(12));
    }
}

#[test]
fn the_change_failure_rate_counts_production_deployments_only() {
    // Three releases failed in TEST (one rolled back there, one failed there, one failed before
    // any change); two reached PROD and neither failed there: 0 %, not 60 %.
    let view = overview(
        vec![
            release(5, "rolled-back", at(50)),
            release(4, "failed", at(40)),
            release(3, "rolled-back", at(30)),
            release(2, "released", at(20)),
            release(1, "released", at(10)),
        ],
        vec![env("TEST", Some(2)), env("PROD", Some(2))],
        vec![
            deployment(5, "TEST", "web", "rolled-back", 51, 1),
            deployment(4, "TEST", "web", "failed", 41, 1),
            deployment(3, "TEST", "state", "failed", 31, 1),
            deployment(2, "TEST", "web", "succeeded", 21, 1),
            deployment(2, "PROD", "web", "succeeded", 25, 1),
            deployment(1, "TEST", "web", "succeeded", 11, 1),
            deployment(1, "PROD", "web", "succeeded", 15, 1),
        ],
    );
    let d = &view.delivery;
    assert_eq!(d.production, "PROD");
    assert_eq!((d.deployed_releases, d.failed_releases), (2, 0));
    assert_eq!(d.change_failure_rate, Some(0.0));

    // One of them failed in PROD (its web deployment, after state went live): 1 of 2.
    let view = overview(
        vec![release(2, "rolled-back", at(20)), release(1, "released", at(10))],
        vec![env("TEST", Some(2)), env("PROD", Some(1))],
        vec![
            deployment(2, "TEST", "web", "failed", 21, 1),
            deployment(2, "PROD", "state", "rolled-back", 25, 1),
            deployment(2, "PROD", "web", "failed", 26, 1),
            deployment(1, "PROD", "web", "succeeded", 15, 1),
        ],
    );
    let d = &view.delivery;
    assert_eq!((d.deployed_releases, d.failed_releases), (2, 1));
    assert_eq!(d.change_failure_rate, Some(0.5));
}

#[test]
fn a_release_s_last_change_is_its_last_recorded_event_or_its_creation() {
    let mut page = ReleasePage {
        releases: vec![release(2, "released", at(20)), release(1, "released", at(10))],
        ..Default::default()
    };
    page.changes.insert(
        ReleaseId::from_number(2),
        LastChanges {
            last: Some(event(2, "released", None, 95, "baton", "live in every environment")),
            environments: Default::default(),
        },
    );
    let list = ReleaseListView::of(&page);
    assert_eq!(list.releases[0].changed_at, at(95));
    // Nothing recorded since it was made: its creation.
    assert_eq!(list.releases[1].changed_at, at(10));
    // The list does not read the environments: where they are live is not claimed.
    assert_eq!(list.releases[0].live_in, None);
    let json = serde_json::to_value(&list).expect("serialisable");
    assert!(json["releases"][0].get("live_in").is_none(), "{json}");
    assert_eq!(json["releases"][0]["changed_at"], "2026-03-02T10:35:00Z");
}

#[test]
fn the_evidence_for_prod_is_the_release_live_in_test_now() {
    use baton_domain::approval::evidence::{Evidence, previous_environment};
    let config = local();
    assert_eq!(previous_environment(&config, "PROD"), Some("TEST"));
    assert_eq!(previous_environment(&config, "TEST"), None);
    let test: baton_domain::deployment::EnvironmentState = from_json(serde_json::json!({
        "environment": "TEST",
        "current": {
            "release_id": "rel-4", "number": 4, "since": at(30), "approved_by": "rm@example.com",
            "components": {
                "state": { "package": { "component": "state", "version": "1.0.4", "sha256": "s", "object_key": "k" }, "detail": null },
                "web": {
                    "package": { "component": "web", "version": "1.0.4", "sha256": "w", "object_key": "k" },
                    "detail": { "platform": "pages", "deployment_id": "d", "url": "https://4.preview.pages.dev", "stage": "deploy: success", "environment": "preview" },
                },
            },
        },
        "previous": null,
    }));
    let e = Evidence::of(&ReleaseId::from_number(4), &test).expect("live in TEST");
    assert_eq!(e.environment, "TEST");
    assert_eq!(e.since, at(30));
    assert_eq!(e.approved_by.as_deref(), Some("rm@example.com"));
    assert_eq!(e.site_url.as_deref(), Some("https://4.preview.pages.dev"));
    // Release 5 is not what runs in TEST: no evidence to claim.
    assert_eq!(Evidence::of(&ReleaseId::from_number(5), &test), None);
}
