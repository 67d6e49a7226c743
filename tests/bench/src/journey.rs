//! End to end on the local stack, with simulators that answer at once: from a CI upload to the
//! approval mail sent, and from the approval click to the release live in TEST.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_e2e::Harness;
use baton_e2e::baton_local::StackOptions;
use baton_e2e::usage::JourneyUsage;

use crate::table::{Report, Target};

/// Releases timed, after one that warms the stack.
const RUNS: usize = 5;

/// The TEST approval link of release `number`, once mailed.
async fn approval_mail(h: &Harness, number: u64) -> Result<String> {
    let links = h.approval_links(number, "TEST").await?;
    links
        .into_iter()
        .next()
        .map(|(_, link)| link)
        .context("no approval link")
}

/// Waits until release `number` is live in TEST, looking often enough to time it.
async fn live_in_test(h: &Harness, number: u64) -> Result<()> {
    h.wait_live_polling("TEST", number, Duration::from_millis(20)).await
}

/// Approves from `link` as the release manager would, pressing the button.
async fn approve(h: &Harness, link: &str) -> Result<()> {
    let page = h.decide(link, "approve", "make bench").await?;
    if page.status != 200 {
        bail!("approving answered {}: {}", page.status, page.body);
    }
    Ok(())
}

/// Counts one release's AWS requests and state transitions (upload to released in TEST and
/// PROD, on a stack of its own) into `report`; the usage, for the cost part.
pub async fn measure_requests(report: &mut Report) -> Result<JourneyUsage> {
    let h = Harness::start_with(StackOptions::ephemeral().without_delays()).await?;
    let usage = h.measure_release_journey().await?;
    h.stack.stop().await;
    report.section(
        "Requests per release: one new site version, upload to released in TEST and PROD (budget: tests/e2e/request-budget.json)",
    );
    report.value(
        "ingest: AWS requests for the new upload",
        "",
        usage.of_function("ingest") as f64,
        Target::AtMost(5.0),
    );
    for (service, n) in usage.by_service() {
        report.value(format!("{service} requests"), "", n as f64, Target::None);
    }
    report.value(
        "Step Functions state transitions",
        "",
        usage.state_transitions as f64,
        Target::None,
    );
    report.note(format!(
        "One release's requests by function and operation:\n\n```\n{}```",
        usage.table()
    ));
    Ok(usage)
}

/// Measures both latencies into `report`.
pub async fn measure(report: &mut Report) -> Result<()> {
    let h = Harness::start_with(StackOptions::ephemeral().without_delays()).await?;
    // Warm-up: the first release creates the CloudHub applications and the Pages branch, and
    // every handler reads baton.yaml once.
    let first = h.release_samples("1.0.0", 1).await?;
    approve(&h, &approval_mail(&h, first.number).await?).await?;
    live_in_test(&h, first.number).await?;

    let site =
        baton_e2e::baton_local::demo::zip_folder(&baton_e2e::baton_local::repository_root().join("samples/web/site"))?;
    let (mut to_mail, mut to_live) = (Vec::new(), Vec::new());
    let mut number = first.number;
    for run in 1..=RUNS {
        number += 1;
        let key = format!("packages/web/1.0.{run}/site.zip");
        let started = Instant::now();
        h.upload(&key, site.clone(), &[("commit", "bench01"), ("notes", "make bench")])
            .await
            .context("uploading the site")?;
        let link = approval_mail(&h, number).await?;
        to_mail.push(started.elapsed().as_secs_f64());
        let clicked = Instant::now();
        approve(&h, &link).await?;
        live_in_test(&h, number).await?;
        to_live.push(clicked.elapsed().as_secs_f64());
    }
    report.section(format!(
        "End to end on the local stack, simulators without delay: {RUNS} releases of a new site version, after one warm-up"
    ));
    report.samples("upload → approval mail sent", "s", &to_mail, Target::None);
    report.samples("approval click → live in TEST", "s", &to_live, Target::None);
    h.stack.stop().await;
    Ok(())
}
