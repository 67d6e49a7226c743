//! The AWS endpoint of the local stack: the Lambda Invoke API served in process, every other
//! request forwarded to moto.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the endpoint needs.
pub struct EndpointState {
    /// moto's base URL.
    pub moto_url: String,
    /// The functions of the host running now.
    pub functions: crate::functions::FunctionSlot,
    /// The client requests are forwarded with.
    pub client: reqwest::Client,
    /// Mails sent through SES.
    pub outbox: crate::outbox::Outbox,
    /// Requests forwarded, by operation.
    pub requests: RequestCounter,
    /// Errors to answer instead of forwarding, set by tests.
    pub faults: crate::faults::FaultInjector,
    /// Isolates DynamoDB transactions: moto rolls a failed transaction back by restoring a
    /// snapshot of the whole table taken when it began, which would undo every write other
    /// requests made meanwhile. A transaction holds this exclusively, other DynamoDB requests
    /// share it, so transactions keep the isolation they have on AWS.
    pub dynamodb_transactions: tokio::sync::RwLock<()>,
    /// Judges each function's request against its role (docs/iam.md).
    pub iam: crate::iam::Iam,
}

/// How many requests the endpoint forwarded, by operation: the `X-Amz-Target` header of JSON
/// protocol services (e.g. `DynamoDB_20120810.Query`). Lets a test assert what a call costs.
/// It also keeps the time during which at least one DynamoDB request was in flight, so a
/// benchmark can tell a handler's own time from the time it waited on (local) DynamoDB.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    dynamodb: Arc<Mutex<Busy>>,
}

/// Time with at least one request in flight: the union of the requests' intervals.
#[derive(Debug, Default)]
struct Busy {
    in_flight: u32,
    since: Option<std::time::Instant>,
    total: std::time::Duration,
}

/// One DynamoDB request in flight; its end is recorded when dropped.
struct InFlight(Arc<Mutex<Busy>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.0.lock() {
            busy.in_flight = busy.in_flight.saturating_sub(1);
            if busy.in_flight == 0
                && let Some(since) = busy.since.take()
            {
                busy.total += since.elapsed();
            }
        }
    }
}

impl RequestCounter {
    fn record(&self, operation: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(operation.to_string()).or_default() += 1;
        }
    }

    fn dynamodb_request(&self) -> InFlight {
        if let Ok(mut busy) = self.dynamodb.lock() {
            if busy.in_flight == 0 {
                busy.since = Some(std::time::Instant::now());
            }
            busy.in_flight += 1;
        }
        InFlight(self.dynamodb.clone())
    }

    /// The counts so far, by operation.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// How long, so far, at least one DynamoDB request was in flight at this endpoint (from
    /// arriving here until its answer was read from moto).
    pub fn dynamodb_busy(&self) -> std::time::Duration {
        self.dynamodb
            .lock()
            .map(|b| b.total + b.since.map(|s| s.elapsed()).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// The endpoint's routes.
pub fn router(state: Arc<EndpointState>) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .fallback(forward)
        .with_state(state)
}

fn lambda_error(status: StatusCode, kind: &str, message: String) -> Response {
    let mut response = (status, axum::Json(json!({ "Type": "User", "message": message }))).into_response();
    if let Ok(v) = HeaderValue::from_str(kind) {
        response.headers_mut().insert("x-amzn-ErrorType", v);
    }
    response
}

/// `Invoke`, with Lambda's contract: a function error is a 200 with `X-Amz-Function-Error`
/// and a body of `errorType` and `errorMessage`. Every answer, errors included, carries
/// `x-amzn-RequestId` as Lambda's do: moto's Step Functions reads it from a refused invoke
/// (to build the error's cause) and fails the whole execution with `States.Runtime` when it
/// is missing, where Lambda's real `ServiceException` would have been retried.
async fn invoke(
    state: State<Arc<EndpointState>>,
    name: Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    static INVOCATIONS: AtomicU64 = AtomicU64::new(0);
    let request = crate::iam::request::Request {
        method: "POST",
        path: uri.path(),
        query: uri.query().unwrap_or_default(),
        target: None,
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()),
        copy_source: None,
        body: &body,
    };
    let mut response = match state.iam.check(&request) {
        Ok(()) => invoke_function(state, name, headers, body).await,
        Err(denied) => denial("lambda", denied),
    };
    let n = INVOCATIONS.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("00000000-0000-4000-8000-{n:012x}");
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    response
}

async fn invoke_function(
    State(state): State<Arc<EndpointState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = state.faults.answer(crate::faults::LAMBDA_INVOKE, false) {
        return refused;
    }
    // Between hosts (starting, or restarting after a kill), Lambda's own answer to a
    // service-side failure: callers retry it.
    let Some(registry) = state.functions.current() else {
        return lambda_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceException",
            "the local stack's functions are starting".into(),
        );
    };
    let decoded = percent_encoding::percent_decode_str(&name)
        .decode_utf8_lossy()
        .into_owned();
    let Some(function) = registry.find(&decoded) else {
        return lambda_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Function not found: {decoded}"),
        );
    };
    let payload: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return lambda_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    format!("Could not parse request body into json: {e}"),
                );
            }
        }
    };
    let handler = function.handler.clone();
    let name = function.name.clone();
    if headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()) == Some("Event") {
        tokio::spawn(async move {
            if let Some(Err(e)) = registry.run(&handler, payload).await {
                tracing::warn!(function = %name, error = %e, "asynchronous invocation failed");
            }
        });
        return StatusCode::ACCEPTED.into_response();
    }
    let (body, error) = match registry.run(&handler, payload).await {
        Some(Ok(v)) => (v, None),
        None => {
            tracing::warn!(function = %name, "the functions' host was killed during the invocation");
            (
                json!({ "errorType": "Runtime.ExitError", "errorMessage": "Runtime exited with error: signal: killed" }),
                Some("Unhandled"),
            )
        }
        Some(Err(e)) => {
            tracing::warn!(function = %name, error_type = e.kind.error_type(), error = %e.message, "function error");
            (
                json!({ "errorType": e.kind.error_type(), "errorMessage": e.message }),
                Some("Unhandled"),
            )
        }
    };
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert("x-amz-executed-version", HeaderValue::from_static("$LATEST"));
    if let Some(error) = error {
        response
            .headers_mut()
            .insert("x-amz-function-error", HeaderValue::from_static(error));
    }
    response
}

