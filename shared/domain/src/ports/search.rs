//! The search index's port (issue 16, item 7): written at ingest with the package it indexes
//! ([`crate::ports::ReleaseStore::register_package`]), read by the status function. Every call
//! is bounded, so a search costs the same few requests whatever the history holds.

use async_trait::async_trait;

use crate::error::BatonError;
use crate::release::ReleaseId;
use crate::search::IndexEntry;
use crate::version::Version;

/// Reads the index (status).
#[async_trait]
pub trait SearchReads: Send + Sync {
    /// The newest `limit` entries under the term key `term` (`t:ADM-142`), newest first. One
    /// read.
    async fn entries(&self, term: &str, limit: usize) -> Result<Vec<IndexEntry>, BatonError>;
    /// Which of `wanted` exist, read by their keys (term and package): one batch read of at
    /// most [`crate::search::HITS_PER_TERM`] × 4 keys.
    async fn present(&self, wanted: &[IndexEntry]) -> Result<Vec<IndexEntry>, BatonError>;
    /// The first release holding each of `packages` (component, version), when it is in one.
    /// One batch read.
    async fn first_releases(
        &self,
        packages: &[(String, Version)],
    ) -> Result<Vec<((String, Version), Option<ReleaseId>)>, BatonError>;
}
