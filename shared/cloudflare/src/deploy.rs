//! `wrangler pages deploy`: upload what is missing, create the deployment, wait for it (reference §3.0, §3.8, §6).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use reqwest::multipart::{Form, Part};

use crate::client::{CREATE_ATTEMPTS, PagesClient};
use crate::error::PagesError;
use crate::http::Payload;
use crate::model::{Deployment, Environment, Stage, StageStatus};
use crate::site::{Asset, SiteFiles};
use crate::upload::UploadTokens;

/// wrangler truncates the commit message to this many UTF-8 bytes.
const MAX_COMMIT_MESSAGE_BYTES: usize = 384;

/// What to deploy to, and the commit metadata shown in the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// The Pages project name. It must exist.
    pub project: String,
    /// The branch. The server makes the deployment production when this is absent or equals the project's
    /// production branch, preview otherwise.
    pub branch: Option<String>,
    /// The commit hash.
    pub commit_hash: Option<String>,
    /// The commit message (truncated to 384 bytes, as wrangler does).
    pub commit_message: Option<String>,
    /// Whether the working tree had uncommitted changes.
    pub commit_dirty: Option<bool>,
    /// Upload every asset without asking check-missing first (wrangler's `--skip-caching`).
    pub skip_caching: bool,
}

impl DeployOptions {
    /// Options for `project` with no branch (production) and no commit metadata.
    pub fn new(project: impl Into<String>) -> Self {
        DeployOptions {
            project: project.into(),
            ..DeployOptions::default()
        }
    }

    /// Sets the branch.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = Some(branch.into());
        self
    }

    /// Sets the commit hash, message and dirty flag.
    pub fn commit(mut self, hash: impl Into<String>, message: impl Into<String>, dirty: bool) -> Self {
        self.commit_hash = Some(hash.into());
        self.commit_message = Some(message.into());
        self.commit_dirty = Some(dirty);
        self
    }
}

/// The outcome of a successful deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentResult {
    /// The deployment id.
    pub id: String,
    /// The deployment's own URL.
    pub url: String,
    /// Production or preview, as the server decided.
    pub environment: Environment,
    /// The final stage (`deploy`, `success`).
    pub stage: Stage,
    /// Branch alias URLs (preview) or custom domains (production).
    pub aliases: Vec<String>,
    /// Assets uploaded by this deploy: 0 when the server already had every file.
    pub uploaded_files: usize,
    /// Bytes of the uploaded assets (raw, before base64).
    pub uploaded_bytes: u64,
    /// Files in the deployment's manifest.
    pub total_files: usize,
}

impl PagesClient {
    /// Deploys a static site as `wrangler pages deploy` does: reads the project, fetches an upload JWT,
    /// asks which assets are missing, uploads those in parallel buckets, marks all hashes as used, creates
    /// the deployment (manifest, branch, commit fields, `_headers`, `_redirects`) and polls it until it
    /// succeeds or fails. A failure carries the deployment's logs.
    pub async fn deploy(&self, options: &DeployOptions, site: SiteFiles) -> Result<DeploymentResult, PagesError> {
        let project = options.project.as_str();
        let site = site.prepare()?;
        let details = self.get_project(project).await?;
        let jwt = self.upload_token(project).await?;
        let max_files = jwt.max_file_count_allowed();
        if site.manifest.len() as u64 > max_files {
            return Err(PagesError::InvalidSite(format!(
                "the site has {} files; Pages only supports up to {max_files} files in a deployment for your current plan",
                site.manifest.len()
            )));
        }
        tracing::info!(
            project,
            branch = options.branch.as_deref().unwrap_or("(production)"),
            production_branch = details.production_branch.as_deref().unwrap_or("?"),
            files = site.manifest.len(),
            assets = site.assets.len(),
            "deploying to Cloudflare Pages"
        );
        let tokens = Arc::new(UploadTokens::new(project, jwt));
        let hashes: BTreeSet<String> = site.assets.iter().map(|asset| asset.key.clone()).collect();
        let missing = if options.skip_caching || hashes.is_empty() {
            hashes.clone()
        } else {
            self.check_missing(&tokens, &hashes).await?
        };
        let to_upload: Vec<Arc<Asset>> = site
            .assets
            .iter()
            .filter(|asset| missing.contains(&asset.key))
            .cloned()
            .collect();
        let uploaded = self.upload_assets(Arc::clone(&tokens), to_upload).await?;
        if !hashes.is_empty() {
            self.upsert_hashes(&tokens, &hashes).await;
        }
        let manifest =
            serde_json::to_string(&site.manifest).map_err(|e| PagesError::Setup(format!("manifest: {e}")))?;
        let path = format!("{}/deployments", self.project_path(project));
        let make_form = || Payload::Form(deployment_form(&manifest, options, &site.headers, &site.redirects));
        let created: Deployment = self
            .call("create deployment", Method::POST, &path, make_form, CREATE_ATTEMPTS)
            .await?
            .result;
        tracing::info!(project, deployment = %created.id, url = %created.url, "deployment created");
        let finished = self.wait_until_done(project, created).await?;
        Ok(DeploymentResult {
            stage: finished.latest_stage.clone().unwrap_or_default(),
            id: finished.id,
            url: finished.url,
            environment: finished.environment,
            aliases: finished.aliases,
            uploaded_files: uploaded.files,
            uploaded_bytes: uploaded.bytes,
            total_files: site.manifest.len(),
        })
    }

