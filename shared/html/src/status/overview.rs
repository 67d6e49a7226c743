//! `GET /`: the pane of glass. What is live where, what is on its way and what it waits on,
//! the recent releases, delivery figures and refused uploads.

use baton_domain::ports::status::{
    ComponentView, DeliveryFigures, EnvironmentView, InFlightView, PendingKind, PendingView, RejectedView,
    ReleaseSummary, StatusView, WaitingOn,
};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::{badge, duration_words, footer, header, release_name, safe_url, summary_label, time_at, time_with_age};
use crate::refreshing_page;
use crate::time::Clock;

/// The overview page, as of the view's `generated_at`, with times in `zone`.
pub fn overview_page(view: &StatusView, zone: Tz) -> String {
    let clock = Clock::new(view.generated_at, zone);
    let count = |which: fn(&WaitingOn) -> bool| view.in_flight.iter().filter(|f| which(&f.waiting_on)).count();
    let waiting = count(|w| matches!(w, WaitingOn::SignOff { .. }));
    let deciding = count(|w| matches!(w, WaitingOn::Decision { .. }));
    let subtitle = html! {
        "What is live where, what is on its way, and what changed. "
        @match view.in_flight.len() {
            0 => { "Nothing is on its way right now." },
            n => {
                strong {
                    (n) " " (plural(n, "release", "releases")) " on " (plural(n, "its", "their")) " way"
                    @if waiting > 0 { ", " (waiting) " waiting for sign-off" }
                    @if deciding > 0 { ", " (deciding) " waiting for a decision about a failed deployment" }
                    "."
                }
            },
        }
    };
    // It tells live progress: it reloads itself (no script needed).
    refreshing_page(
        "Release status",
        html! {
            div.status {
                (header("Release status", subtitle, clock, false))
                (super::search_box(""))
                (super::pictures::stack_drawings(view))
                (live_now(&view.environments, clock))
                (in_flight(&view.in_flight, clock))
                (recent(&view.recent_releases, clock))
                (delivery(&view.delivery, clock))
                (super::pictures::trend_charts(&view.trends, clock))
                (rejected(&view.rejected_packages, clock))
                (super::subscribe::overview_form(view))
                (footer("/api/status", clock))
            }
        },
    )
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Links of a component: its Pages site, its CloudHub applications.
pub(super) fn component_links(pages_url: Option<&str>, applications: &[(String, String)]) -> Markup {
    html! {
        @if let Some(url) = pages_url.and_then(safe_url) {
            a href=(url) rel="noopener noreferrer" { "Open the site" } " "
            span.muted.small { "(Cloudflare Pages)" }
        }
        @if !applications.is_empty() {
            span.muted.small { "CloudHub: " }
            @for (i, (name, change)) in applications.iter().enumerate() {
                @if i > 0 { ", " }
                span.app { (name) } " " span.muted.small { "(" (change) ")" }
            }
        }
    }
}

fn component_rows(components: &[ComponentView]) -> Markup {
    html! {
        table.compact {
            caption.sr-only { "Components and versions" }
            thead { tr { th scope="col" { "Component" } th scope="col" { "Version" } th scope="col" { "Where" } } }
            tbody {
                @for c in components {
                    @let apps: Vec<(String, String)> = c.cloudhub_applications.iter().map(|a| (a.name.clone(), a.change.clone())).collect();
                    tr {
                        th scope="row" { (c.display_name) }
                        td data-label="Version" { strong { (c.version) } }
                        td data-label="Where" { (component_links(c.pages_url.as_deref(), &apps)) }
                    }
                }
            }
        }
    }
}

fn environment_card(env: &EnvironmentView, clock: Clock) -> Markup {
    html! {
        article.card.env aria-labelledby={ "env-" (env.name) } {
            h3 id={ "env-" (env.name) } { (env.display_name) }
            @match &env.live {
                Some(live) => {
                    p.big { a href={ "/releases/" (live.release) } { "Release " (live.number) } }
                    p {
                        "Live since " (time_with_age(live.since, clock))
                        @if let Some(by) = &live.approved_by { br; "Signed off by " strong { (by) } }
                    }
                    (component_rows(&live.components))
                },
                None => { p.big.muted { "Nothing deployed yet" } },
            }
            @if let Some(deploying) = &env.deploying {
                p.banner { a href={ "/releases/" (deploying) } { (release_name(deploying)) } " is deploying here now." }
            }
            @for p in &env.pending { (pending(p, clock)) }
            @for d in &env.drift {
                div.banner.bad.drift {
                    p { (d.words) }
                    p.muted.small { "Noticed " (time_with_age(d.since, clock)) "; the next deployment here overwrites it." }
                }
            }
            @if let Some(previous) = &env.previous {
                p.muted.small {
                    "Before: " a href={ "/releases/" (previous.release) } { "release " (previous.number) }
                    " (the rollback target)"
                }
            }
        }
    }
}

/// A request open in an environment beside the releases in flight: a redeploy waiting for its
/// confirmation, or a failed redeploy waiting for a decision.
fn pending(p: &PendingView, clock: Clock) -> Markup {
    html! {
        div class={ "banner " (match p.kind { PendingKind::Redeploy => "info", PendingKind::Decision => "bad" }) } {
            p {
                (p.summary) " (until " (time_at(p.expires_at, clock))
                @if p.kind == PendingKind::Decision { "; then it rolls back" }
                ")."
            }
            p.muted.small {
                @if p.kind == PendingKind::Redeploy { "Why: " (p.reason) " · " }
                "Asked " (time_with_age(p.since, clock)) " · "
                a href={ "/releases/" (p.release) } { "Release " (p.number) }
            }
        }
    }
}

fn live_now(environments: &[EnvironmentView], clock: Clock) -> Markup {
    html! {
        section aria-labelledby="live-now" {
            h2 id="live-now" { "Live now" }
            div.grid { @for env in environments { (environment_card(env, clock)) } }
        }
    }
}

fn in_flight(items: &[InFlightView], clock: Clock) -> Markup {
    html! {
        section aria-labelledby="in-flight" {
            h2 id="in-flight" { "On its way" }
            @if items.is_empty() {
                p.muted { "No release is waiting or deploying." }
            } @else {
                ul.flights {
                    @for f in items {
                        li.card {
                            a.big href={ "/releases/" (f.release) } { "Release " (f.number) }
                            " " (badge(f.status, step_label(&f.waiting_on)))
                            p { (f.summary) (since(&f.waiting_on, clock)) "." }
                        }
                    }
                }
            }
        }
    }
}

/// A short label for what a release waits on.
fn step_label(w: &WaitingOn) -> &'static str {
    match w {
        WaitingOn::SignOff { .. } => "needs sign-off",
        WaitingOn::Deploying { .. } => "deploying",
        WaitingOn::EnvironmentBusy { .. } => "queued",
        WaitingOn::Freeze { .. } => "frozen",
        WaitingOn::Decision { .. } => "needs a decision",
        WaitingOn::Scheduled { .. } => "scheduled",
        WaitingOn::Starting => "starting",
        WaitingOn::Collecting { .. } => "collecting",
        WaitingOn::NextStep { .. } => "moving on",
    }
}

