//! Announcing what happens to releases: every timeline event, once written, is handed to each
//! listener (webhooks, subscription mails, ...) by the `announce` function, fed by the table's
//! stream.

use async_trait::async_trait;

use super::ReleaseEvent;
use crate::error::BatonError;

/// Something told of every release timeline event. Delivery is at least once and not in order
/// (a stream record may be handed over again after a failure), so a listener must be idempotent:
/// key what it does on the event (its release, time and kind), not on being called.
#[async_trait]
pub trait EventListener: Send + Sync {
    /// Handles one event. An error makes the stream hand this event over again, to every
    /// listener: what a listener did already must be repeated harmlessly.
    async fn on_event(&self, event: &ReleaseEvent) -> Result<(), BatonError>;
}

/// The queue of webhook deliveries.
#[async_trait]
pub trait WebhookQueue: Send + Sync {
    /// Queues `messages`, each to be delivered after `delay` (at most 15 minutes), in as few
    /// requests as the queue allows (one event's deliveries to every hook go together). An
    /// error means some may not be queued: the caller repeats them all, and a delivery queued
    /// twice is dropped by its id (the receiver's `Baton-Delivery`, the log's conditional write).
    async fn enqueue(
        &self,
        messages: &[crate::webhook::WebhookMessage],
        delay: std::time::Duration,
    ) -> Result<(), BatonError>;
}

/// What became of one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    /// The receiver answered with this status.
    Answered(u16),
    /// No answer: the connection failed or timed out (in words, without the URL's secrets).
    NoAnswer(String),
}

/// Sends webhook requests.
#[async_trait]
pub trait WebhookPoster: Send + Sync {
    /// POSTs `body` (JSON) with `headers` to `url`, within a timeout.
    async fn post(&self, url: &str, headers: &[(String, String)], body: String) -> PostOutcome;
}

/// One try of one delivery, as kept (for 30 days) and shown on the admin page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookAttempt {
    /// The hook.
    pub hook: String,
    /// The delivery id (`Baton-Delivery`).
    pub delivery: String,
    /// The webhook event.
    pub event: String,
    /// The release.
    pub release_id: crate::release::ReleaseId,
    /// Which try, from 1.
    pub attempt: u32,
    /// When it was made.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why there was no answer, if there was none.
    pub error: Option<String>,
    /// Whether the receiver took it (a 2xx).
    pub delivered: bool,
    /// Whether another try follows (false when delivered, or out of tries).
    pub will_retry: bool,
}

/// Where tries of webhook deliveries are kept.
#[async_trait]
pub trait WebhookLog: Send + Sync {
    /// Keeps `attempt`; `false` if that try of that delivery was kept already (a repeated
    /// message): whoever kept it first decides what follows.
    async fn record_attempt(&self, attempt: &WebhookAttempt) -> Result<bool, BatonError>;
    /// The newest `limit` tries of `hook`, newest first.
    async fn recent_attempts(&self, hook: &str, limit: usize) -> Result<Vec<WebhookAttempt>, BatonError>;
}
