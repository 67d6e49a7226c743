//! `deploy-pages`: puts a release's web component live on Cloudflare Pages for one
//! environment, or puts the environment's previous site back (`rollback`).
//!
//! Idempotent: a retry after success returns the recorded deployment; a retry after a crash
//! finds the deployment it already created through the marker in its commit message, so no
//! second deployment is made.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use baton_aws::SecretsManager;
use baton_domain::config::{ComponentConfig, ComponentEnvironment, ComponentKind};
use baton_domain::deployment::{DeployStatus, PlatformDetail, deployment_marker};
use baton_domain::package::Rejection;
use baton_domain::platforms::{Pages, PagesDeployment, PagesTarget};
use baton_domain::ports::{Artefacts, ConfigSource, DeploymentStore, Leases, ReleaseStore, Secrets};
use baton_domain::release::PackageRef;
use baton_domain::web::{WebLimits, site_changes, site_files, validate_site_zip};
use baton_domain::{BatonError, ErrorKind};
use chrono::Utc;
use serde_json::Value;

use crate::Function;
use crate::deploy_context::{DeployContext, DeployRequest, answer, finding, preflight_answer, registered_bytes};

/// Cloudflare's API, unless the configuration names another base URL.
pub const CLOUDFLARE_API: &str = "https://api.cloudflare.com/client/v4";

/// How long one invocation may take before it gives up as `Baton.Transient` (Step Functions tries
/// again; a retry finds the deployment by its marker): under the function's 300 s timeout
/// (template.yaml), so a storm of refusals or slow answers never ends in a Lambda timeout.
const DEADLINE: Duration = Duration::from_secs(270);

/// What a person does when Cloudflare refuses the stored API token.
const CLOUDFLARE_ADVICE: &str = "Rotate or fix the secret: put into it an API token with the permission \
     Account · Cloudflare Pages · Edit on the configured account, then retry the release";

/// Secrets that can be read again past a cache: a handler does so once when a platform refuses
/// the value it holds, which may have been rotated since it was read.
#[async_trait]
pub trait RereadSecrets: Secrets {
    /// Drops any cached value of `name` and reads it again.
    async fn read_again(&self, name: &str) -> Result<String, BatonError> {
        self.secret(name).await
    }
}

#[async_trait]
impl RereadSecrets for SecretsManager {
    async fn read_again(&self, name: &str) -> Result<String, BatonError> {
        SecretsManager::read_again(self, name).await
    }
}

