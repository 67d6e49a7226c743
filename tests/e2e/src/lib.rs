//! Test harness: a local stack of its own per test, and the reads a test needs to check
//! what Baton recorded. Uploads go through `aws-sdk-s3` exactly as CI's would.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use baton_local::{LocalStack, StackOptions};

pub mod access;
pub mod journey;

pub use journey::config_with;
pub mod status;
pub mod usage;

pub use baton_local;

/// One DynamoDB item.
pub type Item = std::collections::HashMap<String, AttributeValue>;

/// A running stack and clients for it.
pub struct Harness {
    /// The stack.
    pub stack: LocalStack,
    /// S3, path-style, as CI would use it against this endpoint.
    pub s3: aws_sdk_s3::Client,
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// Step Functions.
    pub sfn: aws_sdk_sfn::Client,
    /// The table's name.
    pub table: String,
    /// The session cookie [`Harness::get`] sends, once [`Harness::read_as`] signed someone in:
    /// the local stack's pages are public, with names hidden, until then.
    pub viewer: std::sync::Mutex<Option<String>>,
}

impl Harness {
    /// Starts a stack on free ports.
    pub async fn start() -> Result<Harness> {
        Self::start_with(StackOptions::ephemeral()).await
    }

    /// Starts a stack with these options. Warnings and errors of the functions are shown with
    /// a failing test's output (`RUST_LOG` widens it).
    pub async fn start_with(options: StackOptions) -> Result<Harness> {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,aws_smithy_runtime=error,aws_config=error"));
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(filter)
            .try_init();
        let stack = LocalStack::start(options).await?;
        let sdk = stack.sdk.clone();
        Ok(Harness {
            s3: baton_local::path_style_s3(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sfn: aws_sdk_sfn::Client::new(&sdk),
            table: stack.resource_name("Table")?,
            stack,
            viewer: std::sync::Mutex::new(None),
        })
    }

    /// Uploads `body` to `key` with CI's metadata.
    pub async fn upload(&self, key: &str, body: Vec<u8>, metadata: &[(&str, &str)]) -> Result<()> {
        let mut put = self
            .s3
            .put_object()
            .bucket(&self.stack.bucket)
            .key(key)
            .body(body.into());
        for (k, v) in metadata {
            put = put.metadata(*k, *v);
        }
        put.send().await.with_context(|| format!("uploading {key}"))?;
        Ok(())
    }

    /// Messages waiting or in flight on the queue `logical_id` (e.g. `UploadsQueue`).
    pub async fn queue_depth(&self, logical_id: &str) -> Result<u64> {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(self.stack.queue_url(logical_id)?)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?;
        let attrs = out.attributes.unwrap_or_default();
        let read = |n: QueueAttributeName| attrs.get(&n).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok(read(QueueAttributeName::ApproximateNumberOfMessages)
            + read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }

    /// Messages waiting or in flight on the uploads dead-letter queue.
    pub async fn dead_letters(&self) -> Result<u64> {
        self.queue_depth("UploadsDeadLetterQueue").await
    }

    /// Waits until the uploads queue has been empty for a moment (every event handled).
    pub async fn drained(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut empty_since: Option<Instant> = None;
        loop {
            if self.queue_depth("UploadsQueue").await? == 0 {
                let since = *empty_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(1500) {
                    return Ok(());
                }
            } else {
                empty_since = None;
            }
            if Instant::now() > deadline {
                bail!("the uploads queue did not drain within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every item of one entity type (tests may scan; Baton itself never does).
    pub async fn entities(&self, entity: &str) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .filter_expression("entity = :e")
                .expression_attribute_values(":e", AttributeValue::S(entity.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// Registered packages.
    pub async fn packages(&self) -> Result<Vec<Item>> {
        self.entities("package").await
    }

    /// Releases, by number.
    pub async fn releases(&self) -> Result<Vec<Item>> {
        let mut releases = self.entities("release").await?;
        releases.sort_by_key(|r| number(r, "number"));
        Ok(releases)
    }

    /// Environment leases someone holds (a lease given back keeps its item, for its fence).
    pub async fn leases_held(&self) -> Result<Vec<Item>> {
        let mut leases = self.entities("lease").await?;
        leases.retain(|l| l.contains_key("holder"));
        Ok(leases)
    }

    /// Rejected packages.
    pub async fn rejections(&self) -> Result<Vec<Item>> {
        self.entities("rejected-package").await
    }

    /// Names of the release state machine's executions.
    pub async fn executions(&self) -> Result<Vec<(String, String)>> {
        let out = self
            .sfn
            .list_executions()
            .state_machine_arn(self.stack.state_machine_arn("ReleaseStateMachine")?)
            .send()
            .await?;
        Ok(out
            .executions
            .iter()
            .map(|e| (e.name.clone(), e.status.as_str().to_string()))
            .collect())
    }
    /// What made each failed execution fail: its name and every failure event of its history
    /// (state, error and cause), so that a failing test says which state failed and why.
    pub async fn execution_failures(&self) -> Result<Vec<String>> {
        use aws_sdk_sfn::types::ExecutionStatus;
        let listed = self
            .sfn
            .list_executions()
            .state_machine_arn(self.stack.state_machine_arn("ReleaseStateMachine")?)
            .status_filter(ExecutionStatus::Failed)
            .send()
            .await?;
        let mut failures = Vec::new();
        for execution in listed.executions {
            let history = self
                .sfn
                .get_execution_history()
                .execution_arn(&execution.execution_arn)
                .send()
                .await?;
            for event in history.events {
                let detail = event
                    .task_failed_event_details
                    .map(|d| (d.error, d.cause))
                    .or(event.lambda_function_failed_event_details.map(|d| (d.error, d.cause)))
                    .or(event.execution_failed_event_details.map(|d| (d.error, d.cause)));
                if let Some((error, cause)) = detail {
                    failures.push(format!(
                        "{} event {} {}: {} {}",
                        execution.name,
                        event.id,
                        event.r#type.as_str(),
                        error.unwrap_or_default(),
                        cause.unwrap_or_default()
                    ));
                }
            }
        }
        Ok(failures)
    }
}

/// A string attribute.
pub fn text(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}

/// A number attribute.
pub fn number(item: &Item, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A release's snapshot as component → (version, sha256).
pub fn snapshot(release: &Item) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    if let Some(AttributeValue::M(map)) = release.get("snapshot") {
        for (component, entry) in map {
            if let AttributeValue::M(p) = entry {
                out.insert(component.clone(), (text(p, "version"), text(p, "sha256")));
            }
        }
    }
    out
}

/// A zip of these files.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        let _ = out.start_file(*name, zip::write::SimpleFileOptions::default());
        let _ = out.write_all(body);
    }
    out.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// The sample site, zipped, with a marker so versions differ in content.
pub fn sample_site(marker: &str) -> Vec<u8> {
    let index = format!("<!doctype html><title>Patient Portal</title><h1>Patient Portal {marker}</h1>");
    zip_of(&[
        ("index.html", index.as_bytes()),
        ("assets/app.js", b"console.log('portal')"),
        ("_headers", b"/assets/*\n  Cache-Control: max-age=3600"),
    ])
}

/// The sample manifest with the Patient API at `patient_version`.
pub fn sample_manifest(patient_version: &str) -> Vec<u8> {
    let root = baton_local::repository_root();
    let text = std::fs::read_to_string(root.join("samples/state/manifest.yaml")).unwrap_or_default();
    text.replace("version: 1.4.2", &format!("version: {patient_version}"))
        .into_bytes()
}
