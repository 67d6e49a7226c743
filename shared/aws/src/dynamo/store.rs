//! [`ReleaseStore`] on DynamoDB: every write that must not happen twice is conditional.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use baton_domain::ports::{Creation, PackageOutcome, Registration, ReleaseStore};
use baton_domain::release::{PackageRef, ReleaseCursor, ReleaseState};
use baton_domain::search::IndexEntry;
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

    /// Every item of partition `pk`, read consistently, page after page (one request unless
    /// the partition holds more than 1 MB).
    pub(super) async fn partition(&self, pk: &str, what: &str) -> Result<Vec<Item>, BatonError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .db
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("reading {what}"), e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    pub(super) async fn package_item(
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
    async fn register_package(&self, package: &Package, search: &[IndexEntry]) -> Result<Registration, BatonError> {
        self.register_with_index(package, search).await
    }

    async fn advance_head(&self, package: &PackageRef) -> Result<(), BatonError> {
        for _ in 0..HEAD_ATTEMPTS {
            let current: Option<HeadItem> = self
                .get(head_key(&package.component), "a component head")
                .await?
                .map(from_item)
                .transpose()?;
            let mut put = self
                .db
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(&HeadItem::new(package))?));
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

    async fn release_state(&self) -> Result<ReleaseState, BatonError> {
        self.read_release_state().await
    }

    async fn release_cursor(&self) -> Result<ReleaseCursor, BatonError> {
        self.read_release_cursor().await
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
        read: &ReleaseState,
        trigger: &PackageRef,
    ) -> Result<Creation, BatonError> {
        self.create_release_with_heads(release, read, trigger).await
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
