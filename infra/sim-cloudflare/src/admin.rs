//! The admin endpoints (`/__admin/*`) and a small index page at `/`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::FaultSpec;
use crate::state::{SimState, timestamp};

/// One fault or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<FaultSpec>),
    One(FaultSpec),
}

impl SimState {
    /// Adds a fault (see [`FaultSpec`]). Returns its id (0 for settings applied at once).
    pub fn add_fault(&self, fault: FaultSpec) -> Result<u64, String> {
        self.world().add_fault(fault)
    }

    /// Drops every pending fault.
    pub fn clear_faults(&self) {
        self.world().faults.clear();
    }

    /// What `GET /__admin/state` returns: projects, deployments, asset counts, request counts, faults.
    pub fn snapshot(&self) -> Value {
        let world = self.world();
        let now = Utc::now();
        let mut deployments = Vec::new();
        let projects: Vec<Value> = world
            .projects
            .values()
            .map(|project| {
                for deployment in &project.deployments {
                    let view = deployment.stage_view(now);
                    let latest = &view.stages[view.latest];
                    deployments.push(json!({
                        "id": deployment.id,
                        "short_id": deployment.short_id,
                        "project": project.name,
                        "environment": if deployment.production { "production" } else { "preview" },
                        "branch": deployment.branch,
                        "alias": deployment.alias,
                        "url": self.deployment_url(&project.name, deployment),
                        "latest_stage": { "name": latest.name, "status": latest.status },
                        "files": deployment.manifest.len(),
                        "warnings": deployment.warnings,
                        "created_on": timestamp(deployment.created_on),
                    }));
                }
                json!({
                    "name": project.name,
                    "id": project.id,
                    "production_branch": project.production_branch,
                    "production_url": self.site_url(&project.name),
                    "canonical_deployment_id": project.canonical,
                    "aliases": project.aliases,
                    "deployments": project.deployments.len(),
                    "assets": world.assets.get(&project.name).map_or(0, |a| a.len()),
                })
            })
            .collect();
        let assets: usize = world.assets.values().map(|a| a.len()).sum();
        let asset_bytes: usize = world
            .assets
            .values()
            .flat_map(|a| a.values())
            .map(|a| a.content.len())
            .sum();
        json!({
            "projects": projects,
            "deployments": deployments,
            "assets": assets,
            "asset_bytes": asset_bytes,
            "requests": world.api_requests,
            "requests_by_endpoint": world.requests_by_endpoint,
            "jwts_issued": world.jwts_issued,
            "live_jwts": world.live_jwts.len(),
            "faults": world.faults,
            "settings": {
                "account_id": self.config().account_id,
                "public_host": self.public_host(),
                "step_delay_ms": world.step_delay.as_millis() as u64,
                "jwt_ttl_secs": world.jwt_ttl.as_secs_f64(),
                "max_file_count_allowed": self.config().max_file_count_allowed,
                "api_token_rotated": world.api_token != self.config().api_token,
                "refused_token_status": world.refused_token_status,
            },
        })
    }
}

fn admin_error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// `POST /__admin/faults`: one fault object or an array of them.
pub(crate) async fn add_faults(State(state): State<SimState>, body: Bytes) -> Response {
    let faults = match serde_json::from_slice::<OneOrMany>(&body) {
        Ok(OneOrMany::Many(faults)) => faults,
        Ok(OneOrMany::One(fault)) => vec![fault],
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                format!("not a fault (see the README for the kinds and their fields): {error}"),
            );
        }
    };
    let mut ids = Vec::new();
    for fault in faults {
        match state.add_fault(fault) {
            Ok(id) => ids.push(id),
            Err(error) => return admin_error(StatusCode::BAD_REQUEST, error),
        }
    }
    let pending = state.world().faults.clone();
    Json(json!({ "added": ids, "faults": pending })).into_response()
}

/// `GET /__admin/faults`: the pending faults.
pub(crate) async fn list_faults(State(state): State<SimState>) -> Response {
    let pending = state.world().faults.clone();
    Json(json!({ "faults": pending })).into_response()
}

/// `DELETE /__admin/faults`: drops the pending faults.
pub(crate) async fn clear_faults(State(state): State<SimState>) -> Response {
    state.clear_faults();
    Json(json!({ "faults": [] })).into_response()
}

/// `GET /__admin/state`.
pub(crate) async fn get_state(State(state): State<SimState>) -> Response {
    Json(state.snapshot()).into_response()
}

/// `POST /__admin/reset`: back to the seeded projects.
pub(crate) async fn reset(State(state): State<SimState>) -> Response {
    state.reset();
    Json(json!({ "reset": true })).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /`: the projects and their deployments, with links, for a person with a browser.
pub(crate) async fn index(State(state): State<SimState>) -> Response {
    let snapshot = state.snapshot();
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Cloudflare Pages simulator</title></head><body>\
         <h1>Cloudflare Pages simulator</h1><p>API base URL: <code>/client/v4</code>. Admin: \
         <a href=\"/__admin/state\">/__admin/state</a>.</p>",
    );
    let empty = Vec::new();
    let projects = snapshot["projects"].as_array().unwrap_or(&empty);
    let deployments = snapshot["deployments"].as_array().unwrap_or(&empty);
    for project in projects {
        let name = project["name"].as_str().unwrap_or_default();
        let url = project["production_url"].as_str().unwrap_or_default();
        html.push_str(&format!(
            "<h2>{}</h2><p>Production (branch <code>{}</code>): <a href=\"{url}/\">{url}/</a></p><ul>",
            escape(name),
            escape(project["production_branch"].as_str().unwrap_or_default()),
            url = escape(url)
        ));
        for deployment in deployments.iter().rev().filter(|d| d["project"] == name) {
            let url = escape(deployment["url"].as_str().unwrap_or_default());
            html.push_str(&format!(
                "<li><a href=\"{url}/\">{url}/</a> {} {} ({}/{})</li>",
                escape(deployment["environment"].as_str().unwrap_or_default()),
                escape(deployment["branch"].as_str().unwrap_or_default()),
                escape(deployment["latest_stage"]["name"].as_str().unwrap_or_default()),
                escape(deployment["latest_stage"]["status"].as_str().unwrap_or_default()),
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str("</body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}
