//! `lifecycle`: the small steps of the release state machine that only read and write Baton's
//! own records. Actions:
//!
//! - `prepare` `{releaseId}`: the plan the state machine iterates: environments in lifecycle
//!   order with their approval TTL, each with the deploy waves (backend first);
//! - `settled` `{releaseId}`: after the settle window, `Baton.Superseded` if a newer release was
//!   made meanwhile (`lifecycle/settle.rs`);
//! - `acquire-lease` `{releaseId, environment, waitsLeft, freezeDeadline}`: `{"acquired": bool,
//!   "frozen": bool, "until", ...}`; one deployment per environment at a time, none during a
//!   freeze (see `lifecycle/lease.rs`);
//! - `check-gates` `{releaseId, environment, approval}`: re-checked at deployment time;
//!   `Baton.Superseded` if a newer release is already live there or this one was superseded;
//!   `Baton.Unapproved` unless the approval record the callback names is this request's, approved
//!   by enough people who are approvers now (a task callback alone proves nothing); answers
//!   `{approvalId, approvedBy}` from that record;
//! - `record` `{releaseId, environment, approvedBy}`: the environment's new live state (the
//!   previous one kept as the rollback target), then the lease is given back;
//! - `rollback-plan` `{releaseId, environment}`: the components this release changed there,
//!   in reverse deploy order;
//! - `finish` `{releaseId, outcome, environment?, error?, cause?}`: the release's final status,
//!   the lease given back, the release manager told of failures (a redeploy's: its timeline
//!   only, see `lifecycle/redeploys.rs`);
//! - `await-freeze`, `ask-on-failure`, `failure-choice`: waits on a freeze and guided failure
//!   (`lifecycle/freeze_wait.rs`, `lifecycle/guided.rs`).
//!
//! Every step carries the execution's name (`execution`): a release's own, or a redeploy's
//! (`redeploy-...`), which holds the lease under its own name and leaves release statuses alone.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use baton_domain::approval::is_approval_id;
use baton_domain::deployment::{DeployStatus, LiveComponent, LiveRelease};
use baton_domain::plan::{EnvironmentPlan, PreflightAnswer, preflight_problems};
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonConfig, BatonError, ErrorKind, Release, ReleaseId, redeploy};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Function;

mod ended;
mod finish;
mod freeze_wait;
mod gates;
mod guided;
mod lease;
mod prepare;
mod record;
mod redeploys;
mod settle;

use finish::readable_cause;

use baton_domain::config::limits::MAX_PLAN_ROUNDS;

/// Longest an environment lease lasts without its holder renewing it (each deployment step
/// does): a crashed workflow's lease frees itself after this.
pub const LEASE_TTL: Duration = Duration::from_secs(2 * 3_600);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Step {
    action: String,
    release_id: ReleaseId,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    approved_by: Option<String>,
    /// What the approval task answered: whatever a `SendTaskSuccess` sent, trusted for nothing
    /// but the id of the record to read.
    #[serde(default)]
    approval: Option<Value>,
    /// The pre-flight checks' answers, one per component (`preflight-verdict`, `verify-plan`).
    #[serde(default)]
    results: Vec<PreflightAnswer>,
    /// The hash of the plan about to deploy (`check-gates`).
    #[serde(default)]
    plan_hash: Option<String>,
    /// The plan that was approved (`verify-plan`).
    #[serde(default)]
    approved: Option<Value>,
    /// Lease tries left before giving up on a busy environment (`acquire-lease`).
    #[serde(default)]
    waits_left: Option<u64>,
    /// When a release still frozen out of the environment gives up (`acquire-lease`): set at
    /// the first freeze it meets there.
    #[serde(default)]
    freeze_deadline: Option<chrono::DateTime<Utc>>,
    /// Waits on freezes left in this environment (`acquire-lease`).
    #[serde(default)]
    freeze_waits_left: Option<u64>,
    /// The waiting task's token (`await-freeze`).
    #[serde(default)]
    task_token: Option<String>,
    /// The time the last `acquire-lease` answer waited for, if it waited (`acquire-lease`).
    #[serde(default)]
    until: Option<chrono::DateTime<Utc>>,
    /// The lease's fence (`record`).
    #[serde(default)]
    fence: Option<u64>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    cause: Option<String>,
    /// The execution's name (`$$.Execution.Name`): a release's own, or a redeploy's.
    #[serde(default)]
    execution: Option<String>,
    /// The execution's input (`prepare`): a redeploy's names what it redeploys.
    #[serde(default)]
    input: Option<Value>,
    /// Failure questions this environment's deployment may still ask (`ask-on-failure`,
    /// `failure-choice`).
    #[serde(default)]
    asks_left: Option<u64>,
}

