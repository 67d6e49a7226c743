//! The domain's [`CloudHub`] port on this client: what `deploy-cloudhub` needs, in Baton's
//! terms. Clients are cached per control plane and connected app, so a warm function reuses
//! its token, org id and environment ids.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baton_domain::manifest::ResolvedApplication;
use baton_domain::platforms::{CloudHub, CloudHubTarget, Rollout};
use baton_domain::reconcile::LiveApplication;
use baton_domain::{BatonError, ErrorKind};
use tokio::sync::Mutex;

use crate::{
    AnypointClient, AnypointError, AssetVersionCheck, DeploymentSpec, Readiness, RetryPolicy, UpdateStrategy, readiness,
};

/// Every error for refused credentials says this, so the handler knows to read the secret again
/// (and a person reading the release page knows what happened).
pub const TOKEN_REFUSED: &str = "the stored token was refused";

/// The retry policy inside a Lambda (deploy-cloudhub runs for at most 60 s): Step Functions
/// retries a `Baton.Transient` 5 more times with growing waits, so the client only rides out a
/// blip: 4 attempts a call, backoff from 250 ms, a server-given wait honoured up to 8 s (at most
/// 24 s of waiting a call).
pub fn lambda_retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        max_server_delay: Duration::from_secs(8),
        ..RetryPolicy::default()
    }
}

/// CloudHub 2.0 through Anypoint, as the [`CloudHub`] port.
pub struct AnypointPlatform {
    clients: Mutex<HashMap<(String, String), Arc<AnypointClient>>>,
    retry_policy: RetryPolicy,
}

impl Default for AnypointPlatform {
    fn default() -> Self {
        Self::with_retry_policy(lambda_retry_policy())
    }
}

impl AnypointPlatform {
    /// A platform adapter with no clients yet, with [`lambda_retry_policy`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An adapter whose clients retry with `policy`.
    pub fn with_retry_policy(policy: RetryPolicy) -> Self {
        AnypointPlatform {
            clients: Mutex::new(HashMap::new()),
            retry_policy: policy,
        }
    }

    async fn client(&self, target: &CloudHubTarget) -> Result<Arc<AnypointClient>, BatonError> {
        let key = (target.base_url.clone(), target.client_id.clone());
        let mut clients = self.clients.lock().await;
        // A client made with another secret (the secret was rotated since) is replaced.
        if let Some(c) = clients.get(&key).filter(|c| c.client_secret == target.client_secret) {
            return Ok(c.clone());
        }
        let client = Arc::new(
            AnypointClient::new(&target.base_url, &target.client_id, &target.client_secret)
                .map_err(|e| to_baton(&e))?
                .with_retry_policy(self.retry_policy.clone()),
        );
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Passes `result` on; when it is a refusal, first forgets the client, and with it its
    /// access token, so the next call (after the handler read the secret again) starts afresh.
    async fn forget_if_refused<T>(
        &self,
        target: &CloudHubTarget,
        result: Result<T, BatonError>,
    ) -> Result<T, BatonError> {
        if let Err(e) = &result
            && e.message.contains(TOKEN_REFUSED)
        {
            let key = (target.base_url.clone(), target.client_id.clone());
            self.clients.lock().await.remove(&key);
        }
        result
    }
}

/// Transient stays transient; refused credentials (401/403, saying [`TOKEN_REFUSED`]) are a
/// configuration problem; anything else the platform refuses fails the deployment with the
/// platform's words.
pub fn to_baton(e: &AnypointError) -> BatonError {
    let kind = if e.is_transient() {
        ErrorKind::Transient
    } else {
        match e.status() {
            Some(401 | 403) => {
                return BatonError {
                    kind: ErrorKind::Invalid,
                    message: format!("Anypoint: {TOKEN_REFUSED}: {e}"),
                };
            }
            Some(_) => ErrorKind::DeployFailed,
            None => ErrorKind::Internal,
        }
    };
    let message = match (kind, e.status()) {
        // Said for the person who reads it on the release page once Step Functions' retries ran out.
        (ErrorKind::Transient, Some(429)) => {
            format!("Anypoint is rate limiting Baton (HTTP 429), also after retries with backoff: {e}")
        }
        (ErrorKind::Transient, Some(status)) => {
            format!("Anypoint is unavailable (HTTP {status}), also after retries with backoff: {e}")
        }
        (ErrorKind::Transient, None) => format!("Anypoint could not be reached, also after retries: {e}"),
        _ => format!("Anypoint: {e}"),
    };
    BatonError { kind, message }
}

fn spec(target: &CloudHubTarget, app: &ResolvedApplication, secure: &BTreeMap<String, String>) -> DeploymentSpec {
    DeploymentSpec {
        name: app.name.clone(),
        target_id: target.target_id.clone(),
        replicas: app.replicas,
        v_cores: app.v_cores,
        runtime_version: Some(app.runtime_version.clone()),
        release_channel: None,
        java_version: None,
        update_strategy: UpdateStrategy::Rolling,
        group_id: app.asset.group_id.clone(),
        artifact_id: app.asset.artifact_id.clone(),
        version: app.asset.version.clone(),
        properties: app.properties.clone(),
        secure_properties: secure.clone(),
    }
}

/// The port's calls, each once; the trait below adds forgetting the client after a refusal.
impl AnypointPlatform {
    async fn target_exists_once(&self, target: &CloudHubTarget) -> Result<Option<bool>, BatonError> {
        let client = self.client(target).await?;
        let org = client.org_id().await.map_err(|e| to_baton(&e))?;
        match client.targets(&org).await {
            Ok(targets) => Ok(Some(targets.iter().any(|t| t.id == target.target_id))),
            // Refused or absent: the connected app may not list targets; that proves nothing.
            Err(e) if matches!(e.status(), Some(401 | 403 | 404)) => Ok(None),
            Err(e) => Err(to_baton(&e)),
        }
    }

