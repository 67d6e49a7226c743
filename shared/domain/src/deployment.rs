//! Deployments: what runs where. A release's deployment of one component to one
//! environment, and each environment's live state (with the previous one, the rollback target).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ComponentKind;
use crate::release::{PackageRef, ReleaseId};

/// Where a deployment of one component stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployStatus {
    /// Started, not finished.
    InProgress,
    /// Live and verified.
    Succeeded,
    /// Failed; the detail says why.
    Failed,
    /// Put back to the environment's previous version.
    RolledBack,
}

/// What the platform calls the thing that was deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "platform", rename_all = "kebab-case")]
pub enum PlatformDetail {
    /// A Cloudflare Pages deployment.
    Pages {
        /// Deployment id.
        deployment_id: String,
        /// Its immutable URL.
        url: String,
        /// Latest stage, e.g. `deploy: success`.
        stage: String,
        /// `production` or `preview`.
        environment: String,
    },
    /// CloudHub 2.0 applications.
    CloudHub {
        /// Application name to what happened to it (`created 1.4.2`, `unchanged`, ...).
        applications: BTreeMap<String, String>,
        /// Application name to the fingerprint of the secret versions behind its secure
        /// properties: their values cannot be read back from CloudHub, so a rotated secret is
        /// noticed against this record.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        secure_fingerprints: BTreeMap<String, String>,
    },
}

/// One component of one release deployed to one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentDeployment {
    /// The release.
    pub release_id: ReleaseId,
    /// The environment.
    pub environment: String,
    /// The component.
    pub component: String,
    /// Its kind.
    pub kind: ComponentKind,
    /// The package deployed.
    pub package: PackageRef,
    /// Where it stands.
    pub status: DeployStatus,
    /// What the platform made of it.
    pub detail: Option<PlatformDetail>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The lease fence of the deployment that wrote this record: each deployment of a release
    /// to an environment (its own, then any redeploy) holds the lease under a new fence, so a
    /// record under another fence is an earlier deployment's, not this one's to resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<u64>,
    /// The execution that wrote it (a release's own, or a redeploy's): with the release, who
    /// must hold the environment's lease for the write (see [`Self::lease_holder`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<String>,
    /// Tries of this deployment after a failure (a guided failure's Retry, under the same
    /// lease): each is a new platform deployment with its own marker.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ComponentDeployment {
    /// Who must hold the environment's lease to write this record.
    pub fn lease_holder(&self) -> ReleaseId {
        crate::redeploy::lease_holder(&self.release_id, self.execution.as_deref())
    }
}

/// One component as it runs in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveComponent {
    /// The package.
    pub package: PackageRef,
    /// The platform's record of it.
    pub detail: Option<PlatformDetail>,
}

/// A release as it runs in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRelease {
    /// The release.
    pub release_id: ReleaseId,
    /// Its number.
    pub number: u64,
    /// Each component.
    pub components: BTreeMap<String, LiveComponent>,
    /// Since when.
    pub since: DateTime<Utc>,
    /// Who approved it for this environment.
    pub approved_by: Option<String>,
    /// The lease fence of the deployment that made it live: tells a retried `record` of a
    /// redeploy from the same release having been live before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<u64>,
    /// The execution that made it live (a release's own, or a redeploy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<String>,
}

impl LiveRelease {
    /// Who must hold the environment's lease to record it.
    pub fn lease_holder(&self) -> ReleaseId {
        crate::redeploy::lease_holder(&self.release_id, self.execution.as_deref())
    }

    /// Whether a redeploy made it live: only a redeploy records a release over a newer one.
    pub fn redeployed(&self) -> bool {
        crate::redeploy::is_redeploy_execution(self.execution.as_deref())
    }
}

/// What runs in one environment, and what ran before (the rollback target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    /// Environment name.
    pub environment: String,
    /// The live release.
    pub current: Option<LiveRelease>,
    /// The release live before it.
    pub previous: Option<LiveRelease>,
}

impl EnvironmentState {
    /// The live package of `component`, if any.
    pub fn live(&self, component: &str) -> Option<&LiveComponent> {
        self.current.as_ref().and_then(|c| c.components.get(component))
    }

    /// The state after `next` goes live: the current release becomes the previous one (the
    /// rollback target), unless `next` is the same release deployed again, which keeps the
    /// rollback target it had.
    pub fn advanced(&self, next: LiveRelease) -> EnvironmentState {
        let again = self.current.as_ref().is_some_and(|c| c.release_id == next.release_id);
        EnvironmentState {
            environment: self.environment.clone(),
            previous: if again {
                self.previous.clone()
            } else {
                self.current.clone()
            },
            current: Some(next),
        }
    }
}

/// A marker Baton writes into a platform's deployment (e.g. Pages' commit message) so that a
/// retried deployment finds the one it already made instead of making a second.
/// Each deployment of a release (under its own lease fence) has its own marker, so a redeploy
/// is a new platform deployment, not the one an earlier deployment made.
pub fn deployment_marker(release: &ReleaseId, environment: &str, component: &str, fence: Option<u64>) -> String {
    match fence {
        Some(fence) => format!("baton:{release}:{environment}:{component}:{fence}"),
        None => format!("baton:{release}:{environment}:{component}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::Version;

    fn live(id: u64) -> LiveRelease {
        LiveRelease {
            release_id: ReleaseId::from_number(id),
            number: id,
            components: BTreeMap::from([(
                "web".to_string(),
                LiveComponent {
                    package: PackageRef {
                        component: "web".into(),
                        version: Version::parse(&format!("1.0.{id}")).unwrap(),
                        sha256: "s".into(),
                        object_key: "k".into(),
                        s3_version_id: None,
                    },
                    detail: None,
                },
            )]),
            since: Utc::now(),
            approved_by: Some("rm@example.com".into()),
            fence: None,
            execution: None,
        }
    }

    #[test]
    fn advancing_keeps_the_previous_release_as_the_rollback_target() {
        let empty = EnvironmentState {
            environment: "TEST".into(),
            current: None,
            previous: None,
        };
        let one = empty.advanced(live(1));
        assert_eq!(one.previous, None);
        let two = one.advanced(live(2));
        assert_eq!(two.previous.as_ref().map(|p| p.number), Some(1));
        // Release 2 deployed again keeps release 1 as the rollback target; release 1 deployed
        // over it (a rollback) makes 2 the target.
        let again = two.advanced(live(2));
        assert_eq!(again.previous.as_ref().map(|p| p.number), Some(1));
        let back = two.advanced(live(1));
        assert_eq!(back.previous.as_ref().map(|p| p.number), Some(2));
        assert_eq!(
            two.live("web").map(|c| c.package.version.to_string()),
            Some("1.0.2".into())
        );
    }

    #[test]
    fn the_marker_names_release_environment_and_component() {
        assert_eq!(
            deployment_marker(&ReleaseId::from_number(3), "TEST", "web", None),
            "baton:rel-3:TEST:web"
        );
        assert_eq!(
            deployment_marker(&ReleaseId::from_number(3), "TEST", "web", Some(12)),
            "baton:rel-3:TEST:web:12"
        );
    }
}
