//! Guards a release's page (`GET /api/releases/{id}`): where it stands in each environment and
//! in what words, what it waits on while in flight, and its packages, deployments, notes and
//! timeline in the order and form people read them.

use baton_domain::deployment::PlatformDetail;
use baton_domain::ports::ReleaseEvent;
use baton_domain::ports::status::{Progress, ReleaseDetail, ReleaseRecord, WaitingOn};
use baton_domain::release::ReleaseNote;

use crate::common::{at, deployment, event, from_json, local, release};

fn record(status: &str, events: Vec<ReleaseEvent>) -> ReleaseRecord {
    ReleaseRecord {
        release: release(7, status, at(0)),
        events,
        deployments: Vec::new(),
        environment_notes: Vec::new(),
    }
}

fn detail(status: &str, events: Vec<ReleaseEvent>) -> ReleaseDetail {
    ReleaseDetail::build(&local(), &record(status, events), at(0))
}

fn ev(kind: &str, env: &str, minutes: i64) -> ReleaseEvent {
    event(7, kind, Some(env), minutes, "baton", &format!("{kind} in {env}"))
}

#[test]
fn each_step_in_an_environment_reads_as_a_sentence_about_it() {
    let cases = [
        (
            "approval-requested",
            Progress::WaitingForSignOff,
            "Waiting for sign-off for TEST",
        ),
        (
            "approved",
            Progress::Approved,
            "Signed off; waiting for TEST to be free",
        ),
        ("deploying", Progress::Deploying, "Deploying to TEST"),
        ("live", Progress::Live, "Live in TEST"),
        ("rejected", Progress::Rejected, "Rejected for TEST"),
        ("expired", Progress::Expired, "Nobody signed off for TEST in time"),
        (
            "superseded",
            Progress::Superseded,
            "Replaced by a newer release before TEST",
        ),
        // No component of it went live in TEST (no deployment record says so): nothing was
        // changed, so nothing was rolled back.
        ("failed", Progress::Failed, "Failed before any change in TEST"),
        ("rolledback", Progress::RolledBack, "Failed before any change in TEST"),
    ];
    for (kind, progress, words) in cases {
        let d = detail("failed", vec![ev(kind, "TEST", 3)]);
        let test = &d.environments[0];
        assert_eq!((test.environment.as_str(), test.progress), ("TEST", progress), "{kind}");
        assert_eq!(test.summary, words, "{kind}");
        assert_eq!(test.since, Some(at(3)), "{kind}");
        let prod = &d.environments[1];
        assert_eq!(
            (prod.progress, prod.summary.as_str(), prod.since),
            (Progress::NotYet, "Not in PROD yet", None)
        );
    }
}

#[test]
fn the_latest_step_in_an_environment_decides_and_other_events_do_not_count() {
    // Given out of order: the page sorts the timeline by time.
    let d = detail(
        "deploying",
        vec![
            ev("deploying", "TEST", 3),
            ev("approval-requested", "TEST", 1),
            ev("approved", "TEST", 2),
            event(7, "note", Some("TEST"), 4, "baton", "something else"),
            ev("approval-requested", "PROD", 5),
            event(7, "deploying", None, 6, "baton", "no environment"),
        ],
    );
    assert_eq!(d.environments[0].progress, Progress::Deploying);
    assert_eq!(d.environments[0].since, Some(at(3)));
    assert_eq!(d.environments[1].progress, Progress::WaitingForSignOff);
    let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "approval-requested",
            "approved",
            "deploying",
            "note",
            "approval-requested",
            "deploying"
        ]
    );
}

