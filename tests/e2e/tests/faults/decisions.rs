//! Faults between a person's decision and the workflow, and between Baton and its mail:
//! Step Functions failing the callback, SES refusing the approval requests.

use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use baton_e2e::Harness;
use baton_local::faults::Fault;

use super::Outcome;

/// Step Functions fails the approval callback twice: the approver still reads "recorded", TEST
/// is deployed once, the timeline has one approval, PROD is asked next.
pub async fn send_task_success_fails_twice() -> Result<Outcome> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    h.stack
        .aws_faults
        .inject(Fault::step_functions_failing("SendTaskSuccess", 2));
    let page = h.decide(&links[0].1, "approve", "ship it").await?;
    ensure!(
        page.status == 200 && page.body.contains("recorded"),
        "{} {}",
        page.status,
        page.body
    );
    h.approval_links(1, "PROD").await?;
    ensure!(h.pages_deployments().len() == 1, "{:?}", h.pages_deployments());
    let approved = h
        .events(1)
        .await?
        .iter()
        .filter(|e| e.kind == "approved" && e.environment.as_deref() == Some("TEST"))
        .count();
    ensure!(approved == 1, "one approved entry, got {approved}");
    ensure!(h.queue_depth("DecisionsDeadLetterQueue").await? == 0);
    Ok(Outcome {
        faults: h.stack.aws_faults.injected(),
        expected_releases: 1,
        harness: h,
    })
}

/// SES refuses every approval request: the request stays open, and the release's page, the API
/// and the feed say Baton could not reach the approvers, and why.
pub async fn ses_refusing() -> Result<Outcome> {
    let h = Harness::start().await?;
    h.stack.aws_faults.inject(Fault::ses_refusing(1_000));
    h.release_samples("1.0.0", 1).await?;
    let words = "could not reach the approvers";
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let detail = h.get_json("/api/releases/rel-1").await?;
        if detail["headline"].as_str().unwrap_or_default().contains(words) {
            break;
        }
        if Instant::now() > deadline {
            bail!("the release never said the approvers were unreachable: {detail}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let page = h.get("/releases/rel-1").await?;
    ensure!(page.body.contains(words), "{}", page.body);
    let feed = h.get("/feed.xml").await?;
    ensure!(feed.body.contains(words), "{}", feed.body);
    ensure!(
        h.release(1).await?.status == baton_domain::release::ReleaseStatus::AwaitingApproval,
        "the request stays open"
    );
    Ok(Outcome {
        faults: h.stack.aws_faults.injected(),
        expected_releases: 1,
        harness: h,
    })
}
