//! Delivery figures over a fixed recent window: how often releases reach production, how long
//! a change takes from upload to production, how often a deployment fails, and how long
//! releases wait for sign-off. The change failure rate counts production deployments only.
//! Computed from the recent releases' own records only, so their
//! cost never grows with history.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::deployment::{ComponentDeployment, DeployStatus};
use crate::package::Package;
use crate::release::{Release, ReleaseId};

/// The figures' window: releases created in the last this many days (and among the recent
/// releases the overview reads).
pub const FIGURES_WINDOW_DAYS: i64 = 30;

/// A duration figure: the median over its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DurationFigure {
    /// The median, in seconds.
    pub median_seconds: i64,
    /// How many measurements it is the median of.
    pub samples: usize,
}

/// The delivery figures (`delivery` in `/api/status`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryFigures {
    /// The window's length in days.
    pub window_days: i64,
    /// Start of the period measured: `window_days` ago, or later if the recent releases read
    /// did not reach that far back.
    pub since: DateTime<Utc>,
    /// Releases created in the period.
    pub releases: usize,
    /// The production environment (the last in lifecycle order).
    pub production: String,
    /// Releases that went live in production in the period.
    pub deployments_to_production: usize,
    /// The same per week.
    pub per_week: f64,
    /// Median time from a package's upload to its release being live in production.
    pub lead_time: Option<DurationFigure>,
    /// Releases of the period whose deployment to production started (deployments elsewhere
    /// do not count).
    pub deployed_releases: usize,
    /// Of those, how many failed in production (a component failed or was rolled back there).
    pub failed_releases: usize,
    /// `failed_releases / deployed_releases`, from 0 to 1; `null` if nothing was deployed.
    pub change_failure_rate: Option<f64>,
    /// Median time from a release being ready for an environment (created, or live in the
    /// previous environment) until its deployment there started: mostly waiting for sign-off.
    pub approval_wait: Option<DurationFigure>,
}

/// What the figures are computed from.
pub(crate) struct FigureInputs<'a> {
    /// Environments in lifecycle order.
    pub environments: &'a [String],
    /// Recent releases, newest first.
    pub releases: &'a [Release],
    /// Whether older releases exist beyond `releases`.
    pub more_exist: bool,
    /// Deployment records of those releases.
    pub deployments: &'a [ComponentDeployment],
    /// Their changed packages.
    pub packages: &'a [Package],
    /// Now.
    pub now: DateTime<Utc>,
}

/// Per release and environment: (first start, last successful finish).
pub(super) type Spans<'a> = BTreeMap<(&'a ReleaseId, &'a str), (DateTime<Utc>, Option<DateTime<Utc>>)>;

pub(super) fn spans(deployments: &[ComponentDeployment]) -> Spans<'_> {
    let mut spans: Spans = BTreeMap::new();
    for d in deployments {
        let entry = spans
            .entry((&d.release_id, d.environment.as_str()))
            .or_insert((d.started_at, None));
        entry.0 = entry.0.min(d.started_at);
        if d.status == DeployStatus::Succeeded {
            entry.1 = Some(entry.1.map_or(d.updated_at, |t| t.max(d.updated_at)));
        }
    }
    spans
}

pub(super) fn median(mut samples: Vec<i64>) -> Option<DurationFigure> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let n = samples.len();
    let median_seconds = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    };
    Some(DurationFigure {
        median_seconds,
        samples: n,
    })
}

/// Seconds from each changed package's upload to the release going live in production at `live_at`.
pub(super) fn lead_times_of(release: &Release, live_at: DateTime<Utc>, packages: &[Package]) -> Vec<i64> {
    release
        .changes
        .iter()
        .filter_map(|change| {
            packages
                .iter()
                .find(|p| p.component == change.component && p.version == change.to)
        })
        .map(|p| (live_at - p.registered_at).num_seconds().max(0))
        .collect()
}

/// Per environment the release was deployed to: when its deployment started, and the seconds
/// it had waited since it was ready there (created, or live in the previous environment).
pub(super) fn waits_of(release: &Release, environments: &[String], spans: &Spans) -> Vec<(DateTime<Utc>, i64)> {
    let mut waits = Vec::new();
    let mut ready = Some(release.created_at);
    for env in environments {
        let span = spans.get(&(&release.id, env.as_str()));
        if let (Some(ready_at), Some((started, _))) = (ready, span) {
            waits.push((*started, (*started - ready_at).num_seconds().max(0)));
        }
        ready = span.and_then(|(_, finished)| *finished);
    }
    waits
}

impl DeliveryFigures {
    /// The figures for the releases of the window.
    pub(crate) fn compute(input: &FigureInputs) -> DeliveryFigures {
        let window_start = input.now - Duration::days(FIGURES_WINDOW_DAYS);
        // If the recent releases read stop short of the window, measure only what they cover.
        let oldest_read = input.releases.last().map(|r| r.created_at);
        let since = match oldest_read {
            Some(oldest) if input.more_exist && oldest > window_start => oldest,
            _ => window_start,
        };
        let releases: Vec<&Release> = input.releases.iter().filter(|r| r.created_at >= since).collect();
        let spans = spans(input.deployments);
        let production = input.environments.last().cloned().unwrap_or_default();

        let mut deployments_to_production = 0;
        let mut lead_times = Vec::new();
        let mut waits = Vec::new();
        let mut deployed_releases = 0;
        let mut failed_releases = 0;
        for release in &releases {
            // DORA's change failure rate is about production: a failure caught in TEST is the
            // lifecycle working, not a failed change.
            if spans.contains_key(&(&release.id, production.as_str())) {
                deployed_releases += 1;
                let failed_there = input.deployments.iter().any(|d| {
                    d.release_id == release.id
                        && d.environment == production
                        && matches!(d.status, DeployStatus::Failed | DeployStatus::RolledBack)
                });
                if failed_there {
                    failed_releases += 1;
                }
            }
            if let Some((_, Some(live_at))) = spans.get(&(&release.id, production.as_str())) {
                deployments_to_production += 1;
                lead_times.extend(lead_times_of(release, *live_at, input.packages));
            }
            waits.extend(
                waits_of(release, input.environments, &spans)
                    .into_iter()
                    .map(|(_, wait)| wait),
            );
        }
        let days = ((input.now - since).num_seconds() as f64 / 86_400.0).max(1.0);
        DeliveryFigures {
            window_days: FIGURES_WINDOW_DAYS,
            since,
            releases: releases.len(),
            production,
            deployments_to_production,
            per_week: (deployments_to_production as f64 * 7.0 / days * 10.0).round() / 10.0,
            lead_time: median(lead_times),
            deployed_releases,
            failed_releases,
            change_failure_rate: (deployed_releases > 0).then(|| failed_releases as f64 / deployed_releases as f64),
            approval_wait: median(waits),
        }
    }
}
