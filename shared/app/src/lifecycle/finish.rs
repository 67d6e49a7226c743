//! `finish`: a release's final status, its open requests closed, the lease given back, the
//! release manager told of failures.

use baton_domain::approval::{Approval, ApprovalStatus};
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::release::ReleaseStatus;
use baton_domain::{BatonConfig, BatonError, ReleaseId, redeploy};
use chrono::Utc;
use serde_json::{Value, json};

use super::{Lifecycle, Step};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// Gives back `env`'s lease if the execution named `execution` (of `release`) holds it, and
    /// closes the requests still open for that execution there (a release's own requests, or a
    /// redeploy's confirmation or failure questions). Whatever ended the release (the request lapsed, a refused callback, a failure,
    /// an execution stopped outside Baton), an open request's links then answer 410 and it leaves
    /// the environment's pending list, instead of inviting sign-offs nothing will deliver.
    /// Idempotent: what is already given back or closed is left as it is.
    pub(super) async fn let_go(
        &self,
        release: &ReleaseId,
        execution: Option<&str>,
        env: &str,
    ) -> Result<u32, BatonError> {
        Leases::release(&self.store, env, &redeploy::lease_holder(release, execution)).await?;
        let redeploying = redeploy::is_redeploy_execution(execution)
            .then_some(execution)
            .flatten();
        // The redeploy a request belongs to, if any: its confirmation, or a question it asked.
        fn owner(a: &Approval) -> Option<&str> {
            a.redeploy
                .as_ref()
                .map(|r| r.execution.as_str())
                .or(a.failure.as_ref().and_then(|f| f.execution.as_deref()))
                .filter(|e| redeploy::is_redeploy_execution(Some(e)))
        }
        let mut closed = 0;
        for approval in self
            .store
            .pending_approvals(env)
            .await?
            .iter()
            .filter(|a| &a.release_id == release && owner(a) == redeploying)
        {
            self.store
                .decide(&approval.id, ApprovalStatus::Expired, "baton", None, None, Utc::now())
                .await?;
            closed += 1;
        }
        Ok(closed)
    }

    pub(super) async fn finish(&self, step: &Step, config: &BatonConfig) -> Result<Value, BatonError> {
        let release = self.release(&step.release_id).await?;
        if step.redeploying() {
            return self.finish_redeploy(step, &release, config).await;
        }
        let outcome = step.outcome.as_deref().unwrap_or("Failed");
        let status = match outcome {
            "Released" => ReleaseStatus::Released,
            "Rejected" => ReleaseStatus::Rejected,
            "Expired" => ReleaseStatus::Expired,
            "Superseded" => ReleaseStatus::Superseded,
            "RolledBack" => ReleaseStatus::RolledBack,
            "Blocked" => ReleaseStatus::Blocked,
            // "Left" (left as the failure left it, by an approver's answer) and any failure.
            _ => ReleaseStatus::Failed,
        };
        let env = step.environment.as_deref();
        if let Some(env) = env {
            self.let_go(&release.id, step.execution.as_deref(), env).await?;
        }
        let raw = step.cause.clone().or_else(|| step.error.clone()).unwrap_or_default();
        // The log keeps the cause whole; the timeline, the page and the mail get words without
        // ARNs or account ids.
        tracing::info!(release = %release.id, environment = ?env, outcome, cause = %raw, "release finishing");
        let reason = baton_domain::redact::internals(&readable_cause(&raw));
        let detail = match (status, env) {
            (ReleaseStatus::Released, _) => "live in every environment".to_string(),
            (_, Some(_)) if outcome == "Left" => reason.clone(),
            (_, Some(env)) => format!("{outcome} in {env}: {reason}"),
            (_, None) => format!("{outcome}: {reason}"),
        };
        crate::timeline::record(
            &self.store,
            &release.id,
            env,
            &outcome.to_ascii_lowercase(),
            "baton",
            detail,
        )
        .await?;
        // The event first, then the status: whoever sees the final status sees its event too.
        self.store.set_release_status(&release.id, status).await?;
        if matches!(
            status,
            ReleaseStatus::Failed | ReleaseStatus::RolledBack | ReleaseStatus::Blocked
        ) {
            let env_name = env.unwrap_or("an environment");
            let managers = env
                .and_then(|e| config.environment(e))
                .map(|e| e.approvers.clone())
                .unwrap_or_default();
            // "Rolled back" only when something was changed there and put back (DORA's and a
            // person's reading): a failure before any change changed nothing to put back.
            let changed = match env {
                Some(env) if status == ReleaseStatus::RolledBack => {
                    self.changed_anything(&release.id, env, config).await?
                }
                _ => true,
            };
            let (words, reason) = match status {
                ReleaseStatus::RolledBack if !changed => ("failed before any change", reason.clone()),
                ReleaseStatus::RolledBack => ("failed and was rolled back", reason.clone()),
                ReleaseStatus::Blocked => (
                    "is blocked before sign-off",
                    format!(
                        "{reason}. Nothing was changed and nobody was asked to approve it: fix what is listed, then push a new version"
                    ),
                ),
                _ if outcome == "Left" => ("failed and was left as it is", reason.clone()),
                _ => ("failed", reason.clone()),
            };
            // A release that failed where it passed the gate may be tried again there (a
            // redeploy, confirmed by an approver): the mail links to its page's form.
            let retry = match (status, env) {
                (ReleaseStatus::Failed | ReleaseStatus::RolledBack, Some(env))
                    if redeploy::eligible(&Timeline::events(&self.store, &release.id).await?, env) =>
                {
                    Some(format!(
                        "{}/releases/{}#again",
                        config.public_url.trim_end_matches('/'),
                        release.id
                    ))
                }
                _ => None,
            };
            let page = format!("{}/releases/{}", config.public_url.trim_end_matches('/'), release.id);
            for to in managers {
                let mail = baton_html::mail::deployment_failed_at(
                    &release,
                    env_name,
                    &to,
                    words,
                    &reason,
                    retry.as_deref(),
                    Some(&page),
                );
                self.mailer.send(&config.mail.sender, &mail).await?;
            }
        }
        tracing::info!(release = %release.id, outcome, "release finished");
        Ok(json!({ "releaseId": release.id, "status": status }))
    }
}

/// Step Functions wraps a Lambda error's cause as JSON (`{"errorMessage": ...}`); people
/// want the message.
pub(super) fn readable_cause(cause: &str) -> String {
    serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| cause.to_string())
}

impl<C, S, M> Lifecycle<C, S, M>
where
    S: DeploymentStore,
{
    /// Whether `release` changed anything in `env`: one read per configured component (only on
    /// the failure path).
    async fn changed_anything(&self, release: &ReleaseId, env: &str, config: &BatonConfig) -> Result<bool, BatonError> {
        let mut deployments = Vec::new();
        for component in &config.components {
            if let Some(d) = self.store.deployment(release, env, &component.name).await? {
                deployments.push(d);
            }
        }
        Ok(baton_domain::ports::status::changed_in(release, env, &deployments))
    }
}
