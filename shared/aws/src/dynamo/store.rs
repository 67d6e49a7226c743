//! [`ReleaseStore`] on DynamoDB: every write that must not happen twice is conditional.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use baton_domain::ports::{Creation, PackageOutcome, Registration, ReleaseStore};
use baton_domain::release::{PackageRef, ReleaseCursor, Snapshot};
use baton_domain::{BatonError, Package, RejectedPackage, Release, ReleaseId};

use super::items::*;
use crate::errors::sdk_error;

/// How many times a head update is retried when another writer moved it meanwhile.
const HEAD_ATTEMPTS: usize = 20;

/// The table, through one DynamoDB client.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    db: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table`.
    pub fn new(db: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore {
            db,
            table: table.into(),
        }
    }

    pub(crate) fn db(&self) -> &aws_sdk_dynamodb::Client {
        &self.db
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    pub(crate) async fn get(&self, key: Item, what: &str) -> Result<Option<Item>, BatonError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("reading {what}"), e))?;
        Ok(out.item)
    }

    async fn package_item(
        &self,
        component: &str,
        version: &impl std::fmt::Display,
    ) -> Result<Option<PackageItem>, BatonError> {
        self.get(package_key(component, version), "a package")
            .await?
            .map(from_item)
            .transpose()
    }
}

