//! Every function's AWS requests, counted one per request (a transaction is one request, however
//! many items and IAM actions it names): what a release costs in requests (issue 18), read by the
//! request budget test and the bench.

use super::Iam;
use super::request::{Need, Request};

/// How many requests of one operation a function made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCount {
    /// The function's name (or the state machine's, for the requests Step Functions makes).
    pub function: String,
    /// The operation as `service:Operation` (`dynamodb:TransactWriteItems`, `s3:GetObject`).
    pub operation: String,
    /// How many.
    pub count: u64,
}

/// The operation a request names: its `X-Amz-Target` for the JSON protocols (DynamoDB, Step
/// Functions, SQS, Secrets Manager), else the IAM action it needs (S3, SES and Lambda's REST
/// APIs, where each request needs one action).
pub(super) fn operation(service: &str, r: &Request, needs: &[Need]) -> String {
    match r.target.and_then(|t| t.rsplit('.').next()) {
        Some(op) if !op.is_empty() => format!("{service}:{op}"),
        _ => needs
            .first()
            .map(|n| n.action.clone())
            .unwrap_or_else(|| format!("{service}:?")),
    }
}

impl Iam {
    pub(super) fn count_request(&self, function: &str, operation: String) {
        if let Ok(mut log) = self.log.lock() {
            *log.requests.entry((function.to_string(), operation)).or_default() += 1;
        }
    }

    /// Every function request counted so far, by function and operation.
    pub fn requests(&self) -> Vec<RequestCount> {
        let Ok(log) = self.log.lock() else {
            return Vec::new();
        };
        log.requests
            .iter()
            .map(|((function, operation), count)| RequestCount {
                function: function.clone(),
                operation: operation.clone(),
                count: *count,
            })
            .collect()
    }
}