/// ` since 10:42 (23 min ago); the request lapses Thu 10:42` for sign-offs, ` (until 10:42;
/// then it rolls back)` for a failed deployment's decision.
fn since(w: &WaitingOn, clock: Clock) -> Markup {
    match w {
        WaitingOn::SignOff {
            since,
            expires_at,
            on_hold,
            ..
        } => html! {
            " since " (time_with_age(*since, clock))
            @if let Some(until) = on_hold.as_ref().and_then(|h| h.until) { "; on hold until " (time_at(until, clock)) }
            @if let Some(expires) = expires_at { "; the request lapses " (time_at(*expires, clock)) }
        },
        WaitingOn::Freeze { until, .. } => html! { ", until " (time_at(*until, clock)) },
        // A window of seconds: the minute alone would not say when it ends.
        WaitingOn::Collecting { until } => html! {
            " until " time datetime=(until.to_rfc3339()) title=(clock.exact(*until)) {
                (until.with_timezone(&clock.zone).format("%H:%M:%S"))
            }
        },
        WaitingOn::Scheduled { at, .. } => html! { ": " (time_at(*at, clock)) },
        WaitingOn::Decision {
            expires_at: Some(until),
            ..
        } => html! { " (until " (time_at(*until, clock)) "; then it rolls back)" },
        WaitingOn::Decision { expires_at: None, .. } => html! { " (unanswered, it rolls back)" },
        _ => html! {},
    }
}

