//! [`DriftStore`] on DynamoDB.
//!
//! | entity | pk | sk |
//! |---|---|---|
//! | Drift | `DRIFT#<environment>` | `<component>#<subject>#<field>#<values hash>` |
//!
//! One item per difference: noticing it is a conditional put (so concurrent or repeated checks
//! open it once and mail once), resolving it a conditional update. An environment's open
//! differences are one Query of its partition, never a Scan.

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::drift::{DriftRecord, DriftStore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::items::{Item, from_item, key, s, to_item};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

/// How long a resolved difference is kept, as history, before the table's TTL removes it.
const KEEP_RESOLVED: chrono::Duration = chrono::Duration::days(90);

fn partition(environment: &str) -> String {
    format!("DRIFT#{environment}")
}

#[derive(Serialize, Deserialize)]
struct DriftItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    record: DriftRecord,
}

#[async_trait]
impl DriftStore for DynamoStore {
    async fn open_drift(&self, environment: &str) -> Result<Vec<DriftRecord>, BatonError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .db()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :p")
                .filter_expression("attribute_not_exists(resolved_at)")
                .expression_attribute_values(":p", s(partition(environment)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("reading drift", e))?;
            for item in out.items.unwrap_or_default() {
                let record = from_item::<DriftItem>(item)?.record;
                if record.resolved_at.is_none() {
                    found.push(record);
                }
            }
            match out.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.key.cmp(&b.key)));
        Ok(found)
    }

    async fn note_drift(&self, record: &DriftRecord) -> Result<bool, BatonError> {
        let item = to_item(&DriftItem {
            pk: partition(&record.environment),
            sk: record.key.clone(),
            entity: "drift".into(),
            record: record.clone(),
        })?;
        // New, or the same difference come back after it was resolved: open (again). An open
        // one stays as it is, with the time it was first noticed.
        let put = self
            .db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR attribute_exists(resolved_at)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("noting drift", e)),
        }
    }

    async fn resolve_drift(&self, environment: &str, drift: &str, at: DateTime<Utc>) -> Result<bool, BatonError> {
        let update = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(partition(environment), drift)))
            // A resolved record is history: it goes with the table's TTL after a while.
            .update_expression("SET resolved_at = :at, expires_at = :exp")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(resolved_at)")
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .expression_attribute_values(
                ":exp",
                aws_sdk_dynamodb::types::AttributeValue::N((at + KEEP_RESOLVED).timestamp().to_string()),
            )
            .send()
            .await;
        match update {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("resolving drift", e)),
        }
    }

    async fn note_drift_unmailed(&self, environment: &str, drift: &str, reason: &str) -> Result<(), BatonError> {
        self.db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(partition(environment), drift)))
            .update_expression("SET mail_failure = :r")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":r", s(reason))
            .send()
            .await
            .map_err(|e| sdk_error("noting an unmailed drift", e))?;
        Ok(())
    }
}
