//! Builds each function's handler from its adapters. Used by the functions' `main` and by the
//! local stack, so both run exactly the same code.

use std::sync::Arc;

use baton_anypoint::port::AnypointPlatform;
use baton_aws::{
    AwsContext, DynamoStore, S3Artefacts, S3ConfigSource, SecretsManager, SesMailer, SfnCallbacks, SfnWorkflow,
    SqsDecisionQueue,
};
use baton_cloudflare::port::CloudflarePages;
use baton_domain::BatonError;

use crate::approve::Approve;
use crate::deliver::{Deliveries, WithDeliveries};
use crate::deploy_cloudhub::DeployCloudHub;
use crate::deploy_pages::DeployPages;
use crate::ingest::Ingest;
use crate::lifecycle::Lifecycle;
use crate::notify::Notify;
use crate::redeploys::{RedeployRequests, WithRedeploys};

/// The configuration source every function of one context shares.
pub type Config = Arc<S3ConfigSource>;

/// The ingest handler on AWS.
pub type AwsIngest = Ingest<Config, S3Artefacts, DynamoStore, SfnWorkflow>;
/// The notify handler on AWS.
pub type AwsNotify = Notify<Config, DynamoStore, SesMailer, SfnCallbacks>;
/// The approve handler on AWS.
pub type AwsApprove = Approve<Config, DynamoStore, SesMailer, SfnCallbacks, SqsDecisionQueue>;
/// The approve function on AWS: the approval links, and the redeploy form's requests.
pub type AwsApproveFunction = WithRedeploys<AwsApprove, RedeployRequests<Config, DynamoStore, SfnWorkflow>>;
/// The lifecycle handler on AWS: the workflow's steps, and the decisions queue's consumer.
pub type AwsLifecycle = WithDeliveries<Lifecycle<Config, DynamoStore, SesMailer>, AwsDeliveries>;
/// The decisions queue's consumer on AWS.
pub type AwsDeliveries = Deliveries<DynamoStore, SfnCallbacks, SqsDecisionQueue, SesMailer, Config>;
/// The deploy-pages handler on AWS.
pub type AwsDeployPages = DeployPages<Config, S3Artefacts, DynamoStore, CloudflarePages, SecretsManager>;
/// The deploy-cloudhub handler on AWS.
pub type AwsDeployCloudHub = DeployCloudHub<Config, S3Artefacts, DynamoStore, AnypointPlatform, SecretsManager>;

/// The configuration source.
pub fn config_source(ctx: &AwsContext) -> Config {
    Arc::new(S3ConfigSource::new(
        ctx.s3(),
        &ctx.settings.bucket,
        &ctx.settings.config_key,
    ))
}

fn store(ctx: &AwsContext) -> DynamoStore {
    DynamoStore::new(ctx.dynamodb(), &ctx.settings.table)
}

/// Builds the ingest handler.
pub fn ingest(ctx: &AwsContext, config: Config) -> Result<AwsIngest, BatonError> {
    let state_machine = ctx.settings.state_machine_arn.clone().ok_or_else(|| {
        BatonError::internal("BATON_STATE_MACHINE_ARN is not set; ingest starts the release workflow")
    })?;
    Ok(Ingest::new(
        config,
        S3Artefacts::new(ctx.s3(), &ctx.settings.bucket),
        store(ctx),
        SfnWorkflow::new(ctx.sfn(), state_machine),
    ))
}

/// Builds the notify handler.
pub fn notify(ctx: &AwsContext, config: Config) -> AwsNotify {
    Notify::new(
        config,
        store(ctx),
        SesMailer::new(ctx.sesv2()),
        SfnCallbacks::new(ctx.sfn()),
    )
}

/// Builds the approve handler.
pub fn approve(ctx: &AwsContext, config: Config) -> Result<AwsApproveFunction, BatonError> {
    let state_machine = ctx
        .settings
        .state_machine_arn
        .clone()
        .ok_or_else(|| BatonError::internal("BATON_STATE_MACHINE_ARN is not set; approve starts redeploys"))?;
    Ok(WithRedeploys::new(
        Approve::new(
            config.clone(),
            store(ctx),
            SesMailer::new(ctx.sesv2()),
            SfnCallbacks::new(ctx.sfn()),
            SqsDecisionQueue::new(ctx.sqs(), ctx.settings.decisions_queue_url.clone()),
        ),
        RedeployRequests::new(config, store(ctx), SfnWorkflow::new(ctx.sfn(), state_machine)),
    ))
}

/// Builds the lifecycle handler; SQS batches from the decisions queue go to its consumer.
pub fn lifecycle(ctx: &AwsContext, config: Config) -> AwsLifecycle {
    WithDeliveries::new(
        Lifecycle::new(config.clone(), store(ctx), SesMailer::new(ctx.sesv2())),
        deliveries(ctx, config),
    )
}

