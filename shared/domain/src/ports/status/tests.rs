use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::config::{BatonConfig, ComponentKind};
use crate::deployment::{DeployStatus, LiveComponent, LiveRelease, PlatformDetail};
use crate::package::{PackageContents, PackageMetadata};
use crate::release::{ComponentChange, ReleaseNote, ReleaseStatus, Snapshot};
use crate::version::Version;

mod requests;
mod trends;

fn config() -> BatonConfig {
    BatonConfig::from_yaml(include_str!("../../../../../infra/config/baton.local.yaml")).unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn package_ref(component: &str, version: &str) -> PackageRef {
    PackageRef {
        component: component.into(),
        version: Version::parse(version).unwrap(),
        sha256: format!("{component}{version}"),
        object_key: format!("packages/{component}/{version}/f"),
        s3_version_id: None,
    }
}

fn release(number: u64, status: ReleaseStatus, created: DateTime<Utc>) -> Release {
    let version = format!("1.0.{number}");
    let snapshot: Snapshot = ["web", "state"]
        .into_iter()
        .map(|c| (c.to_string(), package_ref(c, &version)))
        .collect();
    Release {
        id: ReleaseId::from_number(number),
        number,
        content_hash: "h".into(),
        changes: snapshot
            .values()
            .map(|p| ComponentChange {
                component: p.component.clone(),
                from: None,
                to: p.version.clone(),
            })
            .collect(),
        notes: vec![ReleaseNote {
            component: "web".into(),
            version: Version::parse(&version).unwrap(),
            metadata: PackageMetadata {
                notes: Some("New admissions form".into()),
                ..Default::default()
            },
        }],
        snapshot,
        previous: None,
        triggered_by: "packages/web/x/site.zip".into(),
        created_at: created,
        status,
    }
}

fn deployment(number: u64, env: &str, component: &str, started: DateTime<Utc>, minutes: i64) -> ComponentDeployment {
    ComponentDeployment {
        release_id: ReleaseId::from_number(number),
        environment: env.into(),
        component: component.into(),
        kind: if component == "web" {
            ComponentKind::Web
        } else {
            ComponentKind::State
        },
        package: package_ref(component, &format!("1.0.{number}")),
        status: DeployStatus::Succeeded,
        detail: None,
        error: None,
        started_at: started,
        updated_at: started + Duration::minutes(minutes),
        fence: None,
        execution: None,
        attempt: 0,
    }
}

fn uploaded(component: &str, version: &str, at: DateTime<Utc>) -> Package {
    Package {
        component: component.into(),
        version: Version::parse(version).unwrap(),
        kind: ComponentKind::Web,
        object_key: String::new(),
        s3_version_id: None,
        size: 1,
        sha256: String::new(),
        metadata: PackageMetadata::default(),
        contents: PackageContents::Web { files: 1, bytes: 1 },
        registered_at: at,
    }
}

fn environment(name: &str, live: Option<u64>, deploying: Option<u64>) -> EnvironmentNow {
    EnvironmentNow {
        state: EnvironmentState {
            environment: name.into(),
            current: live.map(|n| LiveRelease {
                release_id: ReleaseId::from_number(n),
                number: n,
                components: BTreeMap::from([(
                    "web".to_string(),
                    LiveComponent {
                        package: package_ref("web", &format!("1.0.{n}")),
                        detail: Some(PlatformDetail::Pages {
                            deployment_id: "d".into(),
                            url: "https://abc.baton-demo.pages.dev".into(),
                            stage: "deploy: success".into(),
                            environment: "preview".into(),
                        }),
                    },
                )]),
                since: t0(),
                approved_by: Some("release-manager@example.com".into()),
                fence: None,
                execution: None,
            }),
            previous: None,
        },
        deploying: deploying.map(ReleaseId::from_number),
    }
}

fn sign_off(number: u64, env: &str, asked: DateTime<Utc>) -> PendingSignOff {
    PendingSignOff {
        release_id: ReleaseId::from_number(number),
        number,
        environment: env.into(),
        approvers: vec!["release-manager@example.com".into(), "cab@example.com".into()],
        created_at: asked,
        expires_at: asked + Duration::hours(72),
        mail_failure: None,
        hold: None,
        redeploy: None,
        failure: None,
    }
}

#[test]
fn the_overview_says_what_runs_where_and_what_each_release_waits_on() {
    let now = t0() + Duration::hours(2);
    let page = ReleasePage {
        releases: vec![
            release(4, ReleaseStatus::Created, now),
            release(3, ReleaseStatus::AwaitingApproval, t0()),
            release(2, ReleaseStatus::Deploying, t0()),
            release(1, ReleaseStatus::Released, t0()),
        ],
        next_before: None,
        ..Default::default()
    };
    let looked = LookedUp {
        environments: vec![
            environment("TEST", Some(1), Some(2)),
            environment("PROD", Some(1), None),
        ],
        deployments: vec![],
        packages: vec![],
    };
    let pending = [sign_off(3, "PROD", t0() + Duration::minutes(42))];
    let view = StatusView::build(&config(), &page, &pending, &[], &looked, now);
    let summaries: Vec<(u64, &str)> = view.in_flight.iter().map(|f| (f.number, f.summary.as_str())).collect();
    assert_eq!(
        summaries,
        vec![
            (4, "Starting its workflow"),
            (
                3,
                "Waiting for sign-off for PROD by release-manager@example.com or cab@example.com"
            ),
            (2, "Deploying to TEST"),
        ]
    );
    assert_eq!(view.recent_releases[3].outcome, "Live in every environment");
    assert_eq!(view.recent_releases[2].outcome, "Deploying to TEST");
    let test = &view.environments[0];
    let live = test.live.as_ref().unwrap();
    assert_eq!(live.approved_by.as_deref(), Some("release-manager@example.com"));
    assert_eq!(
        live.components[0].pages_url.as_deref(),
        Some("https://abc.baton-demo.pages.dev")
    );
    assert_eq!(test.deploying, Some(ReleaseId::from_number(2)));
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["in_flight"][1]["waiting_on"]["kind"], "sign-off");
    assert_eq!(json["in_flight"][1]["waiting_on"]["since"], "2026-03-02T09:42:00Z");
}

