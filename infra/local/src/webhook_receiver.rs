//! A webhook receiver for the local stack: `POST /_local/webhooks/{name}` checks the delivery's
//! `Baton-Signature` with the secret `baton/webhooks/{name}` as the local stack provisions it
//! (`infra/local/secrets.local.json`), answering 401 to a missing, forged or stale signature,
//! and keeps every request it got, refused or not. `GET /_local/webhooks` (HTML) and
//! `/_local/webhooks.json` show them; `POST /_local/webhooks/{name}/fail?times=N[&event=E]` makes the hook
//! answer 500 to its next N deliveries (for retry tests).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use baton_domain::webhook;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::outbox::escape;

/// One request the receiver got.
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    /// The hook (the last path segment).
    pub hook: String,
    /// When it arrived.
    pub at: chrono::DateTime<chrono::Utc>,
    /// `Baton-Event`.
    pub event: Option<String>,
    /// `Baton-Delivery`.
    pub delivery: Option<String>,
    /// Whether the signature checked out.
    pub verified: bool,
    /// Why it was refused, if it was.
    pub refused: Option<String>,
    /// What the receiver answered.
    pub answered: u16,
    /// The body, as JSON when it is JSON.
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    arrivals: Vec<Arrival>,
    /// Per hook: how many more deliveries to fail, and of which event only (if given).
    failures: BTreeMap<String, (u32, Option<String>)>,
}

/// The receiver's state, shared by its routes.
#[derive(Clone)]
pub struct Receiver {
    secrets: Arc<BTreeMap<String, String>>,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// A receiver checking signatures with the local secrets under `root`.
    pub fn load(root: &Path) -> anyhow::Result<Receiver> {
        let text = std::fs::read_to_string(root.join("infra/local/secrets.local.json"))?;
        let all: BTreeMap<String, Value> = serde_json::from_str(&text)?;
        let secrets = all
            .into_iter()
            .filter_map(|(name, v)| {
                let hook = name.strip_prefix(baton_domain::config::notifications::WEBHOOK_SECRET_PREFIX)?;
                Some((hook.to_string(), v.as_str()?.to_string()))
            })
            .collect();
        Ok(Receiver {
            secrets: Arc::new(secrets),
            inner: Arc::default(),
        })
    }

    /// Everything received so far, oldest first.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.inner.lock().map(|i| i.arrivals.clone()).unwrap_or_default()
    }

    /// The receiver's routes.
    pub fn router(self) -> Router {
        Router::new()
            .route("/_local/webhooks", get(page))
            .route("/_local/webhooks.json", get(list))
            .route("/_local/webhooks/{name}", post(receive))
            .route("/_local/webhooks/{name}/fail", post(fail))
            .with_state(self)
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let Some(secret) = receiver.secrets.get(&name) else {
        return (
            StatusCode::NOT_FOUND,
            format!("no hook {name}: add baton/webhooks/{name} to infra/local/secrets.local.json"),
        )
            .into_response();
    };
    let now = chrono::Utc::now();
    let check = webhook::verify(secret, header("baton-signature").as_deref(), &body, now.timestamp());
    let Ok(mut inner) = receiver.inner.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (answered, refused, text) = match &check {
        Err(problem) => (401, Some(problem.to_string()), format!("refused: {problem}")),
        Ok(()) => match inner.failures.get_mut(&name) {
            Some((n, only)) if *n > 0 && only.as_ref().is_none_or(|e| header("baton-event").as_ref() == Some(e)) => {
                *n -= 1;
                (
                    500,
                    None,
                    "failing on purpose (POST /_local/webhooks/{name}/fail)".to_string(),
                )
            }
            _ => (200, None, "ok".to_string()),
        },
    };
    inner.arrivals.push(Arrival {
        hook: name,
        at: now,
        event: header("baton-event"),
        delivery: header("baton-delivery"),
        verified: check.is_ok(),
        refused,
        answered,
        body: serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into())),
    });
    (StatusCode::from_u16(answered).unwrap_or(StatusCode::OK), text).into_response()
}

#[derive(Deserialize)]
struct Times {
    times: Option<u32>,
    /// Fail only deliveries of this event (`release.created`), so a test is not raced by others.
    event: Option<String>,
}

async fn fail(State(receiver): State<Receiver>, UrlPath(name): UrlPath<String>, Query(q): Query<Times>) -> Response {
    let times = q.times.unwrap_or(1);
    if let Ok(mut inner) = receiver.inner.lock() {
        inner.failures.insert(name.clone(), (times, q.event.clone()));
    }
    axum::Json(json!({ "hook": name, "failNext": times, "event": q.event })).into_response()
}

async fn list(State(receiver): State<Receiver>) -> Response {
    axum::Json(receiver.arrivals()).into_response()
}

async fn page(State(receiver): State<Receiver>) -> Html<String> {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">\
         <title>Local webhooks · Baton</title></head><body><h1>Webhooks received</h1>",
    );
    let arrivals = receiver.arrivals();
    if arrivals.is_empty() {
        html.push_str("<p><em>Nothing yet.</em></p>");
    }
    for a in arrivals.iter().rev() {
        let verdict = match &a.refused {
            Some(why) => format!("refused (401): {}", escape(why)),
            None => format!("signature verified; answered {}", a.answered),
        };
        html.push_str(&format!(
            "<section><h2>{} · {}</h2><p>{} · delivery {} · {verdict}</p><pre>{}</pre></section>",
            escape(&a.hook),
            escape(a.event.as_deref().unwrap_or("(no event)")),
            a.at.to_rfc3339(),
            escape(a.delivery.as_deref().unwrap_or("-")),
            escape(&serde_json::to_string_pretty(&a.body).unwrap_or_default()),
        ));
    }
    html.push_str("</body></html>");
    Html(html)
}
