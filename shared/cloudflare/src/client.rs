//! The client, its settings, and the project and deployment endpoints.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::bucket::UploadLimits;
use crate::error::PagesError;
use crate::http::{Payload, RetryPolicy, segment};
use crate::jwt::UploadJwt;
use crate::model::{Deployment, DeploymentLogs, DeploymentPage, Environment, Project};

/// Cloudflare's API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";

/// Attempts for calls that create something (a deployment, a project): a repeat after a lost response
/// could create a duplicate, so they get wrangler's 3 tries instead of 5. A duplicate deployment of the
/// same manifest is harmless; failing a release on a network blip is not.
pub(crate) const CREATE_ATTEMPTS: u32 = 3;

/// How the client behaves. The defaults follow wrangler; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Retries of transient errors.
    pub retry: RetryPolicy,
    /// Upload batching and concurrency.
    pub upload: UploadLimits,
    /// The wait between two polls of a deployment's status (1 s).
    pub poll_interval: Duration,
    /// How long to poll before giving up on a deployment (5 min).
    pub poll_timeout: Duration,
    /// Timeout of one API request (60 s).
    pub request_timeout: Duration,
    /// Timeout of one asset upload request, which carries up to ~54 MiB (5 min).
    pub upload_timeout: Duration,
    /// Timeout to open a connection (10 s).
    pub connect_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            retry: RetryPolicy::default(),
            upload: UploadLimits::default(),
            poll_interval: Duration::from_secs(1),
            poll_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
            upload_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("baton-cloudflare/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// A Cloudflare Pages API client for one account. Cheap to clone (the HTTP client and counters are shared).
/// `Debug` never shows the API token.
#[derive(Clone)]
pub struct PagesClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub base_url: String,
    pub api_token: String,
    pub account_id: String,
    pub settings: ClientSettings,
    pub requests_made: AtomicU64,
}

impl fmt::Debug for PagesClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagesClient")
            .field("base_url", &self.inner.base_url)
            .field("account_id", &self.inner.account_id)
            .field("api_token", &"<redacted>")
            .field("requests_made", &self.requests_made())
            .finish()
    }
}

impl PagesClient {
    /// A client for `base_url` (e.g. [`DEFAULT_BASE_URL`], or a simulator's `http://127.0.0.1:PORT/client/v4`),
    /// authenticating with an API token that has *Account → Cloudflare Pages → Edit*.
    pub fn new(
        base_url: impl Into<String>,
        api_token: impl Into<String>,
        account_id: impl Into<String>,
    ) -> Result<Self, PagesError> {
        Self::with_settings(base_url, api_token, account_id, ClientSettings::default())
    }

