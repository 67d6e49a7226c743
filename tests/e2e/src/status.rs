//! What the status tests need: HTTP reads of the status routes, a journey through both
//! environments, counting the DynamoDB requests a call makes, seeding a long history in bulk,
//! and headless Chromium.

mod browser;

pub use browser::{Chromium, Widths, screenshots_dir, shown, visible_text};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use baton_aws::dynamo::status::{rejected_item, release_item};
use baton_domain::{RejectedPackage, Release, ReleaseId};
use serde_json::Value;

use crate::{Harness, Item, sample_site};

/// The longest a journey step may take on a loaded machine.
const JOURNEY_STEP: Duration = Duration::from_secs(90);

/// An HTTP answer: status, content type, body.
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// `content-type`.
    pub content_type: String,
    /// Body text.
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).with_context(|| format!("not JSON: {}", self.body))
    }
}

/// The DynamoDB operations among the endpoint's request counts.
pub fn dynamodb_only(counts: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    counts
        .into_iter()
        .filter_map(|(op, n)| op.strip_prefix("DynamoDB_20120810.").map(|o| (o.to_string(), n)))
        .collect()
}

impl Harness {
    /// Approves release `number` for `environment` from the first approver's mailed link.
    pub async fn approve_from_mail(&self, number: u64, environment: &str, comment: &str) -> Result<()> {
        let links = self.approval_links(number, environment).await?;
        let page = self.decide(&links[0].1, "approve", comment).await?;
        if page.status != 200 {
            bail!(
                "approving release {number} for {environment}: {} {}",
                page.status,
                page.body
            );
        }
        Ok(())
    }

    /// Waits until release `number` is live in `environment`.
    pub async fn wait_live(&self, environment: &str, number: u64) -> Result<()> {
        self.wait_live_polling(environment, number, Duration::from_millis(200))
            .await
    }

    /// [`Harness::wait_live`], reading the environment's record every `every` (`make bench`
    /// times with a finer poll than tests need).
    pub async fn wait_live_polling(&self, environment: &str, number: u64, every: Duration) -> Result<()> {
        let deadline = Instant::now() + JOURNEY_STEP;
        let want = ReleaseId::from_number(number);
        while self.environment(environment).await?.current.map(|c| c.release_id) != Some(want.clone()) {
            if Instant::now() > deadline {
                bail!(
                    "release {number} not live in {environment} within {} s",
                    JOURNEY_STEP.as_secs()
                );
            }
            tokio::time::sleep(every).await;
        }
        Ok(())
    }

