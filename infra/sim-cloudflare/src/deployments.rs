//! Deployment endpoints (E8–E14).

use std::collections::BTreeMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use crate::assets::is_asset_key;
use crate::env_vars::redacted_vars;
use crate::envelope::{ApiError, codes, ok, ok_page};
use crate::projects::{QueryMap, paging};
use crate::rules::{parse_headers, parse_redirects};
use crate::state::{DeploymentRecord, ProjectRecord, SimState, new_uuid};

/// Form fields the API knows (reference §3.8). Others are ignored with a warning: a newer client may send
/// fields this simulator does not know, and rejecting them would break it for no benefit.
const KNOWN_FIELDS: [&str; 13] = [
    "manifest",
    "branch",
    "commit_message",
    "commit_hash",
    "commit_dirty",
    "_headers",
    "_redirects",
    "_routes.json",
    "_worker.js",
    "_worker.bundle",
    "functions-filepath-routing-config.json",
    "wrangler_config_hash",
    "pages_build_output_dir",
];
/// The largest `_worker.bundle` / `_worker.js`.
const MAX_WORKER_BYTES: usize = 25 * 1024 * 1024;

/// The branch alias: lowercased, every character that is not a letter or digit replaced by `-`.
/// [uncertain] Cloudflare's truncation is undocumented; here only to the 63-character DNS label limit,
/// with dashes trimmed from the ends so the label stays valid.
pub(crate) fn branch_alias(branch: &str) -> String {
    let slug: String = branch
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed: String = slug.trim_matches('-').chars().take(63).collect();
    let trimmed = trimmed.trim_end_matches('-').to_string();
    if trimmed.is_empty() {
        "branch".to_string()
    } else {
        trimmed
    }
}

fn find<'a>(project: &'a ProjectRecord, id: &str) -> Result<&'a DeploymentRecord, ApiError> {
    // The full id is the API's; the short id is accepted too, as a convenience.
    project
        .deployments
        .iter()
        .find(|d| d.id == id || d.short_id == id)
        .ok_or_else(ApiError::deployment_not_found)
}

fn text(fields: &BTreeMap<String, Vec<u8>>, name: &str) -> Result<Option<String>, ApiError> {
    match fields.get(name) {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes.clone())
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("The form field '{name}' is not UTF-8 text."))),
    }
}

/// Reads and checks the multipart fields of create-deployment into a record (not yet stored).
fn read_form(fields: &BTreeMap<String, Vec<u8>>, max_files: u64) -> Result<DeploymentRecord, ApiError> {
    let manifest_text = text(fields, "manifest")?
        .ok_or_else(|| ApiError::invalid("The form field 'manifest' is required for a direct upload."))?;
    let manifest: BTreeMap<String, Value> = serde_json::from_str(&manifest_text)
        .map_err(|e| ApiError::invalid(format!("The manifest is not a JSON object: {e}")))?;
    if manifest.len() as u64 > max_files {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::TOO_LARGE,
            format!("Pages only supports up to {max_files} files in a deployment for your current plan."),
        ));
    }
    let mut files = BTreeMap::new();
    for (path, key) in manifest {
        match key.as_str() {
            Some(key) if path.starts_with('/') && is_asset_key(key) => files.insert(path, key.to_string()),
            _ => return Err(ApiError::invalid(format!("Invalid manifest entry {path:?}: {key}"))),
        };
    }
    let commit_dirty = match text(fields, "commit_dirty")?.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "commit_dirty must be 'true' or 'false', not {other:?}."
            )));
        }
    };
    if fields.contains_key("_worker.js") && fields.contains_key("_worker.bundle") {
        return Err(ApiError::invalid("_worker.js and _worker.bundle cannot both be sent."));
    }
    let mut warnings = Vec::new();
    for worker in ["_worker.js", "_worker.bundle"] {
        match fields.get(worker) {
            Some(bytes) if bytes.len() > MAX_WORKER_BYTES => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    codes::TOO_LARGE,
                    format!("{worker} is larger than 25 MiB."),
                ));
            }
            Some(_) => warnings.push(format!("{worker} received; the simulator serves static assets only")),
            None => {}
        }
    }
    for name in fields.keys().filter(|name| !KNOWN_FIELDS.contains(&name.as_str())) {
        tracing::warn!(field = %name, "unknown create-deployment form field ignored");
    }
    let lossy = |name: &str| fields.get(name).map(|b| String::from_utf8_lossy(b).into_owned());
    let (header_rules, header_warnings) = parse_headers(&lossy("_headers").unwrap_or_default());
    let (redirect_rules, redirect_warnings) = parse_redirects(&lossy("_redirects").unwrap_or_default());
    warnings.extend(header_warnings.into_iter().chain(redirect_warnings));
    let id = new_uuid();
    Ok(DeploymentRecord {
        short_id: id[..8].to_string(),
        id,
        production: false,
        branch: text(fields, "branch")?.filter(|b| !b.trim().is_empty()),
        alias: String::new(),
        commit_hash: text(fields, "commit_hash")?,
        commit_message: text(fields, "commit_message")?,
        commit_dirty,
        env_vars: Value::Null,
        manifest: files,
        header_rules,
        redirect_rules,
        warnings,
        created_on: Utc::now(),
        step_delay: std::time::Duration::ZERO,
        failure: None,
        settled: false,
    })
}

