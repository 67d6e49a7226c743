//! Application Manager v2 routes (D1–D5):
//! `/amc/application-manager/api/v2/organizations/{orgId}/environments/{envId}/deployments[/{id}]`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::deployment::Deployment;
use crate::http::{ApiError, authorize, json_object, uuid};
use crate::spec::{check_and_normalize, lift_legacy_runtime, merge, valid_name};
use crate::state::{AssetKey, SimState, World};

/// Checks the token, the organisation and the environment.
fn check_scope(world: &World, headers: &HeaderMap, org_id: &str, env_id: &str) -> Result<(), ApiError> {
    authorize(world, headers)?;
    if org_id != world.config.org_id {
        return Err(ApiError::spring(
            StatusCode::FORBIDDEN,
            format!("No access to organization {org_id}"),
        ));
    }
    if world.environment_name(env_id).is_none() {
        return Err(ApiError::not_found(format!("Environment {env_id} not found")));
    }
    Ok(())
}

/// The configured failure for an asset version, if it is a failing one.
fn failure_for(world: &World, asset: &AssetKey) -> Option<String> {
    let configured = world.failing.get(asset)?;
    Some(configured.clone().unwrap_or_else(|| {
        format!(
            "CrashLoopBackoff: back-off restarting failed container; Mule application {}:{} failed to start (simulated)",
            asset.1, asset.2
        )
    }))
}

fn deployment_in<'a>(world: &'a mut World, env_id: &str, id: &str) -> Result<&'a mut Deployment, ApiError> {
    world
        .deployments
        .get_mut(id)
        .filter(|d| d.env_id == env_id)
        .ok_or_else(|| ApiError::not_found(format!("Deployment {id} not found")))
}

/// D1: slim items, filtered by `targetId`/`provider`, paged by `offset`/`limit` (all when no limit).
pub(crate) async fn list(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, env_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut world = state.world();
    check_scope(&world, &headers, &org_id, &env_id)?;
    world.advance_all();
    let number = |key: &str| -> Result<Option<usize>, ApiError> {
        query
            .get(key)
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| ApiError::bad_request(format!("Invalid {key} '{v}'")))
            })
            .transpose()
    };
    let (offset, limit) = (number("offset")?.unwrap_or(0), number("limit")?);
    if query.get("provider").is_some_and(|p| !p.eq_ignore_ascii_case("MC")) {
        return Ok(Json(json!({ "total": 0, "items": [] })));
    }
    let mut matching: Vec<&Deployment> = world
        .deployments
        .values()
        .filter(|d| d.env_id == env_id)
        .filter(|d| query.get("targetId").is_none_or(|t| *t == d.checked.target_id))
        .collect();
    matching.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    let delay = world.config.apply_delay;
    let items: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|d| d.summary_json(delay))
        .collect();
    Ok(Json(json!({ "total": matching.len(), "items": items })))
}

/// D2: validate, reject duplicates on the target, create APPLYING; 202 with the detail.
pub(crate) async fn create(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, env_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut world = state.world();
    check_scope(&world, &headers, &org_id, &env_id)?;
    let mut body = json_object(&body)?;
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request("name is required"));
    }
    if !valid_name(&name) {
        return Err(ApiError::bad_request(format!(
            "Invalid application name '{name}': it must be 3 to 42 characters long, contain only letters, \
             numbers and dashes, start with a letter and not end with a dash"
        )));
    }
    lift_legacy_runtime(&mut body);
    let mut spec = json!({ "target": body.get("target").cloned().unwrap_or(Value::Null),
                           "application": body.get("application").cloned().unwrap_or(Value::Null) });
    if let Some(labels) = body.get("labels") {
        spec["labels"] = labels.clone();
    }
    let checked = check_and_normalize(&name, &mut spec, &world)?;
    // Names are unique per target (§6.1); the simulator scopes that to the environment, so the same
    // app can run in Sandbox and Production on one shared space.
    let taken = world
        .deployments
        .values()
        .any(|d| d.env_id == env_id && d.name == name && d.checked.target_id == checked.target_id);
    if taken {
        return Err(ApiError::bad_request(format!(
            "The name of the application '{name}' is already used in the target"
        )));
    }
    let failure = failure_for(&world, &checked.asset);
    let deployment = Deployment::create(uuid(), name, env_id, spec, checked, failure);
    let detail = deployment.detail_json(world.config.apply_delay);
    tracing::info!(id = %deployment.id, name = %deployment.name, "simulated deployment created");
    world.deployments.insert(deployment.id.clone(), deployment);
    Ok((StatusCode::ACCEPTED, Json(detail)).into_response())
}

/// D3: the detail.
pub(crate) async fn get(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, env_id, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut world = state.world();
    check_scope(&world, &headers, &org_id, &env_id)?;
    let delay = world.config.apply_delay;
    let deployment = deployment_in(&mut world, &env_id, &id)?;
    deployment.advance(delay);
    Ok(Json(deployment.detail_json(delay)))
}

/// D4: deep-merge, validate, new `desiredVersion`, roll out; 200 with the detail, or 304 when the
/// merged spec is the stored one.
pub(crate) async fn patch(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, env_id, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut world = state.world();
    check_scope(&world, &headers, &org_id, &env_id)?;
    let mut body = json_object(&body)?;
    let delay = world.config.apply_delay;
    let (name, mut spec, target_id) = {
        let deployment = deployment_in(&mut world, &env_id, &id)?;
        deployment.advance(delay);
        (
            deployment.name.clone(),
            deployment.spec.clone(),
            deployment.checked.target_id.clone(),
        )
    };
    if let Some(new_name) = body.get("name").and_then(Value::as_str)
        && new_name != name
    {
        return Err(ApiError::bad_request(format!(
            "An application cannot be renamed ('{name}' to '{new_name}')"
        )));
    }
    lift_legacy_runtime(&mut body);
    // Only the spec parts are merged; read-only fields a GET-modify-PATCH client echoes are ignored.
    let patch: serde_json::Map<String, Value> = body
        .into_iter()
        .filter(|(key, _)| matches!(key.as_str(), "target" | "application" | "labels"))
        .collect();
    merge(&mut spec, &Value::Object(patch));
    let checked = check_and_normalize(&name, &mut spec, &world)?;
    if checked.target_id != target_id {
        return Err(ApiError::bad_request(format!(
            "The target of a deployment cannot be changed (from '{target_id}' to '{}')",
            checked.target_id
        )));
    }
    let failure = failure_for(&world, &checked.asset);
    let deployment = deployment_in(&mut world, &env_id, &id)?;
    if deployment.spec == spec && deployment.status() != "FAILED" {
        // Nothing would change: the platform answers 304 without a body and starts no new spec
        // version (anypoint-cli's start/stop report it as "Application already in this state").
        // Unconfirmed for PATCHes other than desiredState; treating them alike is the reading
        // that keeps a retried PATCH from restarting the replicas. A FAILED rollout is retried
        // by the same spec (the cause may be gone), so it is not "nothing to change".
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    deployment.start_rollout(spec, checked, failure);
    tracing::info!(id = %deployment.id, spec = %deployment.desired_version, "simulated deployment patched");
    Ok(Json(deployment.detail_json(delay)).into_response())
}

/// D5: 204; later GETs answer 404.
pub(crate) async fn delete(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, env_id, id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let mut world = state.world();
    check_scope(&world, &headers, &org_id, &env_id)?;
    deployment_in(&mut world, &env_id, &id)?;
    world.deployments.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}
