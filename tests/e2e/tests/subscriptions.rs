//! Subscriptions end to end (issue 16, item 4): a business user subscribes without an account,
//! confirms by mail (double opt-in), is mailed when the release is live, and leaves with one
//! click (RFC 8058). Hostile first: bad input, forged tokens, a GET that must not confirm, an
//! address whose answer must not differ from another's.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use baton_domain::ports::SubscriptionStore;
use baton_domain::subscription::{Subscription, SubscriptionState};
use baton_e2e::journey::Page;
use baton_e2e::{Harness, sample_site};
use baton_local::outbox::SentMail;
use serde_json::{Value, json};

const LONG: Duration = Duration::from_secs(120);
const CONFIRM_SUBJECT: &str = "Confirm your Baton subscription";

/// POSTs a form to a path of the HTTP API.
async fn post(h: &Harness, path: &str, form: &[(&str, &str)]) -> Result<Page> {
    let answer = reqwest::Client::new()
        .post(format!("{}{path}", h.stack.http_url))
        .form(form)
        .send()
        .await?;
    Ok(Page {
        status: answer.status().as_u16(),
        body: answer.text().await?,
    })
}

/// POSTs `body` as a form to a full URL, as a mail client's one-click unsubscribe does.
async fn post_url(url: &str, body: &str) -> Result<Page> {
    let answer = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await?;
    Ok(Page {
        status: answer.status().as_u16(),
        body: answer.text().await?,
    })
}

fn mails_to(h: &Harness, to: &str, subject: &str) -> Vec<SentMail> {
    h.mails()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to) && m.subject.contains(subject))
        .collect()
}

