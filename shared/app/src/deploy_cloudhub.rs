//! `deploy-cloudhub`: reconciles CloudHub 2.0 in one environment to a release's manifest.
//!
//! Actions, each idempotent:
//! - `plan`: what would change (create, update, unchanged, orphaned); changes nothing;
//! - `start`: refuses, changing nothing, if any asset version is missing from Exchange (naming
//!   every one) or if a secure property names a secret outside the component's
//!   `secure_properties_prefix` (checked at ingest too; the configuration may have changed
//!   since); otherwise creates and patches the applications that differ;
//! - `poll`: `{"done": true}` once every application is APPLIED and RUNNING at its version; a
//!   `Baton.DeployFailed` naming the application and the reason if one failed;
//! - `rollback` / `poll-rollback`: the same, towards the environment's previous manifest.

use std::collections::BTreeMap;

use async_trait::async_trait;
use baton_domain::config::{ComponentConfig, ComponentEnvironment, ComponentKind};
use baton_domain::deployment::{DeployStatus, PlatformDetail};
use baton_domain::manifest::{Manifest, ResolvedApplication, check_secret_name};
use baton_domain::platforms::{CloudHub, CloudHubTarget, Rollout};
use baton_domain::ports::{Artefacts, ConfigSource, DeploymentStore, Leases, ReleaseStore, Secrets};
use baton_domain::reconcile::{AppAction, ReconcilePlan, plan};
use baton_domain::release::PackageRef;
use baton_domain::{BatonConfig, BatonError, ErrorKind};
use chrono::Utc;
use serde_json::{Value, json};

use crate::Function;
use crate::deploy_context::{DeployContext, DeployRequest, answer, registered_bytes};
use crate::deploy_pages::{RereadSecrets, with_token_refresh};

mod fingerprint;
mod preflight;

/// Anypoint's control plane, unless the configuration names another.
pub const ANYPOINT_API: &str = "https://anypoint.mulesoft.com";

/// How long one invocation may take before it gives up as `Baton.Transient`: under the
/// function's 60 s timeout (template.yaml), so a storm never ends in a Lambda timeout.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(50);

/// What a person does when Anypoint refuses the connected app's stored credentials.
const ANYPOINT_ADVICE: &str = "Rotate or fix the secret: put into it the connected app's current \
     {\"client_id\": ..., \"client_secret\": ...} (Access Management, Connected Apps), and check the app's scopes \
     on the environment, then retry the release";

/// The deploy-cloudhub handler over its ports.
pub struct DeployCloudHub<C, A, S, H, K> {
    config: C,
    artefacts: A,
    store: S,
    cloudhub: H,
    secrets: K,
}

