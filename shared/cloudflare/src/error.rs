//! The one error type of the Pages client, and how it is classified (transient or permanent).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Cloudflare's "unknown error" code. wrangler retries deployment creation on it, whatever the HTTP status.
pub const CODE_UNKNOWN_ERROR: i64 = 8_000_000;
/// Pages "project not found".
pub const CODE_PROJECT_NOT_FOUND: i64 = 8_000_007;
/// Pages "unauthorized": the upload JWT is invalid or expired. The cure is a fresh JWT.
pub const CODE_UPLOAD_UNAUTHORIZED: i64 = 8_000_013;
/// Global API "Authentication error" (missing or unknown API token).
pub const CODE_AUTHENTICATION_ERROR: i64 = 10_000;
/// Rate limited ("Please wait and consider throttling your request speed").
pub const CODE_RATE_LIMITED: i64 = 971;
/// The older rate-limit code ("More than 1200 requests per 300 seconds reached").
pub const CODE_RATE_LIMITED_LEGACY: i64 = 10_100;

/// One entry of a v4 envelope's `errors` (or `messages`) array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ApiMessage {
    /// The numeric code, when the server sent one.
    pub code: Option<i64>,
    /// The human-readable message.
    pub message: String,
    /// Nested causes (`error_chain`), e.g. 6111 under 6003 for a malformed `Authorization` header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ApiMessage>,
}

impl fmt::Display for ApiMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "[{code}] {}", self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        for cause in &self.chain {
            write!(f, " (caused by {cause})")?;
        }
        Ok(())
    }
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The request or the response did not complete in time.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection broke while sending or receiving.
    Interrupted,
    /// The request could not even be built (a bug or bad input, never worth retrying).
    Invalid,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timeout",
            TransportKind::Connect => "connection error",
            TransportKind::Interrupted => "connection interrupted",
            TransportKind::Invalid => "invalid request",
        })
    }
}

