//! `approve` (HTTP): the page behind an emailed link, and the decision it posts.
//!
//! `GET /approvals/{id}?token=…` shows the release and the change and decides nothing (mail
//! scanners open every link). `POST /approvals/{id}` with the token, `decision`
//! (`approve`/`reject`), the `confirm` box ticked and an optional comment decides once:
//! a conditional update from pending, then the workflow is told. A wrong token gets 403, a
//! lapsed or superseded request 410, a decided one 409 naming who decided; none changes anything.

use async_trait::async_trait;
use baton_domain::approval::delivery::{Decision, DecisionQueue, DeliveryRecords};
use baton_domain::approval::evidence::{Evidence, previous_environment};
use baton_domain::approval::schedule::chosen_time;
use baton_domain::approval::{Approval, ApprovalStatus, GateRules, LinkProblem, SignOff};
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Mailer, ReleaseStore, TaskCallbacks};
use baton_domain::{BatonConfig, BatonError, Release};
use baton_html::approval as pages;
use chrono::Utc;
use serde_json::Value;

use crate::Function;
use crate::deliver::{Delivery, deliver_inline};
use crate::http::{HttpRequest, html_response};

mod audit;
mod failure;
mod freeze;
mod hold;

use audit::audit_event;

pub use hold::{HELD, HOLD_ENDED, HOLD_LIFTED};

/// The approve handler over its ports.
pub struct Approve<C, S, M, T, Q> {
    config: C,
    store: S,
    mailer: M,
    callbacks: T,
    queue: Q,
}

