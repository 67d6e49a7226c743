//! Provisional usage, read from the code and the template until the bench measures it
//! (issue 18, item 2). Swap in measured data by building a [`Scenario`] with the bench's
//! [`ReleaseUsage`] in place of [`release_usage`]. docs/cost.md explains each count.
//!
//! The release: one upload of a new site version; the release holds both components (web on
//! Cloudflare Pages in wave 2, the CloudHub state in wave 1), as `prepare` plans every
//! component of the release's snapshot. TEST (one approver) then PROD (two approvers, one
//! sign-off), the AWS defaults: a 30 s settle window, CloudHub polled every 15 s (6 polls per
//! rollout). Three webhooks (as infra/config/baton.local.yaml), 20 readers subscribed to PROD's
//! "live" mails. No retries, no lease waits, no failures.

use std::collections::BTreeMap;

use super::{DynamoUnits, IdleUsage, Invocations, ReleaseUsage, Scenario, ViewUsage};

/// One release's AWS requests, by who makes them: (caller, IAM action, count).
pub const RELEASE_CALLS: &[(&str, &str, u64)] = &[
    // CI's upload into Baton's bucket, S3's event into the uploads queue, Lambda's poller.
    ("CI", "s3:PutObject", 1),
    ("S3 notification", "sqs:SendMessage", 1),
    ("ingest event source", "sqs:ReceiveMessage", 1),
    ("ingest event source", "sqs:DeleteMessage", 1),
    // ingest: about 9 per new upload (issue 18): config, package, heads and counter, the
    // package's record, its registration, the release transaction, the search index, the workflow's start.
    ("ingest", "s3:GetObject", 2),
    ("ingest", "dynamodb:Query", 2),
    ("ingest", "dynamodb:GetItem", 1),
    ("ingest", "dynamodb:PutItem", 1),
    ("ingest", "dynamodb:TransactWriteItems", 1),
    ("ingest", "dynamodb:BatchWriteItem", 1),
    ("ingest", "states:StartExecution", 1),
    // lifecycle: prepare, settled, then per environment preflight-verdict, acquire-lease,
    // verify-plan, check-gates, record; finish. Reads of the release and its state, timeline
    // entries, the lease, the fenced record; config re-read once a minute. (finish mails the
    // release managers only when a deployment failed.)
    ("lifecycle", "s3:GetObject", 6),
    ("lifecycle", "dynamodb:GetItem", 17),
    ("lifecycle", "dynamodb:Query", 2),
    ("lifecycle", "dynamodb:PutItem", 8),
    ("lifecycle", "dynamodb:UpdateItem", 6),
    ("lifecycle", "dynamodb:TransactWriteItems", 2),
    // notify, per environment: release, state, approval, pending pointer; pending approvals and
    // packages since live; the approval, its timeline entry, the pointer; status, one token per
    // approver, marked mailed; one mail per approver (TEST 1, PROD 2).
    ("notify", "s3:GetObject", 2),
    ("notify", "dynamodb:GetItem", 8),
    ("notify", "dynamodb:Query", 4),
    ("notify", "dynamodb:PutItem", 6),
    ("notify", "dynamodb:UpdateItem", 7),
    ("notify", "ses:SendEmail", 3),
    // approve, per environment: the page (approval, release), the decision (approval, release,
    // decision + timeline transaction, task success, delivery closed); a follow-up mail to each
    // other approver (PROD's second one).
    ("approve", "s3:GetObject", 2),
    ("approve", "dynamodb:GetItem", 8),
    ("approve", "dynamodb:TransactWriteItems", 2),
    ("approve", "dynamodb:UpdateItem", 2),
    ("approve", "states:SendTaskSuccess", 2),
    ("approve", "ses:SendEmail", 1),
    // deploy-cloudhub, per environment: preflight, replan, start, 6 polls; the manifest at its
    // version each time; the lease renewed while polling; fenced deployment records;
    // credentials and a secure property, cached per process.
    ("deploy-cloudhub", "s3:GetObject", 2),
    ("deploy-cloudhub", "s3:GetObjectVersion", 6),
    ("deploy-cloudhub", "dynamodb:GetItem", 24),
    ("deploy-cloudhub", "dynamodb:UpdateItem", 14),
    ("deploy-cloudhub", "dynamodb:TransactWriteItems", 4),
    ("deploy-cloudhub", "secretsmanager:GetSecretValue", 4),
    // deploy-pages, per environment: preflight, replan, deploy; the site at its version; the
    // token; fenced deployment records (started, done).
    ("deploy-pages", "s3:GetObject", 2),
    ("deploy-pages", "s3:GetObjectVersion", 6),
    ("deploy-pages", "dynamodb:GetItem", 12),
    ("deploy-pages", "dynamodb:UpdateItem", 2),
    ("deploy-pages", "dynamodb:TransactWriteItems", 4),
    ("deploy-pages", "secretsmanager:GetSecretValue", 2),
    // announce: about 15 timeline events (stream reads by the trigger are free); 23 webhook
    // deliveries (7 event kinds to baton-json, 3 to slack and teams) queued, received, recorded,
    // deleted; their signing secrets; PROD's "live" mail to 20 subscribers, one mark each.
    ("announce", "s3:GetObject", 4),
    ("announce", "sqs:SendMessage", 23),
    ("announce event source", "sqs:ReceiveMessage", 12),
    ("announce event source", "sqs:DeleteMessage", 12),
    ("announce", "dynamodb:PutItem", 43),
    ("announce", "dynamodb:GetItem", 1),
    ("announce", "dynamodb:Query", 1),
    ("announce", "secretsmanager:GetSecretValue", 3),
    ("announce", "ses:SendEmail", 20),
];

