//! A failure question's link (guided failure, `on_failure: ask`): the page offers Retry, Roll
//! back and Leave as it is (with a reason); a GET decides nothing. The answer is recorded as the
//! question's one sign-off, with its timeline entry, then passed to the waiting workflow like an
//! approval (inline, else through the decisions queue).

use baton_domain::approval::delivery::{DecisionQueue, DeliveryRecords};
use baton_domain::approval::guided_failure::FailureChoice;
use baton_domain::approval::{Approval, GateRules, LinkProblem, SignOff};
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Mailer, ReleaseStore, TaskCallbacks};
use baton_domain::{BatonConfig, BatonError};
use baton_html::approval as pages;
use baton_html::failure_page;
use chrono::Utc;
use serde_json::Value;

use super::Approve;
use super::audit::audit_event;
use crate::deliver::{Delivery, deliver_inline};
use crate::http::{HttpRequest, html_response};

impl<C, S, M, T, Q> Approve<C, S, M, T, Q>
where
    C: ConfigSource,
    S: ReleaseStore + ApprovalStore + DeliveryRecords + DeploymentStore,
    M: Mailer,
    T: TaskCallbacks,
    Q: DecisionQueue,
{
    /// The page or the answer of a failure question's link, if `approval` is one (`None`: an
    /// ordinary approval link).
    pub(super) async fn failure_link(
        &self,
        request: &HttpRequest,
        approval: &Approval,
        token: &str,
        config: &BatonConfig,
    ) -> Result<Option<Value>, BatonError> {
        if approval.failure.is_none() {
            return Ok(None);
        }
        let public_url = config.public_url.trim_end_matches('/');
        let approver = match approval.check(token, Utc::now()) {
            Ok(approver) => approver.to_string(),
            Err(LinkProblem::Decided { by, .. })
                if request.method == "POST"
                    && approval.approver_for(token) == Some(by.as_str())
                    && !approval.task_notified =>
            {
                // Recorded, not yet passed on (Step Functions failing): pass it on now.
                return self.pass_on_answer(approval, &by).await.map(Some);
            }
            Err(problem) => return Ok(Some(self.problem(&problem, approval, public_url, config.zone()))),
        };
        // Who may answer is read from the configuration as it is now.
        let release = self.release_of(approval).await?;
        let rules = GateRules::of(config.environment(&approval.environment), &release, approval);
        if let Some(refusal) = super::not_entitled(&rules, approval, &approver) {
            return Ok(Some(refusal));
        }
        if request.method != "POST" {
            let view = failure_page::FailureView {
                approval,
                release: &release,
                approver: &approver,
                token,
                public_url,
                chosen: request.query.get("choice").and_then(|c| FailureChoice::parse(c)),
                zone: config.zone(),
            };
            return Ok(Some(html_response(200, failure_page::failure_page(&view))));
        }
        let form = request.form();
        let Some(choice) = form.get("decision").and_then(|d| FailureChoice::parse(d)) else {
            return Ok(Some(html_response(
                400,
                pages::message_page(
                    "Choose Retry, Roll back or Leave as it is",
                    "The form did not say which; nothing was recorded. Go back and press one of the buttons.",
                ),
            )));
        };
        let reason = form
            .get("comment")
            .map(|c| c.trim().chars().take(2000).collect::<String>())
            .filter(|c| !c.is_empty());
        if choice.needs_reason() && reason.is_none() {
            return Ok(Some(html_response(400, failure_page::failure_reason_needed_page())));
        }
        let answer = SignOff {
            by: approver.clone(),
            at: Utc::now(),
            comment: reason.clone(),
            deploy_at: None,
            choice: Some(choice),
        };
        let mut event = audit_event(request, approval, "answered", &approver, reason.as_deref());
        event.kind = "failure-answered".into();
        event.detail = event
            .detail
            .replacen("answered", &format!("chose \u{201c}{}\u{201d}", choice.words()), 1);
        let recorded = self
            .store
            .record_sign_off(&approval.id, &answer, approval.sign_offs.len(), true, &event)
            .await?;
        if !recorded {
            // Someone answered at the same moment: show what they chose.
            let now = self
                .store
                .approval(&approval.id)
                .await?
                .unwrap_or_else(|| approval.clone());
            return Ok(Some(match now.check(token, Utc::now()) {
                Err(problem) => self.problem(&problem, &now, public_url, config.zone()),
                Ok(_) => html_response(
                    409,
                    pages::message_page(
                        "Someone answered at the same moment",
                        "Nothing of yours was recorded. Open your link again to see where it stands.",
                    ),
                ),
            }));
        }
        tracing::info!(release = %approval.release_id, environment = %approval.environment, choice = choice.as_str(), "failure question answered");
        let answered = self
            .store
            .approval(&approval.id)
            .await?
            .ok_or_else(|| BatonError::internal("a failure question vanished after its answer"))?;
        self.pass_on_answer(&answered, &approver).await.map(Some)
    }

    /// Passes a recorded answer to the waiting workflow: inline, else through the queue. The
    /// answer stands either way; only a question that had lapsed (the workflow rolled back)
    /// gets another page.
    async fn pass_on_answer(&self, answered: &Approval, by: &str) -> Result<Value, BatonError> {
        let choice = answered
            .sign_offs
            .iter()
            .rev()
            .find_map(|s| s.choice)
            .unwrap_or(FailureChoice::Rollback);
        match deliver_inline(&self.store, &self.callbacks, answered).await {
            Ok(Delivery::TooLate) => Ok(html_response(
                410,
                pages::message_page(
                    "Too late",
                    "The question had lapsed before your answer reached the workflow, so Baton rolled back as it does when nobody answers.",
                ),
            )),
            Ok(Delivery::Delivered) => Ok(html_response(
                200,
                failure_page::failure_answered_page(answered, choice, by),
            )),
            Err(undelivered) => {
                tracing::warn!(release = %answered.release_id, error = %undelivered, "failure answer not delivered inline; queued");
                if let Err(e) = self.queue.enqueue(&answered.id).await {
                    tracing::error!(release = %answered.release_id, error = %e, "failure answer neither delivered nor queued");
                }
                Ok(html_response(
                    200,
                    failure_page::failure_answered_page(answered, choice, by),
                ))
            }
        }
    }
}