#[test]
fn a_release_in_flight_says_what_it_waits_on_in_its_furthest_environment() {
    let headline = |status: &str, events: Vec<ReleaseEvent>| detail(status, events).headline;
    assert_eq!(headline("created", vec![]), "Starting its workflow");
    assert_eq!(headline("awaiting-approval", vec![]), "Moving on to TEST");
    assert_eq!(
        headline("awaiting-approval", vec![ev("approval-requested", "TEST", 1)]),
        "Waiting for sign-off for TEST by release-manager@example.com"
    );
    assert_eq!(
        headline(
            "awaiting-approval",
            vec![ev("live", "TEST", 1), ev("approval-requested", "PROD", 2)]
        ),
        "Waiting for sign-off for PROD by release-manager@example.com or cab@example.com"
    );
    assert_eq!(
        headline("deploying", vec![ev("approved", "TEST", 1)]),
        "Waiting for TEST to be free"
    );
    assert_eq!(
        headline("deploying", vec![ev("deploying", "TEST", 1)]),
        "Deploying to TEST"
    );
    assert_eq!(headline("deploying", vec![ev("live", "TEST", 1)]), "Moving on to PROD");
    assert_eq!(
        headline("deploying", vec![ev("live", "TEST", 1), ev("live", "PROD", 2)]),
        "Moving on to its next step"
    );
    // Something that ended in an environment while the release is still on its way.
    assert_eq!(
        headline("deploying", vec![ev("failed", "TEST", 1)]),
        "Moving on to TEST"
    );
}

#[test]
fn a_sign_off_wait_names_the_approvers_and_since_when_from_the_configuration() {
    let d = detail(
        "awaiting-approval",
        vec![ev("live", "TEST", 1), ev("approval-requested", "PROD", 2)],
    );
    match d.waiting_on {
        Some(WaitingOn::SignOff {
            environment,
            approvers,
            since,
            expires_at,
            ..
        }) => {
            assert_eq!(environment, "PROD");
            assert_eq!(approvers, ["release-manager@example.com", "cab@example.com"]);
            assert_eq!(since, at(2));
            assert_eq!(expires_at, None);
        }
        other => panic!("expected a sign-off wait, got {other:?}"),
    }
    assert!(matches!(
        detail("deploying", vec![ev("approved", "TEST", 1)]).waiting_on,
        Some(WaitingOn::EnvironmentBusy { held_by: None, .. })
    ));
}

#[test]
fn a_finished_release_waits_on_nothing_and_its_headline_is_its_outcome() {
    let cases = [
        ("released", "Live in every environment"),
        ("rejected", "Rejected"),
        ("expired", "Expired: nobody signed off in time"),
        ("superseded", "Replaced by a newer release"),
        ("failed", "Deployment failed"),
        ("rolled-back", "Deployment failed and was rolled back"),
        ("blocked", "Blocked before sign-off: nothing was changed"),
    ];
    for (status, words) in cases {
        let d = detail(status, vec![ev("live", "TEST", 1)]);
        assert_eq!(d.waiting_on, None, "{status}");
        assert_eq!(d.headline, words, "{status}");
        assert_eq!(d.summary.outcome, words, "{status}");
    }
    // In flight, the summary's outcome is the headline too.
    let d = detail("deploying", vec![ev("deploying", "TEST", 1)]);
    assert_eq!(d.summary.outcome, "Deploying to TEST");
}

