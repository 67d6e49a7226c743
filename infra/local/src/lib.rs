//! Baton's local stack (DESIGN §7): moto for S3, SQS, DynamoDB, SES and Step Functions; this
//! runner as the AWS endpoint (serving the Lambda Invoke API with the real handlers in
//! process and forwarding everything else to moto); SQS event source mappings; API Gateway
//! for the HTTP functions. Resources come from `template.yaml`, nothing else.

pub mod aws_endpoint;
pub mod demo;
pub mod eventbridge;
pub mod faults;
pub mod functions;
pub mod http_api;
pub mod iam;
pub mod index_lag;
pub mod moto;
pub mod outbox;
pub mod poller;
pub mod provision;
pub mod schedules;
pub mod streams;
pub mod template;
pub mod webhook_receiver;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use baton_domain::BatonConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::functions::Registry;
use crate::moto::Moto;
use crate::template::Template;

/// How to start a stack. Port 0 means "any free port".
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// AWS region.
    pub region: String,
    /// Port of the AWS endpoint (functions, SDKs and moto's state machine interpreter use it).
    pub aws_port: u16,
    /// Port of the HTTP API.
    pub http_port: u16,
    /// Port moto listens on (behind the AWS endpoint).
    pub moto_port: u16,
    /// The artefact bucket.
    pub bucket: String,
    /// Stack name: prefixes generated resource names, as CloudFormation does.
    pub stack_name: String,
    /// The repository root (template, config, venv).
    pub root: PathBuf,
    /// `baton.yaml` to upload instead of `infra/config/baton.local.yaml`.
    pub config_yaml: Option<String>,
    /// Where moto's log goes.
    pub moto_log: LogTarget,
    /// Port of the Cloudflare Pages simulator.
    pub cloudflare_port: u16,
    /// Port of the Anypoint Platform simulator.
    pub anypoint_port: u16,
    /// How long a simulated CloudHub deployment takes to go from APPLYING to APPLIED.
    pub cloudhub_apply_delay: std::time::Duration,
    /// How long each simulated Cloudflare Pages build stage takes.
    pub pages_stage_delay: std::time::Duration,
    /// Whether the runner polls the SQS queues for its functions, as Lambda's event source
    /// mappings do. Off, messages wait in the queue for whoever reads them (`make bench`
    /// feeds them to a function's real binary).
    pub sqs_pollers: bool,
    /// Which of the template's schedules the runner fires (see `schedules.rs`).
    pub schedules: schedules::Schedules,
}

/// Where a child process's log goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LogTarget {
    /// Nowhere (tests).
    #[default]
    Discard,
    /// Into this file, created afresh.
    File(PathBuf),
    /// To this process's standard error (`baton-local --verbose`).
    Terminal,
}

/// The repository root: `BATON_ROOT`, else where this crate was built from.
pub fn repository_root() -> PathBuf {
    std::env::var("BATON_ROOT").map(PathBuf::from).unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap_or_else(|_| PathBuf::from("."))
    })
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            region: "eu-west-1".into(),
            aws_port: 4566,
            http_port: 3000,
            moto_port: 0,
            bucket: "baton-artefacts".into(),
            stack_name: "baton".into(),
            root: repository_root(),
            config_yaml: None,
            moto_log: LogTarget::Discard,
            cloudflare_port: 8787,
            anypoint_port: 8788,
            cloudhub_apply_delay: std::time::Duration::from_secs(2),
            pages_stage_delay: baton_sim_cloudflare::SimConfig::default().step_delay,
            sqs_pollers: true,
            schedules: schedules::Schedules::AsDeclared,
        }
    }
}

impl StackOptions {
    /// Options for a test: every port chosen by the OS, so stacks can run side by side.
    pub fn ephemeral() -> Self {
        StackOptions {
            aws_port: 0,
            http_port: 0,
            cloudflare_port: 0,
            anypoint_port: 0,
            cloudhub_apply_delay: std::time::Duration::from_millis(300),
            schedules: schedules::Schedules::Off,
            ..StackOptions::default()
        }
    }

