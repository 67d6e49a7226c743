//! The search index on DynamoDB (issue 16, item 7).
//!
//! | entity | pk | sk |
//! |---|---|---|
//! | Index entry | `SEARCH#<term key>` (`SEARCH#t:ADM-142`) | `<registered_at, µs, UTC>#<component>#<version>` |
//!
//! A package's entries are written in the transaction that registers it (at most 25, see
//! [`baton_domain::search::MAX_TERMS_PER_PACKAGE`]), so a package is never registered without
//! them; their keys come from the package alone. A term is read with one Query, newest first,
//! with a limit; the other terms of a query are checked for its candidates by key (one
//! BatchGetItem): never a Scan.

use std::collections::BTreeSet;

use async_trait::async_trait;
use baton_domain::ports::search::SearchReads;
use baton_domain::search::IndexEntry;
use baton_domain::{BatonError, ReleaseId, Version};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use super::items::{Item, PackageItem, from_item, key, package_key, s, to_item};
use super::store::DynamoStore;
use crate::errors::sdk_error;

#[derive(Serialize, Deserialize)]
pub(super) struct SearchItem {
    pub(super) pk: String,
    pub(super) sk: String,
    entity: String,
    #[serde(flatten)]
    entry: IndexEntry,
}

impl SearchItem {
    pub(super) fn new(entry: &IndexEntry) -> Self {
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
/// test table); ingest writes them with the package they index (`registry.rs`).
pub fn search_item(entry: &IndexEntry) -> Result<Item, BatonError> {
    to_item(&SearchItem::new(entry))
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
