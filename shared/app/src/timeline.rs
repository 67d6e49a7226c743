//! Appending to a release's timeline, stamped now.

use baton_domain::ports::{ReleaseEvent, Timeline};
use baton_domain::{BatonError, ReleaseId};
use chrono::Utc;

/// Appends an event of `kind` by `actor` (an approver's email, or `baton`).
pub async fn record(
    timeline: &impl Timeline,
    release: &ReleaseId,
    environment: Option<&str>,
    kind: &str,
    actor: &str,
    detail: String,
) -> Result<(), BatonError> {
    timeline
        .append_event(&ReleaseEvent {
            release_id: release.clone(),
            at: Utc::now(),
            kind: kind.into(),
            actor: actor.into(),
            environment: environment.map(str::to_string),
            detail,
        })
        .await
}