/// One release's Lambda invocations: (function, count, milliseconds each, memory MB). Durations
/// are guesses for AWS (requests of about 10 ms, the platforms' HTTP calls), not local figures.
pub const RELEASE_INVOCATIONS: &[(&str, u64, f64, u32)] = &[
    ("ingest", 1, 300.0, 1024),
    ("lifecycle", 13, 40.0, 256),
    ("notify", 2, 150.0, 256),
    ("approve", 4, 60.0, 256),
    ("deploy-cloudhub", 18, 300.0, 256),
    // Preflight and replan 200 ms each, the upload to Cloudflare 3 s, per environment.
    ("deploy-pages", 6, 1133.3, 1024),
    ("announce", 22, 95.0, 256),
];

/// Step Functions transitions of one release: 7 outside the environments (Prepare, Settle?,
/// Settle, Settled, Environments, Released, Done) and 44 per environment (the pre-flight map of
/// 2 components: 5; verdict, approval, lease and its choice: 4; the replan map: 5; verify, gates:
/// 2; the waves map: 1, CloudHub's wave with 6 polls: 23, Pages' wave: 3; record: 1).
pub const RELEASE_STATE_TRANSITIONS: u64 = 7 + 2 * 44;

/// HTTP API requests of one release: each environment's approval page and decision.
pub const RELEASE_HTTP_REQUESTS: u64 = 4;

/// One release's usage, from the constants above.
pub fn release_usage() -> ReleaseUsage {
    let mut requests: BTreeMap<String, u64> = BTreeMap::new();
    for (_, action, count) in RELEASE_CALLS {
        *requests.entry((*action).to_string()).or_default() += count;
    }
    ReleaseUsage {
        requests,
        state_transitions: RELEASE_STATE_TRANSITIONS,
        invocations: invocations(RELEASE_INVOCATIONS),
        http_requests: RELEASE_HTTP_REQUESTS,
    }
}

