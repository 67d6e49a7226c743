//! The artefact bucket as the [`Artefacts`] port.

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::get_object::GetObjectError;
use baton_domain::BatonError;
use baton_domain::ports::{Artefacts, Fetched, StoredObject};

use crate::errors::sdk_error;

/// Reads uploads from the artefact bucket.
#[derive(Debug, Clone)]
pub struct S3Artefacts {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Artefacts {
    /// Reads from `bucket` with `s3`.
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Artefacts {
            s3,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl Artefacts for S3Artefacts {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn fetch(&self, key: &str, version: Option<&str>, max_bytes: u64) -> Result<Fetched, BatonError> {
        // One GetObject: its headers give size, ETag and metadata before the body is read,
        // so an oversized object is refused without downloading it.
        let request = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_string));
        let output = match request.send().await {
            Ok(output) => output,
            Err(err) => {
                // A version that no longer exists answers NoSuchVersion (or NoSuchKey).
                let gone = matches!(err.as_service_error(), Some(GetObjectError::NoSuchKey(_)))
                    || err.as_service_error().and_then(|e| e.code()) == Some("NoSuchVersion");
                if gone {
                    return Ok(Fetched::Missing);
                }
                return Err(sdk_error(&format!("reading s3://{}/{key}", self.bucket), err));
            }
        };
        let version_id = output
            .version_id()
            .filter(|v| !v.is_empty() && *v != "null")
            .map(str::to_string);
        let etag = output.e_tag().unwrap_or_default().trim_matches('"').to_string();
        let size = output.content_length().unwrap_or(0).max(0) as u64;
        if size > max_bytes {
            return Ok(Fetched::TooLarge { size, etag });
        }
        let user_metadata = output
            .metadata()
            .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
            .unwrap_or_default();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| {
                BatonError::transient(format!(
                    "reading s3://{}/{key}: the download broke off ({e})",
                    self.bucket
                ))
            })?
            .into_bytes()
            .to_vec();
        Ok(Fetched::Object(StoredObject {
            key: key.to_string(),
            etag,
            version_id,
            bytes,
            user_metadata,
        }))
    }
}
