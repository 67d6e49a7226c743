//! The arithmetic on small cases computed by hand.

use super::prices::{EU_WEST_1, US_EAST_1};
use super::render::dollars;
use super::*;

const UNITS: DynamoUnits = DynamoUnits {
    read_units_per_query: 2.0,
    items_per_batch_get: 4.0,
    items_per_batch_write: 5.0,
    items_per_transaction: 3.0,
};

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{actual} is not {expected}"
    );
}

fn requests(action: &str, count: u64) -> ReleaseUsage {
    ReleaseUsage {
        requests: [(action.to_string(), count)].into(),
        ..ReleaseUsage::default()
    }
}

fn cost(action: &str, count: u64, prices: &Prices) -> f64 {
    price(&requests(action, count), &UNITS, prices).total()
}

#[test]
fn a_million_requests_cost_the_list_price_per_million() {
    close(cost("sqs:SendMessage", 1_000_000, &US_EAST_1), 0.40);
    close(cost("sqs:ReceiveMessage", 1_000_000, &EU_WEST_1), 0.40);
    close(cost("dynamodb:PutItem", 1_000_000, &US_EAST_1), 0.625);
    close(cost("dynamodb:GetItem", 1_000_000, &US_EAST_1), 0.125);
    close(cost("dynamodb:UpdateItem", 1_000_000, &EU_WEST_1), 0.706_75);
    let http = ReleaseUsage {
        http_requests: 1_000_000,
        ..ReleaseUsage::default()
    };
    close(price(&http, &UNITS, &US_EAST_1).total(), 1.00);
    close(price(&http, &UNITS, &EU_WEST_1).total(), 1.11);
}

#[test]
fn thousands_of_s3_mail_and_secrets_requests_cost_their_list_price() {
    close(cost("s3:GetObject", 1000, &US_EAST_1), 0.0004);
    close(cost("s3:GetObjectVersion", 1000, &US_EAST_1), 0.0004);
    close(cost("s3:PutObject", 1000, &US_EAST_1), 0.005);
    close(cost("s3:ListBucket", 1000, &US_EAST_1), 0.005);
    close(cost("ses:SendEmail", 1000, &US_EAST_1), 0.10);
    close(cost("secretsmanager:GetSecretValue", 10_000, &US_EAST_1), 0.05);
}

#[test]
fn dynamodb_units_follow_the_stated_items_per_request() {
    // 1,000 transactions of 3 items: 2 units an item, 6,000 WRU.
    close(
        cost("dynamodb:TransactWriteItems", 1000, &US_EAST_1),
        6000.0 * 0.625 / 1e6,
    );
    // 1,000 batch writes of 5 items, 1,000 queries of 2 units, 1,000 batch gets of 4 items.
    close(cost("dynamodb:BatchWriteItem", 1000, &US_EAST_1), 5000.0 * 0.625 / 1e6);
    close(cost("dynamodb:Query", 1000, &US_EAST_1), 2000.0 * 0.125 / 1e6);
    close(cost("dynamodb:BatchGetItem", 1000, &US_EAST_1), 4000.0 * 0.125 / 1e6);
}

#[test]
fn lambda_charges_requests_and_gb_seconds() {
    let usage = ReleaseUsage {
        invocations: [
            (
                "a".to_string(),
                Invocations {
                    count: 1,
                    total_ms: 1000.0,
                    memory_mb: 1024,
                },
            ),
            (
                "b".to_string(),
                Invocations {
                    count: 4,
                    total_ms: 2000.0,
                    memory_mb: 256,
                },
            ),
        ]
        .into(),
        ..ReleaseUsage::default()
    };
    // 1 GB-s + 0.5 GB-s, 5 requests.
    let expected = 1.5 * 0.000_013_333_4 + 5.0 * 0.20 / 1e6;
    let bill = price(&usage, &UNITS, &US_EAST_1);
    close(bill.total(), expected);
    close(bill.lines[&Service::Lambda], expected);
}

#[test]
fn a_thousand_state_transitions_cost_two_and_a_half_cents() {
    let usage = ReleaseUsage {
        state_transitions: 1000,
        ..ReleaseUsage::default()
    };
    close(price(&usage, &UNITS, &US_EAST_1).total(), 0.025);
    close(price(&usage, &UNITS, &EU_WEST_1).total(), 0.025);
}

#[test]
fn free_actions_cost_nothing_and_unknown_ones_are_reported() {
    for action in [
        "states:StartExecution",
        "states:SendTaskSuccess",
        "dynamodb:GetRecords",
        "lambda:InvokeFunction",
    ] {
        let bill = price(&requests(action, 1_000_000), &UNITS, &US_EAST_1);
        close(bill.total(), 0.0);
        assert!(bill.unpriced.is_empty(), "{action}");
    }
    let bill = price(&requests("kms:Decrypt", 5), &UNITS, &US_EAST_1);
    close(bill.total(), 0.0);
    assert_eq!(bill.unpriced.iter().collect::<Vec<_>>(), ["kms:Decrypt"]);
}

fn empty_scenario() -> Scenario {
    Scenario {
        label: "test".into(),
        release: ReleaseUsage::default(),
        release_units: UNITS,
        view: ViewUsage::default(),
        view_units: UNITS,
        readers: 0,
        views_per_reader_per_day: 0.0,
        working_days: 0.0,
        idle: IdleUsage {
            drift_runs: 0.0,
            drift_run: ReleaseUsage::default(),
            digests: 0.0,
            digest: ReleaseUsage::default(),
            secrets: 0,
            alarms: 0,
            idle_sqs_receives: 0.0,
        },
        package_mb_per_release: 0.0,
        retained_months: 0.0,
        log_bytes_per_invocation: 0.0,
    }
}

