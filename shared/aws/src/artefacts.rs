//! The artefact bucket as the [`Artefacts`] port, and the streamed download ingest spools
//! packages with.

use std::collections::BTreeMap;
use std::io::Write;

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use baton_domain::BatonError;
use baton_domain::ports::{Artefacts, Fetched, StoredObject};

use crate::errors::sdk_error;

/// Reads uploads from the artefact bucket.
#[derive(Debug, Clone)]
pub struct S3Artefacts {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// What S3 says about an object before its body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// ETag, without quotes.
    pub etag: String,
    /// The S3 version read, when S3 names one.
    pub version_id: Option<String>,
    /// Size in bytes, as S3 declares it.
    pub size: u64,
    /// User metadata (`x-amz-meta-*`), keys lowercased and without the prefix.
    pub user_metadata: BTreeMap<String, String>,
}

/// What [`S3Artefacts::download_into`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// The body was written to the sink, every byte of it.
    Written(ObjectHead),
    /// No such object or version.
    Missing,
    /// Larger than allowed: nothing was written.
    TooLarge {
        /// Its size.
        size: u64,
        /// Its ETag.
        etag: String,
    },
}

impl S3Artefacts {
    /// Reads from `bucket` with `s3`.
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Artefacts {
            s3,
            bucket: bucket.into(),
        }
    }

    /// One GetObject: its headers give size, ETag and metadata before the body is read, so an
    /// oversized object is refused without downloading it. `None`: no such object or version.
    async fn get(&self, key: &str, version: Option<&str>) -> Result<Option<(ObjectHead, GetObjectOutput)>, BatonError> {
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
                    return Ok(None);
                }
                return Err(sdk_error(&format!("reading s3://{}/{key}", self.bucket), err));
            }
        };
        let head = ObjectHead {
            etag: output.e_tag().unwrap_or_default().trim_matches('"').to_string(),
            version_id: output
                .version_id()
                .filter(|v| !v.is_empty() && *v != "null")
                .map(str::to_string),
            size: output.content_length().unwrap_or(0).max(0) as u64,
            user_metadata: output
                .metadata()
                .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
                .unwrap_or_default(),
        };
        Ok(Some((head, output)))
    }

    /// Streams `key` (exactly `version` when given) into `sink` chunk by chunk, if it is at most
    /// `max_bytes` long: ingest spools packages to local storage this way, so a package is
    /// never held in memory. The limit is also enforced on the bytes received, whatever the
    /// declared length said. Writes to `sink` block: a Lambda serves one invocation at a time.
    pub async fn download_into<W: Write + Send>(
        &self,
        key: &str,
        version: Option<&str>,
        max_bytes: u64,
        sink: &mut W,
    ) -> Result<Download, BatonError> {
        let Some((head, output)) = self.get(key, version).await? else {
            return Ok(Download::Missing);
        };
        if head.size > max_bytes {
            return Ok(Download::TooLarge {
                size: head.size,
                etag: head.etag,
            });
        }
        let broke_off = |e: &dyn std::fmt::Display| {
            BatonError::transient(format!(
                "reading s3://{}/{key}: the download broke off ({e})",
                self.bucket
            ))
        };
        let mut body = output.body;
        let mut received: u64 = 0;
        while let Some(chunk) = body.try_next().await.map_err(|e| broke_off(&e))? {
            received += chunk.len() as u64;
            if received > max_bytes {
                return Ok(Download::TooLarge {
                    size: received,
                    etag: head.etag,
                });
            }
            sink.write_all(&chunk).map_err(|e| {
                BatonError::internal(format!(
                    "spooling s3://{}/{key} to local storage failed ({e}); the function's ephemeral storage must hold the largest package",
                    self.bucket
                ))
            })?;
        }
        if received < head.size {
            return Err(broke_off(&format!("{received} of {} bytes received", head.size)));
        }
        Ok(Download::Written(head))
    }
}

#[async_trait]
impl Artefacts for S3Artefacts {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn fetch(&self, key: &str, version: Option<&str>, max_bytes: u64) -> Result<Fetched, BatonError> {
        let Some((head, output)) = self.get(key, version).await? else {
            return Ok(Fetched::Missing);
        };
        if head.size > max_bytes {
            return Ok(Fetched::TooLarge {
                size: head.size,
                etag: head.etag,
            });
        }
        // Chunks are appended to one buffer of the declared size: the body is held once, not
        // collected and then copied.
        let mut bytes = Vec::with_capacity(head.size as usize);
        let mut body = output.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| {
            BatonError::transient(format!(
                "reading s3://{}/{key}: the download broke off ({e})",
                self.bucket
            ))
        })? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Ok(Fetched::TooLarge {
                    size: (bytes.len() + chunk.len()) as u64,
                    etag: head.etag,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Object(StoredObject {
            key: key.to_string(),
            etag: head.etag,
            version_id: head.version_id,
            bytes,
            user_metadata: head.user_metadata,
        }))
    }
}
