use chrono::{TimeZone, Utc};
use chrono_tz::Europe::London;

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn once(start: &str, end: &str) -> FreezeConfig {
    FreezeConfig {
        reason: "year-end close".into(),
        start: Some(start.into()),
        end: Some(end.into()),
        every: None,
        until: None,
    }
}

fn recurring(every: &str, until: &str) -> FreezeConfig {
    FreezeConfig {
        reason: "weekend".into(),
        start: None,
        end: None,
        every: Some(every.into()),
        until: Some(until.into()),
    }
}

fn window(config: &FreezeConfig) -> FreezeWindow {
    config.window().unwrap()
}

/// The freeze at `at` among `configs`, in London time.
fn frozen<const N: usize>(configs: [&FreezeConfig; N], at: DateTime<Utc>) -> Option<ActiveFreeze> {
    let windows: Vec<(FreezeWindow, String)> = configs.iter().map(|c| (window(c), c.reason.clone())).collect();
    freeze_at(windows.iter().map(|(w, r)| (w, r.as_str())), London, at)
}

fn problems(config: &FreezeConfig) -> Vec<(&'static str, String)> {
    config
        .window()
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.field, p.message))
        .collect()
}

#[test]
fn a_one_off_freeze_holds_from_its_start_until_its_end_in_local_time() {
    // 24 Dec to 27 Dec 08:00, London in winter is UTC.
    let christmas = once("2026-12-24 00:00", "2026-12-27T08:00");
    assert_eq!(frozen([&christmas], utc(2026, 12, 23, 23, 59)), None);
    let at_start = frozen([&christmas], utc(2026, 12, 24, 0, 0)).unwrap();
    assert_eq!(at_start.ends_at, utc(2026, 12, 27, 8, 0));
    assert_eq!(at_start.reason, "year-end close");
    assert!(frozen([&christmas], utc(2026, 12, 27, 7, 59)).is_some());
    assert_eq!(frozen([&christmas], utc(2026, 12, 27, 8, 0)), None);
    // To the second, as a script writing a short freeze may.
    let seconds = once("2026-12-24T00:00:30", "2026-12-24 00:01:15");
    assert_eq!(
        frozen([&seconds], Utc.with_ymd_and_hms(2026, 12, 24, 0, 0, 30).unwrap()).map(|f| f.ends_at),
        Some(Utc.with_ymd_and_hms(2026, 12, 24, 0, 1, 15).unwrap())
    );
    assert_eq!(frozen([&seconds], utc(2026, 12, 24, 0, 0)), None);
    // In summer, London is an hour ahead: 12:00 local is 11:00 UTC.
    let summer = once("2026-07-01", "2026-07-01 12:00");
    assert_eq!(frozen([&summer], utc(2026, 6, 30, 22, 59)), None);
    assert_eq!(
        frozen([&summer], utc(2026, 6, 30, 23, 0)).unwrap().ends_at,
        utc(2026, 7, 1, 11, 0)
    );
    assert_eq!(frozen([&summer], utc(2026, 7, 1, 11, 0)), None);
}

#[test]
fn a_weekly_freeze_recurs_from_friday_afternoon_to_monday_morning() {
    let weekend = recurring("Friday 16:00", "Monday 08:00");
    // Fri 27 Nov 2026 (GMT).
    assert_eq!(frozen([&weekend], utc(2026, 11, 27, 15, 59)), None);
    for at in [
        utc(2026, 11, 27, 16, 0),
        utc(2026, 11, 28, 12, 0),
        utc(2026, 11, 29, 23, 0),
        utc(2026, 11, 30, 7, 59),
    ] {
        assert_eq!(
            frozen([&weekend], at).map(|f| f.ends_at),
            Some(utc(2026, 11, 30, 8, 0)),
            "{at}"
        );
    }
    assert_eq!(frozen([&weekend], utc(2026, 11, 30, 8, 0)), None);
    assert_eq!(frozen([&weekend], utc(2026, 12, 2, 12, 0)), None);
    // A week later in summer time (BST): Monday 08:00 local is 07:00 UTC.
    assert_eq!(
        frozen([&weekend], utc(2026, 7, 4, 12, 0)).map(|f| f.ends_at),
        Some(utc(2026, 7, 6, 7, 0))
    );
    assert_eq!(frozen([&weekend], utc(2026, 7, 3, 14, 59)), None);
}