    /// These options with simulators that answer at once: no Pages build stage delay, no
    /// CloudHub apply delay (what `make bench` times end to end).
    pub fn without_delays(self) -> Self {
        StackOptions {
            pages_stage_delay: std::time::Duration::ZERO,
            cloudhub_apply_delay: std::time::Duration::ZERO,
            ..self
        }
    }
}

/// A running local stack. Dropping it stops everything, moto included.
pub struct LocalStack {
    /// The AWS endpoint URL (`AWS_ENDPOINT_URL`).
    pub aws_endpoint: String,
    /// The HTTP API's base URL.
    pub http_url: String,
    /// Region.
    pub region: String,
    /// Artefact bucket.
    pub bucket: String,
    /// The resolved template.
    pub template: Template,
    /// SDK configuration pointed at the AWS endpoint, with the local credentials.
    pub sdk: SdkConfig,
    /// The functions.
    pub registry: Arc<Registry>,
    /// Mails sent through SES.
    pub outbox: outbox::Outbox,
    /// The webhook receiver at `/_local/webhooks`.
    pub webhooks: webhook_receiver::Receiver,
    /// The Cloudflare Pages simulator.
    pub cloudflare: baton_sim_cloudflare::RunningSim,
    /// The Anypoint Platform simulator.
    pub anypoint: baton_sim_anypoint::RunningSim,
    /// Requests the AWS endpoint forwarded to moto, by operation (kept across restarts).
    pub aws_requests: aws_endpoint::RequestCounter,
    /// Errors the AWS endpoint answers instead of forwarding (kept across restarts).
    pub aws_faults: faults::FaultInjector,
    /// The functions' roles, judging every AWS call they make, and the calls judged.
    pub iam: iam::Iam,
    moto: Moto,
    sqs_pollers: bool,
    schedules: schedules::Schedules,
    /// How far each table's stream has been delivered, kept across host restarts.
    stream_positions: streams::StreamPositions,
    /// Where the servers find the functions' host running now.
    functions: functions::FunctionSlot,
    /// Stops the functions' host: its pollers and watchers.
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Stops the servers (Lambda's Invoke API, API Gateway), which outlive hosts.
    stop_servers: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
}

/// SDK configuration for the local endpoint: fixed test credentials, never the developer's own.
pub async fn local_sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "baton-local",
        ))
        .load()
        .await
}

