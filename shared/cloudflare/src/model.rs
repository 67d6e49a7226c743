//! The API objects the client reads: Project, Deployment, Stage, logs, pagination.
//!
//! Every field is optional or defaulted, and `null` reads as the default: the SDK marks fields required
//! that direct-upload projects leave out (e.g. `source`), so the client reads tolerantly.

use serde::{Deserialize, Deserializer, Serialize};

/// `null` or absent reads as `T::default()`.
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `commit_dirty` is a bool in responses, but the form field is the text "true"/"false": accept both.
fn bool_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrText {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<BoolOrText>::deserialize(d)? {
        Some(BoolOrText::Bool(b)) => Some(b),
        Some(BoolOrText::Text(t)) => t.trim().parse().ok(),
        None => None,
    })
}

/// Where a deployment is served: decided by the server from the branch vs the project's production branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// The production branch (or no branch): served on the project's domain.
    Production,
    /// Any other branch: served on the deployment URL and the branch alias.
    Preview,
    /// A value this client does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl StageStatus {
    /// The API's word for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            StageStatus::Success => "success",
            StageStatus::Idle => "idle",
            StageStatus::Active => "active",
            StageStatus::Failure => "failure",
            StageStatus::Canceled => "canceled",
            StageStatus::Unknown => "unknown",
        }
    }
}

impl Environment {
    /// The API's name for it (`production`, `preview`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Preview => "preview",
            Environment::Unknown => "unknown",
        }
    }
}

/// A stage's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StageStatus {
    /// Finished well.
    Success,
    /// Not started.
    Idle,
    /// Running.
    Active,
    /// Finished badly.
    Failure,
    /// Stopped.
    Canceled,
    /// A value this client does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

/// One stage of a deployment: `queued`, `initialize`, `clone_repo`, `build` or `deploy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Stage {
    /// The stage name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Its status.
    #[serde(default, deserialize_with = "nullable")]
    pub status: StageStatus,
    /// When it started (RFC 3339), if it has.
    #[serde(default)]
    pub started_on: Option<String>,
    /// When it ended (RFC 3339), if it has.
    #[serde(default)]
    pub ended_on: Option<String>,
}

impl Stage {
    /// `name/status`, e.g. `deploy/success`, for messages.
    pub fn label(&self) -> String {
        let status = serde_json::to_value(self.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        format!("{}/{}", self.name, status)
    }
}

/// What the deployment was made from (`deployment_trigger.metadata`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TriggerMetadata {
    /// The branch sent with the deployment.
    #[serde(default)]
    pub branch: Option<String>,
    /// The commit hash sent with the deployment.
    #[serde(default)]
    pub commit_hash: Option<String>,
    /// The commit message sent with the deployment.
    #[serde(default)]
    pub commit_message: Option<String>,
    /// Whether the working tree was dirty.
    #[serde(default, deserialize_with = "bool_or_text")]
    pub commit_dirty: Option<bool>,
}

/// How the deployment was triggered (`ad_hoc` for direct uploads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeploymentTrigger {
    /// The trigger type, e.g. `ad_hoc`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The commit metadata.
    #[serde(default)]
    pub metadata: Option<TriggerMetadata>,
}

/// A Pages deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Deployment {
    /// The deployment UUID.
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    /// The first 8 hex characters of the id, used in the deployment URL.
    #[serde(default)]
    pub short_id: Option<String>,
    /// The project's id.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The project's name.
    #[serde(default)]
    pub project_name: Option<String>,
    /// Production or preview.
    #[serde(default, deserialize_with = "nullable")]
    pub environment: Environment,
    /// The deployment's own immutable URL.
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
    /// Branch alias URLs (preview) or custom domains (production).
    #[serde(default, deserialize_with = "nullable")]
    pub aliases: Vec<String>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_on: Option<String>,
    /// Last modification time (RFC 3339).
    #[serde(default)]
    pub modified_on: Option<String>,
    /// The current or last stage.
    #[serde(default)]
    pub latest_stage: Option<Stage>,
    /// All stages, in order.
    #[serde(default, deserialize_with = "nullable")]
    pub stages: Vec<Stage>,
    /// How it was triggered, with the commit metadata.
    #[serde(default)]
    pub deployment_trigger: Option<DeploymentTrigger>,
    /// Whether the build was skipped (git builds).
    #[serde(default, deserialize_with = "nullable")]
    pub is_skipped: bool,
}