impl Step {
    /// The id of the approval record the approval task's answer names, if it has the form of
    /// one: the answer is trusted for nothing else.
    fn approval_id(&self) -> Option<&str> {
        self.approval
            .as_ref()
            .and_then(|a| a.get("approvalId"))
            .and_then(Value::as_str)
            .filter(|id| is_approval_id(id))
    }

    /// Whether this step is a redeploy's (see [`baton_domain::redeploy`]).
    fn redeploying(&self) -> bool {
        redeploy::is_redeploy_execution(self.execution.as_deref())
    }

    /// Who holds the environment's lease for this execution.
    fn holder(&self) -> ReleaseId {
        redeploy::lease_holder(&self.release_id, self.execution.as_deref())
    }
}

/// The lifecycle handler over its ports.
pub struct Lifecycle<C, S, M> {
    config: C,
    store: S,
    mailer: M,
}

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// The handler over these adapters.
    pub fn new(config: C, store: S, mailer: M) -> Self {
        Lifecycle { config, store, mailer }
    }

    fn environment<'a>(step: &'a Step, config: &BatonConfig) -> Result<&'a str, BatonError> {
        let env = step
            .environment
            .as_deref()
            .ok_or_else(|| BatonError::invalid(format!("{} needs an environment", step.action)))?;
        if config.environment(env).is_none() {
            return Err(BatonError::invalid(format!("environment '{env}' is not configured")));
        }
        Ok(env)
    }

    async fn release(&self, id: &ReleaseId) -> Result<Release, BatonError> {
        ReleaseStore::release(&self.store, id)
            .await?
            .ok_or_else(|| BatonError::invalid(format!("release {id} does not exist")))
    }

    async fn run(&self, step: Step) -> Result<Value, BatonError> {
        let config = self.config.config().await?;
        match step.action.as_str() {
            "prepare" => self.prepare(&step, &config).await,
            "acquire-lease" => {
                let env = Self::environment(&step, &config)?;
                self.acquire_lease(env, &step, &config).await
            }
            "check-gates" => {
                let env = Self::environment(&step, &config)?;
                self.check_gates(env, &step, &config).await
            }
            "record" => {
                let env = Self::environment(&step, &config)?;
                let release = self.release(&step.release_id).await?;
                let mut components = BTreeMap::new();
                for (name, package) in &release.snapshot {
                    let deployed = self.store.deployment(&release.id, env, name).await?;
                    components.insert(
                        name.clone(),
                        LiveComponent {
                            package: package.clone(),
                            detail: deployed.and_then(|d| d.detail),
                        },
                    );
                }
                let live = LiveRelease {
                    release_id: release.id.clone(),
                    number: release.number,
                    components,
                    since: Utc::now(),
                    approved_by: step.approved_by.clone(),
                    fence: step.fence,
                    execution: step.execution.clone(),
                };
                let replaced = self.record_live(env, &release, live, &step).await?;
                Leases::release(&self.store, env, &step.holder()).await?;
                crate::timeline::record(
                    &self.store,
                    &release.id,
                    Some(env),
                    "live",
                    "baton",
                    format!("release {} is live in {env}", release.number),
                )
                .await?;
                if step.redeploying() {
                    self.tell_redeployed(&step, &release, env, replaced).await?;
                }
                tracing::info!(release = %release.id, environment = env, "environment recorded");
                Ok(json!({ "recorded": env }))
            }
            "rollback-plan" => {
                let env = Self::environment(&step, &config)?;
                let release = self.release(&step.release_id).await?;
                let mut changed = Vec::new();
                for c in &config.components {
                    // Only what this deployment changed: a redeploy leaves the records of the
                    // release's earlier deployments there as they were.
                    if let Some(d) = self.store.deployment(&release.id, env, &c.name).await?
                        && d.status != DeployStatus::RolledBack
                        && d.fence == step.fence
                    {
                        changed.push((c.effective_wave(), json!({ "component": c.name, "kind": c.kind })));
                    }
                }
                // Undo in reverse: the last wave deployed is the first put back.
                changed.sort_by_key(|c| std::cmp::Reverse(c.0));
                Ok(json!({ "components": changed.into_iter().map(|(_, c)| c).collect::<Vec<_>>() }))
            }
            "preflight-verdict" => {
                let env = Self::environment(&step, &config)?;
                let problems = preflight_problems(&step.results);
                if problems.is_empty() {
                    let plan = EnvironmentPlan::of(&step.results);
                    return Ok(json!({ "ok": true, "plan": plan, "planHash": plan.hash() }));
                }
                Err(BatonError {
                    kind: ErrorKind::Blocked,
                    message: format!("{env} cannot take this release: {}", problems.join("; ")),
                })
            }
            "verify-plan" => {
                let env = Self::environment(&step, &config)?;
                let approved: EnvironmentPlan = step
                    .approved
                    .clone()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default();
                let now = EnvironmentPlan::of(&step.results);
                let mut differences = preflight_problems(&step.results);
                for component in approved
                    .0
                    .keys()
                    .chain(now.0.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                {
                    differences.extend(
                        approved
                            .differences(component, now.lines(component))
                            .into_iter()
                            .map(|d| format!("{component}: {d}")),
                    );
                }
                if differences.is_empty() {
                    return Ok(json!({ "ok": true }));
                }
                Err(BatonError {
                    kind: ErrorKind::PlanChanged,
                    message: format!(
                        "what deploying would change in {env} is not what was approved, so nothing was deployed: {}",
                        differences.join("; ")
                    ),
                })
            }
            "plan-changed" => {
                let env = Self::environment(&step, &config)?;
                let raw = step.cause.clone().unwrap_or_default();
                let reason = baton_domain::redact::internals(&readable_cause(&raw));
                Leases::release(&self.store, env, &step.holder()).await?;
                // Bounded: a plan that keeps changing under the approvers ends the release
                // instead of asking them for ever (DESIGN §3.8).
                let rounds = Timeline::events(&self.store, &step.release_id)
                    .await?
                    .iter()
                    .filter(|e| e.kind == "plan-changed" && e.environment.as_deref() == Some(env))
                    .count();
                if rounds as u64 >= MAX_PLAN_ROUNDS {
                    return Err(BatonError {
                        kind: ErrorKind::DeployFailed,
                        message: format!(
                            "the plan for {env} changed {} times between approval and deployment; nothing was deployed: {reason}",
                            rounds + 1
                        ),
                    });
                }
                crate::timeline::record(
                    &self.store,
                    &step.release_id,
                    Some(env),
                    "plan-changed",
                    "baton",
                    format!("{reason}; asking for sign-off again with the new plan"),
                )
                .await?;
                Ok(json!({ "askAgain": env }))
            }
            "finish" => self.finish(&step, &config).await,
            "settled" => self.settled(&step, &config).await,
            "await-freeze" => {
                let env = Self::environment(&step, &config)?;
                self.await_freeze(env, &step, &config).await
            }
            "ask-on-failure" => {
                let env = Self::environment(&step, &config)?;
                self.ask_on_failure(env, &step, &config).await
            }
            "failure-choice" => {
                let env = Self::environment(&step, &config)?;
                self.failure_choice(env, &step, &config).await
            }
            other => Err(BatonError::invalid(format!(
                "lifecycle does not know action '{other}'; use prepare, preflight-verdict, acquire-lease, await-freeze, verify-plan, check-gates, plan-changed, record, rollback-plan, ask-on-failure, failure-choice or finish"
            ))),
        }
    }
}

#[async_trait]
impl<C, S, M> Function for Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        if payload.get("detail-type").is_some() {
            return self.execution_ended(payload).await;
        }
        let step: Step = serde_json::from_value(payload)
            .map_err(|e| BatonError::invalid(format!("lifecycle expects {{action, releaseId, ...}}: {e}")))?;
        self.run(step).await
    }
}