/// Everything the Pages client can fail with.
///
/// [`PagesError::status`], [`PagesError::codes`] and [`PagesError::messages`] give the HTTP status and
/// Cloudflare's error codes and messages; [`PagesError::is_transient`] tells whether trying again later can help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PagesError {
    /// The API answered with a v4 envelope that reports failure (`success: false` or an HTTP error status).
    #[error("{operation}: Cloudflare API error (HTTP {status}): {}", describe(errors))]
    Api {
        /// What the client was doing, e.g. "create deployment".
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The envelope's `errors`.
        errors: Vec<ApiMessage>,
        /// The `Retry-After` delay, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The response body was not a v4 envelope (an HTML gateway page, plain-text "Expired JWT", a truncated body).
    #[error("{operation}: HTTP {status} with a body that is not a Cloudflare v4 envelope: {body}")]
    Malformed {
        /// What the client was doing.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the body, for diagnosis.
        body: String,
        /// The `Retry-After` delay, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The envelope reported success but its `result` does not have the expected shape: an API change or a
    /// non-Cloudflare server. Permanent: asking again gives the same answer.
    #[error("{operation}: unexpected `result` in the response: {message}")]
    UnexpectedResult {
        /// What the client was doing.
        operation: &'static str,
        /// What did not fit.
        message: String,
    },
    /// The request did not get an HTTP response.
    #[error("{operation}: {kind}: {message}")]
    Transport {
        /// What the client was doing.
        operation: &'static str,
        /// The kind of failure.
        kind: TransportKind,
        /// The underlying error's description.
        message: String,
    },
    /// The deployment was created but ended in failure (or was canceled or skipped).
    #[error("deployment {deployment_id} failed at stage {stage}{}", describe_logs(logs))]
    DeploymentFailed {
        /// The deployment id.
        deployment_id: String,
        /// The stage it ended in, as `name/status`, e.g. `deploy/failure`.
        stage: String,
        /// The deployment's build log lines (from the logs endpoint), oldest first.
        logs: Vec<String>,
    },
    /// The deployment did not reach a final stage before the client stopped waiting.
    #[error("deployment {deployment_id} was still at stage {stage} after {waited:?}")]
    DeploymentTimedOut {
        /// The deployment id.
        deployment_id: String,
        /// The last stage seen, as `name/status`.
        stage: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The site cannot be deployed as given (unreadable zip, bad path, file too large, too many files).
    #[error("invalid site: {0}")]
    InvalidSite(String),
    /// The HTTP client could not be set up.
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
}

fn describe(errors: &[ApiMessage]) -> String {
    if errors.is_empty() {
        return "no error details".to_string();
    }
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// How many log lines the error message shows; the `logs` field keeps all of them.
const LOG_LINES_IN_MESSAGE: usize = 20;

fn describe_logs(logs: &[String]) -> String {
    if logs.is_empty() {
        return " (no deployment logs)".to_string();
    }
    let skip = logs.len().saturating_sub(LOG_LINES_IN_MESSAGE);
    let shown: Vec<&str> = logs[skip..].iter().map(String::as_str).collect();
    format!("; deployment logs:\n  {}", shown.join("\n  "))
}

impl PagesError {
    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            PagesError::Api { status, .. } | PagesError::Malformed { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Cloudflare's error codes, top level first, then any `error_chain` codes.
    pub fn codes(&self) -> Vec<i64> {
        let PagesError::Api { errors, .. } = self else {
            return Vec::new();
        };
        let mut codes = Vec::new();
        for error in errors {
            codes.extend(error.code);
            codes.extend(error.chain.iter().filter_map(|cause| cause.code));
        }
        codes
    }

    /// Whether Cloudflare reported this error code.
    pub fn has_code(&self, code: i64) -> bool {
        self.codes().contains(&code)
    }

    /// Cloudflare's error messages (empty when the response carried none).
    pub fn messages(&self) -> Vec<String> {
        match self {
            PagesError::Api { errors, .. } => errors.iter().map(|e| e.message.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PagesError::Api { retry_after, .. } | PagesError::Malformed { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True when the same request may succeed later: HTTP 429 or 5xx (including Cloudflare's 524),
    /// the rate-limit and "unknown error" codes, timeouts and connection failures.
    /// Authentication, not-found and validation errors are permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            PagesError::Api { status, .. } => {
                is_transient_status(*status)
                    || self.has_code(CODE_UNKNOWN_ERROR)
                    || self.has_code(CODE_RATE_LIMITED)
                    || self.has_code(CODE_RATE_LIMITED_LEGACY)
            }
            // A 2xx with an unreadable body is a truncated or mangled response: worth another try.
            PagesError::Malformed { status, .. } => is_transient_status(*status) || (200..300).contains(status),
            PagesError::Transport { kind, .. } => *kind != TransportKind::Invalid,
            _ => false,
        }
    }

    /// True when the API token itself was refused: HTTP 401 or 403 on an API-token call (not an asset
    /// call, whose 401/403 is about its upload JWT). The token was rolled, revoked, lacks the Pages
    /// permission, or belongs to another account: asking again with the same token cannot help.
    pub fn is_token_refused(&self) -> bool {
        let (PagesError::Api { operation, .. } | PagesError::Malformed { operation, .. }) = self else {
            return false;
        };
        matches!(self.status(), Some(401 | 403))
            && !self.has_code(CODE_UPLOAD_UNAUTHORIZED)
            && !operation.contains("asset")
    }

    /// True when an asset call was refused for its upload JWT: code 8000013, or the older plain-text
    /// "Expired JWT" 403 (and any other 401/403 there). The cure is to fetch a new JWT.
    pub(crate) fn is_upload_auth_failure(&self) -> bool {
        self.has_code(CODE_UPLOAD_UNAUTHORIZED) || matches!(self.status(), Some(401 | 403))
    }
}

fn is_transient_status(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

impl PagesError {
    /// Classifies a reqwest error without keeping it (its text is safe to show: no credentials).
    pub(crate) fn from_reqwest(operation: &'static str, error: &reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else if error.is_builder() {
            TransportKind::Invalid
        } else {
            TransportKind::Interrupted
        };
        PagesError::Transport {
            operation,
            kind,
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: Option<i64>) -> PagesError {
        PagesError::Api {
            operation: "test",
            status,
            errors: vec![ApiMessage {
                code,
                message: "m".into(),
                chain: Vec::new(),
            }],
            retry_after: None,
        }
    }

    #[test]
    fn classifies_transient_and_permanent_errors() {
        assert!(api(429, Some(CODE_RATE_LIMITED)).is_transient());
        assert!(api(500, None).is_transient());
        assert!(api(524, None).is_transient());
        assert!(api(200, Some(CODE_UNKNOWN_ERROR)).is_transient());
        assert!(!api(401, Some(CODE_AUTHENTICATION_ERROR)).is_transient());
        assert!(!api(404, Some(CODE_PROJECT_NOT_FOUND)).is_transient());
        assert!(!api(400, Some(8_000_011)).is_transient());
        assert!(api(401, Some(CODE_UPLOAD_UNAUTHORIZED)).is_upload_auth_failure());
        assert!(api(401, Some(CODE_AUTHENTICATION_ERROR)).is_token_refused());
        assert!(api(403, Some(CODE_AUTHENTICATION_ERROR)).is_token_refused());
        assert!(!api(401, Some(CODE_UPLOAD_UNAUTHORIZED)).is_token_refused());
        assert!(!api(404, Some(CODE_PROJECT_NOT_FOUND)).is_token_refused());
        let timeout = PagesError::Transport {
            operation: "t",
            kind: TransportKind::Timeout,
            message: String::new(),
        };
        assert!(timeout.is_transient());
    }

    #[test]
    fn codes_include_the_error_chain() {
        let error = PagesError::Api {
            operation: "t",
            status: 400,
            errors: vec![ApiMessage {
                code: Some(6003),
                message: "Invalid request headers".into(),
                chain: vec![ApiMessage {
                    code: Some(6111),
                    message: "Invalid format for Authorization header".into(),
                    chain: Vec::new(),
                }],
            }],
            retry_after: None,
        };
        assert_eq!(error.codes(), vec![6003, 6111]);
        assert!(error.to_string().contains("6111"));
    }
}
