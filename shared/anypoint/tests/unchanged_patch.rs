//! The platform answers 304 to a PATCH that changes nothing; Baton's client treats it as success
//! (nothing restarted) and returns the deployment as it stands. The runtime it reads back is the
//! platform's tag for the version the manifest names.

mod common;

use baton_anypoint::AnypointError;
use serde_json::json;

#[tokio::test]
async fn a_patch_with_the_same_spec_is_success_and_starts_nothing() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let scope = common::sandbox(&client).await;
    let wanted = common::spec("patient-api", "patient-api", "1.4.2");
    let created = client.create_deployment(&scope, &wanted).await?;
    let first = created.desired_version.clone();

    // At-least-once delivery: the same PATCH twice, then the same spec through upsert.
    let again = client.patch_deployment(&scope, &created.id, &wanted).await?;
    assert_eq!(again.desired_version, first, "no new spec version");
    let upserted = client.upsert_deployment(&scope, &wanted).await?;
    assert_eq!(
        (upserted.id.as_str(), upserted.desired_version.clone()),
        (created.id.as_str(), first.clone())
    );
    let stopped_twice = client
        .patch_deployment_raw(
            &scope,
            &created.id,
            json!({ "application": { "desiredState": "STARTED" } }),
        )
        .await?;
    assert_eq!(stopped_twice.desired_version, first);

    // Bad input still fails: 304 is only "nothing to change".
    let mut wrong = wanted.clone();
    wrong.version = "9.9.9".into();
    let refused = client.patch_deployment(&scope, &created.id, &wrong).await;
    assert_eq!(refused.err().and_then(|e| e.status()), Some(404));

    let runtime = again.target.runtime_version().map(str::to_string);
    assert_eq!(
        runtime.as_deref(),
        Some("4.9.0:12e-java17"),
        "the tag for the manifest's 4.9.0"
    );
    Ok(())
}
