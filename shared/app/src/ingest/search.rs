//! The search index at ingest (issue 16, item 7): a registered package's terms are written
//! once it is registered, before any release is made of it.

use baton_domain::ports::search::SearchIndex;
use baton_domain::ports::{ConfigSource, Registration, ReleaseStore, Workflow};
use baton_domain::release::PackageRef;
use baton_domain::{BatonError, Package};

use super::Ingest;
use super::spool::Spool;

impl<C, A, S, W> Ingest<C, A, S, W>
where
    C: ConfigSource,
    A: Spool,
    S: ReleaseStore + SearchIndex,
    W: Workflow,
{
    /// Writes the search entries of the package a registration kept: one BatchWriteItem for a
    /// new package. A repeated event (a duplicate) writes them again from the package as first
    /// registered (one more read), since the first attempt may have stopped before its index
    /// was written; the keys are the same, so nothing doubles. A conflict indexes nothing: the
    /// package first registered stays as it was indexed.
    pub(super) async fn index_for_search(
        &self,
        package: &Package,
        registration: &Registration,
    ) -> Result<(), BatonError> {
        let registered = match registration {
            Registration::New => package.clone(),
            Registration::Duplicate { .. } => self
                .store
                .packages(&[PackageRef::of(package)])
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| BatonError::transient("the registered package is not readable yet; retry"))?,
            Registration::Conflict { .. } => return Ok(()),
        };
        self.store.index(&baton_domain::search::entries(&registered)).await
    }
}
