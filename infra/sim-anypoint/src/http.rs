//! HTTP helpers shared by the routes: error bodies, ids, clocks, tolerant body parsing, bearer check.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::state::World;

/// An error answer: status plus JSON body (plus `Retry-After` for injected 429s).
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<String>,
}

impl ApiError {
    /// The Spring-style body the AMC API uses (`{"status","error","message"}`, §3.5); the open
    /// question of its exact shape (§11 q6) is answered with the most common one.
    pub(crate) fn spring(status: StatusCode, message: impl Into<String>) -> Self {
        let body = json!({
            "status": status.as_u16(),
            "error": status.canonical_reason().unwrap_or("Error"),
            "message": message.into(),
        });
        Self {
            status,
            body,
            retry_after: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::spring(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::spring(StatusCode::NOT_FOUND, message)
    }

    /// 401 with the body the KB article shows for AMC.
    pub(crate) fn unauthorized() -> Self {
        Self::spring(StatusCode::UNAUTHORIZED, "Unauthorized")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(value) = self.retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A random version-4 UUID, as the platform uses for ids, tokens and spec versions.
pub(crate) fn uuid() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Without an OS random source, fall back to the clock: unique enough for a local simulator.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = nanos.to_le_bytes();
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `len` random lowercase letters and digits (replica ids, public-URL unique ids).
pub(crate) fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; len];
    let _ = getrandom::fill(&mut bytes); // zeros are still a valid suffix
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Now, in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Parses a JSON object body, or answers 400.
pub(crate) fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("The request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("Malformed JSON request body: {e}"))),
    }
}

/// Parses `application/x-www-form-urlencoded` pairs (`+` is a space).
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (decode(key), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// A number given as a JSON number or a numeric string (MMP sends `"replicas":"1"`, `"vCores":"0.1"`).
pub(crate) fn lenient_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Checks the bearer token (scheme case-insensitive, as MMP sends `bearer`); 401 otherwise.
pub(crate) fn authorize(world: &World, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match token {
        Some(token) if world.token_is_valid(token) => Ok(()),
        // A token of rotated credentials may be answered 403, as a revoked grant is.
        Some(token) if world.revoked_status(token) == Some(403) => Err(ApiError::spring(
            StatusCode::FORBIDDEN,
            "The access token was revoked: its connected app's credentials changed",
        )),
        _ => Err(ApiError::unauthorized()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_v4() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(uuid(), id);
    }

    #[test]
    fn form_bodies_decode() {
        let pairs = form_pairs(b"client_id=a%20b&client_secret=c+d&grant_type=client_credentials");
        assert_eq!(pairs[0], ("client_id".to_string(), "a b".to_string()));
        assert_eq!(pairs[1], ("client_secret".to_string(), "c d".to_string()));
    }
}
