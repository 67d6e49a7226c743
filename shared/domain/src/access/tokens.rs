//! Sign-in links and API tokens: random secrets shown once (mailed, or on the account page),
//! of which only the SHA-256 is stored.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::approval::{token_from_bytes, token_hash};

/// How long a sign-in link works.
pub const SIGN_IN_MINUTES: i64 = 15;
/// What every API token starts with, so secret scanners (and people) recognise one.
pub const API_TOKEN_PREFIX: &str = "baton_";
/// The most live tokens a viewer may hold: a page lists them all with one read.
pub const MAX_TOKENS_PER_VIEWER: usize = 20;
/// How stale a token's last-used time may get before a use writes it again: one write per
/// token per 5 minutes, not one per request.
pub const LAST_USED_RESOLUTION_MINUTES: i64 = 5;
/// Longest token name.
pub const MAX_TOKEN_NAME: usize = 60;

/// A sign-in link waiting to be used, as stored (its token only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInLink {
    /// SHA-256 (hex) of the link's token.
    pub hash: String,
    /// Who asked to sign in.
    pub viewer: String,
    /// When it was mailed.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl SignInLink {
    /// A new link for `viewer` from 32 random bytes: the token to mail, and the record to keep.
    pub fn new(random: &[u8; 32], viewer: &str, now: DateTime<Utc>) -> (String, SignInLink) {
        let token = token_from_bytes(random);
        let link = SignInLink {
            hash: token_hash(&token),
            viewer: super::normalise_address(viewer),
            created_at: now,
            expires_at: now + Duration::minutes(SIGN_IN_MINUTES),
        };
        (token, link)
    }
}

/// An API token, as stored and listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// A short id the account page and revocation use (the hash's first 16 hex digits).
    pub id: String,
    /// SHA-256 (hex) of the token.
    pub hash: String,
    /// Whose it is.
    pub viewer: String,
    /// What its owner called it ("release dashboard", "CI").
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to [`LAST_USED_RESOLUTION_MINUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked token proves nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// A new token for `viewer` from 32 random bytes: the secret to show once, and the record.
    pub fn new(random: &[u8; 32], viewer: &str, name: &str, now: DateTime<Utc>) -> (String, ApiToken) {
        let secret = format!("{API_TOKEN_PREFIX}{}", token_from_bytes(random));
        let hash = token_hash(&secret);
        let token = ApiToken {
            id: hash[..16].to_string(),
            hash,
            viewer: super::normalise_address(viewer),
            name: name.trim().to_string(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        (secret, token)
    }

    /// Whether a use at `now` should record itself.
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at
            .is_none_or(|at| now - at >= Duration::minutes(LAST_USED_RESOLUTION_MINUTES))
    }
}

/// The token of an `Authorization: Bearer <token>` header, if it has the form of one of ours
/// (checked before any read: a store may answer an odd key with an error, not "not found").
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && is_api_token(token)).then_some(token)
}

/// Whether `text` has the form of an API token: the prefix, then 43 base64url characters.
pub fn is_api_token(text: &str) -> bool {
    text.strip_prefix(API_TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Whether `text` has the form of a link token (43 base64url characters).
pub fn is_link_token(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What is wrong with a token's name, if anything.
pub fn name_problem(name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return Some("Give the token a name, such as \"release dashboard\", so you know it later.".into());
    }
    if name.chars().count() > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
        return Some(format!(
            "A token's name is at most {MAX_TOKEN_NAME} characters, on one line."
        ));
    }
    None
}
