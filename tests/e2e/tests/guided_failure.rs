//! Guided failure by email (issue 15, item 2), end to end on the local stack: with
//! `on_failure: ask`, a failed deployment keeps its environment and asks the approvers, by mail,
//! to retry, roll back or leave it as it is; unanswered, it rolls back.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use baton_e2e::journey::Page;
use baton_e2e::{Harness, config_with, text};
use serde_json::json;

const LONG: Duration = Duration::from_secs(120);

/// A stack whose TEST asks on failure, with requests (and so questions) lasting `ttl`.
async fn asking(ttl: &str) -> Result<Harness> {
    let ttl = ttl.to_string();
    Harness::start_with(config_with(move |c| {
        c.replacen(
            "    approval_ttl: 24h\n",
            &format!("    approval_ttl: {ttl}\n    on_failure: ask\n"),
            1,
        )
    }))
    .await
}

/// Makes the next Pages deployment fail, as Cloudflare fails a build.
async fn fail_next_site_deployment(h: &Harness) -> Result<()> {
    let answer = reqwest::Client::new()
        .post(format!("{}/__admin/faults", h.stack.cloudflare.base_url()))
        .json(&json!({"kind": "fail_deployment", "log_lines": ["Error: Failed to publish your site: disk on fire"]}))
        .send()
        .await?;
    ensure!(answer.status().is_success(), "{}", answer.status());
    Ok(())
}

/// Release 1 approved for TEST, its site deployment failed: the question's links, in the
/// order the mail gives them (retry, roll back, leave).
async fn failed_in_test(h: &Harness) -> Result<Vec<String>> {
    fail_next_site_deployment(h).await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    let mails = h
        .wait_for_mails("Release 1 failed in TEST: retry, roll back or leave it?", 1)
        .await?;
    ensure!(
        mails[0].text.contains("disk on fire"),
        "the mail says what failed: {}",
        mails[0].text
    );
    ensure!(mails[0].links.len() >= 3, "{:?}", mails[0].links);
    Ok(mails[0].links[..3].to_vec())
}

