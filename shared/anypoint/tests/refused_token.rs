//! Rotated connected-app credentials: refused (after the one token refetch a 401 earns),
//! reported as `Baton.Invalid` saying "the stored token was refused"; the port adapter drops its
//! client (and token) and takes the new secret at once; a storm longer than the retries ends as
//! `Baton.Transient`.

mod common;

use baton_anypoint::port::{AnypointPlatform, TOKEN_REFUSED, to_baton};
use baton_anypoint::{AnypointError, RetryPolicy};
use baton_domain::ErrorKind;
use baton_domain::platforms::{CloudHub, CloudHubTarget};
use baton_sim_anypoint::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FaultSpec, RunningSim};
use std::time::Duration;

fn target(sim: &RunningSim, secret: &str) -> CloudHubTarget {
    CloudHubTarget {
        base_url: sim.url(),
        client_id: DEFAULT_CLIENT_ID.to_string(),
        client_secret: secret.to_string(),
        environment: "Sandbox".to_string(),
        target_id: "cloudhub-us-east-1".to_string(),
    }
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn rotated_credentials_are_refused_and_reported_as_invalid() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    sim.state()
        .rotate_credentials(None, "the-new-secret", 401)
        .map_err(AnypointError::InvalidInput)?;

    let error = client.list_deployments(&scope, None).await.expect_err("refused");
    assert_eq!(error.status(), Some(401), "{error}");
    let baton = to_baton(&error);
    assert_eq!(baton.kind, ErrorKind::Invalid);
    assert!(baton.message.contains(TOKEN_REFUSED), "{}", baton.message);
    assert!(!baton.message.contains("the-new-secret"), "never a secret");
    Ok(())
}

#[tokio::test]
async fn the_adapter_drops_a_refused_client_and_takes_the_new_secret() {
    for refused_status in [401, 403] {
        let sim = common::sim().await;
        let platform = AnypointPlatform::with_retry_policy(quick());
        let old = target(&sim, DEFAULT_CLIENT_SECRET);
        assert!(platform.applications(&old).await.expect("accepted").is_empty());
        let tokens = sim.state().tokens_issued();

        sim.state()
            .rotate_credentials(None, "the-new-secret", refused_status)
            .expect("rotation");
        let refused = platform.applications(&old).await.expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::Invalid, "{refused_status}");
        assert!(refused.message.contains(TOKEN_REFUSED), "{}", refused.message);

        let new = target(&sim, "the-new-secret");
        assert!(platform.applications(&new).await.expect("accepted").is_empty());
        assert_eq!(
            sim.state().tokens_issued(),
            tokens + 1,
            "one new token, for the new secret"
        );
    }
}

#[tokio::test]
async fn a_storm_longer_than_the_retries_is_transient() {
    for status in [429, 500, 502, 503] {
        let sim = common::sim().await;
        let platform = AnypointPlatform::with_retry_policy(quick());
        let fault = FaultSpec::new(status, 100).on_path("/deployments");
        let fault = if status == 429 {
            fault.with_retry_after(0)
        } else {
            fault
        };
        sim.state().inject_fault(fault);
        let error = platform
            .applications(&target(&sim, DEFAULT_CLIENT_SECRET))
            .await
            .expect_err("the storm outlasts the retries");
        assert_eq!(error.kind, ErrorKind::Transient, "{status}: {}", error.message);
        sim.state().clear_faults();
        assert!(
            platform
                .applications(&target(&sim, DEFAULT_CLIENT_SECRET))
                .await
                .is_ok()
        );
    }
}
