//! `await-freeze`: the workflow waits on a freeze of the environment for a signed-off release
//! (a task with a token, timing out when the freeze ends), and every approver gets a personal
//! link to deploy it now anyway (`approve` records the override and answers the token).
//!
//! Idempotent: a retried invocation with the same token mails nobody again. If an override was
//! recorded before the token was kept (an approver pressed at that moment), the step fails with
//! `Baton.Overridden` and the workflow goes on at once.

use baton_domain::approval::freeze_override::FreezeWait;
use baton_domain::approval::{is_approval_id, token_from_bytes, token_hash};
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonConfig, BatonError, ErrorKind};
use chrono::Utc;
use serde_json::{Value, json};

use super::{Lifecycle, Step};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// Keeps the waiting task's token on the approval and mails each approver an override link.
    pub(super) async fn await_freeze(&self, env: &str, step: &Step, config: &BatonConfig) -> Result<Value, BatonError> {
        let token = step
            .task_token
            .as_deref()
            .ok_or_else(|| BatonError::invalid("await-freeze needs the task token (taskToken)"))?;
        let id = step
            .approval
            .as_ref()
            .and_then(|a| a.get("approvalId"))
            .and_then(Value::as_str)
            .filter(|id| is_approval_id(id))
            .ok_or_else(|| BatonError::invalid("await-freeze needs the approval (approvalId)"))?;
        let approval = self
            .store
            .approval(id)
            .await?
            .ok_or_else(|| BatonError::invalid(format!("approval {id} does not exist")))?;
        let now = Utc::now();
        let freeze = config.environment(env).and_then(|e| e.freeze_at(config.zone(), now));
        let (Some(freeze), None) = (freeze, approval.freeze_override.as_ref()) else {
            // The freeze ended, or someone overrode it already: go on now.
            return Err(BatonError {
                kind: ErrorKind::Overridden,
                message: format!("{env} is not frozen for release {} any more; going on", approval.number),
            });
        };
        let until = step.until.unwrap_or(freeze.ends_at);
        let wait = FreezeWait {
            task_token: token.to_string(),
            until,
            reason: freeze.reason.clone(),
        };
        if !self.store.set_freeze_wait(id, &wait).await? {
            return Ok(json!({ "waiting": true }));
        }
        // Overridden between acquire-lease and now: the override found no token to answer.
        if self
            .store
            .approval(id)
            .await?
            .is_some_and(|a| a.freeze_override.is_some())
        {
            return Err(BatonError {
                kind: ErrorKind::Overridden,
                message: format!("release {} was cleared to deploy during the freeze", approval.number),
            });
        }
        for approver in &approval.approvers {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| BatonError::internal(format!("no randomness for a link token: {e}")))?;
            let link_token = token_from_bytes(&bytes);
            self.store
                .set_approver_token(id, approver, &token_hash(&link_token))
                .await?;
            let link = format!(
                "{}/approvals/{id}?token={link_token}",
                config.public_url.trim_end_matches('/')
            );
            let mail = baton_html::mail::freeze_wait(&approval, approver, &freeze.reason, until, &link, config.zone());
            if let Err(e) = self.mailer.send(&config.mail.sender, &mail).await {
                tracing::warn!(error = %e, "freeze mail not sent");
            }
        }
        tracing::info!(release = %approval.release_id, environment = %env, "waiting on a freeze");
        Ok(json!({ "waiting": true }))
    }
}
