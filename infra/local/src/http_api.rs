//! API Gateway (HTTP API, payload format 2.0) in front of the HTTP functions, plus the local
//! stack's own pages under `/_local/`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

/// The HTTP API's routes.
pub fn router(registry: crate::functions::FunctionSlot, outbox: crate::outbox::Outbox) -> Router {
    let local = Router::new()
        .route("/_local/outbox", get(crate::outbox::page))
        .route("/_local/outbox.json", get(crate::outbox::json))
        .with_state(outbox);
    Router::new()
        .route("/_local/health", get(|| async { "ok" }))
        .fallback(route)
        .with_state(registry)
        .merge(local)
}

/// Whether `path` matches a route template (`{name}` one segment, `{name+}` the rest).
fn matches(template: &str, path: &str) -> Option<Map<String, Value>> {
    let mut params = Map::new();
    let mut actual = path.trim_start_matches('/').split('/');
    for part in template.trim_start_matches('/').split('/') {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest: Vec<&str> = actual.by_ref().collect();
            params.insert(name.to_string(), Value::String(rest.join("/")));
            return Some(params);
        }
        let segment = actual.next()?;
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => {
                params.insert(name.to_string(), Value::String(segment.to_string()));
            }
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    actual.next().is_none().then_some(params)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({"message": "Not Found"}))).into_response()
}

async fn route(State(registry): State<crate::functions::FunctionSlot>, request: Request) -> Response {
    let Some(registry) = registry.current() else {
        // Between hosts: API Gateway's answer when its integration cannot be reached.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"message": "Service Unavailable"})),
        )
            .into_response();
    };
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let found = registry.functions.iter().find_map(|f| {
        f.http.iter().find_map(|r| {
            let method_ok = r.method == "ANY" || r.method == method;
            matches(&r.path, &path)
                .filter(|_| method_ok)
                .map(|params| (f, r.clone(), params))
        })
    });
    let Some((function, route, params)) = found else {
        return not_found();
    };
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 10 * 1024 * 1024).await.unwrap_or_default();
    let event = event_of(&parts, &route, params, &query, &body);
    let started = std::time::Instant::now();
    let run = registry.run(&function.handler, event);
    let Ok(answered) = tokio::time::timeout(INTEGRATION_TIMEOUT, run).await else {
        tracing::warn!(function = %function.name, "HTTP function outlived the HTTP API's integration timeout");
        return integration_timed_out();
    };
    let answered = answered.unwrap_or_else(|| {
        Err(baton_domain::BatonError::internal(
            "Runtime exited with error: signal: killed",
        ))
    });
    // Server-Timing shows the handler's own time (what Lambda bills), without HTTP overhead.
    let timing = format!("handler;dur={:.3}", started.elapsed().as_secs_f64() * 1000.0);
    match answered {
        Ok(answer) => {
            let mut response = to_response(answer);
            if let Ok(value) = HeaderValue::from_str(&timing) {
                response.headers_mut().insert("server-timing", value);
            }
            response
        }
        Err(e) => {
            tracing::warn!(function = %function.name, error = %e, "HTTP function failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"message": "Internal Server Error"})),
            )
                .into_response()
        }
    }
}

/// How long an HTTP API waits for its Lambda integration: 30 seconds, a quota that cannot be
/// raised ("Maximum integration timeout", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
/// The template keeps every HTTP function's own `Timeout` below it (tests/e2e/tests/limits.rs).
const INTEGRATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What an HTTP API answers when its integration outlives [`INTEGRATION_TIMEOUT`]: 503 with
/// this body (a REST API would say 504 "Endpoint request timed out"; an HTTP API does not).
fn integration_timed_out() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"message": "Service Unavailable"})),
    )
        .into_response()
}

/// The payload format 2.0 event API Gateway sends for this request, shaped as
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
/// describes it: duplicate headers and duplicate query parameters are combined with commas
/// (`rawQueryString` keeps them apart), and the `Cookie` header is not among the headers but
/// split into the `cookies` array.
fn event_of(
    parts: &axum::http::request::Parts,
    route: &crate::functions::HttpRoute,
    params: Map<String, Value>,
    query: &str,
    body: &[u8],
) -> Value {
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = value.to_str().unwrap_or_default();
        if name == axum::http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| Value::String(c.to_string())),
            );
            continue;
        }
        join_into(&mut headers, name.as_str(), value);
    }
    let mut query_parameters = Map::new();
    for (name, value) in url_pairs(query) {
        join_into(&mut query_parameters, &name, &value);
    }
    let (body_value, base64) = match std::str::from_utf8(body) {
        Ok(t) => (Value::String(t.to_string()), false),
        Err(_) => (Value::String(base64_encode(body)), true),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{} {}", route.method, route.path),
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": if query_parameters.is_empty() { Value::Null } else { Value::Object(query_parameters) },
        "pathParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "requestContext": {
            "accountId": crate::template::ACCOUNT_ID,
            "apiId": "local",
            "domainName": parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"),
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                      "userAgent": parts.headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or("") },
            "requestId": format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)),
            "routeKey": format!("{} {}", route.method, route.path),
            "stage": "$default",
        },
        "body": body_value,
        "isBase64Encoded": base64,
    });
    // Absent, not empty, when the request carried no cookie.
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    event
}

