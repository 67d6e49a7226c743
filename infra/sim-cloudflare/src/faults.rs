//! Fault injection: failing or slowing API requests, failing deployments, expiring upload JWTs.

use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::envelope::{ApiError, codes};
use crate::stages::{FailurePlan, stage_index};
use crate::state::World;

fn one() -> u32 {
    1
}

/// A fault, as posted to `POST /__admin/faults` (`{"kind": "...", ...}`; an array of them is accepted too).
///
/// Request faults (`http_error`, `delay`, armed `expire_jwts`) match API requests (paths under
/// `/client/v4`) by an optional `path_contains` substring and `method`; the first `skip` matching requests
/// pass untouched, the next `count` are affected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultSpec {
    /// Answer with an HTTP error. Bodies: 429 → envelope code 971 with `Retry-After` (default 1 s);
    /// 500 → envelope 8000000; other 5xx (502, 503, 524…) → Cloudflare's HTML error page; other 4xx →
    /// envelope 8000011. `code` forces an envelope with that code; `message` without `code` sends a
    /// plain-text body (e.g. 403 `Expired JWT`, the old JWT-expiry answer).
    HttpError {
        /// The HTTP status.
        status: u16,
        /// How many requests fail.
        #[serde(default = "one")]
        count: u32,
        /// How many matching requests pass first.
        #[serde(default)]
        skip: u32,
        /// Only requests whose path contains this.
        #[serde(default)]
        path_contains: Option<String>,
        /// Only requests with this method.
        #[serde(default)]
        method: Option<String>,
        /// `Retry-After` seconds.
        #[serde(default)]
        retry_after: Option<u64>,
        /// An envelope error code.
        #[serde(default)]
        code: Option<i64>,
        /// The error message (or the whole plain-text body when `code` is absent).
        #[serde(default)]
        message: Option<String>,
    },
    /// Delay matching requests (to trigger client timeouts).
    Delay {
        /// The delay.
        millis: u64,
        /// How many requests are delayed.
        #[serde(default = "one")]
        count: u32,
        /// How many matching requests pass first.
        #[serde(default)]
        skip: u32,
        /// Only requests whose path contains this.
        #[serde(default)]
        path_contains: Option<String>,
        /// Only requests with this method.
        #[serde(default)]
        method: Option<String>,
    },
    /// Expire every upload JWT issued so far. Without `path_contains`/`method`/`skip`, at once; otherwise
    /// just before the matching request is handled (e.g. between two upload batches).
    ExpireJwts {
        /// Only requests whose path contains this.
        #[serde(default)]
        path_contains: Option<String>,
        /// Only requests with this method.
        #[serde(default)]
        method: Option<String>,
        /// How many matching requests pass first.
        #[serde(default)]
        skip: u32,
        /// How many times to do it.
        #[serde(default = "one")]
        count: u32,
    },
    /// Make the next `count` deployments fail at `stage` (default `deploy`) with these log lines.
    FailDeployment {
        /// How many deployments fail.
        #[serde(default = "one")]
        count: u32,
        /// The stage that fails.
        #[serde(default)]
        stage: Option<String>,
        /// The build log lines written at the failure (default: one `Error: ...` line).
        #[serde(default)]
        log_lines: Vec<String>,
    },
    /// Issue upload JWTs valid for `seconds` from now on (applied at once).
    JwtTtl {
        /// The lifetime.
        seconds: f64,
    },
    /// Change the deployment step delay for new deployments (applied at once).
    StepDelay {
        /// Milliseconds per stage.
        millis: u64,
    },
    /// Rotate the API token (applied at once): from now on only `token` is accepted, and any other
    /// token, the old one included, is refused with `status` (401, the default, or 403) and code 10000,
    /// as Cloudflare answers a rolled or revoked token.
    RotateToken {
        /// The token accepted from now on.
        token: String,
        /// The status a refused token gets: 401 or 403.
        #[serde(default)]
        status: Option<u16>,
    },
}

impl FaultSpec {
    /// The next `count` API requests (whose path contains `path_contains`, when given) get HTTP `status`,
    /// with the body the status gets on Cloudflare (see [`FaultSpec::HttpError`]); a 429 carries
    /// `Retry-After: 1`.
    pub fn http_error(status: u16, count: u32, path_contains: Option<&str>) -> FaultSpec {
        FaultSpec::HttpError {
            status,
            count,
            skip: 0,
            path_contains: path_contains.map(str::to_string),
            method: None,
            retry_after: None,
            code: None,
            message: None,
        }
    }
}

/// A fault waiting to act.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PendingFault {
    pub id: u64,
    pub spec: FaultSpec,
}

/// What the pending faults do to one API request.
#[derive(Default)]
pub(crate) struct RequestFaults {
    pub response: Option<Response>,
    pub delay: Duration,
}

fn matches(path_contains: &Option<String>, method: &Option<String>, request_method: &Method, path: &str) -> bool {
    path_contains.as_deref().is_none_or(|needle| path.contains(needle))
        && method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(request_method.as_str()))
}

