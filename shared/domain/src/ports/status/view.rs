//! The status API's JSON shapes, which the HTML pages render too. They are a contract: fields
//! are added, never renamed or removed. Times are ISO 8601 (RFC 3339) in UTC, durations are
//! whole seconds, enums are kebab-case strings. Nothing secret appears here: no task tokens,
//! token hashes, or approvers' IP addresses.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::figures::DeliveryFigures;
use crate::deployment::{LiveComponent, PlatformDetail};
use crate::package::RejectCode;
use crate::release::{ReleaseId, ReleaseStatus};

mod release;

pub use release::*;

/// `GET /api/status`: the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusView {
    /// When this answer was made.
    pub generated_at: DateTime<Utc>,
    /// One entry per configured environment, in lifecycle order.
    pub environments: Vec<EnvironmentView>,
    /// Releases on their way, newest first, each with what it waits on.
    pub in_flight: Vec<InFlightView>,
    /// The most recent releases, newest first.
    pub recent_releases: Vec<ReleaseSummary>,
    /// The most recent refused uploads, newest first.
    pub rejected_packages: Vec<RejectedView>,
    /// Delivery figures over a recent window.
    pub delivery: DeliveryFigures,
    /// The same, week by week, for the small charts.
    pub trends: super::trends::Trends,
    /// How the parts of the product call each other (`stack.depends_on` in `baton.yaml`): a
    /// component or CloudHub application to the names it calls.
    pub depends_on: BTreeMap<String, Vec<String>>,
}

/// What runs in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentView {
    /// Environment name, e.g. `TEST`.
    pub name: String,
    /// What people read for it: its configured `display_name`, or the name.
    pub display_name: String,
    /// The live release, if any.
    pub live: Option<LiveView>,
    /// The release live before it (the rollback target), if any.
    pub previous: Option<PreviousView>,
    /// The release deploying to this environment right now, if any.
    pub deploying: Option<ReleaseId>,
    /// Requests open here that no release in flight stands for, newest first: redeploy
    /// confirmations, and questions about a redeploy that failed. (A release's own sign-off or
    /// failure question is what it waits on, under `in_flight`.)
    pub pending: Vec<PendingView>,
    /// Differences open here: what was changed outside Baton, since when (oldest first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftView>,
}

/// A difference between what runs in an environment and what Baton deployed there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftView {
    /// In words: `PROD: patient-api runs 3 replicas; Baton deployed 2; changed outside Baton`.
    pub words: String,
    /// First noticed.
    pub since: DateTime<Utc>,
}

/// What a request open in an environment is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PendingKind {
    /// The confirmation of a redeploy, asked of the approver who asked for it.
    Redeploy,
    /// What to do about a failed deployment: retry, roll back or leave it.
    Decision,
}

/// A request open in an environment, beside the releases in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingView {
    /// What it is about.
    pub kind: PendingKind,
    /// The release it deploys.
    pub release: ReleaseId,
    /// Its number.
    pub number: u64,
    /// Who is asked (a redeploy's confirmation: the one approver who asked for it).
    pub asked_of: Vec<String>,
    /// Asked since.
    pub since: DateTime<Utc>,
    /// The request lapses then (a redeploy does not happen; a failed deployment rolls back).
    pub expires_at: DateTime<Utc>,
    /// A redeploy's reason in its requester's words, or what failed.
    pub reason: String,
    /// In a sentence without times, e.g. `Roll PROD back to release 5 — waits for
    /// rm@example.com to confirm`.
    pub summary: String,
}

/// A release as it runs in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveView {
    /// Release id, `rel-<number>`.
    pub release: ReleaseId,
    /// Release number.
    pub number: u64,
    /// Live since.
    pub since: DateTime<Utc>,
    /// Who signed it off for this environment.
    pub approved_by: Option<String>,
    /// Each component, in configuration order.
    pub components: Vec<ComponentView>,
}

/// The release that ran before the live one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviousView {
    /// Release id.
    pub release: ReleaseId,
    /// Release number.
    pub number: u64,
    /// When it had gone live.
    pub since: DateTime<Utc>,
}

/// One component of a live release or a deployment, with where to find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentView {
    /// Component name.
    pub component: String,
    /// What people read for it: its configured `display_name`, or the name.
    pub display_name: String,
    /// Version.
    pub version: String,
    /// The Cloudflare Pages deployment's URL (web components).
    pub pages_url: Option<String>,
    /// CloudHub applications and what the deployment did to each (state components).
    pub cloudhub_applications: Vec<ApplicationView>,
}

/// A CloudHub application touched by a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicationView {
    /// Application name, e.g. `patient-api`.
    pub name: String,
    /// What happened to it, e.g. `created 1.4.2` or `unchanged`.
    pub change: String,
}

/// A release on its way, and what it waits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InFlightView {
    /// Release id.
    pub release: ReleaseId,
    /// Release number.
    pub number: u64,
    /// Its status.
    pub status: ReleaseStatus,
    /// What it waits on.
    pub waiting_on: WaitingOn,
    /// The same in a sentence, e.g. `Waiting for sign-off for PROD by rm@example.com`.
    pub summary: String,
}

