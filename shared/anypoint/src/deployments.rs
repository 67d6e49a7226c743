//! CloudHub 2.0 Application Manager v2 deployment calls (D1–D5), the create-or-update step of §9
//! and a polling wait built on the readiness rule.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::accounts::EnvironmentScope;
use crate::client::{AnypointClient, ApiCall};
use crate::error::AnypointError;
use crate::lenient;
use crate::path::segment;
use crate::readiness::{Readiness, readiness_for_spec};
use crate::retry::should_retry;
use crate::spec::DeploymentSpec;
use crate::status::{DeploymentDetail, DeploymentSummary};

/// Page size asked for when listing; the platform default is unknown (§6.5).
const LIST_PAGE_SIZE: usize = 100;

/// Upper bound on pages, so a server that ignores `offset` cannot loop us forever.
const MAX_LIST_PAGES: usize = 100;

/// The message the platform gives for a duplicate name on a target (§6.2).
const NAME_TAKEN_MARKER: &str = "already used in the target";

#[derive(Deserialize)]
struct DeploymentPage {
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    total: Option<u64>,
    #[serde(default, deserialize_with = "lenient::vec")]
    items: Vec<DeploymentSummary>,
}

/// How [`AnypointClient::wait_for_deployment`] polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long (the reference suggests 15–20 min for real deploys).
    pub timeout: Duration,
    /// Sleep before the first read, so a stale pre-PATCH APPLIED is not read (§9 step 7).
    pub initial_delay: Duration,
    /// First poll interval; grows ×1.5 per poll up to `max_interval`.
    pub poll_interval: Duration,
    /// Ceiling of the poll interval.
    pub max_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15 * 60),
            initial_delay: Duration::from_secs(5),
            poll_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
        }
    }
}

/// The last observation of a wait.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitOutcome {
    /// `Applied`, `Failed`, or `InProgress` when the timeout passed first.
    pub readiness: Readiness,
    /// The deployment as last read.
    pub detail: DeploymentDetail,
}

fn deployments_path(scope: &EnvironmentScope) -> String {
    format!(
        "/amc/application-manager/api/v2/organizations/{}/environments/{}/deployments",
        segment(&scope.org_id),
        segment(&scope.env_id)
    )
}

fn deployment_path(scope: &EnvironmentScope, deployment_id: &str) -> String {
    format!("{}/{}", deployments_path(scope), segment(deployment_id))
}

impl AnypointClient {
    /// All deployments of the environment (slim items), optionally only those on `target_id`.
    /// Pages through `offset`/`limit` until `total` items are read.
    pub async fn list_deployments(
        &self,
        scope: &EnvironmentScope,
        target_id: Option<&str>,
    ) -> Result<Vec<DeploymentSummary>, AnypointError> {
        let mut items: Vec<DeploymentSummary> = Vec::new();
        for _ in 0..MAX_LIST_PAGES {
            let mut call = ApiCall::get(deployments_path(scope))
                .query("offset", items.len().to_string())
                .query("limit", LIST_PAGE_SIZE.to_string());
            if let Some(target_id) = target_id {
                call = call.query("targetId", target_id);
            }
            let page: DeploymentPage = self.execute(&call).await?.json(&call)?;
            let received = page.items.len();
            items.extend(page.items);
            let total = page.total.and_then(|t| usize::try_from(t).ok()).unwrap_or(items.len());
            if received == 0 || items.len() >= total {
                break;
            }
        }
        Ok(items)
    }

    /// The deployment named `name` on `target_id`, if any. There is no name filter in the API,
    /// so this lists the target and filters client-side, as MMP does.
    pub async fn find_deployment(
        &self,
        scope: &EnvironmentScope,
        name: &str,
        target_id: &str,
    ) -> Result<Option<DeploymentSummary>, AnypointError> {
        let items = self.list_deployments(scope, Some(target_id)).await?;
        // The target is compared only when the item carries it (tolerant of even slimmer items).
        Ok(items
            .into_iter()
            .find(|item| item.name == name && item.target.target_id.as_deref().is_none_or(|t| t == target_id)))
    }

    /// The full deployment. A 404 ([`AnypointError::is_not_found`]) means it does not exist.
    pub async fn get_deployment(
        &self,
        scope: &EnvironmentScope,
        deployment_id: &str,
    ) -> Result<DeploymentDetail, AnypointError> {
        let call = ApiCall::get(deployment_path(scope, deployment_id));
        self.execute(&call).await?.json(&call)
    }

