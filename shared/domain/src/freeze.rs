//! Freeze windows: times an environment takes no deployments (a weekend, a sales peak, the
//! holidays). Written in `baton.yaml` per environment, in the configured time zone, either once
//! (`start`, `end`) or recurring (`every`, `until`: every Friday 16:00 until Monday 08:00, or
//! every day 18:00 until 08:00). Approvals may be given during a freeze; the deployment waits
//! for its end unless an approver overrides it.
//!
//! Local times that a clock change makes ambiguous or skips are read the tolerant way, so that
//! a freeze never shrinks: an ambiguous start is its earlier instant and an ambiguous end its
//! later one; a skipped time (the hour the clocks jump over) is the first instant after the
//! jump.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use crate::local_time::{self, Edge};
use serde::{Deserialize, Serialize};

/// One freeze window as written in `baton.yaml`: either `start` and `end`, or `every` and
/// `until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeConfig {
    /// Why, shown on the status page and in mails (e.g. `weekend`, `Black Friday`).
    pub reason: String,
    /// A one-off freeze's first minute, local time: `2026-12-24 00:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// A one-off freeze's end (deployments may start again from then), local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// When a recurring freeze begins: `Friday 16:00`, or `day 18:00` for every day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    /// When a recurring freeze ends: `Monday 08:00` (weekly) or `08:00` (daily).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A freeze window, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreezeWindow {
    /// Once, between two local times.
    Once {
        /// First minute of the freeze.
        start: NaiveDateTime,
        /// First minute deployments may run again.
        end: NaiveDateTime,
    },
    /// Every week, from a weekday and time to a weekday and time (at most a week later).
    Weekly {
        /// Day and time it begins.
        start: (Weekday, NaiveTime),
        /// Day and time it ends.
        end: (Weekday, NaiveTime),
    },
    /// Every day, from a time to a time (the next day when the end is earlier).
    Daily {
        /// Time it begins.
        start: NaiveTime,
        /// Time it ends.
        end: NaiveTime,
    },
}

/// A freeze in force at some instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveFreeze {
    /// The reason of the window in force (the first, when several overlap).
    pub reason: String,
    /// When deployments may run again: the end of this window and of every window it runs
    /// into.
    pub ends_at: DateTime<Utc>,
}

/// Why a freeze window could not be read; each names the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreezeProblem {
    /// The field (`start`, `end`, `every`, `until`, `reason`, or empty for the window).
    pub field: &'static str,
    /// What is wrong and what is expected.
    pub message: String,
}

/// How many times one release may wait on freezes in one environment: each wait lasts until
/// the freeze (and every freeze it runs into) ends, so a second only comes from freezes changed
/// meanwhile. Bounds the workflow's history (config/limits.rs).
pub const MAX_FREEZE_WAITS: u64 = 10;

/// The longest one-off freeze: shorter than [`MAX_FREEZE`], so one window alone never counts
/// as a freeze without end.
pub const MAX_ONE_OFF_FREEZE: Duration = Duration::days(30);

/// How far a chain of freezes is followed. Validation refuses windows that chain for longer, so
/// a release never waits on a freeze without end.
pub const MAX_FREEZE: Duration = Duration::days(31);

impl FreezeConfig {
    /// The window this describes, or every problem with it.
    pub fn window(&self) -> Result<FreezeWindow, Vec<FreezeProblem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: &str| {
            problems.push(FreezeProblem {
                field,
                message: message.to_string(),
            })
        };
        if self.reason.trim().is_empty() {
            problem("reason", "must say why, e.g. weekend or year-end close");
        }
        let window = match (&self.start, &self.end, &self.every, &self.until) {
            (Some(start), Some(end), None, None) => {
                let start_at = crate::local_time::parse(start);
                let end_at = crate::local_time::parse(end);
                if start_at.is_none() {
                    problem("start", "must be a local date and time like 2026-12-24 18:00");
                }
                if end_at.is_none() {
                    problem("end", "must be a local date and time like 2026-12-27 08:00");
                }
                match (start_at, end_at) {
                    (Some(start), Some(end)) if end <= start => {
                        problem("end", "must be after start");
                        None
                    }
                    (Some(start), Some(end)) if end - start > MAX_ONE_OFF_FREEZE => {
                        problem("end", "must be at most 30 days after start");
                        None
                    }
                    (Some(start), Some(end)) => Some(FreezeWindow::Once { start, end }),
                    _ => None,
                }
            }
            (None, None, Some(every), Some(until)) => match parse_every(every) {
                Some(Every::Weekly(day, time)) => match parse_day_time(until) {
                    Some(end) if end == (day, time) => {
                        problem("until", "must differ from every (a freeze cannot last the whole week)");
                        None
                    }
                    Some(end) => Some(FreezeWindow::Weekly {
                        start: (day, time),
                        end,
                    }),
                    None => {
                        problem("until", "must be a weekday and a time, like Monday 08:00");
                        None
                    }
                },
                Some(Every::Daily(time)) => match parse_time(until) {
                    Some(end) if end == time => {
                        problem("until", "must differ from every (a freeze cannot last the whole day)");
                        None
                    }
                    Some(end) => Some(FreezeWindow::Daily { start: time, end }),
                    None => {
                        problem("until", "must be a time like 08:00 (the freeze recurs every day)");
                        None
                    }
                },
                None => {
                    problem(
                        "every",
                        "must be a weekday and a time (Friday 16:00) or day and a time (day 18:00)",
                    );
                    None
                }
            },
            _ => {
                problem(
                    "",
                    "must have either start and end (once) or every and until (recurring), and nothing else",
                );
                None
            }
        };
        match window {
            Some(w) if problems.is_empty() => Ok(w),
            _ => Err(problems),
        }
    }
}