/// What a release in flight waits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WaitingOn {
    /// A person's sign-off.
    SignOff {
        /// The environment.
        environment: String,
        /// Who may sign off.
        approvers: Vec<String>,
        /// Asked since.
        since: DateTime<Utc>,
        /// The request lapses then.
        expires_at: Option<DateTime<Utc>>,
        /// Why Baton could not mail the approvers, if it could not: nobody may know they are
        /// asked.
        #[serde(skip_serializing_if = "Option::is_none")]
        unreachable: Option<String>,
        /// The hold in force on the request, if an approver put one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_hold: Option<crate::approval::hold::Hold>,
    },
    /// Its deployment, under way.
    Deploying {
        /// The environment.
        environment: String,
    },
    /// Another release deploying to the environment it needs.
    EnvironmentBusy {
        /// The environment.
        environment: String,
        /// The release deploying there, if known.
        held_by: Option<ReleaseId>,
    },
    /// Signed off to deploy at a time its approvers chose, not come yet.
    Scheduled {
        /// The environment.
        environment: String,
        /// When the deployment starts.
        at: DateTime<Utc>,
    },
    /// Waiting for a freeze of the environment it goes to next to end.
    Freeze {
        /// The environment.
        environment: String,
        /// Whether it is known to be signed off there already.
        signed_off: bool,
        /// The freeze's reason, e.g. `weekend`.
        reason: String,
        /// When deployments may run there again.
        until: DateTime<Utc>,
    },
    /// An approver's answer to a failed deployment: retry, roll back or leave it as it is (the
    /// environment stays as the failure left it meanwhile).
    Decision {
        /// The environment.
        environment: String,
        /// Who may answer.
        approvers: Vec<String>,
        /// What failed, in words.
        reason: String,
        /// The question lapses then, and the deployment is rolled back (not known on a
        /// release's own page, which is built from its timeline).
        expires_at: Option<DateTime<Utc>>,
    },
    /// Its workflow, starting.
    Starting,
    /// Its settle window (`release.settle_seconds`): it waits for the rest of a burst of
    /// pushes before anyone is asked; a newer release within it replaces it.
    Collecting {
        /// When the window ends.
        until: DateTime<Utc>,
    },
    /// Baton's next step (a moment between two steps).
    NextStep {
        /// The environment it moves on to, if known.
        environment: Option<String>,
    },
}

/// A release in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseSummary {
    /// Release id, `rel-<number>`.
    pub id: ReleaseId,
    /// Release number.
    pub number: u64,
    /// Its status.
    pub status: ReleaseStatus,
    /// Its outcome or current step in words.
    pub outcome: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed (a sign-off, a deployment, an outcome...): its creation if nothing
    /// happened to it since.
    pub changed_at: DateTime<Utc>,
    /// The environments where it is live now, in lifecycle order. Absent where the
    /// environments are not read (`/api/releases`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_in: Option<Vec<String>>,
    /// Component to version.
    pub versions: BTreeMap<String, String>,
    /// What changed since the previous release.
    pub changes: Vec<ChangeView>,
    /// Path of its page, e.g. `/releases/rel-4`.
    pub url: String,
}

/// One component's version change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeView {
    /// Component name.
    pub component: String,
    /// Version in the previous release, if it had the component.
    pub from: Option<String>,
    /// Version in this release.
    pub to: String,
}

/// A refused upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedView {
    /// S3 key as uploaded.
    pub object_key: String,
    /// Component, if the key named a configured one.
    pub component: Option<String>,
    /// Version text from the key, if any.
    pub version: Option<String>,
    /// Which rule refused it.
    pub code: RejectCode,
    /// Why, and what to do.
    pub reason: String,
    /// When.
    pub rejected_at: DateTime<Utc>,
    /// CI's commit, if the object could be read.
    pub commit: Option<String>,
}

/// `GET /api/releases`: one page of releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseListView {
    /// Newest first.
    pub releases: Vec<ReleaseSummary>,
    /// `before` for the next (older) page, if there is one.
    pub next_before: Option<u64>,
}

/// The Pages URL and CloudHub applications a platform record names.
pub(crate) fn platform_links(detail: Option<&PlatformDetail>) -> (Option<String>, Vec<ApplicationView>) {
    match detail {
        Some(PlatformDetail::Pages { url, .. }) => (Some(url.clone()), Vec::new()),
        Some(PlatformDetail::CloudHub { applications, .. }) => (
            None,
            applications
                .iter()
                .map(|(name, change)| ApplicationView {
                    name: name.clone(),
                    change: change.clone(),
                })
                .collect(),
        ),
        None => (None, Vec::new()),
    }
}

impl ComponentView {
    /// The view of a live component.
    pub(crate) fn of(name: &str, display_name: &str, live: &LiveComponent) -> ComponentView {
        let (pages_url, cloudhub_applications) = platform_links(live.detail.as_ref());
        ComponentView {
            component: name.to_string(),
            display_name: display_name.to_string(),
            version: live.package.version.to_string(),
            pages_url,
            cloudhub_applications,
        }
    }
}
