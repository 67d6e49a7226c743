//! [`StatusReads`] on DynamoDB: every read is bounded, so a status page costs the same few
//! requests whatever the table holds.
//!
//! | read | request |
//! |---|---|
//! | recent releases | Query `gsi1` `RELEASES`, newest first, `Limit` |
//! | one release with its events and deployments | Query `pk = RELEASE#<id>` (they share the partition) |
//! | pending sign-offs of an environment | Query `gsi1` `PENDING#<env>`, newest first, `Limit`, token fields not read |
//! | recent rejected packages | Query `gsi1` `REJECTED`, newest first, `Limit` |
//! | one version's package and refused uploads | Query `pk = PACKAGE#<component>`, `sk` in that version's range, `Limit` |
//! | environment states, leases, deployments, packages | BatchGetItem, 100 keys a request |

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Select};
use baton_domain::deployment::{ComponentDeployment, EnvironmentState};
use baton_domain::ports::ReleaseEvent;
use baton_domain::ports::status::{
    EnvironmentNow, LookedUp, Lookup, MAX_PAGE_SIZE, PackageRecord, PendingSignOff, REFUSALS_PER_VERSION,
    RegisteredPackage, ReleasePage, ReleaseRecord, StatusReads,
};
use baton_domain::release::ReleaseNote;
use baton_domain::{BatonError, Package, RejectedPackage, Release, ReleaseId};
use chrono::Utc;

use super::history::{EnvironmentNotesItem, NOTES_PREFIX};
use super::items::{Item, PackageItem, RejectedItem, ReleaseItem, from_item, key, s, to_item, version_range};
use super::progress::last_changes;
use super::store::DynamoStore;
use crate::errors::sdk_error;

/// Most keys DynamoDB takes in one BatchGetItem.
const BATCH_GET_MAX: usize = 100;
/// Tries for keys DynamoDB leaves unprocessed (throttling) before giving up.
const BATCH_GET_ATTEMPTS: u32 = 5;

/// The item a release is stored as (with its list keys), for tools that write the table in
/// bulk, such as seeding a test table; Baton itself creates releases transactionally.
pub fn release_item(release: &Release) -> Result<HashMap<String, AttributeValue>, BatonError> {
    to_item(&ReleaseItem::new(release))
}

/// The item a refused upload is stored as, for tools that write the table in bulk.
pub fn rejected_item(rejected: &RejectedPackage) -> Result<HashMap<String, AttributeValue>, BatonError> {
    to_item(&RejectedItem::new(rejected))
}

/// What the status page reads of a pending approval, by placeholder: what it may show, never
/// the task token or the link token hashes. `redeploy` and `failure` say what the request is
/// (a redeploy's confirmation, a failure question), so it is not worded as a sign-off.
const PENDING_NAMES: &[(&str, &str)] = &[
    ("#r", "release_id"),
    ("#n", "number"),
    ("#e", "environment"),
    ("#a", "approvers"),
    ("#c", "created_at"),
    ("#x", "valid_until"),
    // Approvals written before their deadline moved out of the TTL attribute.
    ("#o", "expires_at"),
    ("#m", "mail_failure"),
    ("#h", "hold"),
    ("#d", "redeploy"),
    ("#f", "failure"),
];
/// The projection naming every attribute of [`PENDING_NAMES`].
const PENDING_PROJECTION: &str = "#r, #n, #e, #a, #c, #x, #o, #m, #h, #d, #f";

/// A GSI sort key of a release number: 12 digits, so text order is number order.
fn number_key(number: u64) -> String {
    format!("{number:012}")
}

fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

impl DynamoStore {
    /// One page of a `gsi1` list, newest (highest sort key) first.
    async fn newest_in_index(
        &self,
        partition: &str,
        below: Option<String>,
        limit: usize,
        projection: Option<(&str, &[(&str, &str)])>,
    ) -> Result<(Vec<Item>, bool), BatonError> {
        let mut query = self
            .db()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .expression_attribute_values(":p", s(partition))
            .scan_index_forward(false)
            .limit(limit.clamp(1, MAX_PAGE_SIZE) as i32);
        query = match below {
            Some(below) => query
                .key_condition_expression("gsi1pk = :p AND gsi1sk < :below")
                .expression_attribute_values(":below", s(below)),
            None => query.key_condition_expression("gsi1pk = :p"),
        };
        if let Some((expression, names)) = projection {
            // Said explicitly: the status role's policy refuses index reads of pending sign-offs
            // that do not name their attributes (template.yaml, PendingSignOffsByProjectionOnly).
            query = query
                .projection_expression(expression)
                .select(Select::SpecificAttributes);
            for (placeholder, name) in names {
                query = query.expression_attribute_names(*placeholder, *name);
            }
        }
        let out = query
            .send()
            .await
            .map_err(|e| sdk_error(&format!("listing {partition}"), e))?;
        let more = out.last_evaluated_key.is_some_and(|k| !k.is_empty());
        Ok((out.items.unwrap_or_default(), more))
    }

