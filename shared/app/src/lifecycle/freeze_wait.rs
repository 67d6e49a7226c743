//! `await-freeze`: the workflow waits on a freeze of the environment for a signed-off release
//! (a task with a token, timing out when the freeze ends), and every approver gets a personal
//! link to deploy it now anyway (`approve` records the override and answers the token).
//!
//! A retried invocation with the same token mails the approvers again (with new links: the
//! earlier try may have stopped part way). If an override was recorded before the token was kept
//! (an approver pressed at that moment), the step fails with `Baton.Overridden` and the workflow
//! goes on at once.

use baton_domain::approval::freeze_override::FreezeWait;
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
        let approval = self.approval_of(step, env).await?.ok_or_else(|| {
            BatonError::invalid("await-freeze needs this release's approval in this environment (approvalId)")
        })?;
        let id = approval.id.as_str();
        let now = Utc::now();
        let freeze = config.environment(env).and_then(|e| e.freeze_at(config.zone(), now));
        let covered = |ends_at| approval.freeze_override.as_ref().is_some_and(|o| o.covers(ends_at));
        let Some(freeze) = freeze.filter(|f| !covered(f.ends_at)) else {
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
        // A retried step (the same token) mails everyone again: the earlier try may have
        // stopped part way, and a link that arrives twice is better than none.
        self.store.set_freeze_wait(id, &wait).await?;
        // Overridden between acquire-lease and now: the override found no token to answer.
        if self
            .store
            .approval(id)
            .await?
            .and_then(|a| a.freeze_override)
            .is_some_and(|o| o.covers(freeze.ends_at))
        {
            return Err(BatonError {
                kind: ErrorKind::Overridden,
                message: format!("release {} was cleared to deploy during the freeze", approval.number),
            });
        }
        // Who may let it through is read from the configuration as it is now.
        let approvers = config.environment(env).map(|e| e.approvers.clone()).unwrap_or_default();
        for approver in &approvers {
            let link = crate::links::personal_link(&self.store, id, approver, &config.public_url).await?;
            let mail = baton_html::mail::freeze_wait(&approval, approver, &freeze.reason, until, &link, config.zone());
            if let Err(e) = self.mailer.send(&config.mail.sender, &mail).await {
                tracing::warn!(error = %e, "freeze mail not sent");
            }
        }
        tracing::info!(release = %approval.release_id, environment = %env, "waiting on a freeze");
        Ok(json!({ "waiting": true }))
    }
}
