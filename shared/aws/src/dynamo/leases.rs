//! [`Leases`] on DynamoDB: one deployment per environment at a time, fenced.
//!
//! | entity | pk | sk | attributes |
//! |---|---|---|---|
//! | Lease | `LEASE#<environment>` | `LEASE` | `holder`, `until` (epoch s), `fence` |
//!
//! The item outlives its holders: giving the lease back removes `holder` and `until` but keeps
//! `fence`, which rises with every acquisition, so a number handed out once is never handed
//! out again and a deployer holding an old one can tell it lost the environment.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem};
use baton_domain::ports::Leases;
use baton_domain::{BatonError, ReleaseId};
use chrono::Utc;

use super::items::{Item, key, s};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

fn lease_key(environment: &str) -> Item {
    key(format!("LEASE#{environment}"), "LEASE")
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// A transaction item that holds only while `holder` holds `environment`'s lease and it has not
/// run out: every write that records a deployment carries one.
pub(super) fn held_by(table: &str, environment: &str, holder: &ReleaseId) -> Result<TransactWriteItem, BatonError> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(lease_key(environment)))
        .condition_expression("holder = :h AND #u >= :now")
        .expression_attribute_names("#u", "until")
        .expression_attribute_values(":h", s(holder.as_str()))
        .expression_attribute_values(":now", number(Utc::now().timestamp()))
        .build()
        .map_err(|e| BatonError::internal(format!("building the lease check: {e}")))?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

#[async_trait]
impl Leases for DynamoStore {
    async fn acquire(
        &self,
        environment: &str,
        holder: &ReleaseId,
        ttl: Duration,
    ) -> Result<Result<u64, ReleaseId>, BatonError> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        let result = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(lease_key(environment)))
            .update_expression("SET holder = :h, #u = :u, entity = :e ADD fence :one")
            // Free, already ours (a retry), or left behind by a holder that never came back.
            .condition_expression("attribute_not_exists(holder) OR holder = :h OR #u < :now")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":h", s(holder.as_str()))
            .expression_attribute_values(":u", number(until.timestamp()))
            .expression_attribute_values(":e", s("lease"))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":now", number(now.timestamp()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let fence = match out.attributes.as_ref().and_then(|a| a.get("fence")) {
                    Some(AttributeValue::N(n)) => n.parse::<u64>().unwrap_or(0),
                    _ => 0,
                };
                Ok(Ok(fence))
            }
            Err(err) if is_conditional_failure(&err) => {
                let other = self
                    .holder(environment)
                    .await?
                    .unwrap_or_else(|| ReleaseId("another release".into()));
                Ok(Err(other))
            }
            Err(err) => Err(sdk_error(&format!("taking the {environment} lease"), err)),
        }
    }

    async fn renew(
        &self,
        environment: &str,
        holder: &ReleaseId,
        fence: u64,
        ttl: Duration,
    ) -> Result<bool, BatonError> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        let result = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(lease_key(environment)))
            .update_expression("SET #u = :u")
            .condition_expression("holder = :h AND fence = :f AND #u >= :now")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":h", s(holder.as_str()))
            .expression_attribute_values(":f", AttributeValue::N(fence.to_string()))
            .expression_attribute_values(":u", number(until.timestamp()))
            .expression_attribute_values(":now", number(now.timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error(&format!("renewing the {environment} lease"), err)),
        }
    }

    async fn release(&self, environment: &str, holder: &ReleaseId) -> Result<(), BatonError> {
        let result = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(lease_key(environment)))
            .update_expression("REMOVE holder, #u")
            .condition_expression("holder = :h")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":h", s(holder.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Not ours (or already given back): nothing to give back.
            Err(err) if is_conditional_failure(&err) => Ok(()),
            Err(err) => Err(sdk_error(&format!("releasing the {environment} lease"), err)),
        }
    }

    async fn holder(&self, environment: &str) -> Result<Option<ReleaseId>, BatonError> {
        let item = self.get(lease_key(environment), "a lease").await?;
        let now = Utc::now().timestamp();
        Ok(item.and_then(|i| {
            let until = match i.get("until") {
                Some(AttributeValue::N(n)) => n.parse::<i64>().unwrap_or(0),
                _ => 0,
            };
            match i.get("holder") {
                Some(AttributeValue::S(h)) if until >= now => Some(ReleaseId(h.clone())),
                _ => None,
            }
        }))
    }
}

impl DynamoStore {
    /// Writes `write` only while `holder` holds `environment`'s lease: `Ok(false)` if the write's
    /// own condition failed, [`ErrorKind::LeaseLost`](baton_domain::ErrorKind::LeaseLost) if the
    /// lease did.
    pub(super) async fn write_holding(
        &self,
        environment: &str,
        holder: &ReleaseId,
        write: TransactWriteItem,
        what: &str,
    ) -> Result<bool, BatonError> {
        let items = vec![held_by(self.table(), environment, holder)?, write];
        match self.transact_items(items, what).await? {
            Ok(()) => Ok(true),
            Err(failed) if failed.first() == Some(&true) => Err(BatonError::lease_lost(environment, holder)),
            Err(_) => Ok(false),
        }
    }
}
