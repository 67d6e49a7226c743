//! Where Baton's resources are, and the one SDK configuration every client is built from.

use aws_config::{BehaviorVersion, SdkConfig};
use baton_domain::BatonError;

/// Names of Baton's AWS resources, as the template passes them to every function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The DynamoDB table (`BATON_TABLE`).
    pub table: String,
    /// The artefact bucket (`BATON_BUCKET`).
    pub bucket: String,
    /// The key of `baton.yaml` in the bucket (`BATON_CONFIG_KEY`, default `config/baton.yaml`).
    pub config_key: String,
    /// The release state machine (`BATON_STATE_MACHINE_ARN`), for functions that start it.
    pub state_machine_arn: Option<String>,
    /// The queue of decisions still to deliver (`BATON_DECISIONS_QUEUE_URL`), for `approve`.
    pub decisions_queue_url: Option<String>,
    /// The queue of webhook deliveries (`BATON_WEBHOOKS_QUEUE_URL`), for `announce`.
    pub webhooks_queue_url: Option<String>,
    /// Seconds before a failed webhook delivery's second try (`BATON_WEBHOOK_RETRY_BASE_SECONDS`,
    /// default 30); each further try waits twice as long.
    pub webhook_retry_base_seconds: u64,
}

/// The default key of the configuration document in the artefact bucket.
pub const DEFAULT_CONFIG_KEY: &str = "config/baton.yaml";

impl Settings {
    /// Reads the settings from the environment, naming any variable that is missing.
    pub fn from_env() -> Result<Self, BatonError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the process environment in Lambda; the template's
    /// resolved variables in the local stack).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, BatonError> {
        let required = |name: &str| {
            lookup(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                BatonError::internal(format!(
                    "environment variable {name} is not set; the SAM template sets it for every function"
                ))
            })
        };
        Ok(Settings {
            table: required("BATON_TABLE")?,
            bucket: required("BATON_BUCKET")?,
            config_key: lookup("BATON_CONFIG_KEY")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_CONFIG_KEY.to_string()),
            state_machine_arn: lookup("BATON_STATE_MACHINE_ARN").filter(|v| !v.is_empty()),
            decisions_queue_url: lookup("BATON_DECISIONS_QUEUE_URL").filter(|v| !v.trim().is_empty()),
            webhooks_queue_url: lookup("BATON_WEBHOOKS_QUEUE_URL").filter(|v| !v.trim().is_empty()),
            webhook_retry_base_seconds: lookup("BATON_WEBHOOK_RETRY_BASE_SECONDS")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(30),
        })
    }
}

/// One loaded SDK configuration plus Baton's settings: what adapters are built from.
#[derive(Debug, Clone)]
pub struct AwsContext {
    /// Shared SDK configuration (credentials, region, endpoint), loaded once.
    pub sdk: SdkConfig,
    /// Resource names.
    pub settings: Settings,
    /// Address S3 by path (`http://host/bucket/key`), as local endpoints need.
    pub s3_path_style: bool,
}

impl AwsContext {
    /// Loads the SDK configuration from the environment (the Lambda role in AWS; `AWS_ENDPOINT_URL`
    /// and dummy keys locally). Path-style S3 is used whenever an endpoint override is set.
    pub async fn from_env() -> Result<Self, BatonError> {
        let settings = Settings::from_env()?;
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let s3_path_style = sdk.endpoint_url().is_some();
        Ok(AwsContext {
            sdk,
            settings,
            s3_path_style,
        })
    }

    /// An S3 client for this context.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(self.s3_path_style)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// A DynamoDB client for this context.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    /// A Secrets Manager client for this context.
    pub fn secretsmanager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
    }

    /// An SES v2 client for this context.
    pub fn sesv2(&self) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.sdk)
    }

    /// A Step Functions client for this context.
    pub fn sfn(&self) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::new(&self.sdk)
    }

    /// An SQS client for this context.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }
}