/// Stores a new deployment: environment from the branch, stage timing and any injected failure.
fn store(state: &SimState, name: &str, mut record: DeploymentRecord) -> Result<Response, ApiError> {
    let mut world = state.world();
    let now = Utc::now();
    let stored = world.assets.get(name);
    let missing: Vec<&String> = record
        .manifest
        .values()
        .filter(|key| !stored.is_some_and(|s| s.contains_key(*key)))
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(5).map(|k| k.as_str()).collect();
        let message = format!(
            "{} manifest assets were never uploaded (e.g. {}); upload them first.",
            missing.len(),
            shown.join(", ")
        );
        return Err(ApiError::new(StatusCode::BAD_REQUEST, codes::MISSING_ASSET, message));
    }
    record.failure = world.take_deployment_failure();
    record.step_delay = world.step_delay;
    record.created_on = now;
    let project = world.projects.get_mut(name).ok_or_else(ApiError::project_not_found)?;
    let branch = record
        .branch
        .clone()
        .unwrap_or_else(|| project.production_branch.clone());
    record.production = branch == project.production_branch;
    let environment = if record.production { "production" } else { "preview" };
    record.env_vars = redacted_vars(&project.deployment_configs[environment]["env_vars"]);
    record.alias = branch_alias(&branch);
    tracing::info!(project = name, deployment = %record.id, branch, production = record.production, "deployment created");
    project.deployments.push(record);
    drop(world);
    // Read back through `world()`, so a zero step delay shows the deployment already finished.
    let world = state.world();
    let project = world.projects.get(name).ok_or_else(ApiError::project_not_found)?;
    let created = project.deployments.last().ok_or_else(ApiError::deployment_not_found)?;
    Ok(ok(state.deployment_json(project, created, now)))
}

/// `POST .../deployments` (multipart/form-data).
pub(crate) async fn create(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    if !state.world().projects.contains_key(&name) {
        return Err(ApiError::project_not_found());
    }
    let mut multipart =
        multipart.map_err(|e| ApiError::invalid(format!("Expected a multipart/form-data body: {e}")))?;
    let mut fields = BTreeMap::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::invalid(format!("Unreadable multipart body: {e}")))?
    {
        let field_name = field.name().unwrap_or_default().to_string();
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::invalid(format!("Unreadable form field '{field_name}': {e}")))?;
        if fields.insert(field_name.clone(), data.to_vec()).is_some() {
            return Err(ApiError::invalid(format!(
                "The form field '{field_name}' was sent twice."
            )));
        }
    }
    let record = read_form(&fields, state.config().max_file_count_allowed)?;
    store(&state, &name, record)
}

/// `GET .../deployments?env=production|preview&page=&per_page=`, newest first.
pub(crate) async fn list(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name)): Path<(String, String)>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let production = match query.get("env").map(String::as_str) {
        None | Some("") => None,
        Some("production") => Some(true),
        Some("preview") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "env must be 'production' or 'preview', not {other:?}."
            )));
        }
    };
    let (page, per_page) = paging(&query)?;
    let world = state.world();
    let project = world.projects.get(&name).ok_or_else(ApiError::project_not_found)?;
    let now = Utc::now();
    let matching: Vec<&DeploymentRecord> = project
        .deployments
        .iter()
        .rev()
        .filter(|d| production.is_none_or(|p| d.production == p))
        .collect();
    let items = matching
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|d| state.deployment_json(project, d, now))
        .collect();
    Ok(ok_page(items, page, per_page, matching.len()))
}