/// Builds the decisions queue's consumer (hosted by the lifecycle function).
pub fn deliveries(ctx: &AwsContext, config: Config) -> AwsDeliveries {
    Deliveries::new(
        store(ctx),
        SfnCallbacks::new(ctx.sfn()),
        SqsDecisionQueue::new(ctx.sqs(), ctx.settings.decisions_queue_url.clone()),
        SesMailer::new(ctx.sesv2()),
        config,
    )
}

/// Builds the deploy-cloudhub handler.
pub fn deploy_cloudhub(ctx: &AwsContext, config: Config) -> AwsDeployCloudHub {
    DeployCloudHub::new(
        config,
        S3Artefacts::new(ctx.s3(), &ctx.settings.bucket),
        store(ctx),
        AnypointPlatform::new(),
        SecretsManager::new(ctx.secretsmanager()),
    )
}

/// Builds the deploy-pages handler.
pub fn deploy_pages(ctx: &AwsContext, config: Config) -> AwsDeployPages {
    DeployPages::new(
        config,
        S3Artefacts::new(ctx.s3(), &ctx.settings.bucket),
        store(ctx),
        CloudflarePages::new(),
        SecretsManager::new(ctx.secretsmanager()),
    )
}

/// Sign-in for the status pages on AWS.
pub type AwsSignIn = crate::status::access::SignIn<DynamoStore, SesMailer, SecretsManager>;
/// The status handler on AWS.
pub type AwsStatus = crate::status::Status<Config, DynamoStore, AwsSignIn>;
/// The status function on AWS: the status pages, sign-in, subscriptions and the weekly digest.
pub type AwsStatusFunction = crate::status::subscriptions::WithSubscriptions<Config, DynamoStore, SesMailer, AwsSignIn>;

/// Builds the status function.
pub fn status(ctx: &AwsContext, config: Config) -> AwsStatusFunction {
    use crate::status::subscriptions::{Subscriptions, WithSubscriptions};
    let sign_in = crate::status::access::SignIn::new(
        store(ctx),
        SesMailer::new(ctx.sesv2()),
        SecretsManager::new(ctx.secretsmanager()),
    );
    WithSubscriptions::new(
        crate::status::Status::new(config.clone(), store(ctx), sign_in),
        Subscriptions::new(config, store(ctx), SesMailer::new(ctx.sesv2())),
        crate::subscribers::digest::WeeklyDigest::new(store(ctx), SesMailer::new(ctx.sesv2())),
    )
}

/// The "live" notices on AWS, for the announce function's listeners.
pub type AwsLiveNotices = crate::subscribers::live::LiveNotices<Config, DynamoStore, SesMailer>;

/// Builds the "live" notices listener.
pub fn live_notices(ctx: &AwsContext, config: Config) -> AwsLiveNotices {
    crate::subscribers::live::LiveNotices::new(config, store(ctx), SesMailer::new(ctx.sesv2()))
}

/// The announce function on AWS: the table's stream to every listener, and the webhooks queue's
/// consumer beside it.
pub type AwsAnnounce = WithDeliveries<crate::announce::Announce, AwsWebhookDeliveries>;
/// The webhooks queue's consumer on AWS.
pub type AwsWebhookDeliveries = crate::announce::webhooks::WebhookDeliveries<
    Config,
    SecretsManager,
    baton_aws::HttpWebhookPoster,
    DynamoStore,
    baton_aws::SqsWebhookQueue,
>;

/// Builds the announce function. A new listener is one more entry in its list.
pub fn announce(ctx: &AwsContext, config: Config) -> Result<AwsAnnounce, BatonError> {
    let queue = || baton_aws::SqsWebhookQueue::new(ctx.sqs(), ctx.settings.webhooks_queue_url.clone());
    let listeners: Vec<Arc<dyn baton_domain::ports::EventListener>> = vec![
        Arc::new(crate::announce::webhooks::WebhookListener::new(config.clone(), queue())),
        Arc::new(live_notices(ctx, config.clone())),
    ];
    Ok(WithDeliveries::new(
        crate::announce::Announce::new(listeners),
        crate::announce::webhooks::WebhookDeliveries::new(
            config,
            SecretsManager::new(ctx.secretsmanager()),
            baton_aws::HttpWebhookPoster::new(),
            store(ctx),
            queue(),
            ctx.settings.webhook_retry_base_seconds,
        ),
    ))
}

/// The drift handler on AWS.
pub type AwsDrift = crate::drift::DriftCheck<
    Config,
    S3Artefacts,
    DynamoStore,
    AnypointPlatform,
    CloudflarePages,
    SecretsManager,
    SesMailer,
>;

/// Builds the drift handler: it reads the platforms with the deploy functions' clients.
pub fn drift(ctx: &AwsContext, config: Config) -> AwsDrift {
    crate::drift::DriftCheck::new(
        config,
        S3Artefacts::new(ctx.s3(), &ctx.settings.bucket),
        store(ctx),
        AnypointPlatform::new(),
        CloudflarePages::new(),
        SecretsManager::new(ctx.secretsmanager()),
        SesMailer::new(ctx.sesv2()),
    )
}