/// A Pages project (the fields that matter to a deploy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Project {
    /// The project id.
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    /// The project name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The project's host, normally `<name>.pages.dev`.
    #[serde(default)]
    pub subdomain: Option<String>,
    /// The domains that serve production.
    #[serde(default, deserialize_with = "nullable")]
    pub domains: Vec<String>,
    /// The branch whose deployments are production.
    #[serde(default)]
    pub production_branch: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_on: Option<String>,
    /// The newest deployment of any environment.
    #[serde(default)]
    pub latest_deployment: Option<Box<Deployment>>,
    /// The deployment serving production now.
    #[serde(default)]
    pub canonical_deployment: Option<Box<Deployment>>,
    /// The git source; absent or `null` for direct-upload projects.
    #[serde(default)]
    pub source: Option<serde_json::Value>,
}

/// One line of a deployment's build log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LogLine {
    /// The text.
    #[serde(default, deserialize_with = "nullable")]
    pub line: String,
    /// When it was written (RFC 3339).
    #[serde(default)]
    pub ts: Option<String>,
}

/// A deployment's build log (`/history/logs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeploymentLogs {
    /// How many lines there are.
    #[serde(default, deserialize_with = "nullable")]
    pub total: u64,
    /// Whether container logs are included.
    #[serde(default, deserialize_with = "nullable")]
    pub includes_container_logs: bool,
    /// The lines, oldest first.
    #[serde(default, deserialize_with = "nullable")]
    pub data: Vec<LogLine>,
}

/// A collection's `result_info` (page pagination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResultInfo {
    /// The page number (1-based).
    #[serde(default)]
    pub page: Option<u64>,
    /// Items per page.
    #[serde(default)]
    pub per_page: Option<u64>,
    /// Items on this page.
    #[serde(default)]
    pub count: Option<u64>,
    /// Items in all pages.
    #[serde(default)]
    pub total_count: Option<u64>,
    /// How many pages there are.
    #[serde(default)]
    pub total_pages: Option<u64>,
}

/// One page of deployments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentPage {
    /// The deployments, as the API ordered them (newest first on Cloudflare).
    pub deployments: Vec<Deployment>,
    /// Pagination details, when the API sent them.
    pub result_info: Option<ResultInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_deployment_tolerantly() {
        let json = r#"{"id":"3f2c9b1e-5a7d-4c2e-9f10-2b7e4d1a8c55","short_id":"3f2c9b1e","environment":"preview",
            "url":"https://3f2c9b1e.my-site.pages.dev","aliases":null,"source":null,"future_field":1,
            "deployment_trigger":{"type":"ad_hoc","metadata":{"branch":"feature/login","commit_dirty":"false"}},
            "latest_stage":{"name":"deploy","status":"success","started_on":"x","ended_on":null},
            "stages":[{"name":"queued","status":"weird","started_on":null,"ended_on":null}]}"#;
        let deployment: Deployment = serde_json::from_str(json).unwrap();
        assert_eq!(deployment.environment, Environment::Preview);
        assert!(deployment.aliases.is_empty());
        assert_eq!(deployment.stages[0].status, StageStatus::Unknown);
        assert_eq!(
            deployment.latest_stage.map(|s| s.label()).as_deref(),
            Some("deploy/success")
        );
        let metadata = deployment
            .deployment_trigger
            .and_then(|t| t.metadata)
            .unwrap_or_default();
        assert_eq!(metadata.commit_dirty, Some(false));
    }
}
