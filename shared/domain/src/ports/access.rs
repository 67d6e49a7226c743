//! What sign-in needs kept: sign-in links and API tokens, by their hashes only.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::tokens::{ApiToken, SignInLink};
use crate::error::BatonError;

/// Sign-in links and API tokens (DynamoDB on AWS).
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Keeps a mailed sign-in link until it is used or expires.
    async fn save_sign_in(&self, link: &SignInLink) -> Result<(), BatonError>;
    /// Uses the link whose token hashes to `hash`, once: the link if it exists, has not expired
    /// at `now` and was not used before (it is marked used in the same conditional write).
    async fn use_sign_in(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<SignInLink>, BatonError>;
    /// Keeps a new token. One write.
    async fn save_token(&self, token: &ApiToken) -> Result<(), BatonError>;
    /// The token whose secret hashes to `hash`, revoked or not. One read.
    async fn token(&self, hash: &str) -> Result<Option<ApiToken>, BatonError>;
    /// A viewer's tokens, newest first, at most `limit`. One query.
    async fn tokens_of(&self, viewer: &str, limit: usize) -> Result<Vec<ApiToken>, BatonError>;
    /// Revokes `viewer`'s token `id` (its hash) at `now`; false if they have no such live token.
    async fn revoke_token(&self, viewer: &str, hash: &str, now: DateTime<Utc>) -> Result<bool, BatonError>;
    /// Records a use of `token` at `now`.
    async fn touch_token(&self, token: &ApiToken, now: DateTime<Utc>) -> Result<(), BatonError>;
}