/// Whether a platform refused the stored token: an error saying so, or a pre-flight answer with
/// such a problem. The adapters all say [`baton_cloudflare::port::TOKEN_REFUSED`].
fn refused(outcome: &Result<Value, BatonError>) -> bool {
    const REFUSED: &str = baton_cloudflare::port::TOKEN_REFUSED;
    match outcome {
        Err(e) => e.kind == ErrorKind::Invalid && e.message.contains(REFUSED),
        Ok(answer) => answer["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p.as_str().is_some_and(|p| p.contains(REFUSED)))),
    }
}

/// The same refusal, after the secret was read again: which platform, which secret (never its
/// value) and what to do.
fn explain_refusal(message: &str, platform: &str, secret: &str, advice: &str) -> String {
    const REFUSED: &str = baton_cloudflare::port::TOKEN_REFUSED;
    let Some((_, detail)) = message.split_once(REFUSED) else {
        return message.to_string();
    };
    let detail = detail.trim_start_matches([':', ' ']);
    format!("{platform}: {REFUSED}, also after secret {secret} was read again ({detail}). {advice}.")
}

/// Runs `act` within [`DEADLINE`]-like `deadline`; if the platform refused the stored token,
/// reads `secret` again (dropping the cached value) and runs `act` once more; a second refusal
/// fails with `Baton.Invalid` explained by [`explain_refusal`].
pub(crate) async fn with_token_refresh<F, Fut>(
    secrets: &impl RereadSecrets,
    (platform, secret, advice): (&str, &str, &str),
    deadline: Duration,
    act: F,
) -> Result<Value, BatonError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Value, BatonError>>,
{
    let attempt = async {
        let first = act().await;
        if !refused(&first) {
            return first;
        }
        tracing::warn!(
            platform,
            secret,
            "the platform refused the stored token; reading the secret again"
        );
        secrets.read_again(secret).await?;
        match act().await {
            Err(e) if refused(&Err(e.clone())) => Err(BatonError::invalid(explain_refusal(
                &e.message, platform, secret, advice,
            ))),
            Ok(mut answer) if refused(&Ok(answer.clone())) => {
                if let Some(problems) = answer["problems"].as_array_mut() {
                    for problem in problems.iter_mut() {
                        if let Some(text) = problem.as_str() {
                            *problem = Value::String(explain_refusal(text, platform, secret, advice));
                        }
                    }
                }
                Ok(answer)
            }
            other => other,
        }
    };
    tokio::time::timeout(deadline, attempt).await.unwrap_or_else(|_| {
        Err(BatonError::transient(format!(
            "{platform} did not answer in time: gave up after {} s (rate limited or unavailable); Step Functions tries again",
            deadline.as_secs()
        )))
    })
}

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
    S: ReleaseStore + DeploymentStore + Leases,
    P: Pages,
    K: RereadSecrets,
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
        pages_target(&ctx.component, &ctx.settings, &self.secrets).await
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
        let existing = request.own(
            self.store
                .deployment(&ctx.release.id, &request.environment, &ctx.component.name)
                .await?,
        );
        if let Some(done) = existing.as_ref().filter(|d| d.status == DeployStatus::Succeeded) {
            return answer(done);
        }
        let target = self.target(&ctx).await?;
        let mut record = ctx.record(request, existing.as_ref());
        let marker = deployment_marker(
            &ctx.release.id,
            &request.environment,
            &ctx.component.name,
            request.fence,
        );
        // A retry after a failure (under the same lease) is a new deployment, with its own marker.
        let marker = match record.attempt {
            0 => marker,
            n => format!("{marker}:try{n}"),
        };
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
        let Some(mut record) = request.own(
            self.store
                .deployment(&ctx.release.id, &request.environment, &ctx.component.name)
                .await?,
        ) else {
            // This deployment never touched the site here: nothing to put back.
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
                    "baton:rollback:{}:{}:{}:{}",
                    ctx.release.id,
                    request.environment,
                    ctx.component.name,
                    request.fence.unwrap_or_default()
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

impl<C, A, S, P, K> DeployPages<C, A, S, P, K>
where
    C: ConfigSource,
    A: Artefacts,
    S: ReleaseStore + DeploymentStore + Leases,
    P: Pages,
    K: RereadSecrets,
{
    async fn act(&self, request: &DeployRequest) -> Result<Value, BatonError> {
        match request.action.as_str() {
            "deploy" => {
                request.hold_lease(&self.store).await?;
                self.deploy(request).await
            }
            "rollback" => {
                request.hold_lease(&self.store).await?;
                self.rollback(request).await
            }
            "preflight" => self.preflight(request).await,
            other => Err(BatonError::invalid(format!(
                "deploy-pages does not know action '{other}'; use preflight, deploy or rollback"
            ))),
        }
    }
}

/// The Pages project and branch of `component` in an environment (`settings`), with the API
/// token read from the secret the configuration names.
pub(crate) async fn pages_target<K: Secrets + ?Sized>(
    component: &ComponentConfig,
    settings: &ComponentEnvironment,
    secrets: &K,
) -> Result<PagesTarget, BatonError> {
    let cloudflare = component
        .cloudflare
        .as_ref()
        .ok_or_else(|| BatonError::invalid(format!("{} has no cloudflare settings", component.name)))?;
    let branch = settings
        .branch
        .clone()
        .ok_or_else(|| BatonError::invalid("no Pages branch configured"))?;
    Ok(PagesTarget {
        api_base_url: cloudflare
            .api_base_url
            .clone()
            .unwrap_or_else(|| CLOUDFLARE_API.to_string()),
        api_token: secrets.secret(&cloudflare.api_token_secret).await?.trim().to_string(),
        account_id: cloudflare.account_id.clone(),
        project: cloudflare.project.clone(),
        branch,
    })
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
    S: ReleaseStore + DeploymentStore + Leases,
    P: Pages,
    K: RereadSecrets,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let request = DeployRequest::parse(payload)?;
        let config = self.config.config().await?;
        let secret = config
            .component(&request.component)
            .and_then(|c| c.cloudflare.as_ref())
            .map(|c| c.api_token_secret.clone())
            .unwrap_or_default();
        let platform = ("Cloudflare Pages", secret.as_str(), CLOUDFLARE_ADVICE);
        with_token_refresh(&self.secrets, platform, DEADLINE, || self.act(&request)).await
    }
}
