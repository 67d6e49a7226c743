//! Delivering recorded decisions to the workflow (issue 14, DESIGN §3.8).
//!
//! `approve` records a decision together with its timeline entry, then passes it to the waiting
//! task here: a few tries inline; if Step Functions still fails, the approval id goes to the
//! decisions queue and [`Deliveries`] (the queue's consumer) tries again until Step Functions
//! takes it or says the task is gone. A decided approval whose `task_notified` is false is a
//! decision still to deliver; closing it is one conditional write, so however many deliverers
//! race (SQS delivers at least once, out of order; the approver may press again), the
//! "came after the request closed" entry is written once.

use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use baton_domain::approval::delivery::{DecisionQueue, DeliveryRecords, HoldChange, LATE_DECISION};
use baton_domain::approval::{Approval, ApprovalStatus, is_approval_id};
use baton_domain::ports::{ApprovalStore, ConfigSource, Mailer, ReleaseEvent, TaskAnswer, TaskCallbacks};
use baton_domain::{BatonError, ErrorKind};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Function;

/// What delivering a decision came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The workflow has it (now, or already before).
    Delivered,
    /// No task waited any more: the decision came after the request closed. The timeline says
    /// so.
    TooLate,
}

/// Passes `approval`'s decision to its waiting task once: `Err` if Step Functions could not be
/// reached or failed (try again later), else what became of it. An approval that is not
/// approved or rejected has nothing to deliver.
pub async fn deliver<S, T>(store: &S, callbacks: &T, approval: &Approval) -> Result<Delivery, BatonError>
where
    S: DeliveryRecords,
    T: TaskCallbacks,
{
    let by = approval.decided_by.clone().unwrap_or_default();
    let answer = match approval.status {
        ApprovalStatus::Approved => {
            callbacks
                .succeed(
                    &approval.task_token,
                    &json!({ "approvalId": approval.id, "approvedBy": by }),
                )
                .await?
        }
        ApprovalStatus::Rejected => {
            callbacks
                .fail(
                    &approval.task_token,
                    ErrorKind::Rejected.error_type(),
                    &format!("rejected by {by}"),
                )
                .await?
        }
        other => {
            return Err(BatonError::internal(format!(
                "approval {} is {other:?}: there is no decision to deliver",
                approval.id
            )));
        }
    };
    match answer {
        TaskAnswer::Delivered => {
            store.close_delivery(&approval.id, None).await?;
            tracing::info!(release = %approval.release_id, environment = %approval.environment, "decision delivered");
            Ok(Delivery::Delivered)
        }
        TaskAnswer::Gone => {
            let event = ReleaseEvent {
                release_id: approval.release_id.clone(),
                at: Utc::now(),
                kind: LATE_DECISION.into(),
                actor: by.clone(),
                environment: Some(approval.environment.clone()),
                detail: format!(
                    "the decision came after the request closed: {by} {} release {} for {}, but the workflow no longer waited for it, so it changed nothing",
                    if approval.status == ApprovalStatus::Approved {
                        "approved"
                    } else {
                        "rejected"
                    },
                    approval.number,
                    approval.environment
                ),
            };
            if store.close_delivery(&approval.id, Some(&event)).await? {
                tracing::warn!(release = %approval.release_id, environment = %approval.environment, "decision came after the request closed");
            }
            Ok(Delivery::TooLate)
        }
    }
}

/// Tries inline: up to [`INLINE_TRIES`] deliveries, [`INLINE_PAUSE`] apart, inside the
/// approver's HTTP request. Each try is bounded by the callbacks adapter (a few seconds with the
/// SDK's own retries), so the whole stays well within API Gateway's 29 s.
pub async fn deliver_inline<S, T>(store: &S, callbacks: &T, approval: &Approval) -> Result<Delivery, BatonError>
where
    S: DeliveryRecords,
    T: TaskCallbacks,
{
    let mut tried = 1;
    loop {
        match deliver(store, callbacks, approval).await {
            Ok(done) => return Ok(done),
            Err(e) if tried >= INLINE_TRIES => return Err(e),
            Err(e) => {
                tracing::warn!(release = %approval.release_id, error = %e, tried, "decision not delivered yet; trying again");
                tokio::time::sleep(INLINE_PAUSE).await;
                tried += 1;
            }
        }
    }
}

/// Deliveries tried inside the approver's request before the queue takes over.
pub const INLINE_TRIES: u32 = 2;
/// The pause between them.
const INLINE_PAUSE: Duration = Duration::from_millis(500);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    approval_id: String,
    /// Set on a message asking to end the hold that ends then (approve's hold, `approve/hold.rs`).
    #[serde(default)]
    hold_ends: Option<chrono::DateTime<Utc>>,
}

/// The decisions queue's consumer: each message `{"approvalId": ...}` names an approval whose
/// decision may still need delivering. Idempotent: a delivered or closed decision is
/// acknowledged and left alone; a malformed message is logged and dropped (retrying cannot
/// mend it); Step Functions trouble fails just that message, so SQS offers it again (and, after
/// the queue's `maxReceiveCount`, moves it to the dead-letter queue, which is alarmed).
pub struct Deliveries<S, T, Q, M, C> {
    store: S,
    callbacks: T,
    queue: Q,
    mailer: M,
    config: C,
}

