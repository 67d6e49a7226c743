//! The one shape every Baton function has: JSON in, JSON out, a classified error.

use async_trait::async_trait;
use baton_domain::BatonError;
use serde_json::Value;

/// A Lambda function's handler, independent of how it is invoked (the Lambda runtime in AWS,
/// the runner's Invoke API and event source mapping locally).
#[async_trait]
pub trait Function: Send + Sync {
    /// Handles one invocation. An error becomes Lambda's `errorType` / `errorMessage`.
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError>;
}