/// Answers a question from its link's page: `decision` (`retry`, `rollback`, `leave`).
async fn answer(h: &Harness, link: &str, decision: &str, reason: &str) -> Result<Page> {
    let (base, rest) = link.split_once("?token=").context("a link with a token")?;
    let token = rest.split('&').next().unwrap_or_default();
    let answer = reqwest::Client::new()
        .post(base)
        .form(&[("token", token), ("decision", decision), ("comment", reason)])
        .send()
        .await?;
    let _ = h;
    Ok(Page {
        status: answer.status().as_u16(),
        body: answer.text().await?,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_deployment_waits_for_an_answer_and_retry_takes_the_release_on_to_released() -> Result<()> {
    let h = asking("24h").await?;
    let links = failed_in_test(&h).await?;
    ensure!(
        links[0].ends_with("&choice=retry")
            && links[1].ends_with("&choice=rollback")
            && links[2].ends_with("&choice=leave"),
        "{links:?}"
    );
    // While it waits: TEST stays as the failure left it, held by release 1.
    let held = h.leases_held().await?;
    ensure!(held.len() == 1, "TEST's lease is kept: {held:?}");
    ensure!(h.release(1).await?.status == baton_domain::release::ReleaseStatus::Deploying);
    ensure!(
        h.cloudhub_deployments("Sandbox").len() == 2,
        "the APIs went first and stay"
    );
    // Opening a link decides nothing; a forged one is refused.
    let shown = h.open(&links[0]).await?;
    ensure!(
        shown.status == 200 && shown.body.contains("disk on fire"),
        "{}",
        shown.body
    );
    ensure!(h.open(&links[0].replace("token=", "token=x")).await?.status == 403);
    ensure!(h.leases_held().await?.len() == 1, "GET changed nothing");

    // The fault was one deployment: cleared. Retry deploys the waves again and goes on.
    let retried = answer(&h, &links[0], "retry", "").await?;
    ensure!(
        retried.status == 200 && retried.body.contains("Recorded: retry"),
        "{}",
        retried.body
    );
    h.approve_from_mail(1, "PROD", "fine").await?;
    h.wait_for_status(1, "released", LONG).await?;
    ensure!(h.environment("TEST").await?.current.is_some_and(|c| c.number == 1));
    let sites: Vec<String> = h
        .pages_deployments()
        .iter()
        .filter(|d| d["branch"] == "test")
        .map(|d| d["latest_stage"]["status"].as_str().unwrap_or_default().to_string())
        .collect();
    ensure!(
        sites == ["failure", "success"],
        "a failed, then a new, site deployment: {sites:?}"
    );
    let events = h.events(1).await?;
    ensure!(events.iter().any(|e| e.kind == "failure-question"), "{events:#?}");
    ensure!(
        events
            .iter()
            .any(|e| e.kind == "failure-answered" && e.actor == "release-manager@example.com"),
        "{events:#?}"
    );
    ensure!(
        answer(&h, &links[1], "rollback", "").await?.status == 409,
        "answered once"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roll_back_from_the_question_puts_test_back_and_leave_needs_a_reason() -> Result<()> {
    let h = asking("24h").await?;
    let links = failed_in_test(&h).await?;
    let reasonless = answer(&h, &links[2], "leave", " ").await?;
    ensure!(
        reasonless.status == 400 && reasonless.body.contains("needs a reason"),
        "{}",
        reasonless.body
    );
    let rolled = answer(&h, &links[1], "rollback", "").await?;
    ensure!(rolled.status == 200, "{}", rolled.body);
    h.wait_for_status(1, "rolled-back", LONG).await?;
    ensure!(h.environment("TEST").await?.current.is_none());
    ensure!(h.leases_held().await?.is_empty(), "TEST is free again");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_as_it_is_ends_the_release_failed_with_the_reason_and_the_environment_untouched() -> Result<()> {
    let h = asking("24h").await?;
    let links = failed_in_test(&h).await?;
    let left = answer(&h, &links[2], "leave", "fixing the site by hand").await?;
    ensure!(left.status == 200, "{}", left.body);
    h.wait_for_status(1, "failed", LONG).await?;
    ensure!(h.cloudhub_deployments("Sandbox").len() == 2, "nothing rolled back");
    let events = h.events(1).await?;
    ensure!(
        events.iter().any(|e| e
            .detail
            .contains("left as it is in TEST by release-manager@example.com: fixing the site by hand")),
        "{events:#?}"
    );
    ensure!(h.leases_held().await?.is_empty(), "TEST is free again");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_question_rolls_back_when_it_lapses() -> Result<()> {
    let h = asking("20s").await?;
    let links = failed_in_test(&h).await?;
    h.wait_for_status(1, "rolled-back", LONG).await?;
    ensure!(h.leases_held().await?.is_empty(), "TEST is free again");
    let late = h.open(&links[0]).await?;
    ensure!(
        late.status == 410,
        "a lapsed question's link answers 410, not {}",
        late.status
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_callback_naming_the_question_cannot_choose_retry() -> Result<()> {
    let h = asking("24h").await?;
    failed_in_test(&h).await?;
    // Someone with states:SendTaskSuccess and the task token (it is in the execution history)
    // answers the question before any approver did, naming the question's record.
    let question = h
        .entities("approval")
        .await?
        .into_iter()
        .find(|a| a.contains_key("failure"))
        .context("the failure question's record")?;
    let (id, token) = (text(&question, "id"), text(&question, "task_token"));
    h.sfn
        .send_task_success()
        .task_token(&token)
        .output(json!({ "approvalId": id, "approvedBy": "mallory@example.com" }).to_string())
        .send()
        .await?;
    // No approver answered: the record says nothing was chosen, so the workflow rolls back.
    h.wait_for_status(1, "rolled-back", LONG).await?;
    ensure!(
        h.environment("TEST").await?.current.is_none(),
        "nothing retried or recorded"
    );
    ensure!(
        h.pages_deployments().iter().filter(|d| d["branch"] == "test").count() == 1,
        "no second site deployment"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redeploys_unanswered_question_is_closed_with_it_and_the_releases_own_request_stays_open() -> Result<()> {
    let h = asking("20s").await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    let prod = h.approval_links(1, "PROD").await?;

    // Release 1 deployed to TEST again fails there, asks, and nobody answers.
    h.ask_redeploy("rel-1", "TEST", "release-manager@example.com", "again")
        .await?;
    let confirm = h.wait_for_mails("Confirm: Deploy release 1 to TEST again?", 1).await?;
    fail_next_site_deployment(&h).await?;
    ensure!(h.decide(&confirm[0].links[0], "approve", "").await?.status == 200);
    h.wait_for_mails("Release 1 failed in TEST: retry, roll back or leave it?", 1)
        .await?;
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let questions: Vec<String> = h
            .entities("approval")
            .await?
            .into_iter()
            .filter(|a| a.contains_key("failure"))
            .map(|a| text(&a, "status"))
            .collect();
        if questions == ["expired"] {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the question was never closed: {questions:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ensure!(h.leases_held().await?.is_empty(), "TEST is free again");
    // The release's own request for PROD was not the redeploy's to close.
    ensure!(
        h.open(&prod[0].1).await?.status == 200,
        "release 1's PROD link still works"
    );
    ensure!(h.release(1).await?.status == baton_domain::release::ReleaseStatus::AwaitingApproval);
    Ok(())
}
