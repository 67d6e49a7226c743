//! `baton.yaml` from the artefact bucket, as the [`ConfigSource`] port.
//!
//! Loaded once per cold start; its ETag is re-checked at most once a minute with a
//! conditional GET, so an edit reaches warm functions within a minute at the cost of one
//! small request a minute.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use baton_domain::ports::ConfigSource;
use baton_domain::{BatonConfig, BatonError};
use tokio::sync::Mutex;

use crate::errors::sdk_error;

/// How long a loaded configuration is used before its ETag is checked again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(60);

struct Cached {
    config: Arc<BatonConfig>,
    etag: String,
    checked_at: Instant,
}

/// Reads and caches `s3://<bucket>/<key>`.
pub struct S3ConfigSource {
    s3: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    cached: Mutex<Option<Cached>>,
}

impl S3ConfigSource {
    /// A source reading `key` in `bucket`.
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        S3ConfigSource {
            s3,
            bucket: bucket.into(),
            key: key.into(),
            cached: Mutex::new(None),
        }
    }

    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

#[async_trait]
impl ConfigSource for S3ConfigSource {
    async fn config(&self) -> Result<Arc<BatonConfig>, BatonError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.checked_at.elapsed() < RECHECK_AFTER
        {
            return Ok(c.config.clone());
        }
        let mut request = self.s3.get_object().bucket(&self.bucket).key(&self.key);
        if let Some(c) = cached.as_ref() {
            request = request.if_none_match(&c.etag);
        }
        let output = match request.send().await {
            Ok(output) => output,
            Err(err) => {
                let not_modified = err.raw_response().is_some_and(|r| r.status().as_u16() == 304);
                if let (true, Some(c)) = (not_modified, cached.as_mut()) {
                    c.checked_at = Instant::now();
                    return Ok(c.config.clone());
                }
                if matches!(
                    err.as_service_error(),
                    Some(aws_sdk_s3::operation::get_object::GetObjectError::NoSuchKey(_))
                ) {
                    return Err(BatonError::internal(format!(
                        "{} does not exist; upload baton.yaml there (see README, Configure)",
                        self.location()
                    )));
                }
                return Err(sdk_error(&format!("reading {}", self.location()), err));
            }
        };
        let etag = output.e_tag().unwrap_or_default().to_string();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| BatonError::transient(format!("reading {}: {e}", self.location())))?
            .into_bytes();
        let text = String::from_utf8_lossy(&bytes);
        match BatonConfig::from_yaml(&text) {
            Ok(config) => {
                let config = Arc::new(config);
                *cached = Some(Cached {
                    config: config.clone(),
                    etag,
                    checked_at: Instant::now(),
                });
                Ok(config)
            }
            Err(problems) => match cached.as_mut() {
                // A broken edit must not stop releases: keep the last good configuration and say so.
                Some(c) => {
                    tracing::error!(location = %self.location(), error = %problems, "new configuration is invalid; still using the previous one");
                    c.checked_at = Instant::now();
                    Ok(c.config.clone())
                }
                None => Err(BatonError::internal(format!(
                    "{} is invalid: {problems}",
                    self.location()
                ))),
            },
        }
    }
}
