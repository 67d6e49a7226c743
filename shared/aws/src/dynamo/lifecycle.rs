//! Timeline, approvals and leases on DynamoDB.
//!
//! | entity | pk | sk | gsi1pk / gsi1sk |
//! |---|---|---|---|
//! | Release event | `RELEASE#<id>` | `EVENT#<time>#<kind>#<n>` | |
//! | Approval | `APPROVAL#<id>` | `APPROVAL` | `PENDING#<environment>` / `<number, 12 digits>` while pending |
//! | Lease | `LEASE#<environment>` | `LEASE` | |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use baton_domain::approval::{Approval, ApprovalStatus};
use baton_domain::ports::{ApprovalStore, ReleaseEvent, Timeline};
use baton_domain::release::ReleaseStatus;
use baton_domain::{BatonError, ReleaseId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::items::{from_item, key, release_key, s, to_item, value};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

#[derive(Serialize, Deserialize)]
struct EventItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    event: ReleaseEvent,
}

#[derive(Serialize, Deserialize)]
struct ApprovalItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(flatten)]
    approval: Approval,
}

fn approval_key(id: &str) -> super::items::Item {
    key(format!("APPROVAL#{id}"), "APPROVAL")
}

#[async_trait]
impl Timeline for DynamoStore {
    async fn append_event(&self, event: &ReleaseEvent) -> Result<(), BatonError> {
        // A random suffix keeps two events of the same kind in the same instant apart.
        let mut nonce = [0u8; 4];
        let _ = getrandom::fill(&mut nonce);
        let item = EventItem {
            pk: format!("RELEASE#{}", event.release_id),
            sk: format!("EVENT#{}#{}#{}", event.at.to_rfc3339(), event.kind, hex_of(&nonce)),
            entity: "release-event".into(),
            event: event.clone(),
        };
        self.db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error("appending a release event", e))?;
        self.note_change(event).await
    }

    async fn set_release_status(&self, release: &ReleaseId, status: ReleaseStatus) -> Result<(), BatonError> {
        self.db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(release_key(release)))
            .update_expression("SET #s = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", value(status)?)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("setting the status of {release}"), e))?;
        Ok(())
    }

    async fn events(&self, release: &ReleaseId) -> Result<Vec<ReleaseEvent>, BatonError> {
        let out = self
            .db()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :e)")
            .expression_attribute_values(":pk", s(format!("RELEASE#{release}")))
            .expression_attribute_values(":e", s("EVENT#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("reading a release's events", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_item::<EventItem>(i).map(|e| e.event))
            .collect()
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl ApprovalStore for DynamoStore {
    async fn create_approval(&self, approval: &Approval) -> Result<bool, BatonError> {
        let pending = approval.status == ApprovalStatus::Pending;
        let item = ApprovalItem {
            pk: format!("APPROVAL#{}", approval.id),
            sk: "APPROVAL".into(),
            entity: "approval".into(),
            gsi1pk: pending.then(|| format!("PENDING#{}", approval.environment)),
            gsi1sk: pending.then(|| format!("{:012}", approval.number)),
            approval: approval.clone(),
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
            Err(err) if is_conditional_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error("creating an approval", err)),
        }
    }

    async fn approval(&self, id: &str) -> Result<Option<Approval>, BatonError> {
        let item: Option<ApprovalItem> = self
            .get(approval_key(id), "an approval")
            .await?
            .map(from_item)
            .transpose()?;
        Ok(item.map(|i| i.approval))
    }

    async fn set_approver_token(&self, id: &str, approver: &str, token_hash: &str) -> Result<(), BatonError> {
        // One token per approver: drop the approver's earlier hash (a retried mail replaces it).
        let Some(approval) = self.approval(id).await? else {
            return Err(BatonError::internal(format!("approval {id} vanished")));
        };
        let mut hashes = approval.token_hashes.clone();
        hashes.retain(|_, who| who != approver);
        hashes.insert(token_hash.to_string(), approver.to_string());
        self.db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .update_expression("SET token_hashes = :h")
            .expression_attribute_values(":h", value(&hashes)?)
            .send()
            .await
            .map_err(|e| sdk_error("storing an approval token", e))?;
        Ok(())
    }

    async fn set_freeze_wait(
        &self,
        id: &str,
        wait: &baton_domain::approval::freeze_override::FreezeWait,
    ) -> Result<bool, BatonError> {
        let answer = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .update_expression("SET #w = :w")
            .condition_expression("attribute_not_exists(#w) OR #w.#t <> :t")
            .expression_attribute_names("#w", "freeze_wait")
            .expression_attribute_names("#t", "task_token")
            .expression_attribute_values(":w", value(wait)?)
            .expression_attribute_values(":t", AttributeValue::S(wait.task_token.clone()))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("keeping a freeze wait", e)),
        }
    }

    async fn mark_mailed(&self, id: &str, approver: &str) -> Result<(), BatonError> {
        self.db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .update_expression("SET mailed = list_append(if_not_exists(mailed, :empty), :a)")
            .expression_attribute_values(":a", AttributeValue::L(vec![s(approver)]))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .send()
            .await
            .map_err(|e| sdk_error("noting a sent approval mail", e))?;
        Ok(())
    }

    async fn decide(
        &self,
        id: &str,
        status: ApprovalStatus,
        by: &str,
        comment: Option<&str>,
        superseded_by: Option<&ReleaseId>,
        at: DateTime<Utc>,
    ) -> Result<bool, BatonError> {
        let result = self
            .db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .update_expression(
                "SET #s = :s, decided_by = :by, decided_at = :at, #c = :c, superseded_by = :sup REMOVE gsi1pk, gsi1sk",
            )
            .condition_expression("#s = :pending")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#c", "comment")
            .expression_attribute_values(":s", value(status)?)
            .expression_attribute_values(":pending", value(ApprovalStatus::Pending)?)
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .expression_attribute_values(":c", comment.map(s).unwrap_or(AttributeValue::Null(true)))
            .expression_attribute_values(
                ":sup",
                superseded_by
                    .map(|r| s(r.as_str()))
                    .unwrap_or(AttributeValue::Null(true)),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error("recording an approval decision", err)),
        }
    }

    async fn mark_task_notified(&self, id: &str) -> Result<(), BatonError> {
        self.db()
            .update_item()
            .table_name(self.table())
            .set_key(Some(approval_key(id)))
            .update_expression("SET task_notified = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| sdk_error("noting a delivered decision", e))?;
        Ok(())
    }

    async fn pending_approvals(&self, environment: &str) -> Result<Vec<Approval>, BatonError> {
        let out = self
            .db()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(format!("PENDING#{environment}")))
            .send()
            .await
            .map_err(|e| sdk_error("listing pending approvals", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_item::<ApprovalItem>(i).map(|a| a.approval))
            .collect()
    }
}
