//! EventBridge's Step Functions status-change events, as AWS delivers them to a rule's target:
//! the runner watches the stack's executions and, when one ends `ABORTED`, `TIMED_OUT` or
//! `FAILED`, builds the "Step Functions Execution Status Change" event and invokes every
//! function whose `EventBridgeRule` pattern (from `template.yaml`) matches it. A failed
//! invocation is tried again on the next look, as EventBridge retries a target.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use baton_app::Function;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::template::ACCOUNT_ID;

/// How often the runner looks for ended executions.
pub const LOOK_EVERY: Duration = Duration::from_millis(500);

/// A rule's target: the function and the pattern it listens with.
pub struct Target {
    /// The function's name, for the log.
    pub name: String,
    /// The rule's event pattern.
    pub pattern: Value,
    /// The function.
    pub handler: Arc<dyn Function>,
}

/// Watches `state_machines` until `stop` turns true. `sfn` should talk to moto directly, so the
/// watching is not counted among the requests Baton itself makes.
pub async fn run(
    sfn: aws_sdk_sfn::Client,
    state_machines: Vec<String>,
    targets: Vec<Target>,
    region: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut delivered: HashSet<String> = HashSet::new();
    loop {
        for machine in &state_machines {
            for status in [
                ExecutionStatus::Aborted,
                ExecutionStatus::TimedOut,
                ExecutionStatus::Failed,
            ] {
                let listed = sfn
                    .list_executions()
                    .state_machine_arn(machine)
                    .status_filter(status)
                    .max_results(1000)
                    .send()
                    .await;
                let Ok(listed) = listed else { continue };
                for execution in listed.executions {
                    if delivered.contains(&execution.execution_arn) {
                        continue;
                    }
                    let Some(event) = status_change(&sfn, &execution.execution_arn, &region).await else {
                        continue;
                    };
                    if deliver(&targets, &event).await {
                        delivered.insert(execution.execution_arn);
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Invokes every matching target; false if one failed (to be tried again).
async fn deliver(targets: &[Target], event: &Value) -> bool {
    let mut all = true;
    for target in targets.iter().filter(|t| matches(&t.pattern, event)) {
        if let Err(e) = target.handler.invoke(event.clone()).await {
            tracing::warn!(function = %target.name, error = %e.message, "EventBridge target failed; trying again");
            all = false;
        }
    }
    all
}

/// The event EventBridge sends for an execution's status change.
async fn status_change(sfn: &aws_sdk_sfn::Client, execution_arn: &str, region: &str) -> Option<Value> {
    let e = sfn
        .describe_execution()
        .execution_arn(execution_arn)
        .send()
        .await
        .ok()?;
    let millis = |t: Option<&aws_sdk_sfn::primitives::DateTime>| t.and_then(|t| t.to_millis().ok());
    Some(json!({
        "version": "0",
        "id": uuid_like(execution_arn),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": ACCOUNT_ID,
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": region,
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": e.state_machine_arn,
            "name": e.name,
            "status": e.status.as_str(),
            "startDate": millis(Some(&e.start_date)),
            "stopDate": millis(e.stop_date.as_ref()),
            "input": e.input,
            "output": e.output,
            "error": e.error,
            "cause": e.cause,
        }
    }))
}

/// A stable event id per execution (EventBridge's ids are UUIDs; nothing reads them here).
fn uuid_like(seed: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    seed.hash(&mut hasher);
    let h = format!("{:016x}{:016x}", hasher.finish(), seed.len());
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// EventBridge's matching, for the patterns Baton uses: every field the pattern names must be
/// present in the event, with one of the listed values (arrays) or matching recursively (objects).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(name, wanted)| match event.get(name) {
            Some(actual) => matches(wanted, actual),
            None => false,
        }),
        Value::Array(values) => values.iter().any(|v| v == event),
        other => other == event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_matches_listed_values_and_nested_fields_only() {
        let pattern = json!({"source": ["aws.states"], "detail": {"status": ["ABORTED", "FAILED"]}});
        let event = |status: &str| json!({"source": "aws.states", "detail": {"status": status, "name": "rel-1"}});
        assert!(matches(&pattern, &event("ABORTED")));
        assert!(matches(&pattern, &event("FAILED")));
        assert!(!matches(&pattern, &event("SUCCEEDED")));
        assert!(!matches(&pattern, &json!({"source": "aws.states"})));
        assert!(!matches(
            &pattern,
            &json!({"source": "aws.s3", "detail": {"status": "FAILED"}})
        ));
    }
}
