//! Faults the local stack's AWS endpoint injects on request, so tests can show what Baton does
//! when AWS throttles, refuses or fails: "answer the next N requests of this operation with this
//! error". The error is answered the way the service's protocol does, so the real SDK code sees
//! what it would see from AWS (and retries what it would retry).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One injected fault: the next `count` requests of `operation` get this error.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The operation, as the endpoint names it: the `X-Amz-Target` of JSON protocol services
    /// (`DynamoDB_20120810.PutItem`, `AWSStepFunctions.SendTaskSuccess`), or
    /// [`SES_SEND_EMAIL`] for SES v2's REST route. A value ending in `.*` matches every
    /// operation of that service (`DynamoDB_20120810.*`); several are separated by `|`.
    pub operation: String,
    /// How many requests to answer with the error.
    pub count: u64,
    /// The HTTP status.
    pub status: u16,
    /// The error code (`ThrottlingException`, `MessageRejected`, ...).
    pub code: String,
    /// The error's message.
    pub message: String,
}

/// The name the endpoint gives Lambda's `Invoke` (a REST route without `X-Amz-Target`).
pub const LAMBDA_INVOKE: &str = "Lambda.Invoke";

/// The name the endpoint gives SES v2's `SendEmail` (a REST route without `X-Amz-Target`).
pub const SES_SEND_EMAIL: &str = "SESv2.SendEmail";

impl Fault {
    /// DynamoDB throttling the next `count` writes (reads are left alone so that a test can
    /// still watch what happens).
    pub fn dynamodb_throttling(count: u64) -> Fault {
        Fault {
            operation: "DynamoDB_20120810.PutItem|DynamoDB_20120810.UpdateItem|DynamoDB_20120810.TransactWriteItems"
                .into(),
            count,
            status: 400,
            code: "ProvisionedThroughputExceededException".into(),
            message: "The level of configured provisioned throughput for the table was exceeded.".into(),
        }
    }

    /// SES refusing the next `count` mails.
    pub fn ses_refusing(count: u64) -> Fault {
        Fault {
            operation: SES_SEND_EMAIL.into(),
            count,
            status: 400,
            code: "MessageRejected".into(),
            message: "Email address is not verified.".into(),
        }
    }

    /// Step Functions failing the next `count` calls of `operation` (`SendTaskSuccess`, ...)
    /// with a server error.
    pub fn step_functions_failing(operation: &str, count: u64) -> Fault {
        Fault {
            operation: format!("AWSStepFunctions.{operation}"),
            count,
            status: 500,
            code: "InternalFailure".into(),
            message: "The request processing has failed because of an unknown error.".into(),
        }
    }

    /// Lambda's Invoke API refusing the next `count` invocations with its retryable
    /// `ServiceException` (HTTP 503), as it does when the service itself fails.
    pub fn lambda_unavailable(count: u64) -> Fault {
        Fault {
            operation: LAMBDA_INVOKE.into(),
            count,
            status: 503,
            code: "ServiceException".into(),
            message: "The AWS Lambda service encountered an internal error.".into(),
        }
    }

    fn matches(&self, operation: &str) -> bool {
        self.operation.split('|').any(|wanted| match wanted.strip_suffix('*') {
            Some(service) => operation.starts_with(service),
            None => wanted == operation,
        })
    }
}

/// The faults waiting to be injected, shared by the endpoint and the test that sets them.
#[derive(Debug, Clone, Default)]
pub struct FaultInjector {
    waiting: Arc<Mutex<Vec<Fault>>>,
    injected: Arc<AtomicU64>,
    /// How late global secondary indexes show writes (none unless a test sets it).
    pub index_lag: crate::index_lag::IndexLag,
}

impl FaultInjector {
    /// Adds a fault; faults for the same operation are used in the order added.
    pub fn inject(&self, fault: Fault) {
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.push(fault);
        }
    }

    /// How many requests were answered with an injected error so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Faults not yet used up.
    pub fn pending(&self) -> u64 {
        self.waiting
            .lock()
            .map(|w| w.iter().map(|f| f.count).sum())
            .unwrap_or_default()
    }

    /// The error to answer `operation` with, if a fault is waiting for it.
    pub(crate) fn answer(&self, operation: &str, json_protocol: bool) -> Option<Response> {
        let mut waiting = self.waiting.lock().ok()?;
        let index = waiting.iter().position(|f| f.count > 0 && f.matches(operation))?;
        let fault = &mut waiting[index];
        fault.count -= 1;
        let answer = error_response(fault, json_protocol);
        if fault.count == 0 {
            waiting.remove(index);
        }
        self.injected.fetch_add(1, Ordering::SeqCst);
        tracing::info!(operation, "injected fault");
        Some(answer)
    }
}

/// The error as the protocol carries it: JSON 1.0 services put the code in `__type`; REST-JSON
/// services (SES v2) in the `x-amzn-ErrorType` header.
fn error_response(fault: &Fault, json_protocol: bool) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if json_protocol {
        json!({ "__type": fault.code, "message": fault.message })
    } else {
        json!({ "message": fault.message })
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(code) = HeaderValue::from_str(&fault.code) {
        response.headers_mut().insert("x-amzn-ErrorType", code);
    }
    response
}