pub(crate) fn is_conditional_failure<E>(
    err: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> bool
where
    E: std::fmt::Debug + aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

#[async_trait]
impl ReleaseStore for DynamoStore {
    async fn register_package(&self, package: &Package) -> Result<Registration, BatonError> {
        let item = to_item(&PackageItem::new(package))?;
        let result = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing_item = match result {
            Ok(_) => return Ok(Registration::New),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(e)) if e.item().is_some() => e.item().cloned(),
                Some(PutItemError::ConditionalCheckFailedException(_)) => None,
                _ => {
                    return Err(sdk_error(
                        &format!("registering {} {}", package.component, package.version),
                        err,
                    ));
                }
            },
        };
        let existing: PackageItem = match existing_item {
            Some(item) => from_item(item)?,
            // Not every endpoint returns the old item with the failure; read it.
            None => self
                .package_item(&package.component, &package.version)
                .await?
                .ok_or_else(|| BatonError::transient("the package record changed while it was registered; retry"))?,
        };
        if existing.package.sha256 == package.sha256 {
            Ok(Registration::Duplicate {
                release: existing.release_id,
            })
        } else {
            Ok(Registration::Conflict {
                existing: Box::new(existing.package),
            })
        }
    }

    async fn advance_head(&self, package: &PackageRef) -> Result<(), BatonError> {
        for _ in 0..HEAD_ATTEMPTS {
            let current: Option<HeadItem> = self
                .get(key("HEAD", &package.component), "a component head")
                .await?
                .map(from_item)
                .transpose()?;
            let mut put = self
                .db
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(&HeadItem {
                    pk: "HEAD".into(),
                    sk: package.component.clone(),
                    entity: "component-head".into(),
                    head: package.clone(),
                })?));
            put = match &current {
                Some(c) if c.head.version >= package.version => return Ok(()),
                Some(c) => put
                    .condition_expression("#v = :v")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(":v", s(c.head.version.to_string())),
                None => put.condition_expression("attribute_not_exists(pk)"),
            };
            match put.send().await {
                Ok(_) => return Ok(()),
                Err(err) if is_conditional_failure(&err) => continue,
                Err(err) => {
                    return Err(sdk_error(&format!("raising the {} head", package.component), err));
                }
            }
        }
        Err(BatonError::transient(format!(
            "the {} head kept changing under concurrent uploads; retry",
            package.component
        )))
    }

    async fn heads(&self) -> Result<Snapshot, BatonError> {
        let mut heads = Snapshot::new();
        let mut start = None;
        loop {
            let out = self
                .db
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s("HEAD"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("reading the component heads", e))?;
            for item in out.items.unwrap_or_default() {
                let head: HeadItem = from_item(item)?;
                heads.insert(head.head.component.clone(), head.head);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(heads),
            }
        }
    }

    async fn release_cursor(&self) -> Result<ReleaseCursor, BatonError> {
        let item: Option<CursorItem> = self
            .get(cursor_key(), "the release counter")
            .await?
            .map(from_item)
            .transpose()?;
        Ok(item.map(|i| i.cursor).unwrap_or_default())
    }

    async fn packages(&self, refs: &[PackageRef]) -> Result<Vec<Package>, BatonError> {
        let mut found = Vec::new();
        for chunk in refs.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(
                        chunk.iter().map(|r| package_key(&r.component, &r.version)).collect(),
                    ))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| BatonError::internal(e.to_string()))?,
            );
            let mut attempts = 0;
            while let Some(keys) = pending.take() {
                attempts += 1;
                let out = self
                    .db
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| sdk_error("reading packages", e))?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    found.push(from_item::<PackageItem>(item)?.package);
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if pending.is_some() && attempts >= 5 {
                    return Err(BatonError::transient(
                        "DynamoDB kept some package reads unprocessed; retry",
                    ));
                }
            }
        }
        Ok(found)
    }

    async fn create_release(
        &self,
        release: &Release,
        cursor: &ReleaseCursor,
        trigger: &PackageRef,
    ) -> Result<Creation, BatonError> {
        let rid = s(release.id.as_str());
        let new_cursor = CursorItem {
            pk: "COUNTER".into(),
            sk: "RELEASE".into(),
            entity: "release-counter".into(),
            cursor: ReleaseCursor {
                number: release.number,
                release: Some(release.id.clone()),
                snapshot: release.snapshot.clone(),
            },
        };
        let mut cursor_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&new_cursor)?));
        cursor_put = if cursor.number == 0 {
            cursor_put.condition_expression("attribute_not_exists(pk)")
        } else {
            cursor_put
                .condition_expression("#n = :n")
                .expression_attribute_names("#n", "number")
                .expression_attribute_values(":n", AttributeValue::N(cursor.number.to_string()))
        };
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
        let build = |e: aws_sdk_dynamodb::error::BuildError| BatonError::internal(e.to_string());
        let mut items = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_item(&ReleaseItem::new(release))?))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .map_err(build)?,
                )
                .build(),
            TransactWriteItem::builder()
                .put(cursor_put.build().map_err(build)?)
                .build(),
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(package_key(&trigger.component, &trigger.version)))
                        .update_expression("SET release_id = :r")
                        .condition_expression("attribute_exists(pk) AND attribute_not_exists(release_id)")
                        .expression_attribute_values(":r", rid.clone())
                        .build()
                        .map_err(build)?,
                )
                .build(),
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_item(&event)?))
                        .build()
                        .map_err(build)?,
                )
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
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(package_key(&change.component, &change.to)))
                            .update_expression("SET release_id = if_not_exists(release_id, :r)")
                            .condition_expression("attribute_exists(pk)")
                            .expression_attribute_values(":r", rid.clone())
                            .build()
                            .map_err(build)?,
                    )
                    .build(),
            );
        }
        match self
            .db
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Creation::Created),
            Err(err) => {
                let code = err
                    .as_service_error()
                    .and_then(|e| aws_smithy_types::error::metadata::ProvideErrorMetadata::code(e))
                    .unwrap_or_default()
                    .to_string();
                if code != "TransactionCanceledException" && code != "TransactionConflictException" {
                    return Err(sdk_error(&format!("creating {}", release.id), err));
                }
                // A condition failed or a concurrent transaction interfered. Which one matters:
                // if the trigger is already in a release, that release is the answer.
                match self
                    .package_item(&trigger.component, &trigger.version)
                    .await?
                    .and_then(|p| p.release_id)
                {
                    Some(existing) => Ok(Creation::AlreadyReleased(existing)),
                    None => Ok(Creation::CursorMoved),
                }
            }
        }
    }

    async fn note_outcome(&self, package: &PackageRef, outcome: &PackageOutcome) -> Result<(), BatonError> {
        let value = serde_dynamo::to_attribute_value(outcome).map_err(|e| BatonError::internal(e.to_string()))?;
        let result = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(package_key(&package.component, &package.version)))
            .update_expression("SET outcome = :o")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(release_id)")
            .expression_attribute_values(":o", value)
            .send()
            .await;
        match result {
            // Already in a release: that says more than the note would.
            Err(err) if is_conditional_failure(&err) => Ok(()),
            Err(err) => Err(sdk_error("noting a package outcome", err)),
            Ok(_) => Ok(()),
        }
    }

    async fn release(&self, id: &ReleaseId) -> Result<Option<Release>, BatonError> {
        let item: Option<ReleaseItem> = self
            .get(release_key(id), "a release")
            .await?
            .map(from_item)
            .transpose()?;
        Ok(item.map(|i| i.release))
    }

    async fn record_rejection(&self, rejected: &RejectedPackage) -> Result<(), BatonError> {
        let result = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&RejectedItem::new(rejected))?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // The same refused object seen again: one record is enough.
            Err(err) if is_conditional_failure(&err) => Ok(()),
            Err(err) => Err(sdk_error(
                &format!("recording the rejection of {}", rejected.object_key),
                err,
            )),
        }
    }
}
