//! Releases: a numbered snapshot of one package per component, and the rule that decides
//! when an upload makes a new one.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::BatonConfig;
use crate::package::{Package, PackageMetadata};
use crate::version::Version;

/// A release's id: `rel-<number>`. Also the name of its Step Functions execution.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReleaseId(pub String);

impl ReleaseId {
    /// The id of release number `number`.
    pub fn from_number(number: u64) -> Self {
        ReleaseId(format!("rel-{number}"))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// What people call it: `12` for `rel-12` (the whole id if it is not of that form), as in
    /// "release 12".
    pub fn number_text(&self) -> &str {
        self.0.strip_prefix("rel-").unwrap_or(&self.0)
    }
}

impl fmt::Display for ReleaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One package as a release (or a component head) refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    /// Component name.
    pub component: String,
    /// Version.
    pub version: Version,
    /// SHA-256 of the package bytes.
    pub sha256: String,
    /// S3 key.
    pub object_key: String,
    /// The S3 version registered (packages registered before pinning have none: their key's
    /// newest version is read, and its hash still checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_version_id: Option<String>,
}

impl PackageRef {
    /// The reference to a registered package.
    pub fn of(package: &Package) -> Self {
        PackageRef {
            component: package.component.clone(),
            version: package.version.clone(),
            sha256: package.sha256.clone(),
            object_key: package.object_key.clone(),
            s3_version_id: package.s3_version_id.clone(),
        }
    }
}

/// Component name to the package a release holds for it.
pub type Snapshot = BTreeMap<String, PackageRef>;

/// A component whose version a release changes, compared with the previous release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentChange {
    /// Component name.
    pub component: String,
    /// Version in the previous release, if the component was in it.
    pub from: Option<Version>,
    /// Version in this release.
    pub to: Version,
}

/// Release notes from one package's CI metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseNote {
    /// Component name.
    pub component: String,
    /// Package version.
    pub version: Version,
    /// CI's metadata (commit, branch, build URL, notes).
    #[serde(flatten)]
    pub metadata: PackageMetadata,
}

/// The notes of `packages` a component moves through from `live` (excluded) to `next`
/// (included), oldest first: what an approver of that environment is really signing.
pub fn notes_between(packages: &[Package], live: Option<&Version>, next: &Version) -> Vec<ReleaseNote> {
    let mut between: Vec<&Package> = packages
        .iter()
        .filter(|p| live.is_none_or(|l| p.version > *l) && p.version <= *next)
        .collect();
    between.sort_by(|a, b| a.version.cmp(&b.version));
    between
        .into_iter()
        .map(|p| ReleaseNote {
            component: p.component.clone(),
            version: p.version.clone(),
            metadata: p.metadata.clone(),
        })
        .collect()
}

/// Where a release stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    /// Created; its workflow is starting.
    Created,
    /// Waiting for a person's approval.
    AwaitingApproval,
    /// Being deployed.
    Deploying,
    /// Live in every environment.
    Released,
    /// A release manager said no.
    Rejected,
    /// Nobody decided in time.
    Expired,
    /// A newer release replaced it.
    Superseded,
    /// A deployment failed and could not be rolled back cleanly.
    Failed,
    /// A deployment failed and the environment was put back.
    RolledBack,
    /// A pre-flight check failed before anyone was asked to sign off: nothing changed.
    Blocked,
    /// Its workflow was stopped outside Baton (by an operator, a timeout or a limit of Step
    /// Functions): nothing more happens to it.
    Stopped,
}

/// A release: the versions that travel together through the environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// `rel-<number>`.
    pub id: ReleaseId,
    /// Strictly increasing across releases.
    pub number: u64,
    /// One package per configured component.
    pub snapshot: Snapshot,
    /// SHA-256 over the snapshot's components, versions and package hashes.
    pub content_hash: String,
    /// What changed since the previous release.
    pub changes: Vec<ComponentChange>,
    /// Notes of the packages that changed.
    pub notes: Vec<ReleaseNote>,
    /// The previous release, if any.
    pub previous: Option<ReleaseId>,
    /// The upload whose event created it.
    pub triggered_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub status: ReleaseStatus,
}

/// The last release made: what the next one is numbered after and compared with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReleaseCursor {
    /// Number of the last release; 0 before the first.
    pub number: u64,
    /// Id of the last release.
    pub release: Option<ReleaseId>,
    /// Its snapshot.
    pub snapshot: Snapshot,
}

