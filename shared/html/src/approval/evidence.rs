//! The release's record in the environment before the one a sign-off is asked for (issue 16,
//! item 9), on the approval page and in the request mail.

use baton_domain::approval::evidence::Evidence;
use chrono_tz::Tz;
use maud::{Markup, html};

use crate::human_time;

/// The release's record in the environment before, in a sentence: `In TEST: live since
/// <time>, signed off by <who>. Try it: <url>`.
pub fn evidence_text(e: &Evidence, zone: Tz) -> String {
    let mut text = format!("In {}: live since {}", e.environment, human_time(e.since, zone));
    if let Some(who) = &e.approved_by {
        text.push_str(&format!(", signed off there by {who}"));
    }
    text.push('.');
    if let Some(url) = &e.site_url {
        text.push_str(&format!(" Try it there: {url}"));
    }
    text
}

/// [`evidence_text`] as a banner, the site a link (only web URLs become links).
pub fn evidence(e: &Evidence, zone: Tz) -> Markup {
    html! {
        div.banner.ok role="note" {
            strong { "In " (e.environment) ": " } "live since " (human_time(e.since, zone))
            @if let Some(who) = &e.approved_by { ", signed off there by " (who) }
            "."
            @if let Some(url) = e.site_url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
                " " a href=(url) { "Try it in " (e.environment) }
            }
        }
    }
}