#[test]
fn a_release_waiting_for_a_busy_environment_says_which_release_holds_it() {
    let now = t0();
    let page = ReleasePage {
        releases: vec![
            release(6, ReleaseStatus::AwaitingApproval, now),
            release(5, ReleaseStatus::Deploying, now),
        ],
        next_before: Some(5),
        ..Default::default()
    };
    let looked = LookedUp {
        environments: vec![environment("TEST", None, Some(5)), environment("PROD", None, None)],
        ..Default::default()
    };
    // An expired request and one for a finished release wait on nobody.
    let mut lapsed = sign_off(6, "TEST", now - Duration::days(5));
    lapsed.expires_at = now - Duration::days(2);
    let view = StatusView::build(&config(), &page, &[lapsed], &[], &looked, now);
    assert_eq!(
        view.in_flight[0].summary,
        "Waiting for TEST to be free (rel-5 is deploying there)"
    );
}

#[test]
fn delivery_figures_measure_frequency_lead_time_failures_and_waits() {
    let start = t0();
    let now = start + Duration::days(1);
    let page = ReleasePage {
        releases: vec![
            release(3, ReleaseStatus::RolledBack, start),
            release(2, ReleaseStatus::Rejected, start),
            release(1, ReleaseStatus::Released, start),
            release(0, ReleaseStatus::Released, start - Duration::days(40)),
        ],
        next_before: None,
        ..Default::default()
    };
    let mut failed = deployment(3, "TEST", "web", start + Duration::minutes(5), 1);
    failed.status = DeployStatus::RolledBack;
    let looked = LookedUp {
        environments: vec![environment("TEST", None, None), environment("PROD", None, None)],
        deployments: vec![
            // Release 1: signed off for TEST after 10 minutes, live there 2 minutes later, signed
            // off for PROD 30 minutes after that, live in PROD at +50.
            deployment(1, "TEST", "state", start + Duration::minutes(10), 1),
            deployment(1, "TEST", "web", start + Duration::minutes(11), 1),
            deployment(1, "PROD", "state", start + Duration::minutes(42), 4),
            deployment(1, "PROD", "web", start + Duration::minutes(46), 4),
            failed,
            // Outside the window: ignored.
            deployment(0, "PROD", "web", start - Duration::days(40), 1),
        ],
        packages: vec![
            uploaded("web", "1.0.1", start - Duration::minutes(10)),
            uploaded("state", "1.0.1", start - Duration::minutes(30)),
        ],
    };
    let view = StatusView::build(&config(), &page, &[], &[], &looked, now);
    let d = &view.delivery;
    assert_eq!(d.production, "PROD");
    assert_eq!(d.releases, 3);
    assert_eq!(d.deployments_to_production, 1);
    assert_eq!(d.per_week, 0.2);
    // Uploads at -10 and -30 minutes, live in PROD at +50: 60 and 80 minutes.
    assert_eq!(
        d.lead_time,
        Some(DurationFigure {
            median_seconds: 70 * 60,
            samples: 2
        })
    );
    // Release 3 failed in TEST only: the change failure rate is about production, where
    // release 1 went without failing.
    assert_eq!((d.failed_releases, d.deployed_releases), (0, 1));
    assert_eq!(d.change_failure_rate, Some(0.0));
    // Waits: release 1 TEST 10 min, PROD 42 - 12 = 30 min; release 3 TEST 5 min.
    assert_eq!(
        d.approval_wait,
        Some(DurationFigure {
            median_seconds: 10 * 60,
            samples: 3
        })
    );
}

