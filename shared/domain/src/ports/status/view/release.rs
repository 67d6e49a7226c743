//! The shapes of `GET /api/releases/{id}`: one release in full, with its progress through the
//! environments, deployments and timeline (re-exported by [`super`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ApplicationView, ReleaseSummary, WaitingOn};
use crate::config::ComponentKind;
use crate::deployment::DeployStatus;
use crate::release::ReleaseId;

/// `GET /api/releases/{id}`: one release in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseDetail {
    /// Id, number, status, versions and changes.
    #[serde(flatten)]
    pub summary: ReleaseSummary,
    /// Where it stands, in a sentence.
    pub headline: String,
    /// What it waits on, while in flight.
    pub waiting_on: Option<WaitingOn>,
    /// SHA-256 over its components, versions and package hashes.
    pub content_hash: String,
    /// The release before it.
    pub previous: Option<ReleaseId>,
    /// The upload that made it.
    pub triggered_by: String,
    /// Its packages, in configuration order.
    pub packages: Vec<PackageView>,
    /// Notes of the packages that changed.
    pub notes: Vec<NoteView>,
    /// Per environment asked so far, in lifecycle order: the notes of every package between
    /// what was live there and what this release brings.
    pub environment_notes: Vec<EnvironmentNotesView>,
    /// Its progress through each environment, in lifecycle order.
    pub environments: Vec<ProgressView>,
    /// Its deployments.
    pub deployments: Vec<DeploymentView>,
    /// Its timeline, oldest first.
    pub events: Vec<EventView>,
}

/// What a release brings to one environment, package by package since what was live there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentNotesView {
    /// The environment.
    pub environment: String,
    /// Oldest first per component.
    pub notes: Vec<NoteView>,
}

/// A package of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageView {
    /// Component name.
    pub component: String,
    /// What people read for it: its configured `display_name`, or the name.
    pub display_name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the package bytes.
    pub sha256: String,
    /// S3 key.
    pub object_key: String,
}

/// One package's notes from CI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteView {
    /// Component name.
    pub component: String,
    /// Version.
    pub version: String,
    /// Release notes.
    pub notes: Option<String>,
    /// Commit.
    pub commit: Option<String>,
    /// Branch.
    pub branch: Option<String>,
    /// CI build link.
    pub build_url: Option<String>,
}

/// Where a release stands in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Progress {
    /// Nothing has happened there yet.
    NotYet,
    /// Sign-off asked.
    WaitingForSignOff,
    /// Signed off; waiting for the environment to be free.
    Approved,
    /// Deploying.
    Deploying,
    /// Live.
    Live,
    /// A person said no.
    Rejected,
    /// Nobody decided in time.
    Expired,
    /// A newer release took its place.
    Superseded,
    /// The deployment failed.
    Failed,
    /// The deployment failed and was put back.
    RolledBack,
}

/// A release's progress in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgressView {
    /// Environment name.
    pub environment: String,
    /// What people read for it: its configured `display_name`, or the name.
    pub display_name: String,
    /// Where it stands.
    pub progress: Progress,
    /// Since when (the event that put it there).
    pub since: Option<DateTime<Utc>>,
    /// In words, e.g. `Live in TEST`.
    pub summary: String,
}

/// One component of a release deployed to one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentView {
    /// Environment name.
    pub environment: String,
    /// Component name.
    pub component: String,
    /// Component kind.
    pub kind: ComponentKind,
    /// Version deployed.
    pub version: String,
    /// Where it stands.
    pub status: DeployStatus,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Why it failed.
    pub error: Option<String>,
    /// The Cloudflare Pages deployment's URL (web components).
    pub pages_url: Option<String>,
    /// CloudHub applications and what happened to each (state components).
    pub cloudhub_applications: Vec<ApplicationView>,
}

/// One line of a release's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventView {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened (`created`, `approval-requested`, `approved`, `deploying`, `live`, ...).
    pub kind: String,
    /// Who: an approver's email, or `baton`.
    pub actor: String,
    /// The environment, where it applies.
    pub environment: Option<String>,
    /// In words.
    pub summary: String,
    /// The approver's comment, for decisions.
    pub comment: Option<String>,
}
