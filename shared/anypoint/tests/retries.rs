//! Transient failures: 429 with Retry-After, 503, bounded attempts, and the ambiguous create.

mod common;

use std::time::{Duration, Instant};

use baton_anypoint::{AnypointError, RetryPolicy};
use baton_sim_anypoint::FaultSpec;

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_wait() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    let before = client.requests_made();
    sim.state()
        .inject_fault(FaultSpec::new(429, 1).on_path("/deployments").with_retry_after(1));

    let started = Instant::now();
    let items = client.list_deployments(&scope, None).await?;
    let waited = started.elapsed();
    assert!(items.is_empty());
    assert_eq!(client.requests_made(), before + 2, "the 429, then the success");
    // The client's own backoff here is at most 200 ms, so a wait of ~1 s is the Retry-After.
    assert!(waited >= Duration::from_millis(950), "waited only {waited:?}");
    Ok(())
}

#[tokio::test]
async fn a_503_is_retried_with_backoff() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    let before = client.requests_made();
    sim.state()
        .inject_fault(FaultSpec::new(503, 2).on_path("/deployments").on_method("POST"));

    let created = client
        .create_deployment(&scope, &common::spec("patient-api", "patient-api", "1.4.2"))
        .await?;
    assert_eq!(created.name, "patient-api");
    assert_eq!(client.requests_made(), before + 3, "two 503s, then the create");
    assert_eq!(client.list_deployments(&scope, None).await?.len(), 1, "created once");
    Ok(())
}

#[tokio::test]
async fn retries_are_bounded_and_the_error_stays_transient() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    let client = common::client(&sim).with_retry_policy(policy);
    let scope = common::sandbox(&client).await;
    let before = client.requests_made();
    sim.state()
        .inject_fault(FaultSpec::new(503, 10).on_path("/deployments"));

    let error = match client.list_deployments(&scope, None).await {
        Err(error) => error,
        Ok(items) => panic!("expected a 503, got {} items", items.len()),
    };
    assert_eq!(error.status(), Some(503));
    assert!(error.is_transient());
    assert_eq!(error.message(), "Back-end server is at capacity");
    assert_eq!(client.requests_made(), before + 3);
    Ok(())
}

#[tokio::test]
async fn a_500_after_the_create_took_effect_is_reconciled_by_relisting() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    let mut fault = FaultSpec::new(500, 1).on_path("/deployments").on_method("POST");
    fault.after_handler = true;
    sim.state().inject_fault(fault);

    let created = client
        .create_deployment(&scope, &common::spec("patient-api", "patient-api", "1.4.2"))
        .await?;
    assert_eq!(created.name, "patient-api");
    let listed = client.list_deployments(&scope, None).await?;
    assert_eq!(listed.len(), 1, "not created twice");
    assert_eq!(listed[0].id, created.id);
    Ok(())
}

#[tokio::test]
async fn a_connection_failure_is_transient() {
    // Bind then drop a listener, so the port is (almost certainly) closed.
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(error) => panic!("no free port: {error}"),
    };
    let client = match baton_anypoint::AnypointClient::new(format!("http://127.0.0.1:{port}"), "id", "secret") {
        Ok(client) => client.with_retry_policy(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        }),
        Err(error) => panic!("client did not build: {error}"),
    };
    let error = match client.org_id().await {
        Err(error) => error,
        Ok(org) => panic!("nothing listens there, yet got {org}"),
    };
    assert!(matches!(error, AnypointError::Connection { .. }), "{error:?}");
    assert!(error.is_transient());
    assert_eq!(client.requests_made(), 2, "retried once, then given up");
}
