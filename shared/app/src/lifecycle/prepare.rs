//! `prepare`: the plan the state machine iterates: the environments in lifecycle order (a
//! redeploy's one environment) with their approval and question times, each with the deploy
//! waves (backend first) and every component once for the pre-flight.

use std::collections::BTreeMap;

use baton_domain::approval::guided_failure;
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonConfig, BatonError, redeploy};
use serde_json::{Value, json};

use super::{Lifecycle, Step};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// The execution's plan (see the module's comment).
    pub(super) async fn prepare(&self, step: &Step, config: &BatonConfig) -> Result<Value, BatonError> {
        let release = self.release(&step.release_id).await?;
        let redeploy = self.redeploy_of(step, &release, config).await?;
        let mut waves: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
        for c in &config.components {
            if release.snapshot.contains_key(&c.name) {
                waves
                    .entry(c.effective_wave())
                    .or_default()
                    .push(json!({ "component": c.name, "kind": c.kind }));
            }
        }
        let waves: Vec<Value> = waves
            .into_iter()
            .map(|(wave, components)| json!({ "wave": wave, "components": components }))
            .collect();
        // Every component once, for the pre-flight checks (all at once, any order).
        let components: Vec<Value> = waves
            .iter()
            .flat_map(|w| w["components"].as_array().cloned().unwrap_or_default())
            .collect();
        let environments: Vec<Value> = config
            .environments
            .iter()
            .filter(|e| redeploy.as_ref().is_none_or(|r| r.environment == e.name))
            .map(|e| {
                let ttl = match redeploy {
                    Some(_) => redeploy::CONFIRMATION_TTL.min(e.approval_ttl()),
                    None => e.approval_ttl(),
                };
                let question = guided_failure::QUESTION_TTL.min(e.approval_ttl());
                json!({
                    "name": e.name, "ttlSeconds": ttl.as_secs(), "waves": waves, "components": components,
                    "onFailure": e.on_failure, "questionSeconds": question.as_secs(),
                })
            })
            .collect();
        Ok(json!({
            "releaseId": release.id, "number": release.number, "environments": environments, "redeploy": redeploy,
            "pollSeconds": config.workflow.poll_seconds, "leaseWaitSeconds": config.workflow.lease_wait_seconds,
            "leaseWaits": config.lease_waits(), "freezeWaits": baton_domain::freeze::MAX_FREEZE_WAITS,
            "failureQuestions": guided_failure::MAX_QUESTIONS,
            // A redeploy puts back what was approved before: nothing to collect.
            "settleSeconds": if redeploy.is_some() { 0 } else { config.release.settle_seconds },
        }))
    }
}