impl<C, A, S, H, K> DeployCloudHub<C, A, S, H, K>
where
    C: ConfigSource,
    A: Artefacts,
    S: ReleaseStore + DeploymentStore + Leases,
    H: CloudHub,
    K: RereadSecrets,
{
    /// The handler over these adapters.
    pub fn new(config: C, artefacts: A, store: S, cloudhub: H, secrets: K) -> Self {
        DeployCloudHub {
            config,
            artefacts,
            store,
            cloudhub,
            secrets,
        }
    }

    async fn target(&self, ctx: &DeployContext) -> Result<CloudHubTarget, BatonError> {
        cloudhub_target(&ctx.component, &ctx.settings, &self.secrets).await
    }

    /// The manifest in `package`, resolved for the environment.
    async fn desired(
        &self,
        ctx: &DeployContext,
        package: &PackageRef,
        environment: &str,
    ) -> Result<Vec<ResolvedApplication>, BatonError> {
        deployed_manifest(&ctx.config, &self.artefacts, package, environment).await
    }

    /// The reconciliation against what runs in `environment`, secure properties included (by
    /// the fingerprints recorded when what is live there was deployed).
    async fn plan_for(
        &self,
        ctx: &DeployContext,
        environment: &str,
        target: &CloudHubTarget,
        desired: &[ResolvedApplication],
    ) -> Result<ReconcilePlan, BatonError> {
        let live = self.cloudhub.applications(target).await?;
        let now = self.secure_fingerprints(ctx, desired).await?;
        let recorded = self.recorded_fingerprints(ctx, environment).await?;
        Ok(plan(desired, &live).with_secure_fingerprints(desired, &now, &recorded))
    }

    async fn apply(
        &self,
        ctx: &DeployContext,
        environment: &str,
        target: &CloudHubTarget,
        desired: &[ResolvedApplication],
    ) -> Result<ReconcilePlan, BatonError> {
        let planned = self.plan_for(ctx, environment, target, desired).await?;
        let changed: Vec<ResolvedApplication> = planned
            .changed()
            .filter_map(|a| match a {
                AppAction::Create { desired } | AppAction::Update { desired, .. } => Some((**desired).clone()),
                _ => None,
            })
            .collect();
        // Checked at ingest already; again here because baton.yaml may have changed since, and
        // before any application changes, so a refused secret leaves the environment as it was.
        let namespace = SecretNamespace::of(ctx);
        for app in &changed {
            namespace.check(app)?;
        }
        let missing = self.cloudhub.missing_assets(target, &changed).await?;
        if !missing.is_empty() {
            return Err(BatonError::invalid(format!(
                "nothing was deployed: these asset versions are not in Exchange: {}; publish them first (each API's own pipeline does)",
                missing.join(", ")
            )));
        }
        for action in planned.changed() {
            let (app, existing) = match action {
                AppAction::Create { desired } => (desired, None),
                AppAction::Update {
                    desired, deployment_id, ..
                } => (desired, Some(deployment_id.as_str())),
                _ => continue,
            };
            let secure = secure_values(&self.secrets, app, &namespace).await?;
            self.cloudhub.apply(target, app, existing, &secure).await?;
        }
        Ok(planned)
    }

    /// `None` when every application is live at its version; the waiting list otherwise.
    async fn progress(
        &self,
        target: &CloudHubTarget,
        desired: &[ResolvedApplication],
    ) -> Result<Vec<String>, BatonError> {
        let mut waiting = Vec::new();
        for app in desired {
            match self.cloudhub.rollout(target, &app.name, &app.asset.version).await? {
                Rollout::Done => {}
                Rollout::InProgress(state) => waiting.push(format!("{}: {state}", app.name)),
                Rollout::Failed(reason) => {
                    return Err(BatonError {
                        kind: ErrorKind::DeployFailed,
                        message: format!("{} {} failed on CloudHub: {reason}", app.name, app.asset.version),
                    });
                }
            }
        }
        Ok(waiting)
    }

    async fn run(&self, request: &DeployRequest) -> Result<Value, BatonError> {
        let ctx = DeployContext::load(request, ComponentKind::State, &self.config, &self.store).await?;
        let env = request.environment.as_str();
        let existing = request.own(self.store.deployment(&ctx.release.id, env, &ctx.component.name).await?);
        if matches!(request.action.as_str(), "start" | "poll" | "rollback" | "poll-rollback") {
            request.hold_lease(&self.store).await?;
        }
        match request.action.as_str() {
            "plan" => {
                let target = self.target(&ctx).await?;
                let desired = self.desired(&ctx, &ctx.package, env).await?;
                let planned = self.plan_for(&ctx, env, &target, &desired).await?;
                Ok(
                    json!({ "component": ctx.component.name, "environment": env, "plan": planned.summary(), "actions": planned.actions }),
                )
            }
            "start" => {
                if let Some(done) = existing
                    .as_ref()
                    .filter(|d| matches!(d.status, DeployStatus::Succeeded))
                {
                    return Ok(json!({ "done": true, "deployment": answer(done)? }));
                }
                let target = self.target(&ctx).await?;
                let desired = self.desired(&ctx, &ctx.package, env).await?;
                // The plan was verified against the approved one just before the deployment
                // began (the state machine's VerifyPlan, for every component at once).
                let planned = self.apply(&ctx, env, &target, &desired).await?;
                let mut record = ctx.record(request, existing.as_ref());
                record.detail = Some(PlatformDetail::CloudHub {
                    secure_fingerprints: self.secure_fingerprints(&ctx, &desired).await?,
                    applications: planned.summary(),
                });
                // Nothing to change (most releases only change the site): when every application
                // already runs its version, the rollout is over now, and the workflow goes on
                // without waiting `poll_seconds` for a first poll. Anything else, a failed
                // application included, is left to `poll`.
                let changed = planned.changed().count();
                let done = changed == 0 && matches!(self.progress(&target, &desired).await, Ok(w) if w.is_empty());
                if done {
                    record.status = DeployStatus::Succeeded;
                }
                self.store.put_deployment(&record).await?;
                tracing::info!(release = %ctx.release.id, environment = env, changed, done, "CloudHub reconciliation started");
                Ok(json!({ "done": done, "deployment": answer(&record)? }))
            }
            "poll" => {
                let mut record =
                    existing.ok_or_else(|| BatonError::invalid("poll before start: no deployment recorded"))?;
                if record.status == DeployStatus::Succeeded {
                    return Ok(json!({ "done": true, "deployment": record }));
                }
                let target = self.target(&ctx).await?;
                let desired = self.desired(&ctx, &ctx.package, env).await?;
                record.updated_at = Utc::now();
                match self.progress(&target, &desired).await {
                    Ok(waiting) if waiting.is_empty() => {
                        record.status = DeployStatus::Succeeded;
                        self.store.put_deployment(&record).await?;
                        Ok(json!({ "done": true, "deployment": record }))
                    }
                    Ok(waiting) => {
                        let deadline = ctx.config.workflow.rollout_deadline();
                        let elapsed = (Utc::now() - record.started_at).to_std().unwrap_or_default();
                        if elapsed <= deadline {
                            return Ok(json!({ "done": false, "waiting": waiting }));
                        }
                        let message = format!(
                            "CloudHub rollout not finished after {} s (workflow.rollout_deadline): {}",
                            deadline.as_secs(),
                            waiting.join("; ")
                        );
                        record.status = DeployStatus::Failed;
                        record.error = Some(message.clone());
                        self.store.put_deployment(&record).await?;
                        Err(BatonError {
                            kind: ErrorKind::DeployFailed,
                            message,
                        })
                    }
                    Err(err) if err.kind == ErrorKind::DeployFailed => {
                        record.status = DeployStatus::Failed;
                        record.error = Some(err.message.clone());
                        self.store.put_deployment(&record).await?;
                        Err(err)
                    }
                    Err(err) => Err(err),
                }
            }
            "rollback" | "poll-rollback" => self.rollback(request, &ctx, existing).await,
            "preflight" => self.preflight(&ctx, env).await,
            other => Err(BatonError::invalid(format!(
                "deploy-cloudhub does not know action '{other}'; use preflight, plan, start, poll, rollback or poll-rollback"
            ))),
        }
    }

    async fn rollback(
        &self,
        request: &DeployRequest,
        ctx: &DeployContext,
        existing: Option<baton_domain::deployment::ComponentDeployment>,
    ) -> Result<Value, BatonError> {
        let env = request.environment.as_str();
        let Some(mut record) = existing else {
            return Ok(
                json!({ "done": true, "status": "unchanged", "component": ctx.component.name, "environment": env }),
            );
        };
        let state = self.store.environment_state(env).await?;
        let Some(previous) = state.live(&ctx.component.name).cloned() else {
            record.status = DeployStatus::RolledBack;
            record.error =
                Some("no earlier manifest in this environment; applications left as they are (never deleted)".into());
            self.store.put_deployment(&record).await?;
            return Ok(json!({ "done": true, "deployment": record }));
        };
        let target = self.target(ctx).await?;
        let desired = self.desired(ctx, &previous.package, env).await?;
        if request.action == "rollback" {
            self.apply(ctx, env, &target, &desired).await?;
            // When the rollback began, so that its polls end by the rollout deadline too.
            record.updated_at = Utc::now();
            self.store.put_deployment(&record).await?;
            return Ok(json!({ "done": false, "restoring": previous.package.version.to_string() }));
        }
        let waiting = self.progress(&target, &desired).await?;
        if !waiting.is_empty() {
            // Bounded like the rollout: a rollback that does not finish ends the release failed,
            // with the environment left as CloudHub has it, instead of polling for ever.
            let deadline = ctx.config.workflow.rollout_deadline();
            let elapsed = (Utc::now() - record.updated_at).to_std().unwrap_or_default();
            if elapsed > deadline {
                return Err(BatonError {
                    kind: ErrorKind::DeployFailed,
                    message: format!(
                        "rolling {} back to {} did not finish within {} s (workflow.rollout_deadline): {}; check the applications in CloudHub",
                        ctx.component.name,
                        previous.package.version,
                        deadline.as_secs(),
                        waiting.join("; ")
                    ),
                });
            }
            return Ok(json!({ "done": false, "waiting": waiting }));
        }
        record.status = DeployStatus::RolledBack;
        record.error = Some(format!(
            "rolled back to {} {}",
            previous.package.component, previous.package.version
        ));
        record.updated_at = Utc::now();
        self.store.put_deployment(&record).await?;
        Ok(json!({ "done": true, "deployment": record }))
    }
}

