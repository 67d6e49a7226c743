//! One way to run a DynamoDB transaction and tell its outcomes apart.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use baton_domain::BatonError;

use super::store::DynamoStore;
use crate::errors::sdk_error;

impl DynamoStore {
    /// Runs `items` as one transaction: `Ok(Ok(()))` if it was written; `Ok(Err(failed))` if a
    /// condition failed, `failed[i]` telling whether item `i`'s did; `Baton.Transient` for a
    /// conflict with a concurrent transaction or AWS trouble (worth trying again later).
    pub(super) async fn transact_items(
        &self,
        items: Vec<TransactWriteItem>,
        what: &str,
    ) -> Result<Result<(), Vec<bool>>, BatonError> {
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
        let failed: Vec<bool> = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
                .cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
            _ => Vec::new(),
        };
        if failed.iter().any(|f| *f) {
            Ok(Err(failed))
        } else {
            Err(BatonError::transient(sdk_error(what, err).message))
        }
    }
}
