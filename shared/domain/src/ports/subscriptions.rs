//! Where subscriptions and the markers of mails already sent are kept.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::BatonError;
use crate::subscription::{NoticeMark, Subscription};

/// Subscriptions (DESIGN §3.7) and notice markers.
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// A subscription by id.
    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, BatonError>;
    /// Keeps `pending` unless a confirmed subscription holds its id (then `false`, and nothing
    /// changes): a pending or ended one is replaced, with new links.
    async fn put_pending(&self, pending: &Subscription) -> Result<bool, BatonError>;
    /// Confirms `pending` (as read) if it is still pending with the same confirmation link: it
    /// is listed under its topic from now on. `false` if it was not (confirmed meanwhile, or
    /// replaced by a newer subscription).
    async fn confirm(&self, pending: &Subscription, at: DateTime<Utc>) -> Result<bool, BatonError>;
    /// Ends subscription `id` (if it still exists): it is listed under its topic no more.
    async fn unsubscribe(&self, id: &str, at: DateTime<Utc>) -> Result<(), BatonError>;
    /// The confirmed subscriptions listed under `topic` ([`crate::subscription::Scope::topic`]).
    async fn subscribers(&self, topic: &str) -> Result<Vec<Subscription>, BatonError>;
    /// Marks that `mark.address` is told about `mark.notice`; `false` if it was marked already
    /// (told before: send nothing).
    async fn claim_notice(&self, mark: &NoticeMark) -> Result<bool, BatonError>;
    /// The mark of `address` being told about `notice`, if any.
    async fn notice_mark(&self, notice: &str, address: &str) -> Result<Option<NoticeMark>, BatonError>;
    /// Removes the mark of a notice whose mail could not be sent, so a redelivery tries again.
    async fn drop_notice(&self, notice: &str, address: &str) -> Result<(), BatonError>;
}