/// Which secrets a component's manifests may have read for their applications, from the
/// configuration as it is now (see [`baton_domain::manifest::check_secret_name`]).
struct SecretNamespace<'a> {
    prefix: &'a str,
    forbidden: Vec<&'a str>,
}

impl<'a> SecretNamespace<'a> {
    fn of(ctx: &'a DeployContext) -> Self {
        SecretNamespace {
            prefix: ctx.component.secure_properties_prefix(),
            forbidden: ctx.config.platform_secrets(),
        }
    }

    /// Refuses `app` if any of its secure properties names a secret outside the namespace,
    /// naming the property; no secret is read.
    fn check(&self, app: &ResolvedApplication) -> Result<(), BatonError> {
        for (property, reference) in &app.secure_properties {
            check_secret_name(&reference.secret, self.prefix, &self.forbidden).map_err(|refused| {
                BatonError::invalid(format!(
                    "{}: secure property {property} was refused and its secret not read: {refused}",
                    app.name
                ))
            })?;
        }
        Ok(())
    }
}

/// The CloudHub target of `component` in an environment (`settings`), with the connected app's
/// credentials read from the secret the configuration names.
pub(crate) async fn cloudhub_target<K: Secrets + ?Sized>(
    component: &ComponentConfig,
    settings: &ComponentEnvironment,
    secrets: &K,
) -> Result<CloudHubTarget, BatonError> {
    let anypoint = component
        .anypoint
        .as_ref()
        .ok_or_else(|| BatonError::invalid(format!("{} has no anypoint settings", component.name)))?;
    let secret = secrets.secret(&anypoint.credentials_secret).await?;
    let credentials: Value = serde_json::from_str(&secret).map_err(|_| {
        BatonError::invalid(format!(
            "secret {} must be JSON {{\"client_id\": ..., \"client_secret\": ...}}",
            anypoint.credentials_secret
        ))
    })?;
    let field = |name: &str| {
        credentials
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| BatonError::invalid(format!("secret {} has no {name}", anypoint.credentials_secret)))
    };
    Ok(CloudHubTarget {
        base_url: anypoint.base_url.clone().unwrap_or_else(|| ANYPOINT_API.to_string()),
        client_id: field("client_id")?,
        client_secret: field("client_secret")?,
        environment: settings.environment.clone().unwrap_or_default(),
        target_id: settings.target.clone().unwrap_or_default(),
    })
}

