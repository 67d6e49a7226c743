//! Deploying at a chosen time: an approver may sign off "now" or "at" a local time before the
//! request lapses. The deployment starts no earlier than the latest time any of the sign-offs
//! chose, so no approver's "not before" is broken when several must sign off.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::Approval;
use crate::local_time::{self, Edge};

/// How far ahead of the request's lapse a chosen time must be: the workflow needs a moment to
/// pass the decision on before Step Functions' own timeout.
pub const BEFORE_LAPSE: Duration = Duration::minutes(1);

/// Why a chosen time cannot be used; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleProblem {
    /// Not a date and time.
    #[error("“{0}” is not a date and time; choose one like 2026-11-30 18:00, or deploy now")]
    Unreadable(String),
    /// In the past (or now).
    #[error("{0} has passed; choose a later time, or deploy now")]
    Past(String),
    /// At or after the request lapses.
    #[error("{0} is after this request lapses ({1}); choose an earlier time, or deploy now")]
    AfterLapse(String, String),
    /// Neither now nor at.
    #[error("choose when to deploy: now, or at a time")]
    NoChoice,
}

/// The time an approver chose, from the form's `when` (`now` or `at`, default `now`) and
/// `deploy_at` (`2026-11-30T18:00`, as a browser's `datetime-local` sends it, or with a space),
/// read in `zone`. `None` means at once.
pub fn chosen_time(
    when: Option<&str>,
    deploy_at: Option<&str>,
    zone: Tz,
    now: DateTime<Utc>,
    lapses_at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ScheduleProblem> {
    match when.map(str::trim) {
        None | Some("") | Some("now") => return Ok(None),
        Some("at") => {}
        Some(_) => return Err(ScheduleProblem::NoChoice),
    }
    let text = deploy_at.map(str::trim).unwrap_or_default();
    let local = local_time::parse(text).ok_or_else(|| ScheduleProblem::Unreadable(text.to_string()))?;
    // A time a clock change skips is the first instant after it; an ambiguous one its first.
    let at = local_time::instant(zone, local, Edge::Start);
    let shown = |t: DateTime<Utc>| local_time::shown(t, zone);
    if at <= now {
        return Err(ScheduleProblem::Past(shown(at)));
    }
    if at > lapses_at - BEFORE_LAPSE {
        return Err(ScheduleProblem::AfterLapse(shown(at), shown(lapses_at)));
    }
    Ok(Some(at))
}

/// The timeline event kind of a deployment scheduled for later.
pub const SCHEDULED: &str = "scheduled";

/// The detail of a [`SCHEDULED`] event: `deployment to PROD scheduled for <RFC 3339>`.
pub fn scheduled_detail(environment: &str, at: DateTime<Utc>) -> String {
    format!(
        "deployment to {environment} scheduled for {}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// The time in a [`scheduled_detail`].
pub fn scheduled_time(detail: &str) -> Option<DateTime<Utc>> {
    let (_, at) = detail.rsplit_once(" scheduled for ")?;
    DateTime::parse_from_rfc3339(at.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Approval {
    /// When the deployment this approval allows may start: the latest time its sign-offs
    /// chose, `None` for at once.
    pub fn deploy_at(&self) -> Option<DateTime<Utc>> {
        self.sign_offs.iter().filter_map(|s| s.deploy_at).max()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::London;

    use super::*;

    fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, d, h, m, 0).unwrap()
    }

    #[test]
    fn a_scheduled_event_carries_its_time() {
        let at = utc(1, 17, 0);
        let detail = scheduled_detail("PROD", at);
        assert_eq!(detail, "deployment to PROD scheduled for 2026-07-01T17:00:00Z");
        assert_eq!(scheduled_time(&detail), Some(at));
        assert_eq!(scheduled_time("deployment to PROD scheduled for soon"), None);
        assert_eq!(scheduled_time("approved"), None);
    }

    #[test]
    fn the_latest_time_any_sign_off_chose_wins() {
        let mut approval = super::super::test_approval(utc(1, 8, 0));
        assert_eq!(approval.deploy_at(), None);
        let sign_off = |by: &str, at: Option<DateTime<Utc>>| super::super::SignOff {
            by: by.into(),
            at: utc(1, 9, 0),
            comment: None,
            deploy_at: at,
            choice: None,
        };
        approval.sign_offs = vec![
            sign_off("a@x.io", Some(utc(1, 18, 0))),
            sign_off("b@x.io", None),
            sign_off("c@x.io", Some(utc(1, 20, 0))),
            sign_off("d@x.io", Some(utc(1, 19, 0))),
        ];
        assert_eq!(approval.deploy_at(), Some(utc(1, 20, 0)));
    }

    #[test]
    fn now_is_the_default_and_a_local_time_is_read_in_the_zone() {
        let (now, lapses) = (utc(1, 9, 0), utc(2, 9, 0));
        assert_eq!(chosen_time(None, None, London, now, lapses), Ok(None));
        assert_eq!(
            chosen_time(Some("now"), Some("2026-07-01T18:00"), London, now, lapses),
            Ok(None)
        );
        // 18:00 in a London summer is 17:00 UTC.
        assert_eq!(
            chosen_time(Some("at"), Some("2026-07-01T18:00"), London, now, lapses),
            Ok(Some(utc(1, 17, 0)))
        );
        assert_eq!(
            chosen_time(Some("at"), Some(" 2026-07-01 18:00 "), chrono_tz::UTC, now, lapses),
            Ok(Some(utc(1, 18, 0)))
        );
    }

    #[test]
    fn a_time_past_unreadable_or_after_the_lapse_is_refused_saying_what_to_do() {
        let (now, lapses) = (utc(1, 9, 0), utc(2, 9, 0));
        assert_eq!(
            chosen_time(Some("at"), Some("tomorrow"), London, now, lapses),
            Err(ScheduleProblem::Unreadable("tomorrow".into()))
        );
        assert_eq!(
            chosen_time(Some("at"), None, London, now, lapses),
            Err(ScheduleProblem::Unreadable(String::new()))
        );
        let past = chosen_time(Some("at"), Some("2026-07-01T10:00"), London, now, lapses).unwrap_err();
        assert_eq!(
            past.to_string(),
            "Wed 1 Jul 2026, 10:00 BST has passed; choose a later time, or deploy now"
        );
        // Exactly now has passed too.
        assert!(matches!(
            chosen_time(Some("at"), Some("2026-07-01T09:00"), chrono_tz::UTC, now, lapses),
            Err(ScheduleProblem::Past(_))
        ));
        // Up to a minute before the lapse is fine; later is not.
        assert_eq!(
            chosen_time(Some("at"), Some("2026-07-02T08:59"), chrono_tz::UTC, now, lapses),
            Ok(Some(utc(2, 8, 59)))
        );
        let late = chosen_time(Some("at"), Some("2026-07-02T10:00"), London, now, lapses).unwrap_err();
        assert_eq!(
            late.to_string(),
            "Thu 2 Jul 2026, 10:00 BST is after this request lapses (Thu 2 Jul 2026, 10:00 BST); choose an earlier time, or deploy now"
        );
        assert_eq!(
            chosen_time(Some("later"), None, London, now, lapses),
            Err(ScheduleProblem::NoChoice)
        );
        // 29 Mar 2026 01:30 does not exist in London (the clocks jump from 01:00 to 02:00): the
        // first instant after the jump, 02:00 BST.
        assert_eq!(
            chosen_time(
                Some("at"),
                Some("2026-03-29T01:30"),
                London,
                Utc.with_ymd_and_hms(2026, 3, 28, 9, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 3, 30, 9, 0, 0).unwrap()
            ),
            Ok(Some(Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap()))
        );
    }
}
