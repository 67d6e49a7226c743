//! Turning SDK errors into classified [`BatonError`]s.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baton_domain::BatonError;

/// Error codes AWS services use for throttling and passing trouble.
const TRANSIENT_CODES: [&str; 11] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "SlowDown",
    "TransactionInProgressException",
];

/// Classifies an SDK error from operation `op`: throttling, 5xx, timeouts and connection
/// failures are transient; anything else (access denied, missing table) is internal, since
/// retrying cannot fix a deployment problem (the message says what to check).
pub fn sdk_error<E>(op: &str, err: SdkError<E, HttpResponse>) -> BatonError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            BatonError::transient(format!("{op}: could not reach AWS ({})", describe(&err)))
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown");
            let message = service.err().message().unwrap_or("no message");
            let status = service.raw().status().as_u16();
            let text = format!("{op}: {code} ({status}): {message}");
            if status >= 500 || TRANSIENT_CODES.contains(&code) {
                BatonError::transient(text)
            } else {
                BatonError::internal(text)
            }
        }
        _ => BatonError::internal(format!("{op}: {}", describe(&err))),
    }
}

fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
