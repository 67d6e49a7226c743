//! The asset endpoints (E5–E7), authenticated by the upload JWT rather than the API token.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use crate::envelope::{ApiError, codes, ok, parse_json};
use crate::state::{AssetRecord, SimState};

/// The largest asset Pages accepts (25 MiB decoded).
pub(crate) const MAX_ASSET_BYTES: usize = 25 * 1024 * 1024;

/// An asset key: 32 lowercase hex characters.
pub(crate) fn is_asset_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Deserialize)]
struct Hashes {
    hashes: Vec<Value>,
}

/// The `hashes` of a check-missing / upsert body, each checked to be an asset key.
fn read_hashes(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let Hashes { hashes } = parse_json(body)?;
    hashes
        .into_iter()
        .map(|hash| match hash {
            Value::String(key) if is_asset_key(&key) => Ok(key),
            other => Err(ApiError::invalid(format!(
                "Invalid hash {other}: expected 32 lowercase hexadecimal characters."
            ))),
        })
        .collect()
}

/// `POST /pages/assets/check-missing` `{"hashes": [...]}` → the hashes not stored (in request order,
/// duplicates tolerated and reported once).
pub(crate) async fn check_missing(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let world = state.world();
    let project = state.verify_jwt(&world, &headers, Utc::now())?;
    let hashes = read_hashes(&body)?;
    let stored = world.assets.get(&project);
    let mut reported = HashSet::new();
    let missing: Vec<String> = hashes
        .into_iter()
        .filter(|hash| !stored.is_some_and(|assets| assets.contains_key(hash)))
        .filter(|hash| reported.insert(hash.clone()))
        .collect();
    Ok(ok(missing))
}

#[derive(Deserialize)]
struct UploadMetadata {
    #[serde(rename = "contentType", default)]
    content_type: Option<String>,
}

#[derive(Deserialize)]
struct UploadEntry {
    key: String,
    value: String,
    #[serde(default)]
    metadata: Option<UploadMetadata>,
    /// KV bulk-write semantics: without `base64: true` the value is the text itself.
    #[serde(default)]
    base64: bool,
}

/// `POST /pages/assets/upload`: a JSON array of `{key, value, metadata: {contentType}, base64}`.
/// The key is not recomputed: the extension that went into it is not sent (reference §13).
pub(crate) async fn upload(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    {
        // Check the JWT before decoding a body of up to ~54 MiB.
        let world = state.world();
        state.verify_jwt(&world, &headers, Utc::now())?;
    }
    let entries: Vec<UploadEntry> = parse_json(&body)?;
    let mut decoded = Vec::with_capacity(entries.len());
    for entry in entries {
        if !is_asset_key(&entry.key) {
            return Err(ApiError::invalid(format!(
                "Invalid key '{}': expected 32 lowercase hexadecimal characters.",
                entry.key
            )));
        }
        let content = if entry.base64 {
            STANDARD
                .decode(entry.value.as_bytes())
                .map_err(|e| ApiError::invalid(format!("The value of '{}' is not valid base64: {e}", entry.key)))?
        } else {
            entry.value.into_bytes()
        };
        if content.len() > MAX_ASSET_BYTES {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                codes::TOO_LARGE,
                format!("Asset '{}' is larger than 25 MiB.", entry.key),
            ));
        }
        let content_type = entry
            .metadata
            .and_then(|m| m.content_type)
            .unwrap_or_else(|| "application/octet-stream".to_string());
        decoded.push((entry.key, content, content_type));
    }
    let mut world = state.world();
    let now = Utc::now();
    // Verified again: the JWT may have been expired while the body was decoded.
    let project = state.verify_jwt(&world, &headers, now)?;
    let store = world.assets.entry(project).or_default();
    for (key, content, content_type) in decoded {
        store.insert(
            key,
            AssetRecord {
                content,
                content_type,
                last_used: now,
            },
        );
    }
    Ok(ok(Value::Null))
}

/// `POST /pages/assets/upsert-hashes` `{"hashes": [...]}`: marks stored assets as recently used.
pub(crate) async fn upsert_hashes(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut world = state.world();
    let now = Utc::now();
    let project = state.verify_jwt(&world, &headers, now)?;
    let hashes = read_hashes(&body)?;
    if let Some(store) = world.assets.get_mut(&project) {
        for hash in &hashes {
            if let Some(asset) = store.get_mut(hash) {
                asset.last_used = now;
            }
        }
    }
    Ok(ok(Value::Null))
}
