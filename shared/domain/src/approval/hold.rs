//! Holding a request: "not yet" instead of a final no. An approver puts a pending request on
//! hold with a reason and, optionally, until a time before it lapses; the request stays open,
//! nothing can approve it while the hold is in force, and any approver lifts it from their
//! link. A hold with a time ends by itself then (and the approvers are told).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::Approval;
use crate::local_time::{self, Edge};

/// The longest reason kept.
pub const MAX_REASON: usize = 500;

/// A hold on a pending request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The approver who put it on hold.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, in their words.
    pub reason: String,
    /// When it ends by itself, if it does (before the request lapses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

/// Why a hold cannot be put; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldProblem {
    /// No reason given.
    #[error("say why it is on hold (the other approvers and the status page show it)")]
    NoReason,
    /// Not a date and time.
    #[error("“{0}” is not a date and time; choose one like 2026-12-03 09:00, or leave it empty to hold until lifted")]
    Unreadable(String),
    /// In the past.
    #[error("{0} has passed; choose a later time, or leave it empty to hold until lifted")]
    Past(String),
    /// At or after the request lapses.
    #[error(
        "{0} is not before this request lapses ({1}); choose an earlier time, or leave it empty to hold until lifted"
    )]
    AfterLapse(String, String),
}

/// The hold an approver asks for, from the form's `reason` and `hold_until` (empty: until
/// lifted; else a local time in `zone`, as a browser's `datetime-local` sends it).
pub fn hold_from_form(
    by: &str,
    reason: Option<&str>,
    until: Option<&str>,
    zone: Tz,
    now: DateTime<Utc>,
    lapses_at: DateTime<Utc>,
) -> Result<Hold, HoldProblem> {
    let reason: String = reason.unwrap_or_default().trim().chars().take(MAX_REASON).collect();
    if reason.is_empty() {
        return Err(HoldProblem::NoReason);
    }
    let shown = |t: DateTime<Utc>| local_time::shown(t, zone);
    let until = match until.map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(text) => {
            // An end: an ambiguous time is its later instant, so the hold is never shorter.
            let at = local_time::parse(text)
                .map(|local| local_time::instant(zone, local, Edge::End))
                .ok_or_else(|| HoldProblem::Unreadable(text.to_string()))?;
            if at <= now {
                return Err(HoldProblem::Past(shown(at)));
            }
            if at >= lapses_at {
                return Err(HoldProblem::AfterLapse(shown(at), shown(lapses_at)));
            }
            Some(at)
        }
    };
    Ok(Hold {
        by: by.to_string(),
        at: now,
        reason,
        until,
    })
}

impl Hold {
    /// Whether it is in force at `now` (not ended by its time).
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}

impl Approval {
    /// The hold in force at `now`, if any.
    pub fn hold_at(&self, now: DateTime<Utc>) -> Option<&Hold> {
        self.hold.as_ref().filter(|h| h.in_force(now))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use chrono_tz::Europe::London;

    use super::*;

    fn utc(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
    }

    #[test]
    fn a_hold_needs_a_reason_and_may_end_at_a_local_time_before_the_lapse() {
        let (now, lapses) = (utc(1, 9), utc(4, 9));
        let open = hold_from_form("rm@x.io", Some("  CAB on Thursday "), Some(""), London, now, lapses).unwrap();
        assert_eq!(open.reason, "CAB on Thursday");
        assert_eq!((open.by.as_str(), open.at, open.until), ("rm@x.io", now, None));
        let timed = hold_from_form("rm@x.io", Some("CAB"), Some("2026-12-03T09:00"), London, now, lapses).unwrap();
        assert_eq!(timed.until, Some(utc(3, 9)));
        assert_eq!(
            hold_from_form("rm@x.io", Some("  "), None, London, now, lapses),
            Err(HoldProblem::NoReason)
        );
        assert_eq!(
            hold_from_form("rm@x.io", None, None, London, now, lapses),
            Err(HoldProblem::NoReason)
        );
        assert_eq!(
            hold_from_form("rm@x.io", Some("x"), Some("Thursday"), London, now, lapses),
            Err(HoldProblem::Unreadable("Thursday".into()))
        );
        assert!(matches!(
            hold_from_form("rm@x.io", Some("x"), Some("2026-12-01T09:00"), London, now, lapses),
            Err(HoldProblem::Past(_))
        ));
        let late = hold_from_form("rm@x.io", Some("x"), Some("2026-12-04T09:00"), London, now, lapses).unwrap_err();
        assert_eq!(
            late.to_string(),
            "Fri 4 Dec 2026, 09:00 GMT is not before this request lapses (Fri 4 Dec 2026, 09:00 GMT); choose an earlier time, or leave it empty to hold until lifted"
        );
        let long = "x".repeat(MAX_REASON + 10);
        assert_eq!(
            hold_from_form("rm@x.io", Some(&long), None, London, now, lapses)
                .unwrap()
                .reason
                .len(),
            MAX_REASON
        );
    }

    #[test]
    fn a_hold_is_in_force_until_its_time() {
        let hold = Hold {
            by: "rm@x.io".into(),
            at: utc(1, 9),
            reason: "CAB".into(),
            until: Some(utc(3, 9)),
        };
        assert!(hold.in_force(utc(3, 9) - Duration::seconds(1)));
        assert!(!hold.in_force(utc(3, 9)));
        let open = Hold {
            until: None,
            ..hold.clone()
        };
        assert!(open.in_force(utc(31, 9)));
        // A request shows the hold only while it is in force.
        let mut approval = Approval {
            expires_at: utc(5, 8),
            ..super::super::test_approval(utc(1, 8))
        };
        assert_eq!(approval.hold_at(utc(2, 9)), None);
        approval.hold = Some(hold.clone());
        assert_eq!(approval.hold_at(utc(2, 9)), Some(&hold));
        assert_eq!(approval.hold_at(utc(3, 9)), None);
    }
}
