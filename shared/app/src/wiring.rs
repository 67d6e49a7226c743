//! Builds each function's handler from AWS adapters. Used by the functions' `main` and by the
//! local stack, so both run exactly the same code.

use std::sync::Arc;

use baton_aws::{AwsContext, DynamoStore, S3Artefacts, S3ConfigSource, SfnWorkflow};
use baton_domain::BatonError;

use crate::ingest::Ingest;

/// The ingest handler on AWS.
pub type AwsIngest = Ingest<Arc<S3ConfigSource>, S3Artefacts, DynamoStore, SfnWorkflow>;

/// The configuration source every function of one context shares.
pub fn config_source(ctx: &AwsContext) -> Arc<S3ConfigSource> {
    Arc::new(S3ConfigSource::new(
        ctx.s3(),
        &ctx.settings.bucket,
        &ctx.settings.config_key,
    ))
}

/// Builds the ingest handler.
pub fn ingest(ctx: &AwsContext, config: Arc<S3ConfigSource>) -> Result<AwsIngest, BatonError> {
    let state_machine = ctx.settings.state_machine_arn.clone().ok_or_else(|| {
        BatonError::internal("BATON_STATE_MACHINE_ARN is not set; ingest starts the release workflow")
    })?;
    Ok(Ingest::new(
        config,
        S3Artefacts::new(ctx.s3(), &ctx.settings.bucket),
        DynamoStore::new(ctx.dynamodb(), &ctx.settings.table),
        SfnWorkflow::new(ctx.sfn(), state_machine),
    ))
}
