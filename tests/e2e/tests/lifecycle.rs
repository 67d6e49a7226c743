//! The orchestrated release end to end: approval by email, TEST then PROD, rollback on
//! failure, supersede, leases, and a restart of the functions' host mid-release.

use std::time::Duration;

use anyhow::Result;
use baton_e2e::{Harness, config_with, sample_site};

const LONG: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_goes_to_test_then_prod_after_two_approvals() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    h.approve_from_mail(1, "PROD", "looks good").await?;
    let release = h.wait_for_status(1, "released", LONG).await?;
    assert_eq!(release.number, 1);

    // Both environments record the release, with who approved and what runs.
    for env in ["TEST", "PROD"] {
        let state = h.environment(env).await?;
        let live = state.current.expect("a live release");
        assert_eq!(live.release_id.as_str(), "rel-1", "{env}");
        assert_eq!(
            live.approved_by.as_deref(),
            Some("release-manager@example.com"),
            "{env}"
        );
        assert_eq!(live.components["web"].package.version.to_string(), "1.0.0");
        assert!(state.previous.is_none(), "nothing ran before release 1");
    }
    // Cloudflare: a preview on the TEST branch and production on main, both successful.
    let pages = h.pages_deployments();
    let branches: Vec<(String, String, String)> = pages
        .iter()
        .map(|d| {
            (
                d["branch"].as_str().unwrap_or_default().into(),
                d["environment"].as_str().unwrap_or_default().into(),
                d["latest_stage"]["status"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert!(
        branches.contains(&("test".into(), "preview".into(), "success".into())),
        "{branches:?}"
    );
    assert!(
        branches.contains(&("main".into(), "production".into(), "success".into())),
        "{branches:?}"
    );
    // CloudHub: both APIs applied in Sandbox (TEST) and Production (PROD), PROD with its overrides.
    for (env, replicas) in [("Sandbox", 1), ("Production", 2)] {
        let apps = h.cloudhub_deployments(env);
        assert_eq!(apps.len(), 2, "{env}: {apps:?}");
        for app in &apps {
            assert_eq!(app["status"], "APPLIED", "{env}: {app}");
        }
        let patient = apps.iter().find(|a| a["name"] == "patient-api").expect("patient-api");
        assert_eq!(patient["application"]["ref"]["version"], "1.4.2");
        assert_eq!(patient["target"]["replicas"].as_u64(), Some(replicas), "{env}");
    }
    // The audit trail names the approver for each environment.
    let events = h.events(1).await?;
    let approvals: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.kind == "approved")
        .map(|e| (e.environment.as_deref().unwrap_or(""), e.actor.as_str()))
        .collect();
    assert_eq!(
        approvals,
        vec![
            ("TEST", "release-manager@example.com"),
            ("PROD", "release-manager@example.com")
        ]
    );
    assert!(events.iter().any(|e| e.kind == "released"));
    // The other PROD approver heard that it was decided.
    h.wait_for_mails("Release 1 for PROD was approved by release-manager@example.com", 1)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_links_decides_nothing_and_bad_or_reused_tokens_change_nothing() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    let link = &links[0].1;
    // A mail scanner opens the link, twice, and a HEAD too.
    for _ in 0..2 {
        let page = h.open(link).await?;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Approve release 1 for TEST?"), "{}", page.body);
        assert!(page.body.contains("nothing yet"), "the page shows what runs now");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        h.release(1).await?.status,
        baton_domain::release::ReleaseStatus::AwaitingApproval
    );
    assert!(h.pages_deployments().is_empty(), "nothing deployed by a GET");
    assert!(
        h.cloudhub_deployments("Sandbox").is_empty(),
        "nothing deployed by a GET"
    );

    // A tampered token: 403, nothing changes.
    let tampered = format!("{}x", link);
    assert_eq!(h.open(&tampered).await?.status, 403);
    assert_eq!(h.decide(&tampered, "approve", "").await?.status, 403);
    assert_eq!(
        h.release(1).await?.status,
        baton_domain::release::ReleaseStatus::AwaitingApproval
    );

    // A POST without the confirmation box records nothing.
    let (base, token) = link.split_once("?token=").unwrap_or_default();
    let unconfirmed = reqwest::Client::new()
        .post(base)
        .form(&[("token", token), ("decision", "approve")])
        .send()
        .await?;
    assert_eq!(unconfirmed.status().as_u16(), 400);

    // Decided once; the same link again is 409 and names who decided.
    assert_eq!(h.decide(link, "approve", "ok").await?.status, 200);
    let again = h.decide(link, "reject", "changed my mind").await?;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("release-manager@example.com"), "{}", again.body);
    let page = h.open(link).await?;
    assert_eq!(page.status, 409);
    let events = h.events(1).await?;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "approved" || e.kind == "rejected")
            .count(),
        1,
        "one decision"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_release_deploys_nothing() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    let page = h.decide(&links[0].1, "reject", "not this week").await?;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("rejected"), "{}", page.body);
    h.wait_for_status(1, "rejected", LONG).await?;
    assert!(h.pages_deployments().is_empty());
    assert!(h.cloudhub_deployments("Sandbox").is_empty());
    assert!(h.environment("TEST").await?.current.is_none());
    let events = h.events(1).await?;
    let rejected = events.iter().find(|e| e.kind == "rejected").expect("a rejection event");
    assert_eq!(rejected.actor, "release-manager@example.com");
    assert!(rejected.detail.contains("not this week"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_expires() -> Result<()> {
    let h = Harness::start_with(config_with(|c| c.replacen("approval_ttl: 24h", "approval_ttl: 4s", 1))).await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    h.wait_for_status(1, "expired", LONG).await?;
    let page = h.open(&links[0].1).await?;
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("expired"));
    assert!(h.pages_deployments().is_empty());
    use baton_domain::ports::ApprovalStore;
    let pending = h
        .store()
        .pending_approvals("TEST")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(
        pending.is_empty(),
        "the lapsed request left the pending list: {pending:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_release_supersedes_the_pending_one() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let old_links = h.approval_links(1, "TEST").await?;
    h.upload(
        "packages/web/1.1.0/site.zip",
        sample_site("1.1.0"),
        &[("commit", "bb22cc3"), ("notes", "New admissions form")],
    )
    .await?;
    h.approval_links(2, "TEST").await?;
    h.wait_for_status(1, "superseded", LONG).await?;
    let page = h.open(&old_links[0].1).await?;
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(
        page.body.contains("rel-2"),
        "the old link names the newer release: {}",
        page.body
    );
    assert_eq!(
        h.decide(&old_links[0].1, "approve", "").await?.status,
        410,
        "and cannot approve it"
    );
    // The newer one goes on.
    h.approve_from_mail(2, "TEST", "looks good").await?;
    h.wait_for_mails("Approve release 2 for PROD?", 2).await?;
    let live = h.environment("TEST").await?.current.expect("live");
    assert_eq!(live.release_id.as_str(), "rel-2");
    assert_eq!(live.components["web"].package.version.to_string(), "1.1.0");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloudhub_failure_in_test_rolls_back_and_tells_the_release_manager() -> Result<()> {
    let h = Harness::start().await?;
    h.stack.anypoint.state().mark_failing(
        None,
        "patient-api",
        "1.4.2",
        Some("CrashLoopBackoff: database unreachable".into()),
    );
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    let release = h.wait_for_status(1, "rolled-back", LONG).await?;
    assert_eq!(release.number, 1);
    assert!(
        h.pages_deployments().is_empty(),
        "the web wave never ran: Pages untouched"
    );
    assert!(
        h.environment("TEST").await?.current.is_none(),
        "TEST's recorded state is unchanged"
    );
    let mails = h
        .wait_for_mails("Release 1 failed and was rolled back in TEST", 1)
        .await?;
    assert!(
        mails[0].text.contains("patient-api"),
        "the mail names the application: {}",
        mails[0].text
    );
    let events = h.events(1).await?;
    let outcome = events
        .iter()
        .find(|e| e.kind == "rolledback")
        .expect("a rolled-back event");
    assert!(outcome.detail.contains("patient-api"), "{}", outcome.detail);
    assert!(
        h.mails().iter().all(|m| !m.subject.contains("for PROD")),
        "PROD is never asked"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_releases_approved_at_once_never_deploy_to_one_environment_together() -> Result<()> {
    let h = Harness::start_with(config_with(|c| {
        c.replacen("on_newer_release: supersede", "on_newer_release: queue", 1)
    }))
    .await?;
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    h.upload(
        "packages/web/1.1.0/site.zip",
        sample_site("1.1.0"),
        &[("commit", "bb22cc3")],
    )
    .await?;
    h.approval_links(2, "TEST").await?;
    let (one, two) = (h.approval_links(1, "TEST").await?, h.approval_links(2, "TEST").await?);
    let (a, b) = tokio::join!(h.decide(&one[0].1, "approve", ""), h.decide(&two[0].1, "approve", ""));
    assert_eq!((a?.status, b?.status), (200, 200));
    // Each release either deploys to TEST or is found superseded by the newer one at its gate.
    // The one that waited for the environment finds its plan changed by the other's deployment
    // (what it would change is no longer what was approved), so it is asked again: approve that
    // new request as its approver would.
    let mut used = vec![one[0].1.clone(), two[0].1.clone()];
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let mails = h.mails();
        if mails
            .iter()
            .filter(|m| m.subject.contains("Approve release 2 for PROD?"))
            .count()
            >= 2
        {
            break;
        }
        for mail in mails.iter().filter(|m| m.subject.contains("for TEST?")) {
            if let Some(link) = mail.links.first().filter(|l| !used.contains(l)) {
                used.push(link.clone());
                h.decide(link, "approve", "the new plan").await?;
            }
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "release 2 never reached PROD's request"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut windows = Vec::new();
    for number in [1, 2] {
        let events = h.events(number).await?;
        let at = |kind: &str| {
            events
                .iter()
                .find(|e| e.kind == kind && e.environment.as_deref() == Some("TEST"))
                .map(|e| e.at)
        };
        if let (Some(start), Some(end)) = (at("deploying"), at("live")) {
            windows.push((start, end));
        }
    }
    assert!(!windows.is_empty());
    if windows.len() == 2 {
        let (first, second) = if windows[0].0 <= windows[1].0 {
            (windows[0], windows[1])
        } else {
            (windows[1], windows[0])
        };
        assert!(first.1 <= second.0, "deployments overlapped: {windows:?}");
    }
    let live = h.environment("TEST").await?.current.expect("live");
    assert_eq!(live.release_id.as_str(), "rel-2", "the newer release ends up live");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_after_the_functions_host_restarts_still_completes_the_release() -> Result<()> {
    let mut h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    h.stack.restart_functions().await?;
    assert_eq!(h.decide(&links[0].1, "approve", "after restart").await?.status, 200);
    h.approve_from_mail(1, "PROD", "looks good").await?;
    h.wait_for_status(1, "released", LONG).await?;
    Ok(())
}
