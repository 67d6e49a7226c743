//! Webhook deliveries: the SQS queue they wait on ([`WebhookQueue`]) and the HTTP client that
//! POSTs them ([`WebhookPoster`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use baton_domain::BatonError;
use baton_domain::ports::{PostOutcome, WebhookPoster, WebhookQueue};
use baton_domain::webhook::WebhookMessage;

use crate::errors::sdk_error;

/// How long a receiver has to answer one POST.
pub const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The webhooks queue.
#[derive(Debug, Clone)]
pub struct SqsWebhookQueue {
    sqs: aws_sdk_sqs::Client,
    queue_url: Option<String>,
}

impl SqsWebhookQueue {
    /// The queue at `queue_url` (`BATON_WEBHOOKS_QUEUE_URL`); without one, every enqueue fails
    /// with a message naming the missing setting.
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: Option<String>) -> Self {
        SqsWebhookQueue { sqs, queue_url }
    }
}

/// The most messages one SendMessageBatch takes.
const SEND_BATCH_MAX: usize = 10;

#[async_trait]
impl WebhookQueue for SqsWebhookQueue {
    async fn enqueue(&self, messages: &[WebhookMessage], delay: Duration) -> Result<(), BatonError> {
        let url = self.queue_url.as_deref().ok_or_else(|| {
            BatonError::internal(
                "BATON_WEBHOOKS_QUEUE_URL is not set; the SAM template sets it for announce (WebhooksQueue)",
            )
        })?;
        let delay = delay.as_secs().min(900) as i32;
        for chunk in messages.chunks(SEND_BATCH_MAX) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, message) in chunk.iter().enumerate() {
                let body = serde_json::to_string(message).map_err(|e| BatonError::internal(e.to_string()))?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .delay_seconds(delay)
                    .build()
                    .map_err(|e| BatonError::internal(format!("building a webhook delivery message: {e}")))?;
                entries.push(entry);
            }
            let out = self
                .sqs
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("queueing webhook deliveries", e))?;
            if let Some(failed) = out.failed().first() {
                // The whole event is handed over again; the queued ones are dropped as repeats.
                return Err(BatonError::transient(format!(
                    "queueing webhook deliveries: {} of {} not queued ({}: {})",
                    out.failed().len(),
                    chunk.len(),
                    failed.code(),
                    failed.message().unwrap_or("no message")
                )));
            }
        }
        Ok(())
    }
}

/// POSTs with rustls, a timeout, and no redirects (a redirect could carry the signed body
/// elsewhere). The HTTP client (its TLS roots) is built at the first delivery, not at cold
/// start: most of announce's invocations deliver nothing (issue 18: 12.7 ms init with it built
/// up front, against a 10 ms target).
#[derive(Debug, Clone, Default)]
pub struct HttpWebhookPoster {
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

impl HttpWebhookPoster {
    /// A poster with [`POST_TIMEOUT`].
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self) -> Result<&reqwest::Client, &str> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(POST_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

#[async_trait]
impl WebhookPoster for HttpWebhookPoster {
    async fn post(&self, url: &str, headers: &[(String, String)], body: String) -> PostOutcome {
        let client = match self.client() {
            Ok(client) => client,
            Err(why) => return PostOutcome::NoAnswer(why.to_string()),
        };
        let mut request = client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) => PostOutcome::Answered(response.status().as_u16()),
            // Without the URL: a hook's URL may carry a token (Slack's and Teams' do).
            Err(e) if e.is_timeout() => PostOutcome::NoAnswer(format!("no answer within {}s", POST_TIMEOUT.as_secs())),
            Err(e) if e.is_connect() => PostOutcome::NoAnswer("could not connect".into()),
            Err(e) => PostOutcome::NoAnswer(e.without_url().to_string()),
        }
    }
}
