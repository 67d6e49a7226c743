//! The runner's own contracts: Lambda's Invoke API and the event source's redrive.

use anyhow::Result;
use baton_e2e::{Harness, sample_site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoke_api_follows_lambdas_contract() -> Result<()> {
    let h = Harness::start().await?;
    let function = h.stack.resource_name("IngestFunction")?;
    let http = reqwest::Client::new();
    let url = |name: &str| format!("{}/2015-03-31/functions/{name}/invocations", h.stack.aws_endpoint);

    // A good invocation, by name.
    let ok = http.post(url(&function)).body(r#"{"Records":[]}"#).send().await?;
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().get("x-amz-function-error").is_none());
    assert_eq!(
        ok.json::<serde_json::Value>().await?,
        serde_json::json!({"batchItemFailures": []})
    );

    // By URL-encoded ARN with a qualifier, as Step Functions sends it.
    let arn = format!("arn:aws:lambda:eu-west-1:123456789012:function:{function}:$LATEST");
    let encoded = arn.replace(':', "%3A").replace('$', "%24");
    let by_arn = http.post(url(&encoded)).body(r#"{"Records":[]}"#).send().await?;
    assert_eq!(by_arn.status(), 200);

    // A function error: 200, X-Amz-Function-Error, Baton's error type.
    let bad = http
        .post(url(&function))
        .body(r#"{"not":"an sqs event"}"#)
        .send()
        .await?;
    assert_eq!(bad.status(), 200);
    assert_eq!(
        bad.headers().get("x-amz-function-error").and_then(|v| v.to_str().ok()),
        Some("Unhandled")
    );
    let body: serde_json::Value = bad.json().await?;
    assert_eq!(body["errorType"], "Baton.Invalid");
    assert!(
        body["errorMessage"].as_str().unwrap_or_default().contains("SQS event"),
        "{body}"
    );

    // No such function.
    let missing = http.post(url("no-such-function")).body("{}").send().await?;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()),
        Some("ResourceNotFoundException")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_cannot_be_processed_is_retried_then_dead_lettered_not_lost() -> Result<()> {
    let h = Harness::start().await?;
    // Without its configuration Baton cannot judge the package: that is Baton's problem, not
    // the package's, so the event is retried (maxReceiveCount 5) and then kept in the DLQ.
    h.s3.delete_object()
        .bucket(&h.stack.bucket)
        .key("config/baton.yaml")
        .send()
        .await?;
    h.upload("packages/web/1.0.0/site.zip", sample_site("1.0.0"), &[])
        .await?;
    h.drained().await?;
    assert_eq!(h.dead_letters().await?, 1, "the event waits in the DLQ for an operator");
    assert!(h.rejections().await?.is_empty(), "the package is not blamed");
    assert!(h.packages().await?.is_empty());
    Ok(())
}

/// moto runs behind `infra/local/moto_server.py`, which replaces moto's whole-table snapshot
/// with an item-level undo: a cancelled transaction must still leave every item as it was,
/// and keep what other requests wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_transaction_changes_nothing_and_keeps_other_writes() -> Result<()> {
    use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};
    let h = Harness::start().await?;
    let s = |v: &str| AttributeValue::S(v.to_string());
    let key = |pk: &str| [("pk".to_string(), s(pk)), ("sk".to_string(), s("item"))];
    let put = |pk: &str, value: &str| {
        h.dynamodb.put_item().table_name(&h.table).set_item(Some(
            key(pk).into_iter().chain([("value".to_string(), s(value))]).collect(),
        ))
    };
    put("test#kept", "before").send().await?;
    put("test#other", "before").send().await?;

    let update = Update::builder()
        .table_name(&h.table)
        .set_key(Some(key("test#kept").into_iter().collect()))
        .update_expression("SET #v = :v")
        .expression_attribute_names("#v", "value")
        .expression_attribute_values(":v", s("changed"))
        .build()?;
    let new_item = Put::builder()
        .table_name(&h.table)
        .set_item(Some(key("test#new").into_iter().collect()))
        .build()?;
    let failing = ConditionCheck::builder()
        .table_name(&h.table)
        .set_key(Some(key("test#missing").into_iter().collect()))
        .condition_expression("attribute_exists(pk)")
        .build()?;
    let cancelled = h
        .dynamodb
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().update(update).build())
        .transact_items(TransactWriteItem::builder().put(new_item).build())
        .transact_items(TransactWriteItem::builder().condition_check(failing).build())
        .send()
        .await;
    let error = cancelled.expect_err("the condition check fails, so the transaction is cancelled");
    assert!(
        format!("{:?}", error.into_service_error()).contains("TransactionCanceled"),
        "cancelled, not another error"
    );
    put("test#other", "after").send().await?;

    let read = |pk: &str| {
        h.dynamodb
            .get_item()
            .table_name(&h.table)
            .set_key(Some(key(pk).into_iter().collect()))
            .consistent_read(true)
            .send()
    };
    let value = |item: Option<std::collections::HashMap<String, AttributeValue>>| {
        item.and_then(|i| i.get("value").and_then(|v| v.as_s().ok().cloned()))
    };
    assert_eq!(
        value(read("test#kept").await?.item),
        Some("before".into()),
        "the update was undone"
    );
    assert!(read("test#new").await?.item.is_none(), "the put was undone");
    assert_eq!(
        value(read("test#other").await?.item),
        Some("after".into()),
        "other writes stay"
    );
    Ok(())
}
