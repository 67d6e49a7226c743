//! Nothing unapproved can deploy (DESIGN §3.5): the gate reads the approval record, a removed
//! approver's link decides nothing, and N-of-M sign-offs are counted.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use baton_e2e::{Harness, config_with, text};
use baton_local::StackOptions;

const LONG: Duration = Duration::from_secs(120);

/// TEST approved by the release manager and the CAB, `required` of them.
fn two_test_approvers(required: usize) -> StackOptions {
    config_with(|text| {
        text.replacen(
            "approvers: [release-manager@example.com]",
            &format!("approvers: [release-manager@example.com, cab@example.com]\n    required_approvals: {required}"),
            1,
        )
    })
}

/// Where an approver's link is, by address.
fn link_of<'a>(links: &'a [(String, String)], who: &str) -> Result<&'a str> {
    links
        .iter()
        .find(|(to, _)| to == who)
        .map(|(_, link)| link.as_str())
        .with_context(|| format!("no link for {who} in {links:?}"))
}

/// The stored approval items, as an attacker with read access to the table would see them.
async fn approval_items(h: &Harness) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>> {
    h.entities("approval").await
}

/// Nothing reached either platform in TEST.
fn nothing_deployed(h: &Harness) {
    assert!(h.pages_deployments().is_empty(), "{:?}", h.pages_deployments());
    assert!(
        h.cloudhub_deployments("Sandbox").is_empty(),
        "{:?}",
        h.cloudhub_deployments("Sandbox")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_send_task_success_with_the_real_task_token_deploys_nothing() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    let items = approval_items(&h).await?;
    let approval = items.first().context("an approval item")?;
    let (task_token, approval_id) = (text(approval, "task_token"), text(approval, "id"));
    assert!(!task_token.is_empty());

    // Someone who can read the token calls Step Functions directly, naming the real (pending)
    // approval and any approver they like.
    h.sfn
        .send_task_success()
        .task_token(&task_token)
        .output(serde_json::json!({ "approvalId": approval_id, "approvedBy": "mallory@example.com" }).to_string())
        .send()
        .await?;
    let release = h.wait_for_status(1, "failed", LONG).await?;
    assert_eq!(release.number, 1);
    nothing_deployed(&h);
    assert!(h.environment("TEST").await?.current.is_none());
    let events = h.events(1).await?;
    let refused = events
        .iter()
        .find(|e| e.kind == "refused")
        .context("a refused event on the timeline")?;
    assert!(refused.detail.contains("not approved"), "{}", refused.detail);
    assert!(
        !events.iter().any(|e| e.actor.contains("mallory")),
        "the forged name is recorded nowhere as an actor"
    );
    // The lease is free again.
    let leases = h.leases_held().await?;
    assert!(leases.is_empty(), "{leases:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_naming_no_record_deploys_nothing() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    let items = approval_items(&h).await?;
    let task_token = text(items.first().context("an approval item")?, "task_token");
    h.sfn
        .send_task_success()
        .task_token(&task_token)
        .output(r#"{"approvedBy": "release-manager@example.com"}"#)
        .send()
        .await?;
    h.wait_for_status(1, "failed", LONG).await?;
    nothing_deployed(&h);
    let events = h.events(1).await?;
    let refused = events.iter().find(|e| e.kind == "refused").context("refused event")?;
    assert!(refused.detail.contains("no approval record"), "{}", refused.detail);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_two_sign_offs_one_deploys_nothing_the_second_deploys() -> Result<()> {
    let h = Harness::start_with(two_test_approvers(2)).await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.wait_for_mails("Approve release 1 for TEST?", 2).await?;
    let links: Vec<(String, String)> = links
        .into_iter()
        .map(|m| (m.to[0].clone(), m.links[0].clone()))
        .collect();
    let rm = link_of(&links, "release-manager@example.com")?;
    let cab = link_of(&links, "cab@example.com")?;

    let page = h.open(rm).await?;
    assert!(page.body.contains("0 of 2 sign-offs"), "{}", page.body);
    let page = h.decide(rm, "approve", "fine by me").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("1 of 2 sign-offs"), "{}", page.body);
    // The same person again counts once.
    let again = h.decide(rm, "approve", "really").await?;
    assert_eq!(again.status, 409, "{}", again.body);
    tokio::time::sleep(Duration::from_secs(3)).await;
    nothing_deployed(&h);
    assert!(h.environment("TEST").await?.current.is_none());
    let page = h.open(cab).await?;
    assert!(page.body.contains("1 of 2 sign-offs"), "{}", page.body);
    assert!(page.body.contains("release-manager@example.com"), "{}", page.body);

    let page = h.decide(cab, "approve", "CAB agrees").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    h.approval_links(1, "PROD").await?; // asked once TEST is live
    let test = h.environment("TEST").await?;
    let Some(live) = test.current else {
        bail!("TEST has no live release")
    };
    assert_eq!(
        live.approved_by.as_deref(),
        Some("release-manager@example.com and cab@example.com")
    );
    let kinds: Vec<String> = h.events(1).await?.into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"signed-off".to_string()), "{kinds:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_approvers_link_answers_403_and_changes_nothing() -> Result<()> {
    let mut h = Harness::start_with(two_test_approvers(1)).await?;
    h.release_samples("1.0.0", 1).await?;
    let mails = h.wait_for_mails("Approve release 1 for TEST?", 2).await?;
    let cab = mails
        .iter()
        .find(|m| m.to[0] == "cab@example.com")
        .map(|m| m.links[0].clone())
        .context("the CAB's link")?;

    // The CAB is removed from TEST's approvers (its first listing) after the mail went out.
    h.remove_approver("cab@example.com").await?;

    let page = h.open(&cab).await?;
    assert_eq!(page.status, 403, "{}", page.body);
    let page = h.decide(&cab, "approve", "still me").await?;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("no longer an approver"), "{}", page.body);
    let items = approval_items(&h).await?;
    assert_eq!(text(&items[0], "status"), "pending", "{items:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    nothing_deployed(&h);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_from_urls_are_checked_before_any_lookup() -> Result<()> {
    let h = Harness::start().await?;
    let long = "a".repeat(3000);
    for path in [
        format!("/approvals/{long}"),
        "/approvals/not-an-id".to_string(),
        format!("/releases/rel-{long}"),
        format!("/api/releases/{long}"),
        format!("/api/packages/web/1.0.0-{long}"),
    ] {
        let before = h.stack.aws_requests.snapshot();
        let answer = reqwest::get(format!("{}{path}", h.stack.http_url)).await?;
        let status = answer.status().as_u16();
        let body = answer.text().await?;
        assert!(
            (400..500).contains(&status),
            "{}: {status}",
            &path[..40.min(path.len())]
        );
        assert!(!body.contains(&"a".repeat(100)), "the answer does not echo the input");
        let after = h.stack.aws_requests.snapshot();
        let dynamodb = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .filter(|(k, _)| k.starts_with("DynamoDB"))
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        assert_eq!(
            dynamodb(&after),
            dynamodb(&before),
            "{}: no lookup",
            &path[..40.min(path.len())]
        );
    }
    Ok(())
}
