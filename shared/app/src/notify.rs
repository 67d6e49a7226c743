//! `notify`: called by the state machine with a task token, it asks an environment's approvers
//! for a decision: one approval record, one personal link and mail per approver.
//!
//! Idempotent: the approval's id derives from the task token, so a retried invocation finds
//! the same approval and only mails approvers not mailed yet. Under the `supersede` policy it
//! withdraws older pending approvals in the environment (their workflows get
//! `Baton.Superseded`), and refuses itself if a newer release already waits there.

use async_trait::async_trait;
use baton_domain::approval::delivery::{APPROVERS_UNREACHABLE, DeliveryRecords, UNREACHABLE_WORDS};
use baton_domain::approval::evidence::{Evidence, previous_environment};
use baton_domain::approval::pending::{self, PendingHolder, PendingPointers, Turn};
use baton_domain::approval::{Approval, ApprovalStatus, EnvironmentChange, NewRequest};
use baton_domain::config::SupersedePolicy;
use baton_domain::drift::DriftStore;
use baton_domain::plan::EnvironmentPlan;
use baton_domain::ports::{
    ApprovalStore, ChangeHistory, ConfigSource, DeploymentStore, Mailer, ReleaseStore, TaskCallbacks, Timeline,
};
use baton_domain::redeploy::{self, Redeploy};
use baton_domain::release::{ReleaseNote, ReleaseStatus, notes_between};
use baton_domain::{BatonError, ErrorKind, Release, ReleaseId};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Function;

/// How much earlier than Step Functions' own timeout Baton treats a request as lapsed, so a
/// decision is never accepted for a task that has just timed out.
pub(crate) const EXPIRY_MARGIN_SECONDS: i64 = 5;

/// How often a request reads and tries to take an environment's pending pointer before it
/// gives up for this invocation (a transient error: the workflow retries it). Each failed try
/// means another request took the pointer meanwhile.
const POINTER_TRIES: usize = 5;

/// Most packages per component whose notes an approval request carries (the newest): a
/// component years behind in an environment still gets a readable mail.
const NOTES_PER_COMPONENT: usize = 30;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotifyRequest {
    release_id: ReleaseId,
    environment: String,
    task_token: String,
    /// The pre-flight's plan for this environment (`{lines, hash}`), shown to approvers and
    /// kept, hashed, on the approval.
    #[serde(default)]
    plan: Option<PlanInput>,
    /// The execution's name: a release's own, or a redeploy's.
    #[serde(default)]
    execution: Option<String>,
    /// The redeploy this execution is, if it is one: its confirmation is asked of the approver
    /// who requested it, and of nobody else.
    #[serde(default)]
    redeploy: Option<Redeploy>,
}

#[derive(Deserialize)]
struct PlanInput {
    #[serde(default)]
    lines: EnvironmentPlan,
}

/// The notify handler over its ports.
pub struct Notify<C, S, M, T> {
    config: C,
    store: S,
    mailer: M,
    callbacks: T,
}

/// The approval id for a task token: stable across retries, reveals nothing of the token.
pub fn approval_id(task_token: &str) -> String {
    baton_domain::sha256_hex(task_token.as_bytes())[..baton_domain::approval::APPROVAL_ID_LEN].to_string()
}

