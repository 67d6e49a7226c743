//! Registering packages and making releases, in as few requests as the guarantees allow
//! (issue 18): a new upload that makes a release costs two writes and one read here, the
//! package with its search entries (one transaction), the heads with the cursor (one Query),
//! and the release with its head, cursor and package marks (one transaction).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use baton_domain::ports::{Creation, Registration};
use baton_domain::release::{PackageRef, ReleaseCursor, ReleaseState};
use baton_domain::search::IndexEntry;
use baton_domain::{BatonError, Package, Release};

use super::items::*;
use super::search::SearchItem;
use super::store::DynamoStore;
use super::transact::NotWritten;

fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, BatonError> {
    result.map_err(|e| BatonError::internal(e.to_string()))
}

/// A condition that the item's `version` is still `expected`'s.
fn version_is(expected: &PackageRef) -> (String, HashMap<String, String>, Item) {
    (
        "#v = :v".to_string(),
        HashMap::from([("#v".to_string(), "version".to_string())]),
        HashMap::from([(":v".to_string(), s(expected.version.to_string()))]),
    )
}

impl DynamoStore {
    fn put_of(&self, item: Item) -> PutBuilder {
        Put::builder().table_name(self.table()).set_item(Some(item))
    }

    /// The package and its search entries, in one transaction: the package only if its key is
    /// new (asking for the existing item when it is not), the entries as plain puts of keys
    /// they decide. A cancelled transaction wrote nothing, so a package is never registered
    /// without its entries, nor entries written for a package that was not registered.
    pub(super) async fn register_with_index(
        &self,
        package: &Package,
        search: &[IndexEntry],
    ) -> Result<Registration, BatonError> {
        let package_put = built(
            self.put_of(to_item(&PackageItem::new(package))?)
                .condition_expression("attribute_not_exists(pk)")
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().put(package_put).build()];
        // A transaction may not name one key twice.
        let mut keys = BTreeSet::new();
        for entry in search {
            let item = SearchItem::new(entry);
            if keys.insert((item.pk.clone(), item.sk.clone())) {
                items.push(
                    TransactWriteItem::builder()
                        .put(built(self.put_of(to_item(&item)?).build())?)
                        .build(),
                );
            }
        }
        let what = format!("registering {} {}", package.component, package.version);
        let reasons = match self.transact(items, &what).await? {
            Ok(()) => return Ok(Registration::New),
            Err(NotWritten::Cancelled(reasons)) => reasons,
            Err(NotWritten::Conflict) => {
                return Err(BatonError::transient(format!(
                    "{what}: a concurrent request interfered; retry"
                )));
            }
        };
        let package_reason = reasons.into_iter().next();
        if package_reason.as_ref().is_some_and(|r| !r.condition_failed()) {
            return Err(BatonError::transient(format!(
                "{what}: DynamoDB cancelled it ({}); retry",
                package_reason.map(|r| r.code).unwrap_or_default()
            )));
        }
        let existing: PackageItem = match package_reason.and_then(|r| r.old) {
            Some(item) => from_item(item)?,
            // Not every endpoint returns the old item with the cancellation; read it.
            None => self
                .package_item(&package.component, &package.version)
                .await?
                .ok_or_else(|| {
                    BatonError::transient(format!(
                        "{what}: the transaction was cancelled and the package is not there; retry"
                    ))
                })?,
        };
        Ok(if existing.package.sha256 == package.sha256 {
            Registration::Duplicate {
                release: existing.release_id,
            }
        } else {
            Registration::Conflict {
                existing: Box::new(existing.package),
            }
        })
    }

    /// The heads and the cursor: one Query of the heads' partition (which holds both). A table
    /// whose cursor is still at its old key is read there once more, until its next release
    /// writes the cursor beside the heads.
    pub(super) async fn read_release_state(&self) -> Result<ReleaseState, BatonError> {
        let mut state = ReleaseState::default();
        let mut found_cursor = false;
        for item in self
            .partition(HEADS_PK, "the component heads and the release counter")
            .await?
        {
            if item
                .get(SK)
                .and_then(|v| v.as_s().ok())
                .is_some_and(|sk| sk == CURSOR_SK)
            {
                state.cursor = from_item::<CursorItem>(item)?.cursor;
                found_cursor = true;
            } else {
                let head: HeadItem = from_item(item)?;
                state.heads.insert(head.head.component.clone(), head.head);
            }
        }
        if !found_cursor && let Some(item) = self.get(legacy_cursor_key(), "the release counter").await? {
            state.cursor = from_item::<CursorItem>(item)?.cursor;
        }
        Ok(state)
    }

    /// The cursor alone: one read of its key (or two, while it is still at its old key).
    pub(super) async fn read_release_cursor(&self) -> Result<ReleaseCursor, BatonError> {
        for at in [key(HEADS_PK, CURSOR_SK), legacy_cursor_key()] {
            if let Some(item) = self.get(at, "the release counter").await? {
                return Ok(from_item::<CursorItem>(item)?.cursor);
            }
        }
        Ok(ReleaseCursor::default())
    }

