//! `GET /releases/{id}`: one release's story. Where it stands in each environment, what it
//! contains and why (notes, commits), its deployments with links, and its timeline.

use baton_domain::deployment::DeployStatus;
use baton_domain::ports::status::{DeploymentView, NoteView, Progress, ProgressView, ReleaseDetail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::deploy_again::DeployAgain;
use super::overview::{changes_text, component_links};
use super::{footer, header, release_name, safe_url, time_at, time_with_age};
use crate::time::Clock;
use crate::{page, refreshing_page};

/// The release page, as of `now`, with times in `zone`, without its "Deploy again" section.
pub fn release_page(detail: &ReleaseDetail, now: DateTime<Utc>, zone: Tz) -> String {
    release_page_with(detail, &DeployAgain::default(), now, zone)
}

/// The release page, as of `now`, with times in `zone`, offering to deploy it again where
/// `again` says.
pub fn release_page_with(detail: &ReleaseDetail, again: &DeployAgain, now: DateTime<Utc>, zone: Tz) -> String {
    let clock = Clock::new(now, zone);
    let s = &detail.summary;
    let title = format!("Release {}", s.number);
    let subtitle = html! { "Created " (time_with_age(s.created_at, clock)) ". " (changes_text(s)) };
    // It tells live progress, so it reloads itself; not while it offers the "Deploy again"
    // form, where a reload would wipe a reason being typed.
    let page = if again.targets.is_empty() {
        refreshing_page
    } else {
        page
    };
    page(
        &title,
        html! {
            div.status {
                (header(&title, subtitle, clock, true))
                div.banner.(banner_tone(detail)) role="status" {
                    p.big { (detail.headline) }
                    @if let Some(w) = &detail.waiting_on {
                        @if let baton_domain::ports::status::WaitingOn::SignOff { since, unreachable, on_hold, .. } = w {
                            @if let Some(hold) = on_hold {
                                p { "Put on hold " (time_with_age(hold.at, clock)) ". Any approver can lift the hold from their link." }
                            } @else if unreachable.is_some() {
                                p { "Asked " (time_with_age(*since, clock)) ", but the mail with the link did not reach the approvers: the release manager should check the address and Baton's mail sending (SES)." }
                            } @else {
                                p { "Asked " (time_with_age(*since, clock)) ". The approvers have the link in their email." }
                            }
                        }
                        @if let baton_domain::ports::status::WaitingOn::Scheduled { environment, at } = w {
                            p { "Scheduled for " (environment) " at " strong { (clock.exact_minute(*at)) } "." }
                        }
                        @if let baton_domain::ports::status::WaitingOn::Freeze { until, .. } = w {
                            p { "Deployments may run there again from " strong { (clock.exact_minute(*until)) } "." }
                        }
                        @if let baton_domain::ports::status::WaitingOn::Decision { environment, expires_at, .. } = w {
                            p {
                                (environment) " stays as the failure left it. The approvers have the choice in their email: retry, roll back or leave it as it is. "
                                @match expires_at {
                                    Some(until) => { "Unanswered by " strong { (clock.exact_minute(*until)) } ", it rolls back." },
                                    None => { "Unanswered, it rolls back." },
                                }
                            }
                        }
                    }
                }
                (steps(&detail.environments, clock))
                (contents(detail))
                (deployments(&detail.deployments, clock))
                (super::deploy_again::section(&s.id, s.number, again))
                (super::subscribe::release_form(detail))
                (timeline(detail, clock))
                (facts(detail))
                (footer(&format!("/api/releases/{}", s.id), clock))
            }
        },
    )
}

fn banner_tone(detail: &ReleaseDetail) -> &'static str {
    use baton_domain::release::ReleaseStatus as S;
    if matches!(
        detail.waiting_on,
        Some(baton_domain::ports::status::WaitingOn::Decision { .. })
    ) {
        return "bad";
    }
    match detail.summary.status {
        S::Released => "ok",
        S::Rejected | S::Failed | S::RolledBack | S::Expired => "bad",
        S::Blocked => "warn",
        _ => "info",
    }
}

fn progress_tone(p: Progress) -> &'static str {
    match p {
        Progress::Live => "ok",
        Progress::Rejected | Progress::Expired | Progress::Failed | Progress::RolledBack => "bad",
        Progress::WaitingForSignOff | Progress::Approved => "warn",
        Progress::Deploying => "info",
        Progress::NotYet | Progress::Superseded => "quiet",
    }
}

fn steps(environments: &[ProgressView], clock: Clock) -> Markup {
    html! {
        section aria-labelledby="where" {
            h2 id="where" { "Where it stands" }
            ol.steps {
                @for p in environments {
                    li class={ "card step is-" (progress_tone(p.progress)) } {
                        h3 { (p.display_name) }
                        p { strong { (p.summary) } }
                        @if let Some(at) = p.since { p.muted.small { (time_with_age(at, clock)) } }
                    }
                }
            }
        }
    }
}

