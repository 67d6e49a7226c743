//! Deploying during a freeze from an approver's link: the workflow of an approved release waits
//! on a frozen environment (lifecycle's `await-freeze` mailed every approver a new personal
//! link); an approver may let it through now, with a reason. The override is recorded with its
//! timeline entry, then the waiting task is answered; a GET decides nothing.

use baton_domain::approval::Approval;
use baton_domain::approval::GateRules;
use baton_domain::approval::delivery::{DecisionQueue, DeliveryRecords};
use baton_domain::approval::freeze_override::{FREEZE_OVERRIDE, FreezeOverride};
use baton_domain::ports::{
    ApprovalStore, ConfigSource, DeploymentStore, Mailer, ReleaseEvent, ReleaseStore, TaskCallbacks,
};
use baton_domain::{BatonConfig, BatonError};
use baton_html::approval as pages;
use chrono::Utc;
use serde_json::{Value, json};

use super::Approve;
use crate::http::{HttpRequest, html_response};

use baton_domain::approval::hold::MAX_REASON;

impl<C, S, M, T, Q> Approve<C, S, M, T, Q>
where
    C: ConfigSource,
    S: ReleaseStore + ApprovalStore + DeliveryRecords + DeploymentStore,
    M: Mailer,
    T: TaskCallbacks,
    Q: DecisionQueue,
{
    /// The page or the decision of a link to an approved request waiting on a freeze, if this
    /// is one (`None`: the link is an ordinary approval link).
    pub(super) async fn freeze_link(
        &self,
        request: &HttpRequest,
        approval: &Approval,
        token: &str,
        config: &BatonConfig,
    ) -> Result<Option<Value>, BatonError> {
        let now = Utc::now();
        let (Some(wait), Some(approver)) = (approval.overridable_freeze(now), approval.approver_for(token)) else {
            return Ok(None);
        };
        // The same rules as a sign-off: a removed approver, or the author where self-approval
        // is forbidden, cannot push it through a freeze either.
        let release = self.release_of(approval).await?;
        let rules = GateRules::of(config.environment(&approval.environment), &release, approval);
        if let Some(refusal) = super::not_entitled(&rules, approval, approver) {
            return Ok(Some(refusal));
        }
        if request.method != "POST" {
            return Ok(Some(html_response(
                200,
                pages::freeze_override_page(approval, wait, approver, token, config.zone()),
            )));
        }
        let form = request.form();
        if form.get("decision").map(String::as_str) != Some("override") {
            return Ok(Some(html_response(
                400,
                pages::message_page("Choose to deploy now", "The form did not say so; nothing was recorded."),
            )));
        }
        let reason: String = form
            .get("reason")
            .map(|r| r.trim().chars().take(MAX_REASON).collect())
            .unwrap_or_default();
        if reason.is_empty() {
            return Ok(Some(html_response(
                400,
                pages::message_page(
                    "Say why",
                    "Deploying during a freeze needs a reason (it is kept on the release's timeline). Nothing was recorded; go back and give one.",
                ),
            )));
        }
        let decision = FreezeOverride {
            by: approver.to_string(),
            at: now,
            reason: reason.clone(),
            until: wait.until,
        };
        let event = ReleaseEvent {
            release_id: approval.release_id.clone(),
            at: now,
            kind: FREEZE_OVERRIDE.into(),
            actor: approver.to_string(),
            environment: Some(approval.environment.clone()),
            detail: format!("deploying during the {} freeze: {reason}", wait.reason),
        };
        // Only against the wait the page showed: a newer wait (a retried step) gets its own.
        if !self
            .store
            .record_freeze_override(&approval.id, &decision, &wait.task_token, &event)
            .await?
        {
            return Ok(Some(html_response(
                409,
                pages::message_page(
                    "Already cleared, or the wait changed",
                    "Another approver let this release through the freeze at the same moment, or its workflow started a new wait; nothing of yours was recorded. Open the newest link Baton mailed you.",
                ),
            )));
        }
        // The waiting task goes on now. If Step Functions cannot be reached, it still deploys
        // when the freeze ends; the override is recorded either way.
        if let Err(e) = self
            .callbacks
            .succeed(&wait.task_token, &json!({ "overriddenBy": approver }))
            .await
        {
            tracing::warn!(release = %approval.release_id, error = %e, "freeze override recorded but not passed on");
        }
        tracing::info!(release = %approval.release_id, environment = %approval.environment, "freeze overridden");
        Ok(Some(html_response(
            200,
            pages::freeze_overridden_page(approval, &wait.reason),
        )))
    }
}
