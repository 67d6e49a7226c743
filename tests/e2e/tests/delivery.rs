//! A decision is delivered exactly once (issue 14): Step Functions failing, a task gone before
//! the decision reaches it, and mail that cannot be sent. Each attack first, through the real
//! adapters against the local stack with faults injected at the runner's AWS endpoint. And
//! mail itself: an invitation attached to a mail arrives whole.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use baton_aws::SesMailer;
use baton_domain::ports::{Attachment, Mail, Mailer};
use baton_e2e::Harness;
use baton_html::ics::{self, CalendarEvent};
use baton_local::faults::Fault;

const LONG: Duration = Duration::from_secs(120);

/// SendTaskSuccess requests `approve` makes before it queues a decision: two tries, each with
/// the SDK's three attempts.
const INLINE_REQUESTS: u64 = 6;

/// How many entries of `kind` the release's timeline has in TEST.
async fn entries(h: &Harness, kind: &str) -> Result<usize> {
    Ok(h.events(1)
        .await?
        .iter()
        .filter(|e| e.kind == kind && e.environment.as_deref() == Some("TEST"))
        .count())
}

/// TEST was deployed exactly once: one Pages deployment, one CloudHub deployment per app.
fn deployed_to_test_once(h: &Harness) -> Result<()> {
    let pages = h.pages_deployments();
    ensure!(pages.len() == 1, "one Pages deployment, got {pages:?}");
    let cloudhub = h.cloudhub_deployments("Sandbox");
    let mut names: Vec<String> = cloudhub.iter().map(|d| d["name"].to_string()).collect();
    let all = names.len();
    names.sort();
    names.dedup();
    ensure!(
        all > 0 && names.len() == all,
        "each application deployed once: {cloudhub:?}"
    );
    Ok(())
}

