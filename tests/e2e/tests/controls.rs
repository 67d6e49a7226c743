//! The release manager's controls (issue 15), end to end on the local stack: freeze windows and
//! deploying at a chosen time so far.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use baton_e2e::{Harness, config_with};
use chrono::Utc;

const LONG: Duration = Duration::from_secs(120);

/// A freeze of TEST from a minute ago until `seconds` from now, in the local configuration
/// (whose time zone is UTC).
fn test_frozen_for(seconds: i64) -> (baton_local::StackOptions, chrono::DateTime<Utc>) {
    let now = Utc::now();
    let end = now + chrono::Duration::seconds(seconds);
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let freeze = format!(
        "  - name: TEST\n    freezes: [{{ reason: quarter close, start: \"{}\", end: \"{}\" }}]\n",
        fmt(now - chrono::Duration::minutes(1)),
        fmt(end)
    );
    // The window is read to the second: the end is the whole second written.
    let end = chrono::DateTime::parse_from_rfc3339(&end.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(end);
    (config_with(move |c| c.replacen("  - name: TEST\n", &freeze, 1)), end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_release_waits_for_a_freeze_of_its_environment_to_end() -> Result<()> {
    let (options, end) = test_frozen_for(60);
    let h = Harness::start_with(options).await?;
    h.release_samples("1.0.0", 1).await?;
    // Approvals may be given during a freeze.
    h.approve_from_mail(1, "TEST", "ship it after the close").await?;

    // The release waits, and says so, until the freeze ends; nothing reaches TEST before.
    let deadline = Instant::now() + LONG;
    let waiting = loop {
        let detail = h.get_json("/api/releases/rel-1").await?;
        if detail["waiting_on"]["kind"] == "freeze" {
            break detail;
        }
        ensure!(Instant::now() < deadline, "release 1 never showed the freeze: {detail}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    ensure!(Utc::now() < end, "the test was too slow to see the freeze");
    assert_eq!(waiting["waiting_on"]["environment"], "TEST");
    assert_eq!(waiting["waiting_on"]["reason"], "quarter close");
    assert_eq!(
        waiting["outcome"], "Signed off for TEST; waits for the quarter close freeze there to end",
        "{waiting}"
    );
    let until: chrono::DateTime<Utc> = serde_json::from_value(waiting["waiting_on"]["until"].clone())?;
    assert_eq!(until, end);
    let overview = h.get_json("/api/status").await?;
    assert_eq!(overview["in_flight"][0]["waiting_on"]["kind"], "freeze", "{overview}");
    let page = h.get("/releases/rel-1").await?;
    assert!(
        page.body.contains("waits for the quarter close freeze"),
        "{}",
        page.body
    );
    assert!(h.environment("TEST").await?.current.is_none());
    assert!(h.pages_deployments().is_empty(), "nothing deployed during the freeze");

    // After its end the deployment goes on, and the timeline tells the story.
    h.approval_links(1, "PROD").await?;
    ensure!(Utc::now() >= end);
    let events = h.events(1).await?;
    let at = |kind: &str| {
        events
            .iter()
            .find(|e| e.kind == kind && e.environment.as_deref() == Some("TEST"))
            .map(|e| e.at)
    };
    let deploying = at("deploying").expect("a deploying event");
    assert!(
        deploying >= end,
        "deployed at {deploying}, before the freeze ended at {end}"
    );
    assert!(at("frozen").is_some_and(|f| f < end), "{events:?}");
    assert!(h.environment("TEST").await?.current.is_some_and(|c| c.number == 1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_scheduled_by_its_approver_starts_at_its_time_and_not_before() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    let page = h.open(&links[0].1).await?;
    assert!(page.body.contains("type=\"datetime-local\""), "the page offers a time");

    // A time that has passed, or one after the request lapses, is refused and records nothing.
    let past = h
        .decide_with(
            &links[0].1,
            "approve",
            "",
            &[("when", "at"), ("deploy_at", "2020-01-01T09:00")],
        )
        .await?;
    assert_eq!(past.status, 400, "{}", past.body);
    assert!(
        past.body.contains("has passed; choose a later time, or deploy now"),
        "{}",
        past.body
    );
    let late = h
        .decide_with(
            &links[0].1,
            "approve",
            "",
            &[("when", "at"), ("deploy_at", "2099-01-01T09:00")],
        )
        .await?;
    assert_eq!(late.status, 400);
    assert!(late.body.contains("is after this request lapses"), "{}", late.body);
    assert_eq!(h.open(&links[0].1).await?.status, 200, "the link still decides");

    // In about 25 seconds (the local configuration's zone is UTC; minutes are what a form
    // carries, so the time is the next whole minute at least 25 s away).
    let now = Utc::now();
    let minute = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let mut at = now + chrono::Duration::seconds(25);
    at = chrono::DateTime::parse_from_rfc3339(&format!("{}:00Z", minute(at + chrono::Duration::seconds(59))))?
        .with_timezone(&Utc);
    let chosen = minute(at);
    let decided = h
        .decide_with(
            &links[0].1,
            "approve",
            "after lunch",
            &[("when", "at"), ("deploy_at", &chosen)],
        )
        .await?;
    assert_eq!(decided.status, 200, "{}", decided.body);
    // The approver gets an invitation for that time.
    let invited = h.wait_for_mails("Release 1 deploys to TEST at", 1).await?;
    let ics = invited[0]
        .attachments
        .iter()
        .find(|a| a.filename == "release-1-TEST.ics")
        .expect("an .ics invitation");
    assert!(ics.content_type.starts_with("text/calendar"), "{}", ics.content_type);
    assert!(ics.content.starts_with("BEGIN:VCALENDAR"), "{}", ics.content);
    assert!(
        ics.content
            .contains(&format!("DTSTART:{}", at.format("%Y%m%dT%H%M%SZ"))),
        "{}",
        ics.content
    );

    let deadline = Instant::now() + LONG;
    let waiting = loop {
        let detail = h.get_json("/api/releases/rel-1").await?;
        if detail["waiting_on"]["kind"] == "scheduled" {
            break detail;
        }
        ensure!(
            Instant::now() < deadline,
            "release 1 never showed its schedule: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let when: chrono::DateTime<Utc> = serde_json::from_value(waiting["waiting_on"]["at"].clone())?;
    assert_eq!(when, at);
    assert_eq!(waiting["waiting_on"]["environment"], "TEST");
    let page = h.get("/releases/rel-1").await?;
    assert!(page.body.contains("Scheduled for TEST at"), "{}", page.body);
    assert!(h.pages_deployments().is_empty(), "nothing deployed before its time");

    h.approval_links(1, "PROD").await?;
    let events = h.events(1).await?;
    let deploying = events
        .iter()
        .find(|e| e.kind == "deploying" && e.environment.as_deref() == Some("TEST"))
        .map(|e| e.at)
        .expect("a deploying event");
    assert!(deploying >= at, "deployed at {deploying}, before its time {at}");
    assert!(events.iter().any(|e| e.kind == "scheduled"), "{events:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_keeps_the_request_open_until_another_approver_lifts_it() -> Result<()> {
    let h = Harness::start().await?;
    h.live_in_test("1.0.0", 1).await?;
    let links = h.approval_links(1, "PROD").await?;
    let (first, second) = (&links[0], &links[1]);

    // A hold needs a reason; without one nothing is recorded.
    let bare = h.decide_with(&first.1, "hold", "", &[("hold_reason", " ")]).await?;
    assert_eq!(bare.status, 400, "{}", bare.body);
    let held = h
        .decide_with(&first.1, "hold", "", &[("hold_reason", "CAB meets on Thursday")])
        .await?;
    assert_eq!(held.status, 200, "{}", held.body);
    assert!(held.body.contains("is on hold"), "{}", held.body);
    // The other approver hears of it; the status page shows it.
    let told = h.wait_for_mails("Release 1 for PROD is on hold", 1).await?;
    assert_eq!(told[0].to, std::slice::from_ref(&second.0));
    assert!(told[0].text.contains("CAB meets on Thursday"), "{}", told[0].text);
    let overview = h.get_json("/api/status").await?;
    let waiting = &overview["in_flight"][0]["waiting_on"];
    assert_eq!(waiting["on_hold"]["reason"], "CAB meets on Thursday", "{overview}");
    // The page is public: the approver appears as their role (access.roles).
    assert_eq!(
        overview["in_flight"][0]["summary"],
        "On hold for PROD by the release manager: CAB meets on Thursday"
    );
    let detail = h.get_json("/api/releases/rel-1").await?;
    assert_eq!(detail["waiting_on"]["on_hold"]["by"], "the release manager", "{detail}");

    // Nobody can approve while it is on hold: not the one who put it, not another.
    let page = h.open(&second.1).await?;
    assert!(
        page.body.contains("On hold") && page.body.contains("Lift the hold"),
        "{}",
        page.body
    );
    for (_, link) in [first, second] {
        let refused = h.decide(link, "approve", "now?").await?;
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert!(refused.body.contains("lift the hold"), "{}", refused.body);
    }
    assert!(h.environment("PROD").await?.current.is_none());

    // The other approver lifts it; the first hears of it and approves.
    let lifted = h.decide(&second.1, "lift", "").await?;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(h.decide(&second.1, "lift", "").await?.status, 409, "lifted once");
    let told = h.wait_for_mails("Release 1 for PROD is no longer on hold", 1).await?;
    assert_eq!(told[0].to, std::slice::from_ref(&first.0));
    let approved = h.decide(&first.1, "approve", "CAB said yes").await?;
    assert_eq!(approved.status, 200, "{}", approved.body);
    h.wait_for_status(1, "released", LONG).await?;
    let events = h.events(1).await?;
    let kinds: Vec<&str> = events
        .iter()
        .filter(|e| e.environment.as_deref() == Some("PROD"))
        .map(|e| e.kind.as_str())
        .collect();
    let held_at = kinds.iter().position(|k| *k == "held").expect("held");
    let lifted_at = kinds.iter().position(|k| *k == "hold-lifted").expect("lifted");
    let approved_at = kinds.iter().position(|k| *k == "approved").expect("approved");
    assert!(held_at < lifted_at && lifted_at < approved_at, "{kinds:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_with_a_time_ends_by_itself_and_the_approvers_are_told() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    // The next whole minute at least 20 s away (the local configuration's zone is UTC).
    let minute = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let until =
        chrono::DateTime::parse_from_rfc3339(&format!("{}:00Z", minute(Utc::now() + chrono::Duration::seconds(79))))?
            .with_timezone(&Utc);
    let held = h
        .decide_with(
            &links[0].1,
            "hold",
            "",
            &[
                ("hold_reason", "waiting for the pen test"),
                ("hold_until", &minute(until)),
            ],
        )
        .await?;
    assert_eq!(held.status, 200, "{}", held.body);
    assert_eq!(h.decide(&links[0].1, "approve", "").await?.status, 409);

    let ended = h.wait_for_mails("Release 1 for TEST: the hold has ended", 1).await?;
    assert!(Utc::now() >= until, "told before the hold's end");
    assert!(ended[0].text.contains("waiting for the pen test"), "{}", ended[0].text);
    assert!(h.events(1).await?.iter().any(|e| e.kind == "hold-ended"));
    let approved = h.decide(&links[0].1, "approve", "").await?;
    assert_eq!(approved.status, 200, "{}", approved.body);
    h.approval_links(1, "PROD").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approver_can_let_a_release_through_a_freeze_with_a_reason() -> Result<()> {
    let (options, end) = test_frozen_for(600);
    let h = Harness::start_with(options).await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "ready").await?;

    // The approver gets a new personal link to deploy it now anyway.
    let mails = h
        .wait_for_mails("Release 1 waits for the quarter close freeze of TEST", 1)
        .await?;
    let link = mails[0].links.first().cloned().expect("a link");
    let page = h.open(&link).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("during the quarter close freeze?"), "{}", page.body);
    assert!(
        h.environment("TEST").await?.current.is_none(),
        "opening the link decides nothing"
    );
    // A reason is needed; a forged token is refused; neither changes anything.
    let bare = h.decide_with(&link, "override", "", &[("reason", "  ")]).await?;
    assert_eq!(bare.status, 400, "{}", bare.body);
    let (base, _) = link.split_once("?token=").expect("a token");
    let forged = h
        .decide_with(&format!("{base}?token=AAAA"), "override", "", &[("reason", "x")])
        .await?;
    assert_eq!(forged.status, 403, "{}", forged.body);

    let cleared = h
        .decide_with(&link, "override", "", &[("reason", "hotfix for the close itself")])
        .await?;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    h.approval_links(1, "PROD").await?;
    ensure!(
        Utc::now() < end,
        "deployed before the freeze's end only because of the override"
    );
    let events = h.events(1).await?;
    let overridden = events
        .iter()
        .find(|e| e.kind == "freeze-override")
        .expect("the override on the timeline");
    assert!(
        overridden.detail.contains("hotfix for the close itself"),
        "{}",
        overridden.detail
    );
    assert!(h.environment("TEST").await?.current.is_some_and(|c| c.number == 1));
    // The link is spent: a second override changes nothing.
    let again = h.decide_with(&link, "override", "", &[("reason", "again")]).await?;
    assert_ne!(again.status, 200, "{}", again.body);
    Ok(())
}

/// Invokes the lifecycle function as a state machine would: (errorType if it failed, payload).
async fn lifecycle(h: &Harness, payload: serde_json::Value) -> Result<(Option<String>, serde_json::Value)> {
    let name = h.stack.resource_name("LifecycleFunction")?;
    let url = format!("{}/2015-03-31/functions/{name}/invocations", h.stack.aws_endpoint);
    let answer = reqwest::Client::new().post(url).json(&payload).send().await?;
    let failed = answer.headers().contains_key("x-amz-function-error");
    let body: serde_json::Value = answer.json().await?;
    Ok((
        failed.then(|| body["errorType"].as_str().unwrap_or_default().to_string()),
        body,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_from_before_freezes_spends_its_tries_on_a_freeze_and_stays_bounded() -> Result<()> {
    let (options, _) = test_frozen_for(600);
    let h = Harness::start_with(options).await?;
    // The previous state machine's AcquireLease: no freeze fields.
    let old_step = |waits_left: u64| {
        serde_json::json!({
            "action": "acquire-lease", "releaseId": "rel-1", "environment": "TEST", "waitsLeft": waits_left,
        })
    };
    let (error, answer) = lifecycle(&h, old_step(3)).await?;
    assert_eq!(error, None, "{answer}");
    assert_eq!(answer["acquired"], false, "{answer}");
    assert_eq!(answer["waitsLeft"], 2, "a frozen try spends a lease try: {answer}");
    assert!(
        answer.get("held").is_none(),
        "the old Choice knows only acquired: {answer}"
    );
    let (error, answer) = lifecycle(&h, old_step(1)).await?;
    assert_eq!(error.as_deref(), Some("Baton.DeployFailed"), "{answer}");
    assert!(
        answer["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("stayed frozen"),
        "{answer}"
    );
    // The lease was never taken.
    assert!(h.environment("TEST").await?.current.is_none());
    let (error, answer) = lifecycle(
        &h,
        serde_json::json!({
            "action": "acquire-lease", "releaseId": "rel-1", "environment": "TEST", "waitsLeft": 3,
            "freezeWaitsLeft": 10, "until": null, "freezeDeadline": null,
        }),
    )
    .await?;
    assert_eq!(error, None, "{answer}");
    assert_eq!(
        (answer["frozen"].as_bool(), answer["waitsLeft"].as_u64()),
        (Some(true), Some(3)),
        "{answer}"
    );
    assert_eq!(answer["freezeWaitsLeft"], 9, "{answer}");
    Ok(())
}
