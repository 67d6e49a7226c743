//! Guards the overview (`GET /api/status`) and the release list: what runs where, what each
//! release in flight waits on and in what words, which sign-off requests still count, and the
//! keys the overview reads.

use baton_domain::ports::status::{
    EnvironmentNow, InFlightView, LookedUp, PendingSignOff, RejectedView, ReleaseListView, ReleasePage, ReleaseSummary,
    StatusView, WaitingOn, in_flight, outcome, overview_lookup,
};
use baton_domain::release::{ReleaseId, ReleaseStatus};
use baton_domain::{RejectedPackage, Release};

use crate::common::{at, deployment, from_json, local, release};

/// Redeploy confirmations and failure questions, with this file's fixtures.
#[path = "status_requests.rs"]
mod requests;

/// An environment running release `live` (web at `1.0.<live>`, then the rollback target
/// `live - 1`), with `deploying` holding its lease.
fn env(name: &str, live: Option<u64>, deploying: Option<u64>) -> EnvironmentNow {
    let live_release = |n: u64| {
        serde_json::json!({
            "release_id": format!("rel-{n}"),
            "number": n,
            "components": {
                "state": { "package": { "component": "state", "version": format!("1.0.{n}"), "sha256": "s", "object_key": "k" }, "detail": null },
                "web": {
                    "package": { "component": "web", "version": format!("1.0.{n}"), "sha256": "w", "object_key": "k" },
                    "detail": { "platform": "pages", "deployment_id": "d", "url": format!("https://{n}.pages.dev"), "stage": "deploy: success", "environment": "preview" },
                },
            },
            "since": at(n as i64),
            "approved_by": "release-manager@example.com",
        })
    };
    EnvironmentNow {
        state: from_json(serde_json::json!({
            "environment": name,
            "current": live.map(live_release),
            "previous": live.filter(|n| *n > 1).map(|n| live_release(n - 1)),
        })),
        deploying: deploying.map(ReleaseId::from_number),
    }
}

fn sign_off(number: u64, env: &str, asked: i64, lapses: i64) -> PendingSignOff {
    from_json(serde_json::json!({
        "release_id": format!("rel-{number}"),
        "number": number,
        "environment": env,
        "approvers": ["release-manager@example.com", "cab@example.com", "qa@example.com"],
        "created_at": at(asked),
        "expires_at": at(lapses),
    }))
}

fn page(releases: Vec<Release>) -> ReleasePage {
    ReleasePage {
        releases,
        next_before: None,
        ..Default::default()
    }
}

fn looked(environments: Vec<EnvironmentNow>) -> LookedUp {
    LookedUp {
        environments,
        ..LookedUp::default()
    }
}

fn summaries(view: &StatusView) -> Vec<(u64, String)> {
    view.in_flight.iter().map(|f| (f.number, f.summary.clone())).collect()
}

fn only(view: &StatusView) -> &InFlightView {
    assert_eq!(view.in_flight.len(), 1, "{:?}", summaries(view));
    &view.in_flight[0]
}

#[test]
fn statuses_read_as_outcomes_and_only_three_are_in_flight() {
    let cases = [
        (ReleaseStatus::Created, "Starting", true),
        (ReleaseStatus::AwaitingApproval, "Waiting for sign-off", true),
        (ReleaseStatus::Deploying, "Deploying", true),
        (ReleaseStatus::Released, "Live in every environment", false),
        (ReleaseStatus::Rejected, "Rejected", false),
        (ReleaseStatus::Expired, "Expired: nobody signed off in time", false),
        (ReleaseStatus::Superseded, "Replaced by a newer release", false),
        (ReleaseStatus::Failed, "Deployment failed", false),
        (
            ReleaseStatus::RolledBack,
            "Deployment failed and was rolled back",
            false,
        ),
        (
            ReleaseStatus::Blocked,
            "Blocked before sign-off: nothing was changed",
            false,
        ),
    ];
    for (status, words, flying) in cases {
        assert_eq!(outcome(status), words, "{status:?}");
        assert_eq!(in_flight(status), flying, "{status:?}");
    }
}

