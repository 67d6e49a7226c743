//! The ports: what handlers need from the outside world. Adapters implement them (DynamoDB,
//! S3, Step Functions); handlers depend only on these traits.

mod access;
mod announce;
mod lifecycle;
mod mail_quota;
pub mod search;
pub mod status;
mod subscriptions;

pub use access::AccessStore;
pub use announce::*;
pub use lifecycle::*;
pub use mail_quota::MailQuotaStore;
pub use subscriptions::SubscriptionStore;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::BatonConfig;
use crate::deployment::{ComponentDeployment, EnvironmentState};
use crate::error::BatonError;
use crate::package::{Package, RejectedPackage};
use crate::release::{PackageRef, Release, ReleaseCursor, ReleaseId, ReleaseNote, ReleaseState};
use crate::search::IndexEntry;
use crate::version::Version;

/// Where the configuration comes from.
#[async_trait]
pub trait ConfigSource: Send + Sync {
    /// The current, validated configuration. Implementations cache it.
    async fn config(&self) -> Result<Arc<BatonConfig>, BatonError>;
}

/// An uploaded object, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// S3 key.
    pub key: String,
    /// ETag: identifies this upload of the key.
    pub etag: String,
    /// The S3 version read (the bucket is versioned), when S3 names one.
    pub version_id: Option<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// User metadata (`x-amz-meta-*`), keys without the prefix.
    pub user_metadata: BTreeMap<String, String>,
}

/// The result of reading an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The object, within the size allowed.
    Object(StoredObject),
    /// No such object (deleted since the event was sent).
    Missing,
    /// The object is larger than allowed; it was not downloaded.
    TooLarge {
        /// Its size.
        size: u64,
        /// Its ETag.
        etag: String,
    },
}

/// What changed between versions, for people: every package between what is live in an
/// environment and what a release brings there.
#[async_trait]
pub trait ChangeHistory: Send + Sync {
    /// Registered packages of `component` with `after < version <= upto` (every one up to
    /// `upto` without `after`): the newest `limit` of them.
    async fn packages_between(
        &self,
        component: &str,
        after: Option<&Version>,
        upto: &Version,
        limit: usize,
    ) -> Result<Vec<Package>, BatonError>;
    /// Keeps, on the release, the notes of what it changes in `environment` (its page shows them).
    async fn save_environment_notes(
        &self,
        release: &ReleaseId,
        environment: &str,
        notes: &[ReleaseNote],
    ) -> Result<(), BatonError>;
}

/// The artefact bucket.
#[async_trait]
pub trait Artefacts: Send + Sync {
    /// The bucket read: events that name another bucket are not Baton's uploads.
    fn bucket(&self) -> &str;
    /// Reads `key` if it is at most `max_bytes` long: exactly `version` when given (a pinned
    /// package, an event that names its version), else the newest.
    async fn fetch(&self, key: &str, version: Option<&str>, max_bytes: u64) -> Result<Fetched, BatonError>;
}

/// What Baton has decided about a registered package, besides the package itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum PackageOutcome {
    /// Waiting for the first package of other components.
    Waiting {
        /// Those components.
        missing: Vec<String>,
    },
    /// A release with a higher version of this component already exists.
    Superseded {
        /// The latest release when this was decided.
        release: Option<ReleaseId>,
    },
}

/// The result of registering a package.
#[derive(Debug, Clone, PartialEq)]
pub enum Registration {
    /// Newly registered.
    New,
    /// The same version with the same bytes was already registered: a repeated event or upload.
    Duplicate {
        /// The first release that holds it, if any.
        release: Option<ReleaseId>,
    },
    /// The same version was registered with other bytes.
    Conflict {
        /// The package as first registered; it stays.
        existing: Box<Package>,
    },
}

/// The result of trying to create a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Creation {
    /// Created.
    Created,
    /// Another release was created since the cursor was read: plan again.
    CursorMoved,
    /// The triggering package is already in a release (a retry, or a concurrent upload's
    /// release picked it up).
    AlreadyReleased(ReleaseId),
}

/// The result of starting a release's workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// A new execution.
    Started,
    /// An execution with the release's name already exists.
    AlreadyStarted,
}

