//! Drift (issue 17, item 5): an environment changed outside Baton, through the platforms' own
//! APIs (the Anypoint simulator's, as a person with the Anypoint CLI would; a Pages upload not
//! made by Baton), is reported once, shown on the status page and in the feed, listed in the next
//! release's sign-off, and gone once Baton deployed again. Nothing is reported when nothing
//! changed.

use anyhow::{Context, Result, bail};
use baton_e2e::Harness;
use serde_json::{Value, json};

const SUBJECT: &str = "TEST changed outside Baton";
const SCALED: &str = "TEST: patient-api runs 3 replicas; Baton deployed 1; changed outside Baton";

/// Runs the drift check through Lambda's Invoke API, with EventBridge's scheduled event (as the
/// schedule delivers it) or an on-demand payload.
async fn check(h: &Harness, payload: Value) -> Result<Value> {
    let name = h.stack.resource_name("DriftFunction")?;
    let url = format!("{}/2015-03-31/functions/{name}/invocations", h.stack.aws_endpoint);
    let answer = reqwest::Client::new().post(url).json(&payload).send().await?;
    let failed = answer.headers().contains_key("x-amz-function-error");
    let body: Value = answer.json().await?;
    if failed {
        bail!("the drift check failed: {body}");
    }
    Ok(body)
}

fn scheduled() -> Value {
    json!({
        "version": "0", "id": "drift-1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": chrono::Utc::now().to_rfc3339(), "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/drift"], "detail": {}
    })
}

/// One environment's part of a check's answer.
fn env<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["environments"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["environment"] == name))
        .unwrap_or(&Value::Null)
}

fn words(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_string))
        .collect()
}

fn drift_mails(h: &Harness) -> usize {
    h.mails().iter().filter(|m| m.subject.contains(SUBJECT)).count()
}

