//! Where subscriptions and the markers of mails already sent are kept.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::BatonError;
use crate::subscription::Subscription;

/// Subscriptions (DESIGN §3.7) and notice markers.
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// A subscription by id.
    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, BatonError>;
    /// Keeps `pending` unless a confirmed subscription holds its id (then `false`, and nothing
    /// changes): a pending or ended one is replaced, with new links.
    async fn put_pending(&self, pending: &Subscription) -> Result<bool, BatonError>;
    /// Confirms the pending subscription `id` if its confirmation hash is still
    /// `confirm_hash`; `false` if it was not (confirmed meanwhile, or replaced).
    async fn confirm(&self, id: &str, confirm_hash: &str, at: DateTime<Utc>) -> Result<bool, BatonError>;
    /// Ends subscription `id` if its unsubscribe hash is `unsubscribe_hash`: it is listed
    /// under its topic no more. `false` if the hash did not match.
    async fn unsubscribe(&self, id: &str, unsubscribe_hash: &str, at: DateTime<Utc>) -> Result<bool, BatonError>;
    /// The confirmed subscriptions listed under `topic` ([`crate::subscription::Scope::topic`]).
    async fn subscribers(&self, topic: &str) -> Result<Vec<Subscription>, BatonError>;
    /// Marks that `address` is told about `notice`; `false` if it was marked already (told
    /// before: send nothing).
    async fn claim_notice(&self, notice: &str, address: &str, at: DateTime<Utc>) -> Result<bool, BatonError>;
    /// Removes the mark of a notice whose mail could not be sent, so a redelivery tries again.
    async fn drop_notice(&self, notice: &str, address: &str) -> Result<(), BatonError>;
}
