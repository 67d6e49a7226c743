//! The AWS bill of Baton's usage at list prices (issue 18, item 4; docs/cost.md): what one
//! release costs, and a month of releases, readers and idle time. Pure arithmetic: the usage
//! comes from the bench's counts (or, until those exist, from [`provisional`]), the prices from
//! [`prices`]. Free tiers are ignored on purpose.

pub mod prices;
pub mod provisional;
mod render;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use prices::Prices;
pub use render::{markdown, one_line};

/// What one release's journey used (upload to Released in TEST and PROD), as the bench measures it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReleaseUsage {
    /// AWS API requests the functions made, by IAM action ("dynamodb:Query", "s3:GetObject", "states:StartExecution", "ses:SendEmail", "secretsmanager:GetSecretValue", "sqs:SendMessage", ...).
    pub requests: BTreeMap<String, u64>,
    /// Step Functions state transitions of the release's executions.
    pub state_transitions: u64,
    /// Lambda invocations by function name ("ingest", "notify", ...).
    pub invocations: BTreeMap<String, Invocations>,
    /// HTTP API requests (approval link clicks, status page reads during the journey).
    pub http_requests: u64,
}

/// One function's invocations: how many, their summed billed duration, its memory setting.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Invocations {
    /// Invocations (Lambda requests).
    pub count: u64,
    /// Summed duration of those invocations, in milliseconds (Lambda bills each rounded up to 1 ms).
    pub total_ms: f64,
    /// The function's configured memory, in MB.
    pub memory_mb: u32,
}

/// What one status page view uses: one HTTP API request, one status invocation, its DynamoDB
/// reads. The same shape as a release's usage, so it is priced the same way.
pub type ViewUsage = ReleaseUsage;

/// How DynamoDB request units follow from request counts: the count alone does not say how many
/// items a request touched or how big they were. Every item is taken to be under 1 KB written
/// and under 4 KB read (1 unit), reads strongly consistent (no halving).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DynamoUnits {
    /// Read units per Query (its result, rounded up to 4 KB).
    pub read_units_per_query: f64,
    /// Items per BatchGetItem (1 read unit each).
    pub items_per_batch_get: f64,
    /// Items per BatchWriteItem (1 write unit each).
    pub items_per_batch_write: f64,
    /// Items per TransactWriteItems or TransactGetItems, condition checks included (2 units each).
    pub items_per_transaction: f64,
}

/// What Baton uses while nobody releases, per month.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleUsage {
    /// Drift checks a month (every 15 minutes: 4 × 24 × 30).
    pub drift_runs: f64,
    /// What one drift check uses.
    pub drift_run: ReleaseUsage,
    /// Weekly digests a month (52 / 12).
    pub digests: f64,
    /// What one weekly digest uses.
    pub digest: ReleaseUsage,
    /// Secrets kept in Secrets Manager.
    pub secrets: u32,
    /// CloudWatch alarms the template creates.
    pub alarms: u32,
    /// Empty SQS receives a month: Lambda's pollers long-poll each SQS event source while idle.
    pub idle_sqs_receives: f64,
}

/// Everything a month's bill is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// What says where the usage comes from ("provisional", "measured 2026-12-02", ...).
    pub label: String,
    /// One release's journey.
    pub release: ReleaseUsage,
    /// DynamoDB units of the release's (and idle work's) requests.
    pub release_units: DynamoUnits,
    /// One status page view.
    pub view: ViewUsage,
    /// DynamoDB units of a view's requests.
    pub view_units: DynamoUnits,
    /// Business users reading the status page.
    pub readers: u32,
    /// Page loads per reader per working day (the pages reload themselves every 30 s while open).
    pub views_per_reader_per_day: f64,
    /// Working days a month.
    pub working_days: f64,
    /// Idle usage, per month.
    pub idle: IdleUsage,
    /// Size of one release's new packages in S3, in MB (versioning keeps every one).
    pub package_mb_per_release: f64,
    /// Months of packages kept: storage is counted at the steady state of that many months.
    pub retained_months: f64,
    /// CloudWatch Logs bytes written per invocation (Lambda's START/END/REPORT lines and Baton's).
    pub log_bytes_per_invocation: f64,
}

/// Where a dollar goes, in the order the tables show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    /// Lambda requests and duration.
    Lambda,
    /// Step Functions state transitions.
    StepFunctions,
    /// DynamoDB request units.
    DynamoDb,
    /// S3 requests and storage.
    S3,
    /// SQS requests.
    Sqs,
    /// SES mails.
    Ses,
    /// Secrets Manager secrets and calls.
    SecretsManager,
    /// API Gateway HTTP API requests.
    HttpApi,
    /// CloudWatch Logs ingestion and alarms.
    CloudWatch,
}

