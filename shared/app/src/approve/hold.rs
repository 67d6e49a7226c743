//! Hold and lift from an approval link (DESIGN §3.6): "not yet" instead of a final no. A hold
//! keeps the request open and refuses sign-offs while in force; any approver lifts it; a hold
//! with a time ends by itself then (the decisions queue's consumer tells the approvers,
//! `deliver.rs`).

use baton_domain::approval::Approval;
use baton_domain::approval::delivery::{DecisionQueue, DeliveryRecords, HoldChange};
use baton_domain::approval::hold::hold_from_form;
use baton_domain::ports::{
    ApprovalStore, ConfigSource, DeploymentStore, Mailer, ReleaseEvent, ReleaseStore, TaskCallbacks,
};
use baton_domain::{BatonConfig, BatonError};
use baton_html::approval as pages;
use chrono::Utc;
use serde_json::Value;

use super::Approve;
use crate::http::{HttpRequest, html_response};

/// The timeline kinds of holds.
pub const HELD: &str = "held";
/// A hold lifted by an approver.
pub const HOLD_LIFTED: &str = "hold-lifted";
/// A hold that ended at its time.
pub const HOLD_ENDED: &str = "hold-ended";

impl<C, S, M, T, Q> Approve<C, S, M, T, Q>
where
    C: ConfigSource,
    S: ReleaseStore + ApprovalStore + DeliveryRecords + DeploymentStore,
    M: Mailer,
    T: TaskCallbacks,
    Q: DecisionQueue,
{
    /// Puts `approval` on hold (`put`) or lifts its hold, for `approver` (entitled already).
    pub(super) async fn hold_or_lift(
        &self,
        request: &HttpRequest,
        approval: &Approval,
        approver: &str,
        put: bool,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let form = request.form();
        let now = Utc::now();
        let zone = config.zone();
        let event = |kind: &str, detail: String| ReleaseEvent {
            release_id: approval.release_id.clone(),
            at: now,
            kind: kind.into(),
            actor: approver.to_string(),
            environment: Some(approval.environment.clone()),
            detail,
        };
        let others = approval.approvers.iter().filter(|a| !a.eq_ignore_ascii_case(approver));
        if put {
            if let Some(hold) = approval.hold_at(now) {
                return Ok(html_response(
                    409,
                    pages::message_page(
                        "Already on hold",
                        &format!(
                            "{} put it on hold: {}. Nothing was recorded; lift that hold first to put your own.",
                            hold.by, hold.reason
                        ),
                    ),
                ));
            }
            let hold = match hold_from_form(
                approver,
                form.get("hold_reason").map(String::as_str),
                form.get("hold_until").map(String::as_str),
                zone,
                now,
                approval.expires_at,
            ) {
                Ok(hold) => hold,
                Err(problem) => {
                    return Ok(html_response(
                        400,
                        pages::message_page(
                            "Not put on hold",
                            &format!("{problem}. Nothing was recorded; go back and try again."),
                        ),
                    ));
                }
            };
            if !self
                .store
                .record_hold(&approval.id, HoldChange::Put(&hold), &event(HELD, hold.reason.clone()))
                .await?
            {
                return self.moved_on(approval, config).await;
            }
            if let Some(until) = hold.until
                && let Err(e) = self.queue.enqueue_hold_end(&approval.id, until, now).await
            {
                // The hold still ends then (it is read against its time); only the mail saying
                // so is lost.
                tracing::warn!(release = %approval.release_id, error = %e, "the end of a hold was not queued");
            }
            for other in others {
                let mail = baton_html::mail::hold_changed(approval, other, approver, Some(&hold), zone);
                if let Err(e) = self.mailer.send(&config.mail.sender, &mail).await {
                    tracing::warn!(error = %e, "hold mail not sent");
                }
            }
            tracing::info!(release = %approval.release_id, environment = %approval.environment, "put on hold");
            Ok(html_response(200, pages::held_page(approval, &hold, zone)))
        } else {
            let Some(hold) = approval.hold_at(now) else {
                return Ok(html_response(
                    409,
                    pages::message_page(
                        "Not on hold",
                        "This request is not on hold (any more). Nothing was recorded; open your link again to decide.",
                    ),
                ));
            };
            let detail = format!("lifted the hold {} put on it", hold.by);
            if !self
                .store
                .record_hold(&approval.id, HoldChange::Lift(hold.at), &event(HOLD_LIFTED, detail))
                .await?
            {
                return self.moved_on(approval, config).await;
            }
            for other in others {
                let mail = baton_html::mail::hold_changed(approval, other, approver, None, zone);
                if let Err(e) = self.mailer.send(&config.mail.sender, &mail).await {
                    tracing::warn!(error = %e, "hold mail not sent");
                }
            }
            tracing::info!(release = %approval.release_id, environment = %approval.environment, "hold lifted");
            Ok(html_response(200, pages::lifted_page(approval)))
        }
    }

    /// The answer when the request changed between reading and writing (decided, lapsed, or
    /// its hold changed by someone else): nothing of this request was kept.
    async fn moved_on(&self, _approval: &Approval, _config: &BatonConfig) -> Result<Value, BatonError> {
        Ok(html_response(
            409,
            pages::message_page(
                "Someone else acted at the same moment",
                "Nothing of yours was recorded. Open your link again to see where the request stands.",
            ),
        ))
    }
}
