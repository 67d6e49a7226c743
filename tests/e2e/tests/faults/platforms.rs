//! The fault battery's platform cases: Cloudflare and Anypoint answering 429 and 5xx storms, and
//! refusing the stored token. A short storm is ridden out (the client's own retries, then Step
//! Functions' on `Baton.Transient`): the release goes live. A storm longer than every retry ends
//! the release rolled back, failed or blocked (when the check just before deploying meets the
//! fault), the reason on its page, no lease left. A refused token is read again from Secrets
//! Manager once: rotated there, the release goes live; not rotated, it ends saying "the stored
//! token was refused", naming the secret.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use baton_e2e::Harness;
use baton_sim_anypoint::FaultSpec as AnypointFault;
use serde_json::json;

use super::Outcome;

/// Long enough for a storm to outlast every retry (Step Functions alone waits 2+4+8+16+32 s).
const STORM: Duration = Duration::from_secs(240);
/// Long enough for a release to go live in TEST after its approval.
const LIVE: Duration = Duration::from_secs(150);

/// The Cloudflare API calls of one project (listing, creating, reading deployments; upload token).
const PAGES_PROJECT: &str = "/pages/projects/baton-demo";
/// CloudHub's Application Manager (the deployments API), not the token or Exchange.
const AMC: &str = "/amc/application-manager";

/// Starts a stack and makes release 1, waiting for TEST's approval (pre-flight passed).
async fn awaiting_test() -> Result<Harness> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    Ok(h)
}

