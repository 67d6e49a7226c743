//! `acquire-lease`: the environment's lease for one deployment at a time, no deployment before
//! the time its approvers chose, and none while the environment is frozen.
//!
//! The answer drives the state machine's loop: `acquired` goes on to deploy; `held` waits until
//! `until` (the chosen time, or the end of the freeze and of every freeze it runs into) and
//! asks again; otherwise it waits `leaseWaitSeconds` for the holder. The wait for a chosen time
//! happens once per approval (the time is fixed, before the request lapsed); every other wait
//! spends one of `waitsLeft`, so the loop is bounded by `workflow.lease_wait_timeout` in tries,
//! and the time spent frozen is bounded by [`MAX_FREEZE`] from
//! the first freeze the release meets in the environment (`freezeDeadline`), whatever the
//! freezes are changed to meanwhile.

use baton_domain::approval::is_approval_id;
use baton_domain::approval::schedule::{SCHEDULED, scheduled_detail};
use baton_domain::freeze::MAX_FREEZE;
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonConfig, BatonError, ErrorKind};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{LEASE_TTL, Lifecycle, Step};

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// When the approvers chose to deploy, if later than now: read from the approval record
    /// the callback names (its answer is trusted for nothing else).
    async fn chosen_time(&self, step: &Step, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, BatonError> {
        let id = step
            .approval
            .as_ref()
            .and_then(|a| a.get("approvalId"))
            .and_then(Value::as_str)
            .filter(|id| is_approval_id(id));
        let Some(id) = id else { return Ok(None) };
        Ok(self
            .store
            .approval(id)
            .await?
            .and_then(|a| a.deploy_at())
            .filter(|at| *at > now))
    }

    /// The lease of `env` for this release, or how long to wait for it.
    pub(super) async fn acquire_lease(
        &self,
        env: &str,
        step: &Step,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let waits_left = step.waits_left.unwrap_or_else(|| config.lease_waits());
        let now = Utc::now();
        // The time waited for last, so each wait is told on the timeline once.
        let told = |until: DateTime<Utc>| step.until == Some(until);
        if let Some(at) = self.chosen_time(step, now).await? {
            if !told(at) {
                crate::timeline::record(
                    &self.store,
                    &step.release_id,
                    Some(env),
                    SCHEDULED,
                    "baton",
                    scheduled_detail(env, at),
                )
                .await?;
            }
            return Ok(json!({
                "acquired": false, "fence": 0, "waitsLeft": waits_left,
                "held": true, "until": timestamp(at),
                "freezeDeadline": step.freeze_deadline.map(timestamp),
            }));
        }
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
            let until = freeze.ends_at.min(deadline);
            if !told(until) {
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
            return Ok(json!({
                "acquired": false, "fence": 0, "waitsLeft": waits_left - 1,
                "held": true, "until": timestamp(until), "freezeDeadline": timestamp(deadline),
            }));
        }
        let deadline = step.freeze_deadline.map(timestamp);
        match self.store.acquire(env, &step.release_id, LEASE_TTL).await? {
            Ok(fence) => Ok(json!({
                "acquired": true, "fence": fence, "waitsLeft": waits_left,
                "held": false, "until": null, "freezeDeadline": deadline,
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
                "held": false, "until": null, "freezeDeadline": deadline,
            })),
        }
    }
}
