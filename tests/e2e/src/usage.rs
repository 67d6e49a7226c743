//! What one release costs in AWS requests and Step Functions state transitions (issue 18,
//! item 2): the runner counts every request each function makes (`baton_local::iam`), and the
//! execution's history tells its transitions. Read by the request budget test
//! (`tests/budgets.rs`) and by `make bench`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_domain::ReleaseId;

use crate::{Harness, sample_site};

/// The functions of `template.yaml`, by logical id, and the short names the counts use.
const FUNCTIONS: [(&str, &str); 9] = [
    ("IngestFunction", "ingest"),
    ("NotifyFunction", "notify"),
    ("ApproveFunction", "approve"),
    ("LifecycleFunction", "lifecycle"),
    ("DeployPagesFunction", "deploy-pages"),
    ("DeployCloudHubFunction", "deploy-cloudhub"),
    ("DriftFunction", "drift"),
    ("AnnounceFunction", "announce"),
    ("StatusFunction", "status"),
];

/// How long one step of the measured journey may take.
const STEP: Duration = Duration::from_secs(120);

/// The AWS work of one release's journey.
#[derive(Debug, Clone, Default)]
pub struct JourneyUsage {
    /// Requests by (function, `service:Operation`); Step Functions' own (its Lambda
    /// invocations) under `state machine`.
    pub requests: BTreeMap<(String, String), u64>,
    /// State transitions of the release's execution (its `...StateEntered` events, which is
    /// what Standard workflows bill).
    pub state_transitions: u64,
    /// The queue pollers' `sqs:ReceiveMessage` requests meanwhile (the runner's, as Lambda's
    /// event source mappings make them), by function. Apart from `requests`: they follow the
    /// clock (long polls, empty or not), not the release, so docs/cost.md prices them as
    /// idle cost; deleting a received message is the release's and stays in `requests`.
    pub polls: BTreeMap<String, u64>,
}

impl JourneyUsage {
    /// Requests by service (`dynamodb`, `s3`, ...).
    pub fn by_service(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((_, operation), n) in &self.requests {
            let service = operation.split(':').next().unwrap_or_default().to_string();
            *out.entry(service).or_default() += n;
        }
        out
    }

    /// The requests `function` made.
    pub fn of_function(&self, function: &str) -> u64 {
        self.requests
            .iter()
            .filter(|((f, _), _)| f == function)
            .map(|(_, n)| n)
            .sum()
    }

    /// One line per function and operation, for a test's or the bench's output.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for ((function, operation), n) in &self.requests {
            out.push_str(&format!("{function:>16} {operation:<36} {n:>4}\n"));
        }
        out.push_str(&format!(
            "{:>16} {:<36} {:>4}\n",
            "Step Functions", "state transitions", self.state_transitions
        ));
        for (function, n) in &self.polls {
            out.push_str(&format!("{function:>16} {:<36} {n:>4}\n", "(queue polls, not counted)"));
        }
        out
    }
}

impl Harness {
    /// Every function request counted so far, by short function name and operation.
    fn request_counts(&self) -> Result<BTreeMap<(String, String), u64>> {
        let mut names = BTreeMap::new();
        for (logical, short) in FUNCTIONS {
            names.insert(self.stack.resource_name(logical)?, short);
        }
        let mut out = BTreeMap::new();
        for count in self.stack.iam.requests() {
            let function = names
                .get(&count.function)
                .map_or_else(|| "state machine".to_string(), |s| (*s).to_string());
            *out.entry((function, count.operation)).or_default() += count.count;
        }
        Ok(out)
    }

    /// Takes release 1 (the samples) to PROD as a warm-up, then measures release 2: one new
    /// site version, from its upload until it is released in TEST and PROD and its execution
    /// has ended, every queue drained. Approvals are the first approver's mailed link, as a
    /// release manager would click them.
    pub async fn measure_release_journey(&self) -> Result<JourneyUsage> {
        self.release_samples("1.0.0", 1).await?;
        self.approve_from_mail(1, "TEST", "warm-up").await?;
        self.approve_from_mail(1, "PROD", "warm-up").await?;
        self.wait_for_status(1, "released", STEP).await?;
        self.wait_execution_ended(1).await?;
        self.drained().await?;

        let before = self.request_counts()?;
        self.upload(
            "packages/web/1.1.0/site.zip",
            sample_site("1.1.0"),
            &[("commit", "c0ffee1"), ("notes", "ADM-142: clearer errors")],
        )
        .await?;
        baton_local::demo::wait_for_release(&self.stack, 2, STEP).await?;
        self.approve_from_mail(2, "TEST", "measured").await?;
        self.approve_from_mail(2, "PROD", "measured").await?;
        self.wait_for_status(2, "released", STEP).await?;
        let execution = self.wait_execution_ended(2).await?;
        self.drained().await?;
        let after = self.request_counts()?;

        let (mut requests, mut polls) = (BTreeMap::new(), BTreeMap::new());
        for ((function, operation), n) in after {
            let was = before
                .get(&(function.clone(), operation.clone()))
                .copied()
                .unwrap_or_default();
            if n <= was {
                continue;
            }
            if operation == "sqs:ReceiveMessage" {
                polls.insert(function, n - was);
            } else if operation.starts_with("sqs:DeleteMessage") || operation.starts_with("sqs:ChangeMessageVisibility")
            {
                // The poller's, not the function's: Lambda deletes what the function handled.
                requests.insert((format!("{function} (poller)"), operation), n - was);
            } else {
                requests.insert((function, operation), n - was);
            }
        }
        Ok(JourneyUsage {
            requests,
            state_transitions: self.state_transitions(&execution).await?,
            polls,
        })
    }

    /// Waits until release `number`'s execution has ended; its ARN.
    async fn wait_execution_ended(&self, number: u64) -> Result<String> {
        let name = ReleaseId::from_number(number).to_string();
        let deadline = Instant::now() + STEP;
        loop {
            let listed = self
                .sfn
                .list_executions()
                .state_machine_arn(self.stack.state_machine_arn("ReleaseStateMachine")?)
                .send()
                .await?;
            let execution = listed
                .executions
                .into_iter()
                .find(|e| e.name == name)
                .with_context(|| format!("no execution named {name}"))?;
            if execution.status != aws_sdk_sfn::types::ExecutionStatus::Running {
                return Ok(execution.execution_arn);
            }
            if Instant::now() > deadline {
                bail!("execution {name} still running after {} s", STEP.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The state transitions of an execution: its states entered.
    async fn state_transitions(&self, execution_arn: &str) -> Result<u64> {
        let mut transitions = 0;
        let mut token = None;
        loop {
            let page = self
                .sfn
                .get_execution_history()
                .execution_arn(execution_arn)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await?;
            transitions += page
                .events
                .iter()
                .filter(|e| e.r#type.as_str().ends_with("StateEntered"))
                .count() as u64;
            match page.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(transitions),
            }
        }
    }
}
