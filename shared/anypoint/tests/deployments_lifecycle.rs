//! Create, poll to Applied, patch to a new version, failures, duplicates and listing, against the simulator.

mod common;

use std::time::Duration;

use baton_anypoint::{
    AnypointError, ApplicationStatus, DeploymentStatus, Readiness, ReplicaState, WaitOptions, readiness,
};
use baton_sim_anypoint::SimConfig;
use common::{APPLY_DELAY, poll_until_settled, spec};

const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn create_polls_to_applied_then_a_patch_applies_the_new_version() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;

    let created = client
        .create_deployment(&scope, &spec("patient-api", "patient-api", "1.4.2"))
        .await?;
    assert_eq!(created.status, DeploymentStatus::Applying);
    assert_eq!(created.application.status, ApplicationStatus::NotRunning);
    assert_eq!(created.last_successful_version, None);
    let first_spec = created.desired_version.clone().unwrap_or_default();
    assert!(!first_spec.is_empty(), "a fresh desiredVersion");
    assert!(matches!(readiness(&created, "1.4.2"), Readiness::InProgress { .. }));

    let (state, applied) =
        poll_until_settled(&client, &scope, &created.id, "1.4.2", Some(&first_spec), SETTLE_TIMEOUT).await;
    assert_eq!(state, Readiness::Applied);
    assert_eq!(applied.last_successful_version.as_deref(), Some(first_spec.as_str()));
    assert!(
        applied.replicas.iter().all(|r| r.state == ReplicaState::Started
            && r.current_deployment_version.as_deref() == Some(first_spec.as_str()))
    );
    let service = applied.target.runtime_version();
    // The platform answers the image tag for the version asked for.
    assert_eq!(service, Some("4.9.0:12e-java17"));

    let mut next = spec("patient-api", "patient-api", "1.5.0");
    next.properties.insert("feature.x".into(), "on".into());
    let patched = client.patch_deployment(&scope, &created.id, &next).await?;
    let second_spec = patched.desired_version.clone().unwrap_or_default();
    assert_ne!(second_spec, first_spec, "a PATCH makes a new spec version");
    assert_eq!(patched.status, DeploymentStatus::Applying);
    // Rolling update: the old replica keeps serving while the new one starts.
    assert_eq!(patched.application.status, ApplicationStatus::Running);
    assert!(matches!(readiness(&patched, "1.5.0"), Readiness::InProgress { .. }));

    let (state, applied) = poll_until_settled(
        &client,
        &scope,
        &created.id,
        "1.5.0",
        Some(&second_spec),
        SETTLE_TIMEOUT,
    )
    .await;
    assert_eq!(state, Readiness::Applied);
    assert_eq!(
        applied.application.reference.as_ref().map(|r| r.version.as_str()),
        Some("1.5.0")
    );
    assert_eq!(applied.replicas.len(), 1, "the old replica is gone");
    assert_eq!(
        applied.replicas[0].current_deployment_version.as_deref(),
        Some(second_spec.as_str())
    );
    // An APPLIED deployment is not ready for a version it does not run.
    assert!(matches!(readiness(&applied, "1.4.2"), Readiness::InProgress { .. }));
    Ok(())
}

#[tokio::test]
async fn a_failing_version_fails_naming_the_replica_problem_and_the_previous_version_keeps_running()
-> Result<(), AnypointError> {
    let config = SimConfig::default()
        .with_apply_delay(APPLY_DELAY)
        .with_failing_version("patient-api", "1.5.1");
    let sim = common::sim_with(config).await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;

    let created = client
        .create_deployment(&scope, &spec("patient-api", "patient-api", "1.4.2"))
        .await?;
    let (state, good) = poll_until_settled(&client, &scope, &created.id, "1.4.2", None, SETTLE_TIMEOUT).await;
    assert_eq!(state, Readiness::Applied);
    let good_spec = good.desired_version.clone().unwrap_or_default();

    let patched = client
        .patch_deployment(&scope, &created.id, &spec("patient-api", "patient-api", "1.5.1"))
        .await?;
    let options = WaitOptions {
        timeout: SETTLE_TIMEOUT,
        initial_delay: Duration::ZERO,
        poll_interval: Duration::from_millis(20),
        max_interval: Duration::from_millis(50),
    };
    let outcome = client
        .wait_for_deployment(
            &scope,
            &created.id,
            "1.5.1",
            patched.desired_version.as_deref(),
            &options,
        )
        .await?;
    let Readiness::Failed { reason } = &outcome.readiness else {
        panic!("expected Failed, got {:?}", outcome.readiness);
    };
    assert!(reason.contains("CrashLoopBackoff"), "{reason}");
    assert!(
        reason.contains("replica patient-api-"),
        "the reason names the replica: {reason}"
    );

    let detail = outcome.detail;
    assert_eq!(detail.status, DeploymentStatus::Failed);
    assert_eq!(
        detail.last_successful_version.as_deref(),
        Some(good_spec.as_str()),
        "unchanged"
    );
    assert_eq!(
        detail.application.status,
        ApplicationStatus::Running,
        "the old replica still serves"
    );
    assert!(detail.replicas.iter().any(
        |r| r.state == ReplicaState::Started && r.current_deployment_version.as_deref() == Some(good_spec.as_str())
    ));
    Ok(())
}

