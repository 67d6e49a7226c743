//! Tries of webhook deliveries.
//!
//! | entity | pk | sk | gsi1pk / gsi1sk |
//! |---|---|---|---|
//! | Webhook attempt | `WEBHOOK#<hook>` | `DELIVERY#<delivery>#<attempt, 2 digits>` | `WEBHOOK#<hook>` / `<at>#<delivery>#<attempt>` |
//!
//! The key makes a try of a delivery unique (a repeated message cannot keep it twice); the index
//! lists a hook's tries newest first in one Query. Kept 30 days (`expires_at`, the table's TTL).

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::ports::{WebhookAttempt, WebhookLog};
use serde::{Deserialize, Serialize};

use super::items::{from_item, s, to_item};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

/// How long tries are kept.
const KEEP_DAYS: i64 = 30;

#[derive(Serialize, Deserialize)]
struct AttemptItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    entity: String,
    expires_at: i64,
    #[serde(flatten)]
    attempt: WebhookAttempt,
}

#[async_trait]
impl WebhookLog for DynamoStore {
    async fn record_attempt(&self, attempt: &WebhookAttempt) -> Result<bool, BatonError> {
        let item = AttemptItem {
            pk: format!("WEBHOOK#{}", attempt.hook),
            sk: format!("DELIVERY#{}#{:02}", attempt.delivery, attempt.attempt),
            gsi1pk: format!("WEBHOOK#{}", attempt.hook),
            gsi1sk: format!(
                "{}#{}#{:02}",
                attempt.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                attempt.delivery,
                attempt.attempt
            ),
            entity: "webhook-attempt".into(),
            expires_at: (attempt.at + chrono::Duration::days(KEEP_DAYS)).timestamp(),
            attempt: attempt.clone(),
        };
        let result = self
            .db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("recording a webhook try", e)),
        }
    }

    async fn recent_attempts(&self, hook: &str, limit: usize) -> Result<Vec<WebhookAttempt>, BatonError> {
        let out = self
            .db()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(format!("WEBHOOK#{hook}")))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("listing a webhook's tries", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_item::<AttemptItem>(i).map(|a| a.attempt))
            .collect()
    }
}
