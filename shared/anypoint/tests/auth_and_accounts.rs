//! Token, `me`, environment lookup, bad credentials and the 401 refetch, against the simulator.

mod common;

use baton_anypoint::AnypointError;
use baton_sim_anypoint::{DEFAULT_ORG_ID, DEFAULT_PRODUCTION_ENV_ID, DEFAULT_SANDBOX_ENV_ID, FaultSpec};

#[tokio::test]
async fn token_me_and_environment_lookup() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);

    assert_eq!(client.org_id().await?, DEFAULT_ORG_ID);
    assert_eq!(client.environment_id("Sandbox").await?, DEFAULT_SANDBOX_ENV_ID);
    assert_eq!(client.requests_made(), 3, "token, me, environments");

    // Both ids are cached: no further requests, and one token served them all.
    assert_eq!(client.environment_id("Production").await?, DEFAULT_PRODUCTION_ENV_ID);
    let scope = client.scope("Sandbox").await?;
    assert_eq!(
        (scope.org_id.as_str(), scope.env_id.as_str()),
        (DEFAULT_ORG_ID, DEFAULT_SANDBOX_ENV_ID)
    );
    assert_eq!(client.requests_made(), 3);
    assert_eq!(sim.state().tokens_issued(), 1);

    let environments = client.environments(DEFAULT_ORG_ID).await?;
    let production = environments.iter().find(|e| e.name == "Production");
    assert!(production.is_some_and(|e| e.is_production && e.organization_id.as_deref() == Some(DEFAULT_ORG_ID)));
    Ok(())
}

#[tokio::test]
async fn unknown_environment_names_the_known_ones() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    match client.environment_id("sandbox").await {
        Err(AnypointError::EnvironmentNotFound { name, known, .. }) => {
            assert_eq!(name, "sandbox", "names match case-sensitively");
            assert!(known.contains("Sandbox") && known.contains("Production"), "{known}");
        }
        other => panic!("expected EnvironmentNotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_credentials_are_a_permanent_401_with_the_platform_message() {
    let sim = common::sim().await;
    let client = common::client_with(&sim, "not-the-secret");
    let error = match client.org_id().await {
        Err(error) => error,
        Ok(org) => panic!("wrong credentials were accepted (org {org})"),
    };
    assert_eq!(error.status(), Some(401));
    assert!(!error.is_transient());
    assert_eq!(error.message(), "Invalid client credentials");
    assert!(
        !error.to_string().contains("not-the-secret"),
        "the secret must not leak: {error}"
    );
    assert_eq!(client.requests_made(), 1, "a permanent failure is not retried");
    assert_eq!(sim.state().tokens_issued(), 0);
}

#[tokio::test]
async fn a_401_on_an_expired_token_triggers_exactly_one_refetch() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    client.org_id().await?;
    assert_eq!((client.requests_made(), sim.state().tokens_issued()), (2, 1));

    // The platform forgets the token while the client still holds it as valid.
    sim.state().expire_tokens();
    assert_eq!(client.environment_id("Sandbox").await?, DEFAULT_SANDBOX_ENV_ID);
    assert_eq!(sim.state().tokens_issued(), 2, "exactly one new token");
    assert_eq!(client.requests_made(), 5, "401, token, retried call");
    Ok(())
}

#[tokio::test]
async fn a_second_401_after_the_refetch_is_returned_not_refetched_again() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    client.org_id().await?;
    sim.state()
        .inject_fault(FaultSpec::new(401, 5).on_path("/environments"));

    let error = match client.environment_id("Sandbox").await {
        Err(error) => error,
        Ok(id) => panic!("expected a 401, got environment {id}"),
    };
    assert_eq!(error.status(), Some(401));
    assert!(!error.is_transient());
    assert_eq!(sim.state().tokens_issued(), 2, "one refetch only");
    assert_eq!(client.requests_made(), 2 + 3, "401, token, 401");
    Ok(())
}
