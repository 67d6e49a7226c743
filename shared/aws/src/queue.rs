//! The decisions queue (SQS) as the [`DecisionQueue`] port: decisions `approve` could not
//! deliver at once wait here for the lifecycle function's consumer.

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::approval::delivery::{DecisionQueue, hold_end_delay};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::errors::sdk_error;

/// Sends `{"approvalId": ...}` messages to the decisions queue.
#[derive(Debug, Clone)]
pub struct SqsDecisionQueue {
    sqs: aws_sdk_sqs::Client,
    queue_url: Option<String>,
}

impl SqsDecisionQueue {
    /// The queue at `queue_url` (`BATON_DECISIONS_QUEUE_URL`); without one, every enqueue
    /// fails with a message naming the missing setting.
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: Option<String>) -> Self {
        SqsDecisionQueue { sqs, queue_url }
    }
}

/// The message body for one approval: what the consumer reads.
pub fn message_body(approval_id: &str) -> String {
    json!({ "approvalId": approval_id }).to_string()
}

/// The message body asking to end the hold on `approval_id` that ends at `until`.
pub fn hold_end_body(approval_id: &str, until: DateTime<Utc>) -> String {
    json!({ "approvalId": approval_id, "holdEnds": until }).to_string()
}

impl SqsDecisionQueue {
    fn url(&self) -> Result<&str, BatonError> {
        self.queue_url.as_deref().ok_or_else(|| {
            BatonError::internal(
                "BATON_DECISIONS_QUEUE_URL is not set; the SAM template sets it for approve and lifecycle (DecisionsQueue)",
            )
        })
    }
}

#[async_trait]
impl DecisionQueue for SqsDecisionQueue {
    async fn enqueue(&self, approval_id: &str) -> Result<(), BatonError> {
        self.sqs
            .send_message()
            .queue_url(self.url()?)
            .message_body(message_body(approval_id))
            .send()
            .await
            .map_err(|e| sdk_error("queueing a decision for delivery", e))?;
        Ok(())
    }

    async fn enqueue_hold_end(
        &self,
        approval_id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), BatonError> {
        self.sqs
            .send_message()
            .queue_url(self.url()?)
            .message_body(hold_end_body(approval_id, until))
            .delay_seconds(hold_end_delay(until, now) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("queueing the end of a hold", e))?;
        Ok(())
    }
}
