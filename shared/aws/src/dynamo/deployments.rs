//! [`DeploymentStore`] on DynamoDB.
//!
//! | entity | pk | sk |
//! |---|---|---|
//! | Deployment | `RELEASE#<id>` | `DEPLOY#<environment>#<component>` |
//! | Environment state | `ENV#<environment>` | `STATE` |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use baton_domain::deployment::{ComponentDeployment, EnvironmentState};
use baton_domain::ports::DeploymentStore;
use baton_domain::{BatonError, ReleaseId};
use serde::{Deserialize, Serialize};

use super::items::{from_item, key, s, to_item};
use super::store::DynamoStore;

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
    /// The current release's number, kept top-level so that only a newer release replaces it.
    #[serde(default)]
    current_number: Option<u64>,
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
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .build()
            .map_err(|e| BatonError::internal(format!("building a deployment write: {e}")))?;
        // Only the lease's holder records what it deploys (DESIGN §3.8).
        self.write_holding(
            &deployment.environment,
            &deployment.lease_holder(),
            TransactWriteItem::builder().put(put).build(),
            "recording a deployment",
        )
        .await?;
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
        let Some(next) = state.current.as_ref() else {
            return Err(BatonError::internal(format!(
                "recording {} without a current release",
                state.environment
            )));
        };
        let item = EnvironmentItem {
            pk: format!("ENV#{}", state.environment),
            sk: "STATE".into(),
            entity: "environment".into(),
            current_release: Some(next.release_id.to_string()),
            current_number: Some(next.number),
            state: state.clone(),
        };
        let put = Put::builder().table_name(self.table()).set_item(Some(to_item(&item)?));
        let put = match expected_current {
            // Unchanged since read: a redeploy may put an older release back (a rollback).
            Some(id) if next.redeployed() => put
                .condition_expression("current_release = :c")
                .expression_attribute_values(":c", s(id.as_str())),
            // Unchanged since read, and only ever a newer release: an older one never replaces it.
            Some(id) => put
                .condition_expression(
                    "current_release = :c AND (attribute_not_exists(current_number) OR current_number < :n)",
                )
                .expression_attribute_values(":c", s(id.as_str()))
                .expression_attribute_values(":n", AttributeValue::N(next.number.to_string())),
            None => put
                .condition_expression("attribute_not_exists(pk) OR attribute_type(current_release, :null)")
                .expression_attribute_values(":null", s("NULL")),
        };
        let put = put
            .build()
            .map_err(|e| BatonError::internal(format!("building an environment write: {e}")))?;
        self.write_holding(
            &state.environment,
            &next.lease_holder(),
            TransactWriteItem::builder().put(put).build(),
            &format!("recording the state of {}", state.environment),
        )
        .await
    }
}
