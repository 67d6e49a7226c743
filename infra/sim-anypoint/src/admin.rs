//! Test and operator controls under `/__admin`, plus the middleware that counts requests, injects
//! faults and adds the Access Management rate-limit headers.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{ApiError, now_ms};
use crate::state::{FaultSpec, SimState};

/// The documented Access Management limit (KB 001116018 shows 500 per minute).
const ACCOUNTS_RATE_LIMIT: u64 = 500;

fn parse_one_or_many<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<Vec<T>, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Malformed JSON request body: {e}")))?;
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    items
        .into_iter()
        .map(|item| serde_json::from_value(item).map_err(|e| ApiError::bad_request(format!("Invalid request: {e}"))))
        .collect()
}

/// `GET /__admin/state`: deployments per environment, assets, pending faults, request counts.
pub(crate) async fn get_state(State(state): State<SimState>) -> Json<Value> {
    Json(state.snapshot())
}

/// `POST /__admin/reset`: back to the seed (no deployments, tokens, faults; counters zeroed).
pub(crate) async fn reset(State(state): State<SimState>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}

/// `POST /__admin/faults`: queue one fault or an array of them.
pub(crate) async fn add_faults(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let faults: Vec<FaultSpec> = parse_one_or_many(&body)?;
    if let Some(bad) = faults.iter().find(|f| !(400..=599).contains(&f.status)) {
        return Err(ApiError::bad_request(format!(
            "status must be 400-599, got {}",
            bad.status
        )));
    }
    let mut world = state.world();
    world.faults.extend(faults);
    Ok((StatusCode::CREATED, Json(json!({ "pending_faults": world.faults }))).into_response())
}

/// `DELETE /__admin/faults`: drop pending faults.
pub(crate) async fn clear_faults(State(state): State<SimState>) -> StatusCode {
    state.world().faults.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct AssetRequest {
    group_id: Option<String>,
    asset_id: String,
    version: Option<String>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    failing: bool,
    reason: Option<String>,
    #[serde(default)]
    publication_lag_ms: u64,
}

/// `POST /__admin/assets`: publish asset versions (optionally failing, optionally with a lag).
pub(crate) async fn add_assets(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let requests: Vec<AssetRequest> = parse_one_or_many(&body)?;
    let mut world = state.world();
    let mut added = Vec::new();
    for request in requests {
        let versions = request.versions.iter().chain(request.version.as_ref());
        for version in versions {
            let group = request.group_id.as_deref();
            world.add_asset(
                group,
                &request.asset_id,
                version,
                Duration::from_millis(request.publication_lag_ms),
            );
            if request.failing {
                world.mark_failing(group, &request.asset_id, version, request.reason.clone());
            }
            added.push(json!({ "group_id": world.group(group), "asset_id": request.asset_id, "version": version }));
        }
    }
    if added.is_empty() {
        return Err(ApiError::bad_request("give version or versions"));
    }
    Ok((StatusCode::CREATED, Json(json!({ "added": added }))).into_response())
}

#[derive(Deserialize)]
struct FailingRequest {
    group_id: Option<String>,
    asset_id: String,
    version: String,
    reason: Option<String>,
}

/// `POST /__admin/failing-versions`: mark versions as failing to start (publishing them too).
pub(crate) async fn add_failing(State(state): State<SimState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let requests: Vec<FailingRequest> = parse_one_or_many(&body)?;
    let mut world = state.world();
    for request in requests {
        world.mark_failing(
            request.group_id.as_deref(),
            &request.asset_id,
            &request.version,
            request.reason,
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /__admin/tokens/expire`: invalidate every issued token (the next call gets a 401).
pub(crate) async fn expire_tokens(State(state): State<SimState>) -> StatusCode {
    state.expire_tokens();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsRequest {
    client_id: Option<String>,
    client_secret: String,
    refused_status: Option<u16>,
}

/// `POST /__admin/credentials`: rotate the connected app's secret; old tokens are refused.
pub(crate) async fn rotate_credentials(State(state): State<SimState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let request: CredentialsRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("Invalid credentials: {e}")))?;
    state
        .rotate_credentials(
            request.client_id.as_deref(),
            &request.client_secret,
            request.refused_status.unwrap_or(401),
        )
        .map_err(ApiError::bad_request)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsRequest {
    apply_delay_ms: Option<u64>,
    token_ttl_seconds: Option<u64>,
}

/// `POST /__admin/settings`: change `apply_delay_ms` and/or `token_ttl_seconds` at runtime.
pub(crate) async fn settings(State(state): State<SimState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let request: SettingsRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("Invalid settings: {e}")))?;
    let mut world = state.world();
    if let Some(ms) = request.apply_delay_ms {
        world.config.apply_delay = Duration::from_millis(ms);
    }
    if let Some(seconds) = request.token_ttl_seconds {
        world.config.token_ttl = Duration::from_secs(seconds.max(1));
    }
    Ok(Json(json!({
        "apply_delay_ms": world.config.apply_delay.as_millis() as u64,
        "token_ttl_seconds": world.config.token_ttl.as_secs(),
    })))
}

/// `POST /cli/api/v1/analytics/{event|error}`: anypoint-cli's usage analytics, accepted and
/// dropped (not simulated; the CLI ignores the answer anyway).
pub(crate) async fn analytics() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Unknown routes: a JSON 404 like the platform's.
pub(crate) async fn fallback(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("No route for {method} {}", uri.path()))
}

fn fault_response(fault: &FaultSpec) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let default_message = match fault.status {
        // The Access Management wording when its rate limit is hit (§8.2).
        503 => "Back-end server is at capacity".to_string(),
        _ => status.canonical_reason().unwrap_or("Injected fault").to_string(),
    };
    let mut error = ApiError::spring(status, fault.message.clone().unwrap_or(default_message));
    error.retry_after = fault.retry_after_seconds.map(|s| s.to_string());
    error.into_response()
}

/// Counts every non-admin request, answers with a queued fault when one matches (before or after
/// the handler), and adds `X-RateLimit-*` headers on `/accounts` (fixed 1-minute window; reset in
/// epoch seconds, §8.2). The limit itself is not enforced: inject 503s to simulate it.
pub(crate) async fn count_and_inject(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/__admin") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let fault = state.world().on_request(&method, &path);
    let mut response = match &fault {
        Some(fault) if !fault.after_handler => fault_response(fault),
        Some(fault) => {
            let handled = next.run(request).await;
            tracing::debug!(
                status = handled.status().as_u16(),
                "handler ran; answering with the injected fault"
            );
            fault_response(fault)
        }
        None => next.run(request).await,
    };
    if let Some(fault) = &fault {
        tracing::info!(%method, %path, status = fault.status, "injected fault");
    }
    if path.starts_with("/accounts") {
        let minute = (now_ms() / 60_000).max(0) as u64;
        let used = {
            let mut world = state.world();
            if world.accounts_window.0 != minute {
                world.accounts_window = (minute, 0);
            }
            world.accounts_window.1 += 1;
            world.accounts_window.1
        };
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", ACCOUNTS_RATE_LIMIT),
            ("x-ratelimit-remaining", ACCOUNTS_RATE_LIMIT.saturating_sub(used)),
            ("x-ratelimit-reset", (minute + 1) * 60),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
                headers.insert(name, value);
            }
        }
    }
    response
}
