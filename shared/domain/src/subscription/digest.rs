//! The weekly digest: what went live where in the last seven days, and what waits on whom.

use chrono::{DateTime, Duration, Utc};

use crate::ports::status::{ReleaseRecord, StatusView};
use crate::release::ReleaseId;

/// The window a digest looks back over.
pub const WINDOW: Duration = Duration::days(7);

/// A release that went live in an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WentLive {
    /// The release.
    pub release: ReleaseId,
    /// Its number.
    pub number: u64,
    /// Where.
    pub environment: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One week's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The start of the window.
    pub since: DateTime<Utc>,
    /// What went live, oldest first.
    pub went_live: Vec<WentLive>,
    /// What waits on whom, one sentence each (releases in flight, then open requests).
    pub waiting: Vec<String>,
}

impl Digest {
    /// The digest at `now` from the overview and the records of the recent releases.
    pub fn build(view: &StatusView, records: &[ReleaseRecord], now: DateTime<Utc>) -> Digest {
        let since = now - WINDOW;
        let mut went_live: Vec<WentLive> = records
            .iter()
            .flat_map(|r| {
                r.events.iter().filter_map(move |e| {
                    let environment = crate::subscription::live_in(e)?;
                    (e.at >= since && e.at <= now).then(|| WentLive {
                        release: r.release.id.clone(),
                        number: r.release.number,
                        environment: environment.to_string(),
                        at: e.at,
                    })
                })
            })
            .collect();
        went_live.sort_by(|a, b| a.at.cmp(&b.at).then(a.number.cmp(&b.number)));
        went_live.dedup();
        let mut waiting: Vec<String> = view.in_flight.iter().map(|f| f.summary.clone()).collect();
        for env in &view.environments {
            waiting.extend(env.pending.iter().map(|p| p.summary.clone()));
        }
        Digest {
            since,
            went_live,
            waiting,
        }
    }

    /// Whether nothing happened and nothing waits.
    pub fn is_quiet(&self) -> bool {
        self.went_live.is_empty() && self.waiting.is_empty()
    }
}
