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
