//! What every deploy function reads first: the request, the release, and the component's
//! settings for the environment. Bad requests are `Baton.Invalid` and change nothing.

use std::sync::Arc;

use baton_domain::config::{ComponentConfig, ComponentEnvironment, ComponentKind};
use baton_domain::deployment::{ComponentDeployment, DeployStatus};
use baton_domain::plan::PreflightAnswer;
use baton_domain::ports::{Artefacts, ConfigSource, Fetched, Leases, ReleaseStore};
use baton_domain::release::PackageRef;
use baton_domain::{BatonConfig, BatonError, Release, ReleaseId};
use chrono::Utc;
use serde::Deserialize;

/// What the state machine asks of a deploy function.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    /// `deploy` (default), `rollback`, or a function-specific action.
    #[serde(default = "default_action")]
    pub action: String,
    /// The release.
    pub release_id: ReleaseId,
    /// The environment.
    pub environment: String,
    /// The component.
    pub component: String,
    /// The environment lease's fence, for the actions that change the environment.
    #[serde(default)]
    pub fence: Option<u64>,
    /// The execution's name: a release's own, or a redeploy's (`redeploy-...`).
    #[serde(default)]
    pub execution: Option<String>,
}

fn default_action() -> String {
    "deploy".to_string()
}

impl DeployRequest {
    /// Reads a request, refusing anything malformed with what was expected.
    pub fn parse(payload: serde_json::Value) -> Result<Self, BatonError> {
        serde_json::from_value(payload).map_err(|e| {
            BatonError::invalid(format!(
                "expected {{\"action\", \"releaseId\", \"environment\", \"component\"}}: {e}"
            ))
        })
    }
}

impl DeployRequest {
    /// Renews the environment's lease before a step that changes the environment: a deployer
    /// that lost it (it ran out, another release took it) stops with `Baton.LeaseLost` and
    /// changes nothing more. Every deployment record it writes is also conditional on the lease.
    pub async fn hold_lease(&self, leases: &impl Leases) -> Result<(), BatonError> {
        let fence = self.fence.ok_or_else(|| {
            BatonError::invalid(format!(
                "'{}' changes {} and needs the lease's fence (\"fence\") from the state machine",
                self.action, self.environment
            ))
        })?;
        let holder = baton_domain::redeploy::lease_holder(&self.release_id, self.execution.as_deref());
        if leases
            .renew(&self.environment, &holder, fence, crate::lifecycle::LEASE_TTL)
            .await?
        {
            return Ok(());
        }
        Err(BatonError::lease_lost(&self.environment, &holder))
    }

    /// `found` if it is this deployment's record: one under another lease fence is an earlier
    /// deployment of the release to the environment (a redeploy deploys again), never one to
    /// resume or to roll back.
    pub fn own(&self, found: Option<ComponentDeployment>) -> Option<ComponentDeployment> {
        found.filter(|d| d.fence == self.fence)
    }
}

/// The release, component and environment a request names, resolved against the configuration.
pub struct DeployContext {
    /// The configuration.
    pub config: Arc<BatonConfig>,
    /// The release.
    pub release: Release,
    /// The component's package in the release.
    pub package: PackageRef,
    /// The component's settings.
    pub component: ComponentConfig,
    /// Its settings in the environment.
    pub settings: ComponentEnvironment,
}