/// An S3 client that addresses buckets by path, as local endpoints need.
pub fn path_style_s3(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

impl LocalStack {
    /// Starts moto, the simulators, the endpoints and the pollers, and provisions `template.yaml`.
    pub async fn start(options: StackOptions) -> Result<LocalStack> {
        let aws_listener = bind(options.aws_port, "AWS endpoint", "--aws-port").await?;
        let http_listener = bind(options.http_port, "HTTP API", "--http-port").await?;
        let aws_port = aws_listener.local_addr()?.port();
        let aws_endpoint = format!("http://127.0.0.1:{aws_port}");
        let http_url = format!("http://127.0.0.1:{}", http_listener.local_addr()?.port());
        let moto_port = if options.moto_port == 0 {
            moto::free_port()?
        } else {
            options.moto_port
        };
        let moto = Moto::start(&options.root, moto_port, aws_port, &options.moto_log).await?;
        let cloudflare_config = baton_sim_cloudflare::SimConfig {
            step_delay: options.pages_stage_delay,
            ..Default::default()
        };
        let cloudflare = baton_sim_cloudflare::start(cloudflare_config, options.cloudflare_port)
            .await
            .with_context(|| format!("starting the Cloudflare simulator on port {}", options.cloudflare_port))?;
        let anypoint_config = baton_sim_anypoint::SimConfig::default().with_apply_delay(options.cloudhub_apply_delay);
        let anypoint = baton_sim_anypoint::start(anypoint_config, options.anypoint_port)
            .await
            .with_context(|| format!("starting the Anypoint simulator on port {}", options.anypoint_port))?;

        let sdk = local_sdk_config(&aws_endpoint, &options.region).await;
        let parameters = BTreeMap::from([
            ("ArtefactBucketName".to_string(), options.bucket.clone()),
            // Failed webhook deliveries are tried again after 1s, 2s, 4s...: tests wait seconds.
            ("WebhookRetryBaseSeconds".to_string(), "1".to_string()),
        ]);
        let template = Template::load(
            &options.root.join("template.yaml"),
            &options.stack_name,
            &options.region,
            &aws_endpoint,
            &parameters,
        )?;
        let (stop, _) = watch::channel(false);
        let (stop_servers, _) = watch::channel(false);
        // Read once per stack start: the check per request only looks the role up.
        let iam = iam::Iam::new(&template, &options.region);
        let mut stack = LocalStack {
            aws_endpoint,
            http_url,
            region: options.region.clone(),
            bucket: options.bucket.clone(),
            template,
            sdk,
            registry: Arc::new(Registry::default()),
            outbox: outbox::Outbox::default(),
            webhooks: webhook_receiver::Receiver::load(&options.root)?,
            cloudflare,
            anypoint,
            aws_requests: aws_endpoint::RequestCounter::default(),
            aws_faults: faults::FaultInjector::default(),
            iam,
            moto,
            sqs_pollers: options.sqs_pollers,
            schedules: options.schedules,
            stream_positions: streams::StreamPositions::default(),
            functions: functions::FunctionSlot::default(),
            stop,
            tasks: Vec::new(),
            stop_servers,
            servers: Vec::new(),
        };
        stack.serve(aws_listener, http_listener)?;
        let clients = provision::Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(&stack.sdk),
            s3: path_style_s3(&stack.sdk),
            sqs: aws_sdk_sqs::Client::new(&stack.sdk),
            sfn: aws_sdk_sfn::Client::new(&stack.sdk),
            ses: aws_sdk_sesv2::Client::new(&stack.sdk),
        };
        provision::provision(&stack.template, &options.root, &clients, &options.region).await?;
        seed_secrets(&options.root, &aws_sdk_secretsmanager::Client::new(&stack.sdk)).await?;
        let endpoints = Endpoints {
            http_url: stack.http_url.clone(),
            cloudflare: stack.cloudflare.url(),
            anypoint: stack.anypoint.url(),
        };
        upload_config(&options, &endpoints, &clients.s3).await?;
        stack.run_functions()?;
        Ok(stack)
    }

    /// Serves the AWS endpoint and the HTTP API; the functions come once provisioned.
    fn serve(&mut self, aws_listener: TcpListener, http_listener: TcpListener) -> Result<()> {
        let stopped = self.stop_servers.subscribe();
        let endpoint = Arc::new(aws_endpoint::EndpointState {
            moto_url: self.moto.url.clone(),
            functions: self.functions.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            outbox: self.outbox.clone(),
            requests: self.aws_requests.clone(),
            faults: self.aws_faults.clone(),
            dynamodb_transactions: tokio::sync::RwLock::new(()),
            iam: self.iam.clone(),
        });
        self.servers
            .push(serve(aws_listener, aws_endpoint::router(endpoint), stopped.clone()));
        self.servers.push(serve(
            http_listener,
            http_api::router(self.functions.clone(), self.outbox.clone()).merge(self.webhooks.clone().router()),
            stopped,
        ));
        Ok(())
    }

    /// Builds every function's handler afresh and starts the SQS pollers.
    fn run_functions(&mut self) -> Result<()> {
        let (stop, _) = watch::channel(false);
        self.stop = stop;
        let registry = Arc::new(Registry::build(&self.template, &self.sdk, &self.region)?);
        self.functions.set(Some(registry.clone()));
        // With pollers off, no function is fed from SQS: an empty list of polled functions.
        let polled = if self.sqs_pollers {
            registry.functions.as_slice()
        } else {
            &[]
        };
        for function in polled {
            // The event source mapping polls with the function's role, as Lambda does.
            let sqs = aws_sdk_sqs::Client::new(&iam::function_sdk(&self.sdk, &function.name));
            for source in &function.sqs {
                let queue_url = format!("{}/{}/{}", self.aws_endpoint, template::ACCOUNT_ID, source.queue_name);
                // Lambda polls a queue with several pollers at once; three exercise concurrent
                // batches locally.
                for _ in 0..3 {
                    self.tasks.push(tokio::spawn(poller::run(
                        (sqs.clone(), aws_sdk_sqs::Client::new(&self.sdk)),
                        queue_url.clone(),
                        source.clone(),
                        self.region.clone(),
                        function.handler.clone(),
                        self.stop.subscribe(),
                    )));
                }
            }
        }
        // DynamoDB stream event source mappings, read from moto's stream API.
        for function in polled {
            let sqs = aws_sdk_sqs::Client::new(&iam::function_sdk(&self.sdk, &function.name));
            for source in &function.streams {
                let mut source = source.clone();
                source.on_failure_queue = source
                    .on_failure_queue
                    .map(|name| format!("{}/{}/{name}", self.aws_endpoint, template::ACCOUNT_ID));
                let clients = streams::StreamClients {
                    moto_url: self.moto.url.clone(),
                    http: reqwest::Client::new(),
                    sqs: sqs.clone(),
                    region: self.region.clone(),
                    positions: self.stream_positions.clone(),
                    iam: Some((self.iam.clone(), function.name.clone(), source.table_name.clone())),
                };
                self.tasks.push(tokio::spawn(streams::run(
                    clients,
                    source,
                    function.handler.clone(),
                    self.stop.subscribe(),
                )));
            }
        }
        // EventBridge rules on Step Functions status changes, served by watching executions.
        let targets: Vec<eventbridge::Target> = registry
            .functions
            .iter()
            .flat_map(|f| {
                f.event_patterns.iter().map(|pattern| eventbridge::Target {
                    name: f.name.clone(),
                    pattern: pattern.clone(),
                    handler: f.handler.clone(),
                })
            })
            .collect();
        if !targets.is_empty() {
            let machines: Vec<String> = self
                .template
                .of_kind(&["AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"])
                .filter_map(|r| self.state_machine_arn(&r.logical_id).ok())
                .collect();
            let mut moto_sdk = self.sdk.to_builder();
            moto_sdk.set_endpoint_url(Some(self.moto.url.clone()));
            self.tasks.push(tokio::spawn(eventbridge::run(
                aws_sdk_sfn::Client::new(&moto_sdk.build()),
                machines,
                targets,
                self.region.clone(),
                self.stop.subscribe(),
            )));
        }
        for f in &registry.functions {
            for expression in &f.schedules {
                self.tasks.push(tokio::spawn(schedules::run(
                    schedules::Scheduled {
                        name: f.name.clone(),
                        expression: expression.clone(),
                        handler: f.handler.clone(),
                    },
                    self.schedules,
                    self.region.clone(),
                    self.stop.subscribe(),
                )));
            }
        }
        self.registry = registry;
        Ok(())
    }

    /// Kills the functions' host and starts a fresh one, as Lambda replaces a host that died:
    /// invocations running on it end with `Runtime.ExitError`, pollers and every handler (with
    /// its caches) are dropped and built again. The servers (Lambda's Invoke API, API Gateway),
    /// moto and the simulators keep running, so AWS state and waiting executions survive; while
    /// no host runs, Invoke answers Lambda's retryable `ServiceException`.
    pub async fn restart_functions(&mut self) -> Result<()> {
        self.functions.set(None);
        self.registry.kill();
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.registry = Arc::new(Registry::default());
        // An aborted poller's long poll is still open at moto until its wait ends; a message
        // arriving meanwhile would go to it and stay invisible for the queue's visibility
        // timeout (as on AWS when a Lambda host dies). Let those polls run out first.
        tokio::time::sleep(poller::LONG_POLL + std::time::Duration::from_millis(200)).await;
        self.run_functions()
    }

    /// The physical name of the resource `logical_id` (e.g. `Table`, `UploadsQueue`).
    pub fn resource_name(&self, logical_id: &str) -> Result<String> {
        self.template
            .resource(logical_id)
            .map(|r| r.name.clone())
            .ok_or_else(|| anyhow!("template.yaml has no resource {logical_id}"))
    }

    /// The URL of the queue `logical_id`.
    pub fn queue_url(&self, logical_id: &str) -> Result<String> {
        Ok(format!(
            "{}/{}/{}",
            self.aws_endpoint,
            template::ACCOUNT_ID,
            self.resource_name(logical_id)?
        ))
    }

    /// How far each table stream's event source mapping has read (shard to sequence number):
    /// unchanged for a while means the mappings have caught up with every write (the bench
    /// waits for that after seeding, so background reads do not land on what it measures).
    pub fn stream_positions(&self) -> std::collections::BTreeMap<String, String> {
        self.stream_positions.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The ARN of the state machine `logical_id`.
    pub fn state_machine_arn(&self, logical_id: &str) -> Result<String> {
        Ok(format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            self.region,
            template::ACCOUNT_ID,
            self.resource_name(logical_id)?
        ))
    }

    /// Stops pollers, servers, simulators and moto.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let _ = self.stop_servers.send(true);
        for task in self.tasks.drain(..).chain(self.servers.drain(..)) {
            task.abort();
        }
        self.moto.stop().await;
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        let _ = self.stop_servers.send(true);
        for task in self.tasks.iter().chain(self.servers.iter()) {
            task.abort();
        }
    }
}

