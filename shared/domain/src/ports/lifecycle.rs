//! Ports the release lifecycle needs: approvals, the timeline, environment leases, mail and
//! the workflow's task callbacks.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::approval::{Approval, ApprovalStatus};
use crate::error::BatonError;
use crate::release::{ReleaseId, ReleaseStatus};

/// One line of a release's append-only timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseEvent {
    /// The release.
    pub release_id: ReleaseId,
    /// When.
    pub at: DateTime<Utc>,
    /// What happened, e.g. `approval-requested`, `approved`, `deployed`, `rolled-back`.
    pub kind: String,
    /// Who: an approver's email, or `baton`.
    pub actor: String,
    /// The environment, where it applies.
    pub environment: Option<String>,
    /// In words.
    pub detail: String,
}

/// The release record's status and timeline.
#[async_trait]
pub trait Timeline: Send + Sync {
    /// Appends an event (never overwrites one).
    async fn append_event(&self, event: &ReleaseEvent) -> Result<(), BatonError>;
    /// Sets the release's status.
    async fn set_release_status(&self, release: &ReleaseId, status: ReleaseStatus) -> Result<(), BatonError>;
    /// A release's events, oldest first.
    async fn events(&self, release: &ReleaseId) -> Result<Vec<ReleaseEvent>, BatonError>;
}

/// Approval records.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// Creates the approval; `false` if one with its id exists already.
    async fn create_approval(&self, approval: &Approval) -> Result<bool, BatonError>;
    /// An approval by id.
    async fn approval(&self, id: &str) -> Result<Option<Approval>, BatonError>;
    /// Stores the hash of an approver's (new) token.
    async fn set_approver_token(&self, id: &str, approver: &str, token_hash: &str) -> Result<(), BatonError>;
    /// Keeps that the workflow waits on a freeze after this approval (its task token); `false`
    /// if that very wait is kept already (a retried invocation).
    async fn set_freeze_wait(
        &self,
        id: &str,
        wait: &crate::approval::freeze_override::FreezeWait,
    ) -> Result<bool, BatonError>;
    /// Notes that an approver's mail went out.
    async fn mark_mailed(&self, id: &str, approver: &str) -> Result<(), BatonError>;
    /// Moves a pending approval to `status`; `false` if it was no longer pending.
    async fn decide(
        &self,
        id: &str,
        status: ApprovalStatus,
        by: &str,
        comment: Option<&str>,
        superseded_by: Option<&ReleaseId>,
        at: DateTime<Utc>,
    ) -> Result<bool, BatonError>;
    /// Notes that Step Functions has the decision.
    async fn mark_task_notified(&self, id: &str) -> Result<(), BatonError>;
    /// Pending approvals in an environment.
    async fn pending_approvals(&self, environment: &str) -> Result<Vec<Approval>, BatonError>;
}

/// One deployment per environment at a time.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the environment for `holder` for at most `ttl`: its fence, a number that rises
    /// with every acquisition of the environment; `Err` holder if another has it.
    async fn acquire(
        &self,
        environment: &str,
        holder: &ReleaseId,
        ttl: Duration,
    ) -> Result<Result<u64, ReleaseId>, BatonError>;
    /// Extends the lease by `ttl` if `holder` still holds it under `fence` and it has not run
    /// out; `false` if the lease was lost.
    async fn renew(&self, environment: &str, holder: &ReleaseId, fence: u64, ttl: Duration)
    -> Result<bool, BatonError>;
    /// Gives it back (only if `holder` has it).
    async fn release(&self, environment: &str, holder: &ReleaseId) -> Result<(), BatonError>;
    /// Who holds the environment now, if anyone (a lease past its time holds nothing).
    async fn holder(&self, environment: &str) -> Result<Option<ReleaseId>, BatonError>;
}

/// An email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Files sent along, such as an `.ics` invitation; none for most mails.
    pub attachments: Vec<Attachment>,
    /// Extra header fields, e.g. `List-Unsubscribe`; none for most mails. A value holding CR
    /// or LF is refused by the mailer (it could start a header of its own).
    pub headers: Vec<(String, String)>,
}

impl Mail {
    /// A mail to `to` without attachments (most mails).
    pub fn new(to: &str, subject: String, text: String, html: String) -> Mail {
        Mail {
            to: to.to_string(),
            subject,
            text,
            html,
            attachments: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// A file attached to a [`Mail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the recipient sees, e.g. `release-12-prod.ics`.
    pub filename: String,
    /// Its media type, e.g. `text/calendar; charset=UTF-8`.
    pub content_type: String,
    /// Its bytes.
    pub content: Vec<u8>,
}

/// Outgoing mail (SES).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail` from `from`.
    async fn send(&self, from: &str, mail: &Mail) -> Result<(), BatonError>;
}

/// Whether a task token still had a waiting task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAnswer {
    /// The workflow has the answer.
    Delivered,
    /// No task waits on that token any more (timed out, or answered already).
    Gone,
}

/// Answers to a workflow's waiting task.
#[async_trait]
pub trait TaskCallbacks: Send + Sync {
    /// `SendTaskSuccess`.
    async fn succeed(&self, token: &str, output: &serde_json::Value) -> Result<TaskAnswer, BatonError>;
    /// `SendTaskFailure` with an error name Step Functions can match.
    async fn fail(&self, token: &str, error: &str, cause: &str) -> Result<TaskAnswer, BatonError>;
}
