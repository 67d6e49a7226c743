//! `announce`: the table's stream, filtered to new release timeline events, handed to every
//! listener (webhooks, subscription mails). Fed by a DynamoDB stream event source mapping with
//! `ReportBatchItemFailures`: a record a listener failed on is reported, so the stream hands it
//! (and what follows it in the shard) over again; nothing is skipped silently.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::dynamodb::{Event, EventRecord};
use baton_domain::BatonError;
use baton_domain::ports::{EventListener, ReleaseEvent};
use serde_json::{Value, json};

use crate::Function;

/// The `entity` attribute of timeline items: the only items announced.
pub const RELEASE_EVENT_ENTITY: &str = "release-event";

/// Hands each new timeline event of a stream batch to every listener, in stream order.
pub struct Announce {
    listeners: Vec<Arc<dyn EventListener>>,
}

impl Announce {
    /// Announces to `listeners`, each told of every event.
    pub fn new(listeners: Vec<Arc<dyn EventListener>>) -> Self {
        Announce { listeners }
    }
}

/// The timeline event a stream record carries: `None` for any other record (a change to an
/// existing item, another entity), which the event source's filter should have kept out anyway.
pub fn release_event(record: &EventRecord) -> Result<Option<ReleaseEvent>, BatonError> {
    let image = &record.change.new_image;
    let is_event = record.event_name == "INSERT"
        && matches!(image.get("entity"), Some(serde_dynamo::AttributeValue::S(e)) if e == RELEASE_EVENT_ENTITY);
    if !is_event {
        return Ok(None);
    }
    serde_dynamo::from_item(image.clone())
        .map(Some)
        .map_err(|e| BatonError::invalid(format!("a release-event item has an unexpected shape: {e}")))
}

#[async_trait]
impl Function for Announce {
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let batch: Event = serde_json::from_value(payload)
            .map_err(|e| BatonError::invalid(format!("announce expects a DynamoDB stream batch (Records[]): {e}")))?;
        for record in &batch.records {
            let id = record.change.sequence_number.clone().unwrap_or_default();
            let event = match release_event(record) {
                Ok(Some(event)) => event,
                Ok(None) => continue,
                Err(e) => {
                    // Handing it over again cannot change its shape: log it and go on, so one
                    // odd item never holds up the shard.
                    tracing::error!(sequence = %id, error = %e, "skipping a stream record that is not a release event");
                    continue;
                }
            };
            for listener in &self.listeners {
                if let Err(e) = listener.on_event(&event).await {
                    tracing::warn!(release = %event.release_id, kind = %event.kind, sequence = %id, error = %e,
                        "a listener failed; the stream hands this event over again");
                    // A stream is retried from the first failed record on: report it and stop.
                    return Ok(json!({ "batchItemFailures": [{ "itemIdentifier": id }] }));
                }
            }
        }
        Ok(json!({ "batchItemFailures": [] }))
    }
}

#[cfg(test)]
mod tests;
