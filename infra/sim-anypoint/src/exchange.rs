//! Exchange routes: the asset-version check (E1, E1b) and the version list (E2).

use std::cmp::Ordering;
use std::hash::{DefaultHasher, Hash, Hasher};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::http::{ApiError, authorize};
use crate::state::{AssetKey, AssetRecord, SimState, World};

/// Deterministic fake digest of `len` hex characters (the files' md5/sha1 are cosmetic).
fn fake_digest(key: &AssetKey, len: usize) -> String {
    let mut text = String::new();
    let mut round = 0u64;
    while text.len() < len {
        let mut hasher = DefaultHasher::new();
        (key, round).hash(&mut hasher);
        text.push_str(&format!("{:016x}", hasher.finish()));
        round += 1;
    }
    text.truncate(len);
    text
}

fn asset_json(world: &World, key: &AssetKey, record: &AssetRecord) -> Value {
    let (group_id, asset_id, version) = key;
    json!({
        "groupId": group_id,
        "assetId": asset_id,
        "version": version,
        "name": asset_id,
        "type": "app",
        "status": "published",
        "isSnapshot": version.ends_with("-SNAPSHOT"),
        "organizationId": world.config.org_id,
        "createdDate": record.created_ms,
        "files": [ {
            "classifier": "mule-application",
            "packaging": "jar",
            "md5": fake_digest(key, 32),
            "sha1": fake_digest(key, 40),
            "createdDate": record.created_ms,
        } ],
        "dependencies": [],
    })
}

fn not_found(group_id: &str, asset_id: &str, version: Option<&str>) -> ApiError {
    let coordinates = match version {
        Some(version) => format!("{group_id}/{asset_id}/{version}"),
        None => format!("{group_id}/{asset_id}"),
    };
    ApiError::not_found(format!("Asset {coordinates} not found"))
}

/// E1 and E1b: `GET /exchange/api/v2/assets/{groupId}/{assetId}/{version}[/asset]`: 200 or 404.
pub(crate) async fn asset_version(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((group_id, asset_id, version)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    authorize(&world, &headers)?;
    let key: AssetKey = (group_id, asset_id, version);
    match world.visible_asset(&key) {
        Some(record) => Ok(Json(asset_json(&world, &key, record))),
        None => Err(not_found(&key.0, &key.1, Some(&key.2))),
    }
}

/// Orders versions numerically where the parts are numbers (`1.10.0` after `1.9.0`).
fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-', '+'])
            .map(|p| (p.parse::<u64>().unwrap_or(0), p.to_string()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// E2: `GET /exchange/api/v2/assets/{groupId}/{assetId}/asset`: the latest version plus `versions[]`.
pub(crate) async fn asset_latest(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((group_id, asset_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    authorize(&world, &headers)?;
    let versions = visible_versions(&world, &group_id, &asset_id);
    let Some((latest_key, latest_record)) = versions.last() else {
        return Err(not_found(&group_id, &asset_id, None));
    };
    let mut latest = asset_json(&world, latest_key, latest_record);
    latest["versions"] = Value::Array(
        versions
            .iter()
            .rev()
            .map(|(key, record)| json!({ "version": key.2, "status": "published", "createdDate": record.created_ms }))
            .collect(),
    );
    Ok(Json(latest))
}

/// The visible versions of `group_id/asset_id`, oldest first.
fn visible_versions<'a>(world: &'a World, group_id: &str, asset_id: &str) -> Vec<(&'a AssetKey, &'a AssetRecord)> {
    let mut versions: Vec<(&AssetKey, &AssetRecord)> = world
        .assets
        .iter()
        .filter(|(key, _)| key.0 == group_id && key.1 == asset_id)
        .filter(|(key, _)| world.visible_asset(key).is_some())
        .collect();
    versions.sort_by(|a, b| compare_versions(&a.0.2, &b.0.2));
    versions
}

/// Epoch milliseconds as the ISO-8601 text Exchange v1 and the Graph API use.
pub(crate) fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The Exchange v1 asset object: the v2 fields plus v1's `createdAt`/`modifiedAt` (ISO text) and
/// every visible version, newest first (anypoint-cli's `exchange asset describe` shows `name`,
/// `modifiedAt`, `status`, `type` and `versions[].version`).
fn asset_v1_json(world: &World, key: &AssetKey, record: &AssetRecord) -> Value {
    let mut asset = asset_json(world, key, record);
    asset["createdAt"] = json!(iso_time(record.created_ms));
    asset["modifiedAt"] = json!(iso_time(record.created_ms));
    asset["versions"] = Value::Array(
        visible_versions(world, &key.0, &key.1)
            .iter()
            .rev()
            .map(|(k, r)| {
                json!({ "groupId": k.0, "assetId": k.1, "version": k.2, "status": "published",
                        "createdAt": iso_time(r.created_ms) })
            })
            .collect(),
    );
    asset
}

/// `GET /exchange/api/v1/assets/{groupId}/{assetId}/{version}` (`exchange asset describe g/a/v`).
pub(crate) async fn asset_v1_version(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((group_id, asset_id, version)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    authorize(&world, &headers)?;
    let key: AssetKey = (group_id, asset_id, version);
    match world.visible_asset(&key) {
        Some(record) => Ok(Json(asset_v1_json(&world, &key, record))),
        None => Err(not_found(&key.0, &key.1, Some(&key.2))),
    }
}

/// `GET /exchange/api/v1/assets/{groupId}/{assetId}`: the latest version (what `runtime-mgr
/// application deploy` without `--assetVersion` deploys).
pub(crate) async fn asset_v1_latest(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((group_id, asset_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    authorize(&world, &headers)?;
    let versions = visible_versions(&world, &group_id, &asset_id);
    let Some((key, record)) = versions.last() else {
        return Err(not_found(&group_id, &asset_id, None));
    };
    Ok(Json(asset_v1_json(&world, key, record)))
}

/// The latest visible version of every asset, for the Graph API's `assets` query.
pub(crate) fn latest_assets(world: &World) -> Vec<(AssetKey, i64)> {
    let mut names: Vec<(&str, &str)> = world.assets.keys().map(|k| (k.0.as_str(), k.1.as_str())).collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|(group_id, asset_id)| {
            visible_versions(world, group_id, asset_id)
                .last()
                .map(|(key, record)| ((*key).clone(), record.created_ms))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_order_numerically() {
        assert_eq!(super::compare_versions("1.10.0", "1.9.0"), std::cmp::Ordering::Greater);
        assert_eq!(super::compare_versions("2.1.0", "2.2.0"), std::cmp::Ordering::Less);
    }
}
