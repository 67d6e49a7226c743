//! Baton's domain: what a package, a release and the configuration are, how they are
//! validated, and the ports (traits) through which handlers reach the outside world.
//!
//! This crate is pure: it performs no I/O and knows no SDK types. Adapters in other crates
//! implement the ports; unit tests exercise the rules here directly.

pub mod access;
pub mod approval;
pub mod config;
pub mod deployment;
pub mod drift;
pub mod encoded_words;
pub mod error;
pub mod freeze;
pub mod local_time;
pub mod mail_quota;
pub mod manifest;
pub mod package;
pub mod plan;
pub mod platforms;
pub mod ports;
pub mod reconcile;
pub mod redact;
pub mod redeploy;
pub mod release;
pub mod search;
pub mod subscription;
pub mod version;
pub mod web;
pub mod webhook;

pub use config::BatonConfig;
pub use error::{BatonError, ErrorKind};
pub use package::{Package, PackageKey, PackageMetadata, RejectedPackage, Rejection};
pub use release::{Release, ReleaseId, Snapshot};
pub use version::Version;

/// Hex-encoded SHA-256 of `bytes`: the content identity of packages and releases.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
