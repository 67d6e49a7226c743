//! An execution that ended outside Baton's own paths: stopped by hand, timed out, failed on a
//! limit of Step Functions (history, payload) or in a finishing step. EventBridge delivers
//! "Step Functions Execution Status Change" for `ABORTED`, `TIMED_OUT` and `FAILED`; this
//! handler makes sure nothing is left behind: the release gets a final status in words, its
//! open requests are closed (their links answer 410), every lease it holds is given back and
//! the environment's approvers are told.
//!
//! Baton's own endings (`RejectedStop`, `FailedStop`, ...) end the execution `FAILED` too,
//! after `finish` already wrote the outcome: then only the letting go is repeated, which
//! changes nothing. EventBridge delivers at least once, so the whole handler is idempotent.

use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::release::ReleaseStatus;
use baton_domain::{BatonError, ReleaseId, redeploy};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Lifecycle;
use super::finish::readable_cause;

/// The part of the EventBridge event Baton reads.
#[derive(Deserialize)]
struct StatusChange {
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    execution_arn: String,
    status: String,
    /// The execution's input, as a JSON string.
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    cause: Option<String>,
}

impl Detail {
    /// The release the execution was for: `releaseId` in its input, else the execution's name
    /// (Baton names each execution after its release).
    fn release_id(&self) -> Option<ReleaseId> {
        self.input
            .as_deref()
            .and_then(|i| serde_json::from_str::<Value>(i).ok())
            .and_then(|i| i.get("releaseId").and_then(Value::as_str).map(str::to_string))
            .or_else(|| self.execution_arn.rsplit(':').next().map(str::to_string))
            .filter(|id| !id.is_empty())
            .map(ReleaseId)
    }

    /// The execution's name (the last part of its ARN).
    fn execution(&self) -> Option<&str> {
        self.execution_arn.rsplit(':').next().filter(|n| !n.is_empty())
    }

    /// What happened, in words for the page (the ARN stays in the log).
    fn words(&self) -> String {
        match self.status.as_str() {
            "ABORTED" => "stopped by an operator, outside Baton".to_string(),
            "TIMED_OUT" => "its workflow ran out of time (Step Functions' limit)".to_string(),
            _ => {
                let raw = self.cause.clone().or_else(|| self.error.clone()).unwrap_or_default();
                let reason = baton_domain::redact::internals(&readable_cause(&raw));
                if reason.is_empty() {
                    "its workflow failed".to_string()
                } else {
                    format!("its workflow failed: {reason}")
                }
            }
        }
    }
}

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    pub(super) async fn execution_ended(&self, event: Value) -> Result<Value, BatonError> {
        let change: StatusChange = serde_json::from_value(event).map_err(|e| {
            BatonError::invalid(format!(
                "lifecycle expects a Step Functions Execution Status Change event: {e}"
            ))
        })?;
        let detail = change.detail;
        if !matches!(detail.status.as_str(), "ABORTED" | "TIMED_OUT" | "FAILED") {
            return Ok(json!({ "ignored": detail.status }));
        }
        let Some(release_id) = detail.release_id() else {
            return Ok(json!({ "ignored": "no release named" }));
        };
        let Some(release) = ReleaseStore::release(&self.store, &release_id).await? else {
            // Not one of Baton's (or long gone): nothing to tidy.
            return Ok(json!({ "ignored": "no such release" }));
        };
        let config = self.config.config().await?;
        // Which environment it was at: the one whose lease or open request it holds.
        let mut at = None;
        let execution = detail.execution();
        let holder = redeploy::lease_holder(&release.id, execution);
        for env in &config.environments {
            let held = self.store.holder(&env.name).await?.as_ref() == Some(&holder);
            let closed = self.let_go(&release.id, execution, &env.name).await?;
            if held || closed > 0 {
                at.get_or_insert_with(|| env.name.clone());
            }
        }
        if redeploy::is_redeploy_execution(execution) {
            // A redeploy never changed the release's status: tell its timeline, once (a repeated
            // event finds nothing left to let go of).
            if let Some(env) = at.as_deref() {
                let mut reason = detail.words();
                reason.push_str("; what it had changed stays as it is: check the environment");
                crate::timeline::record(
                    &self.store,
                    &release.id,
                    Some(env),
                    "redeploy-ended",
                    "baton",
                    format!("deploying release {} to {env} again {reason}", release.number),
                )
                .await?;
            }
            return Ok(json!({ "releaseId": release.id, "redeploy": detail.status }));
        }
        tracing::warn!(
            release = %release.id,
            execution = %detail.execution_arn,
            status = %detail.status,
            error = ?detail.error,
            cause = ?detail.cause,
            "execution ended outside Baton"
        );
        let in_flight = matches!(
            release.status,
            ReleaseStatus::Created | ReleaseStatus::AwaitingApproval | ReleaseStatus::Deploying
        );
        if !in_flight {
            // Baton's own finish already told the story; the letting go above was the repeat.
            return Ok(json!({ "releaseId": release.id, "status": release.status }));
        }
        let status = if detail.status == "FAILED" {
            ReleaseStatus::Failed
        } else {
            ReleaseStatus::Stopped
        };
        let mut reason = detail.words();
        if release.status == ReleaseStatus::Deploying {
            reason.push_str(
                "; it stopped while deploying, so what it had changed stays as it is: check the environment and deploy again",
            );
        }
        let env = at.as_deref();
        crate::timeline::record(
            &self.store,
            &release.id,
            env,
            if status == ReleaseStatus::Stopped {
                "stopped"
            } else {
                "failed"
            },
            "baton",
            format!("Release {} {reason}", release.number),
        )
        .await?;
        self.store.set_release_status(&release.id, status).await?;
        let env_name = env.unwrap_or("its environments");
        let managers: Vec<String> = match env.and_then(|e| config.environment(e)) {
            Some(e) => e.approvers.clone(),
            None => config
                .environments
                .first()
                .map(|e| e.approvers.clone())
                .unwrap_or_default(),
        };
        let words = if status == ReleaseStatus::Stopped {
            "was stopped"
        } else {
            "failed"
        };
        for to in managers {
            let mail = baton_html::mail::deployment_failed(&release, env_name, &to, words, &reason);
            self.mailer.send(&config.mail.sender, &mail).await?;
        }
        Ok(json!({ "releaseId": release.id, "status": status }))
    }
}