/// Baton's records: packages, releases, rejections.
#[async_trait]
pub trait ReleaseStore: Send + Sync {
    /// Registers a package once, by component and version, with its search index entries (at
    /// most [`crate::search::MAX_TERMS_PER_PACKAGE`]) in the same atomic write: a registered
    /// package is always findable, and a repeated event has nothing left to index.
    async fn register_package(&self, package: &Package, search: &[IndexEntry]) -> Result<Registration, BatonError>;
    /// Raises the component's head to this package if its version is higher.
    async fn advance_head(&self, package: &PackageRef) -> Result<(), BatonError>;
    /// The component heads and the last release made, read together (one request).
    async fn release_state(&self) -> Result<ReleaseState, BatonError>;
    /// The last release made, alone (one read).
    async fn release_cursor(&self) -> Result<ReleaseCursor, BatonError>;
    /// The registered packages behind these references.
    async fn packages(&self, refs: &[PackageRef]) -> Result<Vec<Package>, BatonError>;
    /// Creates `release` atomically: only if the cursor and every head of the release's
    /// snapshot are still as in `read`, and only if `trigger` is in no release yet. The
    /// trigger's head is raised to it in the same write when `read` had it lower. Every changed
    /// package is marked with the release.
    async fn create_release(
        &self,
        release: &Release,
        read: &ReleaseState,
        trigger: &PackageRef,
    ) -> Result<Creation, BatonError>;
    /// Notes why a package made no release.
    async fn note_outcome(&self, package: &PackageRef, outcome: &PackageOutcome) -> Result<(), BatonError>;
    /// A release by id.
    async fn release(&self, id: &ReleaseId) -> Result<Option<Release>, BatonError>;
    /// Records a refused upload, once per uploaded object.
    async fn record_rejection(&self, rejected: &RejectedPackage) -> Result<(), BatonError>;
}

/// Deployment records and each environment's live state.
#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// The record of one component of a release in one environment.
    async fn deployment(
        &self,
        release: &ReleaseId,
        environment: &str,
        component: &str,
    ) -> Result<Option<ComponentDeployment>, BatonError>;
    /// Writes (creates or replaces) a deployment record.
    async fn put_deployment(&self, deployment: &ComponentDeployment) -> Result<(), BatonError>;
    /// What runs in `environment`.
    async fn environment_state(&self, environment: &str) -> Result<EnvironmentState, BatonError>;
    /// Replaces the environment's state if its current release is still `expected_current`
    /// (optimistic concurrency); `false` if it moved.
    async fn record_environment(
        &self,
        state: &EnvironmentState,
        expected_current: Option<&ReleaseId>,
    ) -> Result<bool, BatonError>;
}

/// Secrets (AWS Secrets Manager), by name.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// The secret string of `name`.
    async fn secret(&self, name: &str) -> Result<String, BatonError>;
    /// The version of `name` that [`Secrets::secret`] reads, when the store has versions: what
    /// a deployment records of a secure property, since the value itself is never kept.
    async fn version(&self, _name: &str) -> Result<Option<String>, BatonError> {
        Ok(None)
    }
    /// The secret string of `name` as the store holds it now, past any cache: for a key whose
    /// rotation must take effect at once (the session key).
    async fn secret_now(&self, name: &str) -> Result<String, BatonError> {
        self.secret(name).await
    }
}

/// The release workflow (the Step Functions state machine).
#[async_trait]
pub trait Workflow: Send + Sync {
    /// Starts the release's workflow, named by its id; idempotent.
    async fn start(&self, release: &Release) -> Result<Started, BatonError>;
    /// Starts a redeploy of `release` (an execution named `redeploy.execution`); idempotent.
    async fn start_redeploy(
        &self,
        release: &Release,
        redeploy: &crate::redeploy::Redeploy,
    ) -> Result<Started, BatonError>;
}

#[async_trait]
impl<T: ConfigSource + ?Sized> ConfigSource for Arc<T> {
    async fn config(&self) -> Result<Arc<BatonConfig>, BatonError> {
        (**self).config().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store of one secret, without versions.
    struct Unversioned;

    #[async_trait]
    impl Secrets for Unversioned {
        async fn secret(&self, _: &str) -> Result<String, BatonError> {
            Ok("value".into())
        }
    }

    #[tokio::test]
    async fn a_secret_store_without_versions_gives_none() {
        assert_eq!(Unversioned.version("baton/x").await, Ok(None));
        assert_eq!(Unversioned.secret("baton/x").await, Ok("value".to_string()));
    }
}