#[test]
fn a_weekly_freeze_may_end_later_on_its_own_start_day_or_a_week_later() {
    let same_day = recurring("wed 09:00", "wed 17:00");
    assert_eq!(frozen([&same_day], utc(2026, 12, 2, 8, 59)), None);
    assert_eq!(
        frozen([&same_day], utc(2026, 12, 2, 9, 0)).map(|f| f.ends_at),
        Some(utc(2026, 12, 2, 17, 0))
    );
    assert_eq!(frozen([&same_day], utc(2026, 12, 3, 9, 0)), None);
    // Ends on its own weekday but earlier in the day: almost a week.
    let long = recurring("Wednesday 17:00", "Wednesday 09:00");
    assert_eq!(
        frozen([&long], utc(2026, 12, 6, 12, 0)).map(|f| f.ends_at),
        Some(utc(2026, 12, 9, 9, 0))
    );
    assert_eq!(frozen([&long], utc(2026, 12, 9, 12, 0)), None);
    // Early on the Wednesday it ends, the freeze began the week before.
    assert_eq!(
        frozen([&long], utc(2026, 12, 9, 8, 0)).map(|f| f.ends_at),
        Some(utc(2026, 12, 9, 9, 0))
    );
}

#[test]
fn a_daily_freeze_runs_overnight_when_it_ends_earlier_than_it_starts() {
    let nights = recurring("day 18:00", "08:00");
    assert_eq!(frozen([&nights], utc(2026, 12, 2, 17, 59)), None);
    assert_eq!(
        frozen([&nights], utc(2026, 12, 2, 23, 0)).map(|f| f.ends_at),
        Some(utc(2026, 12, 3, 8, 0))
    );
    assert_eq!(
        frozen([&nights], utc(2026, 12, 3, 7, 59)).map(|f| f.ends_at),
        Some(utc(2026, 12, 3, 8, 0))
    );
    assert_eq!(frozen([&nights], utc(2026, 12, 3, 12, 0)), None);
    let lunch = recurring("Day 12:00", "13:30");
    assert_eq!(
        frozen([&lunch], utc(2026, 12, 3, 12, 0)).map(|f| f.ends_at),
        Some(utc(2026, 12, 3, 13, 30))
    );
    assert_eq!(frozen([&lunch], utc(2026, 12, 3, 13, 30)), None);
}

#[test]
fn windows_that_run_into_each_other_end_together_with_the_first_ones_reason() {
    let weekend = recurring("Friday 16:00", "Monday 08:00");
    let monday = once("2026-11-30 08:00", "2026-11-30 12:00");
    let unrelated = once("2026-11-30 13:00", "2026-11-30 14:00");
    let freeze = frozen([&weekend, &monday, &unrelated], utc(2026, 11, 28, 12, 0)).unwrap();
    assert_eq!(freeze.ends_at, utc(2026, 11, 30, 12, 0));
    assert_eq!(freeze.reason, "weekend");
}

#[test]
fn freezes_that_cover_every_moment_stop_at_the_longest_freeze() {
    let a = recurring("day 08:00", "20:00");
    let b = recurring("day 20:00", "08:00");
    let at = utc(2026, 12, 2, 12, 0);
    assert_eq!(frozen([&a, &b], at).map(|f| f.ends_at), Some(at + MAX_FREEZE));
}

#[test]
fn across_clock_changes_a_freeze_never_shrinks() {
    // 29 Mar 2026: London skips 01:00-02:00 local. A freeze starting at 01:30 starts at the first
    // instant after the jump (02:00 BST, 01:00 UTC) and ends at 03:00 BST (02:00 UTC).
    let skipped = once("2026-03-29 01:30", "2026-03-29 03:00");
    assert_eq!(frozen([&skipped], utc(2026, 3, 29, 0, 59)), None);
    assert_eq!(
        frozen([&skipped], utc(2026, 3, 29, 1, 0)).map(|f| f.ends_at),
        Some(utc(2026, 3, 29, 2, 0))
    );
    // 25 Oct 2026: 01:00-02:00 local happens twice. The start is the first 01:30 (00:30 UTC),
    // the end the second 01:45 (01:45 UTC).
    let repeated = recurring("day 01:30", "01:45");
    assert_eq!(frozen([&repeated], utc(2026, 10, 25, 0, 29)), None);
    assert_eq!(
        frozen([&repeated], utc(2026, 10, 25, 0, 30)).map(|f| f.ends_at),
        Some(utc(2026, 10, 25, 1, 45))
    );
    assert_eq!(frozen([&repeated], utc(2026, 10, 25, 1, 45)), None);
}

