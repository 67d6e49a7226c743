//! Access Management routes: token (A1), `me` (A2), organisation, environments (A3), hierarchy (A4).

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use crate::http::{ApiError, authorize, form_pairs, uuid};
use crate::state::{SimState, World};

/// The client-credentials fields, from a form or a JSON body.
#[derive(Default)]
struct TokenRequest {
    client_id: String,
    client_secret: String,
    grant_type: Option<String>,
}

/// Accepts both encodings (§3.1): JSON when the content type says so or the body looks like a JSON
/// object, form-encoded otherwise.
fn parse_token_request(headers: &HeaderMap, body: &[u8]) -> TokenRequest {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let looks_like_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if content_type.contains("json") || looks_like_json {
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let field = |key: &str| parsed.get(key).and_then(Value::as_str).map(str::to_string);
        return TokenRequest {
            client_id: field("client_id").unwrap_or_default(),
            client_secret: field("client_secret").unwrap_or_default(),
            grant_type: field("grant_type"),
        };
    }
    let mut request = TokenRequest::default();
    for (key, value) in form_pairs(body) {
        match key.as_str() {
            "client_id" => request.client_id = value,
            "client_secret" => request.client_secret = value,
            "grant_type" => request.grant_type = Some(value),
            _ => {}
        }
    }
    request
}

/// An OAuth-style error body. The real one is unconfirmed (§3.4); OAuth's shape is the plausible one.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> ApiError {
    ApiError {
        status,
        body: json!({ "error": error, "error_description": description }),
        retry_after: None,
    }
}

/// A1: `POST /accounts/api/v2/oauth2/token`.
pub(crate) async fn token(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = parse_token_request(&headers, &body);
    let mut world = state.world();
    // A missing grant_type is tolerated; a different one is refused as OAuth servers do.
    if request.grant_type.as_deref().is_some_and(|g| g != "client_credentials") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only client_credentials is supported",
        ));
    }
    if request.client_id != world.config.client_id || request.client_secret != world.config.client_secret {
        tracing::info!(client_id = %request.client_id, "simulated token request with wrong client credentials");
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client credentials",
        ));
    }
    let access_token = uuid();
    let ttl = world.config.token_ttl;
    world.tokens.insert(access_token.clone(), Instant::now() + ttl);
    world.tokens_issued += 1;
    Ok(Json(
        json!({ "access_token": access_token, "token_type": "bearer", "expires_in": ttl.as_secs() }),
    ))
}

/// A2: `GET /accounts/api/me`, connected-app shape (`client.org_id`).
pub(crate) async fn me(State(state): State<SimState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    authorize(&world, &headers)?;
    Ok(Json(json!({
        "client": {
            "client_id": world.config.client_id,
            "org_id": world.config.org_id,
            "name": "baton-sim-connected-app",
        }
    })))
}

/// The organisation as `memberOfOrganizations[]` and `users/me` name it.
fn organization_summary(world: &World) -> Value {
    json!({
        "id": world.config.org_id,
        "name": world.config.org_name,
        "isRoot": true,
        "isMaster": true,
        "parentId": null,
        "parentOrganizationIds": [],
        "subOrganizationIds": [],
    })
}

/// A stable user id for the connected app (the platform gives a client-credentials token a user
/// id of its own; its value is opaque).
fn app_user_id(world: &World) -> String {
    format!("user-{}", world.config.client_id)
}

/// `GET /accounts/api/users/me`: the user object anypoint-cli-v4 reads after every login
/// (`anypoint-cli-command/lib/login.js`: `id`, `organizationPreferences`,
/// `memberOfOrganizations[] {id, name, isRoot}`). For a connected app the reference is silent on
/// the exact shape; the tolerant reading is the user shape with the app's own organisation as
/// its only (root) membership and no preferences, so clients fall back to their defaults.
pub(crate) async fn users_me(State(state): State<SimState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    authorize(&world, &headers)?;
    let organization = organization_summary(&world);
    Ok(Json(json!({
        "user": {
            "id": app_user_id(&world),
            "username": world.config.client_id,
            "organizationId": world.config.org_id,
        },
        "id": app_user_id(&world),
        "username": world.config.client_id,
        "firstName": "baton-sim-connected-app",
        "lastName": "",
        "email": "",
        "enabled": true,
        "organizationId": world.config.org_id,
        "organization": organization,
        "organizationPreferences": {},
        "memberOfOrganizations": [organization],
        "contributorOfOrganizations": [organization],
    })))
}

fn environments_json(world: &World) -> Vec<Value> {
    world
        .config
        .environments
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "name": e.name,
                "organizationId": world.config.org_id,
                "isProduction": e.production,
                "type": if e.production { "production" } else { "sandbox" },
                "clientId": format!("env-client-{}", &e.id[..e.id.len().min(8)]),
            })
        })
        .collect()
}

fn check_org(world: &World, headers: &HeaderMap, org_id: &str) -> Result<(), ApiError> {
    authorize(world, headers)?;
    if org_id != world.config.org_id {
        return Err(ApiError::spring(
            StatusCode::FORBIDDEN,
            format!("No access to organization {org_id}"),
        ));
    }
    Ok(())
}

/// `GET /accounts/api/organizations/{orgId}`.
pub(crate) async fn organization(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(org_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    check_org(&world, &headers, &org_id)?;
    Ok(Json(json!({
        "id": world.config.org_id,
        "name": world.config.org_name,
        "isFederated": false,
        "isRoot": true,
        "isMaster": true,
        "ownerId": app_user_id(&world),
        "parentOrganizationIds": [],
        "subOrganizationIds": [],
        // deploy/modify in anypoint-cli read `entitlements.usageBasedPricing` to decide whether
        // to send vCores (false: the classic vCore subscription, which the simulator models).
        "entitlements": {
            "usageBasedPricing": { "muleRuntimeIntegration": { "enabled": false } },
            "createSubOrgs": false,
            "createEnvironments": true,
        },
        "environments": environments_json(&world),
    })))
}

/// A3: `GET /accounts/api/organizations/{orgId}/environments`.
pub(crate) async fn environments(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(org_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    check_org(&world, &headers, &org_id)?;
    let data = environments_json(&world);
    Ok(Json(json!({ "total": data.len(), "data": data })))
}

/// `GET /accounts/api/organizations/{orgId}/environments/{envId}`.
pub(crate) async fn environment(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, env_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    check_org(&world, &headers, &org_id)?;
    environments_json(&world)
        .into_iter()
        .find(|e| e["id"] == env_id.as_str())
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("Environment {env_id} not found")))
}

/// A4: `GET /accounts/api/organizations/{orgId}/hierarchy` (no business groups below the root).
pub(crate) async fn hierarchy(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(org_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    check_org(&world, &headers, &org_id)?;
    Ok(Json(
        json!({ "id": world.config.org_id, "name": world.config.org_name, "subOrganizations": [] }),
    ))
}
