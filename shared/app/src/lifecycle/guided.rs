//! Guided failure (`on_failure: ask`): `ask-on-failure` keeps the environment's lease and asks
//! every approver, by mail, to retry, roll back or leave the failed deployment as it is (a task
//! token waits for the answer; unanswered, the workflow rolls back); `failure-choice` reads the
//! answer from the question's record, never from the callback.
//!
//! Idempotent: the question's id derives from the task token, so a retried `ask-on-failure`
//! finds the same question and mails only approvers not mailed yet.

use baton_domain::approval::guided_failure::{FailureChoice, FailureQuestion, QUESTION_TTL};
use baton_domain::approval::{Approval, ApprovalStatus, NewRequest};
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonConfig, BatonError};
use chrono::Utc;
use serde_json::{Value, json};

use super::finish::readable_cause;
use super::{LEASE_TTL, Lifecycle, Step};
use crate::notify::{EXPIRY_MARGIN_SECONDS, approval_id};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// Asks the environment's approvers what to do about the failed deployment.
    pub(super) async fn ask_on_failure(
        &self,
        env: &str,
        step: &Step,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let token = step
            .task_token
            .as_deref()
            .ok_or_else(|| BatonError::invalid("ask-on-failure needs the task token (taskToken)"))?;
        let fence = step
            .fence
            .ok_or_else(|| BatonError::invalid("ask-on-failure needs the lease's fence (fence)"))?;
        // The environment stays this deployment's while the question is open: the lease is
        // renewed now and lasts longer than the question.
        let holder = step.holder();
        if !self.store.renew(env, &holder, fence, LEASE_TTL).await? {
            return Err(BatonError::lease_lost(env, &holder));
        }
        let release = self.release(&step.release_id).await?;
        let environment = config
            .environment(env)
            .ok_or_else(|| BatonError::invalid(format!("environment '{env}' is not configured")))?;
        let raw = step.cause.clone().or_else(|| step.error.clone()).unwrap_or_default();
        let reason = baton_domain::redact::internals(&readable_cause(&raw));
        let id = approval_id(token);
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(QUESTION_TTL.min(environment.approval_ttl()))
            .unwrap_or(chrono::Duration::hours(1));
        let question = Approval {
            failure: Some(FailureQuestion {
                reason: reason.clone(),
                execution: step.execution.clone(),
            }),
            ..Approval::pending(NewRequest {
                id: id.clone(),
                release_id: release.id.clone(),
                number: release.number,
                environment: env.to_string(),
                task_token: token.to_string(),
                created_at: now,
                expires_at: now + ttl - chrono::Duration::seconds(EXPIRY_MARGIN_SECONDS.min(ttl.num_seconds() / 2)),
                approvers: environment.approvers.clone(),
            })
        };
        if self.store.create_approval(&question).await? {
            crate::timeline::record(
                &self.store,
                &release.id,
                Some(env),
                "failure-question",
                "baton",
                format!(
                    "deploying to {env} failed: {reason}. {env} stays as the failure left it; {} asked to retry, roll back or leave it, until {} (then it rolls back)",
                    question.approvers.join(", "),
                    baton_html::human_time(question.expires_at, config.zone())
                ),
            )
            .await?;
        }
        let question = self
            .store
            .approval(&id)
            .await?
            .ok_or_else(|| BatonError::transient("failure question not readable yet"))?;
        if question.status != ApprovalStatus::Pending {
            return Ok(json!({ "approvalId": id, "status": question.status }));
        }
        for approver in question.approvers.iter().filter(|a| !question.mailed.contains(a)) {
            let link = crate::links::personal_link(&self.store, &id, approver, &config.public_url).await?;
            let choice = |c: FailureChoice| format!("{link}&choice={}", c.as_str());
            let (retry, rollback, leave) = (
                choice(FailureChoice::Retry),
                choice(FailureChoice::Rollback),
                choice(FailureChoice::Leave),
            );
            let links = baton_html::mail::FailureLinks {
                retry: &retry,
                rollback: &rollback,
                leave: &leave,
            };
            let mail = baton_html::mail::failure_question(&question, &release, approver, &links, config.zone());
            match self.mailer.send(&config.mail.sender, &mail).await {
                Ok(()) => self.store.mark_mailed(&id, approver).await?,
                Err(e) => tracing::warn!(error = %e, "failure question not mailed"),
            }
        }
        tracing::info!(release = %release.id, environment = env, question = %id, "failure question asked");
        Ok(json!({ "approvalId": id }))
    }

    /// The answer to the question the callback names, as its record has it: who chose what,
    /// counted only from an approver of the environment now. Anything else rolls back.
    pub(super) async fn failure_choice(
        &self,
        env: &str,
        step: &Step,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let asks_left = step.asks_left.unwrap_or_default().saturating_sub(1);
        let question = match step.approval_id() {
            Some(id) => self.store.approval(id).await?,
            None => None,
        }
        .filter(|q| q.release_id == step.release_id && q.environment == env && q.failure.is_some())
        .filter(|q| q.status == ApprovalStatus::Approved);
        // A failure question's rule is one answer from an approver of the environment now
        // (`GateRules::of`): read from the configuration, without reading the release.
        let environment = config.environment(env);
        let answer = question.as_ref().and_then(|q| {
            q.sign_offs
                .iter()
                .rev()
                .find(|s| s.choice.is_some() && environment.is_some_and(|e| e.approver(&s.by).is_some()))
                .cloned()
        });
        let Some(answer) = answer else {
            tracing::warn!(release = %step.release_id, environment = env, "a failure answer no record backs; rolling back");
            return Ok(json!({ "choice": FailureChoice::Rollback, "asksLeft": asks_left, "detail": "" }));
        };
        let choice = answer.choice.unwrap_or(FailureChoice::Rollback);
        let reason = answer.comment.clone().unwrap_or_default();
        let detail = match choice {
            FailureChoice::Leave => format!("left as it is in {env} by {}: {reason}", answer.by),
            other => format!("{} chosen by {}", other.words().to_lowercase(), answer.by),
        };
        Ok(json!({ "choice": choice, "asksLeft": asks_left, "detail": detail }))
    }
}