    /// Reads `keys` in batches of 100, retrying keys DynamoDB leaves unprocessed.
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, BatonError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| BatonError::internal(e.to_string()))?,
            );
            let mut attempt = 0;
            while let Some(keys) = pending.take() {
                attempt += 1;
                let out = self
                    .db()
                    .batch_get_item()
                    .request_items(self.table(), keys)
                    .send()
                    .await
                    .map_err(|e| sdk_error("reading the status records", e))?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(self.table()))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.table()))
                    .filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    if attempt >= BATCH_GET_ATTEMPTS {
                        return Err(BatonError::transient(
                            "DynamoDB kept some status reads unprocessed (throttled); retry",
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl StatusReads for DynamoStore {
    async fn open_drift_everywhere(&self) -> Result<Vec<baton_domain::drift::DriftRecord>, BatonError> {
        baton_domain::drift::DriftStore::all_open_drift(self).await
    }

    async fn webhook_attempts(
        &self,
        hook: &str,
        limit: usize,
    ) -> Result<Vec<baton_domain::ports::WebhookAttempt>, BatonError> {
        baton_domain::ports::WebhookLog::recent_attempts(self, hook, limit).await
    }

    async fn releases(&self, limit: usize, before: Option<u64>) -> Result<ReleasePage, BatonError> {
        let (items, more) = self
            .newest_in_index("RELEASES", before.map(number_key), limit, None)
            .await?;
        let mut releases = Vec::with_capacity(items.len());
        let mut changes = BTreeMap::new();
        for item in items {
            let kept = last_changes(&item)?;
            let release = from_item::<Release>(item)?;
            changes.insert(release.id.clone(), kept);
            releases.push(release);
        }
        let next_before = releases.last().filter(|_| more).map(|r| r.number);
        Ok(ReleasePage {
            releases,
            next_before,
            changes,
        })
    }

    async fn release_record(&self, id: &ReleaseId) -> Result<Option<ReleaseRecord>, BatonError> {
        let mut release = None;
        let mut events = Vec::new();
        let mut deployments = Vec::new();
        let mut environment_notes = Vec::new();
        // One partition: the release, its events and its deployments (one request unless a
        // release ever held more than 1 MB of records).
        for item in self.partition(&format!("RELEASE#{id}"), id.as_str()).await? {
            let sk = text(&item, "sk").unwrap_or_default();
            if sk == "RELEASE" {
                release = Some(from_item::<Release>(item)?);
            } else if sk.starts_with("EVENT#") {
                events.push(from_item::<ReleaseEvent>(item)?);
            } else if sk.starts_with("DEPLOY#") {
                deployments.push(from_item::<ComponentDeployment>(item)?);
            } else if sk.starts_with(NOTES_PREFIX) {
                let notes = from_item::<EnvironmentNotesItem>(item)?;
                environment_notes.push((notes.environment, notes.notes));
            }
        }
        events.sort_by_key(|e: &ReleaseEvent| e.at);
        Ok(release.map(|release| ReleaseRecord {
            release,
            events,
            deployments,
            environment_notes,
        }))
    }

    async fn pending_sign_offs(&self, environment: &str, limit: usize) -> Result<Vec<PendingSignOff>, BatonError> {
        let (items, _) = self
            .newest_in_index(
                &format!("PENDING#{environment}"),
                None,
                limit,
                Some((PENDING_PROJECTION, PENDING_NAMES)),
            )
            .await?;
        items.into_iter().map(from_item::<PendingSignOff>).collect()
    }

    async fn rejected_packages(&self, limit: usize) -> Result<Vec<RejectedPackage>, BatonError> {
        let (items, _) = self.newest_in_index("REJECTED", None, limit, None).await?;
        items.into_iter().map(from_item::<RejectedPackage>).collect()
    }

    async fn look_up(&self, lookup: &Lookup) -> Result<LookedUp, BatonError> {
        // BatchGetItem refuses duplicate keys; a set also fixes the order.
        let mut keys = BTreeSet::new();
        for env in &lookup.environments {
            keys.insert((format!("ENV#{env}"), "STATE".to_string()));
            keys.insert((format!("LEASE#{env}"), "LEASE".to_string()));
        }
        for d in &lookup.deployments {
            keys.insert((
                format!("RELEASE#{}", d.release),
                format!("DEPLOY#{}#{}", d.environment, d.component),
            ));
        }
        for p in &lookup.packages {
            keys.insert((format!("PACKAGE#{}", p.component), format!("VERSION#{}", p.version)));
        }
        let items = self
            .batch_get(keys.into_iter().map(|(pk, sk)| key(pk, sk)).collect())
            .await?;
        let now = Utc::now().timestamp();
        let mut states = HashMap::new();
        let mut holders = HashMap::new();
        let mut found = LookedUp::default();
        for item in items {
            let pk = text(&item, "pk").unwrap_or_default();
            if let Some(env) = pk.strip_prefix("ENV#") {
                states.insert(env.to_string(), from_item::<EnvironmentState>(item)?);
            } else if let Some(env) = pk.strip_prefix("LEASE#") {
                // A lease past its time is free: its holder never gave it back.
                let until = match item.get("until") {
                    Some(AttributeValue::N(n)) => n.parse::<i64>().unwrap_or(0),
                    _ => 0,
                };
                if let Some(holder) = text(&item, "holder").filter(|_| until >= now) {
                    holders.insert(env.to_string(), ReleaseId(holder));
                }
            } else if pk.starts_with("RELEASE#") {
                found.deployments.push(from_item::<ComponentDeployment>(item)?);
            } else if pk.starts_with("PACKAGE#") {
                found.packages.push(from_item::<Package>(item)?);
            }
        }
        found.environments = lookup
            .environments
            .iter()
            .map(|env| EnvironmentNow {
                state: states.remove(env).unwrap_or_else(|| EnvironmentState {
                    environment: env.clone(),
                    current: None,
                    previous: None,
                }),
                deploying: holders.remove(env),
            })
            .collect();
        Ok(found)
    }

    async fn environment_notes(
        &self,
        releases: &[ReleaseId],
        environments: &[String],
    ) -> Result<Vec<(ReleaseId, String, Vec<ReleaseNote>)>, BatonError> {
        let keys: Vec<Item> = releases
            .iter()
            .flat_map(|r| {
                environments
                    .iter()
                    .map(move |env| key(format!("RELEASE#{r}"), format!("{NOTES_PREFIX}{env}")))
            })
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for item in self.batch_get(keys).await? {
            let pk = text(&item, "pk").unwrap_or_default();
            let release = ReleaseId(pk.trim_start_matches("RELEASE#").to_string());
            let notes = from_item::<EnvironmentNotesItem>(item)?;
            found.push((release, notes.environment, notes.notes));
        }
        Ok(found)
    }

    async fn package_record(&self, component: &str, version: &str) -> Result<PackageRecord, BatonError> {
        let (from, to) = version_range(version);
        let out = self
            .db()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(format!("PACKAGE#{component}")))
            .expression_attribute_values(":from", s(from.clone()))
            .expression_attribute_values(":to", s(to))
            .consistent_read(true)
            // The package sorts first, then at most this many refusals.
            .limit(REFUSALS_PER_VERSION as i32 + 1)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("reading the packages of {component} {version}"), e))?;
        let mut record = PackageRecord::default();
        for item in out.items.unwrap_or_default() {
            if text(&item, "sk").as_deref() == Some(from.as_str()) {
                let item = from_item::<PackageItem>(item)?;
                record.registered = Some(RegisteredPackage {
                    package: item.package,
                    release: item.release_id,
                    outcome: item.outcome,
                });
            } else {
                record.refused.push(from_item::<RejectedPackage>(item)?);
            }
        }
        record.refused.sort_by_key(|r| std::cmp::Reverse(r.rejected_at));
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use baton_domain::approval::Approval;

    use super::*;

    #[test]
    fn the_projection_names_each_placeholder_once_and_never_a_token() {
        let placeholders: Vec<&str> = PENDING_PROJECTION.split(", ").collect();
        let named: Vec<&str> = PENDING_NAMES.iter().map(|(p, _)| *p).collect();
        assert_eq!(placeholders, named);
        for (_, attribute) in PENDING_NAMES {
            assert!(!["task_token", "token_hashes"].contains(attribute), "{attribute}");
        }
    }

    #[test]
    fn a_projected_redeploy_confirmation_and_failure_question_say_what_they_are() {
        let approval: Approval = serde_json::from_value(serde_json::json!({
            "id": "a1", "release_id": "rel-5", "number": 5, "environment": "PROD",
            "task_token": "secret", "created_at": "2026-03-02T09:00:00Z",
            "expires_at": "2026-03-02T10:00:00Z", "approvers": ["rm@example.com"],
            "token_hashes": { "h": "rm@example.com" }, "mailed": [], "changes": [],
            "redeploy": { "execution": "redeploy-5-prod-0", "environment": "PROD",
                "requestedBy": "rm@example.com", "reason": "login broken", "replacing": 7 },
            "failure": { "reason": "disk on fire" },
            "status": "pending", "decided_by": null, "decided_at": null, "comment": null,
            "superseded_by": null, "task_notified": false,
        }))
        .unwrap();
        let mut item = to_item(&approval).unwrap();
        let wanted: Vec<&str> = PENDING_NAMES.iter().map(|(_, a)| *a).collect();
        item.retain(|name, _| wanted.contains(&name.as_str()));
        let pending = from_item::<PendingSignOff>(item).unwrap();
        let redeploy = pending.redeploy.unwrap();
        assert_eq!(
            (redeploy.requested_by.as_str(), redeploy.replacing),
            ("rm@example.com", Some(7))
        );
        assert_eq!(pending.failure.unwrap().reason, "disk on fire");
    }
}
