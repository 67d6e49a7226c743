//! Weekly trends for the overview's small charts: deployments to production, lead time and time
//! waiting for sign-off, over the last [`TREND_WEEKS`] weeks. Computed from the same recent
//! releases and deployments as the delivery figures: no read of its own.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::figures::{DurationFigure, FigureInputs, lead_times_of, median, spans, waits_of};

/// How many weeks the trends cover.
pub const TREND_WEEKS: usize = 12;

/// One week of the trends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekTrend {
    /// The week's start (weeks end at the view's `generated_at`).
    pub starts: DateTime<Utc>,
    /// Whether the releases read reach back to this week; an unknown week's figures are zero
    /// and mean nothing.
    pub known: bool,
    /// Releases that went live in production this week.
    pub deployments: usize,
    /// Median time from upload to production of those releases.
    pub lead_time: Option<DurationFigure>,
    /// Median wait for sign-off of the deployments that started this week.
    pub approval_wait: Option<DurationFigure>,
}

/// The trends (`trends` in `/api/status`): [`TREND_WEEKS`] weeks, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trends {
    /// The production environment.
    pub production: String,
    /// The weeks, oldest first.
    pub weeks: Vec<WeekTrend>,
    /// How many of the most recent weeks the releases read cover.
    pub weeks_known: usize,
}

impl Trends {
    /// The trends of the releases read.
    pub(crate) fn compute(input: &FigureInputs) -> Trends {
        let week = Duration::days(7);
        let first = input.now - week * TREND_WEEKS as i32;
        // The releases read stop short of older history: weeks before the oldest are unknown.
        let known_since = match input.releases.last() {
            Some(oldest) if input.more_exist => oldest.created_at,
            _ => first,
        };
        let bucket = |at: DateTime<Utc>| -> Option<usize> {
            if at < first || at >= input.now {
                return None;
            }
            usize::try_from((at - first).num_seconds() / week.num_seconds()).ok()
        };
        let production = input.environments.last().cloned().unwrap_or_default();
        let spans = spans(input.deployments);
        let mut deployments = [0usize; TREND_WEEKS];
        let mut leads: Vec<Vec<i64>> = vec![Vec::new(); TREND_WEEKS];
        let mut waits: Vec<Vec<i64>> = vec![Vec::new(); TREND_WEEKS];
        for release in input.releases {
            if let Some((_, Some(live_at))) = spans.get(&(&release.id, production.as_str()))
                && let Some(i) = bucket(*live_at)
            {
                deployments[i] += 1;
                leads[i].extend(lead_times_of(release, *live_at, input.packages));
            }
            for (started, wait) in waits_of(release, input.environments, &spans) {
                if let Some(i) = bucket(started) {
                    waits[i].push(wait);
                }
            }
        }
        let weeks: Vec<WeekTrend> = (0..TREND_WEEKS)
            .zip(leads.into_iter().zip(waits))
            .map(|(i, (lead, wait))| {
                let starts = first + week * i as i32;
                WeekTrend {
                    starts,
                    // A week is known if the releases read reach its start (or its middle, so a
                    // young installation's first week counts).
                    known: starts + week / 2 >= known_since,
                    deployments: deployments[i],
                    lead_time: median(lead),
                    approval_wait: median(wait),
                }
            })
            .collect();
        let weeks_known = weeks.iter().filter(|w| w.known).count();
        Trends {
            production,
            weeks,
            weeks_known,
        }
    }
}
