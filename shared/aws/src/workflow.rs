//! The release state machine as the [`Workflow`] port.

use async_trait::async_trait;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use baton_domain::ports::{Started, Workflow};
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

#[async_trait]
impl Workflow for SfnWorkflow {
    async fn start(&self, release: &Release) -> Result<Started, BatonError> {
        let result = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(release.id.as_str())
            .input(execution_input(release))
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
