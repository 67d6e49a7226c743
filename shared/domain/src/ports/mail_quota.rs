//! Where the counters of [`crate::mail_quota`] are kept.

use async_trait::async_trait;

use crate::error::BatonError;
use crate::mail_quota::MailQuota;

/// Counters of the mails anyone can make Baton send (DynamoDB on AWS).
#[async_trait]
pub trait MailQuotaStore: Send + Sync {
    /// Counts one mail against `quota` if the hour has room: true if it had (and now has one
    /// less), false if it was full. One conditional write; safe under concurrent calls.
    async fn take_mail_quota(&self, quota: &MailQuota) -> Result<bool, BatonError>;
}