    /// [`PagesClient::new`] with explicit settings.
    pub fn with_settings(
        base_url: impl Into<String>,
        api_token: impl Into<String>,
        account_id: impl Into<String>,
        settings: ClientSettings,
    ) -> Result<Self, PagesError> {
        let http = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|e| PagesError::Setup(e.to_string()))?;
        let base_url = base_url.into().trim_end_matches('/').to_string();
        Ok(PagesClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                api_token: api_token.into(),
                account_id: account_id.into(),
                settings,
                requests_made: AtomicU64::new(0),
            }),
        })
    }

    /// How many HTTP requests this client (and its clones) has sent, retries and JWT fetches included.
    pub fn requests_made(&self) -> u64 {
        self.inner.requests_made.load(Ordering::Relaxed)
    }

    /// The settings in use.
    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }

    pub(crate) fn project_path(&self, project: &str) -> String {
        format!(
            "/accounts/{}/pages/projects/{}",
            segment(&self.inner.account_id),
            segment(project)
        )
    }

    pub(crate) fn deployment_path(&self, project: &str, deployment_id: &str) -> String {
        format!("{}/deployments/{}", self.project_path(project), segment(deployment_id))
    }

    fn max_attempts(&self) -> u32 {
        self.inner.settings.retry.max_attempts
    }

    /// `GET /accounts/{a}/pages/projects/{p}`. An unknown project fails with code 8000007.
    pub async fn get_project(&self, project: &str) -> Result<Project, PagesError> {
        let path = self.project_path(project);
        let max = self.max_attempts();
        Ok(self
            .call("get project", Method::GET, &path, || Payload::Empty, max)
            .await?
            .result)
    }

    /// `POST /accounts/{a}/pages/projects` with `{name, production_branch}`.
    pub async fn create_project(&self, name: &str, production_branch: &str) -> Result<Project, PagesError> {
        let path = format!("/accounts/{}/pages/projects", segment(&self.inner.account_id));
        let body = json!({ "name": name, "production_branch": production_branch }).to_string();
        let payload = || Payload::Json(body.clone().into_bytes());
        Ok(self
            .call("create project", Method::POST, &path, payload, CREATE_ATTEMPTS)
            .await?
            .result)
    }

    /// `GET .../upload-token`: a fresh upload JWT for the asset endpoints.
    pub async fn upload_token(&self, project: &str) -> Result<UploadJwt, PagesError> {
        #[derive(serde::Deserialize)]
        struct Token {
            jwt: String,
        }
        let path = format!("{}/upload-token", self.project_path(project));
        let max = self.max_attempts();
        let token: Token = self
            .call("get upload token", Method::GET, &path, || Payload::Empty, max)
            .await?
            .result;
        Ok(UploadJwt::parse(token.jwt))
    }

    /// `GET .../deployments?env=&page=&per_page=`: one page of deployments (newest first on Cloudflare).
    pub async fn list_deployments(
        &self,
        project: &str,
        environment: Option<Environment>,
        page: u32,
        per_page: u32,
    ) -> Result<DeploymentPage, PagesError> {
        let mut path = format!(
            "{}/deployments?page={}&per_page={}",
            self.project_path(project),
            page.max(1),
            per_page.max(1)
        );
        if let Some(env) = environment.filter(|e| *e != Environment::Unknown) {
            path.push_str("&env=");
            path.push_str(env.as_str());
        }
        let max = self.max_attempts();
        let success = self
            .call("list deployments", Method::GET, &path, || Payload::Empty, max)
            .await?;
        Ok(DeploymentPage {
            deployments: success.result,
            result_info: success.result_info,
        })
    }

    /// `GET .../deployments/{id}`.
    pub async fn get_deployment(&self, project: &str, deployment_id: &str) -> Result<Deployment, PagesError> {
        let path = self.deployment_path(project, deployment_id);
        let max = self.max_attempts();
        Ok(self
            .call("get deployment", Method::GET, &path, || Payload::Empty, max)
            .await?
            .result)
    }

    /// `GET .../deployments/{id}/history/logs`: the build log (wrangler asks for everything with `size`).
    pub async fn deployment_logs(&self, project: &str, deployment_id: &str) -> Result<DeploymentLogs, PagesError> {
        let path = format!(
            "{}/history/logs?size=10000000",
            self.deployment_path(project, deployment_id)
        );
        let max = self.max_attempts();
        Ok(self
            .call("get deployment logs", Method::GET, &path, || Payload::Empty, max)
            .await?
            .result)
    }

    /// `POST .../deployments/{id}/rollback`: makes an earlier successful production deployment serve
    /// production again. Returns the deployment the API reports (the target, on the simulator).
    pub async fn rollback(&self, project: &str, deployment_id: &str) -> Result<Deployment, PagesError> {
        let path = format!("{}/rollback", self.deployment_path(project, deployment_id));
        let max = self.max_attempts();
        Ok(self
            .call("rollback deployment", Method::POST, &path, || Payload::Empty, max)
            .await?
            .result)
    }

    /// `POST .../deployments/{id}/retry`: runs a deployment again; returns the new deployment.
    pub async fn retry_deployment(&self, project: &str, deployment_id: &str) -> Result<Deployment, PagesError> {
        let path = format!("{}/retry", self.deployment_path(project, deployment_id));
        Ok(self
            .call(
                "retry deployment",
                Method::POST,
                &path,
                || Payload::Empty,
                CREATE_ATTEMPTS,
            )
            .await?
            .result)
    }

    /// `DELETE .../deployments/{id}?force=`: `force` also deletes a deployment a branch alias points at.
    pub async fn delete_deployment(&self, project: &str, deployment_id: &str, force: bool) -> Result<(), PagesError> {
        let path = format!("{}?force={force}", self.deployment_path(project, deployment_id));
        let max = self.max_attempts();
        self.call::<serde_json::Value>("delete deployment", Method::DELETE, &path, || Payload::Empty, max)
            .await?;
        Ok(())
    }
}