/// Polls `check` until it holds.
async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = Instant::now() + LONG;
    while !check().await? {
        if Instant::now() > deadline {
            bail!("{what}: not within {} s", LONG.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// The execution ARN of release 1.
fn execution_of_release_1(h: &Harness) -> Result<String> {
    Ok(format!(
        "{}:rel-1",
        h.stack
            .state_machine_arn("ReleaseStateMachine")?
            .replace(":stateMachine:", ":execution:")
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_task_success_failing_twice_still_deploys_once() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    h.stack
        .aws_faults
        .inject(Fault::step_functions_failing("SendTaskSuccess", 2));
    let page = h.decide(&links[0].1, "approve", "ship it").await?;
    ensure!(page.status == 200, "{} {}", page.status, page.body);
    ensure!(page.body.contains("recorded"), "{}", page.body);
    h.approval_links(1, "PROD").await?;
    ensure!(h.stack.aws_faults.injected() == 2, "both failures were met");
    deployed_to_test_once(&h)?;
    ensure!(entries(&h, "approved").await? == 1, "one approved entry");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_step_functions_refuses_for_long_is_delivered_from_the_queue() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    // Every inline try fails, then the queue consumer's first delivery too.
    h.stack
        .aws_faults
        .inject(Fault::step_functions_failing("SendTaskSuccess", INLINE_REQUESTS + 3));
    let page = h.decide(&links[0].1, "approve", "ship it").await?;
    ensure!(
        page.status == 200,
        "the approver sees no error: {} {}",
        page.status,
        page.body
    );
    ensure!(
        page.body.contains("recorded") && page.body.contains("shortly"),
        "{}",
        page.body
    );
    ensure!(entries(&h, "approved").await? == 1, "recorded before it was delivered");
    h.approval_links(1, "PROD").await?;
    ensure!(
        h.stack.aws_faults.pending() == 0,
        "the consumer met the remaining failures"
    );
    deployed_to_test_once(&h)?;
    ensure!(entries(&h, "approved").await? == 1, "one approved entry");
    eventually("the decisions queue drains", || async {
        Ok(h.queue_depth("DecisionsQueue").await? == 0)
    })
    .await?;
    ensure!(h.queue_depth("DecisionsDeadLetterQueue").await? == 0);
    // The same link again: decided and delivered, so 409 naming who decided.
    let again = h.decide(&links[0].1, "approve", "").await?;
    ensure!(again.status == 409, "{} {}", again.status, again.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_queued_while_the_execution_is_stopped_comes_too_late_and_deploys_nothing() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    // Inline tries and the consumer's for some seconds fail; meanwhile an operator stops the
    // execution (a callback meeting the stop in the same instant is not what this is about).
    h.stack
        .aws_faults
        .inject(Fault::step_functions_failing("SendTaskSuccess", INLINE_REQUESTS + 15));
    let page = h.decide(&links[0].1, "approve", "ship it").await?;
    ensure!(page.status == 200 && page.body.contains("recorded"), "{}", page.body);
    h.sfn
        .stop_execution()
        .execution_arn(execution_of_release_1(&h)?)
        .error("Operator.Stop")
        .cause("stopped from the console")
        .send()
        .await?;
    h.wait_for_status(1, "stopped", LONG).await?;
    ensure!(
        h.stack.aws_faults.pending() > 0,
        "stopped while the callback still failed"
    );
    eventually("the late decision is on the timeline", || async {
        Ok(entries(&h, "decision-too-late").await? == 1)
    })
    .await?;
    let late = h
        .events(1)
        .await?
        .into_iter()
        .find(|e| e.kind == "decision-too-late")
        .context("late entry")?;
    ensure!(late.detail.contains("came after the request closed"), "{}", late.detail);
    ensure!(late.actor == "release-manager@example.com", "{}", late.actor);
    let shown = h.get("/releases/rel-1").await?;
    ensure!(shown.body.contains("came after the request closed"), "{}", shown.body);
    ensure!(h.pages_deployments().is_empty() && h.cloudhub_deployments("Sandbox").is_empty());
    eventually("the decisions queue drains", || async {
        Ok(h.queue_depth("DecisionsQueue").await? == 0)
    })
    .await?;
    ensure!(entries(&h, "decision-too-late").await? == 1, "said once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_for_a_closed_task_says_it_came_too_late() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    // Step Functions' own answer for a task that no longer waits (timed out or stopped in the
    // instant before the decision).
    h.stack.aws_faults.inject(Fault {
        operation: "AWSStepFunctions.SendTaskSuccess".into(),
        count: 1,
        status: 400,
        code: "TaskTimedOut".into(),
        message: "Task Timed Out: 'Provided task does not exist anymore'".into(),
    });
    let page = h.decide(&links[0].1, "approve", "ship it").await?;
    ensure!(page.status == 410, "{} {}", page.status, page.body);
    ensure!(page.body.contains("came too late"), "{}", page.body);
    ensure!(entries(&h, "decision-too-late").await? == 1);
    let detail = h.get_json("/api/releases/rel-1").await?;
    let said = detail["events"].as_array().context("events")?.iter().any(|e| {
        e["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("came after the request closed")
    });
    ensure!(said, "{detail}");
    // Pressing again changes nothing more.
    let again = h.decide(&links[0].1, "approve", "").await?;
    ensure!(again.status == 409, "{} {}", again.status, again.body);
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(h.pages_deployments().is_empty() && h.cloudhub_deployments("Sandbox").is_empty());
    ensure!(entries(&h, "decision-too-late").await? == 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvers_ses_refuses_are_shown_on_the_page_the_api_and_the_feed() -> Result<()> {
    let h = Harness::start().await?;
    h.stack.aws_faults.inject(Fault::ses_refusing(1_000));
    h.release_samples("1.0.0", 1).await?;
    let words = "could not reach the approvers";
    eventually("the API says the approvers were not reached", || async {
        let detail = h.get_json("/api/releases/rel-1").await?;
        Ok(detail["headline"].as_str().unwrap_or_default().contains(words))
    })
    .await?;
    let detail = h.get_json("/api/releases/rel-1").await?;
    let reason = detail["waiting_on"]["unreachable"].as_str().unwrap_or_default();
    ensure!(reason.contains("Email address is not verified"), "{detail}");
    let page = h.get("/releases/rel-1").await?;
    ensure!(
        page.body.contains(words) && page.body.contains("Email address is not verified"),
        "{}",
        page.body
    );
    let overview = h.get_json("/api/status").await?;
    ensure!(overview.to_string().contains(words), "{overview}");
    ensure!(h.get("/").await?.body.contains(words));
    let feed = h.get("/feed.xml").await?;
    ensure!(feed.body.contains(words), "{}", feed.body);
    ensure!(h.release(1).await?.status == baton_domain::release::ReleaseStatus::AwaitingApproval);
    ensure!(entries(&h, "approvers-unreachable").await? == 1);
    ensure!(!h.mails().iter().any(|m| m.subject.contains("Approve release 1")));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_ses_refuses_once_is_sent_on_the_next_try() -> Result<()> {
    let h = Harness::start().await?;
    h.stack.aws_faults.inject(Fault::ses_refusing(1));
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    ensure!(h.stack.aws_faults.injected() == 1);
    let detail = h.get_json("/api/releases/rel-1").await?;
    ensure!(!detail.to_string().contains("could not reach"), "{detail}");
    ensure!(entries(&h, "approvers-unreachable").await? == 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_with_an_ics_invitation_arrives_with_it_and_one_without_arrives_as_before() -> Result<()> {
    let h = Harness::start().await?;
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&h.stack.sdk));
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-30T18:00:00Z")?.to_utc();
    let link = format!("{}/releases/rel-12", h.stack.http_url);
    let invitation = ics::invitation(&CalendarEvent {
        uid: "rel-12-PROD@baton".into(),
        stamp: chrono::Utc::now(),
        start,
        minutes: 30,
        summary: "Deploy release 12 to PROD".into(),
        description: format!("Scheduled by rm@example.com; details: {link}"),
        url: Some(link.clone()),
        organizer: Some("baton@example.com".into()),
    });
    let scheduled = Mail {
        to: "rm@example.com".into(),
        subject: "Déploiement 12 → PROD planifié à 18:00".into(),
        text: format!("Release 12 deploys to PROD at 18:00 UTC.\n\nSee {link}\n"),
        html: format!("<p>Release 12 deploys to PROD at 18:00 UTC. <a href=\"{link}\">See it</a></p>"),
        attachments: vec![Attachment {
            filename: "release-12-PROD.ics".into(),
            content_type: ics::CONTENT_TYPE.into(),
            content: invitation.clone().into_bytes(),
        }],
        headers: Vec::new(),
    };
    mailer.send("baton@example.com", &scheduled).await?;
    let plain = Mail {
        to: "approver@example.com".into(),
        subject: "No attachment here".into(),
        text: format!("Plain as before: {link}\n"),
        html: "<p>Plain as before</p>".into(),
        attachments: Vec::new(),
        headers: Vec::new(),
    };
    mailer.send("baton@example.com", &plain).await?;

    let mails = h.mails();
    ensure!(mails.len() == 2, "both mails captured: {mails:?}");
    let sent = &mails[0];
    ensure!(
        sent.from == "baton@example.com" && sent.to == ["rm@example.com"],
        "{sent:?}"
    );
    ensure!(sent.subject == scheduled.subject, "subject decoded: {sent:?}");
    ensure!(sent.text == scheduled.text, "text body: {sent:?}");
    ensure!(sent.links == [link.clone()], "{sent:?}");
    ensure!(sent.attachments.len() == 1, "{sent:?}");
    let attached = &sent.attachments[0];
    ensure!(attached.filename == "release-12-PROD.ics", "{attached:?}");
    let media = attached.content_type.to_ascii_lowercase();
    ensure!(
        media.starts_with("text/calendar") && media.contains("method=publish"),
        "{attached:?}"
    );
    ensure!(attached.content.starts_with("BEGIN:VCALENDAR\r\n"), "{attached:?}");
    ensure!(attached.content == invitation, "the invitation arrives byte for byte");
    ensure!(attached.content.contains("DTSTART:20261130T180000Z\r\n"));

    let before = &mails[1];
    ensure!(
        before.to == ["approver@example.com"] && before.from == "baton@example.com",
        "{before:?}"
    );
    ensure!(
        before.subject == plain.subject && before.text == plain.text,
        "{before:?}"
    );
    ensure!(before.links == [link] && before.attachments.is_empty(), "{before:?}");
    Ok(())
}
