//! `POST /redeploys` (served by the approve function): a person asks to deploy a release to an
//! environment again (a rollback when a newer release is live there). Fields: `release`
//! (`rel-5`), `environment`, `email`, `reason`.
//!
//! If the address is an approver of the environment, a redeploy execution starts; it runs the
//! pre-flight and plan, then mails that approver, and only them, a personal confirmation link
//! (the same rules as approval links). Nothing changes until they confirm. Any other address
//! gets the same answer and nothing happens: the page never tells who is an approver.

use async_trait::async_trait;
use baton_domain::ports::{ConfigSource, DeploymentStore, ReleaseStore, Timeline, Workflow};
use baton_domain::redeploy::{self, Redeploy};
use baton_domain::{BatonError, ReleaseId};
use baton_html::approval::message_page;
use chrono::Utc;
use serde_json::Value;

use crate::Function;
use crate::http::{HttpRequest, html_response};

/// The path of the request form's POST.
pub const PATH: &str = "/redeploys";

/// The redeploy request handler over its ports.
pub struct RedeployRequests<C, S, W> {
    config: C,
    store: S,
    workflow: W,
}

impl<C, S, W> RedeployRequests<C, S, W>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline,
    W: Workflow,
{
    /// The handler over these adapters.
    pub fn new(config: C, store: S, workflow: W) -> Self {
        RedeployRequests {
            config,
            store,
            workflow,
        }
    }

    async fn handle(&self, request: HttpRequest) -> Result<Value, BatonError> {
        if request.method != "POST" {
            return Ok(html_response(
                405,
                message_page(
                    "Method not allowed",
                    "Ask from the release's page: its form posts here.",
                ),
            ));
        }
        let form = request.form();
        let field = |name: &str| form.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
        let (release_id, environment, email, reason) =
            (field("release"), field("environment"), field("email"), field("reason"));
        let refuse = |text: String| Ok(html_response(400, message_page("Nothing was asked", &text)));
        let config = self.config.config().await?;
        let Some(env) = config.environment(&environment) else {
            return refuse(format!(
                "There is no environment '{environment}'. Use the form on the release's page."
            ));
        };
        if !(email.contains('@') && email.len() <= 254) {
            return refuse("Give your email address: the confirmation link is mailed to it.".into());
        }
        if let Some(problem) = redeploy::reason_problem(&reason) {
            return refuse(format!("The reason is needed: {problem}."));
        }
        let release = match ReleaseStore::release(&self.store, &ReleaseId(release_id.clone())).await? {
            Some(release) => release,
            None => {
                return Ok(html_response(
                    404,
                    message_page("Not found", &format!("There is no release '{release_id}'.")),
                ));
            }
        };
        let events = Timeline::events(&self.store, &release.id).await?;
        if !redeploy::eligible(&events, &env.name) {
            return refuse(format!(
                "Release {} was never deployed to {}, so it cannot be deployed there again: a release reaches a new environment through its own approval.",
                release.number, env.name
            ));
        }
        if let Some(approver) = env.approver(&email) {
            let live = self.store.environment_state(&env.name).await?.current.map(|c| c.number);
            let asked = Redeploy {
                execution: redeploy::execution_name(release.number, &env.name, approver, &reason, Utc::now()),
                environment: env.name.clone(),
                requested_by: approver.to_string(),
                reason: reason.clone(),
                replacing: live,
            };
            let started = self.workflow.start_redeploy(&release, &asked).await?;
            tracing::info!(release = %release.id, environment = %env.name, execution = %asked.execution, ?started, "redeploy asked");
        } else {
            // Said in the log only: the answer is the same, so the form tells nobody who may act.
            tracing::info!(release = %release.id, environment = %env.name, "redeploy asked by someone who is not an approver; nothing sent");
        }
        let words = redeploy::action_words(release.number, &env.name, None);
        Ok(html_response(
            200,
            message_page(
                "Check your mail",
                &format!(
                    "If {email} is an approver of {}, a confirmation link is on its way to it ({}). Nothing changes until it is confirmed; the link lasts an hour.",
                    env.name,
                    words.to_lowercase()
                ),
            ),
        ))
    }
}

#[async_trait]
impl<C, S, W> Function for RedeployRequests<C, S, W>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline,
    W: Workflow,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        self.handle(HttpRequest::from_event(payload)).await
    }
}

/// One function serving the approval links and the redeploy form: a request for
/// [`PATH`] goes to `redeploys`, anything else to `approvals`.
pub struct WithRedeploys<A, R> {
    approvals: A,
    redeploys: R,
}

impl<A, R> WithRedeploys<A, R> {
    /// `approvals` with `redeploys` beside it.
    pub fn new(approvals: A, redeploys: R) -> Self {
        WithRedeploys { approvals, redeploys }
    }
}

#[async_trait]
impl<A: Function, R: Function> Function for WithRedeploys<A, R> {
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        if payload.get("rawPath").and_then(Value::as_str) == Some(PATH) {
            self.redeploys.invoke(payload).await
        } else {
            self.approvals.invoke(payload).await
        }
    }
}
