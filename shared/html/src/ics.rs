//! iCalendar (RFC 5545) invitations: the `.ics` file a mail carries so a scheduled deployment
//! lands in the reader's calendar.
//!
//! The calendar is informational (`METHOD:PUBLISH`): it asks for no reply. Lines end in CRLF,
//! TEXT values are escaped (RFC 5545 §3.3.11) and every line longer than 75 octets is folded
//! (§3.1), never inside a UTF-8 character.

use chrono::{DateTime, Duration, Utc};

/// Who made the calendar, as calendar programs show it.
pub const PRODUCT_ID: &str = "-//Baton//Release orchestrator//EN";

/// The media type of an invitation, for a mail attachment.
pub const CONTENT_TYPE: &str = "text/calendar; charset=UTF-8";

/// Longest line, in octets, without its CRLF (RFC 5545 §3.1).
const MAX_LINE: usize = 75;

/// One event to put in someone's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Globally unique and stable for the event, e.g. `rel-12-PROD@baton`: a calendar that
    /// receives the same UID again updates the event instead of adding a second one.
    pub uid: String,
    /// When the invitation was made (`DTSTAMP`). A field rather than the clock, so the same
    /// event always renders the same text.
    pub stamp: DateTime<Utc>,
    /// When the event starts.
    pub start: DateTime<Utc>,
    /// How long it lasts, in minutes.
    pub minutes: u32,
    /// One line: the event's title.
    pub summary: String,
    /// Any length, newlines allowed.
    pub description: String,
    /// A page about the event (`URL`), if any.
    pub url: Option<String>,
    /// The organizer's email address (`ORGANIZER:mailto:...`), if any. RFC 5546 expects one in
    /// a published event; calendar programs show it as who scheduled it.
    pub organizer: Option<String>,
}

impl CalendarEvent {
    /// When the event ends.
    pub fn end(&self) -> DateTime<Utc> {
        self.start + Duration::minutes(i64::from(self.minutes))
    }
}

/// The `.ics` text of a calendar holding `event`.
pub fn invitation(event: &CalendarEvent) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        format!("PRODID:{PRODUCT_ID}"),
        "METHOD:PUBLISH".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", escape_text(&event.uid)),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(event.start)),
        format!("DTEND:{}", utc(event.end())),
        format!("SUMMARY:{}", escape_text(&event.summary)),
        format!("DESCRIPTION:{}", escape_text(&event.description)),
    ];
    if let Some(url) = &event.url {
        lines.push(format!("URL:{}", uri(url)));
    }
    if let Some(organizer) = &event.organizer {
        lines.push(format!("ORGANIZER:mailto:{}", uri(organizer)));
    }
    lines.push("END:VEVENT".to_string());
    lines.push("END:VCALENDAR".to_string());
    let mut out = String::new();
    for line in &lines {
        out.push_str(&fold(line));
    }
    out
}

