//! `preflight`: what can be known about a CloudHub deployment before anyone is asked to approve
//! it. Reads only; nothing in the platform changes.

use baton_domain::BatonError;
use baton_domain::plan::cloudhub_lines;
use baton_domain::platforms::CloudHub;
use baton_domain::ports::{Artefacts, ConfigSource, DeploymentStore, Leases, ReleaseStore};
use serde_json::Value;

use super::{DeployCloudHub, SecretNamespace, secure_values};
use crate::deploy_context::{DeployContext, finding, preflight_answer};
use crate::deploy_pages::RereadSecrets;

impl<C, A, S, H, K> DeployCloudHub<C, A, S, H, K>
where
    C: ConfigSource,
    A: Artefacts,
    S: ReleaseStore + DeploymentStore + Leases,
    H: CloudHub,
    K: RereadSecrets,
{
    /// The registered manifest readable with its hash; every secure property's secret under the
    /// component's prefix and readable; the connected app's credentials readable and accepted;
    /// the Anypoint environment there; every Exchange asset version published.
    pub(super) async fn preflight(&self, ctx: &DeployContext, environment: &str) -> Result<Value, BatonError> {
        let mut problems = Vec::new();
        let mut lines = Vec::new();
        let desired = match self.desired(ctx, &ctx.package, environment).await {
            Ok(desired) => Some(desired),
            Err(e) => {
                finding(&mut problems, e)?;
                None
            }
        };
        if let Some(desired) = &desired {
            // secure_values checks the namespace before it reads anything.
            let namespace = SecretNamespace::of(ctx);
            for app in desired {
                if let Err(e) = secure_values(&self.secrets, app, &namespace).await {
                    finding(&mut problems, e)?;
                }
            }
        }
        let target = match self.target(ctx).await {
            Ok(target) => Some(target),
            Err(e) => {
                finding(&mut problems, e)?;
                None
            }
        };
        if let Some(target) = &target {
            match self.cloudhub.target_exists(target).await {
                Ok(Some(false)) => problems.push(format!(
                    "CloudHub target '{}' (components.{}.environments.{environment}.target) is not one of the organisation's targets",
                    target.target_id, ctx.component.name
                )),
                Ok(_) => {}
                Err(e) => finding(&mut problems, e)?,
            }
            if let Some(desired) = &desired {
                // Planning lists the environment's applications: that proves the credentials
                // are accepted and the environment exists.
                match self.plan_for(ctx, environment, target, desired).await {
                    Err(e) => finding(&mut problems, e)?,
                    Ok(planned) => {
                        lines = cloudhub_lines(&planned);
                        match self.cloudhub.missing_assets(target, desired).await {
                            Ok(missing) if !missing.is_empty() => problems.push(format!(
                                "these asset versions are not in Exchange: {}; publish them first (each API's own pipeline does)",
                                missing.join(", ")
                            )),
                            Ok(_) => {}
                            Err(e) => finding(&mut problems, e)?,
                        }
                    }
                }
            } else if let Err(e) = self.cloudhub.applications(target).await {
                // No manifest to plan: the credentials and environment are still checked.
                finding(&mut problems, e)?;
            }
        }
        preflight_answer(&ctx.component.name, problems, lines)
    }
}
