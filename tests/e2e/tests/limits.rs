//! AWS limits the local stack does not enforce by itself (issue 17, item 7): each one checked
//! here, statically on `template.yaml` or through the runner against the real adapters.

use std::path::Path;

use anyhow::Result;
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
