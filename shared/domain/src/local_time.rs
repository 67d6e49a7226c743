//! Times people write and read, in the configured zone (`timezone` in `baton.yaml`): one way
//! to read a local date and time, to place it on the timeline across clock changes, and to say
//! an instant back in words.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A local date and time as people and browsers write it: `2026-12-24 18:00`,
/// `2026-12-24T18:00` (a `datetime-local` input), either with seconds, or a bare date (its
/// midnight).
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    })
}

/// Which end of a span a local time is, for reading it across a clock change so that the span
/// never shrinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// A beginning: an ambiguous time is its earlier instant.
    Start,
    /// An end: an ambiguous time is its later instant.
    End,
}

/// The instant of `local` in `zone`. A time a clock change makes ambiguous is read by `edge`; a
/// time it skips (the hour the clocks jump over) is the first instant after the jump.
pub fn instant(zone: Tz, local: NaiveDateTime, edge: Edge) -> DateTime<Utc> {
    use chrono::LocalResult;
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, late) => match edge {
            Edge::Start => early.with_timezone(&Utc),
            Edge::End => late.with_timezone(&Utc),
        },
        // No zone skips more than a few hours: walk forward by minutes to the first time that
        // exists.
        LocalResult::None => (1..=24 * 60)
            .find_map(|m| zone.from_local_datetime(&(local + Duration::minutes(m))).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local)),
    }
}

/// An instant in words in `zone`, with the zone's abbreviation: `Fri 27 Nov 2026, 14:00 GMT`
/// (a zone without one shows its offset, `+04`).
pub fn shown(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%a %-d %b %Y, %H:%M %Z").to_string()
}

/// A clock-style time relative to `now`, in `zone`: `09:42`, `yesterday 09:42`, `Mon 09:42`,
/// `2 Mar`, `2 Mar 2025`. Whether it was today or yesterday is decided by the zone's midnight,
/// not UTC's. A time to come (a freeze's end, a request's lapse) keeps its hour, since that is
/// what a reader waits for: `18:00`, `tomorrow 08:00`, `Mon 08:00`, `5 Mar 08:00`.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> String {
    use chrono::Datelike;
    let at = at.with_timezone(&zone);
    let now = now.with_timezone(&zone);
    let days = now.date_naive().signed_duration_since(at.date_naive()).num_days();
    match days {
        0 => at.format("%H:%M").to_string(),
        1 => at.format("yesterday %H:%M").to_string(),
        2..=6 => at.format("%a %H:%M").to_string(),
        -1 => at.format("tomorrow %H:%M").to_string(),
        -6..=-2 => at.format("%a %H:%M").to_string(),
        ..0 if at.year() == now.year() => at.format("%-d %b %H:%M").to_string(),
        ..0 => at.format("%-d %b %Y %H:%M").to_string(),
        _ if at.year() == now.year() => at.format("%-d %b").to_string(),
        _ => at.format("%-d %b %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::London;

    use super::*;

    fn utc(mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn local_times_are_read_in_every_form_people_and_browsers_write() {
        let want = NaiveDate::from_ymd_opt(2026, 12, 24)
            .unwrap()
            .and_hms_opt(18, 0, 0)
            .unwrap();
        for text in [
            "2026-12-24 18:00",
            "2026-12-24T18:00",
            " 2026-12-24 18:00:00 ",
            "2026-12-24T18:00:00",
        ] {
            assert_eq!(parse(text), Some(want), "{text}");
        }
        assert_eq!(
            parse("2026-12-24"),
            Some(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap().and_time(NaiveTime::MIN))
        );
        for bad in ["24/12/2026", "tomorrow", "", "2026-12-24 25:00"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn clock_changes_are_read_so_that_a_span_never_shrinks() {
        let local = |mo, d, h, mi| {
            NaiveDate::from_ymd_opt(2026, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap()
        };
        assert_eq!(instant(London, local(7, 1, 18, 0), Edge::Start), utc(7, 1, 17, 0));
        // 29 Mar: 01:30 does not exist; the first instant after the jump is 02:00 BST.
        assert_eq!(instant(London, local(3, 29, 1, 30), Edge::Start), utc(3, 29, 1, 0));
        // 25 Oct: 01:30 happens twice, at 00:30 and 01:30 UTC.
        assert_eq!(instant(London, local(10, 25, 1, 30), Edge::Start), utc(10, 25, 0, 30));
        assert_eq!(instant(London, local(10, 25, 1, 30), Edge::End), utc(10, 25, 1, 30));
    }

    #[test]
    fn an_instant_is_said_in_the_zone_with_its_abbreviation() {
        assert_eq!(shown(utc(11, 27, 14, 0), London), "Fri 27 Nov 2026, 14:00 GMT");
        assert_eq!(shown(utc(7, 4, 12, 0), London), "Sat 4 Jul 2026, 13:00 BST");
    }
}
