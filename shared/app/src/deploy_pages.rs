//! `deploy-pages`: puts a release's web component live on Cloudflare Pages for one
//! environment, or puts the environment's previous site back (`rollback`).
//!
//! Idempotent: a retry after success returns the recorded deployment; a retry after a crash
//! finds the deployment it already created through the marker in its commit message, so no
//! second deployment is made.

use async_trait::async_trait;
use baton_domain::config::ComponentKind;
use baton_domain::deployment::{DeployStatus, PlatformDetail, deployment_marker};
use baton_domain::package::Rejection;
use baton_domain::platforms::{Pages, PagesDeployment, PagesTarget};
use baton_domain::ports::{Artefacts, ConfigSource, DeploymentStore, ReleaseStore, Secrets};
use baton_domain::release::PackageRef;
use baton_domain::web::{WebLimits, site_changes, site_files, validate_site_zip};
use baton_domain::{BatonError, ErrorKind};
use chrono::Utc;
use serde_json::Value;

use crate::Function;
use crate::deploy_context::{DeployContext, DeployRequest, answer, finding, preflight_answer, registered_bytes};

/// Cloudflare's API, unless the configuration names another base URL.
pub const CLOUDFLARE_API: &str = "https://api.cloudflare.com/client/v4";

/// The deploy-pages handler over its ports.
pub struct DeployPages<C, A, S, P, K> {
    config: C,
    artefacts: A,
    store: S,
    pages: P,
    secrets: K,
}

