//! Secure properties, by fingerprint: CloudHub never returns their values, so each deployment
//! records, per application, a fingerprint of the secret versions behind them, and the next
//! plan compares the versions now with that record (a rotated secret is a change to deploy).

use std::collections::BTreeMap;

use baton_domain::BatonError;
use baton_domain::deployment::PlatformDetail;
use baton_domain::manifest::ResolvedApplication;
use baton_domain::platforms::CloudHub;
use baton_domain::ports::{Artefacts, ConfigSource, DeploymentStore, Leases, ReleaseStore, Secrets};

use super::{DeployCloudHub, SecretNamespace};
use crate::deploy_context::DeployContext;

impl<C, A, S, H, K> DeployCloudHub<C, A, S, H, K>
where
    C: ConfigSource,
    A: Artefacts,
    S: ReleaseStore + DeploymentStore + Leases,
    H: CloudHub,
    K: Secrets,
{
    /// Application name to the fingerprint of the secret versions its secure properties name
    /// now. Applications without secure properties, with a secret outside the namespace (never
    /// read), or whose store keeps no versions, have none.
    pub(super) async fn secure_fingerprints(
        &self,
        ctx: &DeployContext,
        desired: &[ResolvedApplication],
    ) -> Result<BTreeMap<String, String>, BatonError> {
        let namespace = SecretNamespace::of(ctx);
        let mut out = BTreeMap::new();
        'apps: for app in desired.iter().filter(|a| !a.secure_properties.is_empty()) {
            if namespace.check(app).is_err() {
                continue;
            }
            let mut material = String::new();
            for (property, reference) in &app.secure_properties {
                let Some(version) = self.secrets.version(&reference.secret).await? else {
                    continue 'apps;
                };
                material.push_str(&format!(
                    "{property}\0{}\0{}\0{version}\n",
                    reference.secret,
                    reference.key.as_deref().unwrap_or("")
                ));
            }
            out.insert(app.name.clone(), baton_domain::sha256_hex(material.as_bytes()));
        }
        Ok(out)
    }

    /// The fingerprints recorded when what is live in `environment` was deployed.
    pub(super) async fn recorded_fingerprints(
        &self,
        ctx: &DeployContext,
        environment: &str,
    ) -> Result<BTreeMap<String, String>, BatonError> {
        let state = self.store.environment_state(environment).await?;
        Ok(match state.live(&ctx.component.name).and_then(|l| l.detail.as_ref()) {
            Some(PlatformDetail::CloudHub {
                secure_fingerprints, ..
            }) => secure_fingerprints.clone(),
            _ => BTreeMap::new(),
        })
    }
}