    /// The release, its cursor, the trigger's head and the package marks in one transaction,
    /// written only if nothing it was planned from moved since `read`: the cursor's number, and
    /// each head of the snapshot (checked, or raised to the trigger).
    pub(super) async fn create_release_with_heads(
        &self,
        release: &Release,
        read: &ReleaseState,
        trigger: &PackageRef,
    ) -> Result<Creation, BatonError> {
        let rid = s(release.id.as_str());
        let new_cursor = CursorItem {
            pk: HEADS_PK.into(),
            sk: CURSOR_SK.into(),
            entity: "release-counter".into(),
            cursor: ReleaseCursor {
                number: release.number,
                release: Some(release.id.clone()),
                snapshot: release.snapshot.clone(),
            },
        };
        // Absent (a new table, or one whose cursor is still at its old key) or as read.
        let cursor_put = built(
            self.put_of(to_item(&new_cursor)?)
                .condition_expression("attribute_not_exists(pk) OR #n = :n")
                .expression_attribute_names("#n", "number")
                .expression_attribute_values(":n", AttributeValue::N(read.cursor.number.to_string()))
                .build(),
        )?;
        let event = EventItem {
            pk: format!("RELEASE#{}", release.id),
            sk: format!("EVENT#{}#created", release.created_at.to_rfc3339()),
            entity: "release-event".into(),
            release_id: release.id.clone(),
            kind: "created".into(),
            actor: "baton".into(),
            at: release.created_at.to_rfc3339(),
            detail: format!("Release {} created from {}", release.number, release.triggered_by),
        };
        let mut items = vec![
            TransactWriteItem::builder()
                .put(built(
                    self.put_of(to_item(&ReleaseItem::new(release))?)
                        .condition_expression("attribute_not_exists(pk)")
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder().put(cursor_put).build(),
            TransactWriteItem::builder()
                .update(built(
                    Update::builder()
                        .table_name(self.table())
                        .set_key(Some(package_key(&trigger.component, &trigger.version)))
                        .update_expression("SET release_id = :r")
                        .condition_expression("attribute_exists(pk) AND attribute_not_exists(release_id)")
                        .expression_attribute_values(":r", rid.clone())
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .put(built(self.put_of(to_item(&event)?).build())?)
                .build(),
        ];
        // Every other package this release brings in is marked with its first release.
        for change in release
            .changes
            .iter()
            .filter(|c| !(c.component == trigger.component && c.to == trigger.version))
        {
            items.push(
                TransactWriteItem::builder()
                    .update(built(
                        Update::builder()
                            .table_name(self.table())
                            .set_key(Some(package_key(&change.component, &change.to)))
                            .update_expression("SET release_id = if_not_exists(release_id, :r)")
                            .condition_expression("attribute_exists(pk)")
                            .expression_attribute_values(":r", rid.clone())
                            .build(),
                    )?)
                    .build(),
            );
        }
        // The heads as read: a head written meanwhile (another upload's) cancels this release,
        // which is then planned again with it. Without this check, an upload that found the
        // set incomplete could raise its head just after this release read it, and neither
        // would release it.
        let raises_trigger_head = read.raises_head(trigger);
        for component in release.snapshot.keys() {
            let stored = read.heads.get(component);
            if *component == trigger.component && raises_trigger_head {
                let head = HeadItem::new(trigger);
                let head_put = match stored {
                    Some(stored) => {
                        let (condition, names, values) = version_is(stored);
                        self.put_of(to_item(&head)?)
                            .condition_expression(condition)
                            .set_expression_attribute_names(Some(names))
                            .set_expression_attribute_values(Some(values))
                    }
                    None => self
                        .put_of(to_item(&head)?)
                        .condition_expression("attribute_not_exists(pk)"),
                };
                items.push(TransactWriteItem::builder().put(built(head_put.build())?).build());
            } else if let Some(stored) = stored {
                let (condition, names, values) = version_is(stored);
                items.push(
                    TransactWriteItem::builder()
                        .condition_check(built(
                            ConditionCheck::builder()
                                .table_name(self.table())
                                .set_key(Some(head_key(component)))
                                .condition_expression(condition)
                                .set_expression_attribute_names(Some(names))
                                .set_expression_attribute_values(Some(values))
                                .build(),
                        )?)
                        .build(),
                );
            }
        }
        match self.transact(items, &format!("creating {}", release.id)).await? {
            Ok(()) => Ok(Creation::Created),
            // A condition failed or a concurrent transaction interfered. Which one matters: if
            // the trigger is already in a release, that release is the answer.
            Err(_) => match self
                .package_item(&trigger.component, &trigger.version)
                .await?
                .and_then(|p| p.release_id)
            {
                Some(existing) => Ok(Creation::AlreadyReleased(existing)),
                None => Ok(Creation::CursorMoved),
            },
        }
    }
}