impl DeployContext {
    /// Resolves `request`, checking that the component is of `kind`.
    pub async fn load(
        request: &DeployRequest,
        kind: ComponentKind,
        config: &impl ConfigSource,
        store: &impl ReleaseStore,
    ) -> Result<DeployContext, BatonError> {
        let config = config.config().await?;
        let component = config
            .component(&request.component)
            .ok_or_else(|| BatonError::invalid(format!("component '{}' is not configured", request.component)))?
            .clone();
        if component.kind != kind {
            return Err(BatonError::invalid(format!(
                "component '{}' is a {} component; this function deploys {kind} components",
                component.name, component.kind
            )));
        }
        if config.environment(&request.environment).is_none() {
            return Err(BatonError::invalid(format!(
                "environment '{}' is not configured",
                request.environment
            )));
        }
        let settings = component
            .environments
            .get(&request.environment)
            .cloned()
            .ok_or_else(|| {
                BatonError::invalid(format!(
                    "{} has no settings for {}",
                    component.name, request.environment
                ))
            })?;
        let release = store
            .release(&request.release_id)
            .await?
            .ok_or_else(|| BatonError::invalid(format!("release {} does not exist", request.release_id)))?;
        let package = release.snapshot.get(&component.name).cloned().ok_or_else(|| {
            BatonError::invalid(format!("release {} has no package for {}", release.id, component.name))
        })?;
        Ok(DeployContext {
            config,
            release,
            package,
            component,
            settings,
        })
    }

    /// A fresh in-progress record for the deployment `request` asks for (`previous`: its own
    /// record so far, see [`DeployRequest::own`]). After a failure it is the next attempt,
    /// started now.
    pub fn record(&self, request: &DeployRequest, previous: Option<&ComponentDeployment>) -> ComponentDeployment {
        let now = Utc::now();
        let retry = previous.is_some_and(|p| p.status == DeployStatus::Failed);
        ComponentDeployment {
            release_id: self.release.id.clone(),
            environment: request.environment.clone(),
            component: self.component.name.clone(),
            kind: self.component.kind,
            package: self.package.clone(),
            status: DeployStatus::InProgress,
            detail: previous.and_then(|p| p.detail.clone()),
            error: None,
            started_at: previous.filter(|_| !retry).map(|p| p.started_at).unwrap_or(now),
            updated_at: now,
            fence: request.fence,
            execution: request.execution.clone(),
            attempt: previous.map(|p| p.attempt + u32::from(retry)).unwrap_or(0),
        }
    }
}

/// The function's answer: the deployment record as JSON.
pub fn answer(record: &ComponentDeployment) -> Result<serde_json::Value, BatonError> {
    serde_json::to_value(record).map_err(|e| BatonError::internal(e.to_string()))
}

/// Reads a registered package again for deployment: exactly the S3 version registered, whose
/// bytes must still be the ones registered (their SHA-256). Bytes uploaded to the key later
/// change nothing a release deploys.
pub async fn registered_bytes(
    artefacts: &impl Artefacts,
    package: &PackageRef,
    max_bytes: u64,
) -> Result<Vec<u8>, BatonError> {
    let key = &package.object_key;
    match artefacts
        .fetch(key, package.s3_version_id.as_deref(), max_bytes)
        .await?
    {
        Fetched::Object(object) if baton_domain::sha256_hex(&object.bytes) == package.sha256 => Ok(object.bytes),
        Fetched::Object(_) => Err(BatonError::invalid(format!(
            "{key} no longer holds the bytes registered for {} {}; packages are immutable, publish a new version",
            package.component, package.version
        ))),
        Fetched::Missing => Err(BatonError::invalid(format!(
            "{key} is missing from the artefact bucket"
        ))),
        Fetched::TooLarge { size, .. } => Err(BatonError::invalid(format!("{key} is {size} bytes, over the limit"))),
    }
}

/// Records one pre-flight finding: a transient failure is raised (the state machine retries the
/// check), anything else is a problem to report (`finish` words it for people).
pub fn finding(problems: &mut Vec<String>, error: BatonError) -> Result<(), BatonError> {
    if error.is_transient() {
        return Err(error);
    }
    problems.push(error.message);
    Ok(())
}

/// A pre-flight answer as the function returns it. `lifecycle`'s `preflight-verdict` turns the
/// answers into one verdict.
pub fn preflight_answer(
    component: &str,
    problems: Vec<String>,
    plan: Vec<String>,
) -> Result<serde_json::Value, BatonError> {
    let answer = PreflightAnswer {
        component: component.to_string(),
        problems,
        plan,
    };
    serde_json::to_value(answer).map_err(|e| BatonError::internal(e.to_string()))
}
