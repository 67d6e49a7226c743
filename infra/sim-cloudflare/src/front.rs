//! The front door: site hosts are served before any routing; API requests are counted, rate-limited and
//! exposed to injected faults before they reach their handler.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{TimeDelta, Utc};

use crate::envelope::ApiError;
use crate::serve::serve;
use crate::state::SimState;

/// The API's path prefix (the base URL is `http://host:port/client/v4`).
pub(crate) const API_PREFIX: &str = "/client/v4";

/// Middleware wrapping the whole router.
pub(crate) async fn front_door(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().host().map(str::to_string));
    if let Some(target) = host.as_deref().and_then(|h| state.site_from_host(h)) {
        let path = request.uri().path().to_string();
        return serve(&state, &target, request.method(), request.headers(), &path, "");
    }
    let path = request.uri().path();
    if path == API_PREFIX || path.starts_with("/client/v4/") {
        let (early, delay) = {
            let mut world = state.world();
            world.api_requests += 1;
            *world
                .requests_by_endpoint
                .entry(classify(request.method(), path))
                .or_default() += 1;
            match rate_limited(&state, &mut world) {
                Some(limited) => (Some(limited), std::time::Duration::ZERO),
                None => {
                    let faults = world.take_request_faults(request.method(), path);
                    (faults.response, faults.delay)
                }
            }
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Some(response) = early {
            return response;
        }
    }
    next.run(request).await
}

/// A 429 when the configured budget is used up in the current window.
fn rate_limited(state: &SimState, world: &mut crate::state::World) -> Option<Response> {
    let limit = state.config().rate_limit?;
    let now = Utc::now();
    let window = TimeDelta::from_std(limit.window).unwrap_or(TimeDelta::MAX);
    let (start, count) = match world.rate_window {
        Some((start, count)) if now - start < window => (start, count + 1),
        _ => (now, 1),
    };
    world.rate_window = Some((start, count));
    if count <= limit.requests {
        return None;
    }
    let left = (start + window - now).num_milliseconds().max(0) as u64;
    Some(ApiError::rate_limited(left.div_ceil(1000).max(1)).into_response())
}

/// A short name for the endpoint of an API request, for the request counts in `/__admin/state`.
pub(crate) fn classify(method: &Method, path: &str) -> &'static str {
    let path = path.strip_prefix(API_PREFIX).unwrap_or(path);
    let get = method == Method::GET;
    if path.starts_with("/pages/assets/") {
        return match path.rsplit('/').next() {
            Some("check-missing") => "check-missing",
            Some("upload") => "upload",
            Some("upsert-hashes") => "upsert-hashes",
            _ => "other",
        };
    }
    if !path.contains("/pages/projects") {
        return "other";
    }
    if path.ends_with("/upload-token") {
        "upload-token"
    } else if path.ends_with("/history/logs") {
        "deployment-logs"
    } else if path.ends_with("/rollback") {
        "rollback"
    } else if path.ends_with("/retry") {
        "retry-deployment"
    } else if path.ends_with("/deployments") {
        if get { "list-deployments" } else { "create-deployment" }
    } else if path.contains("/deployments/") {
        if get { "get-deployment" } else { "delete-deployment" }
    } else if path.ends_with("/pages/projects") {
        if get { "list-projects" } else { "create-project" }
    } else if get {
        "get-project"
    } else if method == Method::DELETE {
        "delete-project"
    } else {
        "update-project"
    }
}
