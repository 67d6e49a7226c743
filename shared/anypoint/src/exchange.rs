//! Exchange: does an asset version exist? (E1, the pipeline's prerequisite check, §5)

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::client::{AnypointClient, ApiCall};
use crate::error::AnypointError;
use crate::lenient;
use crate::path::segment;

/// One file of an asset version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetFile {
    /// Maven classifier, `mule-application` for an app's jar.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub classifier: Option<String>,
    /// Packaging, `jar` for an app.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub packaging: Option<String>,
}

/// The fields of an Exchange asset version the pipeline cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetVersion {
    /// Group id (the org or business-group id for Mule apps).
    #[serde(default, deserialize_with = "lenient::string")]
    pub group_id: String,
    /// Asset id (the Maven artifactId).
    #[serde(default, deserialize_with = "lenient::string")]
    pub asset_id: String,
    /// The version.
    #[serde(default, deserialize_with = "lenient::string")]
    pub version: String,
    /// Asset type, `app` for a Mule application.
    #[serde(default, rename = "type", deserialize_with = "lenient::opt_string")]
    pub asset_type: Option<String>,
    /// Lifecycle state: `development`, `published` or `deprecated`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    /// Files of the version.
    #[serde(default, deserialize_with = "lenient::vec")]
    pub files: Vec<AssetFile>,
}

/// Result of the Exchange check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetVersionCheck {
    /// 200: the version is visible to this token.
    Exists(AssetVersion),
    /// 404: not published, wrong group, or not visible to this token.
    Missing,
}

impl AssetVersionCheck {
    /// True for [`AssetVersionCheck::Exists`].
    pub fn exists(&self) -> bool {
        matches!(self, Self::Exists(_))
    }
}

impl AnypointClient {
    /// `GET /exchange/api/v2/assets/{groupId}/{assetId}/{version}`: 200 means it exists, 404 that
    /// it does not; anything else is an error (401/403 a scope problem, 429/5xx retried first).
    pub async fn check_asset_version(
        &self,
        group_id: &str,
        asset_id: &str,
        version: &str,
    ) -> Result<AssetVersionCheck, AnypointError> {
        let call = ApiCall::get(format!(
            "/exchange/api/v2/assets/{}/{}/{}",
            segment(group_id),
            segment(asset_id),
            segment(version)
        ));
        match self.execute(&call).await {
            Ok(response) => {
                // The 200 is what matters; an unexpected body shape still means "exists".
                let mut asset: AssetVersion = response.json(&call).unwrap_or_default();
                fill_if_empty(&mut asset.group_id, group_id);
                fill_if_empty(&mut asset.asset_id, asset_id);
                fill_if_empty(&mut asset.version, version);
                Ok(AssetVersionCheck::Exists(asset))
            }
            Err(error) if error.is_not_found() => Ok(AssetVersionCheck::Missing),
            Err(error) => Err(error),
        }
    }

    /// Polls [`AnypointClient::check_asset_version`] until the version exists or `timeout` passes,
    /// because a freshly published version can take a moment to read back (§5.2: about 2 minutes
    /// at a 5 s interval is the recommended budget). Returns the last answer.
    pub async fn wait_for_asset_version(
        &self,
        group_id: &str,
        asset_id: &str,
        version: &str,
        timeout: Duration,
        interval: Duration,
    ) -> Result<AssetVersionCheck, AnypointError> {
        let deadline = Instant::now() + timeout;
        loop {
            let check = self.check_asset_version(group_id, asset_id, version).await?;
            if check.exists() || Instant::now() + interval > deadline {
                return Ok(check);
            }
            tracing::debug!(asset_id, version, "asset version not in Exchange yet; waiting");
            tokio::time::sleep(interval).await;
        }
    }
}

fn fill_if_empty(field: &mut String, value: &str) {
    if field.is_empty() {
        *field = value.to_string();
    }
}
