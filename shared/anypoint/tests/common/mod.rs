//! Shared test helpers: a simulator per test, a client pointed at it, a deployment spec, polling.
#![allow(dead_code)] // Each test file uses a different subset.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use baton_anypoint::{
    AnypointClient, DeploymentDetail, DeploymentSpec, EnvironmentScope, Readiness, RetryPolicy, readiness_for_spec,
};
use baton_sim_anypoint::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ORG_ID, RunningSim, SimConfig};

/// The apply delay tests use: long enough to observe APPLYING, short enough to keep the suite fast.
pub const APPLY_DELAY: Duration = Duration::from_millis(120);

/// Starts a simulator on a free port.
pub async fn sim_with(config: SimConfig) -> RunningSim {
    match baton_sim_anypoint::start(config, 0).await {
        Ok(sim) => sim,
        Err(error) => panic!("simulator did not start: {error}"),
    }
}

/// Starts a simulator with the defaults and [`APPLY_DELAY`].
pub async fn sim() -> RunningSim {
    sim_with(SimConfig::default().with_apply_delay(APPLY_DELAY)).await
}

/// A client with the simulator's default credentials.
pub fn client(sim: &RunningSim) -> AnypointClient {
    client_with(sim, DEFAULT_CLIENT_SECRET)
}

/// A client with the given secret and a quick retry policy (same shape as the default, smaller waits).
pub fn client_with(sim: &RunningSim, secret: &str) -> AnypointClient {
    let policy = RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    match AnypointClient::new(sim.url(), DEFAULT_CLIENT_ID, secret) {
        Ok(client) => client.with_retry_policy(policy),
        Err(error) => panic!("client did not build: {error}"),
    }
}

/// The Sandbox scope, resolved through the client.
pub async fn sandbox(client: &AnypointClient) -> EnvironmentScope {
    match client.scope("Sandbox").await {
        Ok(scope) => scope,
        Err(error) => panic!("scope lookup failed: {error}"),
    }
}

/// A one-replica spec for an asset of the default organisation.
pub fn spec(name: &str, artifact_id: &str, version: &str) -> DeploymentSpec {
    DeploymentSpec {
        name: name.to_string(),
        target_id: "cloudhub-us-east-1".to_string(),
        replicas: 1,
        v_cores: 0.1,
        runtime_version: Some("4.9.0".to_string()),
        release_channel: None,
        java_version: None,
        update_strategy: Default::default(),
        group_id: DEFAULT_ORG_ID.to_string(),
        artifact_id: artifact_id.to_string(),
        version: version.to_string(),
        properties: BTreeMap::from([("env".to_string(), "sandbox".to_string())]),
        secure_properties: BTreeMap::from([("db.password".to_string(), "s3cr3t".to_string())]),
    }
}

/// Polls with the readiness rule until the deployment leaves `InProgress` (or `timeout` passes).
pub async fn poll_until_settled(
    client: &AnypointClient,
    scope: &EnvironmentScope,
    deployment_id: &str,
    version: &str,
    expected_spec: Option<&str>,
    timeout: Duration,
) -> (Readiness, DeploymentDetail) {
    let deadline = Instant::now() + timeout;
    loop {
        let detail = match client.get_deployment(scope, deployment_id).await {
            Ok(detail) => detail,
            Err(error) => panic!("get_deployment failed: {error}"),
        };
        let readiness = readiness_for_spec(&detail, version, expected_spec);
        if !matches!(readiness, Readiness::InProgress { .. }) || Instant::now() > deadline {
            return (readiness, detail);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
