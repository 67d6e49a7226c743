//! Every loop of the release state machine is bounded (issue 14, item 1): this test derives,
//! from `infra/statemachine/release.asl.json` itself, the history events each part of an
//! execution writes, checks that the domain's [`STEP_COSTS`] (what validation uses) are at least
//! that, and that the worst case of the shipped configuration, and of the most a valid
//! configuration allows, stays under Step Functions' 25,000 events and one year.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail, ensure};
use baton_domain::BatonConfig;
use baton_domain::config::limits::{
    HISTORY_BUDGET, MAX_EXECUTION, MAX_HISTORY_EVENTS, RETRIES_THAT_SUCCEED, STEP_COSTS, StepCosts,
};
use serde_json::Value;

/// The states of the machine, flattened (names are unique across the whole machine).
fn states(asl: &Value) -> BTreeMap<String, Value> {
    fn walk(states: &Value, into: &mut BTreeMap<String, Value>) {
        for (name, state) in states.as_object().into_iter().flatten() {
            into.insert(name.clone(), state.clone());
            for key in ["ItemProcessor", "Iterator"] {
                if let Some(inner) = state.get(key) {
                    walk(&inner["States"], into);
                }
            }
        }
    }
    let mut all = BTreeMap::new();
    walk(&asl["States"], &mut all);
    all
}

/// The events one pass through a state writes, in Step Functions' history (Standard
/// workflows): a task 5 (6 when it waits for a task token), plus 3 per retry before it succeeds;
/// a Map 4 besides its iterations; every other state 2.
fn events_of(state: &Value) -> u64 {
    match state["Type"].as_str() {
        Some("Task") => {
            let waits = state["Resource"]
                .as_str()
                .unwrap_or_default()
                .ends_with(".waitForTaskToken");
            let retries = if state.get("Retry").is_some() {
                RETRIES_THAT_SUCCEED
            } else {
                0
            };
            5 + u64::from(waits) + retries * 3
        }
        Some("Map") => 4,
        _ => 2,
    }
}

