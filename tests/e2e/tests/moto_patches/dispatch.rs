//! Patches 13 and 14: each request's service is looked up once per host, and no access log
//! line is written per request.

use anyhow::{Context, Result};
use baton_local::LogTarget;
use baton_local::moto::{Moto, free_port};

use super::Pair;

/// With the host lookups kept, requests to DynamoDB, Step Functions and SQS, interleaved, each
/// still reach their own service: every round answers as moto's own server does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_services_each_answer_as_in_moto() -> Result<()> {
    let pair = Pair::start().await?;
    let mut answers = Vec::new();
    for i in 0..2 {
        let mut rounds = Vec::new();
        for round in 0..3 {
            pair.sqs[i]
                .create_queue()
                .queue_name(format!("q{round}"))
                .send()
                .await?;
            pair.dynamodb[i]
                .create_table()
                .table_name(format!("t{round}"))
                .attribute_definitions(
                    aws_sdk_dynamodb::types::AttributeDefinition::builder()
                        .attribute_name("pk")
                        .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                        .build()?,
                )
                .key_schema(
                    aws_sdk_dynamodb::types::KeySchemaElement::builder()
                        .attribute_name("pk")
                        .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                        .build()?,
                )
                .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
                .send()
                .await?;
            let tables = pair.dynamodb[i].list_tables().send().await?.table_names().to_vec();
            let machines = pair.sfn[i].list_state_machines().send().await?.state_machines().len();
            let mut queues = pair.sqs[i].list_queues().send().await?.queue_urls().to_vec();
            // The URLs name each server's own port.
            for url in &mut queues {
                *url = url.rsplit('/').next().unwrap_or_default().to_string();
            }
            rounds.push((tables, machines, queues));
        }
        answers.push(rounds);
    }
    assert_eq!(answers[1][2].0, ["t0", "t1", "t2"], "every table reached DynamoDB");
    assert_eq!(answers[0], answers[1], "the same answers as moto's own server");
    Ok(())
}

/// moto's own server writes a line per request to its log; the patched one writes none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_access_log_line_per_request() -> Result<()> {
    let root = baton_local::repository_root();
    let dir = std::env::temp_dir().join(format!("baton-moto-log-{}-{}", std::process::id(), free_port()?));
    std::fs::create_dir_all(&dir)?;
    let venv = root.join(".venv/bin");
    let script = [root.join("infra/local/moto_server.py").to_string_lossy().into_owned()];
    let mut lines = Vec::new();
    for (name, exe, args) in [
        ("own", venv.join("moto_server"), &[][..]),
        ("patched", venv.join("python3"), &script[..]),
    ] {
        let log = dir.join(format!("{name}.log"));
        let mut moto =
            Moto::start_command(&exe, args, free_port()?, free_port()?, &LogTarget::File(log.clone())).await?;
        let sdk = baton_local::local_sdk_config(&moto.url, "eu-west-1").await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        for _ in 0..5 {
            sqs.list_queues().send().await?;
        }
        moto.stop().await;
        let text = std::fs::read_to_string(&log).with_context(|| format!("reading {}", log.display()))?;
        lines.push(text.lines().filter(|l| l.contains("\"POST / HTTP/1.1\"")).count());
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(lines[0] >= 5, "moto's own server logs each request: {lines:?}");
    assert_eq!(lines[1], 0, "the patched server logs none");
    Ok(())
}
