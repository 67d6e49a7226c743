//! `drift`: notices environments changed outside Baton (issue 17, item 5).
//!
//! On its schedule (`DriftSchedule` in template.yaml, every 15 minutes by default) and on demand
//! (`aws lambda invoke --function-name <stack>-drift --payload '{}'`, or `{"environment": "PROD"}`
//! for one), it compares, per environment, what each platform runs with what Baton recorded when
//! it last deployed there: the live release's manifest resolved for the environment against
//! CloudHub's deployments (version, replicas, vCores, runtime, properties; secure properties by
//! name only), and the Pages deployment Baton made live against the one the branch serves.
//!
//! Each difference is kept once (a conditional write): the run that notices it first mails the
//! environment's approvers; a later or concurrent run that finds it again mails nobody; when it is
//! gone it is marked resolved. A check changes no environment, so it needs no emailed link
//! (design §3.6). An environment a release is deploying to is left for the next run: its state
//! is moving on purpose.

use std::collections::BTreeMap;

use async_trait::async_trait;
use baton_domain::config::ComponentKind;
use baton_domain::deployment::{LiveRelease, PlatformDetail};
use baton_domain::drift::{Difference, DriftRecord, DriftStore, PagesLive, settle};
use baton_domain::platforms::CloudHub;
use baton_domain::ports::{Artefacts, ConfigSource, DeploymentStore, Leases, Mailer, Secrets};
use baton_domain::{BatonConfig, BatonError};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Function;
use crate::deploy_cloudhub::{cloudhub_target, deployed_manifest};
use crate::deploy_pages::pages_target;

/// What the function is asked: nothing (every environment; the scheduled event carries nothing
/// Baton reads) or one environment.
#[derive(Debug, Default, Deserialize)]
struct DriftRequest {
    #[serde(default)]
    environment: Option<String>,
}

/// What one environment's check found.
#[derive(Debug, Default, Serialize)]
pub struct EnvironmentCheck {
    /// The environment.
    pub environment: String,
    /// Why it was not compared, if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The components whose platforms were read.
    pub checked: Vec<String>,
    /// Components that could not be read, with why (their drift stays as it was).
    pub unread: BTreeMap<String, String>,
    /// Every difference open after the check, in words.
    pub open: Vec<String>,
    /// Those noticed by this run (mailed).
    pub new: Vec<String>,
    /// Those gone since the last check.
    pub resolved: Vec<String>,
}

/// The drift handler over its ports.
pub struct DriftCheck<C, A, S, H, P, K, M> {
    config: C,
    artefacts: A,
    store: S,
    cloudhub: H,
    pages: P,
    secrets: K,
    mailer: M,
}

