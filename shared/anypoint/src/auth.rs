//! Connected-app authentication: the client-credentials token, cached until shortly before expiry.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;

use crate::client::{AnypointClient, ApiCall, CallBody};
use crate::error::{AnypointError, excerpt};
use crate::lenient;
use crate::retry::{RequestKind, should_retry};

/// Token endpoint (A1).
pub(crate) const TOKEN_PATH: &str = "/accounts/api/v2/oauth2/token";

/// Lifetime assumed when the token response has no `expires_in` (§3.2).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Refresh this long before the token expires, so a call never races the expiry (§3.3).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A bearer token. Opaque; its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AccessToken(Arc<str>);

impl AccessToken {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// The cached token and when to fetch the next one.
#[derive(Debug)]
pub(crate) struct CachedToken {
    token: AccessToken,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    expires_in: Option<u64>,
}

impl AnypointClient {
    /// The cached token, or a fresh one when there is none or it is about to expire.
    ///
    /// The lock is held while fetching so that concurrent callers share one token call.
    pub(crate) async fn access_token(&self) -> Result<AccessToken, AnypointError> {
        let mut cached = self.token.lock().await;
        if let Some(current) = cached.as_ref()
            && Instant::now() < current.refresh_at
        {
            return Ok(current.token.clone());
        }
        let fresh = self.fetch_token().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Drops the cached token if it is still the one that was rejected (another task may
    /// already have replaced it).
    pub(crate) async fn invalidate_token(&self, rejected: &AccessToken) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|c| &c.token == rejected) {
            *cached = None;
        }
    }

    /// POSTs the client credentials, form-encoded as the docs show (§3.1; one report has JSON
    /// bodies rejected with 400). Retries transient failures such as the Accounts API's 503.
    async fn fetch_token(&self) -> Result<CachedToken, AnypointError> {
        let call = ApiCall {
            method: Method::POST,
            path: TOKEN_PATH.to_string(),
            query: Vec::new(),
            body: CallBody::Form(vec![
                ("grant_type", "client_credentials".to_string()),
                ("client_id", self.client_id.clone()),
                ("client_secret", self.client_secret.clone()),
            ]),
            // Asking for a token has no side effect worth protecting, so any transient failure retries.
            kind: RequestKind::Idempotent,
        };
        let mut failed_attempts: u32 = 0;
        loop {
            let error = match self.send_once(&call, None).await {
                Ok(raw) if raw.is_success() => {
                    let parsed: TokenResponse = serde_json::from_str(&raw.body).map_err(|e| {
                        // Never echo the body here: it would contain the token.
                        call.decode_error(format!("token response is not the expected JSON: {e}"))
                    })?;
                    if parsed.access_token.is_empty() {
                        return Err(call.decode_error("token response has an empty access_token".to_string()));
                    }
                    let lifetime = parsed
                        .expires_in
                        .map(Duration::from_secs)
                        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
                    tracing::debug!(lifetime_s = lifetime.as_secs(), "obtained an Anypoint access token");
                    return Ok(CachedToken {
                        token: AccessToken(parsed.access_token.into()),
                        refresh_at: Instant::now() + usable_lifetime(lifetime),
                    });
                }
                // Any non-2xx is an auth failure; the platform's message is kept (§3.4).
                Ok(raw) => raw.into_error(&call),
                Err(transport) => transport,
            };
            failed_attempts += 1;
            if failed_attempts < self.retry_policy.max_attempts && should_retry(&error, call.kind) {
                let delay = self.retry_policy.delay_for(&error, failed_attempts);
                tracing::warn!(attempt = failed_attempts, error = %error, "token request failed; retrying");
                tokio::time::sleep(delay).await;
                continue;
            }
            if let AnypointError::Api { status, message, .. } = &error {
                tracing::warn!(status, message = %excerpt(message), "Anypoint rejected the client credentials");
            }
            return Err(error);
        }
    }
}

/// How long to use a token: its lifetime minus the refresh margin, or half of it for very short
/// lifetimes (a simulator may issue tokens for a few seconds) so the cache still helps.
fn usable_lifetime(lifetime: Duration) -> Duration {
    if lifetime > REFRESH_MARGIN * 2 {
        lifetime - REFRESH_MARGIN
    } else {
        lifetime / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        assert_eq!(usable_lifetime(Duration::from_secs(3600)), Duration::from_secs(3540));
        assert_eq!(usable_lifetime(Duration::from_secs(10)), Duration::from_secs(5));
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = AccessToken("secret-token".into());
        assert!(!format!("{token:?}").contains("secret"));
    }
}
