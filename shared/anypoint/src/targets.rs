//! Deployment targets (T1): the CloudHub 2.0 shared and private spaces and Runtime Fabrics of
//! the organisation. Whether client-credentials tokens may list them is uncertain (reference,
//! open question 9): callers treat a refusal as "cannot tell", never as "no such target".

use serde::Deserialize;

use crate::client::{AnypointClient, ApiCall};
use crate::error::AnypointError;
use crate::lenient;
use crate::path::segment;

/// A deployment target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Target {
    /// Target id (what a deployment names).
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    /// Display name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// `shared-space`, `private-space` or `runtime-fabric`.
    #[serde(default, rename = "type", deserialize_with = "lenient::string")]
    pub kind: String,
}

impl AnypointClient {
    /// The organisation's deployment targets. Read tolerantly: a bare array, or one wrapped in
    /// `data` (the reference says array; a wrapper costs nothing to accept).
    pub async fn targets(&self, org_id: &str) -> Result<Vec<Target>, AnypointError> {
        let call = ApiCall::get(format!("/runtimefabric/api/organizations/{}/targets", segment(org_id)));
        let body: serde_json::Value = self.execute(&call).await?.json(&call)?;
        let items = body.get("data").cloned().unwrap_or(body);
        serde_json::from_value(items).map_err(|e| call.decode_error(format!("targets: {e}")))
    }
}
