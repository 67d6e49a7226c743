//! Patches 8 and 10: a state machine definition's parse tree and its JSONPaths are kept.

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

/// Every execution of one definition runs its own program (patch 8 keeps the parse tree, not
/// the program): concurrent executions with different inputs each end with their own output,
/// the one moto's own server gives; and a definition that does not parse is refused by both.
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