impl<C, A, S, H, P, K, M> DriftCheck<C, A, S, H, P, K, M>
where
    C: ConfigSource,
    A: Artefacts,
    S: DeploymentStore + Leases + DriftStore,
    H: CloudHub,
    P: PagesLive,
    K: Secrets,
    M: Mailer,
{
    /// The handler over these adapters.
    pub fn new(config: C, artefacts: A, store: S, cloudhub: H, pages: P, secrets: K, mailer: M) -> Self {
        DriftCheck {
            config,
            artefacts,
            store,
            cloudhub,
            pages,
            secrets,
            mailer,
        }
    }

    /// What `component` (as live in `environment`) differs by.
    async fn compare(
        &self,
        config: &BatonConfig,
        environment: &str,
        name: &str,
        live: &LiveRelease,
    ) -> Result<Vec<Difference>, BatonError> {
        let component = config
            .component(name)
            .ok_or_else(|| BatonError::invalid(format!("component '{name}' is no longer configured")))?;
        let settings = component
            .environments
            .get(environment)
            .ok_or_else(|| BatonError::invalid(format!("{name} has no settings for {environment}")))?;
        let Some(deployed) = live.components.get(name) else {
            return Ok(Vec::new());
        };
        match component.kind {
            ComponentKind::State => {
                let target = cloudhub_target(component, settings, &self.secrets).await?;
                let desired = deployed_manifest(config, &self.artefacts, &deployed.package, environment).await?;
                let running = self.cloudhub.applications(&target).await?;
                Ok(baton_domain::drift::cloudhub(environment, name, &desired, &running))
            }
            ComponentKind::Web => {
                let Some(PlatformDetail::Pages { deployment_id, .. }) = &deployed.detail else {
                    return Err(BatonError::invalid(format!(
                        "Baton recorded no Pages deployment for {name} in {environment}"
                    )));
                };
                let target = pages_target(component, settings, &self.secrets).await?;
                let serving = self.pages.serving(&target).await?;
                Ok(baton_domain::drift::pages(
                    environment,
                    name,
                    deployment_id,
                    serving.as_deref(),
                ))
            }
        }
    }

    /// Checks one environment and settles its records.
    async fn check(&self, config: &BatonConfig, environment: &str) -> Result<EnvironmentCheck, BatonError> {
        let mut result = EnvironmentCheck {
            environment: environment.to_string(),
            ..EnvironmentCheck::default()
        };
        if let Some(holder) = self.store.holder(environment).await? {
            result.skipped = Some(format!("release {holder} is deploying there"));
            result.open = words(&self.store.open_drift(environment).await?);
            return Ok(result);
        }
        let state = self.store.environment_state(environment).await?;
        let open = self.store.open_drift(environment).await?;
        let Some(live) = state.current else {
            result.skipped = Some("Baton has deployed nothing there yet".into());
            result.open = words(&open);
            return Ok(result);
        };
        let mut found = Vec::new();
        for name in live.components.keys() {
            match self.compare(config, environment, name, &live).await {
                Ok(differences) => {
                    result.checked.push(name.clone());
                    found.extend(differences);
                }
                Err(e) => {
                    tracing::warn!(environment, component = %name, error = %e.message, "drift: platform not read");
                    result.unread.insert(name.clone(), e.message);
                }
            }
        }
        let now = Utc::now();
        let (new, gone) = settle(&found, &open, &result.checked);
        for difference in new {
            let record = DriftRecord::open(difference, &live.release_id, now);
            if self.store.note_drift(&record).await? {
                tracing::info!(environment, drift = %record.words, "drift noticed");
                self.tell(config, &record).await?;
                result.new.push(record.words.clone());
            }
        }
        for record in gone {
            if self.store.resolve_drift(environment, &record.key, now).await? {
                tracing::info!(environment, drift = %record.words, "drift resolved");
                result.resolved.push(record.words.clone());
            }
        }
        result.open = words(&self.store.open_drift(environment).await?);
        Ok(result)
    }

    /// Mails the environment's approvers (its release managers) about a new difference. A mail
    /// refused after the mailer's retries is noted on the record (shown beside it), not retried
    /// by every later check.
    async fn tell(&self, config: &BatonConfig, record: &DriftRecord) -> Result<(), BatonError> {
        let Some(env) = config.environment(&record.environment) else {
            return Ok(());
        };
        let status_url = format!("{}/", config.public_url.trim_end_matches('/'));
        let mut refused = Vec::new();
        for approver in &env.approvers {
            let mail = baton_html::mail::drift_noticed(record, approver, &status_url, config.zone());
            if let Err(e) = self.mailer.send(&config.mail.sender, &mail).await {
                refused.push(e.message);
            }
        }
        if !refused.is_empty() {
            self.store
                .note_drift_unmailed(&record.environment, &record.key, &refused.join("; "))
                .await?;
        }
        Ok(())
    }

    async fn run(&self, request: DriftRequest) -> Result<Value, BatonError> {
        let config = self.config.config().await?;
        let environments: Vec<String> = match request.environment {
            Some(env) if config.environment(&env).is_none() => {
                return Err(BatonError::invalid(format!(
                    "environment '{env}' is not configured; the environments are {}",
                    config.environment_names().join(", ")
                )));
            }
            Some(env) => vec![env],
            None => config.environment_names().iter().map(|e| e.to_string()).collect(),
        };
        let mut checks = Vec::new();
        for env in &environments {
            checks.push(self.check(&config, env).await?);
        }
        serde_json::to_value(serde_json::json!({ "environments": checks }))
            .map_err(|e| BatonError::internal(e.to_string()))
    }
}

fn words(records: &[DriftRecord]) -> Vec<String> {
    records.iter().map(|r| r.words.clone()).collect()
}

#[async_trait]
impl<C, A, S, H, P, K, M> Function for DriftCheck<C, A, S, H, P, K, M>
where
    C: ConfigSource,
    A: Artefacts,
    S: DeploymentStore + Leases + DriftStore,
    H: CloudHub,
    P: PagesLive,
    K: Secrets,
    M: Mailer,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        // A scheduled event (`"source": "aws.events"`) asks for every environment.
        let request = if payload.get("source").is_some() || payload.is_null() {
            DriftRequest::default()
        } else {
            serde_json::from_value(payload).map_err(|e| {
                BatonError::invalid(format!(
                    "expected {{}} (every environment) or {{\"environment\": \"PROD\"}}: {e}"
                ))
            })?
        };
        self.run(request).await
    }
}
