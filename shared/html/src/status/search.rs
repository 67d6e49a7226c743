//! "Is it live?": the search box (a GET form, no script) on the overview, and the answer page
//! of `GET /search?q=`. The words come from the domain's answer; this only lays them out.

use baton_domain::search::QUERY_MAX;
use baton_domain::search::answer::{SearchAnswer, Whereabouts};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::{footer, header, time_at};
use crate::page;
use crate::time::Clock;

/// The search box: a plain GET form to `/search`, so it works without JavaScript and its
/// answer has an address people can share.
pub fn search_box(value: &str) -> Markup {
    html! {
        form.card role="search" method="get" action="/search" {
            label for="q" {
                strong { "Is it live?" } " "
                span.muted { "Search for a version (1.4.0), a commit, a ticket id (ADM-142) or a word from the notes." }
            }
            input #q type="search" name="q" value=(value) maxlength=(QUERY_MAX) required
                placeholder="ADM-142";
            " "
            button type="submit" { "Search" }
        }
    }
}

/// `/api/search?q=…`: the same answer as JSON.
fn json_path(query: &str) -> String {
    let q = percent_encoding::utf8_percent_encode(query, percent_encoding::NON_ALPHANUMERIC);
    format!("/api/search?q={q}")
}

/// The tone of where a package is, as a class (the text always says it in words too).
fn tone(state: Whereabouts) -> &'static str {
    match state {
        Whereabouts::Live | Whereabouts::NewerLive => "ok",
        Whereabouts::Deploying => "info",
        Whereabouts::WaitingForSignOff | Whereabouts::OnHold => "warn",
        Whereabouts::NotYet => "quiet",
    }
}

/// The answer page of a search, with the box to search again.
pub fn search_page(answer: &SearchAnswer, now: DateTime<Utc>, zone: Tz) -> String {
    let clock = Clock::new(now, zone);
    let title = format!("Search: {}", answer.query);
    page(
        &title,
        html! {
            div.status {
                (header("Is it live?", html! { "Where a change is now, in every environment." }, clock, true))
                (search_box(&answer.query))
                @if !answer.searched_for.is_empty() {
                    p.muted { "Looked for " (answer.searched_for.join(" and ")) "."
                        @if !answer.ignored.is_empty() { " Not looked for: " (answer.ignored.join(", ")) "." } }
                }
                @if let Some(message) = &answer.message {
                    div.banner.info { p { (message) } }
                }
                @for result in &answer.results {
                    section.card {
                        h2 { (result.component) " " (result.version) }
                        p.big { (result.summary) }
                        @if let Some(notes) = &result.notes { p.note { (notes) } }
                        dl.facts {
                            @if let Some(commit) = &result.commit { dt { "Commit" } dd { code { (commit) } } }
                            dt { "Registered" } dd { (time_at(result.registered_at, clock)) }
                            @if let (Some(release), Some(url)) = (&result.release, &result.url) {
                                dt { "First in" } dd { a href=(url) { "Release " (release.number_text()) } }
                            }
                        }
                        table.compact {
                            @for env in &result.environments {
                                tr {
                                    th { (env.environment) }
                                    td { span class={ "badge " (tone(env.state)) } { (env.words) } }
                                }
                            }
                        }
                    }
                }
                (footer(&json_path(&answer.query), clock))
            }
        },
    )
}
