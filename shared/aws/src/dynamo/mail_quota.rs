//! [`MailQuotaStore`] on DynamoDB: one item per counter and hour,
//! `QUOTA#<counter>` / `HOUR#<hours since the epoch>`, with `sent` (a number) and `expires_at`
//! (TTL, epoch seconds). Taking a mail is one UpdateItem that adds 1 only while `sent` is below
//! the limit, so concurrent forms never send one too many.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use baton_domain::BatonError;
use baton_domain::mail_quota::MailQuota;
use baton_domain::ports::MailQuotaStore;

use super::items::key;
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

#[async_trait]
impl MailQuotaStore for DynamoStore {
    async fn take_mail_quota(&self, quota: &MailQuota) -> Result<bool, BatonError> {
        let number = |n: i64| AttributeValue::N(n.to_string());
        let answer = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(
                format!("QUOTA#{}", quota.counter),
                format!("HOUR#{}", quota.hour),
            )))
            .update_expression("SET entity = :entity, expires_at = :expires ADD sent :one")
            .condition_expression("attribute_not_exists(sent) OR sent < :limit")
            .expression_attribute_values(":entity", AttributeValue::S("mail-quota".into()))
            .expression_attribute_values(":expires", number(quota.expires_at))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":limit", number(i64::from(quota.limit)))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("counting an unsolicited mail", e)),
        }
    }
}
