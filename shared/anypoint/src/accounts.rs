//! Organisation and environment lookups (A2, A3), cached for the client's lifetime.

use serde::Deserialize;
use serde_json::Value;

use crate::client::{AnypointClient, ApiCall};
use crate::error::AnypointError;
use crate::lenient;
use crate::path::segment;

/// An Anypoint environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// Environment id (goes in the deployment paths).
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    /// Display name, e.g. `Sandbox`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Owning organisation id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub organization_id: Option<String>,
    /// Whether this is a production environment.
    #[serde(default)]
    pub is_production: bool,
    /// `sandbox`, `production` or `design`.
    #[serde(default, rename = "type", deserialize_with = "lenient::opt_string")]
    pub environment_type: Option<String>,
}

/// The organisation and environment a deployment call is addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentScope {
    /// Organisation (business group) id.
    pub org_id: String,
    /// Environment id.
    pub env_id: String,
}

#[derive(Deserialize)]
struct EnvironmentList {
    #[serde(default, deserialize_with = "lenient::vec")]
    data: Vec<Environment>,
}

impl AnypointClient {
    /// The organisation id: configured with [`AnypointClient::with_org_id`], else `client.org_id`
    /// from `/accounts/api/me` (connected-app token) or `user.organization.id` (user token).
    pub async fn org_id(&self) -> Result<String, AnypointError> {
        self.org_id
            .get_or_try_init(|| async {
                let call = ApiCall::get("/accounts/api/me".to_string());
                let me: Value = self.execute(&call).await?.json(&call)?;
                let from_client = me.pointer("/client/org_id").and_then(Value::as_str);
                let from_user = me.pointer("/user/organization/id").and_then(Value::as_str);
                match from_client.or(from_user).filter(|id| !id.is_empty()) {
                    Some(id) => Ok(id.to_string()),
                    None => Err(call.decode_error("neither client.org_id nor user.organization.id is present".into())),
                }
            })
            .await
            .cloned()
    }

    /// The environments of `org_id`.
    pub async fn environments(&self, org_id: &str) -> Result<Vec<Environment>, AnypointError> {
        let call = ApiCall::get(format!("/accounts/api/organizations/{}/environments", segment(org_id)));
        // Parsed defensively: a missing scope can yield a non-JSON body (§4.2), reported as a decode error.
        let list: EnvironmentList = self.execute(&call).await?.json(&call)?;
        Ok(list.data)
    }

    /// The id of the environment named `name` (case-sensitive, as MMP matches), cached.
    pub async fn environment_id(&self, name: &str) -> Result<String, AnypointError> {
        if let Some(id) = self.cached_environment_id(name) {
            return Ok(id);
        }
        let org_id = self.org_id().await?;
        let environments = self.environments(&org_id).await?;
        if let Ok(mut cache) = self.environment_ids.lock() {
            for environment in &environments {
                cache.insert(environment.name.clone(), environment.id.clone());
            }
        }
        match environments.iter().find(|e| e.name == name) {
            Some(found) => Ok(found.id.clone()),
            None => Err(AnypointError::EnvironmentNotFound {
                name: name.to_string(),
                org_id,
                known: environments
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The organisation and environment ids for deployment calls in the environment named `env_name`.
    pub async fn scope(&self, env_name: &str) -> Result<EnvironmentScope, AnypointError> {
        let org_id = self.org_id().await?;
        let env_id = self.environment_id(env_name).await?;
        Ok(EnvironmentScope { org_id, env_id })
    }

    fn cached_environment_id(&self, name: &str) -> Option<String> {
        // A poisoned cache only costs a lookup, so it is treated as empty.
        self.environment_ids.lock().ok()?.get(name).cloned()
    }
}
