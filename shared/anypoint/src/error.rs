//! The client's error type and its transient/permanent classification.

use std::time::Duration;

/// Everything that can go wrong talking to the Anypoint Platform.
#[derive(Debug, thiserror::Error)]
pub enum AnypointError {
    /// The platform answered with a non-success HTTP status.
    #[error("Anypoint {method} {path} failed with HTTP {status}: {message}")]
    Api {
        /// HTTP method of the failed request.
        method: String,
        /// Request path (no query string, no credentials).
        path: String,
        /// HTTP status code.
        status: u16,
        /// The platform's message (`message`, `error_description`, `error` or the raw body).
        message: String,
        /// How long the platform asked us to wait (`Retry-After` or `X-RateLimit-Reset`), if it said.
        retry_after: Option<Duration>,
    },
    /// No answer arrived within the request timeout.
    #[error("Anypoint {method} {path} timed out: {detail}")]
    Timeout {
        /// HTTP method of the request.
        method: String,
        /// Request path.
        path: String,
        /// The transport's description.
        detail: String,
    },
    /// The connection could not be made or broke mid-request.
    #[error("Anypoint {method} {path}: connection failed: {detail}")]
    Connection {
        /// HTTP method of the request.
        method: String,
        /// Request path.
        path: String,
        /// The transport's description.
        detail: String,
    },
    /// A success answer whose body could not be understood.
    #[error("Anypoint {method} {path}: unexpected response body: {detail}")]
    Decode {
        /// HTTP method of the request.
        method: String,
        /// Request path.
        path: String,
        /// What was wrong, with a short excerpt of the body.
        detail: String,
    },
    /// The organisation has no environment of that name (names match case-sensitively, as MMP does).
    #[error("environment '{name}' not found in organisation {org_id} (found: {known})")]
    EnvironmentNotFound {
        /// The name asked for.
        name: String,
        /// The organisation searched.
        org_id: String,
        /// Comma-separated names that do exist.
        known: String,
    },
    /// The caller's input was rejected before any request was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The HTTP client itself could not be built.
    #[error("could not build the HTTP client: {0}")]
    ClientSetup(String),
}

impl AnypointError {
    /// The HTTP status, when the platform answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The platform's message for an HTTP error; the display text otherwise.
    pub fn message(&self) -> String {
        match self {
            Self::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// How long the platform asked us to wait before retrying, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for a 404: on the Exchange check it means "not published", on a deployment "gone".
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when trying again later may succeed: 408, 409, 429, any 5xx, timeouts and connection
    /// failures. 400 (validation, duplicate name), 401, 403 and 404 are permanent.
    ///
    /// 409 counts as transient because the reference (§8.1) says that, for the deployment APIs,
    /// it only shows up under concurrency and the Terraform provider retries it.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, .. } => matches!(*status, 408 | 409 | 429) || (500..=599).contains(status),
            Self::Timeout { .. } | Self::Connection { .. } => true,
            Self::Decode { .. } | Self::EnvironmentNotFound { .. } | Self::InvalidInput(_) | Self::ClientSetup(_) => {
                false
            }
        }
    }
}

/// Pulls the human-readable message out of an error body.
///
/// The AMC body shape is an open question (§11 q6): Spring-style `{"status","error","message"}`,
/// plain `{"message"}`, OAuth `{"error","error_description"}` or an `errors[]` array are all
/// accepted; a non-JSON body (seen when scopes are missing) is returned trimmed.
pub(crate) fn platform_message(body: &str, status: u16) -> String {
    const MAX_CHARS: usize = 500;
    let trimmed = body.trim();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(trimmed) {
        for key in ["message", "error_description", "errorMessage", "detail"] {
            if let Some(text) = map.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty()) {
                return text.to_string();
            }
        }
        if let Some(errors) = map.get("errors").and_then(|v| v.as_array()) {
            let parts: Vec<String> = errors
                .iter()
                .filter_map(|e| {
                    e.as_str()
                        .map(str::to_string)
                        .or_else(|| e.get("message")?.as_str().map(str::to_string))
                })
                .collect();
            if !parts.is_empty() {
                return parts.join("; ");
            }
        }
        if let Some(text) = map.get("error").and_then(|v| v.as_str()).filter(|s| !s.is_empty()) {
            return text.to_string();
        }
    }
    if trimmed.is_empty() {
        return reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no message")
            .to_string();
    }
    trimmed.chars().take(MAX_CHARS).collect()
}

/// A short excerpt of a body for decode errors: enough to diagnose, never the whole payload.
pub(crate) fn excerpt(body: &str) -> String {
    body.trim().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_taken_from_the_usual_body_shapes() {
        assert_eq!(
            platform_message(r#"{"status":401,"error":"Unauthorized","message":"Nope"}"#, 401),
            "Nope"
        );
        assert_eq!(
            platform_message(r#"{"error":"invalid_client","error_description":"Bad"}"#, 401),
            "Bad"
        );
        assert_eq!(platform_message(r#"{"errors":[{"message":"a"},"b"]}"#, 400), "a; b");
        assert_eq!(platform_message("plain text", 403), "plain text");
        assert_eq!(platform_message("", 503), "Service Unavailable");
    }

    #[test]
    fn transient_and_permanent_statuses() {
        let api = |status| AnypointError::Api {
            method: "GET".into(),
            path: "/x".into(),
            status,
            message: String::new(),
            retry_after: None,
        };
        for status in [429, 500, 502, 503, 504] {
            assert!(api(status).is_transient(), "{status} should be transient");
        }
        for status in [400, 401, 403, 404] {
            assert!(!api(status).is_transient(), "{status} should be permanent");
        }
    }
}
