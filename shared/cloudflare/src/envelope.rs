//! Reading Cloudflare's v4 envelope (`success`, `errors`, `messages`, `result`, `result_info`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiMessage, PagesError};
use crate::model::ResultInfo;

/// How much of a non-envelope body goes into an error message.
const BODY_SNIPPET_CHARS: usize = 200;

/// A successful envelope's payload.
#[derive(Debug)]
pub(crate) struct Success<T> {
    pub result: T,
    pub result_info: Option<ResultInfo>,
}

/// Turns an HTTP response into the envelope's `result`, or the error it reports.
///
/// As in wrangler, `success` is the truth: a 200 with `success: false` is an error. An empty 2xx body
/// (204/205) counts as success with a `null` result.
pub(crate) fn parse<T: DeserializeOwned>(
    operation: &'static str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Success<T>, PagesError> {
    let retry_after = retry_after(headers, Utc::now());
    let ok_status = (200..300).contains(&status);
    if ok_status && body.iter().all(u8::is_ascii_whitespace) {
        return decode_result(operation, status, Value::Null, None);
    }
    let malformed = || PagesError::Malformed {
        operation,
        status,
        body: snippet(body),
        retry_after,
    };
    let Ok(Value::Object(mut envelope)) = serde_json::from_slice::<Value>(body) else {
        return Err(malformed());
    };
    let Some(success) = envelope.get("success").and_then(Value::as_bool) else {
        return Err(malformed());
    };
    if !success || !ok_status {
        let errors = envelope.get("errors").map(messages).unwrap_or_default();
        return Err(PagesError::Api {
            operation,
            status,
            errors,
            retry_after,
        });
    }
    let result = envelope.remove("result").unwrap_or(Value::Null);
    let result_info = envelope
        .remove("result_info")
        .and_then(|info| serde_json::from_value::<ResultInfo>(info).ok());
    decode_result(operation, status, result, result_info)
}

fn decode_result<T: DeserializeOwned>(
    operation: &'static str,
    status: u16,
    result: Value,
    result_info: Option<ResultInfo>,
) -> Result<Success<T>, PagesError> {
    match serde_json::from_value::<T>(result) {
        Ok(result) => Ok(Success { result, result_info }),
        Err(error) => Err(PagesError::UnexpectedResult {
            operation,
            message: format!("{error} (HTTP {status})"),
        }),
    }
}

/// Reads an `errors`/`messages` array tolerantly: codes may be numbers or numeric strings, fields may be missing.
fn messages(value: &Value) -> Vec<ApiMessage> {
    let Some(items) = value.as_array() else {
        return Vec::new();
    };
    items.iter().map(message).collect()
}

fn message(value: &Value) -> ApiMessage {
    let code = match value.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let message = match value.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let chain = value.get("error_chain").map(messages).unwrap_or_default();
    ApiMessage { code, message, chain }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let mut out: String = trimmed.chars().take(BODY_SNIPPET_CHARS).collect();
    if trimmed.chars().count() > BODY_SNIPPET_CHARS {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}

/// Reads `Retry-After`: delay-seconds (Cloudflare rounds up) or an HTTP-date.
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn success_false_on_200_is_an_error_with_codes() {
        let body = br#"{"success":false,"errors":[{"code":8000000,"message":"An unknown error occurred"}],"messages":[],"result":null}"#;
        let error = parse::<Value>("t", 200, &HeaderMap::new(), body).unwrap_err();
        assert_eq!(error.codes(), vec![8_000_000]);
        assert!(error.is_transient());
    }

    #[test]
    fn plain_text_body_is_malformed_without_code() {
        let error = parse::<Value>("t", 403, &HeaderMap::new(), b"Expired JWT").unwrap_err();
        assert!(matches!(error, PagesError::Malformed { status: 403, .. }), "{error:?}");
        assert!(error.codes().is_empty());
        assert!(error.is_upload_auth_failure());
    }

    #[test]
    fn result_and_result_info_are_read() {
        let body = br#"{"success":true,"errors":[],"messages":[],"result":["a"],"result_info":{"page":1,"per_page":25,"count":1,"total_count":1}}"#;
        let ok = parse::<Vec<String>>("t", 200, &HeaderMap::new(), body).unwrap();
        assert_eq!(ok.result, vec!["a".to_string()]);
        assert_eq!(ok.result_info.and_then(|i| i.total_count), Some(1));
    }

    #[test]
    fn a_result_of_the_wrong_shape_is_permanent() {
        let body = br#"{"success":true,"errors":[],"messages":[],"result":{"not":"a list"}}"#;
        let error = parse::<Vec<String>>("t", 200, &HeaderMap::new(), body).unwrap_err();
        assert!(matches!(error, PagesError::UnexpectedResult { .. }), "{error:?}");
        assert!(!error.is_transient());
    }

    #[test]
    fn empty_204_is_success() {
        let ok = parse::<Option<Value>>("t", 204, &HeaderMap::new(), b"").unwrap();
        assert!(ok.result.is_none());
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc2822("Wed, 21 Oct 2015 07:28:00 GMT")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:05 GMT"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(5)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
