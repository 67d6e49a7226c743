//! `acquire-lease`: the environment's lease for one deployment at a time, no deployment before
//! the time its approvers chose, and none while the environment is frozen unless an approver
//! let it through.
//!
//! The answer drives the state machine's loop: `acquired` goes on to deploy; `frozen` waits on
//! a task that times out at `until` (the end of the freeze and of every freeze it runs into) or
//! is answered by an override (`await-freeze`); `held` waits until the chosen time; otherwise
//! it waits `leaseWaitSeconds` for the holder. Every loop is bounded: tries for the lease by
//! `workflow.lease_wait_timeout`, the wait for a chosen time happens once per approval (the time
//! lies before the request lapsed), waits on freezes by [`MAX_FREEZE_WAITS`] and their time by
//! [`MAX_FREEZE`] from the first freeze the release meets in the environment
//! (`freezeDeadline`), whatever the freezes are changed to meanwhile.

use baton_domain::approval::Approval;
use baton_domain::approval::schedule::{SCHEDULED, scheduled_detail};
use baton_domain::freeze::{MAX_FREEZE, MAX_FREEZE_WAITS};
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
    /// The approval record the callback names, if it is this release's in `env` (the
    /// callback's answer is trusted for nothing else).
    pub(super) async fn approval_of(&self, step: &Step, env: &str) -> Result<Option<Approval>, BatonError> {
        let Some(id) = step.approval_id() else { return Ok(None) };
        Ok(self
            .store
            .approval(id)
            .await?
            .filter(|a| a.release_id == step.release_id && a.environment == env))
    }

    /// The lease of `env` for this release, or how long to wait for it.
    pub(super) async fn acquire_lease(
        &self,
        env: &str,
        step: &Step,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let waits_left = step.waits_left.unwrap_or_else(|| config.lease_waits());
        // An execution started before freezes existed calls without the freeze fields (Step
        // Functions keeps an execution's definition): its frozen tries spend lease tries and wait
        // as for a busy environment, so it stays bounded and is told on the timeline once.
        let legacy = step.freeze_waits_left.is_none();
        let freeze_waits_left = step.freeze_waits_left.unwrap_or(MAX_FREEZE_WAITS);
        let now = Utc::now();
        // The time waited for last, so each wait is told on the timeline once.
        let told = |until: DateTime<Utc>| step.until == Some(until) || (legacy && waits_left < config.lease_waits());
        let approval = self.approval_of(step, env).await?;
        let chosen = approval.as_ref().and_then(Approval::deploy_at).filter(|at| *at > now);
        let override_ = approval.as_ref().and_then(|a| a.freeze_override.as_ref());
        if let Some(at) = chosen {
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
            // An execution on the previous state machine cannot wait until a time: it tries again
            // as for a busy environment, spending its tries, so it stays bounded.
            if legacy {
                if waits_left <= 1 {
                    return Err(BatonError {
                        kind: ErrorKind::DeployFailed,
                        message: format!(
                            "{} was approved to deploy at {}, but its workflow started before Baton could wait for a chosen time and ran out of tries first; nothing was deployed there: approve a newer release",
                            step.release_id,
                            timestamp(at)
                        ),
                    });
                }
                return Ok(json!({ "acquired": false, "fence": 0, "waitsLeft": waits_left - 1 }));
            }
            return Ok(json!({
                "acquired": false, "fence": 0, "waitsLeft": waits_left,
                "held": true, "frozen": false, "until": timestamp(at), "seconds": 0,
                "freezeDeadline": step.freeze_deadline.map(timestamp), "freezeWaitsLeft": freeze_waits_left,
            }));
        }
        // An approver's override lets it through the freeze they saw (approve records it).
        let freeze = config
            .environment(env)
            .and_then(|e| e.freeze_at(config.zone(), now))
            .filter(|f| !override_.is_some_and(|o| o.covers(f.ends_at)));
        if let Some(freeze) = freeze {
            let deadline = step.freeze_deadline.unwrap_or(now + MAX_FREEZE);
            if now >= deadline || freeze_waits_left == 0 || (legacy && waits_left <= 1) {
                return Err(BatonError {
                    kind: ErrorKind::DeployFailed,
                    message: format!(
                        "{env} stayed frozen ({}) for longer than Baton waits for a freeze (31 days, or 10 freezes in a row); nothing was deployed there: shorten the freezes in baton.yaml, or deploy a new release after them",
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
            if legacy {
                return Ok(json!({ "acquired": false, "fence": 0, "waitsLeft": waits_left - 1 }));
            }
            // The workflow waits on a task that times out at `until` (await-freeze), so an
            // approver can let it through earlier.
            return Ok(json!({
                "acquired": false, "fence": 0, "waitsLeft": waits_left,
                "held": true, "frozen": true, "until": timestamp(until),
                "seconds": (until - now).num_seconds().max(1),
                "freezeDeadline": timestamp(deadline), "freezeWaitsLeft": freeze_waits_left - 1,
            }));
        }
        let deadline = step.freeze_deadline.map(timestamp);
        match self.store.acquire(env, &step.holder(), LEASE_TTL).await? {
            Ok(fence) => Ok(json!({
                "acquired": true, "fence": fence, "waitsLeft": waits_left,
                "held": false, "frozen": false, "until": null, "seconds": 0,
                "freezeDeadline": deadline, "freezeWaitsLeft": freeze_waits_left,
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
                "held": false, "frozen": false, "until": null, "seconds": 0,
                "freezeDeadline": deadline, "freezeWaitsLeft": freeze_waits_left,
            })),
        }
    }
}
