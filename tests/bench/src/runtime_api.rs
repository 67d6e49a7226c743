//! A local Lambda Runtime API: a function's real binary asks it for events, as it would ask
//! Lambda, and `make bench` hands it the events it wants measured.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};

/// What the function answered: its response, or its error document.
type Answer = Result<Value, Value>;

struct Invocation {
    event: Value,
    answer: oneshot::Sender<Answer>,
}

struct Shared {
    queue: Mutex<mpsc::Receiver<Invocation>>,
    waiting: std::sync::Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    next_id: AtomicU64,
    /// How many times the function has asked for an event.
    polls: tokio::sync::watch::Sender<u64>,
}

/// A running Runtime API endpoint.
pub struct RuntimeApi {
    address: SocketAddr,
    events: mpsc::Sender<Invocation>,
    polls: tokio::sync::watch::Receiver<u64>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves the Runtime API on a free local port.
    pub async fn start() -> Result<RuntimeApi> {
        let (events, queue) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            waiting: std::sync::Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            polls: tokio::sync::watch::Sender::new(0),
        });
        let polls = shared.polls.subscribe();
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(RuntimeApi {
            address,
            events,
            polls,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Waits until the function has asked for an event `count` times in all: after its init
    /// (`count` 1), or once it has finished an invocation and waits for the next, idle.
    pub async fn polled(&self, count: u64) -> Result<()> {
        let mut polls = self.polls.clone();
        tokio::time::timeout(std::time::Duration::from_secs(30), polls.wait_for(|n| *n >= count))
            .await
            .context("the function did not ask for an event within 30 s")?
            .map_err(|_| anyhow!("the Runtime API has stopped"))?;
        Ok(())
    }

    /// Delivers `event` to the function and waits for its answer; a function error is an error.
    pub async fn invoke(&self, event: Value) -> Result<Value> {
        let (answer, answered) = oneshot::channel();
        self.events
            .send(Invocation { event, answer })
            .await
            .map_err(|_| anyhow!("the Runtime API has stopped"))?;
        match answered.await.context("the function never answered")? {
            Ok(response) => Ok(response),
            Err(error) => bail!("the function failed: {error}"),
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.polls.send_modify(|n| *n += 1);
    let Some(invocation) = shared.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let id = format!("bench-{}", shared.next_id.fetch_add(1, Ordering::Relaxed));
    if let Ok(mut waiting) = shared.waiting.lock() {
        waiting.insert(id.clone(), invocation.answer);
    }
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 900_000)
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:bench".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".into(),
    );
    set("content-type", "application/json".into());
    (headers, invocation.event.to_string()).into_response()
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> StatusCode {
    let sender = shared.waiting.lock().ok().and_then(|mut w| w.remove(id));
    match sender {
        Some(sender) => {
            let _ = sender.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    answer(&shared, &id, Ok(value))
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    answer(&shared, &id, Err(value))
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("function init failed: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}
