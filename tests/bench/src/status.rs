//! Status: the handler's time and its DynamoDB requests per call with 100 and with 10,000
//! releases in the table. Both should stay the same: every route reads a bounded page through
//! a Query, never a Scan.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use baton_domain::release::ReleaseStatus;
use baton_e2e::Harness;
use baton_e2e::baton_local::StackOptions;
use baton_e2e::status::dynamodb_only;

use crate::table::{Report, Target, median};

/// Timed calls per route and size.
const CALLS: usize = 20;
/// The two table sizes compared.
const SIZES: [u64; 2] = [100, 10_000];

/// The routes measured at `size` releases: the overview, the release list, one release from the
/// middle of history.
fn routes(size: u64) -> [(&'static str, String); 3] {
    [
        ("/", "/".to_string()),
        ("/api/releases", "/api/releases".to_string()),
        ("/api/releases/{id}", format!("/api/releases/rel-{}", size / 2)),
    ]
}

/// Handler time (ms, from the local HTTP API's `Server-Timing`) and DynamoDB requests of one GET.
async fn call(h: &Harness, client: &reqwest::Client, path: &str) -> Result<(f64, f64)> {
    let before = dynamodb_only(h.stack.aws_requests.snapshot());
    let answer = client.get(format!("{}{path}", h.stack.http_url)).send().await?;
    if !answer.status().is_success() {
        bail!("GET {path}: {}", answer.status());
    }
    let timing = answer
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("dur=").nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .context("the local HTTP API sent no Server-Timing")?;
    answer.bytes().await?;
    let after = dynamodb_only(h.stack.aws_requests.snapshot());
    let requests: u64 = after
        .iter()
        .map(|(op, n)| n - before.get(op).copied().unwrap_or(0))
        .sum();
    Ok((timing, requests as f64))
}

/// Per route: (handler times, request counts) at the current size.
async fn measure_routes(h: &Harness, size: u64) -> Result<BTreeMap<&'static str, (Vec<f64>, Vec<f64>)>> {
    let client = reqwest::Client::new();
    let mut out = BTreeMap::new();
    for (name, path) in routes(size) {
        call(h, &client, &path).await?; // warm: the first call of a fresh handler reads baton.yaml
        let (mut times, mut requests) = (Vec::new(), Vec::new());
        for _ in 0..CALLS {
            let (ms, n) = call(h, &client, &path).await?;
            times.push(ms);
            requests.push(n);
        }
        out.insert(name, (times, requests));
    }
    Ok(out)
}

/// Measures both sizes into `report`.
pub async fn measure(report: &mut Report) -> Result<()> {
    let h = Harness::start_with(StackOptions {
        pages_stage_delay: Duration::ZERO,
        cloudhub_apply_delay: Duration::ZERO,
        ..StackOptions::ephemeral()
    })
    .await?;
    // A real release, waiting for TEST sign-off: its workflow is idle, so the only DynamoDB
    // requests from now on are the ones measured. The rest are copies of it.
    let model = h.release_samples("1.0.0", 1).await?;
    h.approval_links(model.number, "TEST").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut seeded = model.clone();
    seeded.status = ReleaseStatus::Released;
    let mut measured = Vec::new();
    let mut seeded_up_to = model.number;
    for size in SIZES {
        h.seed_releases(&seeded, seeded_up_to + 1..=size).await?;
        seeded_up_to = size;
        measured.push(measure_routes(&h, size).await?);
    }
    report.section(format!(
        "Status: handler time and DynamoDB requests per call, {CALLS} calls per route, at {} and {} releases",
        SIZES[0], SIZES[1]
    ));
    let (few, many) = (&measured[0], &measured[1]);
    for (route, _) in routes(0) {
        let (few_times, few_requests) = &few[route];
        let (many_times, many_requests) = &many[route];
        report.samples(
            format!("GET {route} at {}: handler time", SIZES[0]),
            "ms",
            few_times,
            Target::None,
        );
        report.samples(
            format!("GET {route} at {}: handler time", SIZES[1]),
            "ms",
            many_times,
            Target::None,
        );
        report.value(
            format!("GET {route}: handler time, {} / {}", SIZES[1], SIZES[0]),
            "",
            median(many_times).0 / median(few_times).0,
            Target::AboutOne(0.25),
        );
        report.samples(
            format!("GET {route} at {}: DynamoDB requests", SIZES[1]),
            "",
            many_requests,
            Target::None,
        );
        report.value(
            format!("GET {route}: DynamoDB requests, {} / {}", SIZES[1], SIZES[0]),
            "",
            median(many_requests).0 / median(few_requests).0,
            Target::AboutOne(0.0),
        );
    }
    h.stack.stop().await;
    Ok(())
}
