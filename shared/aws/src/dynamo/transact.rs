//! One way to run a DynamoDB transaction and tell its outcomes apart.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use baton_domain::BatonError;

use super::items::Item;
use super::store::DynamoStore;
use crate::errors::sdk_error;

/// Why DynamoDB cancelled one item of a transaction.
pub(super) struct Cancellation {
    /// DynamoDB's reason code (`ConditionalCheckFailed`, `TransactionConflict`, `None`, ...).
    pub code: String,
    /// The item as it was, when the item asked for it (`ReturnValuesOnConditionCheckFailure`)
    /// and the endpoint sent it.
    pub old: Option<Item>,
}

impl Cancellation {
    /// Whether this item's condition failed.
    pub fn condition_failed(&self) -> bool {
        self.code == "ConditionalCheckFailed"
    }
}

/// Why a transaction was not written.
pub(super) enum NotWritten {
    /// DynamoDB cancelled it: one reason per item, in order (empty if the endpoint gave none).
    Cancelled(Vec<Cancellation>),
    /// A concurrent request touched one of its items (`TransactionConflictException`).
    Conflict,
}

impl DynamoStore {
    /// Runs `items` as one transaction: `Ok(Ok(()))` if it was written, `Ok(Err(why))` if
    /// DynamoDB cancelled it or a concurrent request interfered, an error for anything else.
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        what: &str,
    ) -> Result<Result<(), NotWritten>, BatonError> {
        let err = match self
            .db()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(Ok(())),
            Err(err) => err,
        };
        match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => Ok(Err(NotWritten::Cancelled(
                e.cancellation_reasons()
                    .iter()
                    .map(|r| Cancellation {
                        code: r.code().unwrap_or_default().to_string(),
                        old: r.item().cloned(),
                    })
                    .collect(),
            ))),
            // DynamoDB reports a conflict as a cancellation reason; some endpoints answer with
            // the conflict's own error code, which the SDK has no variant for here.
            Some(e) if e.code() == Some("TransactionConflictException") => Ok(Err(NotWritten::Conflict)),
            _ => Err(sdk_error(what, err)),
        }
    }

    /// Runs `items` as one transaction: `Ok(Ok(()))` if it was written; `Ok(Err(failed))` if a
    /// condition failed, `failed[i]` telling whether item `i`'s did; `Baton.Transient` for a
    /// conflict with a concurrent transaction or AWS trouble (worth trying again later).
    pub(super) async fn transact_items(
        &self,
        items: Vec<TransactWriteItem>,
        what: &str,
    ) -> Result<Result<(), Vec<bool>>, BatonError> {
        match self.transact(items, what).await? {
            Ok(()) => Ok(Ok(())),
            Err(NotWritten::Cancelled(reasons)) if reasons.iter().any(Cancellation::condition_failed) => {
                Ok(Err(reasons.iter().map(Cancellation::condition_failed).collect()))
            }
            Err(_) => Err(BatonError::transient(format!(
                "{what}: a concurrent request interfered; retry"
            ))),
        }
    }
}