    /// Waits until `/api/status` lists at least `count` refused uploads.
    pub async fn wait_for_rejections(&self, count: usize) -> Result<()> {
        let deadline = Instant::now() + JOURNEY_STEP;
        while self.get_json("/api/status").await?["rejected_packages"]
            .as_array()
            .map_or(0, Vec::len)
            < count
        {
            if Instant::now() > deadline {
                bail!("no {count} rejected package(s) within {} s", JOURNEY_STEP.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    /// A journey to a state worth showing: release 1 live in TEST and PROD; release 2 (a new
    /// web version) live in TEST and waiting for PROD sign-off; one refused upload.
    pub async fn status_journey(&self) -> Result<()> {
        self.release_samples("1.0.0", 1).await?;
        self.approve_from_mail(1, "TEST", "tested on the preview").await?;
        self.approve_from_mail(1, "PROD", "go").await?;
        self.wait_for_status(1, "released", JOURNEY_STEP).await?;
        self.upload(
            "packages/web/v1.1/site.zip",
            sample_site("bad"),
            &[("commit", "0badc0de")],
        )
        .await?;
        // One component changes: one release.
        let metadata = [
            ("commit", "c0ffee1"),
            ("branch", "main"),
            ("notes", "Admissions form: clearer error messages"),
        ];
        self.upload("packages/web/1.1.0/site.zip", sample_site("1.1.0"), &metadata)
            .await?;
        baton_local::demo::wait_for_release(&self.stack, 2, JOURNEY_STEP).await?;
        self.approve_from_mail(2, "TEST", "").await?;
        self.wait_live("TEST", 2).await?;
        self.approval_links(2, "PROD").await?;
        self.wait_for_rejections(1).await
    }

    /// GETs a path of the HTTP API.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        let cookie = self.viewer.lock().ok().and_then(|v| v.clone());
        let mut request = reqwest::Client::new().get(format!("{}{path}", self.stack.http_url));
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let answer = request.send().await?;
        let status = answer.status().as_u16();
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(Answer {
            status,
            content_type,
            body: answer.text().await?,
        })
    }

    /// GETs a JSON route, expecting 200.
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let answer = self.get(path).await?;
        if answer.status != 200 {
            bail!("GET {path}: {} {}", answer.status, answer.body);
        }
        answer.json()
    }

    /// GETs `path` and returns the DynamoDB requests it made, by operation (`Query`, ...).
    /// Nothing else may use DynamoDB meanwhile: call it with no workflow running.
    pub async fn dynamodb_requests_of(&self, path: &str) -> Result<BTreeMap<String, u64>> {
        let before = dynamodb_only(self.stack.aws_requests.snapshot());
        let answer = self.get(path).await?;
        if answer.status != 200 {
            bail!("GET {path}: {} {}", answer.status, answer.body);
        }
        let after = dynamodb_only(self.stack.aws_requests.snapshot());
        Ok(after
            .into_iter()
            .map(|(op, n)| (op.clone(), n - before.get(&op).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect())
    }

    /// Writes items with BatchWriteItem, 25 a request, `parallel` requests at a time, retrying
    /// whatever DynamoDB leaves unprocessed.
    pub async fn write_items(&self, items: Vec<Item>, parallel: usize) -> Result<()> {
        let mut running = tokio::task::JoinSet::new();
        for batch in items.chunks(25) {
            if running.len() >= parallel.max(1)
                && let Some(done) = running.join_next().await
            {
                done??;
            }
            running.spawn(write_batch(self.dynamodb.clone(), self.table.clone(), batch.to_vec()));
        }
        while let Some(done) = running.join_next().await {
            done??;
        }
        Ok(())
    }

    /// Seeds releases `numbers` as copies of `model` (their own id, number and time: an hour
    /// apart, in number order, before the model's), stored exactly as Baton stores releases.
    /// Returns how long it took.
    pub async fn seed_releases(&self, model: &Release, numbers: std::ops::RangeInclusive<u64>) -> Result<Duration> {
        let started = Instant::now();
        let mut items = Vec::new();
        for number in numbers {
            let mut release = model.clone();
            release.id = ReleaseId::from_number(number);
            release.number = number;
            release.previous = number.checked_sub(1).filter(|n| *n > 0).map(ReleaseId::from_number);
            release.created_at = model.created_at - hours(SEED_HORIZON_HOURS - number);
            items.push(release_item(&release).map_err(|e| anyhow!("{e}"))?);
        }
        self.write_items(items, 4).await?;
        Ok(started.elapsed())
    }

    /// Seeds `count` refused uploads like `model`, stored as Baton stores them.
    pub async fn seed_rejections(&self, model: &RejectedPackage, count: u64) -> Result<()> {
        let mut items = Vec::new();
        for n in 0..count {
            let mut rejected = model.clone();
            rejected.object_key = format!("packages/web/old-{n}/site.zip");
            rejected.object_tag = format!("seed-{n}");
            rejected.rejected_at = model.rejected_at - hours(n + 1);
            items.push(rejected_item(&rejected).map_err(|e| anyhow!("{e}"))?);
        }
        self.write_items(items, 4).await
    }
}

/// Seeded releases end this many hours (minus their number) before the model.
const SEED_HORIZON_HOURS: u64 = 10_000;

/// `n` hours: seeded records are spaced an hour apart, going back in time.
fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3_600)
}

/// One BatchWriteItem of at most 25 items, retrying whatever DynamoDB leaves unprocessed.
async fn write_batch(db: aws_sdk_dynamodb::Client, table: String, batch: Vec<Item>) -> Result<()> {
    let mut requests: Vec<WriteRequest> = batch
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<_, _>>()?;
    for _ in 0..10 {
        let out = db.batch_write_item().request_items(&table, requests).send().await?;
        requests = out
            .unprocessed_items
            .and_then(|mut u| u.remove(&table))
            .unwrap_or_default();
        if requests.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("DynamoDB kept items unprocessed")
}

/// Whether `text` is an ISO 8601 UTC time as the API writes them (`2026-03-02T09:42:00Z`,
/// fractions allowed).
pub fn is_iso8601_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && text.ends_with('Z')
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .iter()
            .all(|r| b[r.clone()].iter().all(u8::is_ascii_digit))
}
