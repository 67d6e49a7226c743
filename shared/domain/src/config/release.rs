//! `release:` how a new release behaves before anyone is asked about it.
//!
//! CI often pushes the packages of one change seconds apart (web, then state): each push makes a
//! release. The settle window lets a release wait quietly first; a newer release made within it
//! supersedes it before any approver is mailed, so a burst of pushes asks for one sign-off.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The settle window unless `release.settle_seconds` says otherwise.
pub const DEFAULT_SETTLE_SECONDS: u32 = 30;
/// The longest settle window: a release should not sit unseen for long.
pub const MAX_SETTLE_SECONDS: u32 = 600;

/// The `release:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseConfig {
    /// Seconds a new release waits for newer packages before its first approval request; 0
    /// asks at once.
    #[serde(default = "default_settle_seconds")]
    pub settle_seconds: u32,
}

fn default_settle_seconds() -> u32 {
    DEFAULT_SETTLE_SECONDS
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            settle_seconds: DEFAULT_SETTLE_SECONDS,
        }
    }
}

impl ReleaseConfig {
    /// The settle window.
    pub fn settle(&self) -> Duration {
        Duration::from_secs(u64::from(self.settle_seconds))
    }

    /// Until when a release created at `created_at` collects packages, if it still does at `now`.
    pub fn collecting_until(&self, created_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let until = created_at + chrono::Duration::seconds(i64::from(self.settle_seconds));
        (self.settle_seconds > 0 && now < until).then_some(until)
    }

    /// Problems with the section, as `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        if self.settle_seconds > MAX_SETTLE_SECONDS {
            return vec![(
                "settle_seconds",
                format!("must be between 0 and {MAX_SETTLE_SECONDS} (seconds a new release waits for newer packages)"),
            )];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BatonConfig;

    const LOCAL: &str = include_str!("../../../../infra/config/baton.local.yaml");

    fn with(settle: &str) -> String {
        LOCAL.replace("  settle_seconds: 0\n", settle)
    }

    #[test]
    fn defaults_to_thirty_seconds() {
        let without = with("").replace("\nrelease:\n", "\n");
        let config = BatonConfig::from_yaml(&without).expect("valid");
        assert_eq!(config.release.settle_seconds, 30);
    }

    #[test]
    fn zero_and_six_hundred_are_allowed_and_more_is_refused_naming_the_field() {
        for ok in [0, 600] {
            let yaml = with(&format!("  settle_seconds: {ok}\n"));
            assert_eq!(BatonConfig::from_yaml(&yaml).expect("valid").release.settle_seconds, ok);
        }
        let yaml = with("  settle_seconds: 601\n");
        let err = BatonConfig::from_yaml(&yaml).expect_err("too long").to_string();
        assert!(err.contains("release.settle_seconds"), "{err}");
    }

    #[test]
    fn collecting_until_the_window_ends() {
        let created = DateTime::parse_from_rfc3339("2026-03-02T10:42:00Z")
            .expect("time")
            .to_utc();
        let release = ReleaseConfig { settle_seconds: 30 };
        let until = created + chrono::Duration::seconds(30);
        assert_eq!(release.collecting_until(created, created), Some(until));
        assert_eq!(release.collecting_until(created, until), None);
        assert_eq!(
            ReleaseConfig { settle_seconds: 0 }.collecting_until(created, created),
            None
        );
    }
}
