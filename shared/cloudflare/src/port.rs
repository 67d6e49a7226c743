//! The domain's [`Pages`] port on this client: what `deploy-pages` needs, in Baton's terms.
//! Clients are cached per API, token and account, so a warm function reuses its connections.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use baton_domain::platforms::{Pages, PagesDeployment, PagesTarget};
use baton_domain::{BatonError, ErrorKind};
use tokio::sync::Mutex;

use crate::{DeployOptions, Deployment, PagesClient, PagesError, SiteFiles};

/// How many recent deployments are searched for a retried deployment's marker.
const RECENT_DEPLOYMENTS: u32 = 25;

/// Cloudflare Pages as the [`Pages`] port.
#[derive(Default)]
pub struct CloudflarePages {
    clients: Mutex<HashMap<(String, String, String), Arc<PagesClient>>>,
}

impl CloudflarePages {
    /// An adapter with no clients yet.
    pub fn new() -> Self {
        Self::default()
    }

    async fn client(&self, target: &PagesTarget) -> Result<Arc<PagesClient>, BatonError> {
        let key = (
            target.api_base_url.clone(),
            target.api_token.clone(),
            target.account_id.clone(),
        );
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let client = Arc::new(
            PagesClient::new(&target.api_base_url, &target.api_token, &target.account_id).map_err(|e| to_baton(&e))?,
        );
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// Transient stays transient; a failed deployment carries its logs; a refused token or an
/// unknown project is a configuration problem; anything else fails the deployment.
pub fn to_baton(e: &PagesError) -> BatonError {
    let kind = match e {
        _ if e.is_transient() => ErrorKind::Transient,
        PagesError::DeploymentFailed { .. } | PagesError::DeploymentTimedOut { .. } => ErrorKind::DeployFailed,
        PagesError::InvalidSite { .. } => ErrorKind::Invalid,
        _ => match e.status() {
            Some(401 | 403 | 404) => ErrorKind::Invalid,
            _ => ErrorKind::DeployFailed,
        },
    };
    let message = match e {
        PagesError::DeploymentFailed {
            deployment_id,
            stage,
            logs,
        } => {
            format!(
                "Cloudflare Pages deployment {deployment_id} failed at {stage}: {}",
                logs.join(" | ")
            )
        }
        other => format!("Cloudflare Pages: {other}"),
    };
    BatonError { kind, message }
}

fn recorded(d: &Deployment, uploaded_files: usize) -> PagesDeployment {
    let stage = d
        .latest_stage
        .as_ref()
        .map(|s| format!("{}: {}", s.name, s.status.as_str()))
        .unwrap_or_default();
    PagesDeployment {
        id: d.id.clone(),
        url: d.url.clone(),
        environment: d.environment.as_str().to_string(),
        stage,
        uploaded_files,
    }
}

#[async_trait]
impl Pages for CloudflarePages {
    async fn find(&self, target: &PagesTarget, marker: &str) -> Result<Option<PagesDeployment>, BatonError> {
        let client = self.client(target).await?;
        let page = client
            .list_deployments(&target.project, None, 1, RECENT_DEPLOYMENTS)
            .await
            .map_err(|e| to_baton(&e))?;
        Ok(page
            .deployments
            .iter()
            .find(|d| {
                d.deployment_trigger
                    .as_ref()
                    .and_then(|t| t.metadata.as_ref())
                    .and_then(|m| m.commit_message.as_deref())
                    .is_some_and(|message| message.contains(marker))
            })
            .map(|d| recorded(d, 0)))
    }

    async fn deploy(
        &self,
        target: &PagesTarget,
        site_zip: &[u8],
        commit: Option<&str>,
        marker: &str,
    ) -> Result<PagesDeployment, BatonError> {
        let client = self.client(target).await?;
        let site = SiteFiles::from_zip(site_zip).map_err(|e| to_baton(&e))?;
        let options = DeployOptions::new(&target.project).branch(&target.branch).commit(
            commit.unwrap_or_default(),
            marker,
            false,
        );
        let result = client.deploy(&options, site).await.map_err(|e| to_baton(&e))?;
        Ok(PagesDeployment {
            id: result.id,
            url: result.url,
            environment: result.environment.as_str().to_string(),
            stage: format!("{}: {}", result.stage.name, result.stage.status.as_str()),
            uploaded_files: result.uploaded_files,
        })
    }

    async fn wait(&self, target: &PagesTarget, deployment_id: &str) -> Result<PagesDeployment, BatonError> {
        let client = self.client(target).await?;
        let deployment = client
            .wait_for_deployment(&target.project, deployment_id)
            .await
            .map_err(|e| to_baton(&e))?;
        Ok(recorded(&deployment, 0))
    }

    async fn rollback(&self, target: &PagesTarget, deployment_id: &str) -> Result<PagesDeployment, BatonError> {
        let client = self.client(target).await?;
        let deployment = client
            .rollback(&target.project, deployment_id)
            .await
            .map_err(|e| to_baton(&e))?;
        Ok(recorded(&deployment, 0))
    }
}