/// Waits for the `count`th mail to `to` about `subject`; returns the newest.
async fn wait_mail(h: &Harness, to: &str, subject: &str, count: usize) -> Result<SentMail> {
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let found = mails_to(h, to, subject);
        if found.len() >= count {
            return found.last().cloned().ok_or_else(|| anyhow!("no mail"));
        }
        if std::time::Instant::now() > deadline {
            let all: Vec<(Vec<String>, String)> = h.mails().into_iter().map(|m| (m.to, m.subject)).collect();
            bail!("no {count} mail(s) to {to} about '{subject}'; sent: {all:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The link of a mail that starts with `prefix` (after the API's base URL).
fn link(h: &Harness, mail: &SentMail, prefix: &str) -> Result<String> {
    let start = format!("{}{prefix}", h.stack.http_url);
    mail.links
        .iter()
        .find(|l| l.starts_with(&start))
        .cloned()
        .ok_or_else(|| anyhow!("no {prefix} link in {:?}", mail.links))
}

/// `name`'s value in a link's query.
fn param(link: &str, name: &str) -> String {
    link.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_default()
        .to_string()
}

async fn subscription(h: &Harness, id: &str) -> Result<Subscription> {
    SubscriptionStore::subscription(&h.store(), id)
        .await
        .map_err(|e| anyhow!("{e}"))?
        .ok_or_else(|| anyhow!("no subscription {id}"))
}

/// Subscribes `email` with `form`, confirms through the mailed link's page; the subscription id.
async fn subscribe_and_confirm(h: &Harness, email: &str, form: &[(&str, &str)]) -> Result<String> {
    let mut fields = vec![("email", email)];
    fields.extend_from_slice(form);
    let before = mails_to(h, email, CONFIRM_SUBJECT).len();
    let page = post(h, "/subscriptions", &fields).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let mail = wait_mail(h, email, CONFIRM_SUBJECT, before + 1).await?;
    let confirm = link(h, &mail, "/subscriptions/confirm?")?;
    let id = param(&confirm, "id");
    let page = post(
        h,
        "/subscriptions/confirm",
        &[("id", &id), ("token", &param(&confirm, "token"))],
    )
    .await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(subscription(h, &id).await?.state, SubscriptionState::Confirmed);
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_takes_a_confirmed_opt_in_and_tells_nobody_who_is_subscribed() -> Result<()> {
    let h = Harness::start().await?;

    // Bad input: a 400 that says what was wrong; nothing stored, nothing mailed.
    for (form, says) in [
        (
            vec![("email", "not-an-address"), ("environment", "PROD")],
            "not an email address",
        ),
        (
            vec![("email", "ann@example.com"), ("environment", "STAGING")],
            "no environment 'STAGING'",
        ),
        (
            vec![
                ("email", "ann@example.com"),
                ("scope", "component"),
                ("component", "api"),
            ],
            "no component 'api'",
        ),
        (
            vec![
                ("email", "ann@example.com"),
                ("scope", "release"),
                ("release", "rel-9"),
                ("environment", "PROD"),
            ],
            "no release rel-9",
        ),
        (
            vec![
                ("email", "ann@example.com\r\nBcc: x@example.com"),
                ("environment", "PROD"),
            ],
            "not an email address",
        ),
    ] {
        let page = post(&h, "/subscriptions", &form).await?;
        assert_eq!(page.status, 400, "{form:?}: {}", page.body);
        assert!(page.body.contains(says), "{form:?}: {}", page.body);
    }
    assert!(h.entities("subscription").await?.is_empty());
    assert!(h.mails().is_empty(), "{:?}", h.mails());

    // The status page offers the forms: plain POSTs, no script, under the strict CSP.
    let overview = h.get("/").await?;
    for says in [
        r#"action="subscriptions""#,
        r#"name="email""#,
        r#"value="digest""#,
        "Tell me when a release is live in",
    ] {
        assert!(overview.body.contains(says), "{says}: {}", overview.body);
    }
    assert!(!overview.body.contains("<script"));

    // Subscribe: the same page for everyone, a confirmation mailed.
    let form = [("email", " Ann@Example.com "), ("environment", "PROD")];
    let first = post(&h, "/subscriptions", &form).await?;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body.contains("If that address can receive mail"),
        "{}",
        first.body
    );
    let mail = wait_mail(&h, "ann@example.com", CONFIRM_SUBJECT, 1).await?;
    assert!(
        mail.headers.iter().all(|(n, _)| n != "List-Unsubscribe"),
        "a request is no notification"
    );
    let confirm = link(&h, &mail, "/subscriptions/confirm?")?;
    let (id, token) = (param(&confirm, "id"), param(&confirm, "token"));

    // A GET (a mail scanner) shows a button and changes nothing.
    let page = h.open(&confirm).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<form method=\"post\"") && page.body.contains("Yes, mail me"),
        "{}",
        page.body
    );
    assert_eq!(subscription(&h, &id).await?.state, SubscriptionState::Pending);

    // Forged: a wrong token, an unknown id, a malformed id: 403, nothing changes.
    let unknown = "0".repeat(32);
    for (id_, token_) in [
        (id.as_str(), "forged"),
        (unknown.as_str(), token.as_str()),
        ("../x", token.as_str()),
    ] {
        let page = post(&h, "/subscriptions/confirm", &[("id", id_), ("token", token_)]).await?;
        assert_eq!(page.status, 403, "{id_}/{token_}: {}", page.body);
        assert!(page.body.contains("This link is not valid"), "{}", page.body);
    }
    assert_eq!(subscription(&h, &id).await?.state, SubscriptionState::Pending);

    // The POST confirms, once; again is the same answer.
    for _ in 0..2 {
        let page = post(&h, "/subscriptions/confirm", &[("id", &id), ("token", &token)]).await?;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Baton will mail ann@example.com"), "{}", page.body);
    }
    let confirmed = subscription(&h, &id).await?;
    assert_eq!(confirmed.state, SubscriptionState::Confirmed);
    // Only hashes of the tokens are kept.
    let stored = format!("{:?}", h.entities("subscription").await?);
    assert!(!stored.contains(&token), "the token is stored: {stored}");

    // Subscribing again (a confirmed address) and subscribing an unknown one: the same answer.
    let again = post(&h, "/subscriptions", &form).await?;
    let stranger = post(
        &h,
        "/subscriptions",
        &[("email", "zed@example.com"), ("environment", "PROD")],
    )
    .await?;
    assert_eq!((again.status, &again.body), (stranger.status, &stranger.body));
    assert_eq!(again.body, first.body);
    wait_mail(&h, "zed@example.com", CONFIRM_SUBJECT, 1).await?;
    assert_eq!(
        mails_to(&h, "ann@example.com", CONFIRM_SUBJECT).len(),
        1,
        "no new mail to a subscriber"
    );
    assert_eq!(subscription(&h, &id).await?, confirmed, "nothing changed");

    // A pending request asked again: the newest link confirms, the older one is void.
    post(
        &h,
        "/subscriptions",
        &[("email", "dan@example.com"), ("scope", "digest")],
    )
    .await?;
    let older = link(
        &h,
        &wait_mail(&h, "dan@example.com", CONFIRM_SUBJECT, 1).await?,
        "/subscriptions/confirm?",
    )?;
    post(
        &h,
        "/subscriptions",
        &[("email", "dan@example.com"), ("scope", "digest")],
    )
    .await?;
    let newer = link(
        &h,
        &wait_mail(&h, "dan@example.com", CONFIRM_SUBJECT, 2).await?,
        "/subscriptions/confirm?",
    )?;
    assert_eq!(param(&older, "id"), param(&newer, "id"), "one subscription");
    let page = post(
        &h,
        "/subscriptions/confirm",
        &[("id", &param(&older, "id")), ("token", &param(&older, "token"))],
    )
    .await?;
    assert_eq!(page.status, 403, "{}", page.body);
    let page = post(
        &h,
        "/subscriptions/confirm",
        &[("id", &param(&newer, "id")), ("token", &param(&newer, "token"))],
    )
    .await?;
    assert_eq!(page.status, 200, "{}", page.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_is_mailed_when_the_release_is_live_in_prod_and_leaves_in_one_click() -> Result<()> {
    let h = Harness::start().await?;
    let ann = subscribe_and_confirm(&h, "ann@example.com", &[("environment", "PROD")]).await?;
    let web = subscribe_and_confirm(&h, "bea@example.com", &[("scope", "component"), ("component", "web")]).await?;
    let digest = subscribe_and_confirm(&h, "cal@example.com", &[("scope", "digest")]).await?;

    // Release 1 goes to TEST, then PROD.
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    h.approve_from_mail(1, "PROD", "go").await?;
    h.wait_for_status(1, "released", LONG).await?;

    // Ann hears about PROD only; Bea (web changes, anywhere) about both; the release manager
    // about both, CAB (a PROD approver) about PROD.
    let live = wait_mail(&h, "ann@example.com", "Release 1 is live in PROD", 1).await?;
    wait_mail(&h, "bea@example.com", "Release 1 is live in TEST", 1).await?;
    wait_mail(&h, "bea@example.com", "Release 1 is live in PROD", 1).await?;
    wait_mail(&h, "release-manager@example.com", "Release 1 is live in TEST", 1).await?;
    wait_mail(&h, "release-manager@example.com", "Release 1 is live in PROD", 1).await?;
    wait_mail(&h, "cab@example.com", "Release 1 is live in PROD", 1).await?;
    assert!(mails_to(&h, "ann@example.com", "live in TEST").is_empty());
    assert!(
        mails_to(&h, "cal@example.com", "is live").is_empty(),
        "a digest subscriber gets the digest only"
    );

    // The mail carries both one-click headers (RFC 8058), pointing at Ann's subscription.
    let header = |name: &str| {
        live.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    let unsubscribe = header("List-Unsubscribe");
    let url = unsubscribe
        .strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .ok_or_else(|| anyhow!("List-Unsubscribe is not <url>: {unsubscribe}"))?
        .to_string();
    assert!(
        url.starts_with(&format!("{}/subscriptions/unsubscribe?", h.stack.http_url)),
        "{url}"
    );
    assert_eq!(param(&url, "id"), ann);
    assert!(live.text.contains(&url), "the link is in the text too");
    // The approvers' mails are not subscriptions: no unsubscribe link.
    let rm = wait_mail(&h, "release-manager@example.com", "Release 1 is live in PROD", 1).await?;
    assert!(
        rm.headers.iter().all(|(n, _)| n != "List-Unsubscribe"),
        "{:?}",
        rm.headers
    );

    // Forged one-click POSTs: 403, still subscribed.
    let forged = url.replace(&format!("token={}", param(&url, "token")), "token=forged");
    let other = url.replace(&format!("id={ann}"), &format!("id={web}"));
    for bad in [&forged, &other] {
        let page = post_url(bad, "List-Unsubscribe=One-Click").await?;
        assert_eq!(page.status, 403, "{bad}: {}", page.body);
    }
    assert_eq!(subscription(&h, &ann).await?.state, SubscriptionState::Confirmed);
    // A GET shows a button and changes nothing.
    let page = h.open(&url).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(subscription(&h, &ann).await?.state, SubscriptionState::Confirmed);
    // The one-click POST, no session, no cookie: unsubscribed; again, the same.
    for _ in 0..2 {
        let page = post_url(&url, "List-Unsubscribe=One-Click").await?;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("will not mail ann@example.com"), "{}", page.body);
    }
    assert_eq!(subscription(&h, &ann).await?.state, SubscriptionState::Unsubscribed);

    // Release 2 (web 1.1.0) live in PROD: Ann hears nothing; Bea does.
    h.upload(
        "packages/web/1.1.0/site.zip",
        sample_site("1.1.0"),
        &[("notes", "Clearer errors")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, LONG).await?;
    h.approve_from_mail(2, "TEST", "").await?;
    h.approve_from_mail(2, "PROD", "").await?;
    wait_mail(&h, "cab@example.com", "Release 2 is live in PROD", 1).await?;
    wait_mail(&h, "bea@example.com", "Release 2 is live in PROD", 1).await?;
    assert!(
        mails_to(&h, "ann@example.com", "Release 2").is_empty(),
        "unsubscribed, yet mailed"
    );
    // Each address was told once per event, whatever the stream redelivered.
    for (to, subject) in [
        ("bea@example.com", "Release 1 is live in PROD"),
        ("cab@example.com", "Release 1 is live in PROD"),
    ] {
        assert_eq!(mails_to(&h, to, subject).len(), 1, "{to}: {subject}");
    }

    h.wait_for_status(2, "released", LONG).await?;
    // The weekly digest, invoked as the schedule would: what went live where, what waits.
    let invoked = invoke_schedule(&h).await?;
    assert_eq!(invoked["digests"], 1, "{invoked}");
    let mail = wait_mail(&h, "cal@example.com", "Baton weekly digest", 1).await?;
    for line in [
        "Release 1 in TEST",
        "Release 1 in PROD",
        "Release 2 in TEST",
        "Release 2 in PROD",
        "Nothing is waiting",
    ] {
        assert!(mail.text.contains(line), "{line} missing from\n{}", mail.text);
    }
    assert!(
        mail.headers
            .iter()
            .any(|(n, v)| n == "List-Unsubscribe" && v.contains(&format!("id={digest}"))),
        "{:?}",
        mail.headers
    );
    // The schedule delivered twice in a week mails nobody twice.
    assert_eq!(invoke_schedule(&h).await?["digests"], 0);
    assert_eq!(mails_to(&h, "cal@example.com", "Baton weekly digest").len(), 1);
    Ok(())
}

/// Invokes the status function with EventBridge's scheduled event, through the Invoke API.
async fn invoke_schedule(h: &Harness) -> Result<Value> {
    let name = h.stack.resource_name("StatusFunction")?;
    let url = format!("{}/2015-03-31/functions/{name}/invocations", h.stack.aws_endpoint);
    let event = json!({
        "version": "0", "id": "d1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": chrono::Utc::now().to_rfc3339(), "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/weekly-digest"], "detail": {}
    });
    let answer = reqwest::Client::new().post(url).json(&event).send().await?;
    if answer.headers().contains_key("x-amz-function-error") {
        bail!("the digest failed: {}", answer.text().await?);
    }
    Ok(answer.json().await?)
}

/// The two forms anyone can use to make Baton send a mail (sign-in, subscribe) share a quota:
/// five mails an hour per address. Past it the answer is the same page and nothing is sent, so
/// the forms cannot flood an inbox; another address is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_forms_mail_one_address_at_most_five_times_an_hour() -> Result<()> {
    let h = Harness::start().await?;
    let victim = "release-manager@example.com";
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(post(&h, "/sign-in", &[("email", victim)]).await?);
    }
    for form in [
        vec![("email", victim), ("environment", "TEST")],
        vec![("email", victim), ("environment", "PROD")],
        vec![("email", victim), ("scope", "digest")],
        vec![("email", victim), ("scope", "component"), ("component", "web")],
    ] {
        answers.push(post(&h, "/subscriptions", &form).await?);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // The refused requests read exactly as the accepted ones of their form.
    assert_eq!(
        answers[2].body, answers[0].body,
        "a sign-in past the quota answers alike"
    );
    let to_victim = h
        .mails()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == victim))
        .count();
    assert_eq!(to_victim, 5, "three sign-in links and two confirmations, then nothing");
    assert!(
        mails_to(&h, victim, CONFIRM_SUBJECT).len() == 2,
        "the third and fourth subscriptions mailed nothing"
    );
    // Someone else still subscribes.
    post(
        &h,
        "/subscriptions",
        &[("email", "other@example.com"), ("environment", "PROD")],
    )
    .await?;
    assert_eq!(mails_to(&h, "other@example.com", CONFIRM_SUBJECT).len(), 1);
    Ok(())
}