/// What a release is planned from, read together in one request: the highest registered version
/// of each component (its head) and the last release made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReleaseState {
    /// The highest registered version of each component, as stored.
    pub heads: Snapshot,
    /// The last release made.
    pub cursor: ReleaseCursor,
}

impl ReleaseState {
    /// Whether `upload` raises its component's head: the first of its component, or a higher
    /// version than the head read.
    pub fn raises_head(&self, upload: &PackageRef) -> bool {
        self.heads
            .get(&upload.component)
            .is_none_or(|head| head.version < upload.version)
    }

    /// The heads as they stand once `upload` counts: its component's head raised to it when it
    /// is the first of its component or a higher version. The flag says whether it raised the
    /// head, which the store must then write (in the release's own transaction, or alone).
    pub fn heads_with(&self, upload: &PackageRef) -> (Snapshot, bool) {
        let mut heads = self.heads.clone();
        let raises = self.raises_head(upload);
        if raises {
            heads.insert(upload.component.clone(), upload.clone());
        }
        (heads, raises)
    }
}

/// What the newest packages call for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleasePlan {
    /// Some configured component has no package yet.
    Waiting {
        /// The components still missing.
        missing: Vec<String>,
    },
    /// The newest packages are already the last release.
    UpToDate,
    /// A new release with this snapshot.
    New {
        /// Its number.
        number: u64,
        /// Its snapshot.
        snapshot: Snapshot,
        /// What changed.
        changes: Vec<ComponentChange>,
    },
}

/// Decides whether the component heads (the highest registered version of each component)
/// make a new release after `cursor`. Each component takes the higher of its head and the last
/// release's version, so a release never goes back in version, whatever order events came in.
pub fn plan_release(config: &BatonConfig, heads: &Snapshot, cursor: &ReleaseCursor) -> ReleasePlan {
    let mut snapshot = Snapshot::new();
    let mut missing = Vec::new();
    for component in &config.components {
        let head = heads.get(&component.name);
        let last = cursor.snapshot.get(&component.name);
        let newest = match (head, last) {
            (Some(h), Some(l)) => Some(if h.version >= l.version { h } else { l }),
            (h, l) => h.or(l),
        };
        match newest {
            Some(p) => {
                snapshot.insert(component.name.clone(), p.clone());
            }
            None => missing.push(component.name.clone()),
        }
    }
    if !missing.is_empty() {
        return ReleasePlan::Waiting { missing };
    }
    if content_hash(&snapshot) == content_hash(&cursor.snapshot) {
        return ReleasePlan::UpToDate;
    }
    let changes = snapshot
        .values()
        .filter(|p| {
            cursor
                .snapshot
                .get(&p.component)
                .is_none_or(|l| l.sha256 != p.sha256 || l.version != p.version)
        })
        .map(|p| ComponentChange {
            component: p.component.clone(),
            from: cursor.snapshot.get(&p.component).map(|l| l.version.clone()),
            to: p.version.clone(),
        })
        .collect();
    ReleasePlan::New {
        number: cursor.number + 1,
        snapshot,
        changes,
    }
}

/// SHA-256 over `component=version@sha256` lines in component order.
pub fn content_hash(snapshot: &Snapshot) -> String {
    let text: String = snapshot
        .values()
        .map(|p| format!("{}={}@{}\n", p.component, p.version, p.sha256))
        .collect();
    crate::sha256_hex(text.as_bytes())
}

impl Release {
    /// Builds the release a [`ReleasePlan::New`] describes. `changed` are the packages of the
    /// changed components, for their notes.
    pub fn assemble(
        number: u64,
        snapshot: Snapshot,
        changes: Vec<ComponentChange>,
        changed: &[Package],
        cursor: &ReleaseCursor,
        triggered_by: &str,
        now: DateTime<Utc>,
    ) -> Release {
        let notes = changes
            .iter()
            .filter_map(|c| changed.iter().find(|p| p.component == c.component && p.version == c.to))
            .map(|p| ReleaseNote {
                component: p.component.clone(),
                version: p.version.clone(),
                metadata: p.metadata.clone(),
            })
            .collect();
        Release {
            id: ReleaseId::from_number(number),
            number,
            content_hash: content_hash(&snapshot),
            snapshot,
            changes,
            notes,
            previous: cursor.release.clone(),
            triggered_by: triggered_by.to_string(),
            created_at: now,
            status: ReleaseStatus::Created,
        }
    }
}

#[cfg(test)]
mod tests;
