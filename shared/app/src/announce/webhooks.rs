//! Webhooks: the listener that queues one message per event and interested hook (an event's
//! messages in one request), and the
//! consumer of that queue that signs, POSTs, records each try and schedules the next one with
//! exponential backoff (a new message, delayed) until the hook takes it or the tries run out.

use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::sqs::SqsEvent;
use baton_domain::BatonError;
use baton_domain::ports::{
    ConfigSource, EventListener, PostOutcome, ReleaseEvent, Secrets, WebhookAttempt, WebhookLog, WebhookPoster,
    WebhookQueue,
};
use baton_domain::webhook::{self, Announcement, MAX_ATTEMPTS, WebhookMessage};
use chrono::Utc;
use serde_json::{Value, json};

use crate::Function;

/// Queues a delivery for every hook that wants an event.
pub struct WebhookListener<C, Q> {
    config: C,
    queue: Q,
}

impl<C, Q> WebhookListener<C, Q> {
    /// A listener reading hooks from `config`, queueing on `queue`.
    pub fn new(config: C, queue: Q) -> Self {
        WebhookListener { config, queue }
    }
}

#[async_trait]
impl<C: ConfigSource, Q: WebhookQueue> EventListener for WebhookListener<C, Q> {
    async fn on_event(&self, event: &ReleaseEvent) -> Result<(), BatonError> {
        let wanted = webhook::webhook_events(event);
        if wanted.is_empty() {
            return Ok(());
        }
        let config = self.config.config().await?;
        let mut messages = Vec::new();
        for hook in &config.notifications.webhooks {
            for name in wanted.iter().filter(|w| hook.events.iter().any(|e| e == *w)) {
                messages.push(WebhookMessage {
                    hook: hook.name.clone(),
                    event: name.to_string(),
                    delivery: webhook::delivery_id(event, &hook.name, name),
                    attempt: 1,
                    release_event: event.clone(),
                });
            }
        }
        if messages.is_empty() {
            return Ok(());
        }
        // A repeated stream record queues the same deliveries again: the receiver drops each
        // by its Baton-Delivery id.
        self.queue.enqueue(&messages, Duration::ZERO).await
    }
}

/// The webhooks queue's consumer.
pub struct WebhookDeliveries<C, S, P, L, Q> {
    config: C,
    secrets: S,
    poster: P,
    log: L,
    queue: Q,
    retry_base_seconds: u64,
}

impl<C, S, P, L, Q> WebhookDeliveries<C, S, P, L, Q> {
    /// A consumer; a failed try is repeated after `retry_base_seconds`, then twice as long each time.
    pub fn new(config: C, secrets: S, poster: P, log: L, queue: Q, retry_base_seconds: u64) -> Self {
        WebhookDeliveries {
            config,
            secrets,
            poster,
            log,
            queue,
            retry_base_seconds,
        }
    }
}

impl<C, S, P, L, Q> WebhookDeliveries<C, S, P, L, Q>
where
    C: ConfigSource,
    S: Secrets,
    P: WebhookPoster,
    L: WebhookLog,
    Q: WebhookQueue,
{
    async fn deliver(&self, message: &WebhookMessage) -> Result<(), BatonError> {
        let config = self.config.config().await?;
        let Some(hook) = config.notifications.webhook(&message.hook) else {
            tracing::warn!(hook = %message.hook, delivery = %message.delivery, "hook no longer configured; delivery dropped");
            return Ok(());
        };
        let event = &message.release_event;
        let announcement = Announcement {
            id: message.delivery.clone(),
            event: message.event.clone(),
            occurred_at: event.at.to_rfc3339(),
            release_id: event.release_id.to_string(),
            release_number: event.release_id.number_text().parse().ok(),
            release_url: format!(
                "{}/releases/{}",
                config.public_url.trim_end_matches('/'),
                event.release_id
            ),
            environment: event.environment.clone(),
            actor: event.actor.clone(),
            summary: baton_domain::ports::status::event_summary(event),
        };
        let body = webhook::body(hook.format, &announcement);
        let secret = self.secrets.secret(&hook.secret).await?;
        let now = Utc::now();
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), "Baton-Webhooks/1".to_string()),
            ("Baton-Event".to_string(), message.event.clone()),
            ("Baton-Delivery".to_string(), message.delivery.clone()),
            (
                "Baton-Signature".to_string(),
                webhook::signature_header(&secret, now.timestamp(), body.as_bytes()),
            ),
        ];
        let outcome = self.poster.post(&hook.url, &headers, body).await;
        let delivered = matches!(outcome, PostOutcome::Answered(s) if (200..300).contains(&s));
        let will_retry = !delivered && message.attempt < MAX_ATTEMPTS;
        let (status, error) = match outcome {
            PostOutcome::Answered(s) => (Some(s), None),
            PostOutcome::NoAnswer(e) => (None, Some(e)),
        };
        tracing::info!(hook = %hook.name, delivery = %message.delivery, event = %message.event,
            attempt = message.attempt, status = ?status, error = ?error, delivered, "webhook try");
        let attempt = WebhookAttempt {
            hook: hook.name.clone(),
            delivery: message.delivery.clone(),
            event: message.event.clone(),
            release_id: event.release_id.clone(),
            attempt: message.attempt,
            at: now,
            status,
            error,
            delivered,
            will_retry,
        };
        if !self.log.record_attempt(&attempt).await? {
            // A repeated message: the first to keep this try schedules the next one.
            return Ok(());
        }
        if will_retry {
            let next = WebhookMessage {
                attempt: message.attempt + 1,
                ..message.clone()
            };
            let delay = webhook::retry_delay(self.retry_base_seconds, next.attempt);
            self.queue.enqueue(std::slice::from_ref(&next), delay).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<C, S, P, L, Q> Function for WebhookDeliveries<C, S, P, L, Q>
where
    C: ConfigSource,
    S: Secrets,
    P: WebhookPoster,
    L: WebhookLog,
    Q: WebhookQueue,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let batch: SqsEvent = serde_json::from_value(payload)
            .map_err(|e| BatonError::invalid(format!("expected an SQS batch of webhook deliveries: {e}")))?;
        let mut failed = Vec::new();
        for record in batch.records {
            let id = record.message_id.clone().unwrap_or_default();
            let message: WebhookMessage = match serde_json::from_str(record.body.as_deref().unwrap_or_default()) {
                Ok(m) => m,
                Err(e) => {
                    // Reading it again will not change it: drop it, loudly.
                    tracing::error!(message = %id, error = %e, "not a webhook delivery message; dropped");
                    continue;
                }
            };
            if let Err(e) = self.deliver(&message).await {
                tracing::warn!(hook = %message.hook, delivery = %message.delivery, error = %e, "webhook delivery failed; SQS delivers it again");
                failed.push(id);
            }
        }
        Ok(json!(crate::sqs_batch::retry_later(failed)))
    }
}
