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
    /// Adds `sign_off` to a pending approval holding exactly `signed` sign-offs (with
    /// `complete`, the same write approves it) and appends `event`, both or neither; `false` if
    /// the approval moved on meanwhile.
    async fn record_sign_off(
        &self,
        id: &str,
        sign_off: &SignOff,
        signed: usize,
        complete: bool,
        event: &ReleaseEvent,
    ) -> Result<bool, BatonError>;
    /// Notes that the decision needs no more delivering (Step Functions has it, or its task is
    /// gone), appending `event` in the same write if given. `false` if another delivery had
    /// already closed it: then nothing is written, so the entry appears once.
    async fn close_delivery(&self, id: &str, event: Option<&ReleaseEvent>) -> Result<bool, BatonError>;
    /// Keeps why the approvers could not be mailed (`None` clears it); `true` if that changed.
    async fn note_mail_failure(&self, id: &str, reason: Option<&str>) -> Result<bool, BatonError>;
}
