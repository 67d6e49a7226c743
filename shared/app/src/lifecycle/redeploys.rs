//! The lifecycle steps' part in a redeploy (see [`baton_domain::redeploy`]): what `prepare`
//! reads from the execution's input, what `record` tells both releases' timelines, and how
//! `finish` ends a redeploy without touching the release's own status.

use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::redeploy::{self, Redeploy};
use baton_domain::{BatonConfig, BatonError, ErrorKind, Release, ReleaseId};
use serde_json::{Value, json};

use super::finish::readable_cause;
use super::{Lifecycle, Step};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// The redeploy this execution is, from its input, checked: its name is the execution's,
    /// its environment is configured, and the release passed that environment's gate before.
    /// `None` for a release's own execution.
    pub(super) async fn redeploy_of(
        &self,
        step: &Step,
        release: &Release,
        config: &BatonConfig,
    ) -> Result<Option<Redeploy>, BatonError> {
        let asked = step
            .input
            .as_ref()
            .and_then(|i| i.get("redeploy"))
            .filter(|r| !r.is_null());
        if !step.redeploying() {
            if asked.is_some() {
                return Err(BatonError::invalid(
                    "a redeploy runs only in an execution named redeploy-...; ask through the release page or `baton redeploy`",
                ));
            }
            return Ok(None);
        }
        let redeploy: Redeploy = asked
            .cloned()
            .and_then(|r| serde_json::from_value(r).ok())
            .ok_or_else(|| {
                BatonError::invalid(
                    "a redeploy execution needs {redeploy: {execution, environment, requestedBy, reason}} in its input",
                )
            })?;
        if Some(redeploy.execution.as_str()) != step.execution.as_deref() {
            return Err(BatonError::invalid(
                "the redeploy named in the input is another execution's",
            ));
        }
        if config.environment(&redeploy.environment).is_none() {
            return Err(BatonError::invalid(format!(
                "environment '{}' is not configured",
                redeploy.environment
            )));
        }
        let events = Timeline::events(&self.store, &release.id).await?;
        if !redeploy::eligible(&events, &redeploy.environment) {
            return Err(BatonError {
                kind: ErrorKind::Blocked,
                message: format!(
                    "release {} was never deployed to {}, so it cannot be deployed there again",
                    release.number, redeploy.environment
                ),
            });
        }
        Ok(Some(redeploy))
    }

    /// The redeploy the approval named by `step` confirms, if it does.
    async fn confirmed_redeploy(&self, step: &Step) -> Result<Option<Redeploy>, BatonError> {
        let Some(id) = step.approval_id() else {
            return Ok(None);
        };
        Ok(self.store.approval(id).await?.and_then(|a| a.redeploy))
    }

    /// Tells both timelines that a redeploy is live: the release deployed again, and the one it
    /// replaced ("PROD rolled back to release 5 by ..., reason ...").
    pub(super) async fn tell_redeployed(
        &self,
        step: &Step,
        release: &Release,
        env: &str,
        replaced: Option<u64>,
    ) -> Result<(), BatonError> {
        let asked = self.confirmed_redeploy(step).await?;
        let by = step
            .approved_by
            .clone()
            .or_else(|| asked.as_ref().map(|r| r.requested_by.clone()))
            .unwrap_or_else(|| "an approver".into());
        let reason = asked.map(|r| r.reason).unwrap_or_default();
        let number = release.number;
        let (detail, replaced_detail) = match replaced {
            Some(from) if from > number => (
                format!("{env} rolled back to release {number} (from release {from}) by {by}, reason: {reason}"),
                format!("{env} rolled back to release {number} by {by}, reason: {reason}"),
            ),
            Some(from) if from < number => (
                format!("release {number} deployed to {env} again (over release {from}) by {by}, reason: {reason}"),
                format!("replaced in {env} by release {number}, deployed again by {by}, reason: {reason}"),
            ),
            _ => (
                format!("release {number} deployed to {env} again by {by}, reason: {reason}"),
                String::new(),
            ),
        };
        crate::timeline::record(&self.store, &release.id, Some(env), "redeployed", &by, detail).await?;
        if let Some(from) = replaced.filter(|n| *n != number) {
            crate::timeline::record(
                &self.store,
                &ReleaseId::from_number(from),
                Some(env),
                "replaced",
                &by,
                replaced_detail,
            )
            .await?;
        }
        Ok(())
    }

    /// Ends a redeploy: lets go of the environment, tells the timeline and, on a failure, the
    /// environment's approvers. The release's own status stays what its own journey made it.
    pub(super) async fn finish_redeploy(
        &self,
        step: &Step,
        release: &Release,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let outcome = step.outcome.as_deref().unwrap_or("Failed");
        let env = step.environment.as_deref();
        if let Some(env) = env {
            self.let_go(&release.id, step.execution.as_deref(), env).await?;
        }
        if outcome == "Released" {
            // `record` told the timelines already.
            return Ok(json!({ "releaseId": release.id, "redeploy": "done" }));
        }
        let raw = step.cause.clone().or_else(|| step.error.clone()).unwrap_or_default();
        tracing::info!(release = %release.id, environment = ?env, outcome, cause = %raw, "redeploy finishing");
        let reason = baton_domain::redact::internals(&readable_cause(&raw));
        let env_name = env.unwrap_or("its environment");
        let words = match outcome {
            "Expired" => "was not confirmed in time, so nothing was deployed".to_string(),
            "Rejected" => "was cancelled by the approver asked to confirm it".to_string(),
            "RolledBack" => "failed and was rolled back".to_string(),
            "Blocked" | "Superseded" => "was not deployed".to_string(),
            _ => "failed".to_string(),
        };
        let detail = if reason.is_empty() {
            format!("deploying release {} to {env_name} again {words}", release.number)
        } else {
            format!(
                "deploying release {} to {env_name} again {words}: {reason}",
                release.number
            )
        };
        crate::timeline::record(&self.store, &release.id, env, "redeploy-ended", "baton", detail).await?;
        if matches!(outcome, "Failed" | "RolledBack") {
            let managers = env
                .and_then(|e| config.environment(e))
                .map(|e| e.approvers.clone())
                .unwrap_or_default();
            let words = format!("could not be deployed to {env_name} again: it {words}");
            let retry = format!(
                "{}/releases/{}#again",
                config.public_url.trim_end_matches('/'),
                release.id
            );
            for to in managers {
                let mail = baton_html::mail::deployment_failed_with_retry(
                    release,
                    env_name,
                    &to,
                    &words,
                    &reason,
                    Some(&retry),
                );
                self.mailer.send(&config.mail.sender, &mail).await?;
            }
        }
        Ok(json!({ "releaseId": release.id, "redeploy": outcome }))
    }
}
