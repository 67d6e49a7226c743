//! Sending requests: authentication, counting, envelope parsing, and bounded retries with backoff.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::client::PagesClient;
use crate::envelope::{self, Success};
use crate::error::PagesError;

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes one path segment (a project name, a deployment id).
pub(crate) fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// When to try again, and how long to wait. wrangler's schedule is 1, 2, 4, 8, 16 s over 5 attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (5). Calls that are not safe to repeat use fewer (see the crate docs).
    pub max_attempts: u32,
    /// The wait before the second attempt; each later wait doubles (1 s).
    pub base_delay: Duration,
    /// The longest backoff wait (16 s).
    pub max_delay: Duration,
    /// The longest `Retry-After` the client will sleep (5 min, Cloudflare's rate-limit block time); a longer
    /// one is cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The backoff before attempt `failed_attempts + 1`: `base_delay * 2^(failed_attempts - 1)`, capped.
    pub fn backoff(&self, failed_attempts: u32) -> Duration {
        let doublings = failed_attempts.saturating_sub(1).min(20);
        self.base_delay.saturating_mul(1 << doublings).min(self.max_delay)
    }
}

/// A bad upload JWT is replaced at most this many times per call, so a server that refuses every JWT
/// cannot keep the client looping.
const MAX_JWT_REFRESHES_PER_CALL: u32 = 3;

/// Tracks the attempts of one logical call.
pub(crate) struct Retrier<'a> {
    operation: &'static str,
    policy: &'a RetryPolicy,
    max_attempts: u32,
    attempts: u32,
    jwt_refreshes: u32,
}

impl<'a> Retrier<'a> {
    pub(crate) fn new(operation: &'static str, policy: &'a RetryPolicy, max_attempts: u32) -> Self {
        Retrier {
            operation,
            policy,
            max_attempts: max_attempts.max(1),
            attempts: 0,
            jwt_refreshes: 0,
        }
    }

    /// After a failed attempt: sleeps and returns `Ok` when another attempt is worth it (a transient error
    /// with attempts left), otherwise gives the error back. `Retry-After` wins over the backoff.
    pub(crate) async fn after(&mut self, error: PagesError) -> Result<(), PagesError> {
        self.attempts += 1;
        if !error.is_transient() || self.attempts >= self.max_attempts {
            return Err(error);
        }
        let delay = match error.retry_after() {
            Some(wait) => wait.min(self.policy.max_retry_after),
            None => self.policy.backoff(self.attempts),
        };
        tracing::warn!(
            operation = self.operation,
            attempt = self.attempts,
            max_attempts = self.max_attempts,
            delay_ms = delay.as_millis() as u64,
            error = %error,
            "transient Cloudflare API error; retrying"
        );
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// After an asset call was refused for its JWT: another attempt with a fresh JWT, which (as in
    /// wrangler) does not count as an attempt, up to a small bound.
    pub(crate) fn after_jwt_refusal(&mut self, error: PagesError) -> Result<(), PagesError> {
        self.jwt_refreshes += 1;
        if self.jwt_refreshes > MAX_JWT_REFRESHES_PER_CALL {
            return Err(error);
        }
        tracing::info!(operation = self.operation, error = %error, "upload JWT refused; fetching a new one");
        Ok(())
    }
}

/// How a request authenticates.
pub(crate) enum Auth<'a> {
    /// The account API token (account-scoped endpoints).
    ApiToken,
    /// An upload JWT (the `/pages/assets/*` endpoints).
    Jwt(&'a str),
}

/// A request body.
pub(crate) enum Payload {
    Empty,
    Json(Vec<u8>),
    Form(reqwest::multipart::Form),
}

impl PagesClient {
    /// The full URL of an API path (which starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base_url)
    }

    /// One HTTP request, counted in [`PagesClient::requests_made`], read as a v4 envelope.
    pub(crate) async fn send_once<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        url: &str,
        auth: Auth<'_>,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Success<T>, PagesError> {
        self.inner.requests_made.fetch_add(1, Ordering::Relaxed);
        let mut request = self.inner.http.request(method.clone(), url).timeout(timeout);
        // bearer_auth marks the header sensitive, so it is never printed by reqwest/hyper either.
        request = match auth {
            Auth::ApiToken => request.bearer_auth(&self.inner.api_token),
            Auth::Jwt(jwt) => request.bearer_auth(jwt),
        };
        request = match payload {
            Payload::Empty => request,
            Payload::Json(body) => request.header(CONTENT_TYPE, "application/json").body(body),
            Payload::Form(form) => request.multipart(form),
        };
        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| PagesError::from_reqwest(operation, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| PagesError::from_reqwest(operation, &e))?;
        tracing::debug!(
            operation,
            method = %method,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Cloudflare API call"
        );
        envelope::parse(operation, status, &headers, &body)
    }

    /// An API-token call, retried on transient errors up to `max_attempts` (the payload is rebuilt for each
    /// attempt because a multipart form can be sent only once).
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        make_payload: impl Fn() -> Payload,
        max_attempts: u32,
    ) -> Result<Success<T>, PagesError> {
        let url = self.url(path);
        let settings = &self.inner.settings;
        let mut retrier = Retrier::new(operation, &settings.retry, max_attempts);
        loop {
            let attempt = self
                .send_once(
                    operation,
                    method.clone(),
                    &url,
                    Auth::ApiToken,
                    make_payload(),
                    settings.request_timeout,
                )
                .await;
            match attempt {
                Ok(success) => return Ok(success),
                Err(error) => retrier.after(error).await?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (1..=6).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 16]);
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("my-site"), "my-site");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
