//! The fault battery (issue 14): each case injects faults at the runner's AWS endpoint or in a
//! simulator, lets Baton run, and ends with every release in a terminal or waiting state that its
//! page explains, no release lost or duplicated, no lease left held and no dead letter for a
//! package's own fault. One test runs the cases (a few at a time, each on its own stack) and
//! prints the table the issue asks for.
//!
//! A case lives in `faults/<area>.rs` as `pub async fn <case>() -> Result<Outcome>`; it makes
//! its own assertions about what the fault should do, waits until Baton has settled, and hands
//! the stack back here to be tallied the same way for every case.

use std::time::Duration;

use anyhow::{Result, bail};
use baton_e2e::{Harness, number, text};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

#[path = "faults/decisions.rs"]
mod decisions;
#[path = "faults/ingest.rs"]
mod ingest;
#[path = "faults/platforms.rs"]
mod platforms;
#[path = "faults/workflow.rs"]
mod workflow;

/// What a case hands back to be tallied.
pub struct Outcome {
    /// Faults injected (requests answered with an error, processes killed, executions stopped).
    pub faults: u64,
    /// Releases the case's uploads should have made, each exactly once.
    pub expected_releases: usize,
    /// The stack, settled.
    pub harness: Harness,
}

/// One row of the table.
struct Row {
    case: &'static str,
    faults: u64,
    completed: usize,
    lost: usize,
    duplicated: usize,
    stuck: usize,
    locks_left: usize,
    dead_letters: u64,
}

/// Statuses a release may rest in: finished, or waiting on a person.
const SETTLED: [&str; 9] = [
    "awaiting-approval",
    "released",
    "rejected",
    "expired",
    "superseded",
    "failed",
    "rolled-back",
    "blocked",
    "stopped",
];

async fn tally(case: &'static str, outcome: Outcome) -> Result<Row> {
    let h = &outcome.harness;
    let releases = h.releases().await?;
    let mut numbers: Vec<u64> = releases.iter().map(|r| number(r, "number")).collect();
    numbers.sort_unstable();
    let distinct = {
        let mut d = numbers.clone();
        d.dedup();
        d.len()
    };
    let mut hashes: Vec<String> = releases.iter().map(|r| text(r, "content_hash")).collect();
    hashes.sort();
    hashes.dedup();
    let duplicated = (releases.len() - distinct) + (distinct - hashes.len().min(distinct));
    let mut completed = 0;
    let mut stuck = 0;
    for release in &releases {
        let status = text(release, "status");
        let page = h.get(&format!("/releases/{}", text(release, "id"))).await?;
        if SETTLED.contains(&status.as_str()) && page.status == 200 {
            completed += 1;
        } else {
            stuck += 1;
            eprintln!(
                "{case}: release {} rests in '{status}' (page {})",
                text(release, "id"),
                page.status
            );
        }
    }
    let locks_left = h.leases_held().await?.len();
    Ok(Row {
        case,
        faults: outcome.faults,
        completed,
        lost: outcome.expected_releases.saturating_sub(releases.len()),
        duplicated,
        stuck,
        locks_left,
        dead_letters: h.dead_letters().await?,
    })
}

/// A case's name and how to run it.
type Case = (
    &'static str,
    fn() -> Pin<Box<dyn Future<Output = Result<Outcome>> + Send>>,
);

/// Every case, by name.
fn cases() -> Vec<Case> {
    vec![
        ("execution stopped by hand", || {
            Box::pin(workflow::execution_stopped_by_hand())
        }),
        ("functions' host killed mid-deployment", || {
            Box::pin(workflow::host_killed_mid_deployment())
        }),
        ("Lambda refusing 2 invocations", || {
            Box::pin(workflow::lambda_refusing_invocations())
        }),
        ("DynamoDB throttling 12 requests", || {
            Box::pin(workflow::dynamodb_throttling())
        }),
        ("lease held past its expiry", || {
            Box::pin(workflow::lease_held_past_expiry())
        }),
        ("SendTaskSuccess failing twice", || {
            Box::pin(decisions::send_task_success_fails_twice())
        }),
        ("SES refusing every approval mail", || {
            Box::pin(decisions::ses_refusing())
        }),
        ("Cloudflare 429 storm", || Box::pin(platforms::cloudflare_429_storm())),
        ("Cloudflare 5xx storm", || Box::pin(platforms::cloudflare_5xx_storm())),
        ("Anypoint 429 storm", || Box::pin(platforms::anypoint_429_storm())),
        ("Anypoint 5xx storm", || Box::pin(platforms::anypoint_5xx_storm())),
        ("rotated token is refreshed", || {
            Box::pin(platforms::rotated_token_is_refreshed())
        }),
        ("refused token fails clearly", || {
            Box::pin(platforms::refused_token_fails_clearly())
        }),
        ("zip bomb", || Box::pin(ingest::zip_bomb())),
        ("nested zip bomb", || Box::pin(ingest::nested_zip_bomb())),
        ("million-entry zip", || Box::pin(ingest::million_entry_zip())),
        ("YAML alias bomb", || Box::pin(ingest::yaml_alias_bomb())),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_leaves_every_release_whole() -> Result<()> {
    // Three stacks at a time: each case waits mostly on timers, not on the two cores.
    let slots = Arc::new(tokio::sync::Semaphore::new(3));
    let mut running = tokio::task::JoinSet::new();
    // `FAULT_CASES=lease` runs only the cases whose names contain "lease" (while working on one).
    let only = std::env::var("FAULT_CASES").unwrap_or_default();
    let chosen = cases().into_iter().filter(|(case, _)| case.contains(only.as_str()));
    for (order, (case, run)) in chosen.enumerate() {
        let slots = slots.clone();
        running.spawn(async move {
            let _slot = slots.acquire_owned().await?;
            let outcome = tokio::time::timeout(Duration::from_secs(300), run())
                .await
                .map_err(|_| anyhow::anyhow!("{case}: did not settle within 300 s"))?
                .map_err(|e| e.context(case))?;
            Ok::<_, anyhow::Error>((order, tally(case, outcome).await?))
        });
    }
    let mut rows = Vec::new();
    while let Some(joined) = running.join_next().await {
        rows.push(joined?);
    }
    rows.sort_by_key(|r| r.as_ref().map(|(order, _)| *order).unwrap_or(usize::MAX));
    let rows = rows.into_iter().map(|r| r.map(|(_, row)| row));
    let mut failures = Vec::new();
    println!(
        "\n| case | faults injected | releases completed | lost | duplicated | stuck | locks left | dead letters |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let (mut faults, mut completed) = (0, 0);
    for row in rows {
        match row {
            Ok(r) => {
                println!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.case, r.faults, r.completed, r.lost, r.duplicated, r.stuck, r.locks_left, r.dead_letters
                );
                faults += r.faults;
                completed += r.completed;
                if r.lost + r.duplicated + r.stuck + r.locks_left > 0 || r.dead_letters > 0 || r.faults == 0 {
                    failures.push(r.case.to_string());
                }
            }
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    println!("| **all** | {faults} | {completed} | | | | | |");
    if !failures.is_empty() {
        bail!("cases that did not leave every release whole: {failures:?}");
    }
    Ok(())
}
