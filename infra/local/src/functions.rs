//! The template's Lambda functions, each backed by its handler running in this process.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Result, bail};
use aws_config::SdkConfig;
use baton_app::{Function, wiring};
use baton_aws::{AwsContext, Settings};
use serde_json::Value;

use crate::template::{ACCOUNT_ID, Template, string_map};

/// An SQS event source of a function.
#[derive(Debug, Clone)]
pub struct SqsSource {
    /// Queue name.
    pub queue_name: String,
    /// Queue ARN.
    pub queue_arn: String,
    /// Most messages per batch.
    pub batch_size: i32,
    /// Whether the function reports partial batch failures.
    pub report_failures: bool,
}

/// An HTTP API route of a function.
#[derive(Debug, Clone)]
pub struct HttpRoute {
    /// Method, or `ANY`.
    pub method: String,
    /// Path template, e.g. `/releases/{id}` or `/{proxy+}`.
    pub path: String,
}

/// One deployed function.
pub struct LocalFunction {
    /// Function name.
    pub name: String,
    /// Function ARN.
    pub arn: String,
    /// Cargo binary the template builds it from.
    pub binary: String,
    /// SQS event sources.
    pub sqs: Vec<SqsSource>,
    /// DynamoDB stream event sources (the on-failure destination given as a queue name).
    pub streams: Vec<crate::streams::StreamSource>,
    /// HTTP routes.
    pub http: Vec<HttpRoute>,
    /// EventBridge rules' event patterns (resolved).
    pub event_patterns: Vec<Value>,
    /// Its `Schedule` events' expressions (resolved), e.g. `rate(15 minutes)`.
    pub schedules: Vec<String>,
    /// Its environment variables, as the template sets them (resolved).
    pub env: BTreeMap<String, String>,
    /// The handler.
    pub handler: Arc<dyn Function>,
}

/// Every function of the stack.
pub struct Registry {
    /// The functions.
    pub functions: Vec<LocalFunction>,
    /// Turns true when this host is killed: invocations still running on it end as a Lambda
    /// whose runtime died does (`Runtime.ExitError`).
    killed: tokio::sync::watch::Sender<bool>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            functions: Vec::new(),
            killed: tokio::sync::watch::channel(false).0,
        }
    }
}

/// Where the servers find the functions of the host running now: empty while a host starts.
/// The servers (Lambda's Invoke API, API Gateway) outlive hosts, as on AWS.
#[derive(Clone, Default)]
pub struct FunctionSlot(Arc<std::sync::RwLock<Option<Arc<Registry>>>>);

impl FunctionSlot {
    /// The functions of the host running now, if one is.
    pub fn current(&self) -> Option<Arc<Registry>> {
        self.0.read().ok().and_then(|r| r.clone())
    }

    /// Puts `registry` in (or none, while a host starts).
    pub fn set(&self, registry: Option<Arc<Registry>>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = registry;
        }
    }
}

impl Registry {
    /// Builds every function of `template`, its handler wired to `sdk` (the runner's endpoint).
    pub fn build(template: &Template, sdk: &SdkConfig, region: &str) -> Result<Registry> {
        let mut functions = Vec::new();
        for r in template.of_kind(&["AWS::Serverless::Function"]) {
            let binary = r
                .metadata
                .pointer("/BuildProperties/Binary")
                .and_then(Value::as_str)
                .unwrap_or(&r.logical_id)
                .to_string();
            let mut env = template.global_env.clone();
            env.extend(string_map(
                r.properties.pointer("/Environment/Variables").unwrap_or(&Value::Null),
            ));
            let mut sqs = Vec::new();
            let mut streams = Vec::new();
            let mut http = Vec::new();
            let mut event_patterns = Vec::new();
            let mut schedules = Vec::new();
            for (_, event) in r
                .properties
                .get("Events")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let p = event.get("Properties").cloned().unwrap_or(Value::Null);
                match event.get("Type").and_then(Value::as_str) {
                    Some("SQS") => {
                        let queue_arn = p.get("Queue").and_then(Value::as_str).unwrap_or_default().to_string();
                        sqs.push(SqsSource {
                            queue_name: queue_arn.rsplit(':').next().unwrap_or_default().to_string(),
                            queue_arn,
                            batch_size: p.get("BatchSize").and_then(Value::as_i64).unwrap_or(10).clamp(1, 10) as i32,
                            report_failures: p
                                .get("FunctionResponseTypes")
                                .and_then(Value::as_array)
                                .is_some_and(|t| t.iter().any(|x| x == "ReportBatchItemFailures")),
                        });
                    }
                    Some("HttpApi") => http.push(HttpRoute {
                        method: p
                            .get("Method")
                            .and_then(Value::as_str)
                            .unwrap_or("ANY")
                            .to_ascii_uppercase(),
                        path: p.get("Path").and_then(Value::as_str).unwrap_or("/{proxy+}").to_string(),
                    }),
                    Some("DynamoDB") => streams.push(stream_source(&r.logical_id, &p)?),
                    Some("EventBridgeRule") => {
                        event_patterns.push(p.get("Pattern").cloned().unwrap_or(Value::Null));
                    }
                    // Fired by `schedules.rs` as the stack's options say (tests: never; they
                    // invoke the function through the Invoke API when they want a run).
                    Some("Schedule") => {
                        schedules.extend(p.get("Schedule").and_then(Value::as_str).map(str::to_string));
                    }
                    other => bail!(
                        "{}: event type {other:?} is not served by the local stack",
                        r.logical_id
                    ),
                }
            }
            // Each function signs with a key naming it: the endpoint judges it by its role.
            let handler = handler_for(&binary, &env, &crate::iam::function_sdk(sdk, &r.name))?;
            functions.push(LocalFunction {
                arn: format!("arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{}", r.name),
                name: r.name.clone(),
                binary,
                sqs,
                streams,
                http,
                event_patterns,
                schedules,
                env,
                handler,
            });
        }
        Ok(Registry {
            functions,
            ..Registry::default()
        })
    }

    /// Kills this host: invocations still running on it end with `Runtime.ExitError`.
    pub fn kill(&self) {
        let _ = self.killed.send(true);
    }

    /// Runs `handler` on this host: `None` if the host was killed first (the invocation then
    /// ends as Lambda ends one whose runtime died).
    pub async fn run(
        &self,
        handler: &Arc<dyn Function>,
        payload: Value,
    ) -> Option<Result<Value, baton_domain::BatonError>> {
        let mut killed = self.killed.subscribe();
        tokio::select! {
            answer = handler.invoke(payload) => Some(answer),
            _ = killed.wait_for(|k| *k) => None,
        }
    }

    /// Finds a function by name, ARN (with or without a qualifier) or partial ARN.
    pub fn find(&self, name_or_arn: &str) -> Option<&LocalFunction> {
        let name = match name_or_arn.split_once(":function:") {
            Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
            None => name_or_arn.split(':').next().unwrap_or(name_or_arn),
        };
        self.functions.iter().find(|f| f.name == name)
    }
}

