//! `make bench`: Baton's measured figures. Each figure is the median of repeated runs with
//! its spread (min–max).
//!
//! - `init`: each function's cold start (init time, peak RSS) against a local Runtime API,
//!   its zip size from `make package`, and a Python 3 + boto3 baseline measured the same way;
//! - `pages`: deploy a 2,000-file, 50 MB site to the Cloudflare Pages simulator with the real
//!   client; report time and HTTP requests; a second deploy of the same site uploads nothing.

use std::time::{Duration, Instant};

mod init;

use anyhow::{Result, ensure};
use baton_cloudflare::{DeployOptions, PagesClient, SiteFiles};

/// Files in the benchmark site.
const FILES: usize = 2_000;
/// Bytes in the benchmark site.
const TOTAL_BYTES: usize = 50 * 1024 * 1024;
/// Runs per figure.
const RUNS: usize = 3;

/// A deterministic site: `FILES` files adding up to `TOTAL_BYTES`, every file distinct.
fn site(seed: u64) -> Result<SiteFiles> {
    let per_file = TOTAL_BYTES / FILES;
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut files = vec![("index.html".to_string(), b"<!doctype html><h1>bench</h1>".to_vec())];
    for i in 1..FILES {
        let mut body = Vec::with_capacity(per_file);
        while body.len() < per_file {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            body.extend_from_slice(&state.to_le_bytes());
        }
        body.truncate(per_file);
        files.push((format!("assets/chunk-{i:04}.js"), body));
    }
    Ok(SiteFiles::from_files(files)?)
}

fn summary(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    (values[values.len() / 2], values[0], values[values.len() - 1])
}

async fn pages() -> Result<()> {
    let mut first_secs = Vec::new();
    let mut first_requests = Vec::new();
    let mut second_secs = Vec::new();
    let mut second_requests = Vec::new();
    let mut uploaded_bytes = 0;
    for run in 0..RUNS {
        let config = baton_sim_cloudflare::SimConfig {
            step_delay: Duration::ZERO,
            ..Default::default()
        };
        let sim = baton_sim_cloudflare::start(config.clone(), 0).await?;
        let client = PagesClient::new(sim.url(), &config.api_token, &config.account_id)?;
        let options = DeployOptions::new("baton-demo").branch("bench");
        let files = site(run as u64)?;
        let started = Instant::now();
        let first = client.deploy(&options, files).await?;
        first_secs.push(started.elapsed().as_secs_f64());
        let after_first = client.requests_made();
        first_requests.push(after_first as f64);
        ensure!(
            first.uploaded_files == FILES,
            "first deploy uploaded {} of {FILES} files",
            first.uploaded_files
        );
        uploaded_bytes = first.uploaded_bytes;
        let started = Instant::now();
        let second = client.deploy(&options, site(run as u64)?).await?;
        second_secs.push(started.elapsed().as_secs_f64());
        second_requests.push((client.requests_made() - after_first) as f64);
        ensure!(
            second.uploaded_files == 0,
            "the second deploy uploaded {} files",
            second.uploaded_files
        );
        sim.stop().await;
    }
    let row = |name: &str, unit: &str, values: &mut Vec<f64>| {
        let (median, min, max) = summary(values);
        println!("| {name:<44} | {median:>10.2} {unit:<8} | {min:>8.2} – {max:<8.2} |");
    };
    println!(
        "\nCloudflare Pages deploy, {FILES} files, {} MB, to the simulator ({RUNS} runs)\n",
        uploaded_bytes / 1_000_000
    );
    println!("| {:<44} | {:>19} | {:>19} |", "figure", "median", "spread");
    println!("|{}|{}|{}|", "-".repeat(46), "-".repeat(21), "-".repeat(21));
    row("first deploy: time", "s", &mut first_secs);
    row("first deploy: HTTP requests", "requests", &mut first_requests);
    row("second deploy (unchanged): time", "s", &mut second_secs);
    row(
        "second deploy (unchanged): HTTP requests",
        "requests",
        &mut second_requests,
    );
    println!("\nThe second deploy uploaded 0 files in every run.");
    Ok(())
}

/// Runs per cold-start figure.
const STARTS: usize = 15;

async fn cold_starts() -> Result<()> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    // `cargo build --profile bench` writes to target/release (the bench profile's directory).
    let profile = std::env::var("BATON_BENCH_DIR").unwrap_or_else(|_| "release".into());
    println!(
        "\nCold start per function ({STARTS} starts each; binaries from target/{profile}, zips from make package)\n"
    );
    println!(
        "| {:<16} | {:>10} | {:>17} | {:>13} | {:>9} |",
        "function", "init (ms)", "init spread (ms)", "peak RSS (MiB)", "zip (MB)"
    );
    println!(
        "|{}|{}|{}|{}|{}|",
        "-".repeat(18),
        "-".repeat(12),
        "-".repeat(19),
        "-".repeat(15),
        "-".repeat(11)
    );
    let mut slowest: f64 = 0.0;
    for name in init::FUNCTIONS {
        let program = init::binary(&root, &profile, name);
        if !program.exists() {
            println!("| {name:<16} | not built: cargo build --profile bench -p {name} |");
            continue;
        }
        let (mut times, mut rss) = (Vec::new(), Vec::new());
        for _ in 0..STARTS {
            let start = init::cold_start(&program, &[]).await?;
            times.push(start.init.as_secs_f64() * 1000.0);
            rss.push(start.peak_rss_mib);
        }
        let (median, min, max) = summary(&mut times);
        let (rss_median, _, _) = summary(&mut rss);
        slowest = slowest.max(median);
        let zip = init::zip_size(&root, name)
            .map(|b| format!("{:.2}", b as f64 / 1_000_000.0))
            .unwrap_or_else(|| "-".into());
        println!("| {name:<16} | {median:>10.2} | {min:>7.2} – {max:<7.2} | {rss_median:>13.1} | {zip:>9} |");
    }
    let python = root.join(".venv/bin/python3");
    let script = root.join("tests/bench/baseline.py");
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..STARTS {
        let start = init::cold_start(&python, &[script.to_str().unwrap_or_default()]).await?;
        times.push(start.init.as_secs_f64() * 1000.0);
        rss.push(start.peak_rss_mib);
    }
    let (median, min, max) = summary(&mut times);
    let (rss_median, _, _) = summary(&mut rss);
    println!(
        "| {:<16} | {median:>10.2} | {min:>7.2} – {max:<7.2} | {rss_median:>13.1} | {:>9} |",
        "python+boto3", "-"
    );
    if slowest > 0.0 {
        println!(
            "\nThe slowest Rust function starts {:.0}x faster than the Python + boto3 baseline.",
            median / slowest
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let all = which.is_empty();
    if all || which.iter().any(|w| w == "init") {
        cold_starts().await?;
    }
    if all || which.iter().any(|w| w == "pages") {
        pages().await?;
    }
    Ok(())
}
