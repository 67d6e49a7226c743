//! The domain's [`Pages`] port on this client: what `deploy-pages` needs, in Baton's terms.
//! Clients are cached per API, token and account, so a warm function reuses its connections.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baton_domain::platforms::{Pages, PagesDeployment, PagesTarget};
use baton_domain::{BatonError, ErrorKind};
use tokio::sync::Mutex;

use crate::{ClientSettings, DeployOptions, Deployment, PagesClient, PagesError, RetryPolicy, SiteFiles};

/// How many recent deployments are searched for a retried deployment's marker.
const RECENT_DEPLOYMENTS: u32 = 25;

/// Every error for a refused API token says this, so the handler knows to read the secret again
/// (and a person reading the release page knows what happened).
pub const TOKEN_REFUSED: &str = "the stored token was refused";

/// The client settings inside a Lambda (deploy-pages runs for at most 300 s): Step Functions
/// retries a `Baton.Transient` 5 more times with growing waits, so the client's own retries only
/// ride out a blip. 4 attempts a call, backoff 1, 2, 4 s, a `Retry-After` honoured up to 20 s:
/// at most 60 s of waiting a call. Polling stops after 180 s with "still deploying".
pub fn lambda_settings() -> ClientSettings {
    ClientSettings {
        retry: RetryPolicy {
            max_attempts: 4,
            max_retry_after: Duration::from_secs(20),
            ..RetryPolicy::default()
        },
        poll_timeout: Duration::from_secs(180),
        ..ClientSettings::default()
    }
}

/// Cloudflare Pages as the [`Pages`] port.
pub struct CloudflarePages {
    clients: Mutex<HashMap<(String, String, String), Arc<PagesClient>>>,
    settings: ClientSettings,
}

impl Default for CloudflarePages {
    fn default() -> Self {
        Self::with_settings(lambda_settings())
    }
}

impl CloudflarePages {
    /// An adapter with no clients yet, with [`lambda_settings`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An adapter whose clients use these settings.
    pub fn with_settings(settings: ClientSettings) -> Self {
        CloudflarePages {
            clients: Mutex::new(HashMap::new()),
            settings,
        }
    }

    pub(crate) async fn client(&self, target: &PagesTarget) -> Result<Arc<PagesClient>, BatonError> {
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
            PagesClient::with_settings(
                &target.api_base_url,
                &target.api_token,
                &target.account_id,
                self.settings.clone(),
            )
            .map_err(|e| to_baton(&e))?,
        );
        // A new token for the same account replaces the old one (rotated): forget its client.
        clients.retain(|(base, _, account), _| !(base == &key.0 && account == &key.2));
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// Transient stays transient; a failed deployment carries its logs; a refused token (saying
/// [`TOKEN_REFUSED`]) or an unknown project is a configuration problem; anything else fails the
/// deployment.
pub fn to_baton(e: &PagesError) -> BatonError {
    if e.is_token_refused() {
        return BatonError {
            kind: ErrorKind::Invalid,
            message: format!("Cloudflare Pages: {TOKEN_REFUSED}: {e}"),
        };
    }
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
        other if kind == ErrorKind::Transient => format!("{}: {}", unavailable(other), plain(other)),
        other => format!("Cloudflare Pages: {other}"),
    };
    BatonError { kind, message }
}

/// What a transient failure means, for the person who reads it on the release page once Step
/// Functions' retries have run out.
fn unavailable(e: &PagesError) -> String {
    match e.status() {
        Some(429) => "Cloudflare Pages is rate limiting Baton (HTTP 429), also after retries with backoff".into(),
        Some(status) => format!("Cloudflare Pages is unavailable (HTTP {status}), also after retries with backoff"),
        None => "Cloudflare Pages could not be reached, also after retries with backoff".into(),
    }
}

/// The error, with an HTML error page (Cloudflare's 5xx answer) cut to its title.
fn plain(e: &PagesError) -> String {
    match e {
        PagesError::Malformed {
            operation,
            status,
            body,
            ..
        } => {
            let title = body
                .split_once("<title>")
                .and_then(|(_, rest)| rest.split_once("</title>"))
                .map_or(body.as_str(), |(title, _)| title);
            format!(
                "{operation}: HTTP {status}: {}",
                title.chars().take(200).collect::<String>()
            )
        }
        other => other.to_string(),
    }
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
