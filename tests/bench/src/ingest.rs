//! Ingest: the CPU time its real binary spends per upload message, and the throughput of a
//! burst of 1,000 uploads through the local stack.
//!
//! Every upload is a new version of the sample site or the sample state manifest, so each
//! message registers a package and (being the newest) makes a release and starts its workflow:
//! ingest's full path, not its "already seen" shortcut.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use baton_e2e::Harness;
use baton_e2e::baton_local::StackOptions;
use tokio::task::JoinSet;

use crate::process;
use crate::runtime_api::RuntimeApi;
use crate::table::{Report, Target};

/// Rounds of the CPU measure, each with a freshly started ingest process.
const CPU_ROUNDS: usize = 3;
/// Upload messages per round.
const CPU_MESSAGES: usize = 100;
/// A count from the environment variable `name`, else `default` (to shorten a bench run).
fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
/// Uploads in the burst (1,000, or `BATON_BENCH_BURST`).
fn burst_size() -> usize {
    count_from_env("BATON_BENCH_BURST", 1_000)
}
/// Bursts, each on a fresh stack (3, or `BATON_BENCH_BURST_RUNS`).
fn burst_runs() -> usize {
    count_from_env("BATON_BENCH_BURST_RUNS", 3)
}
/// Uploads CI-side in flight at once.
const PARALLEL_UPLOADS: usize = 16;

/// The sample packages, as CI would upload them.
#[derive(Clone)]
struct Samples {
    site: Vec<u8>,
    manifest: Vec<u8>,
}

impl Samples {
    fn load(root: &Path) -> Result<Samples> {
        Ok(Samples {
            site: baton_e2e::baton_local::demo::zip_folder(&root.join("samples/web/site"))?,
            manifest: std::fs::read(root.join("samples/state/manifest.yaml")).context("reading the sample manifest")?,
        })
    }

    /// Upload `n`: the site and the manifest take turns, each a version higher than before.
    fn upload(&self, series: usize, n: usize) -> (String, Vec<u8>) {
        let version = format!("{}.{}.0", series + 1, n / 2);
        if n.is_multiple_of(2) {
            (format!("packages/web/{version}/site.zip"), self.site.clone())
        } else {
            (format!("packages/state/{version}/manifest.yaml"), self.manifest.clone())
        }
    }
}

/// Uploads `count` packages of `series`, `PARALLEL_UPLOADS` at a time, in version order.
async fn upload_all(h: &Harness, samples: &Samples, series: usize, count: usize) -> Result<()> {
    let mut running = JoinSet::new();
    for n in 0..count {
        if running.len() >= PARALLEL_UPLOADS
            && let Some(done) = running.join_next().await
        {
            done??;
        }
        let (key, body) = samples.upload(series, n);
        let put =
            h.s3.put_object()
                .bucket(&h.stack.bucket)
                .key(key.clone())
                .body(body.into())
                .metadata("commit", format!("{n:07x}"))
                .metadata("branch", "main")
                .metadata("notes", "make bench");
        running.spawn(async move { put.send().await.with_context(|| format!("uploading {key}")).map(|_| ()) });
    }
    while let Some(done) = running.join_next().await {
        done??;
    }
    Ok(())
}

/// Deletes handled `messages` from the queue, as the event source mapping does.
async fn delete(h: &Harness, queue_url: &str, messages: &[aws_sdk_sqs::types::Message]) -> Result<()> {
    for message in messages {
        h.sqs
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(message.receipt_handle().unwrap_or_default())
            .send()
            .await?;
    }
    Ok(())
}

/// A stack whose upload messages wait in the queue (pollers off), and how to start the real
/// `ingest` binary against it as Lambda would.
pub struct IngestRig {
    /// The stack.
    pub h: Harness,
    /// The ingest function's SQS source, as the template configures it.
    pub source: baton_e2e::baton_local::functions::SqsSource,
    /// The uploads queue.
    pub queue_url: String,
    /// The function's environment, pointed at the stack.
    pub env: std::collections::BTreeMap<String, String>,
    /// The built `ingest` binary.
    pub program: std::path::PathBuf,
}

/// Starts an [`IngestRig`].
pub async fn rig(root: &Path, profile: &str) -> Result<IngestRig> {
    let h = Harness::start_with(StackOptions {
        sqs_pollers: false,
        ..StackOptions::ephemeral().without_delays()
    })
    .await?;
    let function = h
        .stack
        .registry
        .functions
        .iter()
        .find(|f| f.binary == "ingest")
        .context("template.yaml has no ingest function")?;
    let source = function
        .sqs
        .first()
        .context("the ingest function has no SQS source")?
        .clone();
    let queue_url = h.stack.queue_url("UploadsQueue")?;
    let mut env = function.env.clone();
    env.insert("AWS_ENDPOINT_URL".into(), h.stack.aws_endpoint.clone());
    let program = crate::init::binary(root, profile, "ingest");
    Ok(IngestRig {
        h,
        source,
        queue_url,
        env,
        program,
    })
}

