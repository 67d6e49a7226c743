//! Project endpoints (E1–E4, E15) and the upload token.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::SeedProject;
use crate::env_vars;
use crate::envelope::{ApiError, codes, ok, ok_page, parse_json};
use crate::state::{ProjectRef, SimState, complete_deployment_configs};

/// A query string, read without axum's plain-text rejections so errors stay in the v4 envelope.
pub(crate) type QueryMap = HashMap<String, String>;

/// `?page=&per_page=` (1-based; per_page clamped to 1..=100). [uncertain] Cloudflare's default page size
/// for these lists is undocumented; 25 is the simulator's.
pub(crate) fn paging(query: &QueryMap) -> Result<(usize, usize), ApiError> {
    let number = |name: &str, default: usize| match query.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ApiError::invalid(format!("{name} must be a positive integer, not {text:?}."))),
    };
    Ok((number("page", 1)?.max(1), number("per_page", 25)?.clamp(1, 100)))
}

/// Pages project names: 1–58 characters, lowercase letters, digits and `-`, not starting or ending with `-`.
fn valid_project_name(name: &str) -> bool {
    (1..=58).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// `GET /accounts/{a}/pages/projects`.
pub(crate) async fn list_projects(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(account): Path<String>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let (page, per_page) = paging(&query)?;
    let world = state.world();
    let now = Utc::now();
    let all: Vec<Value> = world.projects.values().map(|p| state.project_json(p, now)).collect();
    let total = all.len();
    let items = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    Ok(ok_page(items, page, per_page, total))
}

#[derive(Deserialize)]
struct CreateProject {
    name: Option<String>,
    production_branch: Option<String>,
    #[serde(default)]
    deployment_configs: Option<Value>,
}

/// `POST /accounts/{a}/pages/projects` with `{name, production_branch, deployment_configs?}`.
pub(crate) async fn create_project(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let request: CreateProject = parse_json(&body)?;
    let name = request.name.unwrap_or_default();
    if !valid_project_name(&name) {
        return Err(ApiError::invalid(
            "Invalid project name: use 1-58 lowercase letters, digits and dashes, not starting or ending with a dash.",
        ));
    }
    let Some(branch) = request.production_branch.filter(|b| !b.trim().is_empty()) else {
        return Err(ApiError::invalid("production_branch is required."));
    };
    let mut world = state.world();
    if world.projects.contains_key(&name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::PROJECT_EXISTS,
            "A project with this name already exists. Choose a different project name.",
        ));
    }
    let now = Utc::now();
    let configs = request.deployment_configs.unwrap_or_else(|| json!({}));
    env_vars::validate(&configs)?;
    let project = world.add_project(&SeedProject::new(name, branch), configs, now);
    tracing::info!(project = %project.name, "project created");
    Ok(ok(state.project_json(project, now)))
}

/// `GET /accounts/{a}/pages/projects/{p}`.
pub(crate) async fn get_project(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let world = state.world();
    let project = world.projects.get(&name).ok_or_else(ApiError::project_not_found)?;
    Ok(ok(state.project_json(project, Utc::now())))
}

/// `PATCH /accounts/{a}/pages/projects/{p}`: `production_branch`, and `deployment_configs` as a JSON merge patch.
pub(crate) async fn update_project(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let patch: Value = parse_json(&body)?;
    let config_changes = patch.get("deployment_configs").filter(|changes| !changes.is_null());
    if let Some(changes) = config_changes {
        env_vars::validate(changes)?;
    }
    let mut world = state.world();
    let project = world.projects.get_mut(&name).ok_or_else(ApiError::project_not_found)?;
    if let Some(branch) = patch.get("production_branch") {
        match branch.as_str().filter(|b| !b.trim().is_empty()) {
            Some(branch) => project.production_branch = branch.to_string(),
            None => return Err(ApiError::invalid("production_branch must be a non-empty string.")),
        }
    }
    if let Some(changes) = config_changes {
        // Merged key by key, `null` deleting one (what `wrangler pages secret put/delete` rely on);
        // both environments always exist afterwards, since wrangler dereferences them.
        env_vars::merge_patch(&mut project.deployment_configs, changes);
        project.deployment_configs = complete_deployment_configs(std::mem::take(&mut project.deployment_configs));
    }
    Ok(ok(state.project_json(project, Utc::now())))
}

/// `DELETE /accounts/{a}/pages/projects/{p}`: the project, its deployments and its assets.
pub(crate) async fn delete_project(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let mut world = state.world();
    world.projects.remove(&name).ok_or_else(ApiError::project_not_found)?;
    world.assets.remove(&name);
    world.live_jwts.retain(|_, jwt| jwt.project != name);
    Ok(ok(Value::Null))
}

/// `GET /accounts/{a}/pages/projects/{p}/upload-token`: `{"jwt": "..."}`.
pub(crate) async fn upload_token(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let mut world = state.world();
    let now = Utc::now();
    let project = world.projects.get(&name).ok_or_else(ApiError::project_not_found)?;
    // Detached from the borrow of `world`, so the new JWT can be recorded in it.
    let project = ProjectRef {
        id: project.id.clone(),
        name: name.clone(),
    };
    let jwt = state.mint_jwt(&mut world, &project, now);
    Ok(ok(json!({ "jwt": jwt })))
}
