//! A decision is delivered exactly once (issue 14, DESIGN §3.8): recorded together with its
//! timeline entry, then passed to the workflow's waiting task until Step Functions takes it or
//! says the task is gone. What cannot be delivered at once waits in a durable queue.
//!
//! The ports here are the approval record's delivery bookkeeping and that queue. A decided
//! approval whose `task_notified` is false is a decision still to deliver.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ApprovalStatus, SignOff};
use crate::error::BatonError;
use crate::ports::ReleaseEvent;

/// The timeline kind of a decision that reached Step Functions after its task had closed.
pub const LATE_DECISION: &str = "decision-too-late";

/// The timeline kind of an approval request whose mails could not be sent.
pub const APPROVERS_UNREACHABLE: &str = "approvers-unreachable";

/// The words every "could not reach" warning starts with (status page, feed, API, timeline).
pub const UNREACHABLE_WORDS: &str = "could not reach the approvers";

/// The durable retry of decisions that could not be delivered at once.
#[async_trait]
pub trait DecisionQueue: Send + Sync {
    /// Hands the delivery of approval `approval_id`'s decision to the queue's consumer.
    async fn enqueue(&self, approval_id: &str) -> Result<(), BatonError>;
    /// Asks the consumer to end the hold on `approval_id` at `until` (and tell the approvers),
    /// if the hold is still the one ending then. The queue delays a message at most
    /// [`MAX_QUEUE_DELAY_SECONDS`]; the consumer puts a message back until its time has come.
    async fn enqueue_hold_end(
        &self,
        approval_id: &str,
        until: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), BatonError>;
}

/// The longest delay SQS gives a message (15 minutes).
pub const MAX_QUEUE_DELAY_SECONDS: i64 = 900;

/// How long a message for a hold ending at `until` waits before the consumer sees it.
pub fn hold_end_delay(until: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> i64 {
    (until - now).num_seconds().clamp(0, MAX_QUEUE_DELAY_SECONDS)
}

/// What a hold write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldChange<'a> {
    /// Puts this hold on the request.
    Put(&'a super::hold::Hold),
    /// An approver lifts the hold they saw (the one put at this time).
    Lift(chrono::DateTime<chrono::Utc>),
    /// The hold ending at this time ends (if it is still the hold there).
    End(chrono::DateTime<chrono::Utc>),
}

/// A decision as the approval record stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    /// Approved or rejected.
    pub status: ApprovalStatus,
    /// Who decided.
    pub by: &'a str,
    /// Their comment.
    pub comment: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The approval record's side of delivering decisions, and of mailing approvers. Every write
/// that must not diverge from the timeline carries the timeline entry with it, in one
/// transaction.
#[async_trait]
pub trait DeliveryRecords: Send + Sync {
    /// Moves a pending approval to `decision` and appends `event`, both or neither; `false` if
    /// the approval was no longer pending.
    async fn record_decision(
        &self,
        id: &str,
        decision: &Decision<'_>,
        event: &ReleaseEvent,
    ) -> Result<bool, BatonError>;
    /// Adds `sign_off` to a pending approval holding exactly `signed` sign-offs and no hold in
    /// force at the sign-off's time (with `complete`, the same write approves it) and appends
    /// `event`, both or neither; `false` if the approval moved on meanwhile.
    async fn record_sign_off(
        &self,
        id: &str,
        sign_off: &SignOff,
        signed: usize,
        complete: bool,
        event: &ReleaseEvent,
    ) -> Result<bool, BatonError>;
    /// Puts a hold on a pending approval, lifts the one it has, or ends the one ending at a
    /// time, and appends `event`, both or neither; `false` if the approval was no longer pending
    /// (or had no such hold). A sign-off is refused while a hold is in force
    /// (`record_sign_off`).
    async fn record_hold(&self, id: &str, change: HoldChange<'_>, event: &ReleaseEvent) -> Result<bool, BatonError>;
    /// Records an approver's decision to deploy an approved request during the freeze its
    /// workflow waits on with `task_token`, and appends `event`, both or neither; `false` if one
    /// was recorded already or the workflow waits on another token now.
    async fn record_freeze_override(
        &self,
        id: &str,
        decision: &super::freeze_override::FreezeOverride,
        task_token: &str,
        event: &ReleaseEvent,
    ) -> Result<bool, BatonError>;
    /// Notes that the decision needs no more delivering (Step Functions has it, or its task is
    /// gone), appending `event` in the same write if given. `false` if another delivery had
    /// already closed it: then nothing is written, so the entry appears once.
    async fn close_delivery(&self, id: &str, event: Option<&ReleaseEvent>) -> Result<bool, BatonError>;
    /// Keeps why the approvers could not be mailed (`None` clears it); `true` if that changed.
    async fn note_mail_failure(&self, id: &str, reason: Option<&str>) -> Result<bool, BatonError>;
}
