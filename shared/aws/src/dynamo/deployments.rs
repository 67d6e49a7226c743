//! [`DeploymentStore`] on DynamoDB.
//!
//! | entity | pk | sk |
//! |---|---|---|
//! | Deployment | `RELEASE#<id>` | `DEPLOY#<environment>#<component>` |
//! | Environment state | `ENV#<environment>` | `STATE` |

use async_trait::async_trait;
use baton_domain::deployment::{ComponentDeployment, EnvironmentState};
use baton_domain::ports::DeploymentStore;
use baton_domain::{BatonError, ReleaseId};
use serde::{Deserialize, Serialize};

use super::items::{from_item, key, s, to_item};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

#[derive(Serialize, Deserialize)]
struct DeploymentItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    deployment: ComponentDeployment,
}

#[derive(Serialize, Deserialize)]
struct EnvironmentItem {
    pk: String,
    sk: String,
    entity: String,
    /// The current release id, kept top-level for the optimistic-concurrency condition.
    current_release: Option<String>,
    #[serde(flatten)]
    state: EnvironmentState,
}

fn deployment_key(release: &ReleaseId, environment: &str, component: &str) -> super::items::Item {
    key(
        format!("RELEASE#{release}"),
        format!("DEPLOY#{environment}#{component}"),
    )
}

#[async_trait]
impl DeploymentStore for DynamoStore {
    async fn deployment(
        &self,
        release: &ReleaseId,
        environment: &str,
        component: &str,
    ) -> Result<Option<ComponentDeployment>, BatonError> {
        let item: Option<DeploymentItem> = self
            .get(deployment_key(release, environment, component), "a deployment")
            .await?
            .map(from_item)
            .transpose()?;
        Ok(item.map(|i| i.deployment))
    }

    async fn put_deployment(&self, deployment: &ComponentDeployment) -> Result<(), BatonError> {
        let item = DeploymentItem {
            pk: format!("RELEASE#{}", deployment.release_id),
            sk: format!("DEPLOY#{}#{}", deployment.environment, deployment.component),
            entity: "deployment".into(),
            deployment: deployment.clone(),
        };
        self.db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .send()
            .await
            .map_err(|e| sdk_error("recording a deployment", e))?;
        Ok(())
    }

    async fn environment_state(&self, environment: &str) -> Result<EnvironmentState, BatonError> {
        let item: Option<EnvironmentItem> = self
            .get(key(format!("ENV#{environment}"), "STATE"), "an environment")
            .await?
            .map(from_item)
            .transpose()?;
        Ok(item.map(|i| i.state).unwrap_or(EnvironmentState {
            environment: environment.to_string(),
            current: None,
            previous: None,
        }))
    }

    async fn record_environment(
        &self,
        state: &EnvironmentState,
        expected_current: Option<&ReleaseId>,
    ) -> Result<bool, BatonError> {
        let item = EnvironmentItem {
            pk: format!("ENV#{}", state.environment),
            sk: "STATE".into(),
            entity: "environment".into(),
            current_release: state.current.as_ref().map(|c| c.release_id.to_string()),
            state: state.clone(),
        };
        let put = self
            .db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?));
        let put = match expected_current {
            Some(id) => put
                .condition_expression("current_release = :c")
                .expression_attribute_values(":c", s(id.as_str())),
            None => put
                .condition_expression("attribute_not_exists(pk) OR attribute_type(current_release, :null)")
                .expression_attribute_values(":null", s("NULL")),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error(&format!("recording the state of {}", state.environment), err)),
        }
    }
}
