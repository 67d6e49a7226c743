//! Cold start: each function binary's init time (process start until its first request to the
//! Lambda Runtime API) and peak memory at that point, against a local Runtime API endpoint;
//! the same for a Python 3 handler that imports boto3 and creates the same clients; and each
//! function's zip from `make package`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use crate::process;
use crate::table::{Report, Target, median};

/// The Lambda functions, by binary name.
pub const FUNCTIONS: [&str; 9] = [
    "ingest",
    "notify",
    "approve",
    "lifecycle",
    "deploy-pages",
    "deploy-cloudhub",
    "status",
    "drift",
    "announce",
];

/// Starts per function.
const STARTS: usize = 15;

/// One cold start.
struct Start {
    /// Process start to first `GET .../invocation/next`.
    init: Duration,
    /// Peak resident memory at that moment, in MB.
    peak_rss_mb: f64,
}

/// Starts `program` as Lambda would and measures until it asks for its first event.
async fn cold_start(program: &Path, args: &[&str]) -> Result<Start> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let api = listener.local_addr()?.to_string();
    let started = Instant::now();
    let mut child = process::lambda_command(program, args, &api, &BTreeMap::new())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id().context("no pid")?;
    let accepted = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let (mut socket, _) = listener.accept().await?;
            let mut buffer = [0u8; 1024];
            let n = socket.read(&mut buffer).await?;
            if String::from_utf8_lossy(&buffer[..n]).contains("/runtime/invocation/next") {
                return Ok::<_, anyhow::Error>((started.elapsed(), socket));
            }
        }
    })
    .await;
    // The request's connection stays open until the memory is read: closed, the runtime
    // would see an error and exit (at once, on a single-threaded runtime), taking its
    // `/proc` entry with it.
    let (init, _waiting) = match accepted {
        Ok(result) => result?,
        Err(_) => bail!("{} never asked the Runtime API for an event", program.display()),
    };
    let peak_rss_mb = process::peak_rss_mb(pid).unwrap_or(f64::NAN);
    let _ = child.kill().await;
    Ok(Start { init, peak_rss_mb })
}

/// `STARTS` cold starts of `program`: init times in ms and peak RSS in MB.
async fn starts(program: &Path, args: &[&str]) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut times, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..STARTS {
        let start = cold_start(program, args).await?;
        times.push(start.init.as_secs_f64() * 1000.0);
        rss.push(start.peak_rss_mb);
    }
    Ok((times, rss))
}

/// Where `cargo build --profile <profile>` put the function binaries.
pub fn binary(root: &Path, profile: &str, name: &str) -> PathBuf {
    target_dir(root).join(profile).join(name)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set, as cargo reads it.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// The size of a function's Lambda zip from `make package`.
fn zip_size(root: &Path, name: &str) -> Result<u64> {
    let path = target_dir(root).join("lambda").join(name).join("bootstrap.zip");
    std::fs::metadata(&path)
        .map(|m| m.len())
        .with_context(|| format!("{} is missing: run `make package`", path.display()))
}

/// Measures every function and the Python baseline into `report`.
pub async fn measure(root: &Path, profile: &str, report: &mut Report) -> Result<()> {
    report.section(format!(
        "Cold start: {STARTS} starts per function (target/{profile} binaries), zips from make package"
    ));
    let python = root.join(".venv/bin/python3");
    let script = root.join("tests/bench/baseline.py");
    let script = script.to_str().context("the repository path is not UTF-8")?;
    let (python_times, python_rss) = starts(&python, &[script]).await?;
    let (python_init, _, _) = median(&python_times);
    let mut slowest: Option<(&str, f64)> = None;
    for name in FUNCTIONS {
        let program = binary(root, profile, name);
        if !program.exists() {
            bail!(
                "{} is missing: build it with `cargo build --profile bench -p {name}` (make bench does)",
                program.display()
            );
        }
        let (times, rss) = starts(&program, &[]).await?;
        let (init, _, _) = median(&times);
        if slowest.is_none_or(|(_, ms)| init > ms) {
            slowest = Some((name, init));
        }
        report.samples(format!("{name}: init"), "ms", &times, Target::AtMost(10.0));
        report.samples(format!("{name}: peak RSS"), "MB", &rss, Target::Below(40.0));
        // `make bench` packages first; a part run alone may have no zips yet.
        match zip_size(root, name) {
            Ok(bytes) => report.value(
                format!("{name}: zip"),
                "MB",
                bytes as f64 / 1_000_000.0,
                Target::AtMost(4.0),
            ),
            Err(missing) => report.note(format!("{missing:#}")),
        }
    }
    report.samples("Python 3 + boto3 baseline: init", "ms", &python_times, Target::None);
    report.samples("Python 3 + boto3 baseline: peak RSS", "MB", &python_rss, Target::None);
    if let Some((name, init)) = slowest {
        report.value(
            format!("Python baseline init / slowest function's ({name})"),
            "×",
            python_init / init,
            Target::AtLeast(10.0),
        );
    }
    Ok(())
}
