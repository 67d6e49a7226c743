//! The mails of subscriptions: the confirmation request, "release N is live in PROD" (to
//! subscribers, with one-click unsubscribe headers, and to the environment's approvers), and
//! the weekly digest.

use baton_domain::ports::Mail;
use baton_domain::subscription::digest::Digest;
use baton_domain::subscription::unsubscribe_headers;
use chrono_tz::Tz;
use maud::html;

use crate::human_time;

/// Asks `to` to confirm a subscription to `what` through `link`; `unsubscribe` ends it later.
pub fn confirm_request(to: &str, what: &str, link: &str, unsubscribe: &str) -> Mail {
    let subject = "Confirm your Baton subscription".to_string();
    let text = format!(
        "Someone, probably you, asked Baton to mail {to} about {what}.\n\n\
         To confirm, open this link and press the button (it lasts 24 hours):\n{link}\n\n\
         If it was not you, ignore this mail: nothing will be sent.\n\n\
         To stop the mails later, use the link in any of them, or this one: {unsubscribe}\n"
    );
    let html = html! {
        p { "Someone, probably you, asked Baton to mail " (to) " about " (what) "." }
        p { a href=(link) { "Confirm the subscription" } " (the link lasts 24 hours)." }
        p { "If it was not you, ignore this mail: nothing will be sent." }
        p.small { "To stop the mails later, use the link in any of them, or " a href=(unsubscribe) { "this one" } "." }
    }
    .into_string();
    Mail::new(to, subject, text, html)
}

/// Tells a subscriber that release `number` is live in `environment`; `why` says which of
/// their subscriptions this is ("every release going live in PROD"), `unsubscribe` ends it in
/// one click.
pub fn live_notice(to: &str, number: u64, environment: &str, page: &str, why: &str, unsubscribe: &str) -> Mail {
    let subject = format!("Release {number} is live in {environment}");
    let text = format!(
        "Release {number} is live in {environment}.\n\nWhat it contains: {page}\n\n\
         You get this mail because you subscribed to {why}.\nStop these mails: {unsubscribe}\n"
    );
    let html = html! {
        p { strong { "Release " (number) " is live in " (environment) "." } }
        p { a href=(page) { "What it contains" } }
        p.small { "You get this mail because you subscribed to " (why) ". " a href=(unsubscribe) { "Stop these mails" } "." }
    }
    .into_string();
    let mut mail = Mail::new(to, subject, text, html);
    mail.headers = unsubscribe_headers(unsubscribe);
    mail
}

/// Tells an approver of `environment` (the release manager) that release `number` is live
/// there. They get it as an approver, not a subscriber: it has no unsubscribe link.
pub fn live_for_approver(to: &str, number: u64, environment: &str, page: &str) -> Mail {
    let subject = format!("Release {number} is live in {environment}");
    let text = format!(
        "Release {number} is live in {environment}.\n\nIts page: {page}\n\n\
         You get this mail as an approver of {environment}.\n"
    );
    let html = html! {
        p { strong { "Release " (number) " is live in " (environment) "." } }
        p { a href=(page) { "Its page" } }
        p.small { "You get this mail as an approver of " (environment) "." }
    }
    .into_string();
    Mail::new(to, subject, text, html)
}

/// The weekly digest for one subscriber; times in `zone`.
pub fn digest(to: &str, digest: &Digest, zone: Tz, public_url: &str, unsubscribe: &str) -> Mail {
    let base = public_url.trim_end_matches('/');
    let subject = format!("Baton weekly digest: {} went live", plural(digest.went_live.len()));
    let mut text = format!("What went live since {}:\n", human_time(digest.since, zone));
    if digest.went_live.is_empty() {
        text.push_str("  Nothing.\n");
    }
    for w in &digest.went_live {
        text.push_str(&format!(
            "  Release {} in {}, {} ({base}/releases/{})\n",
            w.number,
            w.environment,
            human_time(w.at, zone),
            w.release
        ));
    }
    text.push_str("\nWhat waits on whom:\n");
    if digest.waiting.is_empty() {
        text.push_str("  Nothing is waiting.\n");
    }
    for line in &digest.waiting {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!(
        "\nThe status page: {base}/\n\nYou get this mail because you asked for Baton's weekly digest.\nStop these mails: {unsubscribe}\n"
    ));
    let html = html! {
        h2 { "What went live since " (human_time(digest.since, zone)) }
        @if digest.went_live.is_empty() { p { "Nothing." } }
        ul {
            @for w in &digest.went_live {
                li {
                    a href={ (base) "/releases/" (w.release) } { "Release " (w.number) }
                    " in " (w.environment) ", " (human_time(w.at, zone))
                }
            }
        }
        h2 { "What waits on whom" }
        @if digest.waiting.is_empty() { p { "Nothing is waiting." } }
        ul { @for line in &digest.waiting { li { (line) } } }
        p { a href={ (base) "/" } { "The status page" } }
        p.small { "You get this mail because you asked for Baton's weekly digest. " a href=(unsubscribe) { "Stop these mails" } "." }
    }
    .into_string();
    let mut mail = Mail::new(to, subject, text, html);
    mail.headers = unsubscribe_headers(unsubscribe);
    mail
}

fn plural(n: usize) -> String {
    match n {
        0 => "nothing".to_string(),
        1 => "1 release".to_string(),
        n => format!("{n} releases"),
    }
}

#[cfg(test)]
mod tests {
    use baton_domain::ReleaseId;
    use baton_domain::subscription::digest::WentLive;
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn a_live_notice_carries_the_one_click_headers_and_the_link() {
        let link = "https://b.example.com/subscriptions/unsubscribe?id=a&token=t";
        let mail = live_notice(
            "ann@example.com",
            7,
            "PROD",
            "https://b.example.com/releases/rel-7",
            "every release going live in PROD",
            link,
        );
        assert_eq!(mail.subject, "Release 7 is live in PROD");
        assert!(mail.text.contains(link) && mail.html.contains("Stop these mails"));
        assert_eq!(mail.headers, unsubscribe_headers(link));
        assert!(live_for_approver("rm@example.com", 7, "PROD", "p").headers.is_empty());
    }

    #[test]
    fn the_digest_says_what_went_live_and_what_waits() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let d = Digest {
            since: at,
            went_live: vec![WentLive {
                release: ReleaseId::from_number(7),
                number: 7,
                environment: "TEST".into(),
                at,
            }],
            waiting: vec!["Waiting for sign-off for PROD by rm@example.com".into()],
        };
        let mail = digest(
            "ann@example.com",
            &d,
            chrono_tz::UTC,
            "https://b.example.com/",
            "https://u",
        );
        assert_eq!(mail.subject, "Baton weekly digest: 1 release went live");
        assert!(
            mail.text.contains("Release 7 in TEST") && mail.text.contains("https://b.example.com/releases/rel-7"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("Waiting for sign-off for PROD by rm@example.com"));
        assert_eq!(mail.headers.len(), 2);
    }

    #[test]
    fn the_confirmation_request_has_its_link_and_no_unsubscribe() {
        let mail = confirm_request("ann@example.com", "the weekly digest", "https://c", "https://u");
        assert!(mail.text.contains("https://c") && mail.text.contains("https://u") && mail.headers.is_empty());
    }
}