fn recent(releases: &[ReleaseSummary], clock: Clock) -> Markup {
    html! {
        section aria-labelledby="recent" {
            h2 id="recent" { "Recent releases" }
            @if releases.is_empty() {
                p.muted { "No release yet. A release is made when every component has a package." }
            } @else {
                div.scroll {
                    table {
                        caption.sr-only { "Recent releases, newest first" }
                        thead { tr {
                            th scope="col" { "Release" } th scope="col" { "Created" }
                            th scope="col" { "What changed" } th scope="col" { "Where it stands" }
                        } }
                        tbody {
                            @for r in releases {
                                tr {
                                    th.nowrap scope="row" { a href=(r.url) { "Release " (r.number) } }
                                    td.nowrap data-label="Created" { (time_at(r.created_at, clock)) }
                                    td data-label="What changed" { (changes_text(r)) }
                                    td data-label="Where it stands" {
                                        (badge(r.status, &summary_label(r)))
                                        @if in_flight_words(r) { br; span.small { (r.outcome) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether a summary's outcome says more than its status label: what an in-flight release
/// waits on.
fn in_flight_words(r: &ReleaseSummary) -> bool {
    baton_domain::ports::status::outcome(r.status) != r.outcome
}

/// `web 1.0.0 → 1.1.0, state 2.0.0 (new)`.
pub(super) fn changes_text(r: &ReleaseSummary) -> Markup {
    html! {
        @if r.changes.is_empty() { span.muted { "no version changes" } }
        @for (i, c) in r.changes.iter().enumerate() {
            @if i > 0 { ", " }
            (c.component) " "
            @if let Some(from) = &c.from { span.muted { (from) " → " } }
            strong { (c.to) }
            @if c.from.is_none() { " " span.muted { "(new)" } }
        }
    }
}

fn figure(label: &str, value: Markup, note: Markup) -> Markup {
    html! {
        div.card.figure {
            h3 { (label) }
            p.value { (value) }
            p.muted.small { (note) }
        }
    }
}

fn delivery(d: &DeliveryFigures, clock: Clock) -> Markup {
    let none = |what: &str| html! { span.muted { (what) } };
    html! {
        section aria-labelledby="delivery" {
            h2 id="delivery" { "Delivery, last " (d.window_days) " days" }
            div.figures {
                (figure("Deployment frequency", html! { (d.deployments_to_production) " to " (d.production) },
                    html! {
                        @if d.deployments_to_production > 0 { "About " (d.per_week) " a week. " }
                        (d.releases) " " (plural(d.releases, "release was", "releases were")) " made in this period."
                    }))
                (figure("Lead time", match d.lead_time {
                        Some(l) => html! { (duration_words(l.median_seconds)) },
                        None => none("not measured yet"),
                    },
                    html! { "Typical time from a package upload to live in " (d.production) " (median)." }))
                (figure("Change failure rate", match d.change_failure_rate {
                        Some(rate) => html! { (format!("{:.0}", rate * 100.0)) " %" },
                        None => none("nothing deployed yet"),
                    },
                    html! { (d.failed_releases) " of " (d.deployed_releases) " " (plural(d.deployed_releases, "release", "releases")) " deployed to " (d.production) " failed there (failures caught before " (d.production) " do not count)." }))
                (figure("Waiting for sign-off", match d.approval_wait {
                        Some(w) => html! { (duration_words(w.median_seconds)) },
                        None => none("not measured yet"),
                    },
                    html! { "Typical time from ready for an environment to its deployment starting (median)." }))
            }
            p.muted.small { "Measured since " (time_at(d.since, clock)) "." }
        }
    }
}

fn rejected(items: &[RejectedView], clock: Clock) -> Markup {
    html! {
        section aria-labelledby="rejected" {
            h2 id="rejected" { "Refused uploads" }
            @if items.is_empty() {
                p.muted { "No upload has been refused." }
            } @else {
                p.muted { "These packages were not accepted; nothing was released from them. The reason says what to fix." }
                div.scroll {
                    table {
                        caption.sr-only { "Refused uploads, newest first" }
                        thead { tr { th scope="col" { "When" } th scope="col" { "Package" } th scope="col" { "Why" } } }
                        tbody {
                            @for r in items {
                                tr {
                                    td.nowrap data-label="When" { (time_at(r.rejected_at, clock)) }
                                    td.key data-label="Package" { (r.object_key) }
                                    td.bad-text data-label="Why" { (r.reason) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