/// CPU per message: the stack's pollers are off, so the upload messages wait in the queue; the
/// real `ingest` binary, started as Lambda starts it (against a local Runtime API, the template's
/// environment, the stack's AWS endpoint), gets them in the batches the template configures.
/// Its CPU time (from `/proc`) after init until it has handled every message, divided by the
/// messages, is the figure: it includes reading `baton.yaml`, the zip checks, the SDK's request
/// signing and TLS-free HTTP, and JSON logging; not moto's time.
async fn cpu_per_message(root: &Path, profile: &str, samples: &Samples, report: &mut Report) -> Result<()> {
    let IngestRig {
        h,
        source,
        queue_url,
        env,
        program,
    } = rig(root, profile).await?;

    let (mut cpu_ms, mut wall_ms) = (Vec::new(), Vec::new());
    for round in 0..CPU_ROUNDS {
        upload_all(&h, samples, round, CPU_MESSAGES).await?;
        let api = RuntimeApi::start().await?;
        let child = process::lambda_command(&program, &[], &api.address(), &env)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let pid = child.id().context("no pid")?;
        api.polled(1).await?;
        let cpu_before = process::cpu_time(pid).context("no CPU time in /proc")?;
        let started = Instant::now();
        let (mut handled, mut invocations) = (0, 0);
        while handled < CPU_MESSAGES {
            let received = h
                .sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(source.batch_size)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await?;
            let (messages, test_events): (Vec<_>, Vec<_>) = received
                .messages
                .unwrap_or_default()
                .into_iter()
                .partition(|m| !m.body().unwrap_or_default().contains("s3:TestEvent"));
            // S3 sends one TestEvent when the bucket notification is set up: not an upload.
            delete(&h, &queue_url, &test_events).await?;
            if messages.is_empty() {
                if test_events.is_empty() {
                    bail!("the uploads queue ran dry after {handled} of {CPU_MESSAGES} messages");
                }
                continue;
            }
            let event = baton_e2e::baton_local::poller::sqs_event(&messages, &source.queue_arn, &h.stack.region);
            let answer = api.invoke(event).await?;
            invocations += 1;
            if let Some(failed) = answer["batchItemFailures"].as_array().filter(|f| !f.is_empty()) {
                bail!("ingest failed {} message(s) of a batch: {answer}", failed.len());
            }
            delete(&h, &queue_url, &messages).await?;
            handled += messages.len();
        }
        // Idle again, asking for the next event: everything it did for these messages is done.
        api.polled(invocations + 1).await?;
        let cpu = process::cpu_time(pid).context("no CPU time in /proc")? - cpu_before;
        wall_ms.push(started.elapsed().as_secs_f64() * 1000.0 / handled as f64);
        cpu_ms.push(cpu.as_secs_f64() * 1000.0 / handled as f64);
        drop(child);
    }
    let registered = h.packages().await?.len();
    ensure!(
        registered == CPU_ROUNDS * CPU_MESSAGES,
        "{registered} packages registered, not {}; refused: {:?}; left in the queue: {}",
        CPU_ROUNDS * CPU_MESSAGES,
        h.rejections().await?,
        h.queue_depth("UploadsQueue").await?
    );
    report.section(format!(
        "Ingest: the real binary fed {CPU_ROUNDS} × {CPU_MESSAGES} upload messages in batches of {} (a fresh process per run)",
        source.batch_size
    ));
    report.samples("ingest: CPU per message", "ms", &cpu_ms, Target::Below(5.0));
    report.samples(
        "ingest: wall time per message (moto included)",
        "ms",
        &wall_ms,
        Target::None,
    );
    Ok(())
}

/// The figures of bursts run alike, one sample per burst.
#[derive(Default)]
struct BurstFigures {
    throughput: Vec<f64>,
    seconds: Vec<f64>,
    releases: Vec<f64>,
    requests_per_upload: Vec<f64>,
}