/// A `DynamoDB` event of the template as a stream source: the table named by the stream's ARN
/// (`arn:...:table/<name>/stream/...`), the filters' patterns parsed.
fn stream_source(function: &str, p: &Value) -> Result<crate::streams::StreamSource> {
    let stream = p.get("Stream").and_then(Value::as_str).unwrap_or_default();
    let Some(table_name) = stream.split(":table/").nth(1).and_then(|t| t.split('/').next()) else {
        bail!("{function}: DynamoDB event Stream {stream:?} is not a table's stream ARN");
    };
    let mut filters = Vec::new();
    for f in p
        .pointer("/FilterCriteria/Filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let pattern = f.get("Pattern").and_then(Value::as_str).unwrap_or_default();
        filters.push(
            serde_json::from_str(pattern)
                .map_err(|e| anyhow::anyhow!("{function}: FilterCriteria pattern {pattern:?} is not JSON: {e}"))?,
        );
    }
    Ok(crate::streams::StreamSource {
        table_name: table_name.to_string(),
        batch_size: p
            .get("BatchSize")
            .and_then(Value::as_u64)
            .unwrap_or(100)
            .clamp(1, 10_000) as usize,
        filters,
        report_failures: p
            .get("FunctionResponseTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x == "ReportBatchItemFailures")),
        bisect: p
            .get("BisectBatchOnFunctionError")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        max_retries: p
            .get("MaximumRetryAttempts")
            .and_then(Value::as_i64)
            .filter(|n| *n >= 0)
            .map(|n| n as u32),
        on_failure_queue: p
            .pointer("/DestinationConfig/OnFailure/Destination")
            .and_then(Value::as_str)
            .and_then(|arn| arn.rsplit(':').next())
            .map(str::to_string),
    })
}

/// The handler a function binary runs, built exactly as its `main` builds it.
fn handler_for(binary: &str, env: &BTreeMap<String, String>, sdk: &SdkConfig) -> Result<Arc<dyn Function>> {
    let settings =
        Settings::from_lookup(|name| env.get(name).cloned()).map_err(|e| anyhow::anyhow!("{binary}: {e}"))?;
    let ctx = AwsContext {
        sdk: sdk.clone(),
        settings,
        s3_path_style: true,
    };
    let config = wiring::config_source(&ctx);
    Ok(match binary {
        "ingest" => Arc::new(wiring::ingest(&ctx, config).map_err(|e| anyhow::anyhow!("{binary}: {e}"))?),
        "notify" => Arc::new(wiring::notify(&ctx, config)),
        "approve" => Arc::new(wiring::approve(&ctx, config).map_err(|e| anyhow::anyhow!("{binary}: {e}"))?),
        "lifecycle" => Arc::new(wiring::lifecycle(&ctx, config)),
        "deploy-cloudhub" => Arc::new(wiring::deploy_cloudhub(&ctx, config)),
        "deploy-pages" => Arc::new(wiring::deploy_pages(&ctx, config)),
        "status" => Arc::new(wiring::status(&ctx, config)),
        "announce" => Arc::new(wiring::announce(&ctx, config).map_err(|e| anyhow::anyhow!("{binary}: {e}"))?),
        "drift" => Arc::new(wiring::drift(&ctx, config)),
        other => bail!(
            "the template builds a function from binary '{other}', which the local stack does not know; add it to infra/local/src/functions.rs"
        ),
    })
}