impl<C, S, M, T> Notify<C, S, M, T>
where
    C: ConfigSource,
    S: ReleaseStore
        + DeploymentStore
        + ApprovalStore
        + Timeline
        + ChangeHistory
        + DeliveryRecords
        + PendingPointers
        + DriftStore,
    M: Mailer,
    T: TaskCallbacks,
{
    /// The handler over these adapters.
    pub fn new(config: C, store: S, mailer: M, callbacks: T) -> Self {
        Notify {
            config,
            store,
            mailer,
            callbacks,
        }
    }

    async fn changes(&self, release: &Release, environment: &str) -> Result<Vec<EnvironmentChange>, BatonError> {
        let state = self.store.environment_state(environment).await?;
        Ok(release
            .snapshot
            .values()
            .map(|p| EnvironmentChange {
                component: p.component.clone(),
                live: state.live(&p.component).map(|l| l.package.version.clone()),
                next: p.version.clone(),
            })
            .collect())
    }

    /// The notes of every package each changed component moves through in `environment`,
    /// from what is live there (excluded) to what the release brings, kept on the release for
    /// its page too.
    async fn notes_since_live(
        &self,
        release: &Release,
        environment: &str,
        changes: &[EnvironmentChange],
    ) -> Result<Vec<ReleaseNote>, BatonError> {
        let mut notes = Vec::new();
        for change in changes.iter().filter(|c| c.live.as_ref() != Some(&c.next)) {
            let packages = self
                .store
                .packages_between(
                    &change.component,
                    change.live.as_ref(),
                    &change.next,
                    NOTES_PER_COMPONENT,
                )
                .await?;
            notes.extend(notes_between(&packages, change.live.as_ref(), &change.next));
        }
        self.store
            .save_environment_notes(&release.id, environment, &notes)
            .await?;
        Ok(notes)
    }

    /// Applies the supersede policy: the environment's pending pointer decides, with a
    /// conditional write, which of the releases asking waits (`Err(Superseded)` if a newer one
    /// does); the request it replaced, and any other older request still pending, are
    /// withdrawn. The index of pending approvals is only swept for older requests (failure
    /// questions, requests from before the pointer): being eventually consistent, it cannot
    /// decide between two requests racing.
    async fn supersede(&self, approval: &Approval) -> Result<(), BatonError> {
        let mine = PendingHolder {
            approval_id: approval.id.clone(),
            release_id: approval.release_id.clone(),
            number: approval.number,
        };
        let mut replaced = None;
        let mut settled = false;
        for _ in 0..POINTER_TRIES {
            let current = self.store.pending_pointer(&approval.environment).await?;
            let holder_waiting = match &current {
                Some(p) if p.holder.approval_id != approval.id => self
                    .store
                    .approval(&p.holder.approval_id)
                    .await?
                    .is_some_and(|a| a.status == ApprovalStatus::Pending),
                _ => false,
            };
            match pending::turn(&mine, current.as_ref(), holder_waiting) {
                Turn::Yield { to } => return self.withdraw_self(approval, &to.release_id).await,
                Turn::Holding { replaced: earlier } => {
                    replaced = earlier;
                    settled = true;
                }
                Turn::Take { replacing } => {
                    if self
                        .store
                        .take_pending(&approval.environment, &mine, replacing.as_ref())
                        .await?
                    {
                        replaced = replacing;
                        settled = true;
                    }
                }
            }
            if settled {
                break;
            }
        }
        if !settled {
            return Err(BatonError::transient(format!(
                "other releases kept asking for sign-off in {} at the same moment; try again",
                approval.environment
            )));
        }
        if let Some(older) = replaced
            && let Some(older) = self.store.approval(&older.approval_id).await?
        {
            self.withdraw(&older, approval).await?;
        }
        for older in self.store.pending_approvals(&approval.environment).await? {
            // A redeploy's confirmation neither withdraws a release's request nor is withdrawn
            // by one: each asks something else of its approvers.
            if older.id == approval.id || older.redeploy.is_some() || older.number > approval.number {
                continue;
            }
            self.withdraw(&older, approval).await?;
        }
        Ok(())
    }

    /// Withdraws `approval` in favour of `newer`, which already waits in its environment.
    async fn withdraw_self(&self, approval: &Approval, newer: &ReleaseId) -> Result<(), BatonError> {
        self.store
            .decide(
                &approval.id,
                ApprovalStatus::Superseded,
                "baton",
                None,
                Some(newer),
                Utc::now(),
            )
            .await?;
        crate::timeline::record(
            &self.store,
            &approval.release_id,
            Some(&approval.environment),
            "superseded",
            "baton",
            format!("{newer} already waits for approval in {}", approval.environment),
        )
        .await?;
        Err(BatonError {
            kind: ErrorKind::Superseded,
            message: format!("superseded by {newer}"),
        })
    }

    /// Withdraws `older` in favour of `approval`, if it still waits (once: the decision is a
    /// conditional write), and fails its workflow's task with `Baton.Superseded`.
    async fn withdraw(&self, older: &Approval, approval: &Approval) -> Result<(), BatonError> {
        if older.id == approval.id || older.redeploy.is_some() {
            return Ok(());
        }
        if self
            .store
            .decide(
                &older.id,
                ApprovalStatus::Superseded,
                "baton",
                None,
                Some(&approval.release_id),
                Utc::now(),
            )
            .await?
        {
            self.callbacks
                .fail(
                    &older.task_token,
                    ErrorKind::Superseded.error_type(),
                    &format!("superseded by {}", approval.release_id),
                )
                .await?;
            crate::timeline::record(
                &self.store,
                &older.release_id,
                Some(&older.environment),
                "superseded",
                "baton",
                format!(
                    "replaced by {} while waiting for approval in {}",
                    approval.release_id, older.environment
                ),
            )
            .await?;
            tracing::info!(release = %older.release_id, by = %approval.release_id, environment = %older.environment, "older approval superseded");
        }
        Ok(())
    }

    async fn run(&self, request: NotifyRequest) -> Result<Value, BatonError> {
        let config = self.config.config().await?;
        let env = config
            .environment(&request.environment)
            .ok_or_else(|| BatonError::invalid(format!("environment '{}' is not configured", request.environment)))?
            .clone();
        let release = self
            .store
            .release(&request.release_id)
            .await?
            .ok_or_else(|| BatonError::invalid(format!("release {} does not exist", request.release_id)))?;
        let id = approval_id(&request.task_token);
        let now = Utc::now();
        let redeploy = Self::redeploy_of(&request, &env)?;
        let ttl = match redeploy {
            Some(_) => redeploy::CONFIRMATION_TTL.min(env.approval_ttl()),
            None => env.approval_ttl(),
        };
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(24));
        let approvers = match &redeploy {
            Some(r) => vec![r.requested_by.clone()],
            None => env.approvers.clone(),
        };
        let changes = self.changes(&release, &env.name).await?;
        let fresh = Approval {
            notes: self.notes_since_live(&release, &env.name, &changes).await?,
            plan_hash: request.plan.as_ref().map(|p| p.lines.hash()),
            plan: request.plan.as_ref().map(|p| p.lines.clone()).unwrap_or_default(),
            drift: self
                .store
                .open_drift(&env.name)
                .await?
                .iter()
                .map(|d| d.plan_line(&baton_html::human_time(d.since, config.zone())))
                .collect(),
            changes,
            redeploy: redeploy.clone(),
            ..Approval::pending(NewRequest {
                id: id.clone(),
                release_id: release.id.clone(),
                number: release.number,
                environment: env.name.clone(),
                task_token: request.task_token.clone(),
                created_at: now,
                expires_at: now + ttl - chrono::Duration::seconds(EXPIRY_MARGIN_SECONDS.min(ttl.num_seconds() / 2)),
                approvers: approvers.clone(),
            })
        };
        if self.store.create_approval(&fresh).await? {
            let until = baton_html::human_time(fresh.expires_at, config.zone());
            let detail = match &redeploy {
                Some(r) => format!(
                    "{}: confirmation asked of {} until {until}, reason: {}",
                    redeploy::action_words(release.number, &env.name, r.replacing),
                    r.requested_by,
                    r.reason
                ),
                None => {
                    // A redeploy leaves the release's own status to its own journey.
                    self.store
                        .set_release_status(&release.id, ReleaseStatus::AwaitingApproval)
                        .await?;
                    format!("sign-off asked of {} until {until}", approvers.join(", "))
                }
            };
            crate::timeline::record(
                &self.store,
                &release.id,
                Some(&env.name),
                "approval-requested",
                "baton",
                detail,
            )
            .await?;
        }
        let approval = self
            .store
            .approval(&id)
            .await?
            .ok_or_else(|| BatonError::transient("approval not readable yet"))?;
        if approval.status != ApprovalStatus::Pending {
            return Ok(json!({ "approvalId": id, "status": approval.status }));
        }
        if env.on_newer_release == SupersedePolicy::Supersede && approval.redeploy.is_none() {
            self.supersede(&approval).await?;
        }
        let mut unreached = Vec::new();
        let evidence = self.evidence(&config, &release, &approval).await?;
        for approver in approval.approvers.iter().filter(|a| !approval.mailed.contains(a)) {
            let link = crate::links::personal_link(&self.store, &id, approver, &config.public_url).await?;
            let mail = baton_html::mail::approval_request_with(
                &approval,
                &release,
                approver,
                &link,
                config.zone(),
                evidence.as_ref(),
            );
            // The mailer has retried already; a mail still refused leaves the request open
            // (the approver may yet be reached) and is shown, not thrown at the workflow.
            match self.mailer.send(&config.mail.sender, &mail).await {
                Ok(()) => self.store.mark_mailed(&id, approver).await?,
                Err(e) => unreached.push(e.message.strip_prefix("sending ").unwrap_or(&e.message).to_string()),
            }
        }
        self.note_unreached(&approval, &unreached).await?;
        tracing::info!(release = %release.id, environment = %env.name, approval = %id, "approval requested");
        Ok(json!({ "approvalId": id }))
    }

    /// The release's record in the environment before the one asked (live there since when,
    /// signed off by whom, its site there), for a release's own sign-off: one read of that
    /// environment's state, none for the first environment or a redeploy's confirmation.
    async fn evidence(
        &self,
        config: &baton_domain::BatonConfig,
        release: &Release,
        approval: &Approval,
    ) -> Result<Option<Evidence>, BatonError> {
        let before = match previous_environment(config, &approval.environment) {
            Some(env) if approval.redeploy.is_none() && approval.failure.is_none() => env,
            _ => return Ok(None),
        };
        let state = self.store.environment_state(before).await?;
        Ok(Evidence::of(&release.id, &state))
    }

    /// The redeploy this request is, checked: only a redeploy's execution may ask for a
    /// confirmation, only of an approver of the environment as configured now.
    fn redeploy_of(
        request: &NotifyRequest,
        env: &baton_domain::config::EnvironmentConfig,
    ) -> Result<Option<Redeploy>, BatonError> {
        let redeploying = redeploy::is_redeploy_execution(request.execution.as_deref());
        let Some(asked) = request.redeploy.clone().filter(|_| redeploying) else {
            if redeploying {
                return Err(BatonError::invalid("a redeploy execution must name its redeploy"));
            }
            return Ok(None);
        };
        if Some(asked.execution.as_str()) != request.execution.as_deref() || asked.environment != env.name {
            return Err(BatonError::invalid(
                "the redeploy named is another execution's or environment's",
            ));
        }
        if env.approver(&asked.requested_by).is_none() {
            return Err(BatonError {
                kind: ErrorKind::Unapproved,
                message: format!(
                    "{} is not an approver of {}, so nobody was asked to confirm; nothing was deployed",
                    asked.requested_by, env.name
                ),
            });
        }
        Ok(Some(asked))
    }

    /// Keeps on the approval, and tells the timeline once, that its mails could not be sent;
    /// clears that once a later try reached everyone. The request stays open either way: the
    /// workflow waits for a decision (or the request's expiry), and the status page, feed and
    /// API say that nobody may know they are asked.
    async fn note_unreached(&self, approval: &Approval, unreached: &[String]) -> Result<(), BatonError> {
        if unreached.is_empty() {
            if approval.mail_failure.is_some() {
                self.store.note_mail_failure(&approval.id, None).await?;
            }
            return Ok(());
        }
        let reason = unreached.join("; ");
        if self.store.note_mail_failure(&approval.id, Some(&reason)).await? {
            tracing::error!(release = %approval.release_id, environment = %approval.environment, reason = %reason, "approvers could not be mailed");
            crate::timeline::record(
                &self.store,
                &approval.release_id,
                Some(&approval.environment),
                APPROVERS_UNREACHABLE,
                "baton",
                format!("{UNREACHABLE_WORDS}: {reason}"),
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<C, S, M, T> Function for Notify<C, S, M, T>
where
    C: ConfigSource,
    S: ReleaseStore
        + DeploymentStore
        + ApprovalStore
        + Timeline
        + ChangeHistory
        + DeliveryRecords
        + PendingPointers
        + DriftStore,
    M: Mailer,
    T: TaskCallbacks,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let request: NotifyRequest = serde_json::from_value(payload)
            .map_err(|e| BatonError::invalid(format!("notify expects {{releaseId, environment, taskToken}}: {e}")))?;
        self.run(request).await
    }
}