    /// Polls a deployment until its latest stage is `deploy`/`success` (returned) or a failure
    /// (an error with the deployment's logs), for at most the configured poll timeout.
    pub async fn wait_for_deployment(&self, project: &str, deployment_id: &str) -> Result<Deployment, PagesError> {
        let deployment = self.get_deployment(project, deployment_id).await?;
        self.wait_until_done(project, deployment).await
    }

    async fn wait_until_done(&self, project: &str, mut deployment: Deployment) -> Result<Deployment, PagesError> {
        let settings = &self.inner.settings;
        let started = Instant::now();
        loop {
            match progress(&deployment) {
                Progress::Succeeded => return Ok(deployment),
                Progress::Failed(stage) => return Err(self.failure(project, deployment.id, stage).await),
                Progress::Running(stage) if started.elapsed() >= settings.poll_timeout => {
                    return Err(PagesError::DeploymentTimedOut {
                        deployment_id: deployment.id,
                        stage,
                        waited: started.elapsed(),
                    });
                }
                Progress::Running(stage) => tracing::debug!(deployment = %deployment.id, stage, "deployment running"),
            }
            tokio::time::sleep(settings.poll_interval).await;
            deployment = self.get_deployment(project, &deployment.id).await?;
        }
    }

    /// The error for a failed deployment, with its log lines (or why they could not be read).
    async fn failure(&self, project: &str, deployment_id: String, stage: String) -> PagesError {
        let logs = match self.deployment_logs(project, &deployment_id).await {
            Ok(logs) => logs.data.into_iter().map(|entry| entry.line).collect(),
            Err(error) => vec![format!("(the deployment logs could not be read: {error})")],
        };
        PagesError::DeploymentFailed {
            deployment_id,
            stage,
            logs,
        }
    }
}

enum Progress {
    Succeeded,
    Failed(String),
    Running(String),
}

fn progress(deployment: &Deployment) -> Progress {
    let stage = deployment.latest_stage.clone().unwrap_or_default();
    if deployment.is_skipped {
        return Progress::Failed(format!("{} (skipped)", stage.label()));
    }
    match stage.status {
        StageStatus::Failure | StageStatus::Canceled => Progress::Failed(stage.label()),
        StageStatus::Success if stage.name == "deploy" => Progress::Succeeded,
        _ => Progress::Running(stage.label()),
    }
}

/// The multipart body of create-deployment, fields in wrangler's order.
fn deployment_form(
    manifest: &str,
    options: &DeployOptions,
    headers: &Option<Vec<u8>>,
    redirects: &Option<Vec<u8>>,
) -> Form {
    let mut form = Form::new().text("manifest", manifest.to_string());
    if let Some(branch) = &options.branch {
        form = form.text("branch", branch.clone());
    }
    if let Some(message) = &options.commit_message {
        form = form.text(
            "commit_message",
            truncate_utf8(message, MAX_COMMIT_MESSAGE_BYTES).to_string(),
        );
    }
    if let Some(hash) = &options.commit_hash {
        form = form.text("commit_hash", hash.clone());
    }
    if let Some(dirty) = options.commit_dirty {
        form = form.text("commit_dirty", dirty.to_string());
    }
    for (name, content) in [("_headers", headers), ("_redirects", redirects)] {
        if let Some(content) = content {
            form = form.part(name, Part::bytes(content.clone()).file_name(name));
        }
    }
    form
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
fn truncate_utf8(text: &str, max_bytes: usize) -> &str {
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_messages_are_cut_on_a_character_boundary() {
        assert_eq!(truncate_utf8("short", 384), "short");
        let long = "é".repeat(300);
        let cut = truncate_utf8(&long, 384);
        assert_eq!(cut.len(), 384);
        let odd = format!("a{}", "é".repeat(300));
        assert_eq!(truncate_utf8(&odd, 384).len(), 383);
    }

    #[test]
    fn progress_reads_the_latest_stage() {
        let mut deployment = Deployment::default();
        let stage = |name: &str, status| Stage {
            name: name.into(),
            status,
            ..Stage::default()
        };
        deployment.latest_stage = Some(stage("deploy", StageStatus::Success));
        assert!(matches!(progress(&deployment), Progress::Succeeded));
        deployment.latest_stage = Some(stage("build", StageStatus::Success));
        assert!(matches!(progress(&deployment), Progress::Running(_)));
        deployment.latest_stage = Some(stage("deploy", StageStatus::Failure));
        assert!(matches!(progress(&deployment), Progress::Failed(s) if s == "deploy/failure"));
        deployment.latest_stage = None;
        assert!(matches!(progress(&deployment), Progress::Running(_)));
    }
}
