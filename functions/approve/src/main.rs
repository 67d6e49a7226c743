//! Lambda `approve`: see `baton_app::approve`.

// One event at a time: a single-threaded runtime measured better than the multi-threaded one
// (docs/performance.md: ingest CPU per message, cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    baton_app::lambda::init_json_logs();
    let ctx = baton_aws::AwsContext::from_env().await?;
    let handler = baton_app::wiring::approve(&ctx, baton_app::wiring::config_source(&ctx))?;
    baton_app::lambda::run(handler).await
}
