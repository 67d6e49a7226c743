//! The search index on DynamoDB (issue 16, item 7).
//!
//! | entity | pk | sk |
//! |---|---|---|
//! | Index entry | `SEARCH#<term key>` (`SEARCH#t:ADM-142`) | `<registered_at, µs, UTC>#<component>#<version>` |
//!
//! A package's entries are written with one BatchWriteItem (at most 25, see
//! [`baton_domain::search::MAX_TERMS_PER_PACKAGE`]); their keys come from the package alone, so
//! a retried ingest writes the same items again. A term is read with one Query, newest first,
//! with a limit; the other terms of a query are checked for its candidates by key (one
//! BatchGetItem): never a Scan.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use baton_domain::ports::search::{SearchIndex, SearchReads};
use baton_domain::search::IndexEntry;
use baton_domain::{BatonError, ReleaseId, Version};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use super::items::{Item, PackageItem, from_item, key, package_key, s, to_item};
use super::store::DynamoStore;
use crate::errors::sdk_error;

/// Most puts DynamoDB takes in one BatchWriteItem.
const BATCH_WRITE_MAX: usize = 25;
/// Tries for items DynamoDB leaves unprocessed (throttling) before giving up.
const BATCH_WRITE_ATTEMPTS: u32 = 5;

#[derive(Serialize, Deserialize)]
struct SearchItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: IndexEntry,
}

impl SearchItem {
    fn new(entry: &IndexEntry) -> Self {
        SearchItem {
            pk: format!("SEARCH#{}", entry.term),
            // Fixed-width UTC time first: text order is registration order.
            sk: format!(
                "{}#{}#{}",
                entry.registered_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                entry.component,
                entry.version
            ),
            entity: "search-entry".into(),
            entry: entry.clone(),
        }
    }
}

/// The item an index entry is stored as, for tools that write the table in bulk (seeding a
/// test table); ingest writes them through [`SearchIndex`].
pub fn search_item(entry: &IndexEntry) -> Result<Item, BatonError> {
    to_item(&SearchItem::new(entry))
}

#[async_trait]
impl SearchIndex for DynamoStore {
    async fn index(&self, entries: &[IndexEntry]) -> Result<(), BatonError> {
        // BatchWriteItem refuses two puts of one key in a request.
        let mut keys = BTreeSet::new();
        let mut items = Vec::new();
        for entry in entries {
            let item = SearchItem::new(entry);
            if keys.insert((item.pk.clone(), item.sk.clone())) {
                items.push(to_item(&item)?);
            }
        }
        for chunk in items.chunks(BATCH_WRITE_MAX) {
            let mut requests = chunk
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                        .map_err(|e| BatonError::internal(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut attempt = 0;
            while !requests.is_empty() {
                attempt += 1;
                let out = self
                    .db()
                    .batch_write_item()
                    .request_items(self.table(), requests)
                    .send()
                    .await
                    .map_err(|e| sdk_error("writing the search index", e))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(self.table()))
                    .unwrap_or_default();
                if !requests.is_empty() {
                    if attempt >= BATCH_WRITE_ATTEMPTS {
                        return Err(BatonError::transient(
                            "DynamoDB kept some search index writes unprocessed (throttled); retry",
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl SearchReads for DynamoStore {
    async fn entries(&self, term: &str, limit: usize) -> Result<Vec<IndexEntry>, BatonError> {
        let out = self
            .db()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(format!("SEARCH#{term}")))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("searching the index", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<SearchItem>(item).map(|i| i.entry))
            .collect()
    }

    async fn present(&self, wanted: &[IndexEntry]) -> Result<Vec<IndexEntry>, BatonError> {
        // BatchGetItem refuses duplicate keys; a set also fixes the order.
        let keys: BTreeSet<(String, String)> = wanted
            .iter()
            .map(|e| {
                let item = SearchItem::new(e);
                (item.pk, item.sk)
            })
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.batch_get(keys.into_iter().map(|(pk, sk)| key(pk, sk)).collect())
            .await?
            .into_iter()
            .map(|item| from_item::<SearchItem>(item).map(|i| i.entry))
            .collect()
    }

    async fn first_releases(
        &self,
        packages: &[(String, Version)],
    ) -> Result<Vec<((String, Version), Option<ReleaseId>)>, BatonError> {
        let keys: BTreeSet<(String, String)> = packages.iter().map(|(c, v)| (c.clone(), v.to_string())).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let items = self
            .batch_get(keys.iter().map(|(c, v)| package_key(c, v)).collect())
            .await?;
        items
            .into_iter()
            .map(|item| {
                from_item::<PackageItem>(item).map(|p| ((p.package.component, p.package.version), p.release_id))
            })
            .collect()
    }
}