fn invocations(list: &[(&str, u64, f64, u32)]) -> BTreeMap<String, Invocations> {
    list.iter()
        .map(|(name, count, ms, memory_mb)| {
            let inv = Invocations {
                count: *count,
                total_ms: *count as f64 * ms,
                memory_mb: *memory_mb,
            };
            ((*name).to_string(), inv)
        })
        .collect()
}

fn usage(calls: &[(&str, u64)], invoked: &[(&str, u64, f64, u32)], http_requests: u64) -> ReleaseUsage {
    ReleaseUsage {
        requests: calls.iter().map(|(a, n)| ((*a).to_string(), *n)).collect(),
        state_transitions: 0,
        invocations: invocations(invoked),
        http_requests,
    }
}

/// One status page load (GET /): 5 DynamoDB requests as `make bench` counts them (4 queries and
/// a batch get), one status invocation of about 30 ms.
pub fn view_usage() -> ViewUsage {
    usage(
        &[("dynamodb:Query", 4), ("dynamodb:BatchGetItem", 1)],
        &[("status", 1, 30.0, 256)],
        1,
    )
}

/// One drift check: config, each environment's lease holder, state and open drift (twice), the
/// CloudHub manifest deployed in each, both platforms' credentials (a cold start each time).
pub fn drift_run_usage() -> ReleaseUsage {
    usage(
        &[
            ("s3:GetObject", 1),
            ("s3:GetObjectVersion", 2),
            ("secretsmanager:GetSecretValue", 2),
            ("dynamodb:GetItem", 4),
            ("dynamodb:Query", 4),
        ],
        &[("drift", 1, 800.0, 256)],
        0,
    )
}

/// One weekly digest: config, subscribers and the week's releases, a mail to each of 20
/// subscribers, the mail quota counter.
pub fn digest_usage() -> ReleaseUsage {
    usage(
        &[
            ("s3:GetObject", 1),
            ("dynamodb:Query", 3),
            ("dynamodb:UpdateItem", 1),
            ("ses:SendEmail", 20),
        ],
        &[("status", 1, 500.0, 256)],
        0,
    )
}

/// Lambda pollers per SQS event source while the queue is empty (estimate, unconfirmed).
pub const POLLERS_PER_SQS_SOURCE: f64 = 5.0;
/// Seconds each empty long poll waits.
pub const LONG_POLL_SECONDS: f64 = 20.0;
/// SQS event sources in the template: uploads (ingest), decisions (lifecycle), webhooks (announce).
pub const SQS_EVENT_SOURCES: f64 = 3.0;

/// The whole provisional scenario: 20 readers, each with a page open an hour a working day.
pub fn scenario() -> Scenario {
    let seconds_a_month = 30.0 * 24.0 * 3600.0;
    Scenario {
        label: "provisional (read from the code, not yet measured)".into(),
        release: release_usage(),
        release_units: DynamoUnits {
            read_units_per_query: 1.0,
            items_per_batch_get: 1.0,
            items_per_batch_write: 5.0,
            items_per_transaction: 3.0,
        },
        view: view_usage(),
        view_units: DynamoUnits {
            read_units_per_query: 2.0,
            items_per_batch_get: 4.0,
            items_per_batch_write: 1.0,
            items_per_transaction: 1.0,
        },
        readers: 20,
        // One hour of an open page a working day: it reloads itself every 30 s.
        views_per_reader_per_day: 120.0,
        working_days: 21.0,
        idle: IdleUsage {
            drift_runs: 4.0 * 24.0 * 30.0,
            drift_run: drift_run_usage(),
            digests: 52.0 / 12.0,
            digest: digest_usage(),
            // Cloudflare token, Anypoint app, session key, one secure property, three webhooks.
            secrets: 7,
            alarms: 15,
            idle_sqs_receives: SQS_EVENT_SOURCES * POLLERS_PER_SQS_SOURCE * seconds_a_month / LONG_POLL_SECONDS,
        },
        package_mb_per_release: 10.0,
        retained_months: 12.0,
        log_bytes_per_invocation: 1500.0,
    }
}