/// Approves TEST and waits until the release is live there (PROD's approval is asked).
async fn approve_and_go_live(h: &Harness) -> Result<()> {
    h.approve_from_mail(1, "TEST", "looks good").await?;
    let deadline = Instant::now() + LIVE;
    while h
        .mails()
        .iter()
        .filter(|m| m.subject.contains("Approve release 1 for PROD?"))
        .count()
        < 2
    {
        if Instant::now() > deadline {
            bail!(
                "release 1 did not go live in TEST within {} s: {}",
                LIVE.as_secs(),
                story(h).await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let live = h.environment("TEST").await?.current;
    if live.as_ref().map(|l| l.release_id.as_str()) != Some("rel-1") {
        bail!("TEST does not record release 1 as live");
    }
    Ok(())
}

/// The release's status, in the words the page uses (`rolled-back`, ...).
async fn status(h: &Harness) -> String {
    match h.release(1).await {
        Ok(release) => serde_json::to_value(release.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The release's timeline, for a failure message.
async fn story(h: &Harness) -> String {
    let events = h.events(1).await.unwrap_or_default();
    let lines: Vec<String> = events.iter().map(|e| format!("{}: {}", e.kind, e.detail)).collect();
    format!("status '{}'; events: {lines:#?}", status(h).await)
}

/// Waits until release 1 has ended without going live (rolled back, failed, or blocked when the
/// check just before deploying found the platform refusing), and its lease is given back.
async fn ended_badly(h: &Harness) -> Result<String> {
    let deadline = Instant::now() + STORM;
    loop {
        let now = status(h).await;
        if ["rolled-back", "failed", "blocked"].contains(&now.as_str()) {
            let held = h
                .entities("lease")
                .await?
                .iter()
                .any(|l| !baton_e2e::text(l, "holder").is_empty());
            if !held {
                return Ok(now);
            }
        }
        if Instant::now() > deadline {
            bail!("release 1 did not end within {} s: {}", STORM.as_secs(), story(h).await);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Release 1's page, which must explain the end in words: each of `words` is on it.
async fn page_says(h: &Harness, words: &[&str]) -> Result<()> {
    let page = h.get("/releases/rel-1").await?;
    for word in words {
        if !page.body.contains(word) {
            bail!("the page of release 1 does not say '{word}': {}", story(h).await);
        }
    }
    Ok(())
}

/// Requests the Cloudflare simulator answered with an injected error: `count` asked, less what
/// is left of the pending faults.
fn cloudflare_injected(h: &Harness, count: u64) -> u64 {
    let left: u64 = h.stack.cloudflare.state().snapshot()["faults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["spec"]["count"].as_u64())
        .sum();
    count.saturating_sub(left)
}

/// The same for the Anypoint simulator.
fn anypoint_injected(h: &Harness, count: u64) -> u64 {
    let left: u64 = h.stack.anypoint.state().snapshot()["pending_faults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["count"].as_u64())
        .sum();
    count.saturating_sub(left)
}

/// Queues a Cloudflare fault, given as `POST /__admin/faults` takes it (see the simulator's README).
fn cloudflare_fault(h: &Harness, fault: serde_json::Value) -> Result<()> {
    h.stack
        .cloudflare
        .state()
        .add_fault(serde_json::from_value(fault)?)
        .map_err(anyhow::Error::msg)?;
    Ok(())
}

/// Writes a new value into a secret, as an operator rotating it would.
async fn rotate_secret(h: &Harness, name: &str, value: &str) -> Result<()> {
    aws_sdk_secretsmanager::Client::new(&h.stack.sdk)
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await?;
    Ok(())
}

/// Six 429s (`Retry-After: 1`) on the project's calls: more than one invocation's own attempts
/// (4), so Step Functions retries too; the release goes live.
pub async fn cloudflare_429_storm() -> Result<Outcome> {
    const COUNT: u32 = 6;
    let h = awaiting_test().await?;
    cloudflare_fault(
        &h,
        json!({"kind": "http_error", "status": 429, "retry_after": 1, "count": COUNT, "path_contains": PAGES_PROJECT}),
    )?;
    approve_and_go_live(&h).await?;
    let faults = cloudflare_injected(&h, u64::from(COUNT));
    if faults != u64::from(COUNT) {
        bail!("only {faults} of the {COUNT} 429s were met");
    }
    Ok(Outcome {
        faults,
        expected_releases: 1,
        harness: h,
    })
}

/// Cloudflare answers every project call 503 (its HTML error page) for longer than every retry:
/// the release is rolled back (or failed), its page saying Cloudflare was unavailable.
pub async fn cloudflare_5xx_storm() -> Result<Outcome> {
    const COUNT: u32 = 100_000;
    let h = awaiting_test().await?;
    cloudflare_fault(
        &h,
        json!({"kind": "http_error", "status": 503, "count": COUNT, "path_contains": PAGES_PROJECT}),
    )?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    ended_badly(&h).await?;
    let faults = cloudflare_injected(&h, u64::from(COUNT));
    h.stack.cloudflare.state().clear_faults();
    page_says(&h, &["Cloudflare", "503"]).await?;
    if h.pages_deployments().iter().any(|d| d["environment"] == "preview") {
        bail!("a Pages deployment was made through the storm");
    }
    Ok(Outcome {
        faults,
        expected_releases: 1,
        harness: h,
    })
}

/// Six 429s (`Retry-After: 1`) from the deployments API: more than one invocation's own attempts
/// (4), so Step Functions retries too; the release goes live.
pub async fn anypoint_429_storm() -> Result<Outcome> {
    const COUNT: u32 = 6;
    let h = awaiting_test().await?;
    let fault = AnypointFault::new(429, COUNT).on_path(AMC).with_retry_after(1);
    h.stack.anypoint.state().inject_fault(fault);
    approve_and_go_live(&h).await?;
    let faults = anypoint_injected(&h, u64::from(COUNT));
    if faults != u64::from(COUNT) {
        bail!("only {faults} of the {COUNT} 429s were met");
    }
    Ok(Outcome {
        faults,
        expected_releases: 1,
        harness: h,
    })
}

/// The deployments API answers 502 for longer than every retry: the release is rolled back (or
/// failed), its page saying what Anypoint answered.
pub async fn anypoint_5xx_storm() -> Result<Outcome> {
    const COUNT: u32 = 100_000;
    let h = awaiting_test().await?;
    h.stack
        .anypoint
        .state()
        .inject_fault(AnypointFault::new(502, COUNT).on_path(AMC));
    h.approve_from_mail(1, "TEST", "looks good").await?;
    ended_badly(&h).await?;
    let faults = anypoint_injected(&h, u64::from(COUNT));
    h.stack.anypoint.state().clear_faults();
    page_says(&h, &["Anypoint", "502"]).await?;
    if !h.cloudhub_deployments("Sandbox").is_empty() {
        bail!("an application was deployed through the storm");
    }
    Ok(Outcome {
        faults,
        expected_releases: 1,
        harness: h,
    })
}

/// Both platforms' credentials are rotated after pre-flight read (and cached) them, and the
/// operator puts the new values into Secrets Manager: each refusal makes Baton read the secret
/// again, and the release goes live.
pub async fn rotated_token_is_refreshed() -> Result<Outcome> {
    let h = awaiting_test().await?;
    let pages_token = "rotated-cloudflare-token";
    h.stack
        .cloudflare
        .state()
        .rotate_token(pages_token, 403)
        .map_err(anyhow::Error::msg)?;
    rotate_secret(&h, "baton/cloudflare-api-token", pages_token).await?;
    let anypoint_secret = "rotated-anypoint-secret";
    h.stack
        .anypoint
        .state()
        .rotate_credentials(None, anypoint_secret, 401)
        .map_err(anyhow::Error::msg)?;
    let credentials = serde_json::json!({
        "client_id": baton_sim_anypoint::DEFAULT_CLIENT_ID,
        "client_secret": anypoint_secret,
    });
    rotate_secret(&h, "baton/anypoint-connected-app", &credentials.to_string()).await?;
    approve_and_go_live(&h).await?;
    Ok(Outcome {
        faults: 2,
        expected_releases: 1,
        harness: h,
    })
}

/// Cloudflare's token is rotated but the secret is not: read again, it is refused again, and the
/// release ends blocked (the check before deploying meets it first) or rolled back, its page saying the stored token was refused, naming
/// the secret and what to do.
pub async fn refused_token_fails_clearly() -> Result<Outcome> {
    let h = awaiting_test().await?;
    h.stack
        .cloudflare
        .state()
        .rotate_token("a-token-baton-was-never-given", 401)
        .map_err(anyhow::Error::msg)?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    ended_badly(&h).await?;
    page_says(
        &h,
        &[
            "the stored token was refused",
            "baton/cloudflare-api-token",
            "Rotate or fix the secret",
        ],
    )
    .await?;
    if h.pages_deployments().iter().any(|d| d["environment"] == "preview") {
        bail!("a Pages deployment was made with a refused token");
    }
    Ok(Outcome {
        faults: 1,
        expected_releases: 1,
        harness: h,
    })
}
