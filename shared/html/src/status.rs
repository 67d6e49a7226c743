//! The status pages (DESIGN §3.4) for business readers: the overview, a release's page, the
//! error pages, and the Atom feed. Plain words, human times with the exact time on hover,
//! readable without JavaScript. Everything from packages is interpolated through maud, so it
//! is escaped; links from package data are only made for http(s) URLs.

mod deploy_again;
mod feed;
mod overview;
mod pictures;
mod release;
mod search;
pub mod subscribe;

pub use deploy_again::{DeployAgain, RedeployTarget};
pub use feed::{Feed, FeedEntry, feed, feed_of, feed_with};
pub use overview::overview_page;
pub use release::{release_page, release_page_with};
pub use search::{search_box, search_page};

use baton_domain::ReleaseId;
use baton_domain::release::ReleaseStatus;
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::page;
use crate::time::Clock;

/// A duration in words: `40 s`, `12 min`, `3 h 5 min`, `2 days 4 h`.
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 if (s % 3_600) / 60 == 0 => format!("{} h", s / 3_600),
        3_600..86_400 => format!("{} h {} min", s / 3_600, (s % 3_600) / 60),
        _ => {
            let days = s / 86_400;
            let hours = (s % 86_400) / 3_600;
            let unit = if days == 1 { "day" } else { "days" };
            if hours == 0 {
                format!("{days} {unit}")
            } else {
                format!("{days} {unit} {hours} h")
            }
        }
    }
}

/// How long ago, in words: `just now`, `12 min ago`, `3 h ago`, `2 days ago`.
fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    if seconds < 60 {
        "just now".to_string()
    } else {
        format!("{} ago", duration_words(seconds - seconds % 60))
    }
}

/// A time as people read it in the configured zone, with the exact local time on hover; the
/// `datetime` attribute, for machines, stays RFC 3339 UTC.
fn time_at(at: DateTime<Utc>, clock: Clock) -> Markup {
    html! { time datetime=(at.to_rfc3339()) title=(clock.exact(at)) { (clock.relative(at)) } }
}

/// `10:42 (23 min ago)`.
fn time_with_age(at: DateTime<Utc>, clock: Clock) -> Markup {
    html! { (time_at(at, clock)) " " span.muted { "(" (ago(at, clock.now)) ")" } }
}

/// A URL from a record, if it is safe to link to: http(s) only, so a `javascript:` URL from a
/// package can never become a link.
fn safe_url(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// The tone of a status: `ok`, `bad`, `warn` or `info` (a class; the badge also says it in words).
fn tone(status: ReleaseStatus) -> &'static str {
    match status {
        ReleaseStatus::Released => "ok",
        ReleaseStatus::Rejected
        | ReleaseStatus::Failed
        | ReleaseStatus::RolledBack
        | ReleaseStatus::Expired
        | ReleaseStatus::Stopped => "bad",
        ReleaseStatus::AwaitingApproval | ReleaseStatus::Blocked => "warn",
        ReleaseStatus::Created | ReleaseStatus::Deploying => "info",
        ReleaseStatus::Superseded => "quiet",
    }
}

/// A status badge: coloured, and always with words.
fn badge(status: ReleaseStatus, words: &str) -> Markup {
    html! { span class={ "badge " (tone(status)) } { (words) } }
}

/// A status in one or two words, for badges.
fn status_label(status: ReleaseStatus) -> &'static str {
    match status {
        ReleaseStatus::Created => "Starting",
        ReleaseStatus::AwaitingApproval => "Waiting for sign-off",
        ReleaseStatus::Deploying => "Deploying",
        ReleaseStatus::Released => "Live everywhere",
        ReleaseStatus::Rejected => "Rejected",
        ReleaseStatus::Expired => "Expired",
        ReleaseStatus::Superseded => "Replaced",
        ReleaseStatus::Failed => "Failed",
        ReleaseStatus::RolledBack => "Rolled back",
        ReleaseStatus::Blocked => "Blocked before sign-off",
        ReleaseStatus::Stopped => "Stopped",
    }
}

/// A listed release's badge: where it is live now (not where it once was), and a failure
/// that changed nothing said as such.
fn summary_label(r: &baton_domain::ports::status::ReleaseSummary) -> String {
    let failed_unchanged = r.outcome.to_lowercase().contains("failed before any change");
    match (&r.live_in, r.status) {
        _ if failed_unchanged => "Failed before any change".to_string(),
        (Some(_), ReleaseStatus::Released) if r.outcome.starts_with("Live in every environment") => {
            status_label(r.status).to_string()
        }
        (Some(live), ReleaseStatus::Released) if live.is_empty() => "No longer live".to_string(),
        (Some(live), ReleaseStatus::Released) => format!("Live in {}", live.join(" and ")),
        _ => status_label(r.status).to_string(),
    }
}

/// `Release 12` for `rel-12` (the id itself if it is not of that form).
fn release_name(id: &ReleaseId) -> String {
    format!("Release {}", id.number_text())
}

/// The page header shared by the status pages; release pages lead back to the overview.
fn header(title: &str, subtitle: Markup, clock: Clock, back_to_overview: bool) -> Markup {
    html! {
        header.top {
            div {
                @if back_to_overview {
                    nav aria-label="Breadcrumb" { p.brand { a href="/" { "← Baton release status" } } }
                } @else {
                    p.brand { "Baton" }
                }
                h1 { (title) }
                p.muted.lead { (subtitle) }
            }
            p.muted.updated { "Updated " (time_at(clock.now, clock)) " " (clock.abbreviation()) }
        }
    }
}

/// The footer: how to read the page (which zone its times are in: `Times are in UTC; …`,
/// `Times are in London time (Europe/London); …`), and the machine-readable versions.
fn footer(json_path: &str, clock: Clock) -> Markup {
    html! {
        footer.muted {
            p {
                "Times are in " (clock.zone_words()) "; hover over a time to see it exactly. "
                "The same information as data: " a href=(json_path) { "JSON" } " · "
                a href="/feed.xml" { "Atom feed of releases" } "."
            }
        }
    }
}

/// An error page (unknown release, bad request) with a way back.
pub fn error_page(title: &str, text: &str) -> String {
    page(
        title,
        html! {
            div.status {
                nav aria-label="Breadcrumb" { p.brand { a href="/" { "← Baton release status" } } }
                div.banner.bad { h1 { (title) } p { (text) } }
                p { a href="/" { "Back to the release status" } }
            }
        },
    )
}

#[cfg(test)]
mod tests;
