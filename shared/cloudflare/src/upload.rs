//! The asset steps of a deploy: upload JWT, check-missing, bucketed parallel uploads, upsert-hashes
//! (reference §3.3–3.7).

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::task::JoinSet;

use crate::bucket::into_buckets;
use crate::client::PagesClient;
use crate::error::PagesError;
use crate::http::{Auth, Payload, Retrier};
use crate::jwt::UploadJwt;
use crate::site::Asset;

/// HTTP status of Cloudflare's gateway timeout; after one, uploads go one at a time.
const GATEWAY_TIMEOUT: u16 = 524;
/// upsert-hashes is tried twice; its failure only means later deploys may upload more (a warning in wrangler).
const UPSERT_ATTEMPTS: u32 = 2;

/// The upload JWT of one deploy, shared by the parallel uploads. It is fetched when missing or about to
/// expire, and replaced when the server refuses it.
pub(crate) struct UploadTokens {
    project: String,
    current: tokio::sync::Mutex<Option<Arc<UploadJwt>>>,
}

impl UploadTokens {
    pub(crate) fn new(project: &str, first: UploadJwt) -> Self {
        UploadTokens {
            project: project.to_string(),
            current: tokio::sync::Mutex::new(Some(Arc::new(first))),
        }
    }

    /// A usable JWT. The lock is held while fetching, so parallel uploads wait for one fetch instead of
    /// each fetching their own.
    async fn get(&self, client: &PagesClient) -> Result<Arc<UploadJwt>, PagesError> {
        let mut current = self.current.lock().await;
        if let Some(jwt) = current.as_ref().filter(|jwt| !jwt.needs_refresh()) {
            return Ok(Arc::clone(jwt));
        }
        let fresh = Arc::new(client.upload_token(&self.project).await?);
        *current = Some(Arc::clone(&fresh));
        Ok(fresh)
    }

    /// Drops `refused` unless another task has already replaced it.
    async fn invalidate(&self, refused: &Arc<UploadJwt>) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|jwt| Arc::ptr_eq(jwt, refused)) {
            *current = None;
        }
    }
}

/// What the upload step sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UploadStats {
    pub files: usize,
    pub bytes: u64,
}

#[derive(Serialize)]
struct UploadEntry<'a> {
    key: &'a str,
    value: String,
    metadata: UploadMetadata<'a>,
    base64: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadMetadata<'a> {
    content_type: &'a str,
}

impl PagesClient {
    /// A call to a `/pages/assets/*` endpoint with the upload JWT: transient errors are retried with
    /// backoff; a refused JWT (8000013, or a 401/403 such as the old plain-text "Expired JWT") is replaced
    /// and the call repeated without counting an attempt. A 524 drops `concurrency` to 1.
    async fn asset_call<T: DeserializeOwned>(
        &self,
        tokens: &UploadTokens,
        operation: &'static str,
        path: &str,
        body: &[u8],
        max_attempts: u32,
        concurrency: Option<&AtomicUsize>,
    ) -> Result<T, PagesError> {
        let url = self.url(path);
        let settings = &self.inner.settings;
        let timeout = if path.ends_with("/upload") {
            settings.upload_timeout
        } else {
            settings.request_timeout
        };
        let mut retrier = Retrier::new(operation, &settings.retry, max_attempts);
        loop {
            let jwt = tokens.get(self).await?;
            let payload = Payload::Json(body.to_vec());
            let attempt = self
                .send_once::<T>(operation, Method::POST, &url, Auth::Jwt(jwt.token()), payload, timeout)
                .await;
            match attempt {
                Ok(success) => return Ok(success.result),
                Err(error) if error.is_upload_auth_failure() => {
                    tokens.invalidate(&jwt).await;
                    retrier.after_jwt_refusal(error)?;
                }
                Err(error) => {
                    if let (Some(limit), Some(GATEWAY_TIMEOUT)) = (concurrency, error.status()) {
                        limit.store(1, Ordering::Relaxed);
                    }
                    retrier.after(error).await?;
                }
            }
        }
    }