/// The costs of the state machine, part by part; every state must belong to a part.
fn derive(all: &BTreeMap<String, Value>) -> Result<StepCosts> {
    let mut seen = BTreeSet::new();
    let mut sum = |names: &[&str]| -> Result<u64> {
        let mut total = 0;
        for name in names {
            let state = all
                .get(*name)
                .with_context(|| format!("the state machine has no state {name}"))?;
            seen.insert(name.to_string());
            total += events_of(state);
        }
        Ok(total)
    };
    let iteration = 2; // MapIterationStarted, MapIterationSucceeded
    let per_execution = 2 // ExecutionStarted, ExecutionSucceeded or Failed
        + sum(&["Prepare", "Environments", "Released", "Done"])?
        // The settle window, and the ending of a release superseded within it (counted besides
        // the others: an upper bound).
        + sum(&["Settle?", "Settle", "Settled", "SettleSuperseded"])?
        // At most one of the other endings.
        + [sum(&["Stopped"])?, sum(&["Failed", "FailedStop"])?, sum(&["DeploymentFailed"])?]
            .into_iter()
            .max()
            .unwrap_or(0);
    let per_round = iteration
        + sum(&[
            "Preflight",
            "PreflightVerdict",
            "RequestApproval",
            "AcquireLease",
            "LeaseAcquired?",
            "Replan",
            "VerifyPlan",
            "CheckGates",
            "PlanChanged",
        ])?;
    let kinds = |checks: [&str; 2], unknown: &str, seen_sum: &mut dyn FnMut(&[&str]) -> Result<u64>| -> Result<u64> {
        Ok(
            [seen_sum(&[checks[0]])?, seen_sum(&[checks[1]])?, seen_sum(&[unknown])?]
                .into_iter()
                .max()
                .unwrap_or(0),
        )
    };
    let preflight = iteration
        + sum(&["PreflightKind?"])?
        + kinds(
            ["PreflightPages", "PreflightCloudHub"],
            "PreflightUnknownKind",
            &mut sum,
        )?;
    let replan =
        iteration + sum(&["ReplanKind?"])? + kinds(["ReplanPages", "ReplanCloudHub"], "ReplanUnknownKind", &mut sum)?;
    let endings: Vec<u64> = [
        ["Expired", "ExpiredStop"],
        ["Rejected", "RejectedStop"],
        ["Superseded", "SupersededStop"],
        ["RolledBack", "RolledBackStop"],
        ["DeployFailed", "DeployFailedStop"],
        ["LeftAsIs", "DeployFailedStop"],
        ["NotDeployed", "NotDeployedStop"],
        ["Blocked", "BlockedStop"],
    ]
    .iter()
    .map(|pair| sum(pair))
    .collect::<Result<_>>()?;
    let per_deployment =
        sum(&["DeployWaves", "Record", "RollbackPlan", "RollBack"])? + endings.into_iter().max().unwrap_or(0);
    // A component alone in its wave pays for the wave too.
    let wave = iteration + sum(&["DeployWave"])?;
    let deploy = iteration
        + sum(&["Kind?"])?
        + [
            sum(&["DeployPages"])?,
            sum(&["StartCloudHub", "CloudHubLive?", "CloudHubLive"])?,
            sum(&["UnknownKind"])?,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
    let rollback = iteration
        + sum(&["RollbackKind?"])?
        + [
            sum(&["NothingToRollBack"])?,
            sum(&["RollbackPages"])?,
            sum(&["RollbackCloudHub", "ComponentRolledBack"])?,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
    // A try that finds the environment frozen, or the chosen time not come, waits until then
    // all the same (lifecycle/lease.rs).
    let lease_wait = [sum(&["WaitForLease"])?, sum(&["WaitUntil"])?]
        .into_iter()
        .max()
        .unwrap_or(0)
        + 5
        + sum(&["LeaseAcquired?"])?;
    // A wait on a freeze: the waiting task (timing out, or answered by an override), the next
    // try for the lease, the choice.
    let freeze_wait = sum(&["AwaitFreeze"])? + 5 + sum(&["LeaseAcquired?"])?;
    let poll = [
        sum(&["WaitForCloudHub"])? + 5 + sum(&["CloudHubLive?"])?,
        sum(&["WaitForRollback"])? + 5 + sum(&["RolledBack?"])?,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    sum(&["PollCloudHub", "PollRollback"])?; // counted in the poll loops, without retries
    let failure_question = sum(&["AskOnFailure?", "AskOnFailure", "FailureChoice", "FailureChosen?"])?;
    let unplaced: Vec<&String> = all.keys().filter(|n| !seen.contains(*n)).collect();
    if !unplaced.is_empty() {
        bail!("states this test does not place in a part of the execution (add them above): {unplaced:?}");
    }
    Ok(StepCosts {
        per_execution,
        per_round,
        per_component_round: preflight + replan,
        per_deployment,
        per_component_deployment: wave + deploy + rollback,
        per_lease_wait: lease_wait,
        per_freeze_wait: freeze_wait,
        per_poll: poll,
        per_retry: 3,
        per_failure_question: failure_question,
    })
}

fn asl() -> Result<Value> {
    let path = baton_local::repository_root().join("infra/statemachine/release.asl.json");
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

fn local_config() -> Result<String> {
    Ok(std::fs::read_to_string(
        baton_local::repository_root().join("infra/config/baton.local.yaml"),
    )?)
}

#[test]
fn the_domain_counts_at_least_the_events_the_state_machine_writes() -> Result<()> {
    let derived = derive(&states(&asl()?))?;
    println!("derived from the ASL: {derived:?}\nthe domain's:         {STEP_COSTS:?}");
    let pairs = [
        ("per_execution", derived.per_execution, STEP_COSTS.per_execution),
        ("per_round", derived.per_round, STEP_COSTS.per_round),
        (
            "per_component_round",
            derived.per_component_round,
            STEP_COSTS.per_component_round,
        ),
        ("per_deployment", derived.per_deployment, STEP_COSTS.per_deployment),
        (
            "per_component_deployment",
            derived.per_component_deployment,
            STEP_COSTS.per_component_deployment,
        ),
        ("per_lease_wait", derived.per_lease_wait, STEP_COSTS.per_lease_wait),
        ("per_freeze_wait", derived.per_freeze_wait, STEP_COSTS.per_freeze_wait),
        ("per_poll", derived.per_poll, STEP_COSTS.per_poll),
        ("per_retry", derived.per_retry, STEP_COSTS.per_retry),
        (
            "per_failure_question",
            derived.per_failure_question,
            STEP_COSTS.per_failure_question,
        ),
    ];
    for (part, from_asl, domain) in pairs {
        ensure!(
            domain >= from_asl,
            "STEP_COSTS.{part} is {domain}, but the state machine writes {from_asl}: raise it in shared/domain/src/config/limits.rs"
        );
    }
    Ok(())
}

#[test]
fn the_worst_execution_stays_under_step_functions_limits() -> Result<()> {
    let derived = derive(&states(&asl()?))?;
    let local = BatonConfig::from_yaml(&local_config()?)?;
    // AWS pacing: the defaults, and TTLs as long as validation allows together.
    let aws_defaults = local_config()?
        .replace("  poll_seconds: 1 ", "  poll_seconds: 15 ")
        .replace("  lease_wait_seconds: 1 ", "  lease_wait_seconds: 30 ")
        .replace("  rollout_deadline: 2m ", "  rollout_deadline: 30m ")
        .replace("  lease_wait_timeout: 3m ", "  lease_wait_timeout: 2h ")
        .replace("approval_ttl: 24h", "approval_ttl: 40d")
        .replace("approval_ttl: 72h", "approval_ttl: 40d");
    let aws = BatonConfig::from_yaml(&aws_defaults).context("the AWS pacing is valid")?;
    assert_eq!(aws.workflow.poll_seconds, 15);
    for (name, config) in [("local", &local), ("AWS defaults, 40-day approvals", &aws)] {
        let worst = config.worst_case_with(&derived);
        println!(
            "{name}: at most {} history events (lease waits {}, polls {}) and {} days",
            worst.events,
            worst.lease_wait_events,
            worst.poll_events,
            worst.duration.as_secs() / 86_400
        );
        ensure!(worst.events < MAX_HISTORY_EVENTS, "{name}: {worst:?}");
        ensure!(worst.duration < MAX_EXECUTION, "{name}: {worst:?}");
        // What validation uses is at least what the ASL implies.
        ensure!(config.worst_case().events >= worst.events, "{name}");
        ensure!(config.worst_case().events <= HISTORY_BUDGET, "{name}");
    }
    Ok(())
}

#[test]
fn a_configuration_that_could_break_the_limits_is_refused_naming_the_field() -> Result<()> {
    let text = local_config()?;
    for (edit, field) in [
        (
            text.replace("  rollout_deadline: 2m ", "  rollout_deadline: 45m "),
            "workflow.poll_seconds",
        ),
        (
            text.replace("  lease_wait_timeout: 3m ", "  lease_wait_timeout: 12h "),
            "workflow.lease_wait_seconds",
        ),
        (
            text.replace("approval_ttl: 72h", "approval_ttl: 365d"),
            "environments[1].approval_ttl",
        ),
    ] {
        let err = BatonConfig::from_yaml(&edit).err().context(field)?;
        ensure!(
            err.problems.iter().any(|p| p.path == field),
            "expected a problem at {field}: {err}"
        );
    }
    // And the state machine's own bound on the lease wait is the configuration's.
    let local = BatonConfig::from_yaml(&text)?;
    assert_eq!(local.lease_waits(), 180, "3 minutes of 1-second tries");
    Ok(())
}
