//! HTTP functions behind API Gateway (HTTP API, payload format 2.0): the request as handlers
//! need it, and responses with Baton's security headers.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

/// An HTTP request, read from an API Gateway v2 event.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// Method, upper case.
    pub method: String,
    /// Path, e.g. `/approvals/abc`.
    pub path: String,
    /// Query parameters (decoded).
    pub query: BTreeMap<String, String>,
    /// Headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Caller's IP.
    pub source_ip: String,
    /// Caller's user agent.
    pub user_agent: String,
    /// Cookies sent, each `name=value` (API Gateway v2 lists them apart from the headers).
    pub cookies: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(default)]
    raw_path: String,
    #[serde(default)]
    query_string_parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
    #[serde(default)]
    request_context: Context,
    #[serde(default)]
    cookies: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Context {
    #[serde(default)]
    http: HttpContext,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HttpContext {
    #[serde(default)]
    method: String,
    #[serde(default)]
    source_ip: String,
    #[serde(default)]
    user_agent: String,
}

impl HttpRequest {
    /// Reads an API Gateway v2 event; anything unreadable becomes an empty request.
    pub fn from_event(payload: Value) -> HttpRequest {
        let event: Event = serde_json::from_value(payload).unwrap_or_default();
        let body = match event.body {
            Some(b) if event.is_base64_encoded => {
                base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default()
            }
            Some(b) => b.into_bytes(),
            None => Vec::new(),
        };
        let headers: BTreeMap<String, String> = event
            .headers
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        // API Gateway v2 moves cookies out of the headers into `cookies`; a `cookie` header is
        // read too, for callers that keep it there.
        let mut cookies = event.cookies.unwrap_or_default();
        if let Some(header) = headers.get("cookie") {
            cookies.extend(
                header
                    .split(';')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            );
        }
        HttpRequest {
            method: event.request_context.http.method.to_ascii_uppercase(),
            path: event.raw_path,
            query: event.query_string_parameters.unwrap_or_default(),
            headers,
            body,
            source_ip: event.request_context.http.source_ip,
            user_agent: event.request_context.http.user_agent,
            cookies,
        }
    }

    /// The body as `application/x-www-form-urlencoded` fields.
    pub fn form(&self) -> BTreeMap<String, String> {
        form_fields(&String::from_utf8_lossy(&self.body))
    }
}

/// Decodes `a=1&b=two+words`.
pub fn form_fields(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// An HTML page with Baton's security headers, as API Gateway v2 expects it.
pub fn html_response(status: u16, body: String) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), json!("text/html; charset=utf-8"));
    headers.insert(
        "content-security-policy".into(),
        json!(baton_html::content_security_policy()),
    );
    for (name, value) in baton_html::SECURITY_HEADERS {
        headers.insert(name.to_ascii_lowercase(), json!(value));
    }
    json!({ "statusCode": status, "headers": headers, "body": body, "isBase64Encoded": false })
}

/// A JSON answer.
pub fn json_response(status: u16, body: &Value) -> Value {
    json!({
        "statusCode": status,
        "headers": { "content-type": "application/json", "cache-control": "no-store" },
        "body": body.to_string(),
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_api_gateway_v2_event() {
        let body = base64::engine::general_purpose::STANDARD.encode("token=a%2Bb&decision=approve&comment=ship+it");
        let req = HttpRequest::from_event(json!({
            "version": "2.0", "rawPath": "/approvals/x", "headers": {"User-Agent": "t"},
            "queryStringParameters": {"token": "abc"}, "body": body, "isBase64Encoded": true,
            "requestContext": {"http": {"method": "post", "sourceIp": "10.0.0.1", "userAgent": "t"}}
        }));
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/approvals/x");
        assert_eq!(req.query["token"], "abc");
        assert_eq!(req.headers["user-agent"], "t");
        let form = req.form();
        assert_eq!(form["token"], "a+b");
        assert_eq!(form["comment"], "ship it");
        assert_eq!(req.source_ip, "10.0.0.1");
    }

    #[test]
    fn pages_carry_the_security_headers() {
        let r = html_response(200, "<p>x</p>".into());
        assert_eq!(r["headers"]["cache-control"], "no-store");
        assert_eq!(r["headers"]["referrer-policy"], "no-referrer");
        assert_eq!(r["headers"]["x-frame-options"], "DENY");
        assert!(
            r["headers"]["content-security-policy"]
                .as_str()
                .unwrap_or_default()
                .contains("default-src 'none'")
        );
    }
}
