//! Project and Deployment objects as the API returns them (reference §4, §7).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::stages::StageInfo;
use crate::state::{DeploymentRecord, ProjectRecord, SimState, timestamp};

fn stage_json(stage: &StageInfo) -> Value {
    json!({
        "name": stage.name,
        "status": stage.status,
        "started_on": stage.started_on.map(timestamp),
        "ended_on": stage.ended_on.map(timestamp),
    })
}

impl SimState {
    /// `http://<short-id>.<project>.<public_host>`.
    pub(crate) fn deployment_url(&self, project: &str, deployment: &DeploymentRecord) -> String {
        self.site_url(&format!("{}.{project}", deployment.short_id))
    }

    /// The project's production host, `<project>.<public_host>` (Cloudflare's `subdomain`).
    pub(crate) fn project_subdomain(&self, project: &str) -> String {
        format!("{project}.{}", self.public_host())
    }

    /// A Deployment at `now`.
    pub(crate) fn deployment_json(
        &self,
        project: &ProjectRecord,
        deployment: &DeploymentRecord,
        now: DateTime<Utc>,
    ) -> Value {
        let view = deployment.stage_view(now);
        let latest = view.stages.get(view.latest).map(stage_json).unwrap_or(Value::Null);
        let stages: Vec<Value> = view.stages.iter().map(stage_json).collect();
        // Production lists custom domains here; the simulator has none, so `[]` (an empty list rather than
        // `null`, which naive clients iterate safely). Preview lists its branch alias URL.
        let aliases: Vec<String> = if deployment.production {
            Vec::new()
        } else {
            vec![self.site_url(&format!("{}.{}", deployment.alias, project.name))]
        };
        let modified = view
            .stages
            .iter()
            .filter_map(|stage| stage.ended_on.or(stage.started_on))
            .max()
            .unwrap_or(deployment.created_on);
        json!({
            "id": deployment.id,
            "short_id": deployment.short_id,
            "project_id": project.id,
            "project_name": project.name,
            "environment": if deployment.production { "production" } else { "preview" },
            "url": self.deployment_url(&project.name, deployment),
            "aliases": aliases,
            "created_on": timestamp(deployment.created_on),
            "modified_on": timestamp(modified),
            "is_skipped": false,
            "production_branch": project.production_branch,
            "deployment_trigger": {
                "type": "ad_hoc",
                "metadata": {
                    "branch": deployment.branch.clone().unwrap_or_else(|| project.production_branch.clone()),
                    // Empty strings rather than null when not sent: wrangler's `pages deployment list` calls
                    // `commit_hash.slice(...)` unconditionally.
                    "commit_hash": deployment.commit_hash.clone().unwrap_or_default(),
                    "commit_message": deployment.commit_message.clone().unwrap_or_default(),
                    "commit_dirty": deployment.commit_dirty.unwrap_or(false),
                }
            },
            "latest_stage": latest,
            "stages": stages,
            "build_config": {
                "build_caching": false, "build_command": "", "destination_dir": "", "root_dir": "",
                "web_analytics_tag": null, "web_analytics_token": null
            },
            "env_vars": deployment.env_vars,
            "source": null,
            "uses_functions": false,
        })
    }

    /// A Project at `now`.
    pub(crate) fn project_json(&self, project: &ProjectRecord, now: DateTime<Utc>) -> Value {
        let find = |id: &str| project.deployments.iter().find(|d| d.id == id);
        let latest = project
            .deployments
            .last()
            .map(|d| self.deployment_json(project, d, now));
        let canonical = project
            .canonical
            .as_deref()
            .and_then(find)
            .map(|d| self.deployment_json(project, d, now));
        let subdomain = self.project_subdomain(&project.name);
        json!({
            "id": project.id,
            "name": project.name,
            "subdomain": subdomain,
            "domains": [subdomain],
            "production_branch": project.production_branch,
            "created_on": timestamp(project.created_on),
            "latest_deployment": latest,
            "canonical_deployment": canonical,
            "deployment_configs": crate::env_vars::redacted_configs(&project.deployment_configs),
            "build_config": {
                "build_caching": false, "build_command": "", "destination_dir": "", "root_dir": "",
                "web_analytics_tag": null, "web_analytics_token": null
            },
            "source": null,
            "uses_functions": false,
            "framework": "",
            "framework_version": "",
        })
    }
}