    /// `POST /pages/assets/check-missing`: which of `hashes` the server does not have. Hashes the server
    /// returns that were not asked about are ignored.
    pub(crate) async fn check_missing(
        &self,
        tokens: &UploadTokens,
        hashes: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, PagesError> {
        let body = serde_json::to_vec(&json!({ "hashes": hashes })).map_err(|e| PagesError::Setup(e.to_string()))?;
        let max = self.inner.settings.retry.max_attempts;
        let missing: Vec<String> = self
            .asset_call(
                tokens,
                "check missing assets",
                "/pages/assets/check-missing",
                &body,
                max,
                None,
            )
            .await?;
        Ok(missing.into_iter().filter(|hash| hashes.contains(hash)).collect())
    }

    /// Uploads `assets` in buckets, a few requests at a time.
    pub(crate) async fn upload_assets(
        &self,
        tokens: Arc<UploadTokens>,
        assets: Vec<Arc<Asset>>,
    ) -> Result<UploadStats, PagesError> {
        let limits = self.inner.settings.upload;
        let buckets = into_buckets(assets, |asset| asset.content.len() as u64, &limits);
        if buckets.is_empty() {
            return Ok(UploadStats::default());
        }
        tracing::info!(buckets = buckets.len(), "uploading missing assets");
        let workers = limits.concurrency.clamp(1, buckets.len());
        let queue = Arc::new(Mutex::new(VecDeque::from(buckets)));
        let concurrency = Arc::new(AtomicUsize::new(workers));
        let mut tasks = JoinSet::new();
        for index in 0..workers {
            let (client, tokens, queue, concurrency) = (
                self.clone(),
                Arc::clone(&tokens),
                Arc::clone(&queue),
                Arc::clone(&concurrency),
            );
            tasks.spawn(async move { client.upload_worker(index, &tokens, &queue, &concurrency).await });
        }
        let mut total = UploadStats::default();
        while let Some(joined) = tasks.join_next().await {
            // On the first error, dropping `tasks` aborts the other uploads.
            let stats = match joined {
                Ok(result) => result?,
                Err(join_error) if join_error.is_panic() => std::panic::resume_unwind(join_error.into_panic()),
                Err(join_error) => return Err(PagesError::Setup(format!("upload task stopped: {join_error}"))),
            };
            total.files += stats.files;
            total.bytes += stats.bytes;
        }
        Ok(total)
    }

    /// Takes buckets off the queue until it is empty, or until the allowed concurrency drops below this
    /// worker's index (after a gateway timeout only worker 0 carries on).
    async fn upload_worker(
        &self,
        index: usize,
        tokens: &UploadTokens,
        queue: &Mutex<VecDeque<Vec<Arc<Asset>>>>,
        concurrency: &AtomicUsize,
    ) -> Result<UploadStats, PagesError> {
        let mut stats = UploadStats::default();
        let max = self.inner.settings.retry.max_attempts;
        loop {
            if index >= concurrency.load(Ordering::Relaxed) {
                return Ok(stats);
            }
            let next = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop_front();
            let Some(bucket) = next else {
                return Ok(stats);
            };
            let body = upload_body(&bucket)?;
            self.asset_call::<serde_json::Value>(
                tokens,
                "upload assets",
                "/pages/assets/upload",
                &body,
                max,
                Some(concurrency),
            )
            .await?;
            stats.files += bucket.len();
            stats.bytes += bucket.iter().map(|asset| asset.content.len() as u64).sum::<u64>();
        }
    }

    /// `POST /pages/assets/upsert-hashes` with every hash of the deploy. A failure is only a warning, as in
    /// wrangler: the deployment does not depend on it.
    pub(crate) async fn upsert_hashes(&self, tokens: &UploadTokens, hashes: &BTreeSet<String>) {
        let body = match serde_json::to_vec(&json!({ "hashes": hashes })) {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(%error, "could not encode upsert-hashes");
                return;
            }
        };
        let outcome = self
            .asset_call::<serde_json::Value>(
                tokens,
                "upsert asset hashes",
                "/pages/assets/upsert-hashes",
                &body,
                UPSERT_ATTEMPTS,
                None,
            )
            .await;
        if let Err(error) = outcome {
            tracing::warn!(%error, "upsert-hashes failed; a later deploy may upload some assets again");
        }
    }
}

/// The JSON array of `{key, value, metadata: {contentType}, base64: true}` that the upload endpoint takes.
fn upload_body(bucket: &[Arc<Asset>]) -> Result<Vec<u8>, PagesError> {
    let entries: Vec<UploadEntry<'_>> = bucket
        .iter()
        .map(|asset| UploadEntry {
            key: &asset.key,
            value: STANDARD.encode(&asset.content),
            metadata: UploadMetadata {
                content_type: asset.content_type,
            },
            base64: true,
        })
        .collect();
    serde_json::to_vec(&entries).map_err(|e| PagesError::Setup(format!("could not encode an upload body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_body_has_the_wrangler_shape() {
        let asset = Arc::new(Asset {
            key: "6c67b21e4df57e1aa96d4e44b47ebc74".into(),
            content_type: "text/html",
            content: b"<h1>hello</h1>".to_vec(),
        });
        let body: serde_json::Value = serde_json::from_slice(&upload_body(&[asset]).unwrap()).unwrap();
        assert_eq!(
            body,
            json!([{
                "key": "6c67b21e4df57e1aa96d4e44b47ebc74",
                "value": "PGgxPmhlbGxvPC9oMT4=",
                "metadata": { "contentType": "text/html" },
                "base64": true
            }])
        );
    }
}
