//! SQS event source mappings, as Lambda runs them: long-poll the queue, invoke the function
//! with a batch, delete what succeeded, honour partial batch failures.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageSystemAttributeName,
};
use baton_app::Function;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::functions::SqsSource;

/// How long one ReceiveMessage waits for messages (SQS long polling).
pub const LONG_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// How soon a failed message is offered again. Lambda waits for the queue's visibility
/// timeout (minutes); locally a second keeps retries and redrive observable in tests.
pub const RETRY_AFTER_SECONDS: i32 = 1;

/// Runs one poller until `stop` turns true. `sqs` signs as the function (Lambda's mapping polls
/// with its role); `shortcut`, the stack's own client, makes the local-only call that shortens
/// a failed message's wait (Lambda makes none, so no role is asked for it).
pub async fn run(
    (sqs, shortcut): (aws_sdk_sqs::Client, aws_sdk_sqs::Client),
    queue_url: String,
    source: SqsSource,
    region: String,
    function: Arc<dyn Function>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let received = tokio::select! {
            r = sqs.receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(source.batch_size)
                .wait_time_seconds(LONG_POLL.as_secs() as i32)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send() => r,
            _ = stop.changed() => return,
        };
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::debug!(queue = %source.queue_name, error = %e, "receive failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let event = sqs_event(&messages, &source.queue_arn, &region);
        let all_ids: Vec<String> = messages
            .iter()
            .filter_map(|m| m.message_id().map(str::to_string))
            .collect();
        let failed: Vec<String> = match function.invoke(event).await {
            Ok(response) if source.report_failures => match failed_ids(&response) {
                Some(ids) => ids,
                // Lambda's rule: a malformed failure list fails the whole batch.
                None => all_ids.clone(),
            },
            Ok(_) => Vec::new(),
            Err(e) => {
                tracing::warn!(queue = %source.queue_name, error = %e, "batch failed; every message will be retried");
                all_ids.clone()
            }
        };
        let (done, retry): (Vec<_>, Vec<_>) = messages
            .iter()
            .partition(|m| !failed.iter().any(|f| Some(f.as_str()) == m.message_id()));
        if !done.is_empty() {
            let entries = done
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                        .ok()
                })
                .collect();
            if let Err(e) = sqs
                .delete_message_batch()
                .queue_url(&queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                tracing::warn!(queue = %source.queue_name, error = %e, "could not delete processed messages; they will be delivered again");
            }
        }
        if !retry.is_empty() {
            let entries = retry
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .visibility_timeout(RETRY_AFTER_SECONDS)
                        .build()
                        .ok()
                })
                .collect();
            let _ = shortcut
                .change_message_visibility_batch()
                .queue_url(&queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
        }
    }
}

/// The event Lambda's SQS event source mapping delivers for `messages` of the queue `queue_arn`.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str, region: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: Map<String, Value> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The ids in `{"batchItemFailures":[{"itemIdentifier":...}]}`; `None` if malformed.
fn failed_ids(response: &Value) -> Option<Vec<String>> {
    match response.get("batchItemFailures") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.get("itemIdentifier")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
            .collect(),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_failures_follow_lambdas_rules() {
        assert_eq!(failed_ids(&json!({"batchItemFailures": []})), Some(vec![]));
        assert_eq!(failed_ids(&json!({})), Some(vec![]));
        assert_eq!(
            failed_ids(&json!({"batchItemFailures": [{"itemIdentifier": "a"}]})),
            Some(vec!["a".to_string()])
        );
        assert_eq!(
            failed_ids(&json!({"batchItemFailures": [{"itemIdentifier": ""}]})),
            None
        );
        assert_eq!(failed_ids(&json!({"batchItemFailures": [{"id": "a"}]})), None);
    }
}