async fn bind(port: u16, what: &str, flag: &str) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} for the {what}: is another process using it? Stop it or choose another port ({flag})"))
}

fn serve(listener: TcpListener, router: axum::Router, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.changed().await;
            })
            .await;
    })
}

/// Where this stack's services listen, for the uploaded configuration.
struct Endpoints {
    http_url: String,
    cloudflare: String,
    anypoint: String,
}

/// Seeds the local secrets (`infra/local/secrets.local.json`), which match the simulators.
async fn seed_secrets(root: &Path, client: &aws_sdk_secretsmanager::Client) -> Result<()> {
    let path = root.join("infra/local/secrets.local.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let secrets: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text)?;
    for (name, value) in secrets.iter().filter(|(name, _)| !name.starts_with('_')) {
        let value = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
        client
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .with_context(|| format!("creating secret {name}"))?;
    }
    Ok(())
}

/// Uploads `baton.yaml` to the bucket, pointed at this stack's HTTP API and simulators.
async fn upload_config(options: &StackOptions, endpoints: &Endpoints, s3: &aws_sdk_s3::Client) -> Result<()> {
    let path = options.root.join("infra/config/baton.local.yaml");
    let text = match &options.config_yaml {
        Some(text) => text.clone(),
        None => std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    };
    let mut config = BatonConfig::from_yaml(&text).map_err(|e| anyhow!("{e}"))?;
    config.public_url = endpoints.http_url.clone();
    // Hooks pointed at the local receiver follow the HTTP API to its port.
    for hook in &mut config.notifications.webhooks {
        if let Some((_, path)) = hook.url.split_once("/_local/webhooks/") {
            hook.url = format!("{}/_local/webhooks/{path}", endpoints.http_url);
        }
    }
    for component in &mut config.components {
        if let Some(cloudflare) = component.cloudflare.as_mut() {
            cloudflare.api_base_url = Some(endpoints.cloudflare.clone());
        }
        if let Some(anypoint) = component.anypoint.as_mut() {
            anypoint.base_url = Some(endpoints.anypoint.clone());
        }
    }
    let body = serde_yaml::to_string(&config)?;
    s3.put_object()
        .bucket(&options.bucket)
        .key(baton_aws::settings::DEFAULT_CONFIG_KEY)
        .body(body.into_bytes().into())
        .content_type("application/yaml")
        .send()
        .await
        .context("uploading config/baton.yaml")?;
    Ok(())
}
