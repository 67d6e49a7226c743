//! DynamoDB stream event source mappings, as Lambda runs them: read the table's stream (moto's
//! DynamoDB Streams API, raw JSON), keep the records the mapping's `FilterCriteria` let through,
//! invoke the function with a batch, and on a failure hand the batch over again from the first
//! failed record (`ReportBatchItemFailures`), halving a batch the function failed on as a whole
//! (`BisectBatchOnFunctionError`), until `MaximumRetryAttempts`; then the batch's coordinates go
//! to the on-failure destination (an SQS queue) and the shard moves on.

use std::sync::Arc;
use std::time::Duration;

use baton_app::Function;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::eventbridge::matches;

/// How often an idle shard is read again (Lambda polls a stream's shards four times a second).
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// How soon a failed batch is handed over again.
pub const RETRY_AFTER: Duration = Duration::from_millis(500);

/// A DynamoDB stream event source of a function.
#[derive(Debug, Clone)]
pub struct StreamSource {
    /// The table whose stream is read.
    pub table_name: String,
    /// Most records per batch.
    pub batch_size: usize,
    /// `FilterCriteria.Filters[].Pattern`, parsed: a record passes if any matches (none: all pass).
    pub filters: Vec<Value>,
    /// Whether the function reports partial batch failures.
    pub report_failures: bool,
    /// Whether a batch the function failed on is halved before it is tried again.
    pub bisect: bool,
    /// Tries after the first before a batch is given up (`None`: until it succeeds).
    pub max_retries: Option<u32>,
    /// The queue URL of the on-failure destination, if any.
    pub on_failure_queue: Option<String>,
}

/// Where the stream is read and failures are parked.
pub struct StreamClients {
    /// moto's URL (the stream API is read there, not through the runner's endpoint).
    pub moto_url: String,
    /// HTTP client for the stream API.
    pub http: reqwest::Client,
    /// SQS, for the on-failure destination.
    pub sqs: aws_sdk_sqs::Client,
    /// Region.
    pub region: String,
    /// How far each table's stream has been delivered: kept by the stack, so a restarted host
    /// goes on where the last one stopped, as an event source mapping does.
    pub positions: StreamPositions,
    /// The IAM check, the function whose role reads the stream (as Lambda's mapping does) and
    /// the stream's table.
    pub iam: Option<(crate::iam::Iam, String, String)>,
}

/// The last sequence number delivered of each table's stream.
pub type StreamPositions = Arc<std::sync::Mutex<std::collections::BTreeMap<String, String>>>;

impl StreamClients {
    async fn call(&self, operation: &str, body: Value) -> Result<Value, String> {
        if let Some((iam, function, table)) = &self.iam {
            // moto's stream ARN has its own label; the template names `Table.StreamArn`,
            // which the local stack resolves with the label `local`.
            let need = crate::iam::request::Need {
                action: format!("dynamodb:{operation}"),
                resource: format!(
                    "arn:aws:dynamodb:{}:{}:table/{table}/stream/local",
                    self.region,
                    crate::template::ACCOUNT_ID
                ),
                context: Default::default(),
            };
            iam.note(function, &need).map_err(|d| d.0)?;
        }
        let scope = format!("test/20260101/{}/dynamodb/aws4_request", self.region);
        let response = self
            .http
            .post(&self.moto_url)
            .header("X-Amz-Target", format!("DynamoDBStreams_20120810.{operation}"))
            .header("Content-Type", "application/x-amz-json-1.0")
            .header(
                "Authorization",
                format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"),
            )
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{operation}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{operation}: {e}"))
    }
}

