//! Times for people, in one place: every page and mail shows a time in the zone `baton.yaml`
//! names (`timezone`, an IANA name; `UTC` by default), followed by that zone's abbreviation at
//! that moment (`GMT` in a London winter, `BST` in its summer). Times for machines stay
//! RFC 3339 UTC: `<time datetime>` attributes, the JSON API and the Atom feed's dates.
//!
//! The abbreviation is what the time zone database gives. A zone it gives none for shows its
//! offset instead (`Asia/Dubai` prints `+04`, `America/Sao_Paulo` `-03`): less familiar, but
//! exact and unambiguous, which is what a reader needs.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

/// A time as people read it, in `zone` with its abbreviation: `Fri 27 Nov 2026, 14:00 GMT`,
/// `Sat 4 Jul 2026, 13:00 BST` (both `Europe/London`), `… 18:00 +04` for a zone without an
/// abbreviation (see the module's doc).
pub fn human_time(at: DateTime<Utc>, zone: Tz) -> String {
    baton_domain::local_time::shown(at, zone)
}

/// The moment a page is made and the zone it shows times in: what every time on a status page
/// is read against. Days (`yesterday`, `Mon`) are counted between local midnights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clock {
    /// When the page is made.
    pub now: DateTime<Utc>,
    /// The configured zone.
    pub zone: Tz,
}

impl Clock {
    /// The clock of a page made at `now`, showing times in `zone`.
    pub fn new(now: DateTime<Utc>, zone: Tz) -> Self {
        Clock { now, zone }
    }

    /// The exact time, as the hover text of a clock-style one: `Mon 2 Mar 2026, 09:42:05 GMT`.
    pub fn exact(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone)
            .format("%a %-d %b %Y, %H:%M:%S %Z")
            .to_string()
    }

    /// A clock-style time relative to now, in the zone ([`baton_domain::local_time::relative`]):
    /// `09:42`, `yesterday 09:42`, `Mon 09:42`, `2 Mar`; a time to come keeps its hour,
    /// `tomorrow 08:00`, `Mon 08:00`.
    pub fn relative(&self, at: DateTime<Utc>) -> String {
        baton_domain::local_time::relative(at, self.now, self.zone)
    }

    /// A time to the minute with its day and zone: `Mon 30 Nov, 18:00 GMT` (the year only when
    /// it is not this one).
    pub fn exact_minute(&self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.zone);
        if local.year() == self.now.with_timezone(&self.zone).year() {
            local.format("%a %-d %b, %H:%M %Z").to_string()
        } else {
            local.format("%a %-d %b %Y, %H:%M %Z").to_string()
        }
    }

    /// The zone's abbreviation now, as after `Updated 14:02`: `GMT`, `BST`, `UTC`, `+04`.
    pub fn abbreviation(&self) -> String {
        self.now.with_timezone(&self.zone).format("%Z").to_string()
    }

    /// The zone in words, as in `Times are in …`: `UTC`; for a zone named after a place, the
    /// place (the last part of its name, which people know) and the exact name, `London time
    /// (Europe/London)`, `New York time (America/New_York)`; otherwise the name itself,
    /// `the Etc/GMT-3 zone`.
    pub fn zone_words(&self) -> String {
        zone_words(self.zone)
    }
}

/// Names the time zone database gives UTC.
const UTC_NAMES: [&str; 8] = [
    "UTC",
    "Etc/UTC",
    "Etc/UCT",
    "UCT",
    "Etc/Universal",
    "Universal",
    "Etc/Zulu",
    "Zulu",
];

