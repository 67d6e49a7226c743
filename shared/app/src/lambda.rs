//! Running a [`Function`] on the Lambda runtime: JSON logs, errors with Baton's error types.

use baton_domain::BatonError;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

use crate::Function;

/// A handler error as Lambda reports it: `errorType` is Baton's (`Baton.Transient`, ...),
/// never a Rust type name, so state machines can match it.
#[derive(Debug)]
pub struct FunctionError(pub BatonError);

impl From<FunctionError> for Diagnostic {
    fn from(e: FunctionError) -> Diagnostic {
        Diagnostic {
            error_type: e.0.kind.error_type().to_string(),
            error_message: e.0.message,
        }
    }
}

/// JSON logs for CloudWatch, level from `RUST_LOG` (default `info`).
pub fn init_json_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .init();
}

/// Runs `function` until the Lambda runtime stops the process.
pub async fn run<F: Function + 'static>(function: F) -> Result<(), lambda_runtime::Error> {
    let function = &function;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<Value>| async move { function.invoke(event.payload).await.map_err(FunctionError) },
    ))
    .await
}