    /// Creates the deployment (POST, any 2xx accepted; the platform answers 202).
    ///
    /// A 500 or a timeout may come after the platform created it (§8.3), so instead of blindly
    /// re-POSTing, the target is re-listed: if the deployment is there, its detail is returned.
    pub async fn create_deployment(
        &self,
        scope: &EnvironmentScope,
        spec: &DeploymentSpec,
    ) -> Result<DeploymentDetail, AnypointError> {
        let call = ApiCall::with_json(Method::POST, deployments_path(scope), spec.create_body()?);
        let mut failed_attempts: u32 = 0;
        loop {
            let error = match self.execute(&call).await {
                Ok(response) => return response.json(&call),
                Err(error) => error,
            };
            // `execute` already retried what is safe to repeat; what is left and transient is ambiguous.
            failed_attempts += 1;
            if !error.is_transient() || should_retry(&error, call.kind) {
                return Err(error);
            }
            tracing::warn!(name = %spec.name, error = %error, "create answered ambiguously; re-listing before retrying");
            if let Some(existing) = self.find_deployment(scope, &spec.name, &spec.target_id).await? {
                tracing::info!(name = %spec.name, id = %existing.id, "the deployment was created despite the error");
                return self.get_deployment(scope, &existing.id).await;
            }
            if failed_attempts >= self.retry_policy.max_attempts {
                return Err(error);
            }
            tokio::time::sleep(self.retry_policy.delay_for(&error, failed_attempts)).await;
        }
    }

    /// Redeploys `spec` onto the existing deployment (PATCH with the §6.3 body, any 2xx accepted).
    pub async fn patch_deployment(
        &self,
        scope: &EnvironmentScope,
        deployment_id: &str,
        spec: &DeploymentSpec,
    ) -> Result<DeploymentDetail, AnypointError> {
        self.patch_deployment_raw(scope, deployment_id, spec.patch_body()?)
            .await
    }

    /// PATCHes an arbitrary partial body, e.g. `{"application":{"desiredState":"STOPPED"}}` or
    /// `{"target":{"replicas":2}}`.
    ///
    /// A PATCH that changes nothing is answered 304 without a body (anypoint-cli reports it as
    /// "already in this state"): that is success, nothing was started, and the deployment as it
    /// stands is read and returned. A retried PATCH (at-least-once delivery) lands here too.
    pub async fn patch_deployment_raw(
        &self,
        scope: &EnvironmentScope,
        deployment_id: &str,
        body: Value,
    ) -> Result<DeploymentDetail, AnypointError> {
        let call = ApiCall::with_json(Method::PATCH, deployment_path(scope, deployment_id), body);
        match self.execute(&call).await {
            Ok(response) => response.json(&call),
            Err(error) if error.status() == Some(304) => {
                tracing::debug!(
                    deployment_id,
                    "Anypoint answered 304: the deployment already has this spec"
                );
                self.get_deployment(scope, deployment_id).await
            }
            Err(error) => Err(error),
        }
    }

    /// Deletes the deployment (the platform answers 204). Afterwards GET answers 404.
    pub async fn delete_deployment(&self, scope: &EnvironmentScope, deployment_id: &str) -> Result<(), AnypointError> {
        let mut call = ApiCall::get(deployment_path(scope, deployment_id));
        call.method = Method::DELETE;
        self.execute(&call).await.map(|_| ())
    }

    /// §9 steps 5–6: PATCH the deployment of that name on the target if there is one, else
    /// create it; a create losing a race ("already used in the target") falls back to PATCH.
    pub async fn upsert_deployment(
        &self,
        scope: &EnvironmentScope,
        spec: &DeploymentSpec,
    ) -> Result<DeploymentDetail, AnypointError> {
        spec.validate()?;
        if let Some(existing) = self.find_deployment(scope, &spec.name, &spec.target_id).await? {
            return self.patch_deployment(scope, &existing.id, spec).await;
        }
        match self.create_deployment(scope, spec).await {
            Err(error) if error.status() == Some(400) && error.message().contains(NAME_TAKEN_MARKER) => {
                let existing = self.find_deployment(scope, &spec.name, &spec.target_id).await?;
                match existing {
                    Some(existing) => self.patch_deployment(scope, &existing.id, spec).await,
                    // Taken by an app in another environment or business group: nothing to patch.
                    None => Err(error),
                }
            }
            other => other,
        }
    }

    /// Polls the deployment until it is Applied or Failed for `asset_version` (and the spec version
    /// `expected_spec`, when given), or until `options.timeout` passes (then `InProgress`).
    pub async fn wait_for_deployment(
        &self,
        scope: &EnvironmentScope,
        deployment_id: &str,
        asset_version: &str,
        expected_spec: Option<&str>,
        options: &WaitOptions,
    ) -> Result<WaitOutcome, AnypointError> {
        let deadline = Instant::now() + options.timeout;
        tokio::time::sleep(options.initial_delay).await;
        let mut interval = options.poll_interval;
        loop {
            let detail = self.get_deployment(scope, deployment_id).await?;
            let readiness = readiness_for_spec(&detail, asset_version, expected_spec);
            let finished = !matches!(readiness, Readiness::InProgress { .. });
            if finished || Instant::now() + interval > deadline {
                return Ok(WaitOutcome { readiness, detail });
            }
            if let Readiness::InProgress { waiting_for } = &readiness {
                tracing::debug!(deployment_id, waiting_for = %waiting_for, "deployment in progress");
            }
            tokio::time::sleep(interval).await;
            interval = interval.mul_f64(1.5).min(options.max_interval);
        }
    }
}
