//! The session cookie: who signed in and until when, signed with HMAC-SHA256 under a key kept
//! in Secrets Manager. Nothing is stored per session, so a session is revoked by its expiry, by
//! signing out (the cookie is cleared), or for everyone at once by rotating the key; and a
//! viewer removed from `access.viewers` is refused at once whatever their cookie says
//! ([`super::audience`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::approval::constant_time_eq;

/// The cookie's name.
pub const COOKIE: &str = "baton_session";
/// How long a session lasts.
pub const SESSION_DAYS: i64 = 7;
/// The shortest signing key accepted: the template generates 64 characters.
pub const MIN_KEY_LEN: usize = 32;
/// Longest cookie value read (an address is at most 254 characters).
const MAX_COOKIE_LEN: usize = 600;

/// A session a cookie proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The viewer's address, as they signed in with it (lower case).
    pub viewer: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

fn mac(key: &[u8], text: &str) -> Vec<u8> {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(text.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The cookie value for `viewer`, valid for [`SESSION_DAYS`] from `now`.
pub fn seal(key: &[u8], viewer: &str, now: DateTime<Utc>) -> String {
    let expires = (now + Duration::days(SESSION_DAYS)).timestamp();
    let body = format!("v1.{}.{expires}", URL_SAFE_NO_PAD.encode(viewer.as_bytes()));
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &body));
    format!("{body}.{signature}")
}

/// The session `value` proves at `now`: signed under `key`, not expired. Anything else
/// (tampered, truncated, expired, signed under an older key) proves nothing.
pub fn open(key: &[u8], value: &str, now: DateTime<Utc>) -> Option<Session> {
    if key.len() < MIN_KEY_LEN || value.len() > MAX_COOKIE_LEN {
        return None;
    }
    let (body, signature) = value.rsplit_once('.')?;
    let given = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if !constant_time_eq(&given, mac(key, body)) {
        return None;
    }
    let mut parts = body.split('.');
    let (Some("v1"), Some(viewer), Some(expires), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let viewer = String::from_utf8(URL_SAFE_NO_PAD.decode(viewer).ok()?).ok()?;
    let expires_at = DateTime::from_timestamp(expires.parse().ok()?, 0)?;
    (expires_at > now).then_some(Session { viewer, expires_at })
}

/// The anti-forgery value forms of a signed-in page carry: bound to the session cookie, so a
/// page of another site cannot know it. (`SameSite=Lax` already keeps the cookie off other
/// sites' POSTs; this holds even for a browser that ignores it.)
pub fn form_guard(key: &[u8], cookie_value: &str) -> String {
    URL_SAFE_NO_PAD.encode(&mac(key, &format!("form.{cookie_value}"))[..16])
}

/// Whether `given` is the form guard of `cookie_value`.
pub fn form_guard_ok(key: &[u8], cookie_value: &str, given: &str) -> bool {
    constant_time_eq(form_guard(key, cookie_value).as_bytes(), given.as_bytes())
}

/// The `Set-Cookie` value that starts a session. `secure` is off only on the local stack
/// (plain http on 127.0.0.1), where a `Secure` cookie would never be sent back.
pub fn set_cookie(value: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        SESSION_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session cookie's value among `cookies` (each `name=value`, as API Gateway lists them,
/// or one `Cookie` header's `a=1; b=2`).
pub fn cookie_value<'a>(cookies: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    cookies
        .into_iter()
        .flat_map(|c| c.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}
