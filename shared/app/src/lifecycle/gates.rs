//! `check-gates`: re-checked at deployment time. `Baton.Superseded` if a newer release is already
//! live there or this one was superseded (a redeploy goes over whatever is live);
//! `Baton.Unapproved` unless the approval record the callback names is this request's, approved
//! by enough people who are approvers now (a task callback alone proves nothing).

use baton_domain::approval::{GateRefusal, GateRules};
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::release::ReleaseStatus;
use baton_domain::{BatonConfig, BatonError, ErrorKind, Release};
use serde_json::{Value, json};

use super::{Lifecycle, Step};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// The approval record behind this deployment, read from the store and checked against the
    /// configuration as it is now: `(id, who signed off)`, or why it allows nothing.
    async fn verified_approval(
        &self,
        step: &Step,
        release: &Release,
        env: &str,
        config: &BatonConfig,
    ) -> Result<Result<(String, String), GateRefusal>, BatonError> {
        let Some(id) = step.approval_id() else {
            return Ok(Err(GateRefusal::NoRecord));
        };
        let Some(approval) = self.store.approval(id).await? else {
            return Ok(Err(GateRefusal::NoRecord));
        };
        let rules = GateRules::of(config.environment(env), release, &approval);
        if let Err(refusal) = approval.covers_plan(step.plan_hash.as_deref()) {
            return Ok(Err(refusal));
        }
        Ok(approval
            .allows_deployment(&release.id, env, step.execution.as_deref(), &rules)
            .map(|signers| (approval.id.clone(), signers.join(" and "))))
    }

    /// The gates of deploying this release to `env` now; answers `{approvalId, approvedBy}`
    /// from the approval record.
    pub(super) async fn check_gates(&self, env: &str, step: &Step, config: &BatonConfig) -> Result<Value, BatonError> {
        let release = self.release(&step.release_id).await?;
        let state = self.store.environment_state(env).await?;
        // A redeploy goes over whatever is live: rolling back is what it is for.
        let newer_live = state
            .current
            .as_ref()
            .filter(|c| c.number > release.number && !step.redeploying());
        if (release.status == ReleaseStatus::Superseded && !step.redeploying()) || newer_live.is_some() {
            let by = newer_live
                .map(|c| c.release_id.to_string())
                .unwrap_or_else(|| "a newer release".into());
            Leases::release(&self.store, env, &step.holder()).await?;
            return Err(BatonError {
                kind: ErrorKind::Superseded,
                message: format!("{by} is already live in {env}"),
            });
        }
        let (approval_id, approved_by) = match self.verified_approval(step, &release, env, config).await? {
            Ok(verified) => verified,
            Err(refusal) => {
                let reason = format!("deployment to {env} refused: {refusal}");
                tracing::warn!(release = %release.id, environment = env, %reason, "callback without an approval record");
                crate::timeline::record(&self.store, &release.id, Some(env), "refused", "baton", reason.clone())
                    .await?;
                Leases::release(&self.store, env, &step.holder()).await?;
                return Err(BatonError {
                    kind: ErrorKind::Unapproved,
                    message: format!("{reason}; nothing was deployed"),
                });
            }
        };
        let detail = match step.redeploying() {
            // The release's own status tells its own journey; a redeploy is told by the
            // timeline and the environment.
            true => format!("deploying to {env} again, confirmed by {approved_by}"),
            false => {
                self.store
                    .set_release_status(&release.id, ReleaseStatus::Deploying)
                    .await?;
                format!("deploying to {env}, approved by {approved_by}")
            }
        };
        crate::timeline::record(&self.store, &release.id, Some(env), "deploying", "baton", detail).await?;
        Ok(json!({ "ok": true, "approvalId": approval_id, "approvedBy": approved_by }))
    }
}
