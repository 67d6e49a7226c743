//! Shared helpers: a simulator per test, a client with short waits, a small site, HTTP fetches of sites.

#![allow(dead_code)]

use std::time::Duration;

use baton_cloudflare::{ClientSettings, PagesClient, RetryPolicy, SiteFiles};
use baton_sim_cloudflare::{RunningSim, SimConfig};
use serde_json::Value;

/// The seeded project.
pub const PROJECT: &str = "baton-demo";

/// A simulator on a free port with tiny stage steps.
pub async fn start_sim(configure: impl FnOnce(&mut SimConfig)) -> RunningSim {
    let mut config = SimConfig {
        step_delay: Duration::from_millis(5),
        ..SimConfig::default()
    };
    configure(&mut config);
    baton_sim_cloudflare::start(config, 0).await.expect("simulator starts")
}

/// Client settings with millisecond backoff and polling, so tests stay fast.
pub fn fast_settings() -> ClientSettings {
    ClientSettings {
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        poll_interval: Duration::from_millis(10),
        poll_timeout: Duration::from_secs(10),
        ..ClientSettings::default()
    }
}

/// A client for the simulator with the default credentials.
pub fn client(sim: &RunningSim) -> PagesClient {
    client_with(sim, fast_settings())
}

/// A client for the simulator with the default credentials and these settings.
pub fn client_with(sim: &RunningSim, settings: ClientSettings) -> PagesClient {
    let config = sim.state().config();
    PagesClient::with_settings(sim.url(), config.api_token.clone(), config.account_id.clone(), settings)
        .expect("client builds")
}

/// A small site: pages, assets, `_headers` and `_redirects`.
pub fn site(version: &str) -> SiteFiles {
    let files = vec![
        ("index.html", format!("<!doctype html><h1>Baton demo {version}</h1>")),
        ("about.html", "<h1>About</h1>".to_string()),
        ("assets/app.js", "console.log('baton')".to_string()),
        ("assets/style.css", "h1 { color: teal }".to_string()),
        (
            "_headers",
            "/*\n  X-Baton-Site: demo\n/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n".to_string(),
        ),
        ("_redirects", "/old /about 301\n/docs/* /about 302\n".to_string()),
    ];
    SiteFiles::from_files(
        files
            .into_iter()
            .map(|(p, c)| (p.to_string(), c.into_bytes()))
            .collect(),
    )
    .expect("valid site")
}

/// `count` small text files, each different.
pub fn many_files(count: usize) -> SiteFiles {
    let mut files = vec![("index.html".to_string(), b"<h1>many</h1>".to_vec())];
    files.extend((0..count).map(|i| (format!("files/{i}.txt"), format!("file number {i}").into_bytes())));
    SiteFiles::from_files(files).expect("valid site")
}

/// GETs `path` of the site at `host` (e.g. `abcd1234.baton-demo`) with the Host header, not following redirects.
pub async fn fetch_site(sim: &RunningSim, host_labels: &str, path: &str) -> reqwest::Response {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    http.get(format!("{}{path}", sim.base_url()))
        .header("host", format!("{host_labels}.localhost:{}", sim.port()))
        .send()
        .await
        .expect("site request")
}

/// GETs `path` of a site through the path-based fallback `/__sites/<host>/<path>`.
pub async fn fetch_site_by_path(sim: &RunningSim, host_labels: &str, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}/__sites/{host_labels}{path}", sim.base_url()))
        .await
        .expect("site request")
}

/// POSTs a fault to `/__admin/faults`, as a team's own tests would.
pub async fn inject(sim: &RunningSim, fault: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/__admin/faults", sim.base_url()))
        .json(&fault)
        .send()
        .await
        .expect("admin request");
    assert!(
        response.status().is_success(),
        "fault accepted: {}",
        response.text().await.unwrap_or_default()
    );
}

/// `GET /__admin/state`.
pub async fn admin_state(sim: &RunningSim) -> Value {
    reqwest::get(format!("{}/__admin/state", sim.base_url()))
        .await
        .expect("admin state")
        .json()
        .await
        .expect("admin state JSON")
}

/// How many requests the simulator saw for one endpoint (see `classify` in the simulator).
pub async fn endpoint_count(sim: &RunningSim, endpoint: &str) -> u64 {
    admin_state(sim).await["requests_by_endpoint"][endpoint]
        .as_u64()
        .unwrap_or(0)
}
