//! Ports for the deployment platforms: Cloudflare Pages and CloudHub 2.0. Adapters wrap the
//! HTTP clients; handlers see only these.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::error::BatonError;
use crate::manifest::ResolvedApplication;
use crate::reconcile::LiveApplication;

/// One Pages project and branch, with the credentials to reach it.
#[derive(Clone)]
pub struct PagesTarget {
    /// API base URL (`https://api.cloudflare.com/client/v4` unless configured).
    pub api_base_url: String,
    /// API token (from Secrets Manager; never logged).
    pub api_token: String,
    /// Account id.
    pub account_id: String,
    /// Project name.
    pub project: String,
    /// Branch: the production branch deploys production, any other a preview.
    pub branch: String,
}

impl std::fmt::Debug for PagesTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagesTarget")
            .field("api_base_url", &self.api_base_url)
            .field("account_id", &self.account_id)
            .field("project", &self.project)
            .field("branch", &self.branch)
            .finish_non_exhaustive()
    }
}

/// A Pages deployment as Baton records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagesDeployment {
    /// Deployment id.
    pub id: String,
    /// Immutable URL.
    pub url: String,
    /// `production` or `preview`.
    pub environment: String,
    /// Latest stage, e.g. `deploy: success`.
    pub stage: String,
    /// Assets uploaded by this deploy (0 when every file was already there).
    pub uploaded_files: usize,
}

/// Cloudflare Pages.
#[async_trait]
pub trait Pages: Send + Sync {
    /// The deployment whose commit message carries `marker`, if one exists on the project.
    async fn find(&self, target: &PagesTarget, marker: &str) -> Result<Option<PagesDeployment>, BatonError>;
    /// Uploads the site and creates a deployment on the target branch, with `marker` in its
    /// commit message; waits until it succeeds (an error of kind DeployFailed, with the
    /// deployment's logs, if it fails).
    async fn deploy(
        &self,
        target: &PagesTarget,
        site_zip: &[u8],
        commit: Option<&str>,
        marker: &str,
    ) -> Result<PagesDeployment, BatonError>;
    /// Waits for an existing deployment to finish.
    async fn wait(&self, target: &PagesTarget, deployment_id: &str) -> Result<PagesDeployment, BatonError>;
    /// Makes an earlier production deployment the live one again.
    async fn rollback(&self, target: &PagesTarget, deployment_id: &str) -> Result<PagesDeployment, BatonError>;
}

/// One Anypoint environment and CloudHub target, with credentials.
#[derive(Clone)]
pub struct CloudHubTarget {
    /// Control plane base URL.
    pub base_url: String,
    /// Connected app client id.
    pub client_id: String,
    /// Connected app client secret (never logged).
    pub client_secret: String,
    /// Anypoint environment name.
    pub environment: String,
    /// CloudHub 2.0 target id.
    pub target_id: String,
}

impl std::fmt::Debug for CloudHubTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudHubTarget")
            .field("base_url", &self.base_url)
            .field("environment", &self.environment)
            .field("target_id", &self.target_id)
            .finish_non_exhaustive()
    }
}

/// How one application's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// APPLIED and RUNNING at the desired version.
    Done,
    /// Still moving; the text says where.
    InProgress(String),
    /// Failed; the text says why.
    Failed(String),
}

/// CloudHub 2.0 through the Anypoint Platform.
#[async_trait]
pub trait CloudHub: Send + Sync {
    /// Whether the target the environment names is one of the organisation's: `None` when the
    /// platform will not say (listing targets may need rights a connected app lacks).
    async fn target_exists(&self, _target: &CloudHubTarget) -> Result<Option<bool>, BatonError> {
        Ok(None)
    }
    /// The applications deployed in the target's environment.
    async fn applications(&self, target: &CloudHubTarget) -> Result<Vec<LiveApplication>, BatonError>;
    /// Which of these applications' Exchange asset versions do not exist (as `group:artifact:version`).
    async fn missing_assets(
        &self,
        target: &CloudHubTarget,
        apps: &[ResolvedApplication],
    ) -> Result<Vec<String>, BatonError>;
    /// Creates the application, or patches the deployment `existing` to the desired state.
    /// `secure_properties` are the resolved secret values.
    async fn apply(
        &self,
        target: &CloudHubTarget,
        app: &ResolvedApplication,
        existing: Option<&str>,
        secure_properties: &BTreeMap<String, String>,
    ) -> Result<(), BatonError>;
    /// Where the application's rollout to `asset_version` stands.
    async fn rollout(&self, target: &CloudHubTarget, name: &str, asset_version: &str) -> Result<Rollout, BatonError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_show_where_they_point_but_never_their_credentials() {
        let pages = PagesTarget {
            api_base_url: "https://api.cloudflare.com/client/v4".into(),
            api_token: "cf-token-secret".into(),
            account_id: "acc".into(),
            project: "baton-demo".into(),
            branch: "main".into(),
        };
        let shown = format!("{pages:?}");
        assert!(
            shown.contains("baton-demo") && shown.contains("main") && shown.contains("acc"),
            "{shown}"
        );
        assert!(!shown.contains("cf-token-secret"), "{shown}");
        let cloudhub = CloudHubTarget {
            base_url: "https://anypoint.mulesoft.com".into(),
            client_id: "client".into(),
            client_secret: "anypoint-secret".into(),
            environment: "Production".into(),
            target_id: "cloudhub-eu-west-1".into(),
        };
        let shown = format!("{cloudhub:?}");
        assert!(
            shown.contains("Production") && shown.contains("cloudhub-eu-west-1"),
            "{shown}"
        );
        assert!(!shown.contains("anypoint-secret"), "{shown}");
    }

    /// A platform that implements only what it must.
    struct Minimal;

    #[async_trait]
    impl CloudHub for Minimal {
        async fn applications(&self, _: &CloudHubTarget) -> Result<Vec<LiveApplication>, BatonError> {
            Ok(Vec::new())
        }
        async fn missing_assets(
            &self,
            _: &CloudHubTarget,
            _: &[ResolvedApplication],
        ) -> Result<Vec<String>, BatonError> {
            Ok(Vec::new())
        }
        async fn apply(
            &self,
            _: &CloudHubTarget,
            _: &ResolvedApplication,
            _: Option<&str>,
            _: &BTreeMap<String, String>,
        ) -> Result<(), BatonError> {
            Ok(())
        }
        async fn rollout(&self, _: &CloudHubTarget, _: &str, _: &str) -> Result<Rollout, BatonError> {
            Ok(Rollout::Done)
        }
    }

    #[tokio::test]
    async fn a_platform_that_cannot_list_targets_says_it_does_not_know() {
        let target = CloudHubTarget {
            base_url: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            environment: "Sandbox".into(),
            target_id: "t".into(),
        };
        assert_eq!(Minimal.target_exists(&target).await, Ok(None));
    }
}
