//! Faults of the workflow and its host: an execution stopped by hand, the functions' host
//! killed mid-deployment, DynamoDB throttling.

use std::time::Duration;

use anyhow::{Result, ensure};
use aws_sdk_dynamodb::types::AttributeValue;
use baton_e2e::{Harness, text};
use baton_local::faults::Fault;

use super::Outcome;

const LONG: Duration = Duration::from_secs(120);

/// An operator stops the execution while the release waits for TEST's sign-off: the release
/// says so in words, its links answer 410, the approver is told, nothing is held.
pub async fn execution_stopped_by_hand() -> Result<Outcome> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    ensure!(
        h.executions().await?.iter().any(|(name, _)| name == "rel-1"),
        "an execution named after the release"
    );
    let arn = format!(
        "{}:rel-1",
        h.stack
            .state_machine_arn("ReleaseStateMachine")?
            .replace(":stateMachine:", ":execution:")
    );
    h.sfn
        .stop_execution()
        .execution_arn(&arn)
        .error("Operator.Stop")
        .cause("stopped from the console")
        .send()
        .await?;
    h.wait_for_status(1, "stopped", LONG).await?;
    // A stop stays a stop once the interpreter has wound down (infra/local/moto_server.py, 5).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = h
        .executions()
        .await?
        .into_iter()
        .find(|(name, _)| name == "rel-1")
        .map(|(_, s)| s);
    ensure!(
        status.as_deref() == Some("ABORTED"),
        "a stopped execution ends ABORTED, as on AWS, not {status:?}: {:#?}",
        h.execution_failures().await?
    );
    let mails = h.wait_for_mails("Release 1 was stopped", 1).await?;
    ensure!(mails[0].text.contains("stopped by an operator"), "{}", mails[0].text);
    let page = h.get("/releases/rel-1").await?;
    ensure!(page.body.contains("stopped by an operator"), "{}", page.body);
    ensure!(!page.body.contains("arn:aws"), "the page shows no ARN: {}", page.body);
    let link = h.open(&links[0].1).await?;
    ensure!(
        link.status == 410,
        "a stopped release's link answers 410, not {}",
        link.status
    );
    ensure!(h.pages_deployments().is_empty() && h.cloudhub_deployments("Sandbox").is_empty());
    let approvals = h.entities("approval").await?;
    ensure!(
        approvals.iter().all(|a| text(a, "status") != "pending"),
        "no approval left open"
    );
    Ok(Outcome {
        faults: 1,
        expected_releases: 1,
        harness: h,
    })
}

/// The functions' host dies while TEST is being deployed (as a Lambda host can): the
/// workflow's retries carry the deployment through on a fresh host.
pub async fn host_killed_mid_deployment() -> Result<Outcome> {
    let mut h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    let decided = h.decide(&links[0].1, "approve", "go").await?;
    ensure!(decided.status == 200, "{}", decided.body);
    h.wait_for_status(1, "deploying", LONG).await?;
    h.stack.restart_functions().await?;
    h.approval_links(1, "PROD").await?;
    let live = h.environment("TEST").await?;
    ensure!(
        live.current.as_ref().is_some_and(|c| c.number == 1),
        "release 1 is live in TEST after the restart: {live:?}"
    );
    Ok(Outcome {
        faults: 1,
        expected_releases: 1,
        harness: h,
    })
}

/// Lambda's Invoke API refuses the workflow's next invocations with its `ServiceException`
/// (as while a host is replaced): the workflow's retries carry the deployment through, where
/// a refusal without Lambda's request id once made the local Step Functions fail the
/// execution outright.
pub async fn lambda_refusing_invocations() -> Result<Outcome> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    h.stack.aws_faults.inject(Fault::lambda_unavailable(2));
    let decided = h.decide(&links[0].1, "approve", "go").await?;
    ensure!(decided.status == 200, "{}", decided.body);
    h.approval_links(1, "PROD").await?;
    ensure!(h.stack.aws_faults.pending() == 0, "every fault was injected");
    let live = h.environment("TEST").await?;
    ensure!(
        live.current.as_ref().is_some_and(|c| c.number == 1),
        "release 1 is live in TEST after the refusals: {live:?}"
    );
    Ok(Outcome {
        faults: h.stack.aws_faults.injected(),
        expected_releases: 1,
        harness: h,
    })
}

/// DynamoDB throttles a run of requests while a release is made and asked for: the SDK's and
/// the queue's retries carry it through; nothing is lost, nothing made twice.
pub async fn dynamodb_throttling() -> Result<Outcome> {
    let h = Harness::start().await?;
    h.stack.aws_faults.inject(Fault::dynamodb_throttling(12));
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    ensure!(h.stack.aws_faults.pending() == 0, "every fault was injected");
    Ok(Outcome {
        faults: h.stack.aws_faults.injected(),
        expected_releases: 1,
        harness: h,
    })
}

/// The lease runs out while TEST's CloudHub rollout is still being polled (a deployer held it
/// past its time): the next step finds it lost, stops with `Baton.LeaseLost`, records nothing
/// and leaves the environment to whoever takes it next.
pub async fn lease_held_past_expiry() -> Result<Outcome> {
    let h = Harness::start_with(baton_local::StackOptions {
        cloudhub_apply_delay: Duration::from_secs(8),
        ..baton_local::StackOptions::ephemeral()
    })
    .await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    ensure!(h.decide(&links[0].1, "approve", "go").await?.status == 200);
    let deadline = std::time::Instant::now() + LONG;
    while h.cloudhub_deployments("Sandbox").is_empty() {
        ensure!(std::time::Instant::now() < deadline, "no CloudHub deployment began");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The lease's time is up: as if the deployer had stalled for two hours.
    h.dynamodb
        .update_item()
        .table_name(&h.table)
        .key("pk", AttributeValue::S("LEASE#TEST".into()))
        .key("sk", AttributeValue::S("LEASE".into()))
        .update_expression("SET #u = :past")
        .expression_attribute_names("#u", "until")
        .expression_attribute_values(":past", AttributeValue::N("0".into()))
        .send()
        .await?;
    h.wait_for_status(1, "failed", LONG).await?;
    let events = h.events(1).await?;
    ensure!(
        events
            .iter()
            .any(|e| e.detail.contains("no longer holds the TEST lease")),
        "the timeline says the lease was lost: {events:?}"
    );
    let test = h.environment("TEST").await?;
    ensure!(test.current.is_none(), "nothing was recorded live in TEST: {test:?}");
    Ok(Outcome {
        faults: 1,
        expected_releases: 1,
        harness: h,
    })
}
