//! `make bench`: Baton's measured figures, printed as one table. Each figure is the median of
//! repeated runs with its spread (min – max), next to its target.
//!
//! - `init`: each function's cold start (init time, peak RSS) against a local Runtime API, its
//!   zip from `make package`, and a Python 3 + boto3 baseline measured the same way;
//! - `ingest`: CPU per upload message of the real binary;
//! - `hostile`: the real ingest binary's peak RSS per hostile package (a process each);
//! - `burst`: a burst of 1,000 uploads through the local stack;
//! - `status`: handler time and DynamoDB requests with 100 and with 10,000 releases;
//! - `journey`: upload → approval mail, approval click → live in TEST;
//! - `pages`: a 2,000-file site deployed to the Cloudflare Pages simulator, twice;
//! - `cost`: one release's AWS bill at list prices, and a month's (docs/cost.md).
//!
//! `baton-bench [part ...]` runs only those parts.

mod cost;
mod hostile;
mod ingest;
mod init;
mod journey;
mod pages;
mod process;
mod runtime_api;
mod status;
mod table;

use anyhow::Result;

/// The parts, in the order they run and print.
const PARTS: [&str; 8] = [
    "init", "ingest", "hostile", "burst", "status", "journey", "pages", "cost",
];

#[tokio::main]
async fn main() -> Result<()> {
    let asked: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = asked.iter().find(|a| !PARTS.contains(&a.as_str())) {
        anyhow::bail!("unknown part '{unknown}': choose from {}", PARTS.join(", "));
    }
    let wanted = |part: &str| asked.is_empty() || asked.iter().any(|a| a == part);
    let root = baton_e2e::baton_local::repository_root();
    // `cargo build --profile bench` writes to target/release (the bench profile's directory).
    let profile = std::env::var("BATON_BENCH_DIR").unwrap_or_else(|_| "release".into());
    let mut report = table::Report::default();
    let mut cost_tables = None;
    let mut measured = None;
    let started = std::time::Instant::now();
    for part in PARTS.into_iter().filter(|p| wanted(p)) {
        eprintln!("measuring {part} ...");
        let part_started = std::time::Instant::now();
        match part {
            "init" => init::measure(&root, &profile, &mut report).await?,
            "ingest" => ingest::measure_cpu(&root, &profile, &mut report).await?,
            "hostile" => hostile::measure(&root, &profile, &mut report).await?,
            "burst" => ingest::measure_burst(&root, &mut report).await?,
            "status" => status::measure(&mut report).await?,
            "journey" => {
                journey::measure(&mut report).await?;
                measured = Some(journey::measure_requests(&mut report).await?);
            }
            "cost" => cost_tables = Some(cost_part(&mut report, measured.as_ref())),
            _ => pages::measure(&mut report).await?,
        }
        eprintln!("measured {part} in {:.0} s", part_started.elapsed().as_secs_f64());
    }
    report.note(format!(
        "Machine: {}. Measured {} in {:.0} s.",
        machine(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        started.elapsed().as_secs_f64()
    ));
    println!("\n{}", report.render());
    if let Some(tables) = cost_tables {
        println!("\n## Cost\n\n{tables}");
    }
    Ok(())
}

/// One release's cost per region into `report`; the month tables, to print after it. The
/// release's requests and state transitions are the `journey` part's counts when it ran, the
/// provisional ones (read from the code) otherwise; see docs/cost.md.
fn cost_part(report: &mut table::Report, measured: Option<&baton_e2e::usage::JourneyUsage>) -> String {
    let mut scenario = cost::provisional::scenario();
    if let Some(usage) = measured {
        scenario = cost::measured_scenario(scenario, usage);
    }
    report.section(format!(
        "Cost at AWS list prices (docs/cost.md), {} usage",
        scenario.label
    ));
    for prices in &cost::prices::REGIONS {
        let cents = cost::release(&scenario, prices).total() * 100.0;
        report.value(
            format!("one release, {}", prices.region),
            "¢",
            cents,
            table::Target::None,
        );
    }
    report.note(cost::one_line(&scenario));
    cost::markdown(&scenario)
}

/// Cores, memory and CPU model, from `/proc`.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!(
        "{cores} cores, {memory_gib:.0} GiB, {model}, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
