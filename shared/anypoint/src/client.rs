//! The client: one reqwest connection pool, the token cache, request counting and the retry loop.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex as SyncMutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, OnceCell};

use crate::auth::{AccessToken, CachedToken};
use crate::error::{AnypointError, excerpt, platform_message};
use crate::retry::{RequestKind, RetryPolicy, server_requested_delay, should_retry};

/// The US control plane. EU is `https://eu1.anypoint.mulesoft.com`, Gov `https://gov.anypoint.mulesoft.com`.
pub const DEFAULT_BASE_URL: &str = "https://anypoint.mulesoft.com";

/// Default per-request timeout (connect, send and read the body).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An Anypoint Platform client authenticated as a connected app (client credentials).
///
/// Cheap to share behind an `Arc`: the token, org id and environment ids are cached inside.
pub struct AnypointClient {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token: Mutex<Option<CachedToken>>,
    pub(crate) org_id: OnceCell<String>,
    pub(crate) environment_ids: SyncMutex<HashMap<String, String>>,
    pub(crate) retry_policy: RetryPolicy,
    request_timeout: Duration,
    requests_made: AtomicU64,
}

impl fmt::Debug for AnypointClient {
    // Hand-written so the secret and the token never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnypointClient")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("requests_made", &self.requests_made())
            .finish_non_exhaustive()
    }
}

impl AnypointClient {
    /// A client for the control plane at `base_url` (e.g. [`DEFAULT_BASE_URL`] or a simulator's URL).
    pub fn new(
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self, AnypointError> {
        let base_url = base_url.into().trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(AnypointError::InvalidInput(format!(
                "base URL must start with http:// or https://: {base_url}"
            )));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("baton-anypoint/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AnypointError::ClientSetup(e.to_string()))?;
        Ok(Self {
            http,
            base_url,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            token: Mutex::new(None),
            org_id: OnceCell::new(),
            environment_ids: SyncMutex::new(HashMap::new()),
            retry_policy: RetryPolicy::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            requests_made: AtomicU64::new(0),
        })
    }

    /// Uses a known organisation (business group) id instead of asking `/accounts/api/me`.
    pub fn with_org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = OnceCell::new_with(Some(org_id.into()));
        self
    }

    /// Replaces the retry policy (see [`RetryPolicy::default`]).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Replaces the per-request timeout (default [`DEFAULT_REQUEST_TIMEOUT`]).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// HTTP requests sent so far (token calls and retries included).
    pub fn requests_made(&self) -> u64 {
        self.requests_made.load(Ordering::Relaxed)
    }

    /// Sends an authenticated call: retries transient failures per the policy, and on a 401
    /// fetches a new token once and repeats the call once (§3.3).
    pub(crate) async fn execute(&self, call: &ApiCall) -> Result<ApiResponse, AnypointError> {
        let mut failed_attempts: u32 = 0;
        let mut refreshed_after_401 = false;
        loop {
            let token = self.access_token().await?;
            let error = match self.send_once(call, Some(&token)).await {
                Ok(raw) if raw.is_success() => return Ok(ApiResponse { body: raw.body }),
                Ok(raw) if raw.status == 401 && !refreshed_after_401 => {
                    refreshed_after_401 = true;
                    tracing::debug!(path = %call.path, "Anypoint answered 401; fetching a new token once");
                    self.invalidate_token(&token).await;
                    continue;
                }
                Ok(raw) => raw.into_error(call),
                Err(transport) => transport,
            };
            failed_attempts += 1;
            if failed_attempts < self.retry_policy.max_attempts && should_retry(&error, call.kind) {
                let delay = self.retry_policy.delay_for(&error, failed_attempts);
                tracing::warn!(path = %call.path, attempt = failed_attempts, delay_ms = delay.as_millis() as u64,
                    error = %error, "transient Anypoint failure; retrying");
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(error);
        }
    }

    /// One HTTP exchange, no retries. Counts the request.
    pub(crate) async fn send_once(
        &self,
        call: &ApiCall,
        token: Option<&AccessToken>,
    ) -> Result<RawResponse, AnypointError> {
        let url = format!("{}{}", self.base_url, call.path);
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .timeout(self.request_timeout)
            .header(ACCEPT, "application/json");
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        request = match &call.body {
            CallBody::None => request,
            CallBody::Json(value) => request.json(value),
            CallBody::Form(pairs) => request.form(pairs),
        };
        self.requests_made.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|e| call.transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(|e| call.transport_error(&e))?;
        tracing::debug!(method = %call.method, path = %call.path, status, "Anypoint request");
        Ok(RawResponse { status, headers, body })
    }
}

/// The body of a call.
#[derive(Clone)]
pub(crate) enum CallBody {
    None,
    Json(serde_json::Value),
    Form(Vec<(&'static str, String)>),
}

/// A request description that can be sent several times (retries, the 401 refetch).
#[derive(Clone)]
pub(crate) struct ApiCall {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: CallBody,
    pub(crate) kind: RequestKind,
}

impl ApiCall {
    /// A GET of `path` (already percent-encoded where needed).
    pub(crate) fn get(path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: CallBody::None,
            kind: RequestKind::Idempotent,
        }
    }

    /// A call with a JSON body; POST and PATCH are non-idempotent.
    pub(crate) fn with_json(method: Method, path: String, body: serde_json::Value) -> Self {
        let kind = if method == Method::GET || method == Method::DELETE {
            RequestKind::Idempotent
        } else {
            RequestKind::NonIdempotent
        };
        Self {
            method,
            path,
            query: Vec::new(),
            body: CallBody::Json(body),
            kind,
        }
    }

    /// Adds a query parameter.
    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    fn transport_error(&self, error: &reqwest::Error) -> AnypointError {
        let (method, path, detail) = (self.method.to_string(), self.path.clone(), error.to_string());
        if error.is_timeout() {
            AnypointError::Timeout { method, path, detail }
        } else {
            AnypointError::Connection { method, path, detail }
        }
    }

    pub(crate) fn decode_error(&self, detail: String) -> AnypointError {
        AnypointError::Decode {
            method: self.method.to_string(),
            path: self.path.clone(),
            detail,
        }
    }
}

/// What came back from one exchange, before interpretation.
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl RawResponse {
    /// Any 2xx counts: sources disagree on 200 vs 202 for create and patch (§2), so we accept all.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(crate) fn into_error(self, call: &ApiCall) -> AnypointError {
        AnypointError::Api {
            method: call.method.to_string(),
            path: call.path.clone(),
            status: self.status,
            message: platform_message(&self.body, self.status),
            retry_after: server_requested_delay(&self.headers),
        }
    }
}

/// A successful answer (any 2xx; which one does not matter to callers).
pub(crate) struct ApiResponse {
    pub(crate) body: String,
}

impl ApiResponse {
    /// Parses the body, reporting an excerpt when it is not the expected JSON.
    pub(crate) fn json<T: DeserializeOwned>(&self, call: &ApiCall) -> Result<T, AnypointError> {
        serde_json::from_str(&self.body)
            .map_err(|e| call.decode_error(format!("{e}; body starts with: {}", excerpt(&self.body))))
    }
}