impl Service {
    /// The name the tables print.
    pub fn name(self) -> &'static str {
        match self {
            Service::Lambda => "Lambda",
            Service::StepFunctions => "Step Functions",
            Service::DynamoDb => "DynamoDB",
            Service::S3 => "S3",
            Service::Sqs => "SQS",
            Service::Ses => "SES",
            Service::SecretsManager => "Secrets Manager",
            Service::HttpApi => "API Gateway",
            Service::CloudWatch => "CloudWatch",
        }
    }
}

/// Dollars by service, and the actions no price applies to (shown, never silently dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bill {
    /// Dollars by service.
    pub lines: BTreeMap<Service, f64>,
    /// Actions counted but not priced (neither free nor known).
    pub unpriced: BTreeSet<String>,
}

impl Bill {
    /// Adds `dollars` to `service`.
    pub fn add(&mut self, service: Service, dollars: f64) {
        *self.lines.entry(service).or_default() += dollars;
    }

    /// The bill's total.
    pub fn total(&self) -> f64 {
        self.lines.values().sum()
    }

    /// This bill `times` over (a month of views, of drift checks).
    pub fn times(&self, times: f64) -> Bill {
        Bill {
            lines: self.lines.iter().map(|(s, d)| (*s, d * times)).collect(),
            unpriced: self.unpriced.clone(),
        }
    }

    /// Adds every line of `other` to this bill.
    pub fn merge(&mut self, other: &Bill) {
        for (s, d) in &other.lines {
            self.add(*s, *d);
        }
        self.unpriced.extend(other.unpriced.iter().cloned());
    }
}

/// How one request of an action is charged.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Charge {
    DynamoRead(f64),
    DynamoWrite(f64),
    S3Get,
    S3Put,
    Sqs,
    Mail,
    SecretsCall,
    /// No charge of its own: Step Functions API calls (transitions are billed), Lambda invokes
    /// (invocations are billed), DynamoDB Streams reads by Lambda triggers, deletes in S3, logs.
    Free,
    Unpriced,
}

/// How `action` (an IAM action, "service:Operation") is charged, per request.
fn charge(action: &str, units: &DynamoUnits) -> Charge {
    let (service, operation) = action.split_once(':').unwrap_or((action, ""));
    match (service, operation) {
        ("dynamodb", "GetItem") => Charge::DynamoRead(1.0),
        ("dynamodb", "Query" | "Scan") => Charge::DynamoRead(units.read_units_per_query),
        ("dynamodb", "BatchGetItem") => Charge::DynamoRead(units.items_per_batch_get),
        ("dynamodb", "TransactGetItems") => Charge::DynamoRead(2.0 * units.items_per_transaction),
        ("dynamodb", "PutItem" | "UpdateItem" | "DeleteItem") => Charge::DynamoWrite(1.0),
        ("dynamodb", "BatchWriteItem") => Charge::DynamoWrite(units.items_per_batch_write),
        ("dynamodb", "TransactWriteItems") => Charge::DynamoWrite(2.0 * units.items_per_transaction),
        ("dynamodb", "DescribeStream" | "GetRecords" | "GetShardIterator" | "ListStreams") => Charge::Free,
        ("s3", "GetObject" | "GetObjectVersion" | "HeadObject") => Charge::S3Get,
        ("s3", "PutObject" | "CopyObject" | "ListBucket" | "ListObjectsV2" | "ListBucketVersions") => Charge::S3Put,
        ("s3", "DeleteObject" | "DeleteObjectVersion") => Charge::Free,
        ("sqs", _) => Charge::Sqs,
        ("ses", "SendEmail" | "SendRawEmail") => Charge::Mail,
        ("secretsmanager", _) => Charge::SecretsCall,
        ("states", _) | ("lambda", "InvokeFunction") | ("logs", _) => Charge::Free,
        _ => Charge::Unpriced,
    }
}

/// What `usage` costs at `prices`, its DynamoDB requests turned into units by `units`.
/// Free tiers are not subtracted.
pub fn price(usage: &ReleaseUsage, units: &DynamoUnits, prices: &Prices) -> Bill {
    let mut bill = Bill::default();
    for (action, &count) in &usage.requests {
        let n = count as f64;
        match charge(action, units) {
            Charge::DynamoRead(u) => bill.add(Service::DynamoDb, n * u * prices.dynamodb_per_million_rru / 1e6),
            Charge::DynamoWrite(u) => bill.add(Service::DynamoDb, n * u * prices.dynamodb_per_million_wru / 1e6),
            Charge::S3Get => bill.add(Service::S3, n * prices.s3_per_1000_get / 1e3),
            Charge::S3Put => bill.add(Service::S3, n * prices.s3_per_1000_put / 1e3),
            Charge::Sqs => bill.add(Service::Sqs, n * prices.sqs_per_million / 1e6),
            Charge::Mail => bill.add(Service::Ses, n * prices.ses_per_1000_mails / 1e3),
            Charge::SecretsCall => bill.add(Service::SecretsManager, n * prices.secrets_per_10000_calls / 1e4),
            Charge::Free => {}
            Charge::Unpriced => {
                bill.unpriced.insert(action.clone());
            }
        }
    }
    for inv in usage.invocations.values() {
        let gb_seconds = inv.total_ms / 1e3 * f64::from(inv.memory_mb) / 1024.0;
        let requests = inv.count as f64 * prices.lambda_per_million_requests / 1e6;
        bill.add(Service::Lambda, requests + gb_seconds * prices.lambda_gb_second);
    }
    bill.add(
        Service::StepFunctions,
        usage.state_transitions as f64 * prices.per_1000_state_transitions / 1e3,
    );
    bill.add(
        Service::HttpApi,
        usage.http_requests as f64 * prices.http_api_per_million / 1e6,
    );
    bill
}

