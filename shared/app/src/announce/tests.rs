use std::sync::Mutex;

use super::*;

/// Keeps what it is told; fails on events of one kind.
struct Recorder {
    seen: Mutex<Vec<String>>,
    fail_on: &'static str,
}

#[async_trait]
impl EventListener for Recorder {
    async fn on_event(&self, event: &ReleaseEvent) -> Result<(), BatonError> {
        if event.kind == self.fail_on {
            return Err(BatonError::transient("listener down"));
        }
        self.seen
            .lock()
            .map_err(|_| BatonError::internal("poisoned"))?
            .push(event.kind.clone());
        Ok(())
    }
}

fn record(seq: &str, name: &str, entity: &str, kind: &str) -> Value {
    json!({
        "eventID": seq, "eventName": name, "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/x",
        "dynamodb": {
            "SequenceNumber": seq, "SizeBytes": 10, "StreamViewType": "NEW_IMAGE",
            "Keys": { "pk": { "S": "RELEASE#rel-1" }, "sk": { "S": "EVENT#x" } },
            "NewImage": {
                "pk": { "S": "RELEASE#rel-1" }, "sk": { "S": "EVENT#x" }, "entity": { "S": entity },
                "release_id": { "S": "rel-1" }, "at": { "S": "2026-01-02T03:04:05Z" },
                "kind": { "S": kind }, "actor": { "S": "baton" }, "environment": { "S": "TEST" },
                "detail": { "S": "words" }
            }
        }
    })
}

fn announce(fail_on: &'static str) -> (Announce, Arc<Recorder>) {
    let recorder = Arc::new(Recorder {
        seen: Mutex::new(Vec::new()),
        fail_on,
    });
    (Announce::new(vec![recorder.clone()]), recorder)
}

#[tokio::test]
async fn new_release_events_reach_the_listeners_and_other_records_do_not() {
    let (announce, recorder) = announce("none");
    let batch = json!({ "Records": [
        record("1", "INSERT", "release-event", "created"),
        record("2", "MODIFY", "release-event", "approved"),
        record("3", "INSERT", "approval", "approval"),
        record("4", "INSERT", "release-event", "approval-requested"),
    ]});
    let answer = announce.invoke(batch).await;
    assert_eq!(answer, Ok(json!({ "batchItemFailures": [] })));
    assert_eq!(*recorder.seen.lock().unwrap(), vec!["created", "approval-requested"]);
}

#[tokio::test]
async fn a_failed_listener_reports_its_record_and_stops_there() {
    let (announce, recorder) = announce("live");
    let batch = json!({ "Records": [
        record("7", "INSERT", "release-event", "deploying"),
        record("8", "INSERT", "release-event", "live"),
        record("9", "INSERT", "release-event", "released"),
    ]});
    let answer = announce.invoke(batch).await;
    assert_eq!(answer, Ok(json!({ "batchItemFailures": [{ "itemIdentifier": "8" }] })));
    assert_eq!(*recorder.seen.lock().unwrap(), vec!["deploying"]);
}

#[tokio::test]
async fn a_payload_that_is_no_stream_batch_is_refused() {
    let (announce, _) = announce("none");
    let answer = announce.invoke(json!({ "hello": 1 })).await;
    assert!(answer.is_err_and(|e| e.message.contains("DynamoDB stream batch")));
}