impl World {
    /// Adds a fault; settings faults (`jwt_ttl`, `step_delay`, immediate `expire_jwts`) apply at once.
    pub(crate) fn add_fault(&mut self, spec: FaultSpec) -> Result<u64, String> {
        match &spec {
            FaultSpec::JwtTtl { seconds } => {
                self.jwt_ttl = Duration::try_from_secs_f64(*seconds).map_err(|e| format!("jwt_ttl: {e}"))?;
                return Ok(0);
            }
            FaultSpec::StepDelay { millis } => {
                self.step_delay = Duration::from_millis(*millis);
                return Ok(0);
            }
            FaultSpec::RotateToken { token, status } => {
                let status = status.unwrap_or(401);
                if token.trim().is_empty() || token.contains(char::is_whitespace) {
                    return Err("rotate_token: the token must be non-empty, without whitespace".to_string());
                }
                if status != 401 && status != 403 {
                    return Err(format!("rotate_token: status must be 401 or 403, got {status}"));
                }
                self.api_token = token.clone();
                self.refused_token_status = status;
                return Ok(0);
            }
            FaultSpec::ExpireJwts {
                path_contains: None,
                method: None,
                skip: 0,
                ..
            } => {
                self.live_jwts.clear();
                return Ok(0);
            }
            FaultSpec::HttpError { status, .. } if StatusCode::from_u16(*status).is_err() || *status < 400 => {
                return Err(format!("http_error: {status} is not an HTTP error status"));
            }
            _ => {}
        }
        let id = self.next_fault_id;
        self.next_fault_id += 1;
        self.faults.push(PendingFault { id, spec });
        Ok(id)
    }

    /// Applies the request faults that match, using them up.
    pub(crate) fn take_request_faults(&mut self, method: &Method, path: &str) -> RequestFaults {
        let mut outcome = RequestFaults::default();
        let mut expire = false;
        for fault in &mut self.faults {
            let (path_contains, fault_method, skip, count) = match &mut fault.spec {
                FaultSpec::HttpError { .. } if outcome.response.is_some() => continue,
                FaultSpec::HttpError {
                    path_contains,
                    method,
                    skip,
                    count,
                    ..
                }
                | FaultSpec::Delay {
                    path_contains,
                    method,
                    skip,
                    count,
                    ..
                }
                | FaultSpec::ExpireJwts {
                    path_contains,
                    method,
                    skip,
                    count,
                } => (path_contains, method, skip, count),
                _ => continue,
            };
            if *count == 0 || !matches(path_contains, fault_method, method, path) {
                continue;
            }
            if *skip > 0 {
                *skip -= 1;
                continue;
            }
            *count -= 1;
            match &fault.spec {
                FaultSpec::HttpError { .. } => outcome.response = Some(error_response(&fault.spec)),
                FaultSpec::Delay { millis, .. } => outcome.delay += Duration::from_millis(*millis),
                FaultSpec::ExpireJwts { .. } => expire = true,
                _ => {}
            }
            tracing::info!(fault = fault.id, %method, path, "fault injected");
        }
        if expire {
            self.live_jwts.clear();
        }
        self.faults.retain(|fault| remaining(&fault.spec) > 0);
        outcome
    }

    /// Uses up one `fail_deployment` fault, if any.
    pub(crate) fn take_deployment_failure(&mut self) -> Option<FailurePlan> {
        let fault = self
            .faults
            .iter_mut()
            .find(|fault| matches!(fault.spec, FaultSpec::FailDeployment { count, .. } if count > 0))?;
        let FaultSpec::FailDeployment {
            count,
            stage,
            log_lines,
        } = &mut fault.spec
        else {
            return None;
        };
        *count -= 1;
        let lines = if log_lines.is_empty() {
            vec!["Error: Failed to publish your site. Got error: simulated deployment failure (fault injection)".into()]
        } else {
            log_lines.clone()
        };
        let plan = FailurePlan {
            stage: stage_index(stage.as_deref().unwrap_or("deploy")),
            lines,
        };
        self.faults.retain(|fault| remaining(&fault.spec) > 0);
        Some(plan)
    }
}

fn remaining(spec: &FaultSpec) -> u32 {
    match spec {
        FaultSpec::HttpError { count, .. }
        | FaultSpec::Delay { count, .. }
        | FaultSpec::ExpireJwts { count, .. }
        | FaultSpec::FailDeployment { count, .. } => *count,
        FaultSpec::JwtTtl { .. } | FaultSpec::StepDelay { .. } | FaultSpec::RotateToken { .. } => 0,
    }
}

fn error_response(spec: &FaultSpec) -> Response {
    let FaultSpec::HttpError {
        status,
        retry_after,
        code,
        message,
        ..
    } = spec
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = message
        .clone()
        .unwrap_or_else(|| "Simulated failure (fault injection)".to_string());
    let mut response = match (status.as_u16(), code, message) {
        (_, Some(code), _) => ApiError::new(status, *code, text).into_response(),
        (_, None, Some(body)) => (status, [(header::CONTENT_TYPE, "text/plain")], body.clone()).into_response(),
        (429, None, None) => ApiError::rate_limited(retry_after.unwrap_or(1)).into_response(),
        (500, None, None) => ApiError::new(status, codes::UNKNOWN_ERROR, text).into_response(),
        (500.., None, None) => {
            let page = format!(
                "<!DOCTYPE html><html><head><title>error code: {0}</title></head><body>error code: {0}</body></html>",
                status.as_u16()
            );
            (status, [(header::CONTENT_TYPE, "text/html")], page).into_response()
        }
        (_, None, None) => ApiError::new(status, codes::INVALID_REQUEST, text).into_response(),
    };
    let retry_after = retry_after.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1));
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
