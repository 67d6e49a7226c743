//! Patches 8 and 10: a state machine definition's program (with its parse tree) and its
//! JSONPaths are kept.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::Pair;

const DEFINITION: &str = r#"{
  "StartAt": "Each",
  "States": {
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "ItemProcessor": {
        "StartAt": "Greet",
        "States": { "Greet": { "Type": "Pass", "Parameters": { "greeting.$": "States.Format('hello {}', $)" }, "End": true } }
      },
      "ResultPath": "$.greetings",
      "Next": "Done"
    },
    "Done": { "Type": "Pass", "End": true }
  }
}"#;

/// Executions of one definition share its program (patch 8) but not their state: concurrent
/// executions with different inputs each end with their own output, the one moto's own server
/// gives; and a definition that does not parse is refused by both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_of_one_definition_run_apart_as_in_moto() -> Result<()> {
    let pair = Pair::start().await?;
    let mut outputs = Vec::new();
    for sfn in &pair.sfn {
        let role = "arn:aws:iam::123456789012:role/sfn";
        let create = |name: &str| {
            sfn.create_state_machine()
                .name(name)
                .definition(DEFINITION)
                .role_arn(role)
                .send()
        };
        let machine = create("m").await.map_err(|e| anyhow::anyhow!("creating m: {e:?}"))?;
        let again = create("n").await.map_err(|e| anyhow::anyhow!("creating n: {e:?}"))?;
        let refused = sfn
            .create_state_machine()
            .name("bad")
            .definition(r#"{"StartAt": "X", "States": {"X": {"Type": "Nope"}}}"#)
            .role_arn(role)
            .send()
            .await;
        assert!(refused.is_err(), "a definition that does not parse is refused");
        let mut executions = Vec::new();
        for (i, arn) in [
            machine.state_machine_arn(),
            again.state_machine_arn(),
            machine.state_machine_arn(),
        ]
        .iter()
        .enumerate()
        {
            let input = serde_json::json!({ "items": (0..=i).map(|n| format!("{arn}-{i}-{n}")).collect::<Vec<_>>() });
            let started = sfn
                .start_execution()
                .state_machine_arn(*arn)
                .name(format!("e{i}"))
                .input(input.to_string())
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("starting {arn}: {e:?}"))?;
            executions.push((input, started.execution_arn().to_string()));
        }
        let mut mine = Vec::new();
        for (input, arn) in executions {
            let deadline = Instant::now() + Duration::from_secs(30);
            let out = loop {
                let out = sfn.describe_execution().execution_arn(&arn).send().await?;
                if out.status().as_str() != "RUNNING" || Instant::now() > deadline {
                    break out;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            assert_eq!(out.status().as_str(), "SUCCEEDED", "{arn}");
            let output: serde_json::Value = serde_json::from_str(out.output().unwrap_or("null"))?;
            let expected: Vec<_> = input["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| serde_json::json!({ "greeting": format!("hello {}", i.as_str().unwrap_or_default()) }))
                .collect();
            assert_eq!(
                output["greetings"],
                serde_json::Value::Array(expected),
                "each execution greets its own input"
            );
            // The ARNs differ between servers only by nothing (same account, region, names).
            mine.push(output);
        }
        outputs.push(mine);
    }
    assert_eq!(outputs[0], outputs[1], "the same outputs as moto's own server");
    Ok(())
}

/// A state that fails and is retried: each try fails again, twice retried, then caught.
const RETRIED: &str = r#"{
  "StartAt": "Try",
  "States": {
    "Try": {
      "Type": "Parallel",
      "Branches": [{ "StartAt": "Boom", "States": { "Boom": { "Type": "Fail", "Error": "Boom", "Cause": "always" } } }],
      "Retry": [{ "ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0 }],
      "Catch": [{ "ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught" }],
      "End": true
    },
    "Caught": { "Type": "Pass", "End": true }
  }
}"#;

/// The one value a shared program holds for its executions, the slot of a retrier's attempt
/// count in each execution's own heap, keeps every execution's count apart: three executions
/// of one definition, started at once, each try the failing state three times (once and two
/// retries) and are caught, as on moto's own server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_executions_count_their_own_retries_as_in_moto() -> Result<()> {
    let pair = Pair::start().await?;
    let mut histories = Vec::new();
    for sfn in &pair.sfn {
        let machine = sfn
            .create_state_machine()
            .name("retried")
            .definition(RETRIED)
            .role_arn("arn:aws:iam::123456789012:role/sfn")
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("creating: {e:?}"))?;
        let mut arns = Vec::new();
        for i in 0..3 {
            let started = sfn
                .start_execution()
                .state_machine_arn(machine.state_machine_arn())
                .name(format!("r{i}"))
                .input("{}")
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("starting r{i}: {e:?}"))?;
            arns.push(started.execution_arn().to_string());
        }
        let mut mine = Vec::new();
        for arn in arns {
            let deadline = Instant::now() + Duration::from_secs(30);
            let status = loop {
                let out = sfn.describe_execution().execution_arn(&arn).send().await?;
                if out.status().as_str() != "RUNNING" || Instant::now() > deadline {
                    break out.status().as_str().to_string();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            assert_eq!(status, "SUCCEEDED", "{arn} is caught after its retries");
            let history = sfn.get_execution_history().execution_arn(&arn).send().await?;
            let tries = history
                .events()
                .iter()
                .filter(|e| e.r#type().as_str() == "ParallelStateStarted")
                .count();
            assert_eq!(tries, 3, "{arn}: one try and two retries, whatever the others do");
            mine.push(tries);
        }
        histories.push(mine);
    }
    assert_eq!(histories[0], histories[1], "the same tries as moto's own server");
    Ok(())
}
