//! Failures against the simulator: rate limits, JWT expiry, server errors, failed deployments, bad credentials.

mod common;

use std::time::{Duration, Instant};

use baton_cloudflare::{
    CODE_AUTHENTICATION_ERROR, CODE_PROJECT_NOT_FOUND, ClientSettings, DeployOptions, PagesClient, PagesError,
    UploadLimits,
};
use baton_sim_cloudflare::FaultSpec;
use common::*;
use serde_json::json;

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);
    inject(&sim, json!({ "kind": "http_error", "status": 429, "retry_after": 1, "path_contains": "/pages/assets/check-missing" })).await;

    let started = Instant::now();
    let result = client
        .deploy(&DeployOptions::new(PROJECT), site("v1"))
        .await
        .expect("deploy after the 429");
    let waited = started.elapsed();
    // The client's own backoff is 10 ms: only Retry-After explains a wait of a second.
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
    assert_eq!(result.uploaded_files, 4);
    assert_eq!(endpoint_count(&sim, "check-missing").await, 2);
}

#[tokio::test]
async fn a_jwt_expiring_between_upload_batches_is_replaced() {
    let sim = start_sim(|_| {}).await;
    // Two files per request, one request at a time: 21 assets make 11 sequential uploads.
    let settings = ClientSettings {
        upload: UploadLimits {
            max_bucket_files: 2,
            concurrency: 1,
            ..UploadLimits::default()
        },
        ..fast_settings()
    };
    let client = client_with(&sim, settings);
    inject(
        &sim,
        json!({ "kind": "expire_jwts", "path_contains": "/pages/assets/upload", "skip": 2 }),
    )
    .await;

    let result = client
        .deploy(&DeployOptions::new(PROJECT), many_files(20))
        .await
        .expect("deploy");
    assert_eq!(result.uploaded_files, 21);
    let state = admin_state(&sim).await;
    assert_eq!(
        state["jwts_issued"], 2,
        "the first JWT, then one replacement after the 8000013"
    );
    assert_eq!(
        state["requests_by_endpoint"]["upload"], 12,
        "11 batches plus the refused one"
    );
    assert_eq!(state["assets"], 21);
}

#[tokio::test]
async fn an_old_style_plain_text_expired_jwt_is_replaced_too() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);
    inject(&sim, json!({ "kind": "http_error", "status": 403, "message": "Expired JWT", "path_contains": "/pages/assets/upload" })).await;

    let result = client
        .deploy(&DeployOptions::new(PROJECT), site("v1"))
        .await
        .expect("deploy");
    assert_eq!(result.uploaded_files, 4);
    assert_eq!(admin_state(&sim).await["jwts_issued"], 2);
}

#[tokio::test]
async fn short_lived_jwts_are_refreshed_before_they_expire() {
    let sim = start_sim(|config| config.jwt_ttl = Duration::from_secs(1)).await;
    let settings = ClientSettings {
        upload: UploadLimits {
            max_bucket_files: 4,
            concurrency: 1,
            ..UploadLimits::default()
        },
        ..fast_settings()
    };
    let client = client_with(&sim, settings);
    // Three slow uploads outlive a one-second JWT.
    sim.state()
        .add_fault(FaultSpec::Delay {
            millis: 500,
            count: 3,
            skip: 0,
            path_contains: Some("/pages/assets/upload".into()),
            method: None,
        })
        .expect("fault");

    let result = client
        .deploy(&DeployOptions::new(PROJECT), many_files(11))
        .await
        .expect("deploy");
    assert_eq!(result.uploaded_files, 12);
    let issued = admin_state(&sim).await["jwts_issued"].as_u64().unwrap_or(0);
    assert!(issued >= 2, "a new JWT was fetched ({issued} issued)");
}

#[tokio::test]
async fn server_errors_and_gateway_timeouts_are_retried() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);
    inject(
        &sim,
        json!([
            { "kind": "http_error", "status": 524, "path_contains": "/pages/assets/upload" },
            { "kind": "http_error", "status": 503, "path_contains": "/deployments", "method": "POST" },
            { "kind": "http_error", "status": 500, "code": 8000000, "path_contains": "/upload-token" }
        ]),
    )
    .await;

    let result = client
        .deploy(&DeployOptions::new(PROJECT), site("v1"))
        .await
        .expect("deploy despite errors");
    assert_eq!(result.uploaded_files, 4);
    let state = admin_state(&sim).await;
    assert_eq!(state["requests_by_endpoint"]["create-deployment"], 2);
    assert_eq!(state["requests_by_endpoint"]["upload-token"], 2);
    assert_eq!(
        state["faults"].as_array().map(Vec::len),
        Some(0),
        "every fault was used"
    );
}

#[tokio::test]
async fn a_failed_deployment_carries_its_logs() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);
    inject(
        &sim,
        json!({ "kind": "fail_deployment", "log_lines": ["Error: asset publishing failed: disk on fire"] }),
    )
    .await;

    let error = client
        .deploy(&DeployOptions::new(PROJECT), site("v1"))
        .await
        .expect_err("deployment fails");
    let PagesError::DeploymentFailed { stage, logs, .. } = &error else {
        panic!("expected DeploymentFailed, got {error:?}");
    };
    assert_eq!(stage, "deploy/failure");
    assert_eq!(
        logs.last().map(String::as_str),
        Some("Error: asset publishing failed: disk on fire")
    );
    assert!(
        logs.iter()
            .any(|line| line.starts_with("Initializing build environment"))
    );
    assert!(error.to_string().contains("disk on fire"), "{error}");
    assert!(!error.is_transient());
    // The failed deployment does not reach production.
    assert_eq!(fetch_site(&sim, PROJECT, "/").await.status(), 404);
}

#[tokio::test]
async fn a_wrong_token_is_a_permanent_error_with_cloudflares_code() {
    let sim = start_sim(|_| {}).await;
    let account = sim.state().config().account_id.clone();
    let client = PagesClient::with_settings(sim.url(), "not-the-token", account, fast_settings()).expect("client");

    let error = client
        .deploy(&DeployOptions::new(PROJECT), site("v1"))
        .await
        .expect_err("refused");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.codes(), vec![CODE_AUTHENTICATION_ERROR]);
    assert_eq!(error.messages(), vec!["Authentication error".to_string()]);
    assert!(!error.is_transient());
    assert_eq!(client.requests_made(), 1, "no retry of a permanent error");

    let missing = crate::client(&sim)
        .get_project("no-such-project")
        .await
        .expect_err("unknown project");
    assert_eq!(
        (missing.status(), missing.codes()),
        (Some(404), vec![CODE_PROJECT_NOT_FOUND])
    );
    assert!(!missing.is_transient());
}

#[tokio::test]
async fn a_client_never_shows_its_credentials() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);
    let shown = format!("{client:?}");
    assert!(!shown.contains(&sim.state().config().api_token), "{shown}");
    let jwt = client.upload_token(PROJECT).await.expect("upload token");
    assert!(format!("{jwt:?}").contains("redacted"));
    assert_eq!(jwt.max_file_count_allowed(), 20_000);
    assert!(jwt.expires_at().is_some());
}