impl<C, S, M, T, Q> Approve<C, S, M, T, Q>
where
    C: ConfigSource,
    S: ReleaseStore + ApprovalStore + DeliveryRecords + DeploymentStore,
    M: Mailer,
    T: TaskCallbacks,
    Q: DecisionQueue,
{
    /// The handler over these adapters; `queue` takes the decisions Step Functions did not take
    /// at once.
    pub fn new(config: C, store: S, mailer: M, callbacks: T, queue: Q) -> Self {
        Approve {
            config,
            store,
            mailer,
            callbacks,
            queue,
        }
    }

    async fn handle(&self, request: HttpRequest) -> Result<Value, BatonError> {
        let config = self.config.config().await?;
        let public_url = config.public_url.trim_end_matches('/').to_string();
        let Some(id) = request
            .path
            .strip_prefix("/approvals/")
            .filter(|id| baton_domain::approval::is_approval_id(id))
        else {
            return Ok(html_response(
                404,
                pages::message_page("Not found", "There is no page here."),
            ));
        };
        let Some(approval) = self.store.approval(id).await? else {
            // Same answer as a bad token: an unknown id tells a guesser nothing.
            return Ok(html_response(
                403,
                pages::problem_page(&LinkProblem::Forbidden, None, &public_url, config.zone()),
            ));
        };
        // An approved release waiting on a freeze: its approvers' links let it through.
        let link_token = match request.method.as_str() {
            "POST" => request.form().get("token").cloned(),
            _ => request.query.get("token").cloned(),
        };
        if let Some(answer) = self
            .freeze_link(&request, &approval, link_token.as_deref().unwrap_or_default(), &config)
            .await?
        {
            return Ok(answer);
        }
        // A failed deployment's question: retry, roll back or leave it.
        if let Some(answer) = self
            .failure_link(&request, &approval, link_token.as_deref().unwrap_or_default(), &config)
            .await?
        {
            return Ok(answer);
        }
        match request.method.as_str() {
            "GET" | "HEAD" => {
                let token = request.query.get("token").cloned().unwrap_or_default();
                match approval.check(&token, Utc::now()) {
                    Ok(approver) => {
                        let release = self.release_of(&approval).await?;
                        let rules = GateRules::of(config.environment(&approval.environment), &release, &approval);
                        if let Some(refusal) = not_entitled(&rules, &approval, approver) {
                            return Ok(refusal);
                        }
                        let view = pages::ApprovalView {
                            approval: &approval,
                            release: &release,
                            approver,
                            token: &token,
                            public_url: &public_url,
                            required: rules.required,
                            zone: config.zone(),
                        };
                        // The record of the environment before, for a release's own sign-off.
                        let evidence = match previous_environment(&config, &approval.environment) {
                            Some(before) if approval.redeploy.is_none() => {
                                Evidence::of(&release.id, &self.store.environment_state(before).await?)
                            }
                            _ => None,
                        };
                        Ok(html_response(200, pages::approval_page_with(&view, evidence.as_ref())))
                    }
                    Err(problem) => Ok(self.problem(&problem, &approval, &public_url, config.zone())),
                }
            }
            "POST" => self.decide(&request, approval, &public_url, &config).await,
            _ => Ok(html_response(
                405,
                pages::message_page("Method not allowed", "Use the link from your email."),
            )),
        }
    }

    async fn release_of(&self, approval: &Approval) -> Result<Release, BatonError> {
        self.store
            .release(&approval.release_id)
            .await?
            .ok_or_else(|| BatonError::internal("approval without its release"))
    }

    /// The page for a link that cannot be used, with its status; times on it in `zone`.
    fn problem(&self, problem: &LinkProblem, approval: &Approval, public_url: &str, zone: chrono_tz::Tz) -> Value {
        let shown = if matches!(problem, LinkProblem::Forbidden) {
            None
        } else {
            Some(approval)
        };
        html_response(
            problem.status_code(),
            pages::problem_page(problem, shown, public_url, zone),
        )
    }

    async fn decide(
        &self,
        request: &HttpRequest,
        approval: Approval,
        public_url: &str,
        config: &BatonConfig,
    ) -> Result<Value, BatonError> {
        let sender = config.mail.sender.as_str();
        let form = request.form();
        let token = form.get("token").cloned().unwrap_or_default();
        let approver = match approval.check(&token, Utc::now()) {
            Ok(approver) => approver.to_string(),
            Err(LinkProblem::Decided { by, .. })
                if approval.approver_for(&token) == Some(by.as_str()) && !approval.task_notified =>
            {
                // The same person's decision was recorded but the workflow has not had it yet
                // (Step Functions failing, or a crash in between): pass it on now.
                return self.pass_on(&approval, &token, public_url).await;
            }
            Err(problem) => return Ok(self.problem(&problem, &approval, public_url, config.zone())),
        };
        let approved = match form.get("decision").map(String::as_str) {
            Some("approve") => true,
            Some("reject") => false,
            Some(hold @ ("hold" | "lift")) => {
                // Not a decision: entitlement is all it needs (an author may say "not yet").
                let release = self.release_of(&approval).await?;
                let rules = GateRules::of(config.environment(&approval.environment), &release, &approval);
                if !rules.is_approver(&approver)
                    && let Some(refusal) = not_entitled(&rules, &approval, &approver)
                {
                    return Ok(refusal);
                }
                return self
                    .hold_or_lift(request, &approval, &approver, hold == "hold", config)
                    .await;
            }
            _ => {
                return Ok(html_response(
                    400,
                    pages::message_page(
                        "Choose Approve or Reject",
                        "The form did not say which; nothing was recorded. Go back and press one of the buttons.",
                    ),
                ));
            }
        };
        if form.get("confirm").map(String::as_str) != Some("yes") {
            return Ok(html_response(
                400,
                pages::message_page(
                    "Please confirm",
                    "Tick “I have reviewed the changes” before deciding; nothing was recorded.",
                ),
            ));
        }
        // Entitlement is checked against the configuration as it is now, not as it was when
        // the mail went out: a removed approver's link decides nothing.
        let release = self.release_of(&approval).await?;
        let rules = GateRules::of(config.environment(&approval.environment), &release, &approval);
        if let Some(refusal) = not_entitled(&rules, &approval, &approver) {
            return Ok(refusal);
        }
        // When to deploy: at once, or at a time the approver chose before the request lapses.
        let deploy_at = match chosen_time(
            form.get("when").map(String::as_str),
            form.get("deploy_at").map(String::as_str),
            config.zone(),
            Utc::now(),
            approval.expires_at,
        ) {
            Ok(at) => at.filter(|_| approved),
            Err(problem) if approved => {
                return Ok(html_response(
                    400,
                    pages::message_page(
                        "Choose another time",
                        &format!("{problem}. Nothing was recorded; go back and choose again."),
                    ),
                ));
            }
            Err(_) => None,
        };
        let comment = form
            .get("comment")
            .map(|c| c.trim().chars().take(2000).collect::<String>())
            .filter(|c| !c.is_empty());
        if let (true, Some(hold)) = (approved, approval.hold_at(Utc::now())) {
            return Ok(html_response(
                409,
                pages::message_page(
                    "On hold",
                    &format!(
                        "{} put this request on hold: {}. Nothing was recorded; lift the hold from your link first, then approve.",
                        hold.by, hold.reason
                    ),
                ),
            ));
        }
        let verb = if approved { "approved" } else { "rejected" };
        let recorded = if approved {
            let (signers, _) = approval.qualifying_signers(&rules);
            if signers.iter().any(|s| s.eq_ignore_ascii_case(&approver)) {
                return Ok(html_response(
                    409,
                    pages::signed_off_page(&approval, &approver, signers.len(), rules.required),
                ));
            }
            let sign_off = SignOff {
                by: approver.clone(),
                at: Utc::now(),
                comment: comment.clone(),
                deploy_at,
                choice: None,
            };
            let complete = signers.len() + 1 >= rules.required;
            let kind = if complete { verb } else { "signed-off" };
            let event = audit_event(request, &approval, kind, &approver, comment.as_deref());
            let recorded = self
                .store
                .record_sign_off(&approval.id, &sign_off, approval.sign_offs.len(), complete, &event)
                .await?;
            if recorded && !complete {
                let (have, need) = (signers.len() + 1, rules.required);
                tracing::info!(release = %approval.release_id, environment = %approval.environment, have, need, "sign-off recorded");
                return Ok(html_response(
                    200,
                    pages::signed_off_page(&approval, &approver, have, need),
                ));
            }
            recorded
        } else {
            let event = audit_event(request, &approval, verb, &approver, comment.as_deref());
            let decision = Decision {
                status: ApprovalStatus::Rejected,
                by: &approver,
                comment: comment.as_deref(),
                at: event.at,
            };
            self.store.record_decision(&approval.id, &decision, &event).await?
        };
        if !recorded {
            // Someone else decided in the meantime: show what they did. If it is still open,
            // another approver signed off at the same moment: nothing of this POST was kept.
            let now = self.store.approval(&approval.id).await?.unwrap_or(approval);
            return Ok(match now.check(&token, Utc::now()) {
                Err(problem) => self.problem(&problem, &now, public_url, config.zone()),
                Ok(_) => html_response(
                    409,
                    pages::message_page(
                        "Another approver signed off at the same moment",
                        "Nothing of yours was recorded. Open your link again to see where the request stands, and decide there.",
                    ),
                ),
            });
        }
        tracing::info!(release = %approval.release_id, environment = %approval.environment, approved, "decision recorded");
        // The record as it now stands: the decision is in it, so a delivery sends exactly it.
        let decided = self
            .store
            .approval(&approval.id)
            .await?
            .ok_or_else(|| BatonError::internal("an approval vanished after its decision"))?;
        let answer = self.pass_on(&decided, &token, public_url).await?;
        // Everyone asked hears of the decision; a deployment for later comes with an invitation
        // for its time.
        let scheduled_at = decided.deploy_at().filter(|_| approved);
        for other in approval
            .approvers
            .iter()
            .filter(|a| scheduled_at.is_some() || **a != approver)
        {
            let mail = match scheduled_at {
                Some(at) => baton_html::mail::deployment_scheduled(&baton_html::mail::Scheduled {
                    approval: &decided,
                    to: other,
                    by: &approver,
                    at,
                    now: Utc::now(),
                    zone: config.zone(),
                    public_url,
                    sender,
                }),
                None => baton_html::mail::decided_follow_up(&approval, other, &approver, approved),
            };
            if let Err(e) = self.mailer.send(sender, &mail).await {
                tracing::warn!(error = %e, "follow-up mail not sent");
            }
        }
        Ok(answer)
    }

    /// Passes a recorded decision to the workflow: a few tries inline, then the decisions
    /// queue. The approver hears that it is recorded whatever Step Functions does; only a
    /// request that had closed gets another answer (it came too late).
    async fn pass_on(&self, approval: &Approval, token: &str, public_url: &str) -> Result<Value, BatonError> {
        let approved = approval.status == ApprovalStatus::Approved;
        match deliver_inline(&self.store, &self.callbacks, approval).await {
            Ok(Delivery::Delivered) => Ok(html_response(
                200,
                pages::decided_page_with(approval, approved, Some(public_url)),
            )),
            Ok(Delivery::TooLate) => Ok(html_response(410, pages::too_late_page(approval, approved))),
            Err(undelivered) => {
                tracing::warn!(release = %approval.release_id, environment = %approval.environment, error = %undelivered, "decision not delivered inline; queued");
                let again = match self.queue.enqueue(&approval.id).await {
                    Ok(()) => None,
                    Err(e) => {
                        // Still recorded: the same person pressing again passes it on.
                        tracing::error!(release = %approval.release_id, error = %e, "decision neither delivered nor queued");
                        Some((token, if approved { "approve" } else { "reject" }))
                    }
                };
                Ok(html_response(
                    200,
                    pages::decision_pending_page(approval, approved, again),
                ))
            }
        }
    }
}

/// The 403 page for a link whose approver may not decide under the configuration as it is now.
fn not_entitled(rules: &GateRules, approval: &Approval, approver: &str) -> Option<Value> {
    let text = if !rules.is_approver(approver) {
        format!(
            "{approver} is no longer an approver of {}. Nothing was recorded; the release manager can tell you who decides now.",
            approval.environment
        )
    } else if rules.is_self_approval(approver) {
        format!(
            "Release {} carries a change you made, and {} needs someone else's sign-off. Nothing was recorded.",
            approval.number, approval.environment
        )
    } else {
        return None;
    };
    Some(html_response(
        403,
        pages::message_page("You cannot decide this request", &text),
    ))
}

#[async_trait]
impl<C, S, M, T, Q> Function for Approve<C, S, M, T, Q>
where
    C: ConfigSource,
    S: ReleaseStore + ApprovalStore + DeliveryRecords + DeploymentStore,
    M: Mailer,
    T: TaskCallbacks,
    Q: DecisionQueue,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        self.handle(HttpRequest::from_event(payload)).await
    }
}