/// Scales `app` in the Anypoint environment `environment` to `replicas` the way the platform's
/// API takes it: a connected app's token, then a PATCH of the deployment's target, on the
/// simulator's own URL (not through Baton's client).
async fn scale(h: &Harness, environment: &str, app: &str, replicas: u32) -> Result<()> {
    let base = h.stack.anypoint.url();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/accounts/api/v2/oauth2/token"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": "local-anypoint-client",
            "client_secret": "local-anypoint-secret",
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let bearer = format!("Bearer {}", token["access_token"].as_str().context("no access_token")?);
    let me: Value = http
        .get(format!("{base}/accounts/api/me"))
        .header("authorization", &bearer)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let org = me["client"]["org_id"].as_str().context("no org_id")?.to_string();
    let snapshot = h.stack.anypoint.state().snapshot();
    let env = snapshot["environments"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["name"] == environment))
        .context("no such Anypoint environment")?;
    let env_id = env["id"].as_str().context("no environment id")?;
    let deployment = h
        .cloudhub_deployments(environment)
        .into_iter()
        .find(|d| d["name"] == app)
        .context("no such deployment")?;
    let id = deployment["id"].as_str().context("no deployment id")?;
    let url =
        format!("{base}/amc/application-manager/api/v2/organizations/{org}/environments/{env_id}/deployments/{id}");
    http.patch(url)
        .header("authorization", &bearer)
        .json(&json!({ "target": { "replicas": replicas } }))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_outside_baton_is_reported_once_shown_planned_and_gone_after_baton_deploys() -> Result<()> {
    let h = Harness::start().await?;
    h.live_in_test("1.0.0", 1).await?;

    // Right after a normal release nothing differs (CloudHub's runtime tag included).
    let first = check(&h, scheduled()).await?;
    let test = env(&first, "TEST");
    assert_eq!(words(&test["checked"]), ["state", "web"], "{first:#}");
    assert!(words(&test["open"]).is_empty(), "a false positive: {first:#}");
    assert_eq!(test["unread"], json!({}), "{first:#}");
    assert_eq!(drift_mails(&h), 0);

    // Someone scales patient-api in Sandbox (TEST) through the platform's API.
    scale(&h, "Sandbox", "patient-api", 3).await?;

    // Checked on schedule, on demand, and twice at once: noticed and mailed once.
    let noticed = check(&h, scheduled()).await?;
    assert_eq!(words(&env(&noticed, "TEST")["new"]), [SCALED], "{noticed:#}");
    let (a, b) = tokio::join!(check(&h, json!({})), check(&h, json!({ "environment": "TEST" })));
    for again in [a?, b?] {
        let test = env(&again, "TEST");
        assert!(words(&test["new"]).is_empty(), "reported twice: {again:#}");
        assert_eq!(words(&test["open"]), [SCALED], "{again:#}");
    }
    let mails = h.wait_for_mails(SUBJECT, 1).await?;
    assert_eq!(drift_mails(&h), 1, "one mail per difference");
    assert_eq!(mails[0].to, ["release-manager@example.com"]);
    assert!(mails[0].text.contains(SCALED), "{}", mails[0].text);

    // The status page, its JSON and the feed say it in plain words.
    let page = h.get("/").await?;
    assert!(page.body.contains(SCALED), "status page: {}", page.body);
    let api = h.get("/api/status").await?;
    assert!(api.body.contains(SCALED), "api: {}", api.body);
    let feed = h.get("/feed.xml").await?;
    assert!(feed.body.contains(SCALED), "feed: {}", feed.body);
    assert!(h.get("/feed/TEST.xml").await?.body.contains(SCALED));
    assert!(
        !h.get("/feed/PROD.xml").await?.body.contains(SCALED),
        "TEST's drift in PROD's feed"
    );

    // The next release's sign-off for TEST lists it: deploying overwrites it.
    // One package, so exactly one new release: two uploads seconds apart may make two, the
    // second superseding the first's sign-off (no settle window in tests).
    h.upload(
        "packages/state/1.0.1/manifest.yaml",
        baton_e2e::sample_manifest("1.4.2"),
        &[],
    )
    .await?;
    let links = h.approval_links(2, "TEST").await?;
    let request = h.wait_for_mails("Approve release 2 for TEST?", 1).await?.remove(0);
    assert!(
        request.text.contains("outside Baton since") && request.text.contains(SCALED),
        "the sign-off mail: {}",
        request.text
    );
    let approval_page = h.open(&links[0].1).await?;
    assert!(
        approval_page.body.contains(SCALED),
        "the sign-off page: {}",
        approval_page.body
    );

    // Baton deploys again: the difference is gone, recorded as resolved, off the page.
    h.approve_from_mail(2, "TEST", "overwrite the scaling").await?;
    h.approval_links(2, "PROD").await?;
    let after = check(&h, json!({ "environment": "TEST" })).await?;
    let test = env(&after, "TEST");
    assert_eq!(words(&test["resolved"]), [SCALED], "{after:#}");
    assert!(words(&test["open"]).is_empty(), "{after:#}");
    assert!(
        !h.get("/").await?.body.contains(SCALED),
        "resolved drift still on the page"
    );
    assert_eq!(drift_mails(&h), 1);

    // A Pages deployment made outside Baton on TEST's branch is drift too.
    let token = "local-cloudflare-token";
    let pages = baton_cloudflare::PagesClient::new(
        format!("{}/client/v4", h.stack.cloudflare.base_url()),
        token,
        "023e105f4ecef8ad9ca31a8372d0c353",
    )?;
    let site = baton_cloudflare::SiteFiles::from_zip(&baton_e2e::sample_site("hand-made"))?;
    let made = pages
        .deploy(&baton_cloudflare::DeployOptions::new("baton-demo").branch("test"), site)
        .await?;
    let pages_drift = check(&h, json!({ "environment": "TEST" })).await?;
    let new = words(&env(&pages_drift, "TEST")["new"]);
    assert_eq!(new.len(), 1, "{pages_drift:#}");
    assert!(
        new[0].starts_with(&format!("TEST: web serves Pages deployment {}", &made.id[..8]))
            && new[0].ends_with("changed outside Baton"),
        "{new:?}"
    );
    h.wait_for_mails(SUBJECT, 2).await?;
    // PROD, never deployed to, has nothing to compare.
    assert!(words(&env(&pages_drift, "PROD")["open"]).is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_environment_is_refused_and_changes_nothing() -> Result<()> {
    let h = Harness::start().await?;
    let name = h.stack.resource_name("DriftFunction")?;
    let url = format!("{}/2015-03-31/functions/{name}/invocations", h.stack.aws_endpoint);
    let answer = reqwest::Client::new()
        .post(url)
        .json(&json!({ "environment": "STAGING" }))
        .send()
        .await?;
    assert!(answer.headers().contains_key("x-amz-function-error"));
    let body = answer.text().await?;
    assert!(
        body.contains("Baton.Invalid") && body.contains("'STAGING' is not configured"),
        "{body}"
    );
    assert!(h.entities("drift").await?.is_empty());
    assert_eq!(drift_mails(&h), 0);
    Ok(())
}
