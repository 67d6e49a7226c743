//! Baton's local stack (DESIGN §7): moto for S3, SQS, DynamoDB, SES and Step Functions; this
//! runner as the AWS endpoint (serving the Lambda Invoke API with the real handlers in
//! process and forwarding everything else to moto); SQS event source mappings; API Gateway
//! for the HTTP functions. Resources come from `template.yaml`, nothing else.

pub mod aws_endpoint;
pub mod demo;
pub mod functions;
pub mod http_api;
pub mod moto;
pub mod poller;
pub mod provision;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

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
    pub moto_log: Option<PathBuf>,
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
            moto_log: None,
        }
    }
}

impl StackOptions {
    /// Options for a test: every port chosen by the OS, so stacks can run side by side.
    pub fn ephemeral() -> Self {
        StackOptions {
            aws_port: 0,
            http_port: 0,
            ..StackOptions::default()
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
    moto: Moto,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
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
    /// Starts moto, the endpoints and the pollers, and provisions `template.yaml`.
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
        let moto = Moto::start(&options.root, moto_port, aws_port, options.moto_log.as_deref()).await?;

        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let endpoint_state = Arc::new(aws_endpoint::EndpointState {
            moto_url: moto.url.clone(),
            registry: OnceLock::new(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
        });
        tasks.push(serve(
            aws_listener,
            aws_endpoint::router(endpoint_state.clone()),
            stopped.clone(),
        ));
        let http_registry = Arc::new(OnceLock::new());
        tasks.push(serve(
            http_listener,
            http_api::router(http_registry.clone()),
            stopped.clone(),
        ));

        let sdk = local_sdk_config(&aws_endpoint, &options.region).await;
        let parameters = BTreeMap::from([("ArtefactBucketName".to_string(), options.bucket.clone())]);
        let template_path = options.root.join("template.yaml");
        let template = Template::load(
            &template_path,
            &options.stack_name,
            &options.region,
            &aws_endpoint,
            &parameters,
        )?;
        let clients = provision::Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            s3: path_style_s3(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sfn: aws_sdk_sfn::Client::new(&sdk),
        };
        provision::provision(&template, &options.root, &clients, &options.region).await?;
        upload_config(&options, &http_url, &clients.s3).await?;

        let registry = Arc::new(Registry::build(&template, &sdk, &options.region)?);
        let _ = endpoint_state.registry.set(registry.clone());
        let _ = http_registry.set(registry.clone());
        for function in &registry.functions {
            for source in &function.sqs {
                let queue_url = format!("{aws_endpoint}/{}/{}", template::ACCOUNT_ID, source.queue_name);
                // Lambda polls a queue with several pollers at once; three is enough to
                // exercise concurrent batches locally.
                for _ in 0..3 {
                    tasks.push(tokio::spawn(poller::run(
                        clients.sqs.clone(),
                        queue_url.clone(),
                        source.clone(),
                        options.region.clone(),
                        function.handler.clone(),
                        stopped.clone(),
                    )));
                }
            }
        }
        Ok(LocalStack {
            aws_endpoint,
            http_url,
            region: options.region,
            bucket: options.bucket,
            template,
            sdk,
            registry,
            moto,
            stop,
            tasks,
        })
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

    /// The ARN of the state machine `logical_id`.
    pub fn state_machine_arn(&self, logical_id: &str) -> Result<String> {
        Ok(format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            self.region,
            template::ACCOUNT_ID,
            self.resource_name(logical_id)?
        ))
    }

    /// Stops pollers, servers and moto.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
        }
        self.moto.stop().await;
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
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

/// Uploads `baton.yaml` to the bucket, its `public_url` pointed at this stack's HTTP API.
async fn upload_config(options: &StackOptions, http_url: &str, s3: &aws_sdk_s3::Client) -> Result<()> {
    let path = options.root.join("infra/config/baton.local.yaml");
    let text = match &options.config_yaml {
        Some(text) => text.clone(),
        None => std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    };
    let mut config = BatonConfig::from_yaml(&text).map_err(|e| anyhow!("{e}"))?;
    config.public_url = http_url.to_string();
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