impl<C, A, S, P, K> DeployPages<C, A, S, P, K>
where
    C: ConfigSource,
    A: Artefacts,
    S: ReleaseStore + DeploymentStore,
    P: Pages,
    K: Secrets,
{
    /// The handler over these adapters.
    pub fn new(config: C, artefacts: A, store: S, pages: P, secrets: K) -> Self {
        DeployPages {
            config,
            artefacts,
            store,
            pages,
            secrets,
        }
    }

    async fn target(&self, ctx: &DeployContext) -> Result<PagesTarget, BatonError> {
        let cloudflare = ctx
            .component
            .cloudflare
            .as_ref()
            .ok_or_else(|| BatonError::invalid(format!("{} has no cloudflare settings", ctx.component.name)))?;
        let branch = ctx
            .settings
            .branch
            .clone()
            .ok_or_else(|| BatonError::invalid("no Pages branch configured"))?;
        Ok(PagesTarget {
            api_base_url: cloudflare
                .api_base_url
                .clone()
                .unwrap_or_else(|| CLOUDFLARE_API.to_string()),
            api_token: self
                .secrets
                .secret(&cloudflare.api_token_secret)
                .await?
                .trim()
                .to_string(),
            account_id: cloudflare.account_id.clone(),
            project: cloudflare.project.clone(),
            branch,
        })
    }

    /// Reads a package and checks it again: what was valid at upload must still be.
    async fn site(&self, ctx: &DeployContext, package: &PackageRef) -> Result<Vec<u8>, BatonError> {
        let max = ctx.component.max_total_bytes();
        let bytes = registered_bytes(&self.artefacts, package, max).await?;
        validate_site_zip(&bytes, &WebLimits::with_total(max))
            .map_err(|r: Rejection| BatonError::invalid(format!("{}: {}", package.object_key, r.reason)))?;
        Ok(bytes)
    }

    /// Before anyone is asked: the registered package still readable with its hash and valid,
    /// the API token readable and accepted, the Pages project there. Changes nothing.
    async fn preflight(&self, request: &DeployRequest) -> Result<Value, BatonError> {
        let ctx = DeployContext::load(request, ComponentKind::Web, &self.config, &self.store).await?;
        let mut problems = Vec::new();
        // The site is the package itself, pinned: what is approved is exactly these bytes, and
        // the plan names what they change against the site live in the environment.
        let mut plan = vec![format!(
            "site {} (sha256 {}) on the {} branch",
            ctx.package.version,
            &ctx.package.sha256[..ctx.package.sha256.len().min(12)],
            ctx.settings.branch.as_deref().unwrap_or("configured")
        )];
        match self.site(&ctx, &ctx.package).await {
            Ok(next) => match self.file_changes(&ctx, &request.environment, &next).await {
                Ok(lines) => plan.extend(lines),
                Err(e) => finding(&mut problems, e)?,
            },
            Err(e) => finding(&mut problems, e)?,
        }
        match self.target(&ctx).await {
            // Listing the project's deployments proves the project exists and the token works.
            Ok(target) => {
                if let Err(e) = self.pages.find(&target, "baton:preflight").await {
                    finding(&mut problems, e)?;
                }
            }
            Err(e) => finding(&mut problems, e)?,
        }
        preflight_answer(&ctx.component.name, problems, plan)
    }

    /// File by file, what `next` changes against the site Baton deployed last in `environment`
    /// (its registered package, pinned): every file is new where nothing was deployed yet.
    async fn file_changes(
        &self,
        ctx: &DeployContext,
        environment: &str,
        next: &[u8],
    ) -> Result<Vec<String>, BatonError> {
        let unreadable = |r: Rejection| BatonError::invalid(r.reason);
        let next = site_files(next).map_err(unreadable)?;
        let state = self.store.environment_state(environment).await?;
        let live = match state.live(&ctx.component.name) {
            Some(live) if live.package.sha256 == ctx.package.sha256 => return Ok(vec!["no file changes".into()]),
            Some(live) => {
                let bytes = registered_bytes(&self.artefacts, &live.package, ctx.component.max_total_bytes()).await?;
                site_files(&bytes).map_err(unreadable)?
            }
            None => Default::default(),
        };
        Ok(site_changes(&live, &next))
    }

    async fn deploy(&self, request: &DeployRequest) -> Result<Value, BatonError> {
        let ctx = DeployContext::load(request, ComponentKind::Web, &self.config, &self.store).await?;
        let existing = self
            .store
            .deployment(&ctx.release.id, &request.environment, &ctx.component.name)
            .await?;
        if let Some(done) = existing.as_ref().filter(|d| d.status == DeployStatus::Succeeded) {
            return answer(done);
        }
        let target = self.target(&ctx).await?;
        let marker = deployment_marker(&ctx.release.id, &request.environment, &ctx.component.name);
        let mut record = ctx.record(&request.environment, existing.as_ref());
        let outcome = match self.pages.find(&target, &marker).await? {
            Some(found) => self.pages.wait(&target, &found.id).await,
            None => {
                let bytes = self.site(&ctx, &ctx.package).await?;
                self.store.put_deployment(&record).await?;
                let commit = ctx.release.notes.iter().find(|n| n.component == ctx.component.name);
                let commit = commit.and_then(|n| n.metadata.commit.as_deref());
                self.pages.deploy(&target, &bytes, commit, &marker).await
            }
        };
        record.updated_at = Utc::now();
        match outcome {
            Ok(deployment) => {
                tracing::info!(release = %ctx.release.id, environment = %request.environment, deployment = %deployment.id, url = %deployment.url, uploaded = deployment.uploaded_files, "site deployed");
                record.status = DeployStatus::Succeeded;
                record.detail = Some(detail(&deployment));
                self.store.put_deployment(&record).await?;
                answer(&record)
            }
            Err(err) if err.kind == ErrorKind::DeployFailed => {
                record.status = DeployStatus::Failed;
                record.error = Some(err.message.clone());
                self.store.put_deployment(&record).await?;
                Err(err)
            }
            Err(err) => Err(err),
        }
    }

    async fn rollback(&self, request: &DeployRequest) -> Result<Value, BatonError> {
        let ctx = DeployContext::load(request, ComponentKind::Web, &self.config, &self.store).await?;
        let Some(mut record) = self
            .store
            .deployment(&ctx.release.id, &request.environment, &ctx.component.name)
            .await?
        else {
            // This release never touched the site here: nothing to put back.
            return Ok(
                serde_json::json!({"component": ctx.component.name, "environment": request.environment, "status": "unchanged"}),
            );
        };
        if record.status == DeployStatus::RolledBack || record.status == DeployStatus::Failed {
            // Pages keeps the previous deployment live when a deployment fails.
            return answer(&record);
        }
        let state = self.store.environment_state(&request.environment).await?;
        let Some(live) = state.live(&ctx.component.name).cloned() else {
            record.status = DeployStatus::RolledBack;
            record.error = Some("no earlier site in this environment to return to; this release's site stays".into());
            record.updated_at = Utc::now();
            self.store.put_deployment(&record).await?;
            return answer(&record);
        };
        let target = self.target(&ctx).await?;
        let restored = match &live.detail {
            Some(PlatformDetail::Pages {
                deployment_id,
                environment,
                ..
            }) if environment == "production" => self.pages.rollback(&target, deployment_id).await?,
            _ => {
                // Preview branches cannot be rolled back on Pages: deploy the previous package
                // again (its assets are already uploaded, so this is quick).
                let marker = format!(
                    "baton:rollback:{}:{}:{}",
                    ctx.release.id, request.environment, ctx.component.name
                );
                match self.pages.find(&target, &marker).await? {
                    Some(found) => self.pages.wait(&target, &found.id).await?,
                    None => {
                        let bytes = self.site(&ctx, &live.package).await?;
                        self.pages.deploy(&target, &bytes, None, &marker).await?
                    }
                }
            }
        };
        tracing::info!(release = %ctx.release.id, environment = %request.environment, restored = %live.package.version, "site rolled back");
        record.status = DeployStatus::RolledBack;
        record.error = Some(format!(
            "rolled back to {} {}",
            live.package.component, live.package.version
        ));
        record.detail = Some(detail(&restored));
        record.updated_at = Utc::now();
        self.store.put_deployment(&record).await?;
        answer(&record)
    }
}

fn detail(d: &PagesDeployment) -> PlatformDetail {
    PlatformDetail::Pages {
        deployment_id: d.id.clone(),
        url: d.url.clone(),
        stage: d.stage.clone(),
        environment: d.environment.clone(),
    }
}

#[async_trait]
impl<C, A, S, P, K> Function for DeployPages<C, A, S, P, K>
where
    C: ConfigSource,
    A: Artefacts,
    S: ReleaseStore + DeploymentStore,
    P: Pages,
    K: Secrets,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let request = DeployRequest::parse(payload)?;
        match request.action.as_str() {
            "deploy" => self.deploy(&request).await,
            "rollback" => self.rollback(&request).await,
            "preflight" => self.preflight(&request).await,
            other => Err(BatonError::invalid(format!(
                "deploy-pages does not know action '{other}'; use preflight, deploy or rollback"
            ))),
        }
    }
}
