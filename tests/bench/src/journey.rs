//! End to end on the local stack, with simulators that answer at once: from a CI upload to the
//! approval mail sent, and from the approval click to the release live in TEST.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_domain::ReleaseId;
use baton_e2e::Harness;
use baton_e2e::baton_local::StackOptions;

use crate::table::{Report, Target};

/// Releases timed, after one that warms the stack.
const RUNS: usize = 5;
/// The longest a step may take before the run is declared broken.
const STEP_LIMIT: Duration = Duration::from_secs(120);

/// Waits until the outbox holds the TEST approval mail of release `number`; returns its link.
async fn approval_mail(h: &Harness, number: u64) -> Result<String> {
    let subject = format!("Approve release {number} for TEST?");
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        let link = h.stack.outbox.lock().ok().and_then(|mails| {
            mails
                .iter()
                .find(|m| m.subject.contains(&subject))
                .and_then(|m| m.links.first().cloned())
        });
        if let Some(link) = link {
            return Ok(link);
        }
        if Instant::now() > deadline {
            bail!("no mail '{subject}' within {} s", STEP_LIMIT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until release `number` is live in TEST.
async fn live_in_test(h: &Harness, number: u64) -> Result<()> {
    let want = ReleaseId::from_number(number);
    let deadline = Instant::now() + STEP_LIMIT;
    while h.environment("TEST").await?.current.map(|c| c.release_id) != Some(want.clone()) {
        if Instant::now() > deadline {
            bail!("release {number} not live in TEST within {} s", STEP_LIMIT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Approves from `link` as the release manager would, pressing the button.
async fn approve(h: &Harness, link: &str) -> Result<()> {
    let page = h.decide(link, "approve", "make bench").await?;
    if page.status != 200 {
        bail!("approving answered {}: {}", page.status, page.body);
    }
    Ok(())
}

/// Measures both latencies into `report`.
pub async fn measure(report: &mut Report) -> Result<()> {
    let h = Harness::start_with(StackOptions {
        pages_stage_delay: Duration::ZERO,
        cloudhub_apply_delay: Duration::ZERO,
        ..StackOptions::ephemeral()
    })
    .await?;
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
