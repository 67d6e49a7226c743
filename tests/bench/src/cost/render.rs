//! The cost tables as markdown (the bench prints and saves them; docs/cost.md holds a copy),
//! and the one-line per-release figure.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::prices::{OCTOPUS_PROFESSIONAL_PER_YEAR, READ_ON, REGIONS};
use super::{Bill, Scenario, Service, idle, month, readers, release, views_per_month};

/// The release volumes of the monthly rows.
pub const VOLUMES: [u32; 3] = [10, 100, 1000];

/// `x` dollars: cents from one cent up, three significant digits below it.
pub fn dollars(x: f64) -> String {
    if x == 0.0 {
        return "$0".into();
    }
    if x.abs() >= 0.01 {
        return format!("${}", thousands_2dp(x));
    }
    let decimals = (-x.abs().log10()).floor() as usize + 3;
    format!("${x:.decimals$}")
}

/// `x` with two decimals and thousands separated by commas.
fn thousands_2dp(x: f64) -> String {
    let fixed = format!("{x:.2}");
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    format!("{}.{cents}", thousands(whole))
}

/// A whole number's digits with thousands separated by commas.
fn thousands(number: &str) -> String {
    let (sign, digits) = number.split_at(usize::from(number.starts_with('-')));
    let mut out = sign.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row(out: &mut String, label: &str, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells.into_iter().collect();
    let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
}

fn per_region(f: impl Fn(&super::Prices) -> f64) -> Vec<String> {
    REGIONS.iter().map(|p| dollars(f(p))).collect()
}

/// Octopus Deploy Professional, per month.
pub fn octopus_per_month() -> f64 {
    OCTOPUS_PROFESSIONAL_PER_YEAR / 12.0
}

/// The tables: one release, a month of readers, of idle time, the three volumes, Octopus's
/// price beside them; then one release and a month of 100 releases by service.
pub fn markdown(s: &Scenario) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Usage: {}. AWS list prices read {READ_ON}, free tiers ignored.\n",
        s.label
    );
    let regions: Vec<&str> = REGIONS.iter().map(|p| p.region).collect();
    row(&mut out, "", regions.iter().map(|r| r.to_string()));
    row(&mut out, "---", regions.iter().map(|_| "---:".to_string()));
    row(&mut out, "one release", per_region(|p| release(s, p).total()));
    let views = format!(
        "readers, a month ({} users × {} page loads × {} working days = {} loads)",
        s.readers,
        s.views_per_reader_per_day,
        s.working_days,
        thousands(&format!("{:.0}", views_per_month(s)))
    );
    row(&mut out, &views, per_region(|p| readers(s, p).total()));
    let idle_label = format!(
        "idle, a month (drift every 15 min, digests, {} secrets, {} alarms, SQS polling)",
        s.idle.secrets, s.idle.alarms
    );
    row(&mut out, &idle_label, per_region(|p| idle(s, p).total()));
    for n in VOLUMES {
        let label = format!(
            "**{} releases a month** (releases + readers + idle + packages kept {} months)",
            thousands(&n.to_string()),
            s.retained_months
        );
        row(&mut out, &label, per_region(|p| month(s, f64::from(n), p).total()));
    }
    let octopus = format!(
        "Octopus Deploy Professional (Cloud), at any of these volumes: {} a year",
        dollars(OCTOPUS_PROFESSIONAL_PER_YEAR)
    );
    row(&mut out, &octopus, REGIONS.iter().map(|_| dollars(octopus_per_month())));

    let _ = writeln!(out, "\nBy service:\n");
    let mut header = vec![];
    for r in &regions {
        header.push(format!("one release, {r}"));
        header.push(format!("100 releases a month, {r}"));
    }
    row(&mut out, "service", header.clone());
    row(&mut out, "---", header.iter().map(|_| "---:".to_string()));
    let bills: Vec<(Bill, Bill)> = REGIONS.iter().map(|p| (release(s, p), month(s, 100.0, p))).collect();
    let services: BTreeSet<Service> = bills
        .iter()
        .flat_map(|(a, b)| a.lines.keys().chain(b.lines.keys()).copied())
        .collect();
    for service in services {
        let cells = bills
            .iter()
            .flat_map(|(one, hundred)| [line(one, service), line(hundred, service)]);
        row(&mut out, service.name(), cells);
    }
    let totals = bills
        .iter()
        .flat_map(|(one, hundred)| [dollars(one.total()), dollars(hundred.total())]);
    row(&mut out, "**total**", totals);
    let unpriced: BTreeSet<&String> = bills
        .iter()
        .flat_map(|(a, b)| a.unpriced.iter().chain(&b.unpriced))
        .collect();
    if !unpriced.is_empty() {
        let names: Vec<&str> = unpriced.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "\nCounted but not priced: {}.", names.join(", "));
    }
    out
}

fn line(bill: &Bill, service: Service) -> String {
    dollars(bill.lines.get(&service).copied().unwrap_or(0.0))
}

/// One release's cost in each region, in one line.
pub fn one_line(s: &Scenario) -> String {
    let figures: Vec<String> = REGIONS
        .iter()
        .map(|p| format!("{} in {}", dollars(release(s, p).total()), p.region))
        .collect();
    format!(
        "One release costs {} (AWS list prices read {READ_ON}, free tiers ignored; usage {}).",
        figures.join(" and "),
        s.label
    )
}