impl FreezeWindow {
    /// The occurrence of this window that holds `at`, as a UTC interval `[start, end)`.
    fn occurrence_holding(&self, zone: Tz, at: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let local = at.with_timezone(&zone).naive_local();
        let candidates: Vec<(NaiveDateTime, NaiveDateTime)> = match self {
            FreezeWindow::Once { start, end } => vec![(*start, *end)],
            FreezeWindow::Weekly { start, end } => {
                let back = i64::from((7 + local.weekday().num_days_from_monday() - start.0.num_days_from_monday()) % 7);
                let begin = (local.date() - Duration::days(back)).and_time(start.1);
                let length = weekly_length(*start, *end);
                // The occurrence that began this week, the one before it, and (near a clock
                // change, where local and UTC order can differ by an hour) the next one.
                [-7, 0, 7]
                    .into_iter()
                    .map(|shift| {
                        let s = begin + Duration::days(shift);
                        (s, s + length)
                    })
                    .collect()
            }
            FreezeWindow::Daily { start, end } => {
                let length = daily_length(*start, *end);
                [-1, 0, 1]
                    .into_iter()
                    .map(|shift| {
                        let s = (local.date() + Duration::days(shift)).and_time(*start);
                        (s, s + length)
                    })
                    .collect()
            }
        };
        candidates.into_iter().find_map(|(start, end)| {
            let start = local_time::instant(zone, start, Edge::Start);
            let end = local_time::instant(zone, end, Edge::End);
            (start <= at && at < end).then_some((start, end))
        })
    }
}

/// The freeze in force at `at` among `windows` (with their reasons), if any, and when it ends:
/// the end of the window holding `at`, carried on through every window that holds that end, up
/// to [`MAX_FREEZE`].
pub fn freeze_at<'a>(
    windows: impl IntoIterator<Item = (&'a FreezeWindow, &'a str)> + Clone,
    zone: Tz,
    at: DateTime<Utc>,
) -> Option<ActiveFreeze> {
    let (reason, mut ends_at) = windows
        .clone()
        .into_iter()
        .find_map(|(w, reason)| w.occurrence_holding(zone, at).map(|(_, end)| (reason, end)))?;
    let limit = at + MAX_FREEZE;
    while ends_at < limit {
        let later = windows
            .clone()
            .into_iter()
            .filter_map(|(w, _)| w.occurrence_holding(zone, ends_at).map(|(_, end)| end))
            .max();
        match later {
            Some(end) if end > ends_at => ends_at = end,
            _ => break,
        }
    }
    Some(ActiveFreeze {
        reason: reason.to_string(),
        ends_at: ends_at.min(limit),
    })
}

/// Every problem with an environment's freezes, each with its path below `freezes`
/// (`[1].until`) and message: windows that cannot be read, and windows that together leave no
/// time to deploy (a chain of freezes reaching [`MAX_FREEZE`]).
pub fn problems(freezes: &[FreezeConfig], zone: Tz) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut windows = Vec::new();
    for (i, freeze) in freezes.iter().enumerate() {
        match freeze.window() {
            Ok(w) => windows.push((i, w)),
            Err(problems) => found.extend(problems.into_iter().map(|p| {
                let field = if p.field.is_empty() {
                    String::new()
                } else {
                    format!(".{}", p.field)
                };
                (format!("[{i}]{field}"), p.message)
            })),
        }
    }
    // Recurring windows repeat every week, so following each from one week's occurrence finds
    // any chain without end; a one-off window is followed from its own start.
    let reference = NaiveDate::from_isoywd_opt(2026, 2, Weekday::Mon).unwrap_or_default();
    for (i, window) in &windows {
        let start = match window {
            FreezeWindow::Once { start, .. } => *start,
            FreezeWindow::Weekly { start, .. } => {
                (reference + Duration::days(i64::from(start.0.num_days_from_monday()))).and_time(start.1)
            }
            FreezeWindow::Daily { start, .. } => reference.and_time(*start),
        };
        let at = local_time::instant(zone, start, Edge::Start);
        let all = windows.iter().map(|(_, w)| (w, ""));
        if freeze_at(all, zone, at).is_some_and(|f| f.ends_at - at >= MAX_FREEZE) {
            found.push((
                format!("[{i}]"),
                "runs into other freezes without a break for 31 days or more; deployments would never run".to_string(),
            ));
        }
    }
    found
}

fn weekly_length(start: (Weekday, NaiveTime), end: (Weekday, NaiveTime)) -> Duration {
    let days = i64::from((7 + end.0.num_days_from_monday() - start.0.num_days_from_monday()) % 7);
    let length = Duration::days(days) + (end.1 - start.1);
    if length <= Duration::zero() {
        length + Duration::days(7)
    } else {
        length
    }
}

fn daily_length(start: NaiveTime, end: NaiveTime) -> Duration {
    let length = end - start;
    if length <= Duration::zero() {
        length + Duration::days(1)
    } else {
        length
    }
}

enum Every {
    Weekly(Weekday, NaiveTime),
    Daily(NaiveTime),
}

fn parse_every(text: &str) -> Option<Every> {
    let (day, time) = text.trim().split_once(char::is_whitespace)?;
    if day.eq_ignore_ascii_case("day") {
        return parse_time(time).map(Every::Daily);
    }
    parse_day_time(text).map(|(d, t)| Every::Weekly(d, t))
}

fn parse_day_time(text: &str) -> Option<(Weekday, NaiveTime)> {
    let (day, time) = text.trim().split_once(char::is_whitespace)?;
    let day: Weekday = day.parse().ok()?;
    Some((day, parse_time(time)?))
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

#[cfg(test)]
mod tests;
