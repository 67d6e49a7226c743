//! Deploys a 2,000-file, 50 MB site to the Cloudflare Pages simulator with the real client, then
//! the same site again: the time and HTTP requests of each, and the second uploads nothing.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use baton_cloudflare::{DeployOptions, PagesClient, SiteFiles};

use crate::table::{Report, Target};

/// Files in the benchmark site.
const FILES: usize = 2_000;
/// Bytes in the benchmark site.
const TOTAL_BYTES: usize = 50 * 1024 * 1024;
/// Runs.
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

/// Measures both deploys into `report`.
pub async fn measure(report: &mut Report) -> Result<()> {
    let (mut first_secs, mut first_requests) = (Vec::new(), Vec::new());
    let (mut second_secs, mut second_requests) = (Vec::new(), Vec::new());
    let mut uploaded_bytes = 0;
    for run in 0..RUNS {
        let config = baton_sim_cloudflare::SimConfig {
            step_delay: Duration::ZERO,
            ..Default::default()
        };
        let sim = baton_sim_cloudflare::start(config.clone(), 0).await?;
        let client = PagesClient::new(sim.url(), &config.api_token, &config.account_id)?;
        let options = DeployOptions::new("baton-demo").branch("bench");
        let started = Instant::now();
        let first = client.deploy(&options, site(run as u64)?).await?;
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
    report.section(format!(
        "Cloudflare Pages: deploy {FILES} files, {} MB, to the simulator; then the same site again (uploads 0 files)",
        uploaded_bytes / 1_000_000
    ));
    report.samples("first deploy: time", "s", &first_secs, Target::None);
    report.samples("first deploy: HTTP requests", "", &first_requests, Target::None);
    report.samples("second deploy: time", "s", &second_secs, Target::None);
    report.samples("second deploy: HTTP requests", "", &second_requests, Target::None);
    Ok(())
}
