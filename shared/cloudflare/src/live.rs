//! The domain's [`PagesLive`] port on this client: which deployment a branch serves now, for
//! Baton's drift check.

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::drift::PagesLive;
use baton_domain::platforms::PagesTarget;

use crate::port::{CloudflarePages, to_baton};
use crate::{Deployment, Environment, StageStatus};

/// Deployments read per page, and pages read at most, looking for a preview branch's newest.
const PER_PAGE: u32 = 25;
const MAX_PAGES: u32 = 4;

/// Whether `d` was deployed from `branch` and finished well (only such a deployment takes the
/// branch's alias).
fn serves(d: &Deployment, branch: &str) -> bool {
    let on_branch = d
        .deployment_trigger
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.branch.as_deref())
        == Some(branch);
    on_branch
        && d.latest_stage
            .as_ref()
            .is_some_and(|s| s.status == StageStatus::Success)
}

#[async_trait]
impl PagesLive for CloudflarePages {
    async fn serving(&self, target: &PagesTarget) -> Result<Option<String>, BatonError> {
        let client = self.client(target).await?;
        let project = client.get_project(&target.project).await.map_err(|e| to_baton(&e))?;
        // The production branch serves the project's canonical deployment (a rollback moves it).
        if project.production_branch.as_deref() == Some(target.branch.as_str()) {
            return Ok(project.canonical_deployment.map(|d| d.id));
        }
        // Any other branch: its alias serves the branch's newest successful deployment.
        for page in 1..=MAX_PAGES {
            let listed = client
                .list_deployments(&target.project, Some(Environment::Preview), page, PER_PAGE)
                .await
                .map_err(|e| to_baton(&e))?;
            if let Some(d) = listed.deployments.iter().find(|d| serves(d, &target.branch)) {
                return Ok(Some(d.id.clone()));
            }
            if (listed.deployments.len() as u32) < PER_PAGE {
                break;
            }
        }
        Ok(None)
    }
}
