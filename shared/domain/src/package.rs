//! Packages: what CI uploads, how its key is read, and why one may be refused.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{BatonConfig, ComponentKind};
use crate::version::Version;

/// The S3 prefix packages are uploaded under.
pub const PACKAGE_PREFIX: &str = "packages/";

/// A package's key, read from `packages/<component>/<version>/<file>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageKey {
    /// Component name.
    pub component: String,
    /// Package version.
    pub version: Version,
    /// File name inside the version folder.
    pub file: String,
}

impl PackageKey {
    /// Reads an (already URL-decoded) object key against the configuration.
    pub fn parse(key: &str, config: &BatonConfig) -> Result<(Self, ComponentKind), Rejection> {
        let layout_hint = "upload to packages/<component>/<version>/<file>, e.g. packages/web/1.4.0/site.zip";
        let Some(rest) = key.strip_prefix(PACKAGE_PREFIX) else {
            return Err(Rejection::new(
                RejectCode::BadLayout,
                format!("key '{key}' is not under packages/; {layout_hint}"),
            ));
        };
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(Rejection::new(
                RejectCode::BadLayout,
                format!("key '{key}' does not have the layout packages/<component>/<version>/<file>; {layout_hint}"),
            ));
        }
        let (component, version, file) = (parts[0], parts[1], parts[2]);
        let Some(component_config) = config.component(component) else {
            let known: Vec<&str> = config.components.iter().map(|c| c.name.as_str()).collect();
            return Err(Rejection::new(
                RejectCode::UnknownComponent,
                format!(
                    "unknown component '{component}'; configured components are: {}",
                    known.join(", ")
                ),
            ));
        };
        let version = Version::parse(version).map_err(|e| Rejection::new(RejectCode::BadVersion, e.to_string()))?;
        Ok((
            PackageKey {
                component: component.to_string(),
                version,
                file: file.to_string(),
            },
            component_config.kind,
        ))
    }
}

impl fmt::Display for PackageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.component, self.version)
    }
}

/// What CI said about the build, from the object's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PackageMetadata {
    /// Commit the package was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Branch the package was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Link to the CI build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
    /// Release notes for this package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Who made the change (an address): environments with `forbid_self_approval` refuse
    /// their sign-off on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// Longest metadata value kept; S3 caps all user metadata at 2 KB anyway.
const METADATA_VALUE_MAX: usize = 2048;

impl PackageMetadata {
    /// Reads the S3 user metadata (`x-amz-meta-*`; keys without the prefix, any case). Values
    /// sent as RFC 2047 encoded-words (as `baton push` sends notes) are decoded.
    pub fn from_user_metadata(meta: &BTreeMap<String, String>) -> Self {
        let get = |names: &[&str]| {
            meta.iter()
                .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
                .map(|(_, v)| crate::encoded_words::decode(v))
                .map(|v| v.trim().chars().take(METADATA_VALUE_MAX).collect::<String>())
                .filter(|v| !v.is_empty())
        };
        PackageMetadata {
            commit: get(&["commit"]),
            branch: get(&["branch"]),
            build_url: get(&["build-url", "build_url", "buildurl"]),
            notes: get(&["notes"]),
            author: get(&["author"]),
        }
    }

    /// The S3 user metadata CI sends for this (keys without `x-amz-meta-`), every value
    /// encoded so it survives an HTTP header ([`crate::encoded_words`]).
    pub fn to_user_metadata(&self) -> Vec<(&'static str, String)> {
        [
            ("commit", &self.commit),
            ("branch", &self.branch),
            ("build-url", &self.build_url),
            ("notes", &self.notes),
            ("author", &self.author),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().map(|v| (key, crate::encoded_words::encode(v))))
        .collect()
    }
}

/// What a validated package holds, for people to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PackageContents {
    /// A static site.
    Web {
        /// Number of files.
        files: usize,
        /// Total uncompressed bytes.
        bytes: u64,
    },
    /// A desired-state manifest.
    State {
        /// Application name to Exchange asset version, as the manifest says.
        applications: BTreeMap<String, String>,
    },
}

/// A registered package. Immutable once registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Component name.
    pub component: String,
    /// Version.
    pub version: Version,
    /// Kind, from the configuration at registration.
    pub kind: ComponentKind,
    /// S3 key.
    pub object_key: String,
    /// The S3 version registered: every deployment and rollback reads exactly this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_version_id: Option<String>,
    /// Bytes in S3.
    pub size: u64,
    /// SHA-256 of the bytes: the package's identity.
    pub sha256: String,
    /// CI's metadata.
    pub metadata: PackageMetadata,
    /// What is inside.
    pub contents: PackageContents,
    /// When Baton registered it.
    pub registered_at: DateTime<Utc>,
}

/// Why a package was refused, in a stable code and a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectCode {
    /// Key not in `packages/<component>/<version>/<file>` form.
    BadLayout,
    /// Component not configured.
    UnknownComponent,
    /// Version not SemVer 2.0.
    BadVersion,
    /// Zero bytes.
    Empty,
    /// Over a size limit.
    TooLarge,
    /// Content fails validation for its kind.
    InvalidContent,
    /// Version already published with different bytes.
    VersionConflict,
}

/// A refusal: which rule and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    /// Which rule refused it.
    pub code: RejectCode,
    /// What was wrong and what to do.
    pub reason: String,
}

impl Rejection {
    /// A refusal with its reason.
    pub fn new(code: RejectCode, reason: impl Into<String>) -> Self {
        Rejection {
            code,
            reason: reason.into(),
        }
    }
}

