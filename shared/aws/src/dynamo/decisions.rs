//! Decisions and their delivery on DynamoDB ([`DeliveryRecords`]): a decision and its
//! timeline entry are one transaction, so neither exists without the other; closing a delivery
//! is conditional, so a late decision's timeline entry is written once however many deliverers
//! race. Items are those of `lifecycle.rs` (approval `APPROVAL#<id>` / `APPROVAL`, event
//! `RELEASE#<id>` / `EVENT#<time>#<kind>#<n>`).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use baton_domain::BatonError;
use baton_domain::approval::delivery::{Decision, DeliveryRecords, HoldChange};
use baton_domain::approval::freeze_override::FreezeOverride;
use baton_domain::approval::{ApprovalStatus, SignOff};
use baton_domain::ports::ReleaseEvent;
use serde::Serialize;

use super::items::{Item, key, s, to_item, value};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

/// An event as `Timeline::append_event` stores it (the same attributes, so `events` reads it).
#[derive(Serialize)]
struct EventRecord<'a> {
    pk: String,
    sk: String,
    entity: &'static str,
    #[serde(flatten)]
    event: &'a ReleaseEvent,
}

fn approval_key(id: &str) -> Item {
    key(format!("APPROVAL#{id}"), "APPROVAL")
}

/// An instant as a hold's end compares with it as text: RFC 3339 UTC to the second, like the
/// whole-minute ends serde writes (`2026-12-03T09:00:00Z`); a fraction would sort after the `Z`
/// of the same second.
fn instant(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, BatonError> {
    r.map_err(|e| BatonError::internal(format!("building a DynamoDB request: {e}")))
}

/// The transaction item that appends `event` (never over another).
fn event_put(table: &str, event: &ReleaseEvent) -> Result<TransactWriteItem, BatonError> {
    let mut nonce = [0u8; 4];
    let _ = getrandom::fill(&mut nonce);
    let record = EventRecord {
        pk: format!("RELEASE#{}", event.release_id),
        sk: format!(
            "EVENT#{}#{}#{}",
            event.at.to_rfc3339(),
            event.kind,
            nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        entity: "release-event",
        event,
    };
    let put = built(
        Put::builder()
            .table_name(table)
            .set_item(Some(to_item(&record)?))
            .condition_expression("attribute_not_exists(pk)")
            .build(),
    )?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl DynamoStore {
    /// Applies `update` to an approval and appends `event` in one transaction, both or neither;
    /// `Ok(false)` if the update's condition failed (the approval moved on).
    async fn update_with_event(&self, update: Update, event: &ReleaseEvent, what: &str) -> Result<bool, BatonError> {
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            event_put(self.table(), event)?,
        ];
        let written = self.transact_items(items, what).await?.is_ok();
        if written {
            self.note_change(event).await?;
        }
        Ok(written)
    }
}

#[async_trait]
impl DeliveryRecords for DynamoStore {
    async fn record_decision(
        &self,
        id: &str,
        decision: &Decision<'_>,
        event: &ReleaseEvent,
    ) -> Result<bool, BatonError> {
        let update = built(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(approval_key(id)))
                .update_expression("SET #s = :s, decided_by = :by, decided_at = :at, #c = :c REMOVE gsi1pk, gsi1sk")
                .condition_expression("#s = :pending")
                .expression_attribute_names("#s", "status")
                .expression_attribute_names("#c", "comment")
                .expression_attribute_values(":s", value(decision.status)?)
                .expression_attribute_values(":pending", value(ApprovalStatus::Pending)?)
                .expression_attribute_values(":by", s(decision.by))
                .expression_attribute_values(":at", s(decision.at.to_rfc3339()))
                .expression_attribute_values(":c", decision.comment.map(s).unwrap_or(AttributeValue::Null(true)))
                .build(),
        )?;
        self.update_with_event(update, event, "recording an approval decision")
            .await
    }

    async fn record_sign_off(
        &self,
        id: &str,
        sign_off: &SignOff,
        signed: usize,
        complete: bool,
        event: &ReleaseEvent,
    ) -> Result<bool, BatonError> {
        let entry = AttributeValue::L(vec![AttributeValue::M(to_item(sign_off)?)]);
        // Optimistic: the list must still hold exactly the sign-offs the caller saw.
        // And no hold in force: a hold without an end, or ending later, refuses it (times are
        // RFC 3339 UTC strings as serde writes them, so they compare as text).
        let condition = if signed == 0 {
            "#s = :pending AND (attribute_not_exists(sign_offs) OR size(sign_offs) = :n) \
             AND (attribute_not_exists(#h) OR #h.#u <= :now)"
        } else {
            "#s = :pending AND size(sign_offs) = :n AND (attribute_not_exists(#h) OR #h.#u <= :now)"
        };
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .condition_expression(condition)
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#h", "hold")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":now", s(instant(sign_off.at)))
            .expression_attribute_values(":pending", value(ApprovalStatus::Pending)?)
            .expression_attribute_values(":entry", entry)
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":n", AttributeValue::N(signed.to_string()));
        update = if complete {
            update
                .update_expression(
                    "SET sign_offs = list_append(if_not_exists(sign_offs, :none), :entry), #s = :approved, \
                     decided_by = :by, decided_at = :at, #c = :c REMOVE gsi1pk, gsi1sk",
                )
                .expression_attribute_names("#c", "comment")
                .expression_attribute_values(":approved", value(ApprovalStatus::Approved)?)
                .expression_attribute_values(":by", s(&sign_off.by))
                .expression_attribute_values(":at", s(sign_off.at.to_rfc3339()))
                .expression_attribute_values(
                    ":c",
                    sign_off.comment.as_deref().map(s).unwrap_or(AttributeValue::Null(true)),
                )
        } else {
            update.update_expression("SET sign_offs = list_append(if_not_exists(sign_offs, :none), :entry)")
        };
        self.update_with_event(built(update.build())?, event, "recording a sign-off")
            .await
    }

    async fn record_hold(&self, id: &str, change: HoldChange<'_>, event: &ReleaseEvent) -> Result<bool, BatonError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#h", "hold")
            .expression_attribute_values(":pending", value(ApprovalStatus::Pending)?);
        let update = match change {
            // Not over a hold in force: two approvers holding at once, the second is told.
            HoldChange::Put(hold) => update
                .update_expression("SET #h = :h")
                .condition_expression("#s = :pending AND (attribute_not_exists(#h) OR #h.#u <= :now)")
                .expression_attribute_names("#u", "until")
                .expression_attribute_values(":now", s(instant(hold.at)))
                .expression_attribute_values(":h", AttributeValue::M(to_item(hold)?)),
            // Only the hold the approver saw: one put on since stays.
            HoldChange::Lift(at) => update
                .update_expression("REMOVE #h")
                .condition_expression("#s = :pending AND #h.#a = :at")
                .expression_attribute_names("#a", "at")
                .expression_attribute_values(":at", value(at)?),
            // Only the hold that ends then: one put on since has its own end.
            HoldChange::End(until) => update
                .update_expression("REMOVE #h")
                .condition_expression("#s = :pending AND #h.#u = :until")
                .expression_attribute_names("#u", "until")
                .expression_attribute_values(":until", value(until)?),
        };
        self.update_with_event(built(update.build())?, event, "recording a hold")
            .await
    }

    async fn record_freeze_override(
        &self,
        id: &str,
        decision: &FreezeOverride,
        task_token: &str,
        event: &ReleaseEvent,
    ) -> Result<bool, BatonError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .update_expression("SET #o = :o")
            // One override per freeze it covers: a later, longer freeze may be overridden anew.
            .condition_expression("#s = :approved AND (attribute_not_exists(#o) OR #o.#u < :u) AND #w.#t = :t")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":u", value(decision.until)?)
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#o", "freeze_override")
            .expression_attribute_names("#w", "freeze_wait")
            .expression_attribute_names("#t", "task_token")
            .expression_attribute_values(":t", s(task_token))
            .expression_attribute_values(":approved", value(ApprovalStatus::Approved)?)
            .expression_attribute_values(":o", AttributeValue::M(to_item(decision)?));
        self.update_with_event(built(update.build())?, event, "recording a freeze override")
            .await
    }

    async fn close_delivery(&self, id: &str, event: Option<&ReleaseEvent>) -> Result<bool, BatonError> {
        const OPEN: &str = "attribute_exists(pk) AND (attribute_not_exists(task_notified) OR task_notified = :f)";
        let Some(event) = event else {
            let result = self
                .db()
                .update_item()
                .table_name(self.table())
                .set_key(Some(approval_key(id)))
                .update_expression("SET task_notified = :t")
                .condition_expression(OPEN)
                .expression_attribute_values(":t", AttributeValue::Bool(true))
                .expression_attribute_values(":f", AttributeValue::Bool(false))
                .send()
                .await;
            return match result {
                Ok(_) => Ok(true),
                Err(err) if is_conditional_failure(&err) => Ok(false),
                Err(err) => Err(sdk_error("noting a delivered decision", err)),
            };
        };
        let update = built(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(approval_key(id)))
                .update_expression("SET task_notified = :t")
                .condition_expression(OPEN)
                .expression_attribute_values(":t", AttributeValue::Bool(true))
                .expression_attribute_values(":f", AttributeValue::Bool(false))
                .build(),
        )?;
        self.update_with_event(update, event, "noting a decision that came too late")
            .await
    }

    async fn note_mail_failure(&self, id: &str, reason: Option<&str>) -> Result<bool, BatonError> {
        let request = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(approval_key(id)));
        let request = match reason {
            Some(reason) => request
                .update_expression("SET mail_failure = :m")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(mail_failure) OR mail_failure <> :m)",
                )
                .expression_attribute_values(":m", s(reason)),
            None => request
                .update_expression("REMOVE mail_failure")
                .condition_expression("attribute_exists(mail_failure)"),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error("noting why approvers could not be mailed", err)),
        }
    }
}
