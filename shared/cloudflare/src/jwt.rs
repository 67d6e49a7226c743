//! The upload JWT from the upload-token endpoint (reference §1, §3.3).
//!
//! Like wrangler, the client decodes the payload without checking the signature: it only needs `exp`
//! (to refresh before the server starts refusing it) and `max_file_count_allowed`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::Value;

/// wrangler's per-deployment file cap when the claim is absent or not a number.
pub const DEFAULT_MAX_FILE_COUNT: u64 = 20_000;

/// The most a token is refreshed ahead of its `exp`, so a request does not reach the server just as it expires.
const MAX_REFRESH_MARGIN_SECS: f64 = 30.0;

/// An upload JWT and the claims the client reads from it. `Debug` never shows the token.
#[derive(Clone, PartialEq)]
pub struct UploadJwt {
    token: String,
    expires_at: Option<f64>,
    issued_at: Option<f64>,
    max_file_count_allowed: u64,
}

impl fmt::Debug for UploadJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadJwt")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("issued_at", &self.issued_at)
            .field("max_file_count_allowed", &self.max_file_count_allowed)
            .finish()
    }
}

impl UploadJwt {
    /// Reads the claims of a JWT. Never fails: a token whose payload cannot be read is kept as opaque
    /// (no local expiry, the default file cap) and the server's 8000013 decides when it must be replaced.
    pub fn parse(token: impl Into<String>) -> Self {
        let token = token.into();
        let claims = decode_payload(&token);
        let number = |name: &str| claims.as_ref().and_then(|c| c.get(name)).and_then(Value::as_f64);
        let max_file_count_allowed = number("max_file_count_allowed")
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map_or(DEFAULT_MAX_FILE_COUNT, |n| n as u64);
        UploadJwt {
            expires_at: number("exp"),
            issued_at: number("iat"),
            max_file_count_allowed,
            token,
        }
    }

    /// The raw token, for the `Authorization` header only. Never log it.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// The `exp` claim (unix seconds), when present.
    pub fn expires_at(&self) -> Option<f64> {
        self.expires_at
    }

    /// The per-deployment file cap (`max_file_count_allowed`, default 20 000).
    pub fn max_file_count_allowed(&self) -> u64 {
        self.max_file_count_allowed
    }

    /// Whether the token should be replaced before use at `now` (unix seconds): it has expired or will
    /// within the refresh margin. The margin is 30 s, or a quarter of the token's lifetime (`exp - iat`)
    /// when that is shorter, so a short-lived token is still used for most of its life.
    pub fn needs_refresh_at(&self, now: f64) -> bool {
        let Some(exp) = self.expires_at else {
            return false;
        };
        let lifetime = self.issued_at.map(|iat| exp - iat).filter(|l| *l > 0.0);
        let margin = lifetime.map_or(MAX_REFRESH_MARGIN_SECS, |l| (l / 4.0).min(MAX_REFRESH_MARGIN_SECS));
        now + margin >= exp
    }

    /// [`UploadJwt::needs_refresh_at`] with the current time.
    pub fn needs_refresh(&self) -> bool {
        self.needs_refresh_at(unix_now())
    }
}

/// Seconds since the Unix epoch, with sub-second precision.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The JSON payload (second segment). Accepts base64url as specified, and tolerates padding or the
/// standard alphabet in case a server encodes it loosely.
fn decode_payload(token: &str) -> Option<serde_json::Map<String, Value>> {
    let payload = token.split('.').nth(1)?.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .or_else(|_| STANDARD_NO_PAD.decode(payload))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("eyJhbGciOiJIUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn reads_the_reference_example() {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJtYXhfZmlsZV9jb3VudF9hbGxvd2VkIjoyMDAwMCwiZXhwIjoxNzkwMDAwMDAwfQ.c2ln";
        let jwt = UploadJwt::parse(token);
        assert_eq!(jwt.expires_at(), Some(1_790_000_000.0));
        assert_eq!(jwt.max_file_count_allowed(), 20_000);
        assert!(!jwt.needs_refresh_at(1_789_999_000.0));
        assert!(jwt.needs_refresh_at(1_789_999_990.0), "inside the 30 s margin");
        assert!(jwt.needs_refresh_at(1_790_000_001.0));
    }

    #[test]
    fn short_lived_tokens_use_a_quarter_of_their_lifetime_as_margin() {
        let jwt = UploadJwt::parse(jwt(r#"{"iat":1000,"exp":1004,"max_file_count_allowed":100000}"#));
        assert_eq!(jwt.max_file_count_allowed(), 100_000);
        assert!(!jwt.needs_refresh_at(1002.5));
        assert!(jwt.needs_refresh_at(1003.0));
    }

    #[test]
    fn unreadable_claims_fall_back() {
        let opaque = UploadJwt::parse("not-a-jwt");
        assert_eq!(opaque.max_file_count_allowed(), DEFAULT_MAX_FILE_COUNT);
        assert!(!opaque.needs_refresh_at(f64::MAX / 2.0));
        let string_claim = UploadJwt::parse(jwt(r#"{"exp":"soon","max_file_count_allowed":"lots"}"#));
        assert_eq!(string_claim.expires_at(), None);
        assert_eq!(string_claim.max_file_count_allowed(), DEFAULT_MAX_FILE_COUNT);
        let padded = UploadJwt::parse(format!("h.{}==.s", URL_SAFE_NO_PAD.encode(r#"{"exp":5}"#)));
        assert_eq!(padded.expires_at(), Some(5.0));
    }

    #[test]
    fn debug_redacts_the_token() {
        let token = jwt(r#"{"exp":5}"#);
        let shown = format!("{:?}", UploadJwt::parse(token.clone()));
        assert!(!shown.contains(&token) && shown.contains("redacted"));
    }
}