#[test]
fn idle_costs_secrets_alarms_and_empty_receives() {
    let mut s = empty_scenario();
    s.idle.secrets = 7;
    s.idle.alarms = 15;
    s.idle.idle_sqs_receives = 1_000_000.0;
    let bill = idle(&s, &US_EAST_1);
    close(bill.lines[&Service::SecretsManager], 2.80);
    close(bill.lines[&Service::CloudWatch], 1.50);
    close(bill.lines[&Service::Sqs], 0.40);
    close(bill.total(), 4.70);
}

#[test]
fn drift_checks_are_priced_once_per_run() {
    let mut s = empty_scenario();
    s.idle.drift_runs = 2880.0;
    s.idle.drift_run = requests("secretsmanager:GetSecretValue", 2);
    close(idle(&s, &US_EAST_1).total(), 5760.0 * 0.05 / 1e4);
}

#[test]
fn readers_multiply_one_view_by_the_month_s_views() {
    let mut s = empty_scenario();
    s.readers = 20;
    s.views_per_reader_per_day = 10.0;
    s.working_days = 21.0;
    s.view = ReleaseUsage {
        http_requests: 1,
        ..ReleaseUsage::default()
    };
    close(views_per_month(&s), 4200.0);
    close(readers(&s, &US_EAST_1).total(), 4200.0 / 1e6);
}

#[test]
fn a_gb_kept_a_month_costs_the_storage_price_and_logs_their_ingestion() {
    let mut s = empty_scenario();
    s.package_mb_per_release = 1024.0;
    s.retained_months = 1.0;
    close(storage(&s, 1.0, &US_EAST_1), 0.023);
    s.log_bytes_per_invocation = 1e9;
    s.release.invocations = [(
        "a".to_string(),
        Invocations {
            count: 1,
            total_ms: 0.0,
            memory_mb: 128,
        },
    )]
    .into();
    close(release(&s, &US_EAST_1).lines[&Service::CloudWatch], 0.50);
}

#[test]
fn a_month_adds_releases_readers_idle_and_storage() {
    let s = provisional::scenario();
    for prices in &prices::REGIONS {
        let none = month(&s, 0.0, prices).total();
        close(none, readers(&s, prices).total() + idle(&s, prices).total());
        let expected = none + 100.0 * release(&s, prices).total() + storage(&s, 100.0, prices);
        close(month(&s, 100.0, prices).total(), expected);
    }
}

#[test]
fn the_provisional_release_sums_its_calls() {
    let usage = provisional::release_usage();
    let calls: u64 = provisional::RELEASE_CALLS.iter().map(|(_, _, n)| n).sum();
    assert_eq!(usage.requests.values().sum::<u64>(), calls);
    assert_eq!(usage.state_transitions, 95);
    assert_eq!(usage.requests["dynamodb:TransactWriteItems"], 13);
    let bill = price(&usage, &provisional::scenario().release_units, &US_EAST_1);
    assert!(bill.unpriced.is_empty(), "{:?}", bill.unpriced);
}

#[test]
fn dollars_keep_three_significant_digits_under_a_cent() {
    assert_eq!(dollars(0.0), "$0");
    assert_eq!(dollars(0.005_123), "$0.00512");
    assert_eq!(dollars(0.000_123_4), "$0.000123");
    assert_eq!(dollars(0.42), "$0.42");
    assert_eq!(dollars(1234.5), "$1,234.50");
    assert_eq!(dollars(360.833), "$360.83");
    assert_eq!(dollars(-1234.5), "$-1,234.50");
}

#[test]
fn the_tables_show_both_regions_every_volume_and_octopus() {
    let s = provisional::scenario();
    let table = markdown(&s);
    for needle in [
        "| us-east-1 | eu-west-1 |",
        "| one release |",
        "**10 releases a month**",
        "**100 releases a month**",
        "**1,000 releases a month**",
        "Octopus Deploy Professional",
        "$360.83",
        "| Step Functions |",
        "provisional",
    ] {
        assert!(table.contains(needle), "{needle} missing from\n{table}");
    }
    assert!(!table.contains("Counted but not priced"), "{table}");
    let line = one_line(&s);
    assert!(line.contains("us-east-1") && line.contains("eu-west-1"), "{line}");
}

#[test]
fn a_measured_journey_replaces_the_releases_requests_and_transitions_only() {
    let provisional = provisional::scenario();
    let usage = baton_e2e::usage::JourneyUsage {
        requests: [
            (("ingest".to_string(), "dynamodb:Query".to_string()), 1),
            (("notify".to_string(), "dynamodb:Query".to_string()), 2),
            (("ingest".to_string(), "states:StartExecution".to_string()), 1),
        ]
        .into(),
        state_transitions: 57,
        polls: Default::default(),
    };
    let measured = measured_scenario(provisional.clone(), &usage);
    assert_eq!(measured.release.state_transitions, 57);
    assert_eq!(measured.release.requests["dynamodb:Query"], 3, "summed over functions");
    assert_eq!(measured.release.requests["states:StartExecution"], 1);
    assert_eq!(measured.release.requests["s3:PutObject"], 1, "CI's upload");
    assert_eq!(measured.release.requests["sqs:SendMessage"], 1, "S3's event");
    assert_eq!(measured.release.requests.len(), 4);
    assert_eq!(measured.release.invocations, provisional.release.invocations);
    assert_eq!(measured.view, provisional.view);
    assert!(measured.label.starts_with("measured "));
}