/// Lambda invocations in `usage`.
pub fn invocations(usage: &ReleaseUsage) -> u64 {
    usage.invocations.values().map(|i| i.count).sum()
}

/// CloudWatch Logs ingestion of `count` invocations at `bytes_each`.
fn logs(count: f64, bytes_each: f64, prices: &Prices) -> f64 {
    count * bytes_each / 1e9 * prices.logs_per_gb_ingested
}

/// One release: its journey, its logs, and the storage its packages add for a month.
pub fn release(s: &Scenario, prices: &Prices) -> Bill {
    let mut bill = price(&s.release, &s.release_units, prices);
    bill.add(
        Service::CloudWatch,
        logs(invocations(&s.release) as f64, s.log_bytes_per_invocation, prices),
    );
    bill
}

/// Page views a month by all readers.
pub fn views_per_month(s: &Scenario) -> f64 {
    f64::from(s.readers) * s.views_per_reader_per_day * s.working_days
}

/// A month of readers.
pub fn readers(s: &Scenario, prices: &Prices) -> Bill {
    let mut bill = price(&s.view, &s.view_units, prices).times(views_per_month(s));
    let count = invocations(&s.view) as f64 * views_per_month(s);
    bill.add(Service::CloudWatch, logs(count, s.log_bytes_per_invocation, prices));
    bill
}

/// A month with no release: drift checks, digests, secrets, alarms, idle SQS polling.
pub fn idle(s: &Scenario, prices: &Prices) -> Bill {
    let i = &s.idle;
    let mut bill = price(&i.drift_run, &s.release_units, prices).times(i.drift_runs);
    bill.merge(&price(&i.digest, &s.release_units, prices).times(i.digests));
    let count = invocations(&i.drift_run) as f64 * i.drift_runs + invocations(&i.digest) as f64 * i.digests;
    bill.add(Service::CloudWatch, logs(count, s.log_bytes_per_invocation, prices));
    bill.add(Service::CloudWatch, f64::from(i.alarms) * prices.alarm_month);
    bill.add(Service::SecretsManager, f64::from(i.secrets) * prices.secret_month);
    bill.add(Service::Sqs, i.idle_sqs_receives * prices.sqs_per_million / 1e6);
    bill
}

/// S3 storage a month for `releases_per_month`, at the steady state of `retained_months`.
pub fn storage(s: &Scenario, releases_per_month: f64, prices: &Prices) -> f64 {
    releases_per_month * s.package_mb_per_release / 1024.0 * s.retained_months * prices.s3_gb_month
}

/// A month with `releases_per_month` releases: releases + readers + idle + package storage.
pub fn month(s: &Scenario, releases_per_month: f64, prices: &Prices) -> Bill {
    let mut bill = release(s, prices).times(releases_per_month);
    bill.merge(&readers(s, prices));
    bill.merge(&idle(s, prices));
    bill.add(Service::S3, storage(s, releases_per_month, prices));
    bill
}

/// `scenario` with the release's requests and state transitions as the bench counted them on
/// the local stack (`baton_e2e::usage`); invocations and their durations stay the scenario's
/// (local durations include the emulator's, which would overstate Lambda's bill).
pub fn measured_scenario(scenario: Scenario, usage: &baton_e2e::usage::JourneyUsage) -> Scenario {
    let mut requests: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, operation), n) in &usage.requests {
        *requests.entry(operation.clone()).or_default() += n;
    }
    // What the release costs outside Baton's functions: CI's upload of the package, and S3's
    // event for it into the uploads queue.
    for outside in ["s3:PutObject", "sqs:SendMessage"] {
        *requests.entry(outside.to_string()).or_default() += 1;
    }
    Scenario {
        label: format!("measured {}", chrono::Utc::now().format("%Y-%m-%d")),
        release: ReleaseUsage {
            requests,
            state_transitions: usage.state_transitions,
            ..scenario.release
        },
        ..scenario
    }
}