/// Reads the stream of `source.table_name` from its start and feeds `function` until `stop`.
pub async fn run(
    clients: StreamClients,
    source: StreamSource,
    function: Arc<dyn Function>,
    mut stop: watch::Receiver<bool>,
) {
    let mut iterator: Option<(String, String)> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let (stream_arn, shard_iterator) = match iterator.take() {
            Some(it) => it,
            None => match open(&clients, &source.table_name).await {
                Ok(it) => it,
                Err(e) => {
                    tracing::debug!(table = %source.table_name, error = %e, "stream not readable yet");
                    if sleep_or_stop(&mut stop, POLL_EVERY).await {
                        return;
                    }
                    continue;
                }
            },
        };
        let page = clients
            .call(
                "GetRecords",
                json!({ "ShardIterator": shard_iterator, "Limit": source.batch_size }),
            )
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                tracing::debug!(table = %source.table_name, error = %e, "GetRecords failed; reopening the stream");
                if sleep_or_stop(&mut stop, POLL_EVERY).await {
                    return;
                }
                continue;
            }
        };
        let next = page
            .get("NextShardIterator")
            .and_then(Value::as_str)
            .map(str::to_string);
        let all = page
            .get("Records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let last = all.last().and_then(sequence).map(str::to_string);
        let records: Vec<Value> = all
            .into_iter()
            .map(|r| lambda_record(r, &stream_arn, &clients.region))
            .filter(|r| source.filters.is_empty() || source.filters.iter().any(|f| matches(f, r)))
            .collect();
        if !records.is_empty() && deliver(&clients, &source, &function, &stream_arn, records, &mut stop).await {
            return;
        }
        if let (Some(last), Ok(mut positions)) = (last, clients.positions.lock()) {
            positions.insert(source.table_name.clone(), last);
        }
        match next {
            Some(next) => iterator = Some((stream_arn, next)),
            None => iterator = None,
        }
        if page.get("Records").and_then(Value::as_array).is_none_or(Vec::is_empty)
            && sleep_or_stop(&mut stop, POLL_EVERY).await
        {
            return;
        }
    }
}

/// The table's stream and an iterator at the start of its (one, in moto) shard.
async fn open(clients: &StreamClients, table: &str) -> Result<(String, String), String> {
    let after = clients.positions.lock().ok().and_then(|p| p.get(table).cloned());
    let streams = clients.call("ListStreams", json!({ "TableName": table })).await?;
    let arn = streams
        .pointer("/Streams/0/StreamArn")
        .and_then(Value::as_str)
        .ok_or("the table has no stream")?
        .to_string();
    let description = clients.call("DescribeStream", json!({ "StreamArn": arn })).await?;
    let shard = description
        .pointer("/StreamDescription/Shards/0/ShardId")
        .and_then(Value::as_str)
        .ok_or("the stream has no shard")?;
    let request = match &after {
        Some(seq) => {
            json!({ "StreamArn": arn, "ShardId": shard, "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seq })
        }
        None => json!({ "StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON" }),
    };
    let it = clients.call("GetShardIterator", request).await?;
    let iterator = it
        .get("ShardIterator")
        .and_then(Value::as_str)
        .ok_or("no shard iterator")?
        .to_string();
    Ok((arn, iterator))
}

/// A stream record as Lambda hands it over: with the stream's ARN and region, and its creation
/// time in epoch seconds.
fn lambda_record(mut record: Value, stream_arn: &str, region: &str) -> Value {
    if let Some(r) = record.as_object_mut() {
        r.insert("eventSourceARN".into(), json!(stream_arn));
        r.insert("awsRegion".into(), json!(region));
    }
    if let Some(change) = record.get_mut("dynamodb").and_then(Value::as_object_mut) {
        let seconds = match change.get("ApproximateCreationDateTime") {
            Some(Value::Number(n)) => n.as_f64().unwrap_or_default(),
            Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp() as f64)
                .or_else(|_| s.parse::<f64>())
                .unwrap_or_default(),
            _ => chrono::Utc::now().timestamp() as f64,
        };
        change.insert("ApproximateCreationDateTime".into(), json!(seconds.floor()));
    }
    record
}

fn sequence(record: &Value) -> Option<&str> {
    record.pointer("/dynamodb/SequenceNumber").and_then(Value::as_str)
}

/// Delivers `records` with Lambda's retry rules; `true` if stopped meanwhile.
async fn deliver(
    clients: &StreamClients,
    source: &StreamSource,
    function: &Arc<dyn Function>,
    stream_arn: &str,
    records: Vec<Value>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    // Batches still to deliver, in stream order, each with the tries it has had.
    let mut batches: Vec<(Vec<Value>, u32)> = records
        .chunks(source.batch_size.max(1))
        .rev()
        .map(|c| (c.to_vec(), 0))
        .collect();
    while let Some((batch, tries)) = batches.pop() {
        let answer = function.invoke(json!({ "Records": batch })).await;
        let rest: Vec<Value> = match answer {
            Ok(response) if source.report_failures => match first_failure(&response) {
                Failure::None => continue,
                Failure::At(seq) => match batch.iter().position(|r| sequence(r) == Some(seq.as_str())) {
                    Some(at) => batch[at..].to_vec(),
                    // Lambda: an identifier that is not in the batch fails the whole batch.
                    None => batch.clone(),
                },
                Failure::Malformed => batch.clone(),
            },
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(table = %source.table_name, error = %e, "stream batch failed");
                if source.bisect && batch.len() > 1 {
                    let (first, second) = batch.split_at(batch.len() / 2);
                    batches.push((second.to_vec(), tries));
                    batches.push((first.to_vec(), tries));
                    continue;
                }
                batch.clone()
            }
        };
        if source.max_retries.is_some_and(|max| tries >= max) {
            park(clients, source, stream_arn, &rest).await;
            continue;
        }
        if sleep_or_stop(stop, RETRY_AFTER).await {
            return true;
        }
        batches.push((rest, tries + 1));
    }
    false
}