/// The manifest in a registered `package` (exactly the bytes registered), resolved for
/// `environment`.
pub(crate) async fn deployed_manifest(
    config: &BatonConfig,
    artefacts: &impl Artefacts,
    package: &PackageRef,
    environment: &str,
) -> Result<Vec<ResolvedApplication>, BatonError> {
    let bytes = registered_bytes(artefacts, package, baton_domain::config::STATE_MAX_BYTES).await?;
    let manifest = Manifest::parse(&bytes, &config.environment_names())
        .map_err(|r| BatonError::invalid(format!("{}: {}", package.object_key, r.reason)))?;
    Ok(manifest.resolve(environment))
}

/// Secret values for an application's secure properties. Every reference is checked against
/// `namespace` before any secret is read. Errors name the property, never a value.
async fn secure_values(
    secrets: &impl Secrets,
    app: &ResolvedApplication,
    namespace: &SecretNamespace<'_>,
) -> Result<BTreeMap<String, String>, BatonError> {
    namespace.check(app)?;
    let mut values = BTreeMap::new();
    for (property, reference) in &app.secure_properties {
        let secret = secrets.secret(&reference.secret).await?;
        let value = match &reference.key {
            None => secret,
            Some(key) => serde_json::from_str::<Value>(&secret)
                .ok()
                .and_then(|v| {
                    v.get(key)
                        .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                })
                .ok_or_else(|| {
                    BatonError::invalid(format!(
                        "{}: secure property {property} refers to key '{key}' of secret {}, which has no such key",
                        app.name, reference.secret
                    ))
                })?,
        };
        values.insert(property.clone(), value);
    }
    Ok(values)
}

