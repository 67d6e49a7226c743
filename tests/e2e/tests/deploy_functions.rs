//! deploy-pages and deploy-cloudhub end to end, invoked through the runner's Lambda Invoke
//! API as Step Functions invokes them, against the Cloudflare and Anypoint simulators.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use baton_e2e::{Harness, sample_manifest, sample_site};
use serde_json::{Value, json};

/// Makes `release` the holder of TEST's lease, as the state machine's AcquireLease step would
/// before a deployment: its fence. A release that holds it already keeps its fence, as one
/// execution's steps all carry the fence it acquired (a deployment is identified by it).
async fn hold_lease(h: &Harness, release: &str) -> Result<u64> {
    let until = chrono::Utc::now().timestamp() + 3_600;
    let held = h
        .dynamodb
        .get_item()
        .table_name(&h.table)
        .key("pk", AttributeValue::S("LEASE#TEST".into()))
        .key("sk", AttributeValue::S("LEASE".into()))
        .send()
        .await?
        .item
        .filter(|lease| lease.get("holder") == Some(&AttributeValue::S(release.into())));
    if let Some(Some(AttributeValue::N(fence))) = held.as_ref().map(|lease| lease.get("fence")) {
        return Ok(fence.parse()?);
    }
    let out = h
        .dynamodb
        .update_item()
        .table_name(&h.table)
        .key("pk", AttributeValue::S("LEASE#TEST".into()))
        .key("sk", AttributeValue::S("LEASE".into()))
        .update_expression("SET holder = :h, #u = :u, entity = :e ADD fence :one")
        .expression_attribute_names("#u", "until")
        .expression_attribute_values(":h", AttributeValue::S(release.into()))
        .expression_attribute_values(":u", AttributeValue::N(until.to_string()))
        .expression_attribute_values(":e", AttributeValue::S("lease".into()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
        .send()
        .await?;
    match out.attributes.as_ref().and_then(|a| a.get("fence")) {
        Some(AttributeValue::N(n)) => Ok(n.parse()?),
        other => bail!("no fence on the lease: {other:?}"),
    }
}

/// Invokes a function by its template logical id: (errorType if it failed, payload). A step
/// that changes the environment carries the lease's fence, as the state machine passes it.
async fn invoke(h: &Harness, logical_id: &str, mut payload: Value) -> Result<(Option<String>, Value)> {
    let changes = ["deploy", "rollback", "start", "poll", "poll-rollback"];
    if changes.contains(&payload["action"].as_str().unwrap_or_default()) {
        let release = payload["releaseId"].as_str().unwrap_or_default().to_string();
        payload["fence"] = json!(hold_lease(h, &release).await?);
    }
    let name = h.stack.resource_name(logical_id)?;
    let url = format!("{}/2015-03-31/functions/{name}/invocations", h.stack.aws_endpoint);
    let answer = reqwest::Client::new().post(url).json(&payload).send().await?;
    let failed = answer.headers().contains_key("x-amz-function-error");
    let body: Value = answer.json().await?;
    Ok((
        failed.then(|| body["errorType"].as_str().unwrap_or_default().to_string()),
        body,
    ))
}

fn request(action: &str, release: &str, component: &str) -> Value {
    json!({ "action": action, "releaseId": release, "environment": "TEST", "component": component })
}

async fn admin(h: &Harness, fault: Value) -> Result<()> {
    let url = format!("{}/__admin/faults", h.stack.cloudflare.base_url());
    let answer = reqwest::Client::new().post(url).json(&fault).send().await?;
    if !answer.status().is_success() {
        bail!("fault refused: {}", answer.text().await?);
    }
    Ok(())
}

/// Fetches a page of a deployed site through the simulator's path-based fallback.
async fn site(h: &Harness, url: &str, path: &str) -> Result<(u16, String)> {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let answer = reqwest::get(format!("{}/__sites/{host}{path}", h.stack.cloudflare.base_url())).await?;
    Ok((answer.status().as_u16(), answer.text().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_pages_puts_the_site_live_once_and_a_retry_returns_the_same_deployment() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let (error, first) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-1", "web")).await?;
    assert_eq!(error, None, "{first}");
    assert_eq!(first["status"], "succeeded");
    let detail = &first["detail"];
    assert_eq!(detail["platform"], "pages");
    assert_eq!(detail["environment"], "preview", "TEST deploys to the preview branch");
    let url = detail["url"].as_str().unwrap_or_default().to_string();
    let (status, index) = site(&h, &url, "/").await?;
    assert_eq!(status, 200);
    assert!(index.contains("Patient Portal"), "{index}");

    let (error, again) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-1", "web")).await?;
    assert_eq!(error, None);
    assert_eq!(
        again["detail"]["deployment_id"], detail["deployment_id"],
        "the recorded deployment is returned"
    );
    assert_eq!(h.pages_deployments().len(), 1, "no second deployment");
    let deployments = h.pages_deployments();
    let commit_message = deployments[0]["id"].as_str().unwrap_or_default();
    assert!(!commit_message.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_failure_mid_deploy_does_not_create_a_second_deployment() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    // The deployment is created, then every status read fails: the function gives up transiently.
    admin(
        &h,
        json!({"kind": "http_error", "status": 503, "count": 40, "method": "GET", "path_contains": "/deployments/"}),
    )
    .await?;
    let (error, body) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-1", "web")).await?;
    assert_eq!(error.as_deref(), Some("Baton.Transient"), "{body}");
    assert_eq!(
        h.pages_deployments().len(),
        1,
        "the deployment was created before the failure"
    );
    reqwest::Client::new()
        .delete(format!("{}/__admin/faults", h.stack.cloudflare.base_url()))
        .send()
        .await?;
    // Step Functions retries: the marker in the commit message finds the same deployment.
    let (error, body) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-1", "web")).await?;
    assert_eq!(error, None, "{body}");
    assert_eq!(h.pages_deployments().len(), 1, "still one deployment");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_pages_reports_typed_errors() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let (error, body) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-9", "web")).await?;
    assert_eq!(error.as_deref(), Some("Baton.Invalid"), "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("rel-9 does not exist"),
        "{body}"
    );
    let (error, body) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-1", "state")).await?;
    assert_eq!(error.as_deref(), Some("Baton.Invalid"), "{body}");
    admin(
        &h,
        json!({"kind": "fail_deployment", "log_lines": ["Error: Failed to publish your site: disk on fire"]}),
    )
    .await?;
    let (error, body) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-1", "web")).await?;
    assert_eq!(error.as_deref(), Some("Baton.DeployFailed"), "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("disk on fire"),
        "the logs reach the error: {body}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_restores_the_environments_previous_site() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    h.decide(&links[0].1, "approve", "").await?;
    h.wait_for_mails("Approve release 1 for PROD?", 2).await?;
    h.upload(
        "packages/web/1.1.0/site.zip",
        sample_site("1.1.0"),
        &[("commit", "bb22cc3")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, Duration::from_secs(90)).await?;
    let (error, deployed) = invoke(&h, "DeployPagesFunction", request("deploy", "rel-2", "web")).await?;
    assert_eq!(error, None, "{deployed}");
    let (_, page) = site(&h, "test.baton-demo.localhost", "/").await?;
    assert!(page.contains("1.1.0"), "the branch alias serves release 2: {page}");
    let (error, rolled) = invoke(&h, "DeployPagesFunction", request("rollback", "rel-2", "web")).await?;
    assert_eq!(error, None, "{rolled}");
    assert_eq!(rolled["status"], "rolled-back");
    let (_, page) = site(&h, "test.baton-demo.localhost", "/").await?;
    assert!(
        page.contains("Patient Portal") && !page.contains("1.1.0"),
        "TEST serves release 1's site again: {page}"
    );
    Ok(())
}

async fn poll_cloudhub(h: &Harness, release: &str) -> Result<(Option<String>, Value)> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (error, body) = invoke(h, "DeployCloudHubFunction", request("poll", release, "state")).await?;
        if error.is_some() || body["done"] == true || Instant::now() > deadline {
            return Ok((error, body));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_cloudhub_plans_starts_and_polls_to_applied_idempotently() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let (error, plan) = invoke(&h, "DeployCloudHubFunction", request("plan", "rel-1", "state")).await?;
    assert_eq!(error, None, "{plan}");
    assert_eq!(plan["plan"]["patient-api"], "create at 1.4.2");
    assert_eq!(plan["plan"]["admissions-api"], "create at 2.1.0");
    assert!(h.cloudhub_deployments("Sandbox").is_empty(), "plan changes nothing");

    let (error, started) = invoke(&h, "DeployCloudHubFunction", request("start", "rel-1", "state")).await?;
    assert_eq!(error, None, "{started}");
    assert_eq!(started["done"], false, "two applications are being created: {started}");
    let (error, done) = poll_cloudhub(&h, "rel-1").await?;
    assert_eq!(error, None, "{done}");
    assert_eq!(done["done"], true);
    let apps = h.cloudhub_deployments("Sandbox");
    assert_eq!(apps.len(), 2);
    assert!(
        apps.iter()
            .all(|a| a["status"] == "APPLIED" && a["application"]["status"] == "RUNNING"),
        "{apps:?}"
    );
    // The secure property reached CloudHub from Secrets Manager, not from the manifest.
    let patient = apps
        .iter()
        .find(|a| a["name"] == "patient-api")
        .cloned()
        .unwrap_or_default();
    let secure =
        &patient["application"]["configuration"]["mule.agent.application.properties.service"]["secureProperties"];
    assert!(secure.get("db.password").is_some(), "{patient}");

    // Everything again: nothing new happens.
    let (error, again) = invoke(&h, "DeployCloudHubFunction", request("start", "rel-1", "state")).await?;
    assert_eq!(error, None);
    assert_eq!(again["done"], true, "{again}");
    assert_eq!(h.cloudhub_deployments("Sandbox").len(), 2);
    let (_, plan) = invoke(&h, "DeployCloudHubFunction", request("plan", "rel-1", "state")).await?;
    assert_eq!(plan["plan"]["patient-api"], "unchanged at 1.4.2", "{plan}");

    // A new release whose manifest asks for what already runs: done at start, so the workflow
    // does not wait for a first poll.
    h.drained().await?;
    let releases = h.releases().await?.len() as u64;
    h.upload(
        "packages/state/1.0.1/manifest.yaml",
        sample_manifest("1.4.2"),
        &[("commit", "ee55ff6")],
    )
    .await?;
    let newest = baton_local::demo::wait_for_release(&h.stack, releases + 1, Duration::from_secs(90)).await?;
    let id = newest.id.to_string();
    let (error, unchanged) = invoke(&h, "DeployCloudHubFunction", request("start", &id, "state")).await?;
    assert_eq!(error, None, "{unchanged}");
    assert_eq!(unchanged["done"], true, "nothing to change: {unchanged}");
    assert_eq!(unchanged["deployment"]["status"], "succeeded", "{unchanged}");
    assert_eq!(h.cloudhub_deployments("Sandbox").len(), 2, "no new CloudHub deployment");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_missing_from_exchange_is_refused_before_anything_changes() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let manifest = String::from_utf8(sample_manifest("9.9.9"))?.replace("version: 2.1.0", "version: 7.0.0");
    h.upload(
        "packages/state/2.0.0/manifest.yaml",
        manifest.into_bytes(),
        &[("commit", "dd44ee5")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, Duration::from_secs(90)).await?;
    let (error, body) = invoke(&h, "DeployCloudHubFunction", request("start", "rel-2", "state")).await?;
    assert_eq!(error.as_deref(), Some("Baton.Invalid"), "{body}");
    let message = body["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("patient-api:9.9.9") && message.contains("admissions-api:7.0.0"),
        "every missing asset is named: {message}"
    );
    assert!(message.contains("nothing was deployed"), "{message}");
    assert!(h.cloudhub_deployments("Sandbox").is_empty(), "nothing changed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_that_fails_to_deploy_is_reported_with_the_application_and_reason() -> Result<()> {
    let h = Harness::start().await?;
    h.stack.anypoint.state().mark_failing(
        None,
        "admissions-api",
        "2.1.0",
        Some("CrashLoopBackoff: port 8081 in use".into()),
    );
    h.release_samples("1.0.0", 1).await?;
    let (error, _) = invoke(&h, "DeployCloudHubFunction", request("start", "rel-1", "state")).await?;
    assert_eq!(error, None);
    let (error, body) = poll_cloudhub(&h, "rel-1").await?;
    assert_eq!(error.as_deref(), Some("Baton.DeployFailed"), "{body}");
    let message = body["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("admissions-api"), "{message}");
    assert!(message.contains("CrashLoopBackoff"), "{message}");
    Ok(())
}
