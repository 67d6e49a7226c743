//! A release's last changes, kept on its item (`RELEASE#<id>` / `RELEASE`) so the release list
//! and the feed know when each release last changed without reading any timeline.
//!
//! | attribute | holds |
//! |---|---|
//! | `last_change` | `{at, event}`: its latest timeline event anywhere |
//! | `last_change#<environment>` | the same for one environment |
//!
//! Each is written after its event, by a conditional update that only moves it forward (`at`
//! is a fixed-width UTC instant, so text order is time order): events delivered late or twice
//! never move it back.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use baton_domain::BatonError;
use baton_domain::ports::ReleaseEvent;
use baton_domain::ports::status::LastChanges;
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use super::items::{Item, release_key, s, to_item};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

/// The attribute of a release's last change anywhere.
const LAST: &str = "last_change";
/// The prefix of the attribute of its last change in one environment.
const LAST_IN: &str = "last_change#";

/// A last change as stored: the event, and its instant in a form that sorts as text.
#[derive(Serialize, Deserialize)]
struct Change {
    at: String,
    event: ReleaseEvent,
}

/// Nanoseconds always written, `Z` for UTC: equal widths, so text order is time order.
fn sortable(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

impl DynamoStore {
    /// Moves the release's last change (anywhere, and in the event's environment) forward to
    /// `event`, if it is later than what is kept. A release that does not exist is left alone.
    pub(super) async fn note_change(&self, event: &ReleaseEvent) -> Result<(), BatonError> {
        let change = Change {
            at: sortable(event.at),
            event: event.clone(),
        };
        let value = AttributeValue::M(to_item(&change)?);
        let mut attributes = vec![LAST.to_string()];
        if let Some(env) = &event.environment {
            attributes.push(format!("{LAST_IN}{env}"));
        }
        for attribute in attributes {
            let result = self
                .db()
                .update_item()
                .table_name(self.table())
                .set_key(Some(release_key(&event.release_id)))
                .update_expression("SET #c = :c")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(#c) OR #c.#at <= :at)")
                .expression_attribute_names("#c", attribute)
                .expression_attribute_names("#at", "at")
                .expression_attribute_values(":c", value.clone())
                .expression_attribute_values(":at", s(&change.at))
                .send()
                .await;
            match result {
                // Older than what is kept (or no such release): nothing to move.
                Ok(_) => {}
                Err(err) if is_conditional_failure(&err) => {}
                Err(err) => return Err(sdk_error("noting a release's last change", err)),
            }
        }
        Ok(())
    }
}

/// The last changes kept on a release's item.
pub(super) fn last_changes(item: &Item) -> Result<LastChanges, BatonError> {
    let change = |value: &AttributeValue| -> Result<Option<ReleaseEvent>, BatonError> {
        match value {
            AttributeValue::M(map) => serde_dynamo::from_item::<_, Change>(map.clone())
                .map(|c| Some(c.event))
                .map_err(|e| BatonError::internal(format!("a release's last change is unreadable: {e}"))),
            _ => Ok(None),
        }
    };
    let mut changes = LastChanges {
        last: None,
        environments: BTreeMap::new(),
    };
    for (name, value) in item {
        if name == LAST {
            changes.last = change(value)?;
        } else if let Some(env) = name.strip_prefix(LAST_IN)
            && let Some(event) = change(value)?
        {
            changes.environments.insert(env.to_string(), event);
        }
    }
    Ok(changes)
}
