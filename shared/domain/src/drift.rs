//! Drift: an environment changed outside Baton. Baton compares what a platform runs now with
//! what it recorded when it last deployed there (the live release's manifest, resolved for the
//! environment, and the Pages deployment it made) and words each difference for people:
//! `PROD: patient-api runs 3 replicas; Baton deployed 2; changed outside Baton`.
//!
//! The comparison is pure; reading the platforms is an adapter's job ([`PagesLive`], and
//! [`crate::platforms::CloudHub::applications`]); [`DriftStore`] keeps each difference once, so
//! a difference that persists across checks is reported (mailed) once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::BatonError;
use crate::platforms::PagesTarget;
use crate::release::ReleaseId;

mod compare;
#[cfg(test)]
mod tests;

pub use compare::{cloudhub, pages, runtime_version};

/// The words every difference ends with.
pub const OUTSIDE: &str = "changed outside Baton";

/// One difference between what runs and what Baton deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The environment.
    pub environment: String,
    /// The component (from `baton.yaml`).
    pub component: String,
    /// What differs within it: a CloudHub application's name, or the component's own name.
    pub subject: String,
    /// Which setting: `version`, `replicas`, `vCores`, `runtime`, `property <name>`,
    /// `secure property <name>`, `deployment`, `presence`.
    pub field: String,
    /// What runs now, in words (a secure property: `present` or `absent`, never a value).
    pub live: String,
    /// What Baton deployed, in words.
    pub recorded: String,
    /// The sentence people read, without the environment (see [`Difference::words`]).
    pub sentence: String,
}

impl Difference {
    /// The sentence with its environment: `PROD: patient-api runs 3 replicas; Baton deployed 2;
    /// changed outside Baton`.
    pub fn words(&self) -> String {
        format!("{}: {}; {OUTSIDE}", self.environment, self.sentence)
    }

    /// Its identity: the same setting with the same live and recorded values is the same
    /// difference in every check; another live value is a new one (and mailed again).
    pub fn key(&self) -> String {
        let values = crate::sha256_hex(format!("{}\n{}", self.live, self.recorded).as_bytes());
        format!("{}#{}#{}#{}", self.component, self.subject, self.field, &values[..16])
    }
}

/// A difference as Baton keeps it: open while it lasts, resolved when it is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRecord {
    /// The environment.
    pub environment: String,
    /// [`Difference::key`].
    pub key: String,
    /// The component it belongs to.
    pub component: String,
    /// [`Difference::words`].
    pub words: String,
    /// The release live in the environment when it was noticed.
    pub release_id: ReleaseId,
    /// First noticed.
    pub since: DateTime<Utc>,
    /// When it was gone (Baton deployed again, or someone put it back); `None` while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Why the release manager could not be told, if their mail failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_failure: Option<String>,
}

impl DriftRecord {
    /// A new open record of `difference`, noticed `now` while `release` is live.
    pub fn open(difference: &Difference, release: &ReleaseId, now: DateTime<Utc>) -> DriftRecord {
        DriftRecord {
            environment: difference.environment.clone(),
            key: difference.key(),
            component: difference.component.clone(),
            words: difference.words(),
            release_id: release.clone(),
            since: now,
            resolved_at: None,
            mail_failure: None,
        }
    }

    /// The line a plan shows: `outside Baton since <when>: <words>`.
    pub fn plan_line(&self, when: &str) -> String {
        format!("outside Baton since {when}: {}", self.words)
    }
}

/// What one check means for the records: which differences are new, which open records are
/// gone. `checked` are the components whose platforms could be read: an open record of a
/// component that could not be read is neither confirmed nor resolved.
pub fn settle<'a>(
    found: &'a [Difference],
    open: &'a [DriftRecord],
    checked: &[String],
) -> (Vec<&'a Difference>, Vec<&'a DriftRecord>) {
    let new = found
        .iter()
        .filter(|d| !open.iter().any(|o| o.key == d.key()))
        .collect();
    let gone = open
        .iter()
        .filter(|o| checked.contains(&o.component) && !found.iter().any(|d| d.key() == o.key))
        .collect();
    (new, gone)
}

/// The Pages deployment a branch serves now, as the platform says.
#[async_trait]
pub trait PagesLive: Send + Sync {
    /// The id of the deployment `target.branch` serves: the project's production deployment
    /// for its production branch, the branch's newest successful deployment for any other;
    /// `None` when it serves none.
    async fn serving(&self, target: &PagesTarget) -> Result<Option<String>, BatonError>;
}

/// Drift records: one item per difference and environment.
#[async_trait]
pub trait DriftStore: Send + Sync {
    /// The open differences in `environment`, oldest first.
    async fn open_drift(&self, environment: &str) -> Result<Vec<DriftRecord>, BatonError>;
    /// The open differences of every environment, oldest first (one read, for the status pages).
    async fn all_open_drift(&self) -> Result<Vec<DriftRecord>, BatonError>;
    /// Keeps `record` unless a record of the same difference is open already: `true` if this
    /// call opened it (so its caller tells people), `false` if it was open (a repeated or
    /// concurrent check).
    async fn note_drift(&self, record: &DriftRecord) -> Result<bool, BatonError>;
    /// Marks an open record resolved at `at` (kept as history): `false` if it was not open
    /// (resolved already, by a concurrent check).
    async fn resolve_drift(&self, environment: &str, key: &str, at: DateTime<Utc>) -> Result<bool, BatonError>;
    /// Notes that the release manager could not be told of an open record.
    async fn note_drift_unmailed(&self, environment: &str, key: &str, reason: &str) -> Result<(), BatonError>;
}
