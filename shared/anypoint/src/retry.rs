//! Bounded retries with exponential backoff and jitter (reference §8.3).

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::error::AnypointError;

/// How the client retries transient failures.
///
/// Defaults follow the reference (§8.3, aligned with the Terraform provider's `retryTransient`):
/// at most 5 attempts, backoff doubling from 250 ms to 4 s with 50 % jitter. A server-given wait
/// (`Retry-After`, `X-RateLimit-Reset`) replaces the backoff, capped at `max_server_delay`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts per request, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Backoff after the first failure.
    pub initial_backoff: Duration,
    /// Ceiling of the exponential backoff.
    pub max_backoff: Duration,
    /// Ceiling of a wait the server asks for, so a bogus header cannot stall a release.
    pub max_server_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            max_server_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (one attempt).
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before the next attempt, after `failed_attempts` failures (1-based).
    pub(crate) fn delay_for(&self, error: &AnypointError, failed_attempts: u32) -> Duration {
        match error.retry_after() {
            Some(asked) => asked.min(self.max_server_delay),
            None => self.backoff(failed_attempts),
        }
    }

    /// Exponential backoff with 50 % jitter: a value in [d/2, d] where d doubles per failure.
    fn backoff(&self, failed_attempts: u32) -> Duration {
        let doublings = failed_attempts.saturating_sub(1).min(16);
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(random_unit())
    }
}

/// Whether a request may be repeated without side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// GET, DELETE, the token call: safe to repeat after any transient failure.
    Idempotent,
    /// POST create, PATCH: repeated only when the failure shows the request was not processed.
    NonIdempotent,
}

/// Whether the client retries `error` by itself (§8.3).
///
/// 429, 502, 503, 504 and connection failures mean the request was not processed, so any request
/// is retried. A 500, another 5xx, 408, 409 or a timeout may come after the platform acted, so
/// only idempotent requests are retried; for a create the caller reconciles by re-listing.
pub(crate) fn should_retry(error: &AnypointError, kind: RequestKind) -> bool {
    match error {
        AnypointError::Api { status, .. } if matches!(*status, 429 | 502 | 503 | 504) => true,
        AnypointError::Connection { .. } => true,
        other => kind == RequestKind::Idempotent && other.is_transient(),
    }
}

/// The wait the server asked for: `Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset`
/// (epoch seconds per the Access Management KB; a small value is read as relative seconds) when
/// `X-RateLimit-Remaining` is absent or zero.
pub(crate) fn server_requested_delay(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.parse::<f64>() {
            return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
        }
        if let Ok(when) = chrono::DateTime::parse_from_rfc2822(value) {
            let millis = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
            return Some(Duration::from_millis(millis.max(0).unsigned_abs()));
        }
    }
    // The reset time only matters once the window's budget is spent; Access Management sends the
    // headers on every answer, so a 503 with budget left is an ordinary overload (backoff).
    let budget_left = header("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
    if budget_left.is_some_and(|left| left > 0) {
        return None;
    }
    let reset = header("x-ratelimit-reset")?.parse::<i64>().ok()?;
    const EPOCH_THRESHOLD: i64 = 1_000_000_000;
    if reset < EPOCH_THRESHOLD {
        return Some(Duration::from_secs(reset.max(0).unsigned_abs()));
    }
    let millis = reset.saturating_mul(1000) - chrono::Utc::now().timestamp_millis();
    Some(Duration::from_millis(millis.max(0).unsigned_abs()))
}

/// A uniform value in [0, 1); 0.5 if the OS random source fails (jitter is best effort).
fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let policy = RetryPolicy::default();
        for (failures, full_ms) in [(1, 250), (2, 500), (3, 1000), (4, 2000), (5, 4000), (9, 4000)] {
            let delay = policy.backoff(failures).as_millis();
            assert!(
                delay >= full_ms / 2 && delay <= full_ms,
                "failures {failures}: {delay} ms"
            );
        }
    }

    #[test]
    fn retry_after_seconds_and_rate_limit_reset_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(server_requested_delay(&headers), Some(Duration::from_secs(2)));
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("3"));
        assert_eq!(server_requested_delay(&headers), Some(Duration::from_secs(3)));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("42"));
        assert_eq!(server_requested_delay(&headers), None);
        assert_eq!(server_requested_delay(&HeaderMap::new()), None);
    }

    #[test]
    fn only_unprocessed_failures_retry_writes() {
        let api = |status| AnypointError::Api {
            method: "POST".into(),
            path: "/x".into(),
            status,
            message: String::new(),
            retry_after: None,
        };
        assert!(should_retry(&api(429), RequestKind::NonIdempotent));
        assert!(should_retry(&api(503), RequestKind::NonIdempotent));
        assert!(!should_retry(&api(500), RequestKind::NonIdempotent));
        assert!(should_retry(&api(500), RequestKind::Idempotent));
        assert!(!should_retry(&api(400), RequestKind::Idempotent));
    }
}