/// A refused upload, kept so people can see it and fix their pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedPackage {
    /// S3 key as uploaded (decoded).
    pub object_key: String,
    /// S3 ETag (or sequencer) of the refused object: one record per uploaded object.
    pub object_tag: String,
    /// Component, when the key named a configured one.
    pub component: Option<String>,
    /// Version text from the key, when there was one.
    pub version: Option<String>,
    /// Why.
    pub rejection: Rejection,
    /// CI's metadata, when the object could be read.
    pub metadata: PackageMetadata,
    /// When.
    pub rejected_at: DateTime<Utc>,
}

/// A writer that passes bytes on to `inner` and hashes them on the way: a package's SHA-256
/// and size, computed while it is spooled, without reading it again.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
    written: u64,
}

impl<W: std::io::Write> HashingWriter<W> {
    /// Hashes what is written to `inner`.
    pub fn new(inner: W) -> Self {
        use sha2::Digest;
        HashingWriter {
            inner,
            hasher: sha2::Sha256::new(),
            written: 0,
        }
    }

    /// The writer back, with the SHA-256 (hex) and the number of bytes written.
    pub fn finish(self) -> (W, String, u64) {
        use sha2::Digest;
        (self.inner, hex::encode(self.hasher.finalize()), self.written)
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_key_reads_as_component_and_version() {
        let key = PackageKey {
            component: "web".into(),
            version: crate::Version::parse("1.2.3").unwrap(),
            file: "site.zip".into(),
        };
        assert_eq!(key.to_string(), "web 1.2.3");
    }

    /// A writer that counts its flushes.
    #[derive(Default)]
    struct Flushes(usize);

    impl std::io::Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0 += 1;
            Ok(())
        }
    }

    #[test]
    fn hashing_passes_flushes_through_to_the_writer() {
        use std::io::Write;
        let mut w = HashingWriter::new(Flushes::default());
        w.write_all(b"abc").unwrap();
        w.flush().unwrap();
        let (inner, sha, written) = w.finish();
        assert_eq!(inner.0, 1);
        assert_eq!(written, 3);
        assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    fn config() -> BatonConfig {
        BatonConfig::from_yaml(include_str!("../../../infra/config/baton.local.yaml")).unwrap()
    }

    #[test]
    fn hashing_writer_hashes_what_it_passes_on() {
        use std::io::Write;
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        let (bytes, sha, n) = w.finish();
        assert_eq!(bytes, b"hello world");
        assert_eq!(sha, crate::sha256_hex(b"hello world"));
        assert_eq!(n, 11);
    }

    #[test]
    fn reads_component_version_and_file() {
        let (key, kind) = PackageKey::parse("packages/web/1.4.0-rc.1/site.zip", &config()).unwrap();
        assert_eq!(key.component, "web");
        assert_eq!(key.version.to_string(), "1.4.0-rc.1");
        assert_eq!(key.file, "site.zip");
        assert_eq!(kind, ComponentKind::Web);
    }

    #[test]
    fn refuses_bad_keys_with_the_reason() {
        let cases = [
            (
                "packages/mobile/1.0.0/app.zip",
                RejectCode::UnknownComponent,
                "unknown component 'mobile'",
            ),
            (
                "packages/web/v1.0/site.zip",
                RejectCode::BadVersion,
                "'v1.0' is not a SemVer 2.0 version",
            ),
            (
                "packages/web/site.zip",
                RejectCode::BadLayout,
                "does not have the layout",
            ),
            (
                "packages/web/1.0.0/dist/site.zip",
                RejectCode::BadLayout,
                "does not have the layout",
            ),
            ("packages/web/1.0.0/", RejectCode::BadLayout, "does not have the layout"),
            (
                "uploads/web/1.0.0/site.zip",
                RejectCode::BadLayout,
                "is not under packages/",
            ),
        ];
        for (key, code, text) in cases {
            let err = PackageKey::parse(key, &config()).unwrap_err();
            assert_eq!(err.code, code, "{key}");
            assert!(err.reason.contains(text), "{key}: {}", err.reason);
        }
    }

    #[test]
    fn metadata_is_read_case_insensitively_and_trimmed() {
        let meta: BTreeMap<String, String> = [
            ("Commit", " abc123 "),
            ("build-url", "https://ci/1"),
            ("notes", ""),
            ("other", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let m = PackageMetadata::from_user_metadata(&meta);
        assert_eq!(m.commit.as_deref(), Some("abc123"));
        assert_eq!(m.build_url.as_deref(), Some("https://ci/1"));
        assert_eq!(m.notes, None);
        assert_eq!(m.branch, None);
    }

    #[test]
    fn metadata_survives_the_trip_through_s3_headers() {
        let sent = PackageMetadata {
            commit: Some("3f2c1d9".into()),
            branch: Some("feature/é".into()),
            build_url: Some("https://ci.example.com/1".into()),
            notes: Some("Fix login, add \"remember me\"\nNouveau: é → ü".into()),
            author: Some("dev@example.com".into()),
        };
        let headers: BTreeMap<String, String> = sent
            .to_user_metadata()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert!(
            headers.values().all(|v| v.is_ascii() && !v.contains('\n')),
            "{headers:?}"
        );
        assert_eq!(headers["commit"], "3f2c1d9");
        assert_eq!(PackageMetadata::from_user_metadata(&headers), sent);
    }
}
