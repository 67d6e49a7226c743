//! [`DriftStore`] on DynamoDB.
//!
//! | entity | pk | sk | TTL (`expires_at`) |
//! |---|---|---|---|
//! | Open drift | `DRIFT` | `<environment>#<component>#<subject>#<field>#<values hash>` | |
//! | Resolved drift | `DRIFTLOG#<environment>` | `<resolved_at>#<key>` | [`KEEP_RESOLVED`] on |
//!
//! One item per open difference, all in one partition that holds nothing else: the status page
//! reads every environment's open differences with one Query whose cost follows what is open
//! now, never history. Noticing is a conditional put (so concurrent or repeated checks open a
//! difference once and mail once); resolving moves the item to the environment's history
//! partition in one transaction (conditional on it being open).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use baton_domain::BatonError;
use baton_domain::drift::{DriftRecord, DriftStore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::items::{Item, from_item, key, s, to_item};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

/// How long a resolved difference is kept, as history, before the table's TTL removes it.
const KEEP_RESOLVED: chrono::Duration = chrono::Duration::days(90);

/// The partition of open differences.
const OPEN: &str = "DRIFT";

fn open_sk(environment: &str, drift: &str) -> String {
    format!("{environment}#{drift}")
}

#[derive(Serialize, Deserialize)]
struct DriftItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    record: DriftRecord,
}

fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, BatonError> {
    r.map_err(|e| BatonError::internal(format!("building a DynamoDB request: {e}")))
}

impl DynamoStore {
    /// Open differences, of one environment or (`None`) of all, oldest first: one Query.
    async fn query_open(&self, environment: Option<&str>) -> Result<Vec<DriftRecord>, BatonError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .db()
                .query()
                .table_name(self.table())
                .expression_attribute_values(":p", s(OPEN))
                .set_exclusive_start_key(start.take());
            query = match environment {
                Some(env) => query
                    .key_condition_expression("pk = :p AND begins_with(sk, :e)")
                    .expression_attribute_values(":e", s(format!("{env}#"))),
                None => query.key_condition_expression("pk = :p"),
            };
            let out = query.send().await.map_err(|e| sdk_error("reading drift", e))?;
            for item in out.items.unwrap_or_default() {
                found.push(from_item::<DriftItem>(item)?.record);
            }
            match out.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.key.cmp(&b.key)));
        Ok(found)
    }
}

#[async_trait]
impl DriftStore for DynamoStore {
    async fn open_drift(&self, environment: &str) -> Result<Vec<DriftRecord>, BatonError> {
        self.query_open(Some(environment)).await
    }

    async fn all_open_drift(&self) -> Result<Vec<DriftRecord>, BatonError> {
        self.query_open(None).await
    }

    async fn note_drift(&self, record: &DriftRecord) -> Result<bool, BatonError> {
        let item = to_item(&DriftItem {
            pk: OPEN.into(),
            sk: open_sk(&record.environment, &record.key),
            entity: "drift".into(),
            record: record.clone(),
        })?;
        // An open one stays as it is, with the time it was first noticed.
        let put = self
            .db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("noting drift", e)),
        }
    }

    async fn resolve_drift(&self, environment: &str, drift: &str, at: DateTime<Utc>) -> Result<bool, BatonError> {
        let Some(item) = self
            .get(key(OPEN, open_sk(environment, drift)), "a drift record")
            .await?
        else {
            return Ok(false);
        };
        let mut record = from_item::<DriftItem>(item)?.record;
        record.resolved_at = Some(at);
        let mut history = to_item(&DriftItem {
            pk: format!("DRIFTLOG#{environment}"),
            sk: format!("{}#{drift}", at.to_rfc3339()),
            entity: "drift-resolved".into(),
            record,
        })?;
        history.insert(
            "expires_at".into(),
            AttributeValue::N((at + KEEP_RESOLVED).timestamp().to_string()),
        );
        let items = vec![
            TransactWriteItem::builder()
                .delete(built(
                    Delete::builder()
                        .table_name(self.table())
                        .set_key(Some(key(OPEN, open_sk(environment, drift))))
                        .condition_expression("attribute_exists(pk)")
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .put(built(
                    Put::builder().table_name(self.table()).set_item(Some(history)).build(),
                )?)
                .build(),
        ];
        // A concurrent check resolved it first: not this call's to report.
        Ok(self.transact_items(items, "resolving drift").await?.is_ok())
    }

    async fn note_drift_unmailed(&self, environment: &str, drift: &str, reason: &str) -> Result<(), BatonError> {
        let update = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(OPEN, open_sk(environment, drift))))
            .update_expression("SET mail_failure = :r")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":r", s(reason))
            .send()
            .await;
        match update {
            // Resolved meanwhile: nothing left to note it on.
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(sdk_error("noting an unmailed drift", e)),
        }
    }
}
