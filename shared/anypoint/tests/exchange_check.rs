//! The Exchange asset-version check against the simulator.

mod common;

use std::time::Duration;

use baton_anypoint::{AnypointError, AssetVersionCheck};
use baton_sim_anypoint::{DEFAULT_ORG_ID, FaultSpec};

#[tokio::test]
async fn an_existing_version_is_found() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    match client
        .check_asset_version(DEFAULT_ORG_ID, "patient-api", "1.4.2")
        .await?
    {
        AssetVersionCheck::Exists(asset) => {
            assert_eq!(
                (asset.asset_id.as_str(), asset.version.as_str()),
                ("patient-api", "1.4.2")
            );
            assert_eq!(asset.group_id, DEFAULT_ORG_ID);
            assert_eq!(asset.asset_type.as_deref(), Some("app"));
            let jar = asset
                .files
                .iter()
                .find(|f| f.classifier.as_deref() == Some("mule-application"));
            assert_eq!(jar.and_then(|f| f.packaging.as_deref()), Some("jar"));
        }
        AssetVersionCheck::Missing => panic!("patient-api 1.4.2 is seeded"),
    }
    Ok(())
}

#[tokio::test]
async fn a_missing_version_is_reported_missing() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    assert_eq!(
        client
            .check_asset_version(DEFAULT_ORG_ID, "patient-api", "9.9.9")
            .await?,
        AssetVersionCheck::Missing
    );
    assert_eq!(
        client
            .check_asset_version("another-group", "patient-api", "1.4.2")
            .await?,
        AssetVersionCheck::Missing
    );
    assert_eq!(client.requests_made(), 3, "token plus two checks, no retries on 404");

    // Published later (e.g. by the build), it is found.
    sim.state().add_asset(None, "patient-api", "9.9.9");
    let found = client
        .wait_for_asset_version(
            DEFAULT_ORG_ID,
            "patient-api",
            "9.9.9",
            Duration::from_secs(1),
            Duration::from_millis(10),
        )
        .await?;
    assert!(found.exists());
    Ok(())
}

#[tokio::test]
async fn exchange_rate_limiting_is_retried() -> Result<(), AnypointError> {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.state().inject_fault(FaultSpec::new(429, 1).on_path("/exchange/"));
    sim.state().inject_fault(FaultSpec::new(500, 1).on_path("/exchange/"));
    assert!(
        client
            .check_asset_version(DEFAULT_ORG_ID, "admissions-api", "2.2.0")
            .await?
            .exists()
    );
    assert_eq!(
        client.requests_made(),
        1 + 3,
        "token, 429, 500 (a GET, so retried), 200"
    );
    Ok(())
}