fn contents(detail: &ReleaseDetail) -> Markup {
    html! {
        section aria-labelledby="contents" {
            h2 id="contents" { "What it contains" }
            div.scroll {
                table {
                    caption.sr-only { "Packages in this release" }
                    thead { tr { th scope="col" { "Component" } th scope="col" { "Version" } th scope="col" { "Change" } } }
                    tbody {
                        @for p in &detail.packages {
                            @let change = detail.summary.changes.iter().find(|c| c.component == p.component);
                            tr {
                                th scope="row" { (p.display_name) }
                                td data-label="Version" { strong { (p.version) } }
                                td data-label="Change" {
                                    @match change {
                                        Some(c) => @match &c.from {
                                            Some(from) => { "updated from " (from) },
                                            None => { "new" },
                                        },
                                        None => { span.muted { "unchanged" } },
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Release notes" }
            @if detail.notes.is_empty() { p.muted { "No release notes were given." } }
            (note_list(&detail.notes))
            (environment_notes(detail))
        }
    }
}

/// Per environment asked so far: every package between what was live there and this release.
fn environment_notes(detail: &ReleaseDetail) -> Markup {
    html! {
        @for env in &detail.environment_notes {
            h3 { "What it changes in " (env.environment) ", since what was live there" }
            @if env.notes.is_empty() { p.muted { "No package changes there." } }
            (note_list(&env.notes))
        }
    }
}

/// Package notes with their commit, branch and CI build, escaped.
fn note_list(notes: &[NoteView]) -> Markup {
    html! {
        ul.notes {
            @for n in notes {
                li {
                    strong { (n.component) " " (n.version) } ": "
                    @match &n.notes { Some(text) => { span.note { (text) } }, None => { span.muted { "no notes" } } }
                    p.muted.small {
                        @if let Some(commit) = &n.commit { "Commit " code { (commit) } }
                        @if let Some(branch) = &n.branch { " on " code { (branch) } }
                        @if let Some(url) = &n.build_url {
                            " · "
                            @match safe_url(url) {
                                Some(url) => { a href=(url) rel="noopener noreferrer" { "CI build" } },
                                None => { "CI build " code { (url) } },
                            }
                        }
                    }
                }
            }
        }
    }
}

fn deploy_words(status: DeployStatus) -> (&'static str, &'static str) {
    match status {
        DeployStatus::InProgress => ("deploying", "info"),
        DeployStatus::Succeeded => ("live", "ok"),
        DeployStatus::Failed => ("failed", "bad"),
        DeployStatus::RolledBack => ("rolled back", "bad"),
    }
}

fn deployments(items: &[DeploymentView], clock: Clock) -> Markup {
    html! {
        section aria-labelledby="deployments" {
            h2 id="deployments" { "Deployments" }
            @if items.is_empty() {
                p.muted { "Not deployed anywhere yet." }
            } @else {
                div.scroll {
                    table {
                        caption.sr-only { "Deployments by environment and component" }
                        thead { tr {
                            th scope="col" { "Environment" } th scope="col" { "Component" } th scope="col" { "Result" }
                            th scope="col" { "Finished" } th scope="col" { "Where" }
                        } }
                        tbody {
                            @for d in items {
                                @let (words, tone) = deploy_words(d.status);
                                @let apps: Vec<(String, String)> = d.cloudhub_applications.iter().map(|a| (a.name.clone(), a.change.clone())).collect();
                                tr {
                                    th scope="row" { (d.environment) }
                                    td data-label="Component" { (d.component) " " (d.version) }
                                    td data-label="Result" {
                                        span class={ "badge " (tone) } { (words) }
                                        @if let Some(e) = &d.error { br; span.bad-text.small { (e) } }
                                    }
                                    td.nowrap data-label="Finished" {
                                        @if d.status == DeployStatus::InProgress { span.muted { "still running" } }
                                        @else { (time_at(d.updated_at, clock)) }
                                    }
                                    td data-label="Where" { (component_links(d.pages_url.as_deref(), &apps)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn timeline(detail: &ReleaseDetail, clock: Clock) -> Markup {
    html! {
        section aria-labelledby="timeline" {
            h2 id="timeline" { "Timeline" }
            ol.timeline {
                @for e in &detail.events {
                    li {
                        span.when { (time_at(e.at, clock)) }
                        div {
                            (e.summary)
                            @if let Some(c) = &e.comment { p.muted.comment { "“" (c) "”" } }
                        }
                    }
                }
            }
        }
    }
}

fn facts(detail: &ReleaseDetail) -> Markup {
    html! {
        section aria-labelledby="details" {
            h2 id="details" { "Details" }
            dl.facts {
                dt { "Release id" } dd { code { (detail.summary.id) } }
                dt { "Made from the upload" } dd { code { (detail.triggered_by) } }
                dt { "Previous release" }
                dd {
                    @match &detail.previous {
                        Some(p) => { a href={ "/releases/" (p) } { (release_name(p)) } },
                        None => { span.muted { "none: this is the first" } },
                    }
                }
                dt { "Content hash" } dd { code { (detail.content_hash) } }
                @for p in &detail.packages {
                    dt { (p.component) " package" } dd { code { (p.object_key) } }
                }
            }
        }
    }
}
