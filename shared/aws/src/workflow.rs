//! The release state machine as the [`Workflow`] port.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sfn::config::timeout::TimeoutConfig;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baton_domain::ports::{Started, TaskAnswer, TaskCallbacks, Workflow};
use baton_domain::redeploy::Redeploy;
use baton_domain::{BatonError, Release};
use serde_json::json;

use crate::errors::sdk_error;

/// Starts one Step Functions execution per release.
#[derive(Debug, Clone)]
pub struct SfnWorkflow {
    sfn: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

impl SfnWorkflow {
    /// A workflow on the state machine `state_machine_arn`.
    pub fn new(sfn: aws_sdk_sfn::Client, state_machine_arn: impl Into<String>) -> Self {
        SfnWorkflow {
            sfn,
            state_machine_arn: state_machine_arn.into(),
        }
    }
}

/// The execution input for a release. It depends only on the release, so a repeated start
/// sends identical input, which Step Functions treats as the same request.
pub fn execution_input(release: &Release) -> String {
    json!({ "releaseId": release.id, "number": release.number, "contentHash": release.content_hash }).to_string()
}

/// The execution input for a redeploy: the release's, and what the redeploy is.
pub fn redeploy_input(release: &Release, redeploy: &Redeploy) -> String {
    json!({
        "releaseId": release.id, "number": release.number, "contentHash": release.content_hash,
        "redeploy": redeploy,
    })
    .to_string()
}

#[async_trait]
impl Workflow for SfnWorkflow {
    async fn start(&self, release: &Release) -> Result<Started, BatonError> {
        self.start_named(release.id.as_str(), execution_input(release), release)
            .await
    }

    async fn start_redeploy(&self, release: &Release, redeploy: &Redeploy) -> Result<Started, BatonError> {
        self.start_named(&redeploy.execution, redeploy_input(release, redeploy), release)
            .await
    }
}

impl SfnWorkflow {
    async fn start_named(&self, name: &str, input: String, release: &Release) -> Result<Started, BatonError> {
        let result = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Started::Started),
            // Same name, same input while running is answered with success; once the execution
            // has closed, or if the input differed, with ExecutionAlreadyExists. Either way this
            // release's workflow exists, which is all a retried start needs.
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(StartExecutionError::ExecutionAlreadyExists(_))
                ) =>
            {
                Ok(Started::AlreadyStarted)
            }
            Err(err) => Err(sdk_error(&format!("starting the workflow of {}", release.id), err)),
        }
    }
}

/// Step Functions' task callbacks as the [`TaskCallbacks`] port.
#[derive(Debug, Clone)]
pub struct SfnCallbacks {
    sfn: aws_sdk_sfn::Client,
}

/// Longest one callback request may take (each of the SDK's tries).
const CALLBACK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest one callback may take with the SDK's retries: `approve` answers within an HTTP
/// request that API Gateway ends at 29 s, and tries twice.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(6);

impl SfnCallbacks {
    /// Callbacks over `sfn`, each bounded in time ([`CALLBACK_TIMEOUT`]).
    pub fn new(sfn: aws_sdk_sfn::Client) -> Self {
        let bounded = sfn
            .config()
            .to_builder()
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(CALLBACK_ATTEMPT_TIMEOUT)
                    .operation_timeout(CALLBACK_TIMEOUT)
                    .build(),
            )
            .build();
        SfnCallbacks {
            sfn: aws_sdk_sfn::Client::from_conf(bounded),
        }
    }
}

/// AWS answers `TaskTimedOut` for a token already used or timed out; moto answers
/// `InvalidToken`; `TaskDoesNotExist` is documented too. All mean nobody waits any more.
fn is_gone(code: Option<&str>) -> bool {
    matches!(code, Some("TaskTimedOut" | "InvalidToken" | "TaskDoesNotExist"))
}

#[async_trait]
impl TaskCallbacks for SfnCallbacks {
    async fn succeed(&self, token: &str, output: &serde_json::Value) -> Result<TaskAnswer, BatonError> {
        match self
            .sfn
            .send_task_success()
            .task_token(token)
            .output(output.to_string())
            .send()
            .await
        {
            Ok(_) => Ok(TaskAnswer::Delivered),
            Err(err) if is_gone(err.as_service_error().and_then(|e| e.code())) => Ok(TaskAnswer::Gone),
            Err(err) => Err(sdk_error("answering the approval task", err)),
        }
    }

    async fn fail(&self, token: &str, error: &str, cause: &str) -> Result<TaskAnswer, BatonError> {
        match self
            .sfn
            .send_task_failure()
            .task_token(token)
            .error(error)
            .cause(cause)
            .send()
            .await
        {
            Ok(_) => Ok(TaskAnswer::Delivered),
            Err(err) if is_gone(err.as_service_error().and_then(|e| e.code())) => Ok(TaskAnswer::Gone),
            Err(err) => Err(sdk_error("answering the approval task", err)),
        }
    }
}
