//! Webhooks (issue 16, item 5): release timeline events reach each configured hook through the
//! table's stream, the announce function and the webhooks queue, signed (HMAC-SHA256 over the
//! timestamp and body), in the hook's format, retried with backoff; the local receiver checks
//! every signature and refuses forgeries; the admin JSON shows each try.

use std::time::Duration;

use anyhow::{Result, bail};
use baton_domain::webhook::{signature_header, verify};
use baton_e2e::Harness;
use baton_local::webhook_receiver::Arrival;
use serde_json::Value;

const LONG: Duration = Duration::from_secs(90);

/// Waits until the receiver holds an arrival `wanted` accepts; all arrivals then.
async fn wait_for(h: &Harness, what: &str, wanted: impl Fn(&[Arrival]) -> bool) -> Result<Vec<Arrival>> {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let arrivals = h.stack.webhooks.arrivals();
        if wanted(&arrivals) {
            return Ok(arrivals);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("no {what} within {LONG:?}; the receiver got {arrivals:#?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn of<'a>(arrivals: &'a [Arrival], hook: &str, event: &str) -> Vec<&'a Arrival> {
    arrivals
        .iter()
        .filter(|a| a.hook == hook && a.event.as_deref() == Some(event))
        .collect()
}

fn delivered(arrivals: &[Arrival], hook: &str, event: &str) -> bool {
    of(arrivals, hook, event).iter().any(|a| a.answered == 200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_announced_signed_to_every_hook_in_its_format() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let arrivals = wait_for(&h, "release.created and approval.requested everywhere", |a| {
        delivered(a, "baton-json", "release.created")
            && delivered(a, "baton-json", "approval.requested")
            && delivered(a, "slack", "release.created")
            && delivered(a, "teams", "release.created")
    })
    .await?;
    // Every request the receiver got carried a signature it verified with the hook's secret.
    assert!(
        arrivals.iter().all(|a| a.verified && a.refused.is_none()),
        "{arrivals:#?}"
    );
    // Hooks get only the events they asked for: slack and teams did not ask for approvals.
    assert!(of(&arrivals, "slack", "approval.requested").is_empty());

    let created = of(&arrivals, "baton-json", "release.created")[0];
    let body = &created.body;
    assert_eq!(body["event"], "release.created");
    assert_eq!(
        Some(body["id"].as_str().unwrap_or_default()),
        created.delivery.as_deref()
    );
    assert_eq!(body["release"]["id"], "rel-1");
    assert_eq!(body["release"]["number"], 1);
    assert_eq!(body["release"]["url"], format!("{}/releases/rel-1", h.stack.http_url));
    assert_eq!(body["actor"], "baton");
    let requested = &of(&arrivals, "baton-json", "approval.requested")[0].body;
    assert_eq!(requested["environment"], "TEST");
    assert!(
        requested["summary"].as_str().unwrap_or_default().contains("TEST"),
        "{requested}"
    );

    // Slack: one text with a link to the release.
    let slack = &of(&arrivals, "slack", "release.created")[0].body;
    let text = slack["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!(
            "<{}/releases/rel-1|Release 1: release.created>",
            h.stack.http_url
        )),
        "{slack}"
    );
    assert_eq!(slack.as_object().map(|o| o.len()), Some(1), "{slack}");
    // Teams: a message with one Adaptive Card linking to the release.
    let teams = &of(&arrivals, "teams", "release.created")[0].body;
    assert_eq!(teams["type"], "message");
    let attachment = &teams["attachments"][0];
    assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(
        attachment["content"]["actions"][0]["url"],
        format!("{}/releases/rel-1", h.stack.http_url)
    );
    // One delivery per event and hook: no repeats.
    assert_eq!(of(&arrivals, "baton-json", "release.created").len(), 1, "{arrivals:#?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_answering_500_twice_gets_the_delivery_on_the_third_try() -> Result<()> {
    let h = Harness::start().await?;
    let client = reqwest::Client::new();
    client
        // Only release.created fails: the other events' deliveries (approval.requested comes a
        // moment later) must not use up the failures.
        .post(format!(
            "{}/_local/webhooks/baton-json/fail?times=2&event=release.created",
            h.stack.http_url
        ))
        .send()
        .await?
        .error_for_status()?;
    h.release_samples("1.0.0", 1).await?;
    let arrivals = wait_for(&h, "release.created delivered to baton-json", |a| {
        delivered(a, "baton-json", "release.created")
    })
    .await?;
    let tries = of(&arrivals, "baton-json", "release.created");
    let answers: Vec<u16> = tries.iter().map(|a| a.answered).collect();
    assert_eq!(answers, [500, 500, 200], "{tries:#?}");
    // The same delivery each time, so a receiver can drop repeats.
    assert!(tries.iter().all(|a| a.delivery == tries[0].delivery));
    // Backoff: the third try came at least base (1s) + 2x base after the first.
    assert!((tries[2].at - tries[0].at).num_milliseconds() >= 2_900, "{tries:#?}");

    // The admin JSON shows the three tries of that delivery, newest first.
    let delivery = tries[0].delivery.clone().unwrap_or_default();
    // The admin pages are for signed-in viewers, also when the rest is public.
    let refused = client.get(format!("{}/api/webhooks", h.stack.http_url)).send().await?;
    assert_eq!(refused.status(), 401);
    let cookie = h.sign_in("release-manager@example.com").await?;
    let deadline = tokio::time::Instant::now() + LONG;
    let shown = loop {
        let hooks: Value = client
            .get(format!("{}/api/webhooks", h.stack.http_url))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let hook = hooks
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == "baton-json"))
            .cloned()
            .unwrap_or_default();
        let of_delivery: Vec<Value> = hook["attempts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["delivery"] == delivery.as_str())
            .cloned()
            .collect();
        if of_delivery.len() == 3 || tokio::time::Instant::now() > deadline {
            break of_delivery;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let summary: Vec<(u64, u64, bool, bool)> = shown
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap_or_default(),
                a["status"].as_u64().unwrap_or_default(),
                a["delivered"].as_bool().unwrap_or_default(),
                a["will_retry"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [(3, 200, true, false), (2, 500, false, true), (1, 500, false, true)],
        "{shown:#?}"
    );
    // The page shows the hook without its URL's path or its secret.
    let page = client
        .get(format!("{}/admin/webhooks", h.stack.http_url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    assert!(page.contains("baton-json") && page.contains("release.created") && page.contains("HTTP 500"));
    assert!(
        !page.contains("local-webhook-secret") && !page.contains("/_local/webhooks/"),
        "{page}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_stale_or_missing_signature_is_refused_by_the_receiver() -> Result<()> {
    let h = Harness::start().await?;
    let url = format!("{}/_local/webhooks/baton-json", h.stack.http_url);
    let body = r#"{"event":"release.created","id":"forged"}"#;
    let now = chrono::Utc::now().timestamp();
    let client = reqwest::Client::new();
    let post = |signature: Option<String>| {
        let mut request = client
            .post(&url)
            .header("Baton-Event", "release.created")
            .header("Baton-Delivery", "forged")
            .body(body);
        if let Some(s) = signature {
            request = request.header("Baton-Signature", s);
        }
        request.send()
    };
    let forged = signature_header("not-the-secret", now, body.as_bytes());
    let stale = signature_header("local-webhook-secret-baton-json", now - 301, body.as_bytes());
    let tampered = signature_header("local-webhook-secret-baton-json", now, b"{}");
    for (what, signature) in [
        ("forged", Some(forged)),
        ("stale", Some(stale)),
        ("another body's", Some(tampered)),
        ("missing", None),
        ("malformed", Some("sha256=abc".to_string())),
    ] {
        let answer = post(signature).await?;
        assert_eq!(answer.status().as_u16(), 401, "{what} signature");
    }
    let good = signature_header("local-webhook-secret-baton-json", now, body.as_bytes());
    assert_eq!(
        verify("local-webhook-secret-baton-json", Some(&good), body.as_bytes(), now),
        Ok(())
    );
    assert_eq!(post(Some(good)).await?.status().as_u16(), 200);

    let arrivals = h.stack.webhooks.arrivals();
    let refused: Vec<&Arrival> = arrivals.iter().filter(|a| a.refused.is_some()).collect();
    assert_eq!(refused.len(), 5, "{arrivals:#?}");
    assert!(refused.iter().all(|a| !a.verified && a.answered == 401));
    assert!(
        refused
            .iter()
            .any(|a| a.refused.as_deref().is_some_and(|r| r.contains("replay")))
    );
    assert_eq!(arrivals.iter().filter(|a| a.verified).count(), 1);
    // The receiver's JSON shows what was refused and why.
    let listed: Value = client
        .get(format!("{}/_local/webhooks.json", h.stack.http_url))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(6));
    Ok(())
}
