//! AWS adapters for Baton's ports: the DynamoDB store, the S3 artefact bucket and
//! configuration, and the Step Functions workflow. Handlers never see these types; they
//! receive them as the domain's port traits.

pub mod artefacts;
pub mod config_source;
pub mod dynamo;
pub mod errors;
pub mod mailer;
pub mod mime;
pub mod queue;
pub mod secrets;
pub mod settings;
pub mod webhooks;
pub mod workflow;

pub use artefacts::S3Artefacts;
pub use config_source::S3ConfigSource;
pub use dynamo::DynamoStore;
pub use mailer::SesMailer;
pub use queue::SqsDecisionQueue;
pub use secrets::SecretsManager;
pub use settings::{AwsContext, Settings};
pub use webhooks::{HttpWebhookPoster, SqsWebhookQueue};
pub use workflow::{SfnCallbacks, SfnWorkflow};
