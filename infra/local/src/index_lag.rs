//! DynamoDB's global secondary indexes are eventually consistent: "all reads from GSIs and
//! streams are eventually consistent", and a write shows in an index only after it propagates
//! (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html).
//! moto updates its indexes with the write, so code that decides on an index read made right
//! after a write works locally and races on AWS. A test sets a lag here; the endpoint then hides,
//! from every index `Query`, the items written less than that long ago.
//!
//! The emulation is of the worst visible effect, for new and changed items alike: the item is
//! absent from the index until the lag has passed (AWS may instead show its previous version).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Items' last writes and the lag an index shows them after; off (zero) unless a test sets it.
#[derive(Debug, Clone, Default)]
pub struct IndexLag {
    lag: Arc<Mutex<Duration>>,
    /// `(pk, sk)` as DynamoDB JSON text, to when it was last written.
    written: Arc<Mutex<HashMap<String, Instant>>>,
}

impl IndexLag {
    /// From now on, index queries miss items written less than `lag` ago (zero: off).
    pub fn set(&self, lag: Duration) {
        if let Ok(mut current) = self.lag.lock() {
            *current = lag;
        }
    }

    fn lag(&self) -> Duration {
        self.lag.lock().map(|l| *l).unwrap_or_default()
    }

    /// Notes the items a DynamoDB write request (`operation` without its service prefix) writes.
    pub(crate) fn observe(&self, operation: &str, body: &[u8]) {
        if self.lag().is_zero() {
            return;
        }
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let keys: Vec<String> = match operation {
            "PutItem" => vec![key_of(&request["Item"])],
            "UpdateItem" | "DeleteItem" => vec![key_of(&request["Key"])],
            "TransactWriteItems" | "BatchWriteItem" => written_in(&request),
            _ => return,
        };
        if let Ok(mut written) = self.written.lock() {
            let now = Instant::now();
            for key in keys {
                written.insert(key, now);
            }
        }
    }

    /// The answer to an index `Query`, without the items written within the lag.
    pub(crate) fn filter(&self, operation: &str, request: &[u8], answer: &[u8]) -> Option<Vec<u8>> {
        let lag = self.lag();
        if lag.is_zero() || operation != "Query" {
            return None;
        }
        let request: Value = serde_json::from_slice(request).ok()?;
        request.get("IndexName")?;
        let mut answer: Value = serde_json::from_slice(answer).ok()?;
        let written = self.written.lock().ok()?;
        let items = answer.get_mut("Items")?.as_array_mut()?;
        items.retain(|item| written.get(&key_of(item)).is_none_or(|at| at.elapsed() >= lag));
        let count = items.len();
        answer["Count"] = Value::from(count);
        serde_json::to_vec(&answer).ok()
    }
}

fn key_of(item: &Value) -> String {
    format!("{}|{}", item["pk"], item["sk"])
}

/// The keys a `TransactWriteItems` or `BatchWriteItem` request writes.
fn written_in(request: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    for entry in request["TransactItems"].as_array().into_iter().flatten() {
        for (kind, field) in [("Put", "Item"), ("Update", "Key"), ("Delete", "Key")] {
            if let Some(target) = entry.get(kind) {
                keys.push(key_of(&target[field]));
            }
        }
    }
    for requests in request["RequestItems"].as_object().into_iter().flat_map(|t| t.values()) {
        for entry in requests.as_array().into_iter().flatten() {
            if let Some(item) = entry.pointer("/PutRequest/Item") {
                keys.push(key_of(item));
            }
            if let Some(key) = entry.pointer("/DeleteRequest/Key") {
                keys.push(key_of(key));
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_index_query_misses_items_written_within_the_lag_and_only_those() {
        let lag = IndexLag::default();
        let item = |id: &str| json!({"pk": {"S": id}, "sk": {"S": "APPROVAL"}});
        lag.observe("PutItem", json!({"Item": item("A")}).to_string().as_bytes());
        let answer = json!({"Items": [item("A"), item("B")], "Count": 2}).to_string();
        let query = json!({"IndexName": "gsi1"}).to_string();
        assert!(
            lag.filter("Query", query.as_bytes(), answer.as_bytes()).is_none(),
            "off by default"
        );

        lag.set(Duration::from_secs(60));
        lag.observe("PutItem", json!({"Item": item("A")}).to_string().as_bytes());
        let filtered: Value =
            serde_json::from_slice(&lag.filter("Query", query.as_bytes(), answer.as_bytes()).unwrap()).unwrap();
        assert_eq!(filtered, json!({"Items": [item("B")], "Count": 1}));
        let table_query = json!({"KeyConditionExpression": "pk = :p"}).to_string();
        assert!(
            lag.filter("Query", table_query.as_bytes(), answer.as_bytes()).is_none(),
            "the table is consistent"
        );
    }
}
