//! `approve` (HTTP): the page behind an emailed link, and the decision it posts.
//!
//! `GET /approvals/{id}?token=…` shows the release and the change and decides nothing (mail
//! scanners open every link). `POST /approvals/{id}` with the token, `decision`
//! (`approve`/`reject`), the `confirm` box ticked and an optional comment decides once:
//! a conditional update from pending, then the workflow is told. A wrong token gets 403, a
//! lapsed or superseded request 410, a decided one 409 naming who decided; none changes anything.

use async_trait::async_trait;
use baton_domain::approval::{Approval, ApprovalStatus, LinkProblem};
use baton_domain::ports::{ApprovalStore, ConfigSource, Mailer, ReleaseStore, TaskAnswer, TaskCallbacks, Timeline};
use baton_domain::{BatonError, ErrorKind};
use baton_html::approval as pages;
use chrono::Utc;
use serde_json::{Value, json};

use crate::Function;
use crate::http::{HttpRequest, html_response};

/// The approve handler over its ports.
pub struct Approve<C, S, M, T> {
    config: C,
    store: S,
    mailer: M,
    callbacks: T,
}

impl<C, S, M, T> Approve<C, S, M, T>
where
    C: ConfigSource,
    S: ReleaseStore + ApprovalStore + Timeline,
    M: Mailer,
    T: TaskCallbacks,
{
    /// The handler over these adapters.
    pub fn new(config: C, store: S, mailer: M, callbacks: T) -> Self {
        Approve {
            config,
            store,
            mailer,
            callbacks,
        }
    }

    async fn handle(&self, request: HttpRequest) -> Result<Value, BatonError> {
        let config = self.config.config().await?;
        let public_url = config.public_url.trim_end_matches('/').to_string();
        let Some(id) = request
            .path
            .strip_prefix("/approvals/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
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
                pages::problem_page(&LinkProblem::Forbidden, None, &public_url),
            ));
        };
        match request.method.as_str() {
            "GET" | "HEAD" => {
                let token = request.query.get("token").cloned().unwrap_or_default();
                match approval.check(&token, Utc::now()) {
                    Ok(approver) => {
                        let release = self
                            .store
                            .release(&approval.release_id)
                            .await?
                            .ok_or_else(|| BatonError::internal("approval without its release"))?;
                        let view = pages::ApprovalView {
                            approval: &approval,
                            release: &release,
                            approver,
                            token: &token,
                            public_url: &public_url,
                        };
                        Ok(html_response(200, pages::approval_page(&view)))
                    }
                    Err(problem) => Ok(self.problem(&problem, &approval, &public_url)),
                }
            }
            "POST" => self.decide(&request, approval, &public_url, &config.mail.sender).await,
            _ => Ok(html_response(
                405,
                pages::message_page("Method not allowed", "Use the link from your email."),
            )),
        }
    }

    fn problem(&self, problem: &LinkProblem, approval: &Approval, public_url: &str) -> Value {
        let shown = if matches!(problem, LinkProblem::Forbidden) {
            None
        } else {
            Some(approval)
        };
        html_response(problem.status_code(), pages::problem_page(problem, shown, public_url))
    }

    async fn decide(
        &self,
        request: &HttpRequest,
        approval: Approval,
        public_url: &str,
        sender: &str,
    ) -> Result<Value, BatonError> {
        let form = request.form();
        let token = form.get("token").cloned().unwrap_or_default();
        let approver = match approval.check(&token, Utc::now()) {
            Ok(approver) => approver.to_string(),
            Err(LinkProblem::Decided { by, .. })
                if approval.approver_for(&token) == Some(by.as_str()) && !approval.task_notified =>
            {
                // The same person's decision was recorded but the workflow never heard of it
                // (a crash in between): deliver it now.
                self.deliver(&approval, approval.status == ApprovalStatus::Approved, &by)
                    .await?;
                return Ok(html_response(
                    200,
                    pages::decided_page(&approval, approval.status == ApprovalStatus::Approved),
                ));
            }
            Err(problem) => return Ok(self.problem(&problem, &approval, public_url)),
        };
        let approved = match form.get("decision").map(String::as_str) {
            Some("approve") => true,
            Some("reject") => false,
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
        let comment = form
            .get("comment")
            .map(|c| c.trim().chars().take(2000).collect::<String>())
            .filter(|c| !c.is_empty());
        let status = if approved {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        if !self
            .store
            .decide(&approval.id, status, &approver, comment.as_deref(), None, Utc::now())
            .await?
        {
            // Someone else decided in the meantime: show what they did.
            let now = self.store.approval(&approval.id).await?.unwrap_or(approval);
            let problem = now.check(&token, Utc::now()).err().unwrap_or(LinkProblem::Forbidden);
            return Ok(self.problem(&problem, &now, public_url));
        }
        let verb = if approved { "approved" } else { "rejected" };
        let detail = format!(
            "{verb} via the email link{} (from {}, {}; saw {})",
            comment
                .as_deref()
                .map(|c| format!(": \u{201c}{c}\u{201d}"))
                .unwrap_or_default(),
            if request.source_ip.is_empty() {
                "unknown address"
            } else {
                request.source_ip.as_str()
            },
            if request.user_agent.is_empty() {
                "unknown browser"
            } else {
                request.user_agent.as_str()
            },
            approval
                .changes
                .iter()
                .map(|c| format!("{} {}", c.component, c.next))
                .collect::<Vec<_>>()
                .join(", "),
        );
        crate::timeline::record(
            &self.store,
            &approval.release_id,
            Some(&approval.environment),
            verb,
            &approver,
            detail,
        )
        .await?;
        let answer = self.deliver(&approval, approved, &approver).await?;
        if answer == TaskAnswer::Gone {
            return Ok(self.problem(
                &LinkProblem::Expired {
                    at: approval.expires_at,
                },
                &approval,
                public_url,
            ));
        }
        for other in approval.approvers.iter().filter(|a| **a != approver) {
            let mail = baton_html::mail::decided_follow_up(&approval, other, &approver, approved);
            if let Err(e) = self.mailer.send(sender, &mail).await {
                tracing::warn!(error = %e, "follow-up mail not sent");
            }
        }
        tracing::info!(release = %approval.release_id, environment = %approval.environment, approved, "decision recorded");
        Ok(html_response(200, pages::decided_page(&approval, approved)))
    }

    async fn deliver(&self, approval: &Approval, approved: bool, by: &str) -> Result<TaskAnswer, BatonError> {
        let answer = if approved {
            self.callbacks
                .succeed(
                    &approval.task_token,
                    &json!({ "approvalId": approval.id, "approvedBy": by }),
                )
                .await?
        } else {
            self.callbacks
                .fail(
                    &approval.task_token,
                    ErrorKind::Rejected.error_type(),
                    &format!("rejected by {by}"),
                )
                .await?
        };
        self.store.mark_task_notified(&approval.id).await?;
        Ok(answer)
    }
}

#[async_trait]
impl<C, S, M, T> Function for Approve<C, S, M, T>
where
    C: ConfigSource,
    S: ReleaseStore + ApprovalStore + Timeline,
    M: Mailer,
    T: TaskCallbacks,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        self.handle(HttpRequest::from_event(payload)).await
    }
}