const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "content-length",
];

/// Forwards a request to moto unchanged (the Host header too, so URLs moto builds, such as
/// queue URLs, name this endpoint).
async fn forward(State(state): State<Arc<EndpointState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !operation.is_empty() {
        state.requests.record(&operation);
    }
    let is_mail = parts.method == axum::http::Method::POST && parts.uri.path() == "/v2/email/outbound-emails";
    let named = if is_mail {
        crate::faults::SES_SEND_EMAIL
    } else {
        operation.as_str()
    };
    if !named.is_empty()
        && let Some(error) = state.faults.answer(named, !is_mail)
    {
        return error;
    }
    let dynamodb_operation = operation.strip_prefix("DynamoDB_20120810.");
    let _in_flight = dynamodb_operation.map(|_| state.requests.dynamodb_request());
    let _isolation = match dynamodb_operation {
        Some("TransactWriteItems") => Some(Isolation::Exclusive(state.dynamodb_transactions.write().await)),
        Some(_) => Some(Isolation::Shared(state.dynamodb_transactions.read().await)),
        None => None,
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("could not read the request body: {e}")).into_response(),
    };
    if let Some(denied) = refused(&state.iam, &parts, &body) {
        return denied;
    }
    let mail_body = if is_mail { Some(body.clone()) } else { None };
    if let Some(operation) = dynamodb_operation {
        state.faults.index_lag.observe(operation, &body);
    }
    let request_body = dynamodb_operation.map(|_| body.clone());
    let mut outgoing = state
        .client
        .request(parts.method.clone(), format!("{}{path}", state.moto_url))
        .body(body);
    for (name, value) in parts.headers.iter() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    match outgoing.send().await {
        Ok(answer) => {
            let status = answer.status();
            if status == StatusCode::NOT_FOUND
                && let Some(denied) = missing_key_hidden(&state.iam, &parts)
            {
                return denied;
            }
            if let (true, Some(mail)) = (status.is_success(), &mail_body) {
                crate::outbox::capture(&state.outbox, mail);
            }
            let headers = answer.headers().clone();
            let mut bytes = answer.bytes().await.unwrap_or_default();
            let mut rewritten = false;
            if let (Some(operation), Some(request), true) = (dynamodb_operation, &request_body, status.is_success())
                && let Some(lagging) = state.faults.index_lag.filter(operation, request, &bytes)
            {
                bytes = lagging.into();
                rewritten = true;
            }
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            for (name, value) in headers.iter() {
                // A rewritten body no longer has moto's checksum.
                let stale = rewritten && name.as_str() == "x-amz-crc32";
                if !HOP_BY_HOP.contains(&name.as_str()) && !stale {
                    response.headers_mut().append(name, value.clone());
                }
            }
            response
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("moto did not answer: {e}")).into_response(),
    }
}

/// A held share of [`EndpointState::dynamodb_transactions`], released when dropped.
enum Isolation<'a> {
    Exclusive(#[allow(dead_code)] tokio::sync::RwLockWriteGuard<'a, ()>),
    Shared(#[allow(dead_code)] tokio::sync::RwLockReadGuard<'a, ()>),
}

/// Judges a request against its function's role: AWS's answer if its role refuses it.
fn refused(iam: &crate::iam::Iam, parts: &axum::http::request::Parts, body: &[u8]) -> Option<Response> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let request = crate::iam::request::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        target: header("x-amz-target"),
        authorization: header("authorization"),
        copy_source: header("x-amz-copy-source"),
        body,
    };
    iam.check(&request).err().map(|denied| {
        let service = crate::iam::request::credential(request.authorization, request.query)
            .map(|(_, service)| service)
            .unwrap_or_default();
        denial(&service, denied)
    })
}

/// A 404 for a missing S3 key turned into S3's 403 when the role may not list the key.
fn missing_key_hidden(iam: &crate::iam::Iam, parts: &axum::http::request::Parts) -> Option<Response> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let request = crate::iam::request::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        target: None,
        authorization: header("authorization"),
        copy_source: None,
        body: &[],
    };
    iam.hides_missing_key(&request).map(|d| denial("s3", d))
}

/// AWS's answer to a refused request: S3 (and SQS's query protocol) answer XML 403
/// `AccessDenied`; the JSON and REST-JSON services `AccessDeniedException`.
fn denial(service: &str, crate::iam::Denial(message): crate::iam::Denial) -> Response {
    let escaped = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    if service == "s3" {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{escaped}</Message></Error>"
        );
        return (StatusCode::FORBIDDEN, [("content-type", "application/xml")], xml).into_response();
    }
    let status = if service == "lambda" || service == "ses" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = (
        status,
        axum::Json(json!({ "__type": "AccessDeniedException", "message": message, "Message": message })),
    )
        .into_response();
    response
        .headers_mut()
        .insert("x-amzn-ErrorType", HeaderValue::from_static("AccessDeniedException"));
    if service == "sqs" {
        response
            .headers_mut()
            .insert("x-amzn-query-error", HeaderValue::from_static("AccessDenied;Sender"));
    }
    response
}