/// Throughput: a burst of uploads (1,000, or `BATON_BENCH_BURST`) as fast as CI can put them,
/// through the whole local stack (S3 notification, SQS, the runner's 3 pollers, the in-process
/// ingest handler, moto, and the workflows the releases start), timed from the first upload until
/// the queue is empty with every upload handled.
///
/// The measured runs use the settle window a deployed Baton has by default
/// (`release.settle_seconds`, 30 s): it is how Baton meets a burst, each release superseded
/// inside the window ending before it plans or mails anything. One more run uses the local
/// config's 0 (the demo mails at once), where every release's workflow runs on to its approval
/// request before a newer one supersedes it: reported beside, with no target.
async fn burst(samples: &Samples, report: &mut Report) -> Result<()> {
    let size = burst_size();
    let runs = burst_runs();
    let settle = baton_domain::config::release::DEFAULT_SETTLE_SECONDS;
    let mut windowed = BurstFigures::default();
    for _ in 0..runs {
        burst_once(samples, size, settle, &mut windowed).await?;
    }
    let mut immediate = BurstFigures::default();
    burst_once(samples, size, 0, &mut immediate).await?;
    report.section(format!(
        "Ingest: a burst of {size} uploads ({PARALLEL_UPLOADS} in flight) through the local stack, {runs} runs with the default {settle} s settle window"
    ));
    report.samples(
        "burst: throughput",
        "uploads/s",
        &windowed.throughput,
        Target::AtLeast(10.0),
    );
    report.samples(
        "burst: first upload to all ingested",
        "s",
        &windowed.seconds,
        Target::None,
    );
    report.samples("burst: releases made", "", &windowed.releases, Target::None);
    report.samples(
        "burst: AWS requests per upload (every function, workflows included)",
        "",
        &windowed.requests_per_upload,
        Target::None,
    );
    report.samples(
        "burst with no settle window (the local config's 0): throughput",
        "uploads/s",
        &immediate.throughput,
        Target::None,
    );
    report.samples(
        "burst with no settle window: AWS requests per upload",
        "",
        &immediate.requests_per_upload,
        Target::None,
    );
    Ok(())
}

/// One burst on a fresh stack whose `baton.yaml` settles releases for `settle_seconds`.
async fn burst_once(samples: &Samples, size: usize, settle_seconds: u32, figures: &mut BurstFigures) -> Result<()> {
    let mut options = StackOptions::ephemeral().without_delays();
    let yaml = std::fs::read_to_string(options.root.join("infra/config/baton.local.yaml"))?;
    ensure!(
        yaml.contains("settle_seconds: 0"),
        "infra/config/baton.local.yaml no longer says `settle_seconds: 0`: update the burst bench"
    );
    options.config_yaml = Some(yaml.replacen("settle_seconds: 0", &format!("settle_seconds: {settle_seconds}"), 1));
    let h = Harness::start_with(options).await?;
    let started = Instant::now();
    upload_all(&h, samples, 0, size).await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut shown = Instant::now();
    loop {
        let depth = h.queue_depth("UploadsQueue").await?;
        if depth == 0 {
            break;
        }
        if Instant::now() > deadline {
            bail!("the burst was not ingested within 600 s");
        }
        if shown.elapsed() > Duration::from_secs(30) {
            eprintln!(
                "  burst: {depth} uploads still queued after {:.0} s",
                started.elapsed().as_secs_f64()
            );
            shown = Instant::now();
        }
        // moto counts a queue's messages one by one, under its lock: asking often would
        // slow the very thing measured. A second is fine against a burst of minutes.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let took = started.elapsed().as_secs_f64();
    let registered = h.packages().await?.len();
    ensure!(registered == size, "{registered} of {size} uploads registered");
    ensure!(h.dead_letters().await? == 0, "uploads went to the dead-letter queue");
    figures.releases.push(h.releases().await?.len() as f64);
    let counts = h.stack.iam.requests();
    let total: u64 = counts.iter().map(|c| c.count).sum();
    figures.requests_per_upload.push(total as f64 / size as f64);
    let mut by_function = std::collections::BTreeMap::<&str, u64>::new();
    for c in &counts {
        *by_function.entry(c.function.as_str()).or_default() += c.count;
    }
    eprintln!(
        "  burst (settle {settle_seconds} s): {took:.1} s, AWS requests by function (all {total}): {by_function:?}"
    );
    if std::env::var("BATON_BENCH_BURST_DETAIL").is_ok() {
        for c in &counts {
            eprintln!("    {:>28} {:<40} {:>6}", c.function, c.operation, c.count);
        }
    }
    figures.seconds.push(took);
    figures.throughput.push(size as f64 / took);
    h.stack.stop().await;
    Ok(())
}

/// The CPU figure into `report`.
pub async fn measure_cpu(root: &Path, profile: &str, report: &mut Report) -> Result<()> {
    cpu_per_message(root, profile, &Samples::load(root)?, report).await
}

/// The burst figures into `report`.
pub async fn measure_burst(root: &Path, report: &mut Report) -> Result<()> {
    burst(&Samples::load(root)?, report).await
}