#[test]
fn packages_and_deployments_are_listed_in_configuration_and_lifecycle_order() {
    let mut r = record("deploying", vec![]);
    r.deployments = vec![
        deployment(7, "PROD", "state", "in-progress", 20, 1),
        deployment(7, "TEST", "state", "succeeded", 10, 1),
        deployment(7, "QA", "web", "succeeded", 5, 1),
        deployment(7, "PROD", "web", "in-progress", 21, 1),
        deployment(7, "TEST", "web", "succeeded", 11, 1),
        deployment(7, "TEST", "mobile", "succeeded", 12, 1),
    ];
    let d = ReleaseDetail::build(&local(), &r, at(0));
    let packages: Vec<(&str, &str)> = d
        .packages
        .iter()
        .map(|p| (p.component.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(packages, [("web", "1.0.7"), ("state", "1.0.7")]);
    assert_eq!(d.packages[0].sha256, "w7");
    assert_eq!(d.packages[0].object_key, "packages/web/1.0.7/site.zip");
    let order: Vec<(&str, &str)> = d
        .deployments
        .iter()
        .map(|d| (d.environment.as_str(), d.component.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("TEST", "web"),
            ("TEST", "state"),
            ("TEST", "mobile"),
            ("PROD", "web"),
            ("PROD", "state"),
            ("QA", "web"),
        ]
    );
    let first = &d.deployments[0];
    assert_eq!(first.version, "1.0.7");
    assert_eq!((first.started_at, first.updated_at), (at(11), at(12)));
}

#[test]
fn a_deployment_shows_where_to_find_it_and_why_it_failed_without_aws_internals() {
    let mut web = deployment(7, "TEST", "web", "failed", 1, 1);
    web.detail = Some(PlatformDetail::Pages {
        deployment_id: "d1".into(),
        url: "https://abc.baton-demo.pages.dev".into(),
        stage: "deploy: failure".into(),
        environment: "preview".into(),
    });
    web.error = Some("AccessDenied for arn:aws:iam::123456789012:role/deploy in 123456789012".into());
    let mut state = deployment(7, "TEST", "state", "succeeded", 1, 1);
    state.detail = Some(from_json(serde_json::json!({
        "platform": "cloud-hub",
        "applications": { "patient-api": "created 1.4.2", "billing-api": "unchanged" },
    })));
    let mut r = record("failed", vec![]);
    r.deployments = vec![state, web];
    let d = ReleaseDetail::build(&local(), &r, at(0));
    let web = &d.deployments[0];
    assert_eq!(web.pages_url.as_deref(), Some("https://abc.baton-demo.pages.dev"));
    assert!(web.cloudhub_applications.is_empty());
    assert_eq!(
        web.error.as_deref(),
        Some("AccessDenied for (an AWS resource) in (an AWS account)")
    );
    let state = &d.deployments[1];
    assert_eq!(state.pages_url, None);
    assert_eq!(state.error, None);
    let apps: Vec<(&str, &str)> = state
        .cloudhub_applications
        .iter()
        .map(|a| (a.name.as_str(), a.change.as_str()))
        .collect();
    assert_eq!(apps, [("billing-api", "unchanged"), ("patient-api", "created 1.4.2")]);
}

#[test]
fn notes_per_environment_follow_the_lifecycle_and_keep_ci_s_links() {
    let note = |version: &str| -> ReleaseNote {
        from_json(serde_json::json!({
            "component": "web", "version": version, "notes": format!("notes {version}"),
            "commit": "abc", "branch": "main", "build_url": "https://ci/1",
        }))
    };
    let mut r = record("deploying", vec![]);
    r.environment_notes = vec![
        ("PROD".into(), vec![note("1.0.6"), note("1.0.7")]),
        ("TEST".into(), vec![note("1.0.7")]),
    ];
    let d = ReleaseDetail::build(&local(), &r, at(0));
    let envs: Vec<(&str, usize)> = d
        .environment_notes
        .iter()
        .map(|e| (e.environment.as_str(), e.notes.len()))
        .collect();
    assert_eq!(envs, [("TEST", 1), ("PROD", 2)]);
    let n = &d.environment_notes[1].notes[0];
    assert_eq!(
        (
            n.component.as_str(),
            n.version.as_str(),
            n.notes.as_deref(),
            n.commit.as_deref(),
            n.branch.as_deref(),
            n.build_url.as_deref()
        ),
        (
            "web",
            "1.0.6",
            Some("notes 1.0.6"),
            Some("abc"),
            Some("main"),
            Some("https://ci/1")
        )
    );
    assert_eq!(d.notes.len(), 1);
    assert_eq!(d.notes[0].notes.as_deref(), Some("New admissions form"));
    assert_eq!(d.notes[0].commit.as_deref(), Some("abc123"));
}

#[test]
fn the_page_carries_the_release_s_identity() {
    let d = detail("deploying", vec![]);
    assert_eq!(d.content_hash, "hash-7");
    assert_eq!(d.previous.as_ref().map(|p| p.as_str()), Some("rel-6"));
    assert_eq!(d.triggered_by, "packages/web/1.0.7/site.zip");
    assert_eq!(d.summary.number, 7);
    assert_eq!(d.summary.url, "/releases/rel-7");
}

#[test]
fn the_timeline_reads_as_sentences_with_reasons_and_no_aws_internals() {
    let lines = |events: Vec<ReleaseEvent>| -> Vec<String> {
        detail("failed", events).events.into_iter().map(|e| e.summary).collect()
    };
    assert_eq!(
        lines(vec![
            event(7, "rejected", Some("PROD"), 1, "cab@example.com", "{}"),
            event(7, "released", None, 2, "baton", "released"),
            event(7, "superseded", Some("TEST"), 3, "baton", "replaced by rel-8"),
            event(
                7,
                "failed",
                Some("PROD"),
                4,
                "baton",
                "Failed in PROD: role arn:aws:iam::123456789012:role/x denied"
            ),
            event(7, "failed", Some("PROD"), 5, "baton", "Failed in PROD"),
            event(7, "rolledback", Some("PROD"), 6, "baton", "RolledBack in PROD"),
            event(7, "blocked", Some("TEST"), 7, "baton", "Blocked in TEST: asset missing"),
            event(7, "blocked", Some("TEST"), 8, "baton", "Blocked in TEST"),
            event(7, "approval-requested", None, 9, "baton", "asked"),
            event(7, "something-new", None, 10, "baton", "a line from the future"),
            event(7, "created", None, 11, "baton", ""),
        ]),
        [
            "Rejected for PROD by cab@example.com",
            "Live in every environment",
            "Replaced by rel-8",
            "Deployment to PROD failed: role (an AWS resource) denied",
            "Deployment to PROD failed",
            "Deployment to PROD failed and was rolled back",
            "Blocked before sign-off for TEST, nothing changed: asset missing",
            "Blocked before sign-off for TEST, nothing changed",
            "Sign-off for an environment asked",
            "A line from the future",
            "",
        ]
    );
}

#[test]
fn a_decision_s_comment_is_shown_but_never_for_other_events() {
    let d = detail(
        "deploying",
        vec![
            event(
                7,
                "approved",
                Some("TEST"),
                1,
                "rm@example.com",
                r#"{"comment":"ship it"}"#,
            ),
            event(7, "rejected", Some("TEST"), 2, "rm@example.com", r#"{"comment":"   "}"#),
            event(7, "live", Some("TEST"), 3, "baton", r#"{"comment":"not a decision"}"#),
            event(
                7,
                "rejected",
                Some("TEST"),
                4,
                "rm@example.com",
                "rejected via the email link: \u{201c}not now\u{201d} (from 10.0.0.9, curl/8; saw web 1.0.0)",
            ),
        ],
    );
    let comments: Vec<Option<&str>> = d.events.iter().map(|e| e.comment.as_deref()).collect();
    assert_eq!(comments, [Some("ship it"), None, None, Some("not now")]);
    assert_eq!(d.events[0].actor, "rm@example.com");
    assert_eq!(d.events[0].environment.as_deref(), Some("TEST"));
    assert_eq!(d.events[0].at, at(1));
}

#[test]
fn a_release_signed_off_for_a_frozen_environment_waits_for_the_freeze_to_end() {
    let config = crate::common::local_with_monday_freeze();
    let events = vec![ev("live", "TEST", 1), ev("approved", "PROD", 5)];
    let signed_off = record("awaiting-approval", events);
    let frozen = ReleaseDetail::build(&config, &signed_off, at(10));
    assert_eq!(
        frozen.waiting_on,
        Some(WaitingOn::Freeze {
            environment: "PROD".into(),
            signed_off: true,
            reason: "change board".into(),
            until: at(180),
        })
    );
    assert_eq!(
        frozen.summary.outcome,
        "Signed off for PROD; waits for the change board freeze there to end"
    );
    // From the freeze's end it waits, as before, for PROD to be free.
    let after = ReleaseDetail::build(&config, &signed_off, at(180));
    assert_eq!(
        after.waiting_on,
        Some(WaitingOn::EnvironmentBusy {
            environment: "PROD".into(),
            held_by: None
        })
    );
    // TEST is not frozen: a release signed off there is not held.
    let test = record("awaiting-approval", vec![ev("approved", "TEST", 5)]);
    assert!(matches!(
        ReleaseDetail::build(&config, &test, at(10)).waiting_on,
        Some(WaitingOn::EnvironmentBusy { .. })
    ));
}

#[test]
fn a_request_whose_mails_failed_says_so_until_it_is_asked_again() {
    let unreachable = |minutes| {
        event(
            7,
            baton_domain::approval::delivery::APPROVERS_UNREACHABLE,
            Some("PROD"),
            minutes,
            "baton",
            "could not reach the approvers: Email address is not verified. arn:aws:ses:eu-west-1:123456789012:identity/x",
        )
    };
    let reason = |d: &ReleaseDetail| match &d.waiting_on {
        Some(WaitingOn::SignOff { unreachable, .. }) => unreachable.clone(),
        other => panic!("expected a sign-off wait, got {other:?}"),
    };
    let failed = detail(
        "awaiting-approval",
        vec![
            ev("live", "TEST", 1),
            ev("approval-requested", "PROD", 2),
            unreachable(3),
        ],
    );
    assert_eq!(
        reason(&failed).as_deref(),
        Some("Email address is not verified. (an AWS resource)")
    );
    // TEST's mails failing says nothing of PROD's request.
    let elsewhere = detail(
        "awaiting-approval",
        vec![
            ev("approval-requested", "TEST", 0),
            event(
                7,
                baton_domain::approval::delivery::APPROVERS_UNREACHABLE,
                Some("TEST"),
                1,
                "baton",
                "could not reach the approvers: x",
            ),
            ev("live", "TEST", 2),
            ev("approval-requested", "PROD", 3),
        ],
    );
    assert_eq!(reason(&elsewhere), None);
    // A new request starts afresh.
    let asked_again = detail(
        "awaiting-approval",
        vec![
            ev("live", "TEST", 1),
            ev("approval-requested", "PROD", 2),
            unreachable(3),
            ev("approval-requested", "PROD", 4),
        ],
    );
    assert_eq!(reason(&asked_again), None);
}

#[test]
fn every_step_of_a_request_and_its_controls_reads_as_a_sentence() {
    let lines = |events: Vec<ReleaseEvent>| -> Vec<String> {
        detail("deploying", events)
            .events
            .into_iter()
            .map(|e| e.summary)
            .collect()
    };
    use baton_domain::approval::delivery::{APPROVERS_UNREACHABLE, LATE_DECISION};
    assert_eq!(
        lines(vec![
            event(
                7,
                "deploying",
                Some("TEST"),
                1,
                "baton",
                "deploying to TEST, approved by rm@example.com"
            ),
            event(
                7,
                APPROVERS_UNREACHABLE,
                Some("PROD"),
                2,
                "baton",
                "could not reach the approvers: Email address is not verified."
            ),
            event(7, LATE_DECISION, Some("PROD"), 3, "cab@example.com", "came late"),
            event(7, "held", Some("PROD"), 4, "cab@example.com", "CAB on Thursday"),
            event(7, "hold-lifted", Some("PROD"), 5, "rm@example.com", "lifted"),
            event(7, "hold-ended", Some("PROD"), 6, "baton", "ended"),
            event(
                7,
                "freeze-override",
                Some("PROD"),
                7,
                "rm@example.com",
                "deploying during the weekend freeze: hotfix"
            ),
        ]),
        [
            "Deploying to TEST",
            "Sign-off for PROD asked, but Baton could not reach the approvers: Email address is not verified.",
            "cab@example.com's decision for PROD came after the request closed: it was recorded but changed nothing",
            "Put on hold for PROD by cab@example.com: CAB on Thursday",
            "Hold for PROD lifted by rm@example.com",
            "The hold for PROD ended at its time",
            "Let through the freeze of PROD by rm@example.com: Deploying during the weekend freeze: hotfix",
        ]
    );
}

#[test]
fn a_hold_shows_on_the_release_page_until_it_is_lifted_or_ends() {
    let hold_of = |events: Vec<ReleaseEvent>| match detail("awaiting-approval", events).waiting_on {
        Some(WaitingOn::SignOff { on_hold, .. }) => on_hold.map(|h| (h.by, h.reason)),
        other => panic!("expected a sign-off wait, got {other:?}"),
    };
    let asked = || ev("approval-requested", "PROD", 2);
    let held = |minutes| event(7, "held", Some("PROD"), minutes, "cab@example.com", "CAB on Thursday");
    assert_eq!(
        hold_of(vec![ev("live", "TEST", 1), asked(), held(3)]),
        Some(("cab@example.com".to_string(), "CAB on Thursday".to_string()))
    );
    for ended in ["hold-lifted", "hold-ended"] {
        let events = vec![ev("live", "TEST", 1), asked(), held(3), ev(ended, "PROD", 4)];
        assert_eq!(hold_of(events), None, "{ended}");
    }
    // A hold on TEST's request says nothing of PROD's.
    let elsewhere = vec![
        ev("approval-requested", "TEST", 0),
        event(7, "held", Some("TEST"), 1, "cab@example.com", "x"),
        ev("live", "TEST", 2),
        asked(),
    ];
    assert_eq!(hold_of(elsewhere), None);
    // A new request starts without the old one's hold.
    assert_eq!(
        hold_of(vec![
            ev("live", "TEST", 1),
            asked(),
            held(3),
            ev("approval-requested", "PROD", 4)
        ]),
        None
    );
}

#[test]
fn a_release_signed_off_for_a_later_time_waits_for_it() {
    use baton_domain::approval::schedule::{SCHEDULED, scheduled_detail};
    let config = local();
    let scheduled = |env: &str, for_minutes: i64, at_minutes: i64| {
        event(
            7,
            SCHEDULED,
            Some(env),
            at_minutes,
            "baton",
            &scheduled_detail(env, at(for_minutes)),
        )
    };
    let waiting = |events: Vec<ReleaseEvent>, now: i64| {
        ReleaseDetail::build(&config, &record("awaiting-approval", events), at(now)).waiting_on
    };
    let signed = || vec![ev("live", "TEST", 1), ev("approved", "PROD", 2)];
    let mut events = signed();
    events.push(scheduled("PROD", 60, 3));
    assert_eq!(
        waiting(events.clone(), 10),
        Some(WaitingOn::Scheduled {
            environment: "PROD".into(),
            at: at(60)
        })
    );
    // Its time come, it waits for PROD like any signed-off release.
    assert!(matches!(
        waiting(events.clone(), 60),
        Some(WaitingOn::EnvironmentBusy { .. })
    ));
    // The latest schedule counts; another environment's does not.
    events.push(scheduled("PROD", 90, 4));
    assert!(matches!(waiting(events, 70), Some(WaitingOn::Scheduled { at: t, .. }) if t == at(90)));
    let mut other = signed();
    other.push(scheduled("TEST", 60, 3));
    assert!(matches!(waiting(other, 10), Some(WaitingOn::EnvironmentBusy { .. })));
}
