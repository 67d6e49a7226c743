//! `GET /api/packages/{component}/{version}`: Baton's verdict on the uploads of one version,
//! what `baton push --wait` waits for.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::package::{Package, PackageMetadata, RejectCode, RejectedPackage};
use crate::ports::PackageOutcome;
use crate::release::ReleaseId;

/// How many refused uploads of one version a verdict lists (in key order: a version refused
/// more often than this shows only some of them).
pub const REFUSALS_PER_VERSION: usize = 49;

/// A registered package and what its registration led to.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredPackage {
    /// The package.
    pub package: Package,
    /// The first release that holds it, once made.
    pub release: Option<ReleaseId>,
    /// Why it made no release, once decided.
    pub outcome: Option<PackageOutcome>,
}

/// What is recorded under one component version.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PackageRecord {
    /// The registered package, if one is.
    pub registered: Option<RegisteredPackage>,
    /// Refused uploads of this version (up to [`REFUSALS_PER_VERSION`]), newest first.
    pub refused: Vec<RejectedPackage>,
}

impl PackageRecord {
    /// Whether nothing at all is recorded (the route answers 404).
    pub fn is_empty(&self) -> bool {
        self.registered.is_none() && self.refused.is_empty()
    }
}

/// The verdict as the JSON API gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageVerdictView {
    /// Component.
    pub component: String,
    /// Version.
    pub version: String,
    /// `registered` when a package is registered under this version, else `refused`.
    pub verdict: &'static str,
    /// The registered package.
    pub registered: Option<RegisteredView>,
    /// Refused uploads of this version, newest first (each names its S3 ETag, so an uploader
    /// can find the verdict on its own upload).
    pub refused: Vec<RefusedView>,
}

/// A registered package in the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisteredView {
    /// SHA-256 of the registered bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// S3 key.
    pub object_key: String,
    /// When Baton registered it.
    pub registered_at: DateTime<Utc>,
    /// CI's metadata, decoded.
    pub metadata: PackageMetadata,
    /// `released` (a release holds it), `waiting` (for other components' first packages),
    /// `superseded` (a newer version was already released) or `processing`.
    pub state: &'static str,
    /// The first release that holds it.
    pub release: Option<ReleaseId>,
    /// Path of that release's page, e.g. `/releases/rel-4`.
    pub release_url: Option<String>,
    /// What happened, in words.
    pub summary: String,
}

/// A refused upload in the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedView {
    /// S3 key as uploaded.
    pub object_key: String,
    /// S3 ETag of the refused object, without quotes.
    pub etag: String,
    /// Which rule refused it.
    pub code: RejectCode,
    /// Why, and what to do.
    pub reason: String,
    /// When.
    pub rejected_at: DateTime<Utc>,
    /// CI's metadata, if the object could be read.
    pub metadata: PackageMetadata,
}

impl PackageVerdictView {
    /// The verdict on `record`, or `None` when nothing is recorded.
    pub fn of(component: &str, version: &str, record: &PackageRecord) -> Option<Self> {
        if record.is_empty() {
            return None;
        }
        let registered = record.registered.as_ref().map(registered_view);
        Some(PackageVerdictView {
            component: component.to_string(),
            version: version.to_string(),
            verdict: if registered.is_some() { "registered" } else { "refused" },
            registered,
            refused: record
                .refused
                .iter()
                .map(|r| RefusedView {
                    object_key: r.object_key.clone(),
                    etag: r.object_tag.clone(),
                    code: r.rejection.code,
                    reason: r.rejection.reason.clone(),
                    rejected_at: r.rejected_at,
                    metadata: public_metadata(&r.metadata),
                })
                .collect(),
        })
    }
}

/// CI's metadata as a public route may show it: without the author's address.
fn public_metadata(metadata: &PackageMetadata) -> PackageMetadata {
    PackageMetadata {
        author: None,
        ..metadata.clone()
    }
}

fn registered_view(r: &RegisteredPackage) -> RegisteredView {
    let (state, summary) = match (&r.release, &r.outcome) {
        (Some(release), _) => (
            "released",
            format!("Registered; it made release {}.", release.number_text()),
        ),
        (None, Some(PackageOutcome::Waiting { missing })) => (
            "waiting",
            format!(
                "Registered; no release yet: waiting for the first package of {}.",
                missing.join(", ")
            ),
        ),
        (None, Some(PackageOutcome::Superseded { release })) => (
            "superseded",
            match release {
                Some(latest) => format!(
                    "Registered; no release for it: release {} already holds a newer version.",
                    latest.number_text()
                ),
                None => "Registered; no release for it: a newer version is already registered.".to_string(),
            },
        ),
        (None, None) => (
            "processing",
            "Registered; Baton is deciding whether it makes a release.".to_string(),
        ),
    };
    RegisteredView {
        sha256: r.package.sha256.clone(),
        size: r.package.size,
        object_key: r.package.object_key.clone(),
        registered_at: r.package.registered_at,
        metadata: public_metadata(&r.package.metadata),
        state,
        release: r.release.clone(),
        release_url: r.release.as_ref().map(|id| format!("/releases/{id}")),
        summary,
    }
}
