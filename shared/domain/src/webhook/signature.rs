//! `Baton-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

use hmac::{Hmac, KeyInit, Mac};
use sha2_hmac::Sha256;

/// How far a signature's timestamp may be from the receiver's clock: older deliveries are
/// refused as replays.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this never fails.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The `Baton-Signature` header value for `body` sent at `timestamp`.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Why a delivery's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    /// No `Baton-Signature` header.
    #[error("no Baton-Signature header")]
    Missing,
    /// Not `t=<seconds>,v1=<hex>`.
    #[error("the Baton-Signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    /// The timestamp is too far from now: a replay, or a clock that is off.
    #[error("the signature's timestamp is {0} seconds from now, more than the 300 allowed (a replay?)")]
    Stale(i64),
    /// No `v1` matches the body under the secret.
    #[error("the signature does not match the body under the hook's secret")]
    Mismatch,
}

/// Checks `header` (a `Baton-Signature` value) for `body` under `secret` at `now` (unix seconds).
/// Every `v1=` is tried (a sender rotating its secret may send two); the comparison takes the
/// same time whatever the bytes.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8], now: i64) -> Result<(), SignatureProblem> {
    let header = header.ok_or(SignatureProblem::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(hex::decode(v).map_err(|_| SignatureProblem::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureProblem::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureProblem::Malformed);
    }
    let skew = now.saturating_sub(timestamp);
    if skew.abs() > SIGNATURE_TOLERANCE_SECONDS {
        return Err(SignatureProblem::Stale(skew));
    }
    let matched = signatures
        .iter()
        .any(|s| mac(secret, timestamp, body).verify_slice(s).is_ok());
    if matched {
        Ok(())
    } else {
        Err(SignatureProblem::Mismatch)
    }
}