#[test]
fn the_overview_reads_every_key_it_needs_in_one_batch() {
    let config = config();
    let releases: Vec<Release> = (1..=OVERVIEW_RELEASES as u64)
        .map(|n| release(n, ReleaseStatus::Released, t0()))
        .collect();
    let lookup = overview_lookup(&config, &releases);
    assert_eq!(lookup.environments, vec!["TEST".to_string(), "PROD".to_string()]);
    assert!(lookup.key_count() <= 100, "{} keys", lookup.key_count());
    assert_eq!(lookup.packages.len(), OVERVIEW_RELEASES * 2);
}

fn event(kind: &str, env: Option<&str>, minutes: i64, actor: &str, detail: &str) -> ReleaseEvent {
    ReleaseEvent {
        release_id: ReleaseId::from_number(7),
        at: t0() + Duration::minutes(minutes),
        kind: kind.into(),
        actor: actor.into(),
        environment: env.map(str::to_string),
        detail: detail.into(),
    }
}

#[test]
fn a_release_page_tells_its_story_in_words() {
    let mut r = release(7, ReleaseStatus::AwaitingApproval, t0());
    r.id = ReleaseId::from_number(7);
    let record = ReleaseRecord {
        release: r,
        events: vec![
            event("live", Some("TEST"), 4, "baton", "release 7 is live in TEST"),
            event(
                "created",
                None,
                0,
                "baton",
                "Release 7 created from packages/web/1.0.7/site.zip",
            ),
            event(
                "approval-requested",
                Some("TEST"),
                1,
                "baton",
                "sign-off asked of release-manager@example.com until 2026-03-03T09:01:00+00:00",
            ),
            event(
                "approved",
                Some("TEST"),
                2,
                "release-manager@example.com",
                r#"{"comment":"ship it","ip":"10.0.0.1","user_agent":"x"}"#,
            ),
            event("deploying", Some("TEST"), 3, "baton", "deploying to TEST"),
            event(
                "approval-requested",
                Some("PROD"),
                5,
                "baton",
                "sign-off asked of release-manager@example.com, cab@example.com until 2026-03-05T09:05:00+00:00",
            ),
        ],
        deployments: vec![deployment(7, "TEST", "web", t0() + Duration::minutes(3), 1)],
        environment_notes: vec![],
    };
    let detail = ReleaseDetail::build(&config(), &record, chrono::Utc::now());
    assert_eq!(
        detail.headline,
        "Waiting for sign-off for PROD by release-manager@example.com or cab@example.com"
    );
    let progress: Vec<(&str, Progress)> = detail
        .environments
        .iter()
        .map(|p| (p.environment.as_str(), p.progress))
        .collect();
    assert_eq!(
        progress,
        vec![("TEST", Progress::Live), ("PROD", Progress::WaitingForSignOff)]
    );
    let lines: Vec<&str> = detail.events.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(
        lines,
        vec![
            "Release 7 created from packages/web/1.0.7/site.zip",
            "Sign-off for TEST asked of release-manager@example.com",
            "Signed off for TEST by release-manager@example.com",
            "Deploying to TEST",
            "Live in TEST",
            "Sign-off for PROD asked of release-manager@example.com, cab@example.com",
        ]
    );
    assert_eq!(detail.events[2].comment.as_deref(), Some("ship it"));
    // The approver's IP and user agent stay in the audit record, not on the status page.
    let json = serde_json::to_string(&detail).unwrap();
    assert!(!json.contains("10.0.0.1"), "{json}");
    assert_eq!(detail.packages[0].component, "web", "configuration order");
    assert_eq!(detail.summary.url, "/releases/rel-7");
}

#[test]
fn only_the_comment_of_a_decision_reaches_the_page() {
    let sentence = event(
        "approved",
        Some("TEST"),
        0,
        "rm@example.com",
        "approved via the email link: \u{201c}fine \u{201d} (from x)\u{201d} (from 10.0.0.9, curl/8; saw web 1.0.0)",
    );
    assert_eq!(
        words::decision_comment(&sentence).as_deref(),
        Some("fine \u{201d} (from x)")
    );
    let bare = event(
        "rejected",
        Some("TEST"),
        0,
        "rm@example.com",
        "rejected via the email link (from 10.0.0.9, curl/8; saw web 1.0.0)",
    );
    assert_eq!(words::decision_comment(&bare), None);
    let json = event(
        "approved",
        Some("TEST"),
        0,
        "rm@example.com",
        r#"{"comment":" ok ","ip":"10.0.0.9"}"#,
    );
    assert_eq!(words::decision_comment(&json).as_deref(), Some("ok"));
}

#[test]
fn failures_read_as_what_happened_and_why() {
    let e = event(
        "rolledback",
        Some("PROD"),
        0,
        "baton",
        "RolledBack in PROD: Pages deployment failed",
    );
    assert_eq!(
        words::event_summary(&e),
        "Deployment to PROD failed and was rolled back: Pages deployment failed"
    );
    let e = event("expired", Some("TEST"), 0, "baton", "Expired in TEST: States.Timeout");
    assert_eq!(words::event_summary(&e), "Nobody signed off for TEST in time");
}
