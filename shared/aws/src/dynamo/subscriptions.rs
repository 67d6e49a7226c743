//! [`SubscriptionStore`] on DynamoDB.
//!
//! | entity | pk | sk | gsi1pk / gsi1sk | TTL (`expires_at`) |
//! |---|---|---|---|---|
//! | Subscription | `SUBSCRIPTION#<id>` | `SUBSCRIPTION` | `SUBSCRIBERS#<topic>` / `<address>#<id>`, only while confirmed | while pending (the link's expiry) or ended ([`KEEP_MARKERS`] on) |
//! | Notice marker | `NOTICE#<notice>` | `<address>` | | [`KEEP_MARKERS`] on |
//!
//! The index is sparse: only confirmed subscriptions are in it, so "who must be told" is one
//! Query per topic that can match, never a Scan.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use baton_domain::BatonError;
use baton_domain::ports::SubscriptionStore;
use baton_domain::subscription::{KEEP_MARKERS, NoticeMark, Subscription, SubscriptionState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::items::{Item, from_item, key, s, to_item};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

fn subscription_key(id: &str) -> Item {
    key(format!("SUBSCRIPTION#{id}"), "SUBSCRIPTION")
}

fn topic_key(topic: &str) -> String {
    format!("SUBSCRIBERS#{topic}")
}

fn epoch(at: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(at.timestamp().to_string())
}

#[derive(Serialize, Deserialize)]
struct SubscriptionItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    subscription: Subscription,
}

#[derive(Serialize, Deserialize)]
struct NoticeItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    mark: NoticeMark,
}

#[async_trait]
impl SubscriptionStore for DynamoStore {
    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, BatonError> {
        match self.get(subscription_key(id), "a subscription").await? {
            Some(item) => Ok(Some(from_item::<SubscriptionItem>(item)?.subscription)),
            None => Ok(None),
        }
    }

    async fn put_pending(&self, pending: &Subscription) -> Result<bool, BatonError> {
        let mut item = to_item(&SubscriptionItem {
            pk: format!("SUBSCRIPTION#{}", pending.id),
            sk: "SUBSCRIPTION".into(),
            entity: "subscription".into(),
            subscription: pending.clone(),
        })?;
        // An unconfirmed subscription goes when its link lapses.
        item.insert("expires_at".into(), epoch(pending.confirm_expires_at));
        let put = self
            .db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            // A confirmed subscription stays as it is: subscribing again changes nothing, and
            // the answer is the same either way.
            .condition_expression("attribute_not_exists(pk) OR #st <> :confirmed")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":confirmed", s("confirmed"))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("keeping a subscription", e)),
        }
    }

    async fn confirm(&self, pending: &Subscription, at: DateTime<Utc>) -> Result<bool, BatonError> {
        let update = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(subscription_key(&pending.id)))
            .update_expression("SET #st = :confirmed, confirmed_at = :at, gsi1pk = :g, gsi1sk = :gs REMOVE expires_at")
            .condition_expression("#st = :pending AND confirm_hash = :h")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":confirmed", s("confirmed"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":h", s(&pending.confirm_hash))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .expression_attribute_values(":g", s(topic_key(&pending.scope.topic())))
            .expression_attribute_values(":gs", s(format!("{}#{}", pending.address, pending.id)))
            .send()
            .await;
        match update {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("confirming a subscription", e)),
        }
    }

    async fn unsubscribe(&self, id: &str, at: DateTime<Utc>) -> Result<(), BatonError> {
        let update = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(subscription_key(id)))
            .update_expression("SET #st = :ended, expires_at = :exp REMOVE gsi1pk, gsi1sk")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":ended", s("unsubscribed"))
            .expression_attribute_values(":exp", epoch(at + KEEP_MARKERS))
            .send()
            .await;
        match update {
            // Gone already (its TTL ran out): nothing left to end.
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(sdk_error("ending a subscription", e)),
        }
    }

    async fn subscribers(&self, topic: &str) -> Result<Vec<Subscription>, BatonError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .db()
                .query()
                .table_name(self.table())
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :p")
                .expression_attribute_values(":p", s(topic_key(topic)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("listing subscribers", e))?;
            for item in out.items.unwrap_or_default() {
                let subscription = from_item::<SubscriptionItem>(item)?.subscription;
                // The index follows the table a moment late: trust the item's own state.
                if subscription.state == SubscriptionState::Confirmed {
                    found.push(subscription);
                }
            }
            match out.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => return Ok(found),
            }
        }
    }

    async fn claim_notice(&self, mark: &NoticeMark) -> Result<bool, BatonError> {
        let mut item = to_item(&NoticeItem {
            pk: format!("NOTICE#{}", mark.notice),
            sk: mark.address.clone(),
            entity: "notice".into(),
            mark: mark.clone(),
        })?;
        item.insert("expires_at".into(), epoch(mark.at + KEEP_MARKERS));
        let put = self
            .db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("marking a notice", e)),
        }
    }

    async fn notice_mark(&self, notice: &str, address: &str) -> Result<Option<NoticeMark>, BatonError> {
        match self
            .get(key(format!("NOTICE#{notice}"), address), "a notice mark")
            .await?
        {
            Some(item) => Ok(Some(from_item::<NoticeItem>(item)?.mark)),
            None => Ok(None),
        }
    }

    async fn drop_notice(&self, notice: &str, address: &str) -> Result<(), BatonError> {
        self.db()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(format!("NOTICE#{notice}"), address)))
            .send()
            .await
            .map_err(|e| sdk_error("removing a notice mark", e))?;
        Ok(())
    }
}