/// Adds `value` under `name`, after a comma if the name came before (API Gateway's way with
/// repeated headers and query parameters in payload format 2.0).
fn join_into(map: &mut Map<String, Value>, name: &str, value: &str) {
    match map.get_mut(name) {
        Some(Value::String(joined)) => {
            joined.push(',');
            joined.push_str(value);
        }
        _ => {
            map.insert(name.to_string(), Value::String(value.to_string()));
        }
    }
}

/// A function's answer as API Gateway turns it into HTTP (format 2.0: an object with
/// `statusCode` is a full response; anything else is a 200 JSON body).
fn to_response(answer: Value) -> Response {
    let Some(status) = answer.get("statusCode").and_then(Value::as_u64) else {
        return (StatusCode::OK, axum::Json(answer)).into_response();
    };
    let body = answer.get("body").and_then(Value::as_str).unwrap_or_default();
    let bytes = if answer.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64_decode(body)
    } else {
        body.as_bytes().to_vec()
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in answer.get("headers").and_then(Value::as_object).into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (HeaderName::try_from(k.as_str()), v.as_str().map(HeaderValue::from_str)) {
            response.headers_mut().insert(name, value);
        }
    }
    for cookie in answer.get("cookies").and_then(Value::as_array).into_iter().flatten() {
        if let Some(Ok(value)) = cookie.as_str().map(HeaderValue::from_str) {
            response.headers_mut().append("set-cookie", value);
        }
    }
    response
}

/// The query's pairs, decoded, in order, repeats kept (one pair at a time through Baton's own
/// decoder, which would otherwise keep one value per name).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| baton_app::http::form_fields(pair).into_iter().next())
        .collect()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_templates_match_like_api_gateway() {
        assert!(matches("/", "/").is_some());
        assert_eq!(matches("/releases/{id}", "/releases/rel-4").unwrap()["id"], "rel-4");
        assert!(matches("/releases/{id}", "/releases/rel-4/x").is_none());
        assert!(matches("/releases/{id}", "/releases/").is_none());
        assert_eq!(matches("/{proxy+}", "/a/b/c").unwrap()["proxy"], "a/b/c");
    }

    fn event_for(uri: &str, headers: &[(&str, &str)]) -> Value {
        let mut request = axum::http::Request::builder().method("GET").uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        let route = crate::functions::HttpRoute {
            method: "GET".into(),
            path: "/api/search".into(),
        };
        event_of(&parts, &route, Map::new(), parts.uri.query().unwrap_or(""), b"")
    }

    #[test]
    fn repeated_query_parameters_arrive_comma_joined_and_raw_keeps_them_apart() {
        let event = event_for("/api/search?q=a&q=b&limit=5&c=x%2Cy", &[]);
        assert_eq!(event["rawQueryString"], "q=a&q=b&limit=5&c=x%2Cy");
        assert_eq!(
            event["queryStringParameters"],
            json!({"q": "a,b", "limit": "5", "c": "x,y"})
        );
        assert_eq!(event_for("/api/search", &[])["queryStringParameters"], Value::Null);
    }

    #[test]
    fn cookies_arrive_as_an_array_never_as_a_header() {
        let event = event_for(
            "/account",
            &[
                ("cookie", "baton_session=abc; theme=dark"),
                ("cookie", "other=1"),
                ("accept", "a"),
                ("accept", "b"),
            ],
        );
        assert_eq!(event["cookies"], json!(["baton_session=abc", "theme=dark", "other=1"]));
        assert!(event["headers"].get("cookie").is_none(), "{}", event["headers"]);
        assert_eq!(event["headers"]["accept"], "a,b");
        assert!(event_for("/", &[]).get("cookies").is_none());
    }

    #[test]
    fn base64_round_trips() {
        for input in [&b""[..], b"a", b"ab", b"abc", b"\xff\x00\x10binary"] {
            assert_eq!(base64_decode(&base64_encode(input)), input);
        }
    }
}
