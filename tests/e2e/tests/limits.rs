//! AWS limits the local stack does not enforce by itself (issue 17, item 7): each one checked
//! here, statically on `template.yaml` or through the runner against the real adapters.

use std::path::Path;

use anyhow::{Context, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use baton_e2e::access::client;
use baton_e2e::{Harness, config_with};
use reqwest::header::COOKIE;
use serde_yaml::Value;

/// API Gateway HTTP APIs give up on an integration after 30 seconds and that quota cannot be
/// raised ("Integration timeout: 30 seconds", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html;
/// only REST APIs may ask for more). A function behind the HTTP API allowed to run longer
/// would keep working, and billing, after its caller has been told 503.
const HTTP_API_INTEGRATION_TIMEOUT_SECONDS: u64 = 30;

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// The function's own setting, else the template's `Globals.Function` one.
fn setting<'a>(t: &'a Value, function: &'a Value, key: &str) -> Option<&'a Value> {
    function
        .get("Properties")
        .and_then(|p| p.get(key))
        .or_else(|| t.get("Globals")?.get("Function")?.get(key))
}

fn http_api_functions(t: &Value) -> Vec<(String, &Value)> {
    t.get("Resources")
        .and_then(Value::as_mapping)
        .expect("template.yaml has Resources")
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function"))
        .filter(|(_, r)| {
            r.get("Properties")
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping)
                .is_some_and(|events| {
                    events
                        .values()
                        .any(|e| e.get("Type").and_then(Value::as_str) == Some("HttpApi"))
                })
        })
        .map(|(id, r)| (id.as_str().unwrap_or_default().to_string(), r))
        .collect()
}

#[test]
fn every_function_behind_the_http_api_times_out_before_api_gateway_does() {
    let t = template();
    let functions = http_api_functions(&t);
    assert!(
        functions.len() >= 2,
        "the approve and status functions serve the HTTP API; found {:?}",
        functions.iter().map(|(id, _)| id).collect::<Vec<_>>()
    );
    let mut problems = Vec::new();
    for (id, function) in &functions {
        // Lambda's default timeout, when none is set, is 3 seconds.
        let seconds = setting(&t, function, "Timeout").map_or(Some(3), Value::as_u64);
        match seconds {
            Some(seconds) if seconds < HTTP_API_INTEGRATION_TIMEOUT_SECONDS => {}
            Some(seconds) => problems.push(format!(
                "{id}: Timeout {seconds} s, but the HTTP API answers 503 after \
                 {HTTP_API_INTEGRATION_TIMEOUT_SECONDS} s; set Timeout below it"
            )),
            None => problems.push(format!("{id}: Timeout must be a whole number of seconds")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A stack whose pages need a signed-in viewer, so a cookie that goes unread shows as a 401.
fn listed_stack() -> baton_local::StackOptions {
    config_with(|text| text.replace("  viewers: public ", "  viewers: [\"@example-health.org\"] "))
}

async fn get(h: &Harness, path: &str, cookie: Option<&str>) -> Result<(u16, String)> {
    let mut request = client().get(format!("{}{path}", h.stack.http_url));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let answer = request.send().await?;
    Ok((answer.status().as_u16(), answer.text().await?))
}

/// API Gateway v2 takes the `Cookie` header apart into the event's `cookies` array (payload
/// format 2.0, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html),
/// and joins a repeated query parameter with commas (`rawQueryString` keeps both). The runner
/// does the same, so a handler that read the header, or took a joined value for one, fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cookies_and_repeated_query_parameters_reach_handlers_as_on_api_gateway() -> Result<()> {
    let h = Harness::start_with(listed_stack()).await?;
    let nurse = h.sign_in("nurse@example-health.org").await?;

    // The session among other cookies, as a browser sends them: one header, several cookies.
    let jar = format!("theme=dark; {nurse}; _ga=GA1.2.3");
    let (status, page) = get(&h, "/", Some(&jar)).await?;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("nurse@example-health.org"), "{page}");
    // Two Cookie headers (HTTP/2 clients split them) are one array too.
    let mut request = client().get(format!("{}/api/status", h.stack.http_url));
    request = request.header(COOKIE, "theme=dark").header(COOKIE, nurse.as_str());
    assert_eq!(request.send().await?.status(), 200);
    assert_eq!(get(&h, "/", None).await?.0, 401, "no cookie, no page");
    assert_eq!(get(&h, "/", Some("theme=dark")).await?.0, 401);

    // A number given twice is no number: a 400 naming the parameter, not the first or the last.
    let (status, body) = get(&h, "/api/releases?limit=1&limit=50", Some(&nurse)).await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("limit"), "{body}");
    // Search terms given twice are the terms of one comma-separated query.
    let (status, twice) = get(&h, "/api/search?q=patient&q=1.0.0", Some(&nurse)).await?;
    assert_eq!(status, 200, "{twice}");
    let (status, joined) = get(&h, "/api/search?q=patient%2C1.0.0", Some(&nurse)).await?;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&twice)?,
        serde_json::from_str::<serde_json::Value>(&joined)?
    );
    Ok(())
}

