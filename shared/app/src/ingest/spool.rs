//! Packages spooled to local storage: ingest streams an upload into a temporary file in the
//! function's `/tmp` (the template sizes its `EphemeralStorage` for the largest package allowed)
//! and validates it from there, so no package is ever held in memory, let alone twice.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Seek, SeekFrom};

use async_trait::async_trait;
use baton_aws::S3Artefacts;
use baton_aws::artefacts::Download;
use baton_domain::BatonError;
use baton_domain::package::HashingWriter;
use baton_domain::ports::Artefacts;

/// An upload in a temporary file, with what S3 said about it.
#[derive(Debug)]
pub struct SpooledObject {
    /// ETag: identifies this upload of the key.
    pub etag: String,
    /// The S3 version read, when S3 names one.
    pub version_id: Option<String>,
    /// User metadata (`x-amz-meta-*`), keys without the prefix.
    pub user_metadata: BTreeMap<String, String>,
    /// Bytes spooled.
    pub size: u64,
    /// SHA-256 of the bytes, computed while spooling.
    pub sha256: String,
    /// The bytes, positioned at the start. The file has no name: it is gone when this is dropped.
    pub file: File,
}

/// The result of spooling an upload.
#[derive(Debug)]
pub enum Spooled {
    /// The object, within the size allowed.
    Object(SpooledObject),
    /// No such object (deleted since the event was sent).
    Missing,
    /// Larger than allowed: not downloaded (or not beyond the limit).
    TooLarge {
        /// Its size, or the bytes received when it exceeded what it declared.
        size: u64,
        /// Its ETag.
        etag: String,
    },
}

/// Artefacts that can be spooled to local storage.
#[async_trait]
pub trait Spool: Artefacts {
    /// Streams `key` (exactly `version` when given) into a temporary file if it is at most
    /// `max_bytes` long.
    async fn spool(&self, key: &str, version: Option<&str>, max_bytes: u64) -> Result<Spooled, BatonError>;
}

#[async_trait]
impl Spool for S3Artefacts {
    async fn spool(&self, key: &str, version: Option<&str>, max_bytes: u64) -> Result<Spooled, BatonError> {
        let storage = |e: std::io::Error| {
            BatonError::internal(format!(
                "spooling {key} to {} failed ({e}); the function's ephemeral storage must hold the largest package",
                std::env::temp_dir().display()
            ))
        };
        let mut sink = HashingWriter::new(std::io::BufWriter::new(temp_file().map_err(storage)?));
        let head = match self.download_into(key, version, max_bytes, &mut sink).await? {
            Download::Written(head) => head,
            Download::Missing => return Ok(Spooled::Missing),
            Download::TooLarge { size, etag } => return Ok(Spooled::TooLarge { size, etag }),
        };
        let (writer, sha256, size) = sink.finish();
        let mut file = writer.into_inner().map_err(|e| storage(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(storage)?;
        Ok(Spooled::Object(SpooledObject {
            etag: head.etag,
            version_id: head.version_id,
            user_metadata: head.user_metadata,
            size,
            sha256,
            file,
        }))
    }
}

/// A new file in the temporary directory, already unlinked: its space returns to `/tmp` when
/// it is closed, even if the function is stopped mid-way through a package.
fn temp_file() -> std::io::Result<File> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(std::io::Error::other)?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let path = std::env::temp_dir().join(format!("baton-ingest-{}-{suffix}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn a_temporary_file_has_no_name_and_keeps_its_bytes() {
        let mut file = temp_file().unwrap();
        file.write_all(b"package").unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut back = String::new();
        file.read_to_string(&mut back).unwrap();
        assert_eq!(back, "package");
        let leftovers = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .contains(&format!("baton-ingest-{}-", std::process::id()))
            })
            .count();
        assert_eq!(leftovers, 0, "the file is unlinked as soon as it is open");
    }
}