/// See [`Clock::zone_words`].
pub(crate) fn zone_words(zone: Tz) -> String {
    let name = zone.name();
    if UTC_NAMES.contains(&name) {
        return "UTC".to_string();
    }
    match name.rsplit_once('/') {
        Some((area, place)) if area != "Etc" => format!("{} time ({name})", place.replace('_', " ")),
        _ => format!("the {name} zone"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn a_time_to_the_minute_names_its_day_and_zone() {
        let clock = Clock::new(utc(2026, 11, 30, 10, 0), chrono_tz::Europe::London);
        assert_eq!(clock.exact_minute(utc(2026, 11, 30, 18, 0)), "Mon 30 Nov, 18:00 GMT");
        assert_eq!(clock.exact_minute(utc(2027, 7, 1, 17, 0)), "Thu 1 Jul 2027, 18:00 BST");
    }

    #[test]
    fn a_time_to_come_keeps_its_hour() {
        // Monday 30 Nov 2026, 10:00 in London.
        let clock = Clock::new(utc(2026, 11, 30, 10, 0), chrono_tz::Europe::London);
        assert_eq!(clock.relative(utc(2026, 11, 30, 18, 0)), "18:00");
        assert_eq!(clock.relative(utc(2026, 12, 1, 8, 0)), "tomorrow 08:00");
        assert_eq!(clock.relative(utc(2026, 12, 4, 16, 0)), "Fri 16:00");
        assert_eq!(clock.relative(utc(2026, 12, 24, 9, 30)), "24 Dec 09:30");
        assert_eq!(clock.relative(utc(2027, 1, 4, 8, 0)), "4 Jan 2027 08:00");
        // Past times are as before.
        assert_eq!(clock.relative(utc(2026, 11, 29, 9, 0)), "yesterday 09:00");
        assert_eq!(clock.relative(utc(2026, 11, 2, 9, 0)), "2 Nov");
    }

    #[test]
    fn london_shows_gmt_in_winter_and_bst_in_summer() {
        let london = chrono_tz::Europe::London;
        assert_eq!(
            human_time(utc(2026, 11, 27, 14, 0), london),
            "Fri 27 Nov 2026, 14:00 GMT"
        );
        assert_eq!(human_time(utc(2026, 7, 4, 12, 0), london), "Sat 4 Jul 2026, 13:00 BST");
    }

    #[test]
    fn new_york_shows_est_and_edt() {
        let new_york = chrono_tz::America::New_York;
        assert_eq!(
            human_time(utc(2026, 1, 15, 14, 0), new_york),
            "Thu 15 Jan 2026, 09:00 EST"
        );
        assert_eq!(
            human_time(utc(2026, 7, 15, 14, 0), new_york),
            "Wed 15 Jul 2026, 10:00 EDT"
        );
    }

    #[test]
    fn utc_still_says_utc() {
        assert_eq!(
            human_time(utc(2026, 11, 27, 14, 0), Tz::UTC),
            "Fri 27 Nov 2026, 14:00 UTC"
        );
        let clock = Clock::new(utc(2026, 3, 4, 14, 30), Tz::UTC);
        assert_eq!(clock.abbreviation(), "UTC");
        assert_eq!(clock.zone_words(), "UTC");
        assert_eq!(clock.exact(utc(2026, 3, 4, 9, 42)), "Wed 4 Mar 2026, 09:42:00 UTC");
    }

    #[test]
    fn a_zone_without_an_abbreviation_shows_its_offset() {
        assert_eq!(
            human_time(utc(2026, 3, 4, 14, 0), chrono_tz::Asia::Dubai),
            "Wed 4 Mar 2026, 18:00 +04"
        );
    }

    #[test]
    fn yesterday_is_counted_from_local_midnight() {
        let tokyo = chrono_tz::Asia::Tokyo;
        // 23:30 UTC on the 3rd is 08:30 on the 4th in Tokyo: the same local day as 10:00 on the 4th.
        let now = Clock::new(utc(2026, 3, 4, 1, 0), tokyo);
        assert_eq!(now.relative(utc(2026, 3, 3, 23, 30)), "08:30");
        // 14:00 UTC on the 3rd is 23:00 on the 3rd in Tokyo: yesterday there, though today in UTC.
        assert_eq!(now.relative(utc(2026, 3, 3, 14, 0)), "yesterday 23:00");
        let in_utc = Clock::new(utc(2026, 3, 4, 1, 0), Tz::UTC);
        assert_eq!(in_utc.relative(utc(2026, 3, 3, 23, 30)), "yesterday 23:30");
        assert_eq!(now.relative(utc(2026, 3, 4, 1, 0) - Duration::days(3)), "Sun 10:00");
    }

    #[test]
    fn the_zone_is_named_so_people_recognise_it() {
        let words = |zone: Tz| Clock::new(utc(2026, 1, 1, 0, 0), zone).zone_words();
        assert_eq!(words(chrono_tz::Europe::London), "London time (Europe/London)");
        assert_eq!(words(chrono_tz::America::New_York), "New York time (America/New_York)");
        assert_eq!(words(chrono_tz::Etc::UTC), "UTC");
        assert_eq!(words(chrono_tz::Etc::GMTMinus3), "the Etc/GMT-3 zone");
        let winter = Clock::new(utc(2026, 1, 1, 0, 0), chrono_tz::Europe::London);
        let summer = Clock::new(utc(2026, 7, 1, 0, 0), chrono_tz::Europe::London);
        assert_eq!(
            (winter.abbreviation(), summer.abbreviation()),
            ("GMT".into(), "BST".into())
        );
    }
}
