//! Helpers for talking to the simulator over plain HTTP, as a team's own tooling would.

#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use baton_sim_cloudflare::{RunningSim, SimConfig};
use reqwest::multipart::Form;
use serde_json::{Value, json};

pub const PROJECT: &str = "baton-demo";

pub async fn start(configure: impl FnOnce(&mut SimConfig)) -> RunningSim {
    let mut config = SimConfig {
        step_delay: Duration::ZERO,
        ..SimConfig::default()
    };
    configure(&mut config);
    baton_sim_cloudflare::start(config, 0).await.expect("simulator starts")
}

/// An HTTP client that does not follow redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub fn token(sim: &RunningSim) -> String {
    sim.state().config().api_token.clone()
}

pub fn account_path(sim: &RunningSim) -> String {
    format!("{}/accounts/{}", sim.url(), sim.state().config().account_id)
}

pub fn project_url(sim: &RunningSim, project: &str) -> String {
    format!("{}/pages/projects/{project}", account_path(sim))
}

/// Sends a request and returns (status, JSON body or Null).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn api_get(sim: &RunningSim, url: &str) -> (u16, Value) {
    send(http().get(url).bearer_auth(token(sim))).await
}

/// A fresh upload JWT for the seeded project.
pub async fn upload_jwt(sim: &RunningSim) -> String {
    let (status, body) = api_get(sim, &format!("{}/upload-token", project_url(sim, PROJECT))).await;
    assert_eq!(status, 200, "{body}");
    body["result"]["jwt"].as_str().expect("jwt").to_string()
}

/// The JWT's claims (payload segment).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

/// Uploads (key, content, content type) assets with a JWT.
pub async fn upload(sim: &RunningSim, jwt: &str, assets: &[(&str, &str, &str)]) -> (u16, Value) {
    let body: Vec<Value> = assets
        .iter()
        .map(|(key, content, content_type)| {
            json!({ "key": key, "value": STANDARD.encode(content), "metadata": { "contentType": content_type }, "base64": true })
        })
        .collect();
    send(
        http()
            .post(format!("{}/pages/assets/upload", sim.url()))
            .bearer_auth(jwt)
            .json(&body),
    )
    .await
}

/// Creates a deployment from form fields.
pub async fn create_deployment(sim: &RunningSim, fields: &[(&str, &str)]) -> (u16, Value) {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let url = format!("{}/deployments", project_url(sim, PROJECT));
    send(http().post(url).bearer_auth(token(sim)).multipart(form)).await
}

/// Two assets uploaded, and a deployment of them created on `branch` (None: production).
pub async fn deploy_two_files(sim: &RunningSim, branch: Option<&str>) -> Value {
    let jwt = upload_jwt(sim).await;
    let (status, body) = upload(
        sim,
        &jwt,
        &[
            (INDEX_KEY, "<h1>hello</h1>", "text/html"),
            (APP_KEY, "console.log(1)", "application/javascript"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let manifest = json!({ "/index.html": INDEX_KEY, "/assets/app.js": APP_KEY }).to_string();
    let mut fields = vec![("manifest", manifest.as_str())];
    if let Some(branch) = branch {
        fields.push(("branch", branch));
    }
    let (status, body) = create_deployment(sim, &fields).await;
    assert_eq!(status, 200, "{body}");
    body["result"].clone()
}

/// The reference's keys of `<h1>hello</h1>` (html) and `console.log(1)` (js).
pub const INDEX_KEY: &str = "6c67b21e4df57e1aa96d4e44b47ebc74";
pub const APP_KEY: &str = "57368e4cf530bde37181ac2df88342ba";

pub async fn admin_post(sim: &RunningSim, path: &str, body: Value) -> (u16, Value) {
    send(http().post(format!("{}{path}", sim.base_url())).json(&body)).await
}

/// GET a site path with a Host header (`labels` like `abcd1234.baton-demo`).
pub async fn site_get(sim: &RunningSim, labels: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", sim.base_url()))
        .header("host", format!("{labels}.localhost:{}", sim.port()))
        .send()
        .await
        .expect("site request")
}