/// A UTC date-time in iCalendar's form, `20261130T180000Z` (seconds, no fraction).
fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, each line break
/// (CRLF, CR or LF) as `\n`, other control characters but tab dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A URI or address value: taken as is, less anything that could end the line.
fn uri(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// One content line, folded: at most 75 octets per physical line, each continuation starting
/// with one space, never inside a character; ends with CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > MAX_LINE {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

/// Undoes [`fold`] on a whole calendar: every CRLF followed by one space or tab goes.
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event() -> CalendarEvent {
        CalendarEvent {
            uid: "rel-12-PROD@baton".into(),
            stamp: Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 5).unwrap(),
            start: Utc.with_ymd_and_hms(2026, 11, 30, 18, 0, 0).unwrap(),
            minutes: 45,
            summary: "Deploy release 12 to PROD".into(),
            description: "Scheduled by rm@example.com.".into(),
            url: Some("https://baton.example.com/releases/rel-12".into()),
            organizer: Some("baton@example.com".into()),
        }
    }

    #[test]
    fn renders_a_known_event_exactly() {
        let expected = "BEGIN:VCALENDAR\r\n\
            VERSION:2.0\r\n\
            PRODID:-//Baton//Release orchestrator//EN\r\n\
            METHOD:PUBLISH\r\n\
            CALSCALE:GREGORIAN\r\n\
            BEGIN:VEVENT\r\n\
            UID:rel-12-PROD@baton\r\n\
            DTSTAMP:20261120T093005Z\r\n\
            DTSTART:20261130T180000Z\r\n\
            DTEND:20261130T184500Z\r\n\
            SUMMARY:Deploy release 12 to PROD\r\n\
            DESCRIPTION:Scheduled by rm@example.com.\r\n\
            URL:https://baton.example.com/releases/rel-12\r\n\
            ORGANIZER:mailto:baton@example.com\r\n\
            END:VEVENT\r\n\
            END:VCALENDAR\r\n";
        assert_eq!(invitation(&event()), expected);
    }

    #[test]
    fn leaves_out_url_and_organizer_when_not_given() {
        let text = invitation(&CalendarEvent {
            url: None,
            organizer: None,
            ..event()
        });
        assert!(!text.contains("URL:") && !text.contains("ORGANIZER"), "{text}");
        assert!(text.contains("DESCRIPTION:Scheduled by rm@example.com.\r\nEND:VEVENT\r\n"));
    }

    #[test]
    fn the_end_crosses_midnight_and_drops_fractions_of_a_second() {
        let text = invitation(&CalendarEvent {
            start: Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap() + Duration::milliseconds(250),
            minutes: 90,
            ..event()
        });
        assert!(text.contains("DTSTART:20261231T233000Z\r\n"), "{text}");
        assert!(text.contains("DTEND:20270101T010000Z\r\n"), "{text}");
    }

    #[test]
    fn escapes_text_values() {
        assert_eq!(
            escape_text("a\\b; c, d\ne\r\nf\rg\u{7}h\ti"),
            "a\\\\b\\; c\\, d\\ne\\nf\\ngh\ti"
        );
        let text = invitation(&CalendarEvent {
            summary: "Deploy 1, 2; 3".into(),
            description: "Line one\nLine two: C:\\path".into(),
            ..event()
        });
        assert!(text.contains("SUMMARY:Deploy 1\\, 2\\; 3\r\n"), "{text}");
        assert!(
            text.contains("DESCRIPTION:Line one\\nLine two: C:\\\\path\r\n"),
            "{text}"
        );
    }

    #[test]
    fn a_value_cannot_end_its_line_early() {
        let text = invitation(&CalendarEvent {
            url: Some("https://x.example/\r\nORGANIZER:mailto:evil@example.com".into()),
            organizer: None,
            ..event()
        });
        assert_eq!(text.matches("ORGANIZER").count(), 1, "{text}");
        assert!(!unfold(&text).lines().any(|l| l.starts_with("ORGANIZER")), "{text}");
    }

    #[test]
    fn folds_long_lines_without_splitting_characters() {
        let description = "Déploiement planifié ✓ — 変更を本番へ 🚀. ".repeat(12);
        let text = invitation(&CalendarEvent {
            description: description.clone(),
            ..event()
        });
        let physical: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(physical.last(), Some(&""), "ends with CRLF");
        for line in &physical {
            assert!(line.len() <= MAX_LINE, "{} octets: {line:?}", line.len());
        }
        let folded = physical.iter().filter(|l| l.starts_with(' ')).count();
        assert!(folded > 5, "the description spans several lines: {text}");
        // Some continuation lines are shorter than 75 octets because the next character would
        // not fit whole.
        assert!(physical.iter().any(|l| l.starts_with(' ') && l.len() < MAX_LINE));
        let unfolded = unfold(&text);
        let value = unfolded
            .split("\r\n")
            .find_map(|l| l.strip_prefix("DESCRIPTION:"))
            .unwrap();
        assert_eq!(value, escape_text(&description));
    }

    #[test]
    fn every_line_ends_in_crlf() {
        let text = invitation(&CalendarEvent {
            description: "one\ntwo\r\nthree ".repeat(20),
            ..event()
        });
        assert!(text.ends_with("\r\n"));
        let bytes = text.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                assert_eq!(bytes.get(i.wrapping_sub(1)), Some(&b'\r'), "bare LF at {i}");
            }
            if *b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
        }
    }

    #[test]
    fn a_line_of_exactly_75_octets_is_not_folded() {
        let line = format!("SUMMARY:{}", "x".repeat(MAX_LINE - 8));
        assert_eq!(fold(&line), format!("{line}\r\n"));
        let longer = format!("{line}y");
        assert_eq!(fold(&longer), format!("{line}\r\n y\r\n"));
    }
}
