//! The v4 envelope on the way out, and the error codes the simulator uses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// The error codes the simulator answers with. Those marked *sim choice* are not known from any public
/// source (reference §8 "Other gaps"): clients must not branch on them.
pub mod codes {
    /// Pages: unknown/internal error (wrangler retries deployment creation on it).
    pub const UNKNOWN_ERROR: i64 = 8_000_000;
    /// Pages: a project with this name already exists (*sim choice*).
    pub const PROJECT_EXISTS: i64 = 8_000_002;
    /// Pages: project not found.
    pub const PROJECT_NOT_FOUND: i64 = 8_000_007;
    /// Pages: deployment not found (*sim choice*).
    pub const DEPLOYMENT_NOT_FOUND: i64 = 8_000_009;
    /// Pages: invalid request body or form field (*sim choice*).
    pub const INVALID_REQUEST: i64 = 8_000_011;
    /// Pages: the upload JWT is missing, invalid, expired or for another project.
    pub const UPLOAD_UNAUTHORIZED: i64 = 8_000_013;
    /// Pages: the manifest names an asset that was never uploaded (*sim choice*).
    pub const MISSING_ASSET: i64 = 8_000_016;
    /// Pages: a file is larger than 25 MiB, or there are too many files (*sim choice*).
    pub const TOO_LARGE: i64 = 8_000_017;
    /// Pages: not a valid rollback target (*sim choice*).
    pub const INVALID_ROLLBACK_TARGET: i64 = 8_000_020;
    /// Pages: the deployment is in use (production, or aliased without `force`) (*sim choice*).
    pub const DEPLOYMENT_IN_USE: i64 = 8_000_034;
    /// Pages: the deployment has no Functions, so there is nothing to tail (workers-sdk#14692).
    pub const STATIC_SITE_TAIL: i64 = 8_000_098;
    /// Invalid request headers (with an `error_chain`).
    pub const INVALID_HEADERS: i64 = 6003;
    /// Invalid format for Authorization header (chained under 6003).
    pub const INVALID_AUTHORIZATION_FORMAT: i64 = 6111;
    /// No route for that URI.
    pub const NO_ROUTE: i64 = 7000;
    /// Could not route to the URI (bad object identifier).
    pub const COULD_NOT_ROUTE: i64 = 7003;
    /// Rate limited.
    pub const RATE_LIMITED: i64 = 971;
    /// Authentication error.
    pub const AUTHENTICATION_ERROR: i64 = 10_000;
}

/// `{"success": true, "errors": [], "messages": [], "result": ...}`.
pub fn ok(result: impl Serialize) -> Response {
    Json(json!({ "success": true, "errors": [], "messages": [], "result": result })).into_response()
}

/// A successful collection with page pagination.
pub fn ok_page(result: Vec<Value>, page: usize, per_page: usize, total_count: usize) -> Response {
    let total_pages = total_count.div_ceil(per_page.max(1));
    Json(json!({
        "success": true, "errors": [], "messages": [], "result": result,
        "result_info": { "page": page, "per_page": per_page, "count": result.len(),
                         "total_count": total_count, "total_pages": total_pages }
    }))
    .into_response()
}

/// One `errors` entry.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorEntry {
    /// The code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Nested causes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error_chain: Vec<ErrorEntry>,
}

/// A failure answered as a full envelope (`success: false`, `result: null`).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `errors` array.
    pub errors: Vec<ErrorEntry>,
    /// A `Retry-After` in seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// One error.
    pub fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        ApiError {
            status,
            errors: vec![ErrorEntry {
                code,
                message: message.into(),
                error_chain: Vec::new(),
            }],
            retry_after: None,
        }
    }

    /// 400 with code 8000011.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_REQUEST, message)
    }

    /// 404 with code 8000007.
    pub fn project_not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::PROJECT_NOT_FOUND,
            "Project not found. The specified project name does not match any of your existing projects.",
        )
    }

    /// 404 with code 8000009.
    pub fn deployment_not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::DEPLOYMENT_NOT_FOUND,
            "Deployment not found. The specified deployment id does not match any deployment of this project.",
        )
    }

    /// 401 with code 10000.
    pub fn authentication() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::AUTHENTICATION_ERROR,
            "Authentication error",
        )
    }

    /// 401 with code 8000013. [uncertain] The real status (401 or 403) is unknown; 401 is the tolerant
    /// choice, since wrangler refreshes on the code whatever the status.
    pub fn upload_unauthorized(why: &str) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::UPLOAD_UNAUTHORIZED,
            format!("Authorization failed: {why}. Fetch a new upload token."),
        )
    }

    /// 404 with 7003 and 7000, as Cloudflare answers an unknown route.
    pub fn no_route(path: &str) -> Self {
        let mut error = ApiError::new(
            StatusCode::NOT_FOUND,
            codes::COULD_NOT_ROUTE,
            format!("Could not route to {path}, perhaps your object identifier is invalid?"),
        );
        error.errors.push(ErrorEntry {
            code: codes::NO_ROUTE,
            message: "No route for that URI".to_string(),
            error_chain: Vec::new(),
        });
        error
    }

    /// 429 with code 971 and `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::RATE_LIMITED,
            "Please wait and consider throttling your request speed",
        );
        error.retry_after = Some(retry_after);
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "success": false, "errors": self.errors, "messages": [], "result": null });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Parses a JSON body, answering a malformed one with an envelope (not axum's plain-text rejection).
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))
}