#[test]
fn a_window_is_refused_naming_the_field_that_is_wrong() {
    assert_eq!(
        problems(&once("24/12/2026", "2026-12-27 08:00")),
        [(
            "start",
            "must be a local date and time like 2026-12-24 18:00".to_string()
        )]
    );
    assert_eq!(
        problems(&once("2026-12-24 00:00", "tomorrow")),
        [("end", "must be a local date and time like 2026-12-27 08:00".to_string())]
    );
    assert_eq!(
        problems(&once("2026-12-24 00:00", "2026-12-24 00:00")),
        [("end", "must be after start".to_string())]
    );
    assert_eq!(
        problems(&once("2026-12-01 00:00", "2026-12-31 00:01")),
        [("end", "must be at most 30 days after start".to_string())]
    );
    assert!(once("2026-12-01 00:00", "2026-12-31 00:00").window().is_ok());
    assert_eq!(
        problems(&recurring("Fri 16:00", "Fri 16:00")),
        [(
            "until",
            "must differ from every (a freeze cannot last the whole week)".to_string()
        )]
    );
    assert_eq!(
        problems(&recurring("day 16:00", "16:00")),
        [(
            "until",
            "must differ from every (a freeze cannot last the whole day)".to_string()
        )]
    );
    assert_eq!(
        problems(&recurring("Friday 16:00", "08:00")),
        [("until", "must be a weekday and a time, like Monday 08:00".to_string())]
    );
    assert_eq!(
        problems(&recurring("day 18:00", "Monday 08:00")),
        [(
            "until",
            "must be a time like 08:00 (the freeze recurs every day)".to_string()
        )]
    );
    for bad in ["Friday", "Fryday 16:00", "day 25:00", "16:00"] {
        assert_eq!(
            problems(&recurring(bad, "Monday 08:00")),
            [(
                "every",
                "must be a weekday and a time (Friday 16:00) or day and a time (day 18:00)".to_string()
            )],
            "{bad}"
        );
    }
    let mut mixed = once("2026-12-24 00:00", "2026-12-27 08:00");
    mixed.every = Some("Friday 16:00".into());
    assert_eq!(
        problems(&mixed),
        [(
            "",
            "must have either start and end (once) or every and until (recurring), and nothing else".to_string()
        )]
    );
    let mut unexplained = recurring("Friday 16:00", "Monday 08:00");
    unexplained.reason = " ".into();
    assert_eq!(
        problems(&unexplained),
        [("reason", "must say why, e.g. weekend or year-end close".to_string())]
    );
}

#[test]
fn an_environments_freezes_are_refused_with_their_paths_when_unreadable_or_endless() {
    let weekend = recurring("Friday 16:00", "Monday 08:00");
    assert!(problems_of(&[weekend.clone(), once("2026-12-24", "2026-12-27")]).is_empty());
    assert_eq!(
        problems_of(&[weekend.clone(), recurring("Friday 16:00", "08:00")]),
        [(
            "[1].until".to_string(),
            "must be a weekday and a time, like Monday 08:00".to_string()
        )]
    );
    let mut mixed = weekend.clone();
    mixed.start = Some("2026-12-24 00:00".into());
    assert_eq!(
        problems_of(&[mixed]),
        [(
            "[0]".to_string(),
            "must have either start and end (once) or every and until (recurring), and nothing else".to_string()
        )]
    );
    let endless = "runs into other freezes without a break for 31 days or more; deployments would never run";
    assert_eq!(
        problems_of(&[recurring("day 08:00", "20:00"), recurring("day 20:00", "08:00")]),
        [
            ("[0]".to_string(), endless.to_string()),
            ("[1]".to_string(), endless.to_string())
        ]
    );
    // Monday to Friday and Friday to Monday, back to back.
    assert_eq!(
        problems_of(&[weekend.clone(), recurring("Monday 08:00", "Friday 16:00")]).len(),
        2
    );
    // A one-off month-long freeze alone is allowed; with the weekend freeze chained after it, it
    // is not.
    let december = once("2026-11-05 00:00", "2026-12-05 00:00"); // ends on a Saturday
    assert!(problems_of(std::slice::from_ref(&december)).is_empty());
    assert_eq!(
        problems_of(&[december, weekend]),
        [("[0]".to_string(), endless.to_string())]
    );
}

fn problems_of(configs: &[FreezeConfig]) -> Vec<(String, String)> {
    super::problems(configs, London)
}
