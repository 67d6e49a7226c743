//! Cold start: each function binary's init time (process start until its first request to the
//! Lambda Runtime API) and peak memory at that point, against a local Runtime API endpoint;
//! and the same for a Python 3 handler that imports boto3 and creates the same clients.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::process::Command;

/// The Lambda functions, by binary name.
pub const FUNCTIONS: [&str; 7] = [
    "ingest",
    "notify",
    "approve",
    "lifecycle",
    "deploy-pages",
    "deploy-cloudhub",
    "status",
];

/// One cold start.
pub struct Start {
    /// Process start to first `GET .../invocation/next`.
    pub init: Duration,
    /// Peak resident memory at that moment (VmHWM), in MiB.
    pub peak_rss_mib: f64,
}

/// Starts `program` as Lambda would and measures until it asks for its first event.
pub async fn cold_start(program: &Path, args: &[&str]) -> Result<Start> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let api = listener.local_addr()?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("BATON_TABLE", "baton-Table")
        .env("BATON_BUCKET", "baton-artefacts")
        .env(
            "BATON_STATE_MACHINE_ARN",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:baton",
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id().context("no pid")?;
    let accepted = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let (mut socket, _) = listener.accept().await?;
            let mut buffer = [0u8; 1024];
            let n = socket.read(&mut buffer).await?;
            if String::from_utf8_lossy(&buffer[..n]).contains("/runtime/invocation/next") {
                return Ok::<_, anyhow::Error>(started.elapsed());
            }
        }
    })
    .await;
    let init = match accepted {
        Ok(result) => result?,
        Err(_) => bail!("{} never asked the Runtime API for an event", program.display()),
    };
    let peak_rss_mib = peak_rss_mib(pid).unwrap_or(f64::NAN);
    let _ = child.kill().await;
    Ok(Start { init, peak_rss_mib })
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Where `cargo build --profile <profile>` put the function binaries.
pub fn binary(root: &Path, profile: &str, name: &str) -> PathBuf {
    root.join("target").join(profile).join(name)
}

/// The size of a function's Lambda zip from `make package`, if built.
pub fn zip_size(root: &Path, name: &str) -> Option<u64> {
    std::fs::metadata(root.join("target/lambda").join(name).join("bootstrap.zip"))
        .ok()
        .map(|m| m.len())
}