#[test]
fn a_sign_off_wait_names_any_one_of_the_approvers() {
    let asking = |approvers: &[&str]| {
        let mut s = sign_off(5, "PROD", 1, 600);
        s.approvers = approvers.iter().map(|a| a.to_string()).collect();
        let v = StatusView::build(
            &local(),
            &page(vec![release(5, "awaiting-approval", at(0))]),
            &[s],
            &[],
            &looked(vec![env("TEST", Some(5), None), env("PROD", None, None)]),
            at(60),
        );
        only(&v).summary.clone()
    };
    assert_eq!(asking(&[]), "Waiting for sign-off for PROD by an approver");
    assert_eq!(asking(&["a@x.io"]), "Waiting for sign-off for PROD by a@x.io");
    assert_eq!(
        asking(&["a@x.io", "b@x.io"]),
        "Waiting for sign-off for PROD by a@x.io or b@x.io"
    );
    assert_eq!(
        asking(&["a@x.io", "b@x.io", "c@x.io"]),
        "Waiting for sign-off for PROD by a@x.io, b@x.io or c@x.io"
    );
}

#[test]
fn the_latest_environment_asking_for_sign_off_is_where_a_release_waits() {
    let now = at(60);
    let v = StatusView::build(
        &local(),
        &page(vec![release(5, "awaiting-approval", at(0))]),
        &[sign_off(5, "TEST", 1, 600), sign_off(5, "PROD", 2, 600)],
        &[],
        &looked(vec![env("TEST", Some(5), None), env("PROD", None, None)]),
        now,
    );
    let f = only(&v);
    assert_eq!(
        f.summary,
        "Waiting for sign-off for PROD by release-manager@example.com, cab@example.com or qa@example.com"
    );
    match &f.waiting_on {
        WaitingOn::SignOff {
            environment,
            since,
            expires_at,
            ..
        } => {
            assert_eq!(environment, "PROD");
            assert_eq!(*since, at(2));
            assert_eq!(*expires_at, Some(at(600)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f.release, ReleaseId::from_number(5));
    assert_eq!(f.status, ReleaseStatus::AwaitingApproval);
    // The recent list shows the same words for it.
    assert_eq!(v.recent_releases[0].outcome, f.summary);
}

#[test]
fn a_request_that_has_lapsed_or_whose_release_finished_waits_on_nobody() {
    let now = at(60);
    let v = StatusView::build(
        &local(),
        &page(vec![
            release(6, "awaiting-approval", at(0)),
            release(5, "rejected", at(0)),
        ]),
        &[sign_off(6, "TEST", 1, 60), sign_off(5, "TEST", 1, 600)],
        &[],
        &looked(vec![env("TEST", None, None), env("PROD", None, None)]),
        now,
    );
    // Release 6's request lapsed at this very moment; release 5 is over.
    assert_eq!(summaries(&v), [(6, "Moving on to TEST".to_string())]);
    assert_eq!(v.recent_releases[1].outcome, "Rejected");
    let v = StatusView::build(
        &local(),
        &page(vec![release(6, "awaiting-approval", at(0))]),
        &[sign_off(6, "TEST", 1, 61)],
        &[],
        &looked(vec![env("TEST", None, None), env("PROD", None, None)]),
        now,
    );
    assert!(
        only(&v).summary.starts_with("Waiting for sign-off for TEST"),
        "{:?}",
        summaries(&v)
    );
}

#[test]
fn an_older_release_beyond_the_recent_list_still_shows_while_someone_is_asked_to_sign_it_off() {
    let v = StatusView::build(
        &local(),
        &page(vec![release(9, "deploying", at(0)), release(8, "released", at(0))]),
        &[sign_off(3, "PROD", 1, 600)],
        &[],
        &looked(vec![env("TEST", Some(8), Some(9)), env("PROD", Some(8), None)]),
        at(60),
    );
    assert_eq!(
        summaries(&v),
        [
            (9, "Deploying to TEST".to_string()),
            (
                3,
                "Waiting for sign-off for PROD by release-manager@example.com, cab@example.com or qa@example.com"
                    .to_string()
            ),
        ]
    );
    assert_eq!(v.in_flight[1].status, ReleaseStatus::AwaitingApproval);
    assert_eq!(v.recent_releases.len(), 2);
    assert_eq!(v.recent_releases[1].outcome, "Live in every environment");
}

#[test]
fn releases_in_flight_are_listed_newest_first() {
    let v = StatusView::build(
        &local(),
        &page(vec![
            release(2, "deploying", at(0)),
            release(4, "created", at(0)),
            release(3, "awaiting-approval", at(0)),
        ]),
        &[],
        &[],
        &looked(vec![env("TEST", None, None), env("PROD", None, None)]),
        at(60),
    );
    let numbers: Vec<u64> = v.in_flight.iter().map(|f| f.number).collect();
    assert_eq!(numbers, [4, 3, 2]);
}

#[test]
fn a_release_between_steps_waits_for_the_first_environment_it_has_not_reached() {
    let build = |status: &str, environments: Vec<EnvironmentNow>, deployments| {
        StatusView::build(
            &local(),
            &page(vec![release(5, status, at(0))]),
            &[],
            &[],
            &LookedUp {
                environments,
                deployments,
                packages: Vec::new(),
            },
            at(60),
        )
    };
    let none = Vec::new;
    // Nothing reached yet.
    let v = build(
        "awaiting-approval",
        vec![env("TEST", Some(4), None), env("PROD", Some(4), None)],
        none(),
    );
    assert_eq!(only(&v).summary, "Moving on to TEST");
    // Live in TEST: PROD next.
    let v = build(
        "awaiting-approval",
        vec![env("TEST", Some(5), None), env("PROD", Some(4), None)],
        none(),
    );
    assert_eq!(only(&v).summary, "Moving on to PROD");
    // Deployed to TEST (a succeeded deployment) although TEST's state has moved on since.
    let v = build(
        "awaiting-approval",
        vec![env("TEST", Some(6), None), env("PROD", Some(4), None)],
        vec![deployment(5, "TEST", "web", "succeeded", 1, 1)],
    );
    assert_eq!(only(&v).summary, "Moving on to PROD");
    // A failed deployment, or another release's, does not count as reached.
    let v = build(
        "awaiting-approval",
        vec![env("TEST", Some(6), None), env("PROD", Some(4), None)],
        vec![
            deployment(5, "TEST", "web", "failed", 1, 1),
            deployment(6, "TEST", "web", "succeeded", 1, 1),
            deployment(5, "PROD", "web", "succeeded", 1, 1),
        ],
    );
    assert_eq!(only(&v).summary, "Moving on to TEST");
    // Everywhere already.
    let v = build(
        "deploying",
        vec![env("TEST", Some(5), None), env("PROD", Some(5), None)],
        none(),
    );
    assert_eq!(only(&v).summary, "Moving on to its next step");
    assert_eq!(only(&v).waiting_on, WaitingOn::NextStep { environment: None });
}

#[test]
fn a_release_waiting_for_a_busy_environment_names_the_release_deploying_there() {
    let build = |status: &str| {
        StatusView::build(
            &local(),
            &page(vec![release(6, status, at(0))]),
            &[],
            &[],
            &looked(vec![env("TEST", Some(6), None), env("PROD", Some(4), Some(5))]),
            at(60),
        )
    };
    let v = build("awaiting-approval");
    assert_eq!(
        only(&v).summary,
        "Waiting for PROD to be free (rel-5 is deploying there)"
    );
    assert_eq!(
        only(&v).waiting_on,
        WaitingOn::EnvironmentBusy {
            environment: "PROD".into(),
            held_by: Some(ReleaseId::from_number(5)),
        }
    );
    // Only a release that is past sign-off waits for the lease; one deploying moves on.
    assert_eq!(only(&build("deploying")).summary, "Moving on to PROD");
    // A release created but not yet started is starting, whatever the environments do.
    assert_eq!(only(&build("created")).summary, "Starting its workflow");
}

#[test]
fn a_release_holding_an_environment_s_lease_is_deploying_there() {
    let v = StatusView::build(
        &local(),
        &page(vec![release(6, "created", at(0))]),
        &[],
        &[],
        &looked(vec![env("TEST", Some(5), None), env("PROD", Some(4), Some(6))]),
        at(60),
    );
    assert_eq!(only(&v).summary, "Deploying to PROD");
}

#[test]
fn each_environment_shows_its_live_release_in_configuration_order_and_the_one_before() {
    let v = StatusView::build(
        &local(),
        &page(vec![]),
        &[],
        &[],
        &looked(vec![env("TEST", Some(5), Some(6)), env("PROD", None, None)]),
        at(60),
    );
    assert_eq!(v.generated_at, at(60));
    let test = &v.environments[0];
    assert_eq!(test.name, "TEST");
    assert_eq!(test.deploying, Some(ReleaseId::from_number(6)));
    let live = test.live.as_ref().unwrap();
    assert_eq!((live.release.as_str(), live.number, live.since), ("rel-5", 5, at(5)));
    assert_eq!(live.approved_by.as_deref(), Some("release-manager@example.com"));
    let components: Vec<(&str, &str, Option<&str>)> = live
        .components
        .iter()
        .map(|c| (c.component.as_str(), c.version.as_str(), c.pages_url.as_deref()))
        .collect();
    assert_eq!(
        components,
        [("web", "1.0.5", Some("https://5.pages.dev")), ("state", "1.0.5", None)]
    );
    let previous = test.previous.as_ref().unwrap();
    assert_eq!(
        (previous.release.as_str(), previous.number, previous.since),
        ("rel-4", 4, at(4))
    );
    let prod = &v.environments[1];
    assert_eq!(
        (prod.name.as_str(), &prod.live, &prod.previous, &prod.deploying),
        ("PROD", &None, &None, &None)
    );
}

#[test]
fn refused_uploads_show_which_rule_refused_them_and_why() {
    let rejected: RejectedPackage = from_json(serde_json::json!({
        "object_key": "packages/web/v1/site.zip",
        "object_tag": "etag",
        "component": "web",
        "version": "v1",
        "rejection": { "code": "bad-version", "reason": "'v1' is not a SemVer 2.0 version" },
        "metadata": { "commit": "abc123", "author": "dev@example.com" },
        "rejected_at": at(3),
    }));
    let view = RejectedView::of(&rejected);
    assert_eq!(view.object_key, "packages/web/v1/site.zip");
    assert_eq!(view.component.as_deref(), Some("web"));
    assert_eq!(view.version.as_deref(), Some("v1"));
    assert_eq!(view.reason, "'v1' is not a SemVer 2.0 version");
    assert_eq!(view.rejected_at, at(3));
    assert_eq!(view.commit.as_deref(), Some("abc123"));
    assert_eq!(serde_json::to_value(view.code).unwrap(), "bad-version");
    let v = StatusView::build(
        &local(),
        &page(vec![]),
        &[],
        std::slice::from_ref(&rejected),
        &LookedUp::default(),
        at(5),
    );
    assert_eq!(v.rejected_packages, [RejectedView::of(&rejected)]);
}

#[test]
fn a_release_in_a_list_shows_its_versions_changes_and_page() {
    let s = ReleaseSummary::of(&release(4, "released", at(7)));
    assert_eq!(s.id.as_str(), "rel-4");
    assert_eq!(s.number, 4);
    assert_eq!(s.status, ReleaseStatus::Released);
    assert_eq!(s.outcome, "Live in every environment");
    assert_eq!(s.created_at, at(7));
    assert_eq!(s.url, "/releases/rel-4");
    let versions: Vec<(&str, &str)> = s.versions.iter().map(|(c, v)| (c.as_str(), v.as_str())).collect();
    assert_eq!(versions, [("state", "1.0.4"), ("web", "1.0.4")]);
    let changes: Vec<(&str, Option<&str>, &str)> = s
        .changes
        .iter()
        .map(|c| (c.component.as_str(), c.from.as_deref(), c.to.as_str()))
        .collect();
    assert_eq!(changes, [("state", None, "1.0.4"), ("web", Some("0.9.0"), "1.0.4")]);

    let list = ReleaseListView::of(&ReleasePage {
        releases: vec![release(4, "released", at(7)), release(3, "failed", at(1))],
        next_before: Some(3),
        ..Default::default()
    });
    assert_eq!(list.next_before, Some(3));
    let numbers: Vec<(u64, &str)> = list.releases.iter().map(|r| (r.number, r.outcome.as_str())).collect();
    assert_eq!(numbers, [(4, "Live in every environment"), (3, "Deployment failed")]);
}

#[test]
fn the_overview_reads_each_release_s_deployments_and_the_packages_of_released_ones() {
    let config = local();
    let releases = vec![release(3, "deploying", at(0)), release(2, "released", at(0))];
    let lookup = overview_lookup(&config, &releases);
    assert_eq!(lookup.environments, ["TEST", "PROD"]);
    let keys: Vec<(u64, &str, &str)> = lookup
        .deployments
        .iter()
        .map(|k| {
            (
                k.release.number_text().parse().unwrap(),
                k.environment.as_str(),
                k.component.as_str(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (3, "TEST", "state"),
            (3, "TEST", "web"),
            (3, "PROD", "state"),
            (3, "PROD", "web"),
            (2, "TEST", "state"),
            (2, "TEST", "web"),
            (2, "PROD", "state"),
            (2, "PROD", "web"),
        ]
    );
    // Only the released release's changed packages, for lead times.
    let packages: Vec<(&str, String, &str)> = lookup
        .packages
        .iter()
        .map(|p| (p.component.as_str(), p.version.to_string(), p.sha256.as_str()))
        .collect();
    assert_eq!(
        packages,
        [("state", "1.0.2".to_string(), "s2"), ("web", "1.0.2".to_string(), "w2")]
    );
    // Two keys per environment (state and lease), one per deployment and package.
    assert_eq!(lookup.key_count(), 2 * 2 + 8 + 2);
}

#[test]
fn a_release_between_sign_off_and_a_frozen_environment_waits_for_the_freeze() {
    let config = crate::common::local_with_monday_freeze();
    let build = |pending: &[PendingSignOff], now| {
        StatusView::build(
            &config,
            &page(vec![release(6, "awaiting-approval", at(0))]),
            pending,
            &[],
            &looked(vec![env("TEST", Some(6), None), env("PROD", Some(5), None)]),
            now,
        )
    };
    let v = build(&[], at(60));
    assert_eq!(
        only(&v).waiting_on,
        WaitingOn::Freeze {
            environment: "PROD".into(),
            signed_off: true,
            reason: "change board".into(),
            until: at(180),
        }
    );
    assert_eq!(
        only(&v).summary,
        "Signed off for PROD; waits for the change board freeze there to end"
    );
    // Asked to sign off during the freeze: the sign-off is what it waits on first.
    let v = build(&[sign_off(6, "PROD", 30, 600)], at(60));
    assert!(
        only(&v).summary.starts_with("Waiting for sign-off for PROD"),
        "{}",
        only(&v).summary
    );
    // After the freeze, it moves on.
    assert_eq!(summaries(&build(&[], at(180))), [(6, "Moving on to PROD".to_string())]);
    // Deploying (TEST live, about to be asked for PROD) during the freeze: not signed off yet.
    let v = StatusView::build(
        &config,
        &page(vec![release(6, "deploying", at(0))]),
        &[],
        &[],
        &looked(vec![env("TEST", Some(6), None), env("PROD", Some(5), None)]),
        at(60),
    );
    assert_eq!(only(&v).summary, "Waiting for the change board freeze of PROD to end");
}

#[test]
fn a_lookup_reads_two_keys_per_environment_and_one_per_record() {
    let lookup = baton_domain::ports::status::Lookup {
        environments: vec!["DEV".into(), "TEST".into(), "PROD".into()],
        deployments: Vec::new(),
        packages: Vec::new(),
    };
    assert_eq!(lookup.key_count(), 6);
}