/// `GET .../deployments/{id}`.
pub(crate) async fn get(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let world = state.world();
    let project = world.projects.get(&name).ok_or_else(ApiError::project_not_found)?;
    Ok(ok(state.deployment_json(project, find(project, &id)?, Utc::now())))
}

/// `DELETE .../deployments/{id}?force=`: not the production deployment; an aliased one only with force.
pub(crate) async fn delete(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name, id)): Path<(String, String, String)>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let force = query.get("force").map(String::as_str) == Some("true");
    let mut world = state.world();
    let project = world.projects.get_mut(&name).ok_or_else(ApiError::project_not_found)?;
    let id = find(project, &id)?.id.clone();
    let in_use = |why: &str| ApiError::new(StatusCode::BAD_REQUEST, codes::DEPLOYMENT_IN_USE, why);
    if project.canonical.as_deref() == Some(id.as_str()) {
        return Err(in_use("The active production deployment cannot be deleted."));
    }
    if project.aliases.values().any(|target| *target == id) && !force {
        return Err(in_use(
            "The latest deployment for a branch cannot be deleted; use force=true to delete it.",
        ));
    }
    project.aliases.retain(|_, target| *target != id);
    project.deployments.retain(|d| d.id != id);
    Ok(ok(Value::Null))
}

/// `GET .../deployments/{id}/history/logs` (`size` is accepted and ignored).
pub(crate) async fn logs(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let world = state.world();
    let project = world.projects.get(&name).ok_or_else(ApiError::project_not_found)?;
    let lines = find(project, &id)?.log_lines(Utc::now());
    let data: Vec<Value> = lines
        .into_iter()
        .map(|(ts, line)| json!({ "line": line, "ts": crate::state::timestamp(ts) }))
        .collect();
    Ok(ok(
        json!({ "total": data.len(), "includes_container_logs": false, "data": data }),
    ))
}

/// `POST .../deployments/{id}/rollback`: a successful production deployment serves production again.
/// Returns the target deployment ([uncertain] whether Cloudflare returns the target or a new record).
pub(crate) async fn rollback(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let mut world = state.world();
    let now = Utc::now();
    let project = world.projects.get_mut(&name).ok_or_else(ApiError::project_not_found)?;
    let target = find(project, &id)?;
    let view = target.stage_view(now);
    if !target.production || !view.succeeded {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_ROLLBACK_TARGET,
            "You can only rollback to successful builds on production.",
        ));
    }
    let target_id = target.id.clone();
    tracing::info!(project = %name, deployment = %target_id, "production rolled back");
    project.canonical = Some(target_id.clone());
    let target = find(project, &target_id)?;
    Ok(ok(state.deployment_json(project, target, now)))
}

/// `POST .../deployments/{id}/retry`: a new deployment with the same files, branch and metadata.
pub(crate) async fn retry(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let mut copy = {
        let world = state.world();
        let project = world.projects.get(&name).ok_or_else(ApiError::project_not_found)?;
        find(project, &id)?.clone()
    };
    copy.id = new_uuid();
    copy.short_id = copy.id[..8].to_string();
    copy.settled = false;
    copy.failure = None;
    store(&state, &name, copy)
}

/// `POST .../deployments/{id}/tails`: the simulator runs no Functions, so every deployment is a static
/// site, and Cloudflare refuses to tail a static site with code 8000098 (its message as reported in
/// workers-sdk#14692 and by users; wrangler prints it). [uncertain] The HTTP status is not documented;
/// 400 is the tolerant choice, since wrangler goes by the envelope's `success`, not the status.
pub(crate) async fn tail(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((account, name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, &account)?;
    let world = state.world();
    let project = world.projects.get(&name).ok_or_else(ApiError::project_not_found)?;
    find(project, &id)?;
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::STATIC_SITE_TAIL,
        "You can not tail this deployment as it does not have a Pages Function, you cannot tail a static site. \
         Deploy a Function to begin tailing.",
    ))
}
