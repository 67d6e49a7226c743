//! The domain's [`CloudHub`] port on this client: what `deploy-cloudhub` needs, in Baton's
//! terms. Clients are cached per control plane and connected app, so a warm function reuses
//! its token, org id and environment ids.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use baton_domain::manifest::ResolvedApplication;
use baton_domain::platforms::{CloudHub, CloudHubTarget, Rollout};
use baton_domain::reconcile::LiveApplication;
use baton_domain::{BatonError, ErrorKind};
use tokio::sync::Mutex;

use crate::{AnypointClient, AnypointError, AssetVersionCheck, DeploymentSpec, Readiness, UpdateStrategy, readiness};

/// CloudHub 2.0 through Anypoint, as the [`CloudHub`] port.
#[derive(Default)]
pub struct AnypointPlatform {
    clients: Mutex<HashMap<(String, String), Arc<AnypointClient>>>,
}

impl AnypointPlatform {
    /// A platform adapter with no clients yet.
    pub fn new() -> Self {
        Self::default()
    }

    async fn client(&self, target: &CloudHubTarget) -> Result<Arc<AnypointClient>, BatonError> {
        let key = (target.base_url.clone(), target.client_id.clone());
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let client = Arc::new(
            AnypointClient::new(&target.base_url, &target.client_id, &target.client_secret)
                .map_err(|e| to_baton(&e))?,
        );
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// Transient stays transient; an auth failure is a configuration problem; anything else the
/// platform refuses fails the deployment with the platform's words.
pub fn to_baton(e: &AnypointError) -> BatonError {
    let message = format!("Anypoint: {e}");
    let kind = if e.is_transient() {
        ErrorKind::Transient
    } else {
        match e.status() {
            Some(401 | 403) => ErrorKind::Invalid,
            Some(_) => ErrorKind::DeployFailed,
            None => ErrorKind::Internal,
        }
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

#[async_trait]
impl CloudHub for AnypointPlatform {
    async fn target_exists(&self, target: &CloudHubTarget) -> Result<Option<bool>, BatonError> {
        let client = self.client(target).await?;
        let org = client.org_id().await.map_err(|e| to_baton(&e))?;
        match client.targets(&org).await {
            Ok(targets) => Ok(Some(targets.iter().any(|t| t.id == target.target_id))),
            // Refused or absent: the connected app may not list targets; that proves nothing.
            Err(e) if matches!(e.status(), Some(401 | 403 | 404)) => Ok(None),
            Err(e) => Err(to_baton(&e)),
        }
    }

    async fn applications(&self, target: &CloudHubTarget) -> Result<Vec<LiveApplication>, BatonError> {
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

    async fn missing_assets(
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

    async fn apply(
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

    async fn rollout(&self, target: &CloudHubTarget, name: &str, asset_version: &str) -> Result<Rollout, BatonError> {
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
