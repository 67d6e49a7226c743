//! The status page's reads (DESIGN §3.4), and the plain-language read model built from them.
//!
//! [`StatusReads`] is deliberately narrow: every method is one bounded read (a query with a
//! limit, one release's own records, or one batch of keys), so a page costs a fixed, small
//! number of requests whatever the history holds. The views in [`view`] are the stable JSON
//! shapes of the status API and what the HTML pages render; [`StatusView::build`] and
//! [`ReleaseDetail::build`] turn the reads into them without any I/O.

mod build;
mod detail;
mod figures;
mod package_verdict;
mod progress;
mod requests;
mod trends;
mod view;
mod words;

pub use build::overview_lookup;
pub use figures::{DeliveryFigures, DurationFigure, FIGURES_WINDOW_DAYS};
pub use package_verdict::{PackageRecord, PackageVerdictView, REFUSALS_PER_VERSION, RegisteredPackage};
pub use progress::{LastChanges, changed_in, environment_words, failure_words, live_in, standing_words};
pub use trends::{TREND_WEEKS, Trends, WeekTrend};
pub use view::*;
pub use words::{event_summary, in_flight, outcome};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::deployment::{ComponentDeployment, EnvironmentState};
use crate::error::BatonError;
use crate::package::{Package, RejectedPackage};
use crate::ports::ReleaseEvent;
use crate::release::{PackageRef, Release, ReleaseId, ReleaseNote};

/// How many recent releases the overview reads: its list and the window of its delivery
/// figures. With two environments and two components, their deployments and packages plus the
/// environments fit one batch read of 100 keys.
pub const OVERVIEW_RELEASES: usize = 16;
/// How many rejected uploads the overview shows.
pub const OVERVIEW_REJECTIONS: usize = 10;
/// How many pending sign-offs per environment are read (newest first). Normally one or two.
pub const PENDING_PER_ENVIRONMENT: usize = 25;
/// The most releases one page of the release list holds.
pub const MAX_PAGE_SIZE: usize = 100;

/// One page of releases, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReleasePage {
    /// The releases, highest number first.
    pub releases: Vec<Release>,
    /// Pass as `before` to read the next (older) page; `None` on the last page.
    pub next_before: Option<u64>,
    /// The releases' last changes, as their records keep them (absent: none recorded).
    pub changes: std::collections::BTreeMap<ReleaseId, LastChanges>,
}

/// Everything recorded under one release: the release, its timeline and its deployments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRecord {
    /// The release.
    pub release: Release,
    /// Its events, oldest first.
    pub events: Vec<ReleaseEvent>,
    /// Its deployments, one per environment and component.
    pub deployments: Vec<ComponentDeployment>,
    /// Per environment asked so far: the notes of every package between what was live there
    /// and what the release brings.
    pub environment_notes: Vec<(String, Vec<ReleaseNote>)>,
}

/// A request still open in an environment: a release's sign-off, a redeploy's confirmation or a
/// failure question. What the status page may show of a pending approval (never its task token
/// or link token hashes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignOff {
    /// The release.
    pub release_id: ReleaseId,
    /// Its number.
    pub number: u64,
    /// The environment.
    pub environment: String,
    /// Who may decide.
    pub approvers: Vec<String>,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// When it lapses (the approval's `valid_until`; `expires_at` in records written before).
    #[serde(rename = "valid_until", alias = "expires_at")]
    pub expires_at: DateTime<Utc>,
    /// Why the approvers could not be mailed, if they could not (the request is still open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_failure: Option<String>,
    /// A hold on it, if an approver put one (in force or ended by its time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<crate::approval::hold::Hold>,
    /// Set when the request is a redeploy's confirmation (asked of the one approver who asked
    /// for it), not a release's sign-off: its release is usually finished, and the request never
    /// puts it back in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeploy: Option<crate::redeploy::Redeploy>,
    /// Set when the request is a failure question: a deployment failed there and waits for an
    /// approver to choose retry, roll back or leave it (see
    /// [`crate::approval::guided_failure`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::approval::guided_failure::FailureQuestion>,
}

/// One component of one release in one environment: the key of a deployment record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeploymentKey {
    /// The release.
    pub release: ReleaseId,
    /// The environment.
    pub environment: String,
    /// The component.
    pub component: String,
}

/// Records to read by key, in as few batch reads as the keys need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lookup {
    /// Environments whose state and deployment lease to read.
    pub environments: Vec<String>,
    /// Deployment records.
    pub deployments: Vec<DeploymentKey>,
    /// Registered packages.
    pub packages: Vec<PackageRef>,
}

impl Lookup {
    /// How many keys the lookup reads (two per environment: its state and its lease).
    pub fn key_count(&self) -> usize {
        self.environments.len() * 2 + self.deployments.len() + self.packages.len()
    }
}

/// An environment now: what runs there and which release, if any, holds it to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentNow {
    /// Live and previous release.
    pub state: EnvironmentState,
    /// The release holding the environment's deployment lease, if the lease is current.
    pub deploying: Option<ReleaseId>,
}

/// What a [`Lookup`] found; records that do not exist are simply absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LookedUp {
    /// Every environment asked for, in the order asked (empty state if never deployed).
    pub environments: Vec<EnvironmentNow>,
    /// The deployment records found.
    pub deployments: Vec<ComponentDeployment>,
    /// The packages found.
    pub packages: Vec<Package>,
}

/// The reads behind the status page and API. Implementations must keep each call's cost
/// independent of how many releases exist: no scans, limits on every list.
#[async_trait]
pub trait StatusReads: Send + Sync {
    /// Up to `limit` releases, newest first, only those numbered below `before` if given.
    async fn releases(&self, limit: usize, before: Option<u64>) -> Result<ReleasePage, BatonError>;
    /// A release with its events and deployments, if it exists.
    async fn release_record(&self, id: &ReleaseId) -> Result<Option<ReleaseRecord>, BatonError>;
    /// Pending sign-offs in `environment`, newest release first, at most `limit`.
    async fn pending_sign_offs(&self, environment: &str, limit: usize) -> Result<Vec<PendingSignOff>, BatonError>;
    /// The most recent refused uploads, newest first, at most `limit`.
    async fn rejected_packages(&self, limit: usize) -> Result<Vec<RejectedPackage>, BatonError>;
    /// Reads records by key (batched).
    async fn look_up(&self, lookup: &Lookup) -> Result<LookedUp, BatonError>;
    /// What Baton made of the uploads of one component version: the registered package, if
    /// any, and up to [`REFUSALS_PER_VERSION`] refused uploads of it, newest first. One read.
    async fn package_record(&self, component: &str, version: &str) -> Result<PackageRecord, BatonError>;
    /// The notes each of `releases` brings to each of `environments` (packages since what was
    /// live there), for those asked so far. One batch read: keys are release × environment.
    async fn environment_notes(
        &self,
        releases: &[ReleaseId],
        environments: &[String],
    ) -> Result<Vec<(ReleaseId, String, Vec<ReleaseNote>)>, BatonError>;
    /// The newest `limit` tries of webhook `hook`, newest first (one Query); none by default.
    async fn webhook_attempts(
        &self,
        _hook: &str,
        _limit: usize,
    ) -> Result<Vec<crate::ports::WebhookAttempt>, BatonError> {
        Ok(Vec::new())
    }
    /// The differences open in every environment (changed outside Baton), oldest first: one
    /// Query of the open drift partition; none by default.
    async fn open_drift_everywhere(&self) -> Result<Vec<crate::drift::DriftRecord>, BatonError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests;