#[async_trait]
impl<C, A, S, H, K> Function for DeployCloudHub<C, A, S, H, K>
where
    C: ConfigSource,
    A: Artefacts,
    S: ReleaseStore + DeploymentStore + Leases,
    H: CloudHub,
    K: RereadSecrets,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let request = DeployRequest::parse(payload)?;
        let config = self.config.config().await?;
        let secret = config
            .component(&request.component)
            .and_then(|c| c.anypoint.as_ref())
            .map(|a| a.credentials_secret.clone())
            .unwrap_or_default();
        let platform = ("Anypoint", secret.as_str(), ANYPOINT_ADVICE);
        with_token_refresh(&self.secrets, platform, DEADLINE, || self.run(&request)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use baton_domain::manifest::SecretRef;

    use super::*;

    /// Records every secret read; holds Baton's connected app and one application secret.
    #[derive(Default)]
    struct RecordingSecrets {
        read: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Secrets for RecordingSecrets {
        async fn secret(&self, name: &str) -> Result<String, BatonError> {
            self.read
                .lock()
                .map_err(|_| BatonError::internal("poisoned"))?
                .push(name.to_string());
            Ok(r#"{"client_secret":"baton-own","password":"app-db"}"#.to_string())
        }
    }

    fn app(secret: &str) -> ResolvedApplication {
        ResolvedApplication {
            name: "patient-api".into(),
            asset: baton_domain::manifest::AssetRef {
                group_id: "g".into(),
                artifact_id: "patient-api".into(),
                version: "1.0.0".into(),
            },
            runtime_version: "4.9.0".into(),
            replicas: 1,
            v_cores: 0.1,
            properties: BTreeMap::new(),
            secure_properties: BTreeMap::from([(
                "db.password".to_string(),
                SecretRef {
                    secret: secret.into(),
                    key: Some("client_secret".into()),
                },
            )]),
        }
    }

    fn namespace() -> SecretNamespace<'static> {
        SecretNamespace {
            prefix: "baton/secure-properties/",
            forbidden: vec!["baton/anypoint-connected-app", "baton/cloudflare-api-token"],
        }
    }

    #[tokio::test]
    async fn a_secret_outside_the_namespace_is_refused_without_being_read() {
        for hostile in [
            "baton/anypoint-connected-app",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:baton/anypoint-connected-app-AbCdEf",
            "baton/secure-properties/../anypoint-connected-app",
            "other-team/db",
        ] {
            let secrets = RecordingSecrets::default();
            let err = secure_values(&secrets, &app(hostile), &namespace()).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Invalid, "{hostile}: {err:?}");
            assert!(err.message.contains("secure property db.password"), "{}", err.message);
            assert!(err.message.contains(hostile), "{}", err.message);
            assert!(!err.message.contains("baton-own"), "never a value: {}", err.message);
            assert!(secrets.read.lock().unwrap().is_empty(), "{hostile} was read");
        }
    }

    #[tokio::test]
    async fn a_secret_under_the_prefix_is_read() {
        let secrets = RecordingSecrets::default();
        let values = secure_values(&secrets, &app("baton/secure-properties/patient-api/db"), &namespace())
            .await
            .unwrap();
        assert_eq!(values["db.password"], "baton-own");
        assert_eq!(
            *secrets.read.lock().unwrap(),
            ["baton/secure-properties/patient-api/db"]
        );
    }
}