/// Every item in the table, raw (tests may scan; Baton itself never does).
async fn every_item(h: &Harness) -> Result<Vec<baton_e2e::Item>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = h
            .dynamodb
            .scan()
            .table_name(&h.table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(items),
        }
    }
}

/// DynamoDB's TTL deletes an item once its TTL attribute, a Number of epoch seconds, is past,
/// and silently ignores any other type (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html;
/// UpdateTimeToLive: "the epoch time format is the number of seconds elapsed since ...").
/// So an item type that writes a date string there is never cleaned up, and one that writes
/// milliseconds is kept for ever too. moto keeps every item whatever it holds: this reads them raw.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_ttl_attribute_written_is_a_number_of_epoch_seconds() -> Result<()> {
    let h = Harness::start_with(listed_stack()).await?;
    let ttl = h
        .dynamodb
        .describe_time_to_live()
        .table_name(&h.table)
        .send()
        .await?
        .time_to_live_description
        .and_then(|d| d.attribute_name)
        .context("the table has a TTL attribute (template.yaml TimeToLiveSpecification)")?;

    // Every item type that may carry one: a release asking for sign-off (approval, personal
    // link tokens), a viewer's sign-in link and session, an API token, a subscription waiting
    // for its confirmation.
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    let nurse = h.sign_in("nurse@example-health.org").await?;
    h.api_token(&nurse, "CI").await?;
    let subscribed = client()
        .post(format!("{}/subscriptions", h.stack.http_url))
        .form(&[("email", "ward@example-health.org"), ("environment", "PROD")])
        .send()
        .await?;
    assert_eq!(subscribed.status(), 200);

    let now = chrono::Utc::now().timestamp();
    let items = every_item(&h).await?;
    let mut carrying = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for item in &items {
        let Some(value) = item.get(&ttl) else { continue };
        let entity = baton_e2e::text(item, "entity");
        let key = format!("{} / {}", baton_e2e::text(item, "pk"), baton_e2e::text(item, "sk"));
        carrying.insert(entity.clone());
        match value {
            AttributeValue::N(n) => match n.parse::<i64>() {
                // Seconds, within a few years of now: not milliseconds, not a date's digits.
                Ok(seconds) if (now - 86_400..now + 5 * 366 * 86_400).contains(&seconds) => {}
                _ => problems.push(format!("{entity} ({key}): {ttl} = {n} is not epoch seconds near now")),
            },
            other => problems.push(format!(
                "{entity} ({key}): {ttl} is {other:?}; DynamoDB's TTL ignores anything but a Number of epoch seconds"
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    println!("item types carrying {ttl}: {carrying:?}");
    for entity in ["sign-in", "subscription"] {
        assert!(
            carrying.contains(entity),
            "no {entity} item carries {ttl}: {carrying:?}"
        );
    }
    // An approval is the record of a decision: kept, its deadline out of the TTL attribute.
    let approvals: Vec<_> = items
        .iter()
        .filter(|i| baton_e2e::text(i, "entity") == "approval")
        .collect();
    assert!(!approvals.is_empty(), "the release asked for sign-off");
    for approval in approvals {
        assert!(
            approval.get(&ttl).is_none() && approval.contains_key("valid_until"),
            "{approval:?}"
        );
    }
    Ok(())
}

/// The approvals of `environment` waiting for a decision (scanned: consistent, unlike the index).
async fn approvals_in(h: &Harness, environment: &str) -> Result<Vec<baton_e2e::Item>> {
    Ok(h.entities("approval")
        .await?
        .into_iter()
        .filter(|a| baton_e2e::text(a, "environment") == environment)
        .collect())
}

/// Invokes `notify` as the state machine does (Lambda's Invoke API on the runner): the
/// errorType if it failed.
async fn notify(h: &Harness, approval: &baton_e2e::Item) -> Result<Option<String>> {
    let name = h.stack.resource_name("NotifyFunction")?;
    let url = format!("{}/2015-03-31/functions/{name}/invocations", h.stack.aws_endpoint);
    let payload = serde_json::json!({
        "releaseId": baton_e2e::text(approval, "release_id"),
        "environment": baton_e2e::text(approval, "environment"),
        "taskToken": baton_e2e::text(approval, "task_token"),
    });
    let answer = reqwest::Client::new().post(url).json(&payload).send().await?;
    let failed = answer.headers().contains_key("x-amz-function-error");
    let body: serde_json::Value = answer.json().await?;
    Ok(failed.then(|| body["errorType"].as_str().unwrap_or_default().to_string()))
}

/// Two releases asking for sign-off in one environment within the time a global secondary
/// index takes to show a write (DynamoDB, "all reads from GSIs are eventually consistent",
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html):
/// the newer must supersede the older though neither can see the other in the index; and
/// notify delivered again, twice, concurrently and out of order, changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_releases_racing_for_sign_off_leave_exactly_the_newer_pending() -> Result<()> {
    let h = Harness::start().await?;
    // Longer than the whole test: no index read sees an approval written during it.
    h.stack.aws_faults.index_lag.set(std::time::Duration::from_secs(600));

    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    h.upload(
        "packages/web/1.1.0/site.zip",
        baton_e2e::sample_site("1.1.0"),
        &[("commit", "c0ffee1")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, std::time::Duration::from_secs(90)).await?;
    h.approval_links(2, "TEST").await?;

    let pending = |approvals: &[baton_e2e::Item]| -> Vec<u64> {
        let mut numbers: Vec<u64> = approvals
            .iter()
            .filter(|a| baton_e2e::text(a, "status") == "pending")
            .map(|a| baton_e2e::number(a, "number"))
            .collect();
        numbers.sort();
        numbers
    };
    let approvals = approvals_in(&h, "TEST").await?;
    assert_eq!(approvals.len(), 2, "{approvals:?}");
    assert_eq!(
        pending(&approvals),
        vec![2],
        "only the newer release may wait for sign-off"
    );
    let older = approvals
        .iter()
        .find(|a| baton_e2e::number(a, "number") == 1)
        .context("release 1's approval")?;
    assert_eq!(baton_e2e::text(older, "status"), "superseded");
    assert_eq!(baton_e2e::text(older, "superseded_by"), "rel-2");

    // At least once, out of order, at the same time: each notify again, twice, newer first.
    let newer = approvals
        .iter()
        .find(|a| baton_e2e::number(a, "number") == 2)
        .context("release 2's approval")?;
    let (a, b, c, d) = tokio::join!(
        notify(&h, newer),
        notify(&h, older),
        notify(&h, newer),
        notify(&h, older)
    );
    for answer in [a?, c?] {
        assert_eq!(answer, None, "the newer release's request stands");
    }
    for answer in [b?, d?] {
        assert!(
            answer.is_none() || answer.as_deref() == Some("Baton.Superseded"),
            "{answer:?}"
        );
    }
    let approvals = approvals_in(&h, "TEST").await?;
    assert_eq!(approvals.len(), 2);
    assert_eq!(pending(&approvals), vec![2]);
    let mails = h.wait_for_mails("Approve release 2 for TEST?", 1).await?;
    assert_eq!(mails.len(), 1, "one approval mail for the newer release: {mails:?}");
    Ok(())
}