    async fn applications_once(&self, target: &CloudHubTarget) -> Result<Vec<LiveApplication>, BatonError> {
        let client = self.client(target).await?;
        let scope = client.scope(&target.environment).await.map_err(|e| to_baton(&e))?;
        let summaries = client
            .list_deployments(&scope, Some(&target.target_id))
            .await
            .map_err(|e| to_baton(&e))?;
        let mut live = Vec::new();
        for summary in summaries {
            // List items are slim (no ref, replicas or size): read each detail.
            let detail = client
                .get_deployment(&scope, &summary.id)
                .await
                .map_err(|e| to_baton(&e))?;
            live.push(LiveApplication {
                name: detail.name.clone(),
                deployment_id: detail.id.clone(),
                asset_version: detail.application.reference.as_ref().map(|r| r.version.clone()),
                replicas: detail.target.replicas,
                v_cores: detail.application.v_cores,
                runtime_version: detail.target.runtime_version().map(str::to_string),
                properties: detail.application.properties(),
                secure_property_names: detail.application.secure_property_names(),
                status: detail.status.as_str().to_string(),
            });
        }
        Ok(live)
    }

    async fn missing_assets_once(
        &self,
        target: &CloudHubTarget,
        apps: &[ResolvedApplication],
    ) -> Result<Vec<String>, BatonError> {
        let client = self.client(target).await?;
        let mut missing = Vec::new();
        for app in apps {
            let a = &app.asset;
            let check = client
                .check_asset_version(&a.group_id, &a.artifact_id, &a.version)
                .await
                .map_err(|e| to_baton(&e))?;
            if matches!(check, AssetVersionCheck::Missing) {
                missing.push(format!("{}:{}:{}", a.group_id, a.artifact_id, a.version));
            }
        }
        Ok(missing)
    }

    async fn apply_once(
        &self,
        target: &CloudHubTarget,
        app: &ResolvedApplication,
        existing: Option<&str>,
        secure_properties: &BTreeMap<String, String>,
    ) -> Result<(), BatonError> {
        let client = self.client(target).await?;
        let scope = client.scope(&target.environment).await.map_err(|e| to_baton(&e))?;
        let spec = spec(target, app, secure_properties);
        let result = match existing {
            Some(id) => client.patch_deployment(&scope, id, &spec).await,
            None => client.upsert_deployment(&scope, &spec).await,
        };
        result.map(|_| ()).map_err(|e| to_baton(&e))
    }

    async fn rollout_once(
        &self,
        target: &CloudHubTarget,
        name: &str,
        asset_version: &str,
    ) -> Result<Rollout, BatonError> {
        let client = self.client(target).await?;
        let scope = client.scope(&target.environment).await.map_err(|e| to_baton(&e))?;
        let Some(summary) = client
            .find_deployment(&scope, name, &target.target_id)
            .await
            .map_err(|e| to_baton(&e))?
        else {
            return Ok(Rollout::Failed(format!(
                "{name} is not deployed on {}",
                target.target_id
            )));
        };
        let detail = client
            .get_deployment(&scope, &summary.id)
            .await
            .map_err(|e| to_baton(&e))?;
        Ok(match readiness(&detail, asset_version) {
            Readiness::Applied => Rollout::Done,
            Readiness::InProgress { waiting_for } => Rollout::InProgress(waiting_for),
            Readiness::Failed { reason } => Rollout::Failed(reason),
        })
    }
}

#[async_trait]
impl CloudHub for AnypointPlatform {
    async fn target_exists(&self, target: &CloudHubTarget) -> Result<Option<bool>, BatonError> {
        let result = self.target_exists_once(target).await;
        self.forget_if_refused(target, result).await
    }

    async fn applications(&self, target: &CloudHubTarget) -> Result<Vec<LiveApplication>, BatonError> {
        let result = self.applications_once(target).await;
        self.forget_if_refused(target, result).await
    }

    async fn missing_assets(
        &self,
        target: &CloudHubTarget,
        apps: &[ResolvedApplication],
    ) -> Result<Vec<String>, BatonError> {
        let result = self.missing_assets_once(target, apps).await;
        self.forget_if_refused(target, result).await
    }

    async fn apply(
        &self,
        target: &CloudHubTarget,
        app: &ResolvedApplication,
        existing: Option<&str>,
        secure_properties: &BTreeMap<String, String>,
    ) -> Result<(), BatonError> {
        let result = self.apply_once(target, app, existing, secure_properties).await;
        self.forget_if_refused(target, result).await
    }

    async fn rollout(&self, target: &CloudHubTarget, name: &str, asset_version: &str) -> Result<Rollout, BatonError> {
        let result = self.rollout_once(target, name, asset_version).await;
        self.forget_if_refused(target, result).await
    }
}