#[tokio::test]
async fn a_failing_first_deployment_is_not_running() -> Result<(), AnypointError> {
    let config = SimConfig::default()
        .with_apply_delay(Duration::ZERO)
        .with_failing_version("admissions-api", "2.3.0");
    let sim = common::sim_with(config).await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    let created = client
        .create_deployment(&scope, &spec("admissions-api", "admissions-api", "2.3.0"))
        .await?;
    let (state, detail) = poll_until_settled(&client, &scope, &created.id, "2.3.0", None, SETTLE_TIMEOUT).await;
    assert!(
        matches!(state, Readiness::Failed { ref reason } if reason.contains("CrashLoopBackoff")),
        "{state:?}"
    );
    assert_eq!(detail.application.status, ApplicationStatus::NotRunning);
    assert_eq!(detail.last_successful_version, None);
    Ok(())
}

#[tokio::test]
async fn a_duplicate_name_on_the_target_is_a_permanent_400_with_the_platform_message() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    client
        .create_deployment(&scope, &spec("admissions-api", "admissions-api", "2.1.0"))
        .await?;
    let before = client.requests_made();

    let error = match client
        .create_deployment(&scope, &spec("admissions-api", "admissions-api", "2.2.0"))
        .await
    {
        Err(error) => error,
        Ok(detail) => panic!("duplicate accepted: {}", detail.id),
    };
    assert_eq!(error.status(), Some(400));
    assert!(!error.is_transient());
    assert_eq!(
        error.message(),
        "The name of the application 'admissions-api' is already used in the target"
    );
    assert_eq!(client.requests_made(), before + 1, "not retried");

    // upsert takes the PATCH path for an existing name instead.
    let upserted = client
        .upsert_deployment(&scope, &spec("admissions-api", "admissions-api", "2.2.0"))
        .await?;
    assert_eq!(
        upserted.application.reference.map(|r| r.version),
        Some("2.2.0".to_string())
    );
    Ok(())
}

#[tokio::test]
async fn a_ref_missing_from_exchange_is_rejected() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    match client
        .create_deployment(&scope, &spec("patient-api", "patient-api", "0.0.1"))
        .await
    {
        Err(error) => {
            assert_eq!(error.status(), Some(404));
            assert!(error.message().contains("patient-api"), "{}", error.message());
        }
        Ok(detail) => panic!("created {} with an unpublished version", detail.id),
    }
}

#[tokio::test]
async fn list_returns_the_slim_items() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    let patient = client
        .create_deployment(&scope, &spec("patient-api", "patient-api", "1.4.2"))
        .await?;
    let mut admissions = spec("admissions-api", "admissions-api", "2.1.0");
    admissions.target_id = "cloudhub-eu-west-1".into();
    client.create_deployment(&scope, &admissions).await?;

    let all = client.list_deployments(&scope, None).await?;
    assert_eq!(
        all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["patient-api", "admissions-api"]
    );
    let item = &all[0];
    assert_eq!(item.id, patient.id);
    assert_eq!(item.target.target_id.as_deref(), Some("cloudhub-us-east-1"));
    assert_eq!(item.target.provider.as_deref(), Some("MC"));
    assert_eq!(item.status, DeploymentStatus::Applying);
    assert_eq!(item.current_runtime_version.as_deref(), Some("4.9.0:12e-java17"));
    assert!(
        item.target.deployment_settings.is_none() && item.target.replicas.is_none(),
        "slim: no settings"
    );

    let on_eu = client.list_deployments(&scope, Some("cloudhub-eu-west-1")).await?;
    assert_eq!(on_eu.len(), 1);
    let found = client
        .find_deployment(&scope, "patient-api", "cloudhub-us-east-1")
        .await?;
    assert_eq!(found.map(|d| d.id), Some(patient.id.clone()));
    assert!(
        client
            .find_deployment(&scope, "patient-api", "cloudhub-eu-west-1")
            .await?
            .is_none()
    );

    // The raw items carry no ref, replicas, vCores or settings (§6.5).
    let raw = raw_list(&sim, &scope).await;
    assert_eq!(raw["total"], 2);
    let first = &raw["items"][0];
    for key in [
        "id",
        "name",
        "creationDate",
        "lastModifiedDate",
        "target",
        "status",
        "application",
    ] {
        assert!(first.get(key).is_some(), "list item lacks {key}: {first}");
    }
    // Only the status (which one depends on how far the 120 ms rollout got on a loaded machine).
    let application = first["application"].as_object().cloned().unwrap_or_default();
    assert_eq!(application.keys().collect::<Vec<_>>(), ["status"], "{first}");
    assert!(
        first.get("replicas").is_none() && first["target"].get("deploymentSettings").is_none(),
        "{first}"
    );

    client.delete_deployment(&scope, &patient.id).await?;
    let gone = client.get_deployment(&scope, &patient.id).await;
    assert!(gone.is_err_and(|e| e.is_not_found()));
    Ok(())
}

/// The list answer as raw JSON, fetched without the client's types.
async fn raw_list(sim: &baton_sim_anypoint::RunningSim, scope: &baton_anypoint::EnvironmentScope) -> serde_json::Value {
    let http = reqwest::Client::new();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", baton_sim_anypoint::DEFAULT_CLIENT_ID),
        ("client_secret", baton_sim_anypoint::DEFAULT_CLIENT_SECRET),
    ];
    let token: serde_json::Value = match http
        .post(format!("{}/accounts/api/v2/oauth2/token", sim.url()))
        .form(&form)
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(error) => panic!("token request failed: {error}"),
    };
    let url = format!(
        "{}/amc/application-manager/api/v2/organizations/{}/environments/{}/deployments",
        sim.url(),
        scope.org_id,
        scope.env_id
    );
    let bearer = token["access_token"].as_str().unwrap_or_default().to_string();
    match http.get(url).bearer_auth(bearer).send().await {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(error) => panic!("list request failed: {error}"),
    }
}
