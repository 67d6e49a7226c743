//! [`AccessStore`] on DynamoDB.
//!
//! | entity | pk | sk | gsi1pk / gsi1sk | attributes |
//! |---|---|---|---|---|
//! | Sign-in link | `SIGNIN#<token hash>` | `SIGNIN` | | `viewer`, `created_at`, `valid_until`, `used_at`, `expires_at` (TTL, epoch s) |
//! | API token | `TOKEN#<token hash>` | `TOKEN` | `TOKENS#<viewer>` / `<created_at>` | the [`ApiToken`] |
//!
//! A token is one item: the bearer check is one GetItem, a viewer's list one Query of the index.
//! Sign-in links vanish by TTL a day after they expire; using one is a conditional update.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use baton_domain::BatonError;
use baton_domain::access::tokens::{ApiToken, SignInLink};
use baton_domain::ports::AccessStore;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::items::{Item, from_item, key, s, to_item, value};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

#[derive(Serialize, Deserialize)]
struct SignInItem {
    pk: String,
    sk: String,
    entity: String,
    viewer: String,
    created_at: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    /// `valid_until` in epoch seconds, for the condition that uses the link (numbers compare
    /// exactly; RFC 3339 texts with different fractions do not).
    valid_until_s: i64,
    /// TTL: the item is removed a day after the link stops working.
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct TokenItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    entity: String,
    #[serde(flatten)]
    token: ApiToken,
}

fn sign_in_key(hash: &str) -> Item {
    key(format!("SIGNIN#{hash}"), "SIGNIN")
}

fn token_key(hash: &str) -> Item {
    key(format!("TOKEN#{hash}"), "TOKEN")
}

#[async_trait]
impl AccessStore for DynamoStore {
    async fn save_sign_in(&self, link: &SignInLink) -> Result<(), BatonError> {
        let item = SignInItem {
            pk: format!("SIGNIN#{}", link.hash),
            sk: "SIGNIN".into(),
            entity: "sign-in".into(),
            viewer: link.viewer.clone(),
            created_at: link.created_at,
            valid_until: link.expires_at,
            valid_until_s: link.expires_at.timestamp(),
            expires_at: (link.expires_at + Duration::days(1)).timestamp(),
        };
        self.db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error("keeping a sign-in link", e))?;
        Ok(())
    }

    async fn use_sign_in(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<SignInLink>, BatonError> {
        let answer = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(sign_in_key(hash)))
            .update_expression("SET used_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(used_at) AND valid_until_s > :s")
            .expression_attribute_values(":now", value(now)?)
            .expression_attribute_values(":s", AttributeValue::N(now.timestamp().to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match answer {
            Ok(out) => {
                let item: SignInItem = from_item(out.attributes.unwrap_or_default())?;
                Ok(Some(SignInLink {
                    hash: hash.to_string(),
                    viewer: item.viewer,
                    created_at: item.created_at,
                    expires_at: item.valid_until,
                }))
            }
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(sdk_error("using a sign-in link", e)),
        }
    }

    async fn save_token(&self, token: &ApiToken) -> Result<(), BatonError> {
        let item = TokenItem {
            pk: format!("TOKEN#{}", token.hash),
            sk: "TOKEN".into(),
            gsi1pk: format!("TOKENS#{}", token.viewer),
            gsi1sk: token.created_at.to_rfc3339(),
            entity: "api-token".into(),
            token: token.clone(),
        };
        self.db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error("keeping an API token", e))?;
        Ok(())
    }

    async fn token(&self, hash: &str) -> Result<Option<ApiToken>, BatonError> {
        let out = self
            .db()
            .get_item()
            .table_name(self.table())
            .set_key(Some(token_key(hash)))
            .send()
            .await
            .map_err(|e| sdk_error("reading an API token", e))?;
        out.item
            .map(|item| from_item::<TokenItem>(item).map(|i| i.token))
            .transpose()
    }

    async fn tokens_of(&self, viewer: &str, limit: usize) -> Result<Vec<ApiToken>, BatonError> {
        let out = self
            .db()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(format!("TOKENS#{viewer}")))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error("listing API tokens", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<TokenItem>(item).map(|i| i.token))
            .collect()
    }

    async fn revoke_token(&self, viewer: &str, hash: &str, now: DateTime<Utc>) -> Result<bool, BatonError> {
        let answer = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(token_key(hash)))
            .update_expression("SET revoked_at = :now")
            .condition_expression("attribute_exists(pk) AND viewer = :v AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":now", value(now)?)
            .expression_attribute_values(":v", s(viewer))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("revoking an API token", e)),
        }
    }

    async fn touch_token(&self, token: &ApiToken, now: DateTime<Utc>) -> Result<(), BatonError> {
        let answer = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(token_key(&token.hash)))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", value(now)?)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(sdk_error("recording a token's use", e)),
        }
    }
}
