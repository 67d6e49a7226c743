//! `acquire-lease`: the environment's lease for one deployment at a time, and no deployment
//! while the environment is frozen.
//!
//! The answer drives the state machine's loop: `acquired` goes on to deploy; `frozen` waits
//! until `until` (the end of the freeze, or of every freeze it runs into) and asks again;
//! otherwise it waits `leaseWaitSeconds` for the holder. Both waits spend one of `waitsLeft`,
//! so the loop is bounded by `workflow.lease_wait_timeout` in tries, and the time spent frozen
//! by [`MAX_FREEZE`] from the first freeze the release meets in the environment
//! (`freezeDeadline`), whatever the freezes are changed to meanwhile.

use baton_domain::freeze::MAX_FREEZE;
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonConfig, BatonError, ErrorKind};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{LEASE_TTL, Lifecycle, Step};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// The lease of `env` for this release, or how long to wait for it.
    pub(super) async fn acquire_lease(
        &self,
        env: &str,
        step: &Step,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let waits_left = step.waits_left.unwrap_or_else(|| config.lease_waits());
        let now = Utc::now();
        let freeze = config.environment(env).and_then(|e| e.freeze_at(config.zone(), now));
        if let Some(freeze) = freeze {
            let deadline = step.freeze_deadline.unwrap_or(now + MAX_FREEZE);
            if now >= deadline || waits_left <= 1 {
                return Err(BatonError {
                    kind: ErrorKind::DeployFailed,
                    message: format!(
                        "{env} stayed frozen ({}) for longer than Baton waits for a freeze; nothing was deployed there",
                        freeze.reason
                    ),
                });
            }
            if step.freeze_deadline.is_none() {
                crate::timeline::record(
                    &self.store,
                    &step.release_id,
                    Some(env),
                    "frozen",
                    "baton",
                    format!("waiting for the {} freeze of {env} to end", freeze.reason),
                )
                .await?;
            }
            let until = freeze.ends_at.min(deadline);
            return Ok(json!({
                "acquired": false, "fence": 0, "waitsLeft": waits_left - 1,
                "frozen": true, "until": until.to_rfc3339_opts(SecondsFormat::Secs, true),
                "freezeDeadline": deadline.to_rfc3339_opts(SecondsFormat::Secs, true),
            }));
        }
        let deadline = step
            .freeze_deadline
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true));
        match self.store.acquire(env, &step.release_id, LEASE_TTL).await? {
            Ok(fence) => Ok(json!({
                "acquired": true, "fence": fence, "waitsLeft": waits_left,
                "frozen": false, "until": null, "freezeDeadline": deadline,
            })),
            // Bounded: a release does not wait for ever on an environment another holds.
            Err(holder) if waits_left <= 1 => Err(BatonError {
                kind: ErrorKind::DeployFailed,
                message: format!(
                    "{env} stayed busy with {holder} for longer than workflow.lease_wait_timeout ({}); nothing was deployed there",
                    config.workflow.lease_wait_timeout
                ),
            }),
            Err(holder) => Ok(json!({
                "acquired": false, "fence": 0, "waitsLeft": waits_left - 1, "heldBy": holder,
                "frozen": false, "until": null, "freezeDeadline": deadline,
            })),
        }
    }
}
