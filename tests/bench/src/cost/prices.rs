//! AWS list prices for the two regions docs/cost.md compares, and Octopus Cloud's published
//! price. Every figure was read on 2026-12-01 from the source named beside it; "unconfirmed"
//! marks a best-known published figure no stored page confirmed (docs/cost.md, "Prices").
//! Free tiers are left out on purpose: the headline is what the usage costs at list price.

/// The date every price below was read.
pub const READ_ON: &str = "2026-12-01";

/// One region's list prices, in US dollars, for the first (smallest) volume tier.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// The AWS region's code.
    pub region: &'static str,
    /// Lambda, arm64: per GB-second of duration (first 7.5 billion GB-s a month).
    pub lambda_gb_second: f64,
    /// Lambda: per million requests (invocations), either architecture.
    pub lambda_per_million_requests: f64,
    /// Step Functions Standard: per 1,000 state transitions.
    pub per_1000_state_transitions: f64,
    /// DynamoDB on-demand, Standard table class: per million write request units.
    pub dynamodb_per_million_wru: f64,
    /// DynamoDB on-demand, Standard table class: per million read request units.
    pub dynamodb_per_million_rru: f64,
    /// S3 Standard: per 1,000 GET, SELECT and all other requests (HEAD priced as GET).
    pub s3_per_1000_get: f64,
    /// S3 Standard: per 1,000 PUT, COPY, POST and LIST requests.
    pub s3_per_1000_put: f64,
    /// S3 Standard: per GB-month stored (first 50 TB).
    pub s3_gb_month: f64,
    /// SQS standard queues: per million requests (64 KB chunks; Baton's messages are smaller).
    pub sqs_per_million: f64,
    /// SES outbound: per 1,000 mails (one recipient each: Baton mails each approver apart).
    pub ses_per_1000_mails: f64,
    /// Secrets Manager: per secret per month.
    pub secret_month: f64,
    /// Secrets Manager: per 10,000 API calls.
    pub secrets_per_10000_calls: f64,
    /// API Gateway HTTP API: per million requests (first 300 million a month).
    pub http_api_per_million: f64,
    /// CloudWatch Logs: per GB ingested (standard log class).
    pub logs_per_gb_ingested: f64,
    /// CloudWatch: per standard-resolution alarm per month.
    pub alarm_month: f64,
}

// Sources (read 2026-12-01):
// - Lambda: https://aws.amazon.com/lambda/pricing/ (stored, figures not in the excerpt);
//   arm64 $0.0000133334/GB-s for US East confirmed by https://cloudchipr.com/blog/aws-lambda-pricing,
//   $0.20 per 1M requests by the table in
//   https://git.mcrn.ar/mariano/lambda_local_runner/src/commit/957e45b8adae23ce50b966346229585b5df18b4d/docs/lambdas-md/lambda-13-cost.md
//   eu-west-1: unconfirmed (same figures).
// - Step Functions: https://aws.amazon.com/step-functions/pricing/ ($0.0250 per 1,000 for US
//   East (N. Virginia) and Europe (Ireland), read from the page's table).
// - DynamoDB on-demand: us-east-1 $0.625/M WRU, $0.125/M RRU per
//   https://airbyte.com/data-engineering-resources/dynamodb-pricing (after the November 2024
//   halving, https://aws.amazon.com/blogs/aws/amazon-dynamodb-on-demand-no-capacity-planning-and-pay-per-request-pricing);
//   eu-west-1 unconfirmed: the pre-cut $1.4135/$0.283 of
//   https://engineering-ed7.pages.dev/docs/architecture/aws/services/dynamodb, halved.
// - S3: https://aws.amazon.com/s3/pricing/ not stored; unconfirmed for both regions.
// - SQS: us-east-1 $0.40/M per https://cloudburn.io/blog/amazon-sqs-pricing; eu-west-1 unconfirmed.
// - SES: $0.10 per 1,000 per https://www.acecloudinterviews.com/tutorials/aws/ses/ (no region
//   named); unconfirmed per region.
// - Secrets Manager: $0.40 per secret-month, $0.05 per 10,000 calls per
//   https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms
//   (no region named); unconfirmed per region.
// - API Gateway HTTP API: us-east-1 $1.00/M per
//   https://docs.aws.amazon.com/pt_br/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html;
//   eu-west-1 $1.11/M unconfirmed.
// - CloudWatch Logs ingestion and alarms: https://aws.amazon.com/cloudwatch/pricing/ not
//   stored; unconfirmed.

/// us-east-1 (N. Virginia).
pub const US_EAST_1: Prices = Prices {
    region: "us-east-1",
    lambda_gb_second: 0.000_013_333_4,
    lambda_per_million_requests: 0.20,
    per_1000_state_transitions: 0.025,
    dynamodb_per_million_wru: 0.625,
    dynamodb_per_million_rru: 0.125,
    s3_per_1000_get: 0.0004,
    s3_per_1000_put: 0.005,
    s3_gb_month: 0.023,
    sqs_per_million: 0.40,
    ses_per_1000_mails: 0.10,
    secret_month: 0.40,
    secrets_per_10000_calls: 0.05,
    http_api_per_million: 1.00,
    logs_per_gb_ingested: 0.50,
    alarm_month: 0.10,
};

/// eu-west-1 (Ireland).
pub const EU_WEST_1: Prices = Prices {
    region: "eu-west-1",
    lambda_gb_second: 0.000_013_333_4,
    lambda_per_million_requests: 0.20,
    per_1000_state_transitions: 0.025,
    dynamodb_per_million_wru: 0.706_75,
    dynamodb_per_million_rru: 0.141_5,
    s3_per_1000_get: 0.0004,
    s3_per_1000_put: 0.005,
    s3_gb_month: 0.023,
    sqs_per_million: 0.40,
    ses_per_1000_mails: 0.10,
    secret_month: 0.40,
    secrets_per_10000_calls: 0.05,
    http_api_per_million: 1.11,
    logs_per_gb_ingested: 0.57,
    alarm_month: 0.10,
};

/// The regions docs/cost.md compares, in its column order.
pub const REGIONS: [Prices; 2] = [US_EAST_1, EU_WEST_1];

/// Octopus Deploy's Professional plan ("best for under 100 projects"), per year, in US dollars,
/// as https://octopus.com/pricing/overview published it (transcribed 2026-10-04 in
/// https://raw.githubusercontent.com/api-evangelist/octopus-deploy/refs/heads/main/plans/octopus-deploy-plans-pricing.yml,
/// read 2026-12-01). The page's plans are Free ($0), Professional ($4,330) and Enterprise
/// ($24,600); docs/cost.md says why Professional is the comparable one.
pub const OCTOPUS_PROFESSIONAL_PER_YEAR: f64 = 4330.0;