enum Failure {
    None,
    At(String),
    Malformed,
}

/// The first failed sequence number of `{"batchItemFailures":[{"itemIdentifier":...}]}`.
fn first_failure(response: &Value) -> Failure {
    match response.get("batchItemFailures") {
        None | Some(Value::Null) => Failure::None,
        Some(Value::Array(items)) if items.is_empty() => Failure::None,
        Some(Value::Array(items)) => {
            let ids: Option<Vec<&str>> = items
                .iter()
                .map(|i| {
                    i.get("itemIdentifier")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                })
                .collect();
            match ids {
                // Lambda retries from the lowest failed sequence number.
                Some(ids) => ids
                    .into_iter()
                    .min_by_key(|s| (s.len(), s.to_string()))
                    .map(|s| Failure::At(s.to_string()))
                    .unwrap_or(Failure::None),
                None => Failure::Malformed,
            }
        }
        Some(_) => Failure::Malformed,
    }
}

/// Sends a given-up batch's coordinates to the on-failure destination, as Lambda does.
async fn park(clients: &StreamClients, source: &StreamSource, stream_arn: &str, records: &[Value]) {
    tracing::warn!(table = %source.table_name, records = records.len(), "stream batch given up after its retries");
    let Some(queue) = &source.on_failure_queue else {
        return;
    };
    let body = json!({
        "requestContext": { "condition": "RetryAttemptsExhausted", "approximateInvokeCount": source.max_retries.unwrap_or(0) + 1 },
        "DDBStreamBatchInfo": {
            "shardId": "shardId-local",
            "startSequenceNumber": records.first().and_then(sequence),
            "endSequenceNumber": records.last().and_then(sequence),
            "batchSize": records.len(),
            "streamArn": stream_arn,
        }
    });
    if let Err(e) = clients
        .sqs
        .send_message()
        .queue_url(queue)
        .message_body(body.to_string())
        .send()
        .await
    {
        tracing::warn!(error = %e, "could not park a failed stream batch");
    }
}

/// Sleeps `d`; `true` if `stop` turned true meanwhile.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_failed_sequence_number_is_where_a_retry_starts() {
        let response = json!({"batchItemFailures": [{"itemIdentifier": "120"}, {"itemIdentifier": "99"}]});
        assert!(matches!(first_failure(&response), Failure::At(s) if s == "99"));
        assert!(matches!(
            first_failure(&json!({"batchItemFailures": []})),
            Failure::None
        ));
        assert!(matches!(
            first_failure(&json!({"batchItemFailures": [{"x": 1}]})),
            Failure::Malformed
        ));
    }

    #[test]
    fn records_carry_their_stream_and_an_epoch_time() {
        let r = lambda_record(
            json!({"eventName": "INSERT", "dynamodb": {"ApproximateCreationDateTime": "2026-01-02T03:04:05Z"}}),
            "arn:s",
            "eu-west-1",
        );
        assert_eq!(r["eventSourceARN"], "arn:s");
        assert_eq!(r["dynamodb"]["ApproximateCreationDateTime"], json!(1767323045.0));
    }
}
