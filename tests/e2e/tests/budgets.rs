//! The AWS requests and state transitions of one release's journey (upload to released in TEST
//! and PROD) stay within the budget recorded in `tests/e2e/request-budget.json` (issue 18,
//! item 2). A change that needs more raises the budget there, in the same commit, saying why.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use baton_e2e::Harness;
use baton_e2e::baton_local::StackOptions;
use serde::Deserialize;

/// The recorded budget.
#[derive(Debug, Deserialize)]
struct Budget {
    /// Most requests ingest may make for one new upload that makes a release.
    ingest_requests_per_new_upload: u64,
    /// Most state transitions of the release's execution.
    state_transitions: u64,
    /// Most requests per service, every function together.
    requests_by_service: BTreeMap<String, u64>,
}

fn budget() -> Result<Budget> {
    let path = baton_e2e::baton_local::repository_root().join("tests/e2e/request-budget.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_journey_stays_within_its_request_budget() -> Result<()> {
    let budget = budget()?;
    let h = Harness::start_with(StackOptions::ephemeral().without_delays()).await?;
    let usage = h.measure_release_journey().await?;
    println!("one release, upload to released in TEST and PROD:\n{}", usage.table());
    println!("by service: {:?}", usage.by_service());

    let mut over = Vec::new();
    let ingest = usage.of_function("ingest");
    if ingest > budget.ingest_requests_per_new_upload {
        over.push(format!(
            "ingest made {ingest} requests for one new upload; the budget is {}",
            budget.ingest_requests_per_new_upload
        ));
    }
    if usage.state_transitions > budget.state_transitions {
        over.push(format!(
            "the execution made {} state transitions; the budget is {}",
            usage.state_transitions, budget.state_transitions
        ));
    }
    for (service, n) in usage.by_service() {
        match budget.requests_by_service.get(&service) {
            Some(max) if n > *max => over.push(format!("{n} {service} requests; the budget is {max}")),
            Some(_) => {}
            None => over.push(format!("{n} {service} requests; the budget names no {service}")),
        }
    }
    assert!(
        over.is_empty(),
        "over the budget in tests/e2e/request-budget.json:\n  {}\n(raise it there only if the change needs it, and say why)\n{}",
        over.join("\n  "),
        usage.table()
    );
    // The journey really ran: each part did its work.
    for function in ["ingest", "lifecycle", "notify", "approve", "deploy-pages"] {
        assert!(
            usage.of_function(function) > 0,
            "{function} made no request:\n{}",
            usage.table()
        );
    }
    assert!(usage.state_transitions > 0);
    Ok(())
}
