//! API-token and account checks, and the upload JWTs (HS256, signed with a key made at start).

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::envelope::{ApiError, ErrorEntry, codes};
use crate::state::{JwtRecord, ProjectRef, SimState, World, new_uuid};

/// The bearer credential of a request, or the envelope error Cloudflare answers.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        // Legacy X-Auth-Key/X-Auth-Email (global API key) auth is not simulated: there is no global key.
        return Err(ApiError::authentication());
    };
    let malformed = || {
        let mut error = ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_HEADERS,
            "Invalid request headers",
        );
        error.errors[0].error_chain.push(ErrorEntry {
            code: codes::INVALID_AUTHORIZATION_FORMAT,
            message: "Invalid format for Authorization header".to_string(),
            error_chain: Vec::new(),
        });
        error
    };
    let text = value.to_str().map_err(|_| malformed())?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(malformed)?
        .trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(malformed());
    }
    Ok(token)
}

impl SimState {
    /// Checks `Authorization: Bearer <API token>` and the account id of an account-scoped path.
    pub(crate) fn authorize(&self, headers: &HeaderMap, account: &str) -> Result<(), ApiError> {
        let token = bearer(headers)?;
        let (accepted, refused_status) = {
            let world = self.world();
            (world.api_token.clone(), world.refused_token_status)
        };
        if !constant_time_eq(token.as_bytes(), accepted.as_bytes()) {
            // After a rotation the old token may be answered 403 (a revoked token) instead of 401.
            let mut error = ApiError::authentication();
            error.status = StatusCode::from_u16(refused_status).unwrap_or(StatusCode::UNAUTHORIZED);
            return Err(error);
        }
        if account == self.config().account_id {
            return Ok(());
        }
        let is_identifier = account.len() == 32 && account.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_identifier {
            return Err(ApiError::no_route(&format!("/accounts/{account}")));
        }
        // [uncertain] A valid token used on another account: Cloudflare's exact answer varies; 403 with
        // 10000 is the common one.
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::AUTHENTICATION_ERROR,
            "Authentication error",
        ))
    }

    /// Mints an upload JWT for a project: HS256 with `exp`, `iat`, `max_file_count_allowed`, and claims
    /// binding it to the account and project.
    pub(crate) fn mint_jwt(&self, world: &mut World, project: &ProjectRef, now: DateTime<Utc>) -> String {
        let expires_at = now + TimeDelta::from_std(world.jwt_ttl).unwrap_or(TimeDelta::MAX);
        let jti = new_uuid();
        let now_secs = now.timestamp();
        // `exp` is rounded up to whole seconds; the exact expiry is kept server-side.
        let exp_secs = expires_at.timestamp() + i64::from(expires_at.timestamp_subsec_nanos() > 0);
        let claims = json!({
            "iss": "baton-sim-cloudflare",
            "sub": project.id,
            "account_id": self.config().account_id,
            "project_name": project.name,
            "jti": jti,
            "iat": now_secs,
            "exp": exp_secs,
            "max_file_count_allowed": self.config().max_file_count_allowed,
        });
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(&self.shared.jwt_key, signing_input.as_bytes()));
        world.live_jwts.retain(|_, record| record.expires_at > now);
        world.live_jwts.insert(
            jti,
            JwtRecord {
                project: project.name.clone(),
                expires_at,
            },
        );
        world.jwts_issued += 1;
        format!("{signing_input}.{signature}")
    }

    /// Checks the upload JWT of an asset call; returns the project it is bound to. Every failure is
    /// 8000013, which tells a client to fetch a new JWT.
    pub(crate) fn verify_jwt(
        &self,
        world: &World,
        headers: &HeaderMap,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let token = bearer(headers).map_err(|_| ApiError::upload_unauthorized("missing upload JWT"))?;
        if constant_time_eq(token.as_bytes(), world.api_token.as_bytes()) {
            return Err(ApiError::upload_unauthorized(
                "an API token is not accepted here; use the JWT from the upload-token endpoint",
            ));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ApiError::upload_unauthorized("the upload JWT is malformed"));
        };
        let expected = hmac_sha256(&self.shared.jwt_key, format!("{header}.{payload}").as_bytes());
        let given = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
        if !constant_time_eq(&given, &expected) {
            return Err(ApiError::upload_unauthorized("the upload JWT signature is invalid"));
        }
        let claims: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null);
        let jti = claims.get("jti").and_then(Value::as_str).unwrap_or_default();
        let record = world
            .live_jwts
            .get(jti)
            .ok_or_else(|| ApiError::upload_unauthorized("the upload JWT has expired"))?;
        if record.expires_at <= now {
            return Err(ApiError::upload_unauthorized("the upload JWT has expired"));
        }
        if !world.projects.contains_key(&record.project) {
            return Err(ApiError::upload_unauthorized(
                "the upload JWT's project no longer exists",
            ));
        }
        Ok(record.project.clone())
    }
}

/// HMAC-SHA256 (RFC 2104), written out because only `sha2` is available.
pub(crate) fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut padded = [0u8; BLOCK];
    padded[..key.len()].copy_from_slice(key);
    let inner_key: Vec<u8> = padded.iter().map(|b| b ^ 0x36).collect();
    let outer_key: Vec<u8> = padded.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new().chain_update(&inner_key).chain_update(message).finalize();
    let outer = Sha256::new().chain_update(&outer_key).chain_update(inner).finalize();
    outer.into()
}

/// Compares without stopping at the first difference, so timing does not reveal a secret's prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_style_vector() {
        // HMAC-SHA256 with a 32-byte key of 0x0b and "Hi There" (checked against Python's hmac module).
        let key = [0x0b; 32];
        let mac = hex::encode(hmac_sha256(&key, b"Hi There"));
        assert_eq!(mac, "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7");
    }

    #[test]
    fn bearer_parsing_distinguishes_missing_and_malformed() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            bearer(&headers).unwrap_err().errors[0].code,
            codes::AUTHENTICATION_ERROR
        );
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        let error = bearer(&headers).unwrap_err();
        assert_eq!(error.errors[0].code, codes::INVALID_HEADERS);
        assert_eq!(error.errors[0].error_chain[0].code, codes::INVALID_AUTHORIZATION_FORMAT);
        headers.insert(header::AUTHORIZATION, "Bearer tok".parse().unwrap());
        assert_eq!(bearer(&headers).unwrap(), "tok");
    }
}
