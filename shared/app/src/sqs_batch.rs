//! The answer of a function fed by an SQS event source with `ReportBatchItemFailures`.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};

/// The response that hands the messages `failed` (by message id) back to SQS, to be delivered
/// again; every other message of the batch is done.
pub fn retry_later(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}
