//! Webhooks: which timeline events become which webhook events, the delivery a hook gets, its
//! body in each format, and its signature (HMAC-SHA256 over `<timestamp>.<body>`, as GitHub and
//! Stripe sign theirs).

mod body;
mod signature;

pub use body::{Announcement, body};
pub use signature::{SIGNATURE_TOLERANCE_SECONDS, SignatureProblem, sign, signature_header, verify};

use serde::{Deserialize, Serialize};

use crate::ports::ReleaseEvent;

/// A release was created.
pub const RELEASE_CREATED: &str = "release.created";
/// Approvers were asked to sign off on an environment.
pub const APPROVAL_REQUESTED: &str = "approval.requested";
/// An approver approved or rejected.
pub const APPROVAL_DECIDED: &str = "approval.decided";
/// Deployment to an environment began.
pub const DEPLOYMENT_STARTED: &str = "deployment.started";
/// A release is live in an environment.
pub const DEPLOYMENT_SUCCEEDED: &str = "deployment.succeeded";
/// Deploying to an environment failed (rolled back, or left as the failure left it).
pub const DEPLOYMENT_FAILED: &str = "deployment.failed";
/// A release reached its final status (released, rejected, expired, superseded, failed, ...).
pub const RELEASE_FINISHED: &str = "release.finished";

/// Every event a webhook may ask for.
pub const EVENTS: [&str; 7] = [
    RELEASE_CREATED,
    APPROVAL_REQUESTED,
    APPROVAL_DECIDED,
    DEPLOYMENT_STARTED,
    DEPLOYMENT_SUCCEEDED,
    DEPLOYMENT_FAILED,
    RELEASE_FINISHED,
];

/// The webhook events a timeline event is, from the kinds the handlers write (`created` by
/// ingest; `approval-requested` by notify; `approved` / `rejected` by approve; `deploying` and
/// `live` by the lifecycle; the final outcome, lowercased, by `finish` and `ended`). Some kinds
/// are written twice with two meanings, told apart by who wrote them:
/// - `rejected`: an approver's decision (actor: the approver) or, afterwards, the release's end
///   (actor `baton`);
/// - `superseded`: notify replacing a waiting request (detail `replaced by ...` / `... already
///   waits ...`) or `finish` ending the release (detail `Superseded in <env>: ...`).
///
/// Every other kind (holds, freezes, plan changes, redeploys, ...) announces nothing.
pub fn webhook_events(event: &ReleaseEvent) -> Vec<&'static str> {
    let by_baton = event.actor == "baton";
    match event.kind.as_str() {
        "created" => vec![RELEASE_CREATED],
        "approval-requested" => vec![APPROVAL_REQUESTED],
        "approved" => vec![APPROVAL_DECIDED],
        "rejected" if !by_baton => vec![APPROVAL_DECIDED],
        "deploying" => vec![DEPLOYMENT_STARTED],
        "live" => vec![DEPLOYMENT_SUCCEEDED],
        // The release's end after a deployment went wrong in an environment.
        "failed" | "rolledback" | "left" if event.environment.is_some() => {
            vec![DEPLOYMENT_FAILED, RELEASE_FINISHED]
        }
        "superseded" if !event.detail.starts_with("Superseded") => vec![],
        "released" | "rejected" | "expired" | "superseded" | "blocked" | "stopped" | "failed" | "rolledback"
        | "left" => vec![RELEASE_FINISHED],
        _ => vec![],
    }
}

/// The stable id of one event's delivery to one hook: every try carries it (`Baton-Delivery`),
/// so a receiver can drop repeats.
pub fn delivery_id(event: &ReleaseEvent, hook: &str, webhook_event: &str) -> String {
    let text = format!(
        "{}\n{}\n{}\n{}\n{hook}\n{webhook_event}",
        event.release_id,
        event.at.to_rfc3339(),
        event.kind,
        event.environment.as_deref().unwrap_or_default()
    );
    crate::sha256_hex(text.as_bytes())[..32].to_string()
}

/// One delivery waiting on the webhooks queue: which hook, which event, which try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    /// The hook's name in `baton.yaml` (its URL, secret and format are read when delivering).
    pub hook: String,
    /// The webhook event, e.g. `release.created`.
    pub event: String,
    /// [`delivery_id`].
    pub delivery: String,
    /// Which try this is, from 1.
    pub attempt: u32,
    /// The timeline event announced.
    pub release_event: ReleaseEvent,
}

/// Most tries of one delivery.
pub const MAX_ATTEMPTS: u32 = 8;

/// How long to wait before try `next` (2, 3, ...) of a delivery: `base`, then twice as long each
/// time, at most 15 minutes (the longest an SQS message can be delayed).
pub fn retry_delay(base_seconds: u64, next: u32) -> std::time::Duration {
    let doublings = next.saturating_sub(2).min(20);
    std::time::Duration::from_secs(base_seconds.max(1).saturating_mul(1 << doublings).min(900))
}

#[cfg(test)]
mod tests;