impl<S, T, Q, M, C> Deliveries<S, T, Q, M, C>
where
    S: ApprovalStore + DeliveryRecords,
    T: TaskCallbacks,
    Q: DecisionQueue,
    M: Mailer,
    C: ConfigSource,
{
    /// The consumer over these adapters: `queue` takes back a hold's end not come yet,
    /// `mailer` tells the approvers when it comes.
    pub fn new(store: S, callbacks: T, queue: Q, mailer: M, config: C) -> Self {
        Deliveries {
            store,
            callbacks,
            queue,
            mailer,
            config,
        }
    }

    /// Ends the hold on `approval` that ends at `until`, once: the approvers hear of it. Before
    /// its time the message goes back to the queue (SQS delays a message 15 minutes at most).
    async fn end_hold(&self, approval: &Approval, until: chrono::DateTime<Utc>) -> Result<(), BatonError> {
        let still = approval.status == ApprovalStatus::Pending
            && approval.hold.as_ref().is_some_and(|h| h.until == Some(until));
        let Some(hold) = approval.hold.as_ref().filter(|_| still) else {
            return Ok(()); // lifted, replaced, or the request closed: nothing to end
        };
        let now = Utc::now();
        if now < until {
            return self.queue.enqueue_hold_end(&approval.id, until, now).await;
        }
        let event = ReleaseEvent {
            release_id: approval.release_id.clone(),
            at: now,
            kind: crate::approve::HOLD_ENDED.into(),
            actor: "baton".into(),
            environment: Some(approval.environment.clone()),
            detail: format!("the hold {} put on it ended: {}", hold.by, hold.reason),
        };
        if !self
            .store
            .record_hold(&approval.id, HoldChange::End(until), &event)
            .await?
        {
            return Ok(()); // another delivery of this message ended it
        }
        let config = self.config.config().await?;
        for to in &approval.approvers {
            let mail = baton_html::mail::hold_ended(approval, to, hold, config.zone());
            if let Err(e) = self.mailer.send(&config.mail.sender, &mail).await {
                tracing::warn!(error = %e, "hold-ended mail not sent");
            }
        }
        tracing::info!(release = %approval.release_id, environment = %approval.environment, "hold ended");
        Ok(())
    }

    async fn handle_message(&self, body: &str) -> Result<(), BatonError> {
        let Ok(message) = serde_json::from_str::<Message>(body) else {
            tracing::error!(body = %body.chars().take(200).collect::<String>(), "decisions queue: not an {{approvalId}} message; dropped");
            return Ok(());
        };
        if !is_approval_id(&message.approval_id) {
            tracing::error!(approval = %message.approval_id.chars().take(64).collect::<String>(), "decisions queue: not an approval id; dropped");
            return Ok(());
        }
        let Some(approval) = self.store.approval(&message.approval_id).await? else {
            tracing::error!(approval = %message.approval_id, "decisions queue: no such approval; dropped");
            return Ok(());
        };
        if let Some(until) = message.hold_ends {
            return self.end_hold(&approval, until).await;
        }
        let decided = matches!(approval.status, ApprovalStatus::Approved | ApprovalStatus::Rejected);
        if !decided || approval.task_notified {
            return Ok(());
        }
        deliver(&self.store, &self.callbacks, &approval).await.map(|_| ())
    }

    /// Handles one batch; the messages not handled are reported for SQS to deliver again.
    pub async fn handle_batch(&self, batch: SqsEvent) -> SqsBatchResponse {
        let mut failures = Vec::new();
        for message in batch.records {
            let id = message.message_id.clone().unwrap_or_default();
            let body = message.body.as_deref().unwrap_or_default();
            if let Err(err) = self.handle_message(body).await {
                tracing::warn!(message_id = %id, error = %err, "decision not delivered; SQS will offer it again");
                failures.push(id);
            }
        }
        crate::sqs_batch::retry_later(failures)
    }
}

#[async_trait]
impl<S, T, Q, M, C> Function for Deliveries<S, T, Q, M, C>
where
    S: ApprovalStore + DeliveryRecords,
    T: TaskCallbacks,
    Q: DecisionQueue,
    M: Mailer,
    C: ConfigSource,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let batch: SqsEvent = serde_json::from_value(payload)
            .map_err(|e| BatonError::invalid(format!("the decisions consumer expects an SQS event: {e}")))?;
        let response = self.handle_batch(batch).await;
        serde_json::to_value(response).map_err(|e| BatonError::internal(e.to_string()))
    }
}

/// One function serving both the workflow's steps and the decisions queue: an SQS batch
/// (`{"Records": [...]}`) goes to `deliveries`, anything else to `steps`. This is how the
/// lifecycle function hosts the consumer without its own handler knowing of it.
pub struct WithDeliveries<F, D> {
    steps: F,
    deliveries: D,
}

impl<F, D> WithDeliveries<F, D> {
    /// `steps` with `deliveries` beside it.
    pub fn new(steps: F, deliveries: D) -> Self {
        WithDeliveries { steps, deliveries }
    }
}

/// Whether `payload` is an SQS event source mapping's batch.
fn is_sqs_batch(payload: &Value) -> bool {
    payload.get("Records").and_then(Value::as_array).is_some_and(|records| {
        records
            .iter()
            .all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
    })
}

#[async_trait]
impl<F: Function, D: Function> Function for WithDeliveries<F, D> {
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        if is_sqs_batch(&payload) {
            self.deliveries.invoke(payload).await
        } else {
            self.steps.invoke(payload).await
        }
    }
}
