//! `ingest`: an uploaded package becomes a registered package and, when it completes a new
//! set, a release with its workflow started (DESIGN §3.1 steps 1 to 5).
//!
//! Every step is idempotent, since S3 and SQS deliver at least once and out of order:
//! registration is conditional on component+version, release creation is one transaction
//! conditional on the release counter and on the triggering package being in no release,
//! and the workflow start is named by the release id.

pub mod event;
pub mod spool;
mod upload;

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use baton_domain::BatonError;
use baton_domain::ports::{ConfigSource, ReleaseStore, Workflow};
use serde_json::Value;

use crate::Function;
use event::Notification;
use spool::Spool;

/// How long a batch may run before the messages not yet started are handed back: well within
/// the function's 60 s timeout, leaving one message its own time to finish.
pub const BATCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// The ingest handler over its ports.
pub struct Ingest<C, A, S, W> {
    pub(crate) config: C,
    pub(crate) artefacts: A,
    pub(crate) store: S,
    pub(crate) workflow: W,
}

impl<C, A, S, W> Ingest<C, A, S, W>
where
    C: ConfigSource,
    A: Spool,
    S: ReleaseStore,
    W: Workflow,
{
    /// The handler over these adapters.
    pub fn new(config: C, artefacts: A, store: S, workflow: W) -> Self {
        Ingest {
            config,
            artefacts,
            store,
            workflow,
        }
    }

    /// Handles one SQS batch. A message fails (and is retried, then dead-lettered) only when its
    /// work may not have been done: infrastructure trouble. Bad packages are recorded as
    /// rejected and acknowledged, so they are never retried endlessly.
    ///
    /// The template hands over one message per invocation. Should a batch hold more, a message
    /// not started within [`BATCH_BUDGET`] is handed back unprocessed (reported failed), so the
    /// ones before it cannot run the invocation out of time and fail them all.
    pub async fn handle_batch(&self, batch: SqsEvent) -> SqsBatchResponse {
        let started = std::time::Instant::now();
        let mut failures = Vec::new();
        for message in batch.records {
            let id = message.message_id.clone().unwrap_or_default();
            let body = message.body.as_deref().unwrap_or_default();
            if started.elapsed() > BATCH_BUDGET {
                tracing::warn!(message_id = %id, "not started: the batch's time is spent; SQS will deliver it again");
                failures.push(id);
                continue;
            }
            if let Err(err) = self.handle_message(body).await {
                tracing::warn!(message_id = %id, error = %err, "upload not processed; SQS will deliver it again");
                failures.push(id);
            }
        }
        crate::sqs_batch::retry_later(failures)
    }

    async fn handle_message(&self, body: &str) -> Result<(), BatonError> {
        match event::parse(body) {
            Ok(Notification::Test) => {
                tracing::info!("s3:TestEvent acknowledged");
                Ok(())
            }
            Ok(Notification::Uploads(uploads)) => {
                for upload in uploads.iter().filter(|u| u.event_name.starts_with("ObjectCreated")) {
                    if upload.bucket != self.artefacts.bucket() {
                        // A notification misrouted from another bucket: not an upload to Baton,
                        // so nothing to register and nothing to refuse.
                        tracing::warn!(bucket = %upload.bucket, key = %upload.key, "event for another bucket ignored");
                        continue;
                    }
                    self.handle_upload(upload).await?;
                }
                Ok(())
            }
            Err(reason) => {
                // Not from S3: nothing to register and nothing a retry could change.
                tracing::error!(%reason, body = %body.chars().take(200).collect::<String>(), "message ignored");
                Ok(())
            }
        }
    }
}

#[async_trait]
impl<C, A, S, W> Function for Ingest<C, A, S, W>
where
    C: ConfigSource,
    A: Spool,
    S: ReleaseStore,
    W: Workflow,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let batch: SqsEvent = serde_json::from_value(payload)
            .map_err(|e| BatonError::invalid(format!("ingest expects an SQS event: {e}")))?;
        let response = self.handle_batch(batch).await;
        serde_json::to_value(response).map_err(|e| BatonError::internal(e.to_string()))
    }
}
