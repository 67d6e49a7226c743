//! The approval page an emailed link opens, and the answers to a decision.

use baton_domain::Release;
use baton_domain::approval::evidence::Evidence;
use baton_domain::approval::{Approval, ApprovalStatus, LinkProblem};
use baton_domain::redeploy::action_words;
use baton_domain::release::ReleaseNote;
use chrono_tz::Tz;
use maud::{Markup, html};

use crate::{human_time, page};

mod controls;
mod evidence;

pub use controls::{freeze_overridden_page, freeze_override_page, held_page, lifted_page};
pub use evidence::{evidence, evidence_text};

/// What the approval page shows.
pub struct ApprovalView<'a> {
    /// The approval.
    pub approval: &'a Approval,
    /// Its release.
    pub release: &'a Release,
    /// The approver whose link this is.
    pub approver: &'a str,
    /// The link token (posted back with the decision).
    pub token: &'a str,
    /// Base URL of Baton's HTTP API.
    pub public_url: &'a str,
    /// How many distinct approvers must sign off now.
    pub required: usize,
    /// The zone the page shows times in (`BatonConfig::zone`).
    pub zone: Tz,
}

/// The changes table: component, what runs there now, what the release brings.
pub fn changes(approval: &Approval) -> Markup {
    html! {
        table {
            thead { tr { th scope="col" { "Component" } th scope="col" { "Live in " (approval.environment) " now" } th scope="col" { "This release" } } }
            tbody {
                @for c in &approval.changes {
                    tr {
                        td { (c.component) }
                        td { @match &c.live { Some(v) => { (v.to_string()) }, None => { span.muted { "nothing yet" } } } }
                        td {
                            strong { (c.next.to_string()) }
                            @if c.live.as_ref() == Some(&c.next) { " " span.muted { "(unchanged)" } }
                        }
                    }
                }
            }
        }
    }
}

/// The plan the approver signs: per component, what deploying changes in the environment,
/// computed against what is live there.
pub fn plan(approval: &Approval) -> Markup {
    html! {
        @if approval.plan.0.is_empty() {
            p.muted { "The plan is computed when Baton deploys." }
        } @else {
            ul {
                @for (component, lines) in &approval.plan.0 {
                    li {
                        strong { (component) }
                        ul { @for line in lines { li { (line) } } }
                    }
                }
            }
            @if let Some(hash) = &approval.plan_hash {
                p.muted.small { "Plan " code { (&hash[..hash.len().min(12)]) } ": if " (approval.environment)
                " changes before Baton deploys, nothing is deployed and you are asked again." }
            }
        }
        @if !approval.drift.is_empty() {
            div.banner.bad.drift {
                p { "Changed outside Baton in " (approval.environment) "; deploying overwrites it:" }
                ul { @for line in &approval.drift { li { (line) } } }
            }
        }
    }
}

/// The plan as plain text, one line per change, for the mail's text part.
pub fn plan_text(approval: &Approval) -> String {
    let mut text: String = approval
        .plan
        .0
        .iter()
        .flat_map(|(component, lines)| lines.iter().map(move |l| format!("  {component}: {l}\n")))
        .collect();
    if !approval.drift.is_empty() {
        text.push_str(&format!(
            "\nChanged outside Baton in {}; deploying overwrites it:\n",
            approval.environment
        ));
        for line in &approval.drift {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}

/// The notes an approver of `approval` reads: every package between what is live in the
/// environment and what the release brings; the release's own notes for a request made before
/// those were kept.
pub fn notes_shown<'a>(approval: &'a Approval, release: &'a Release) -> &'a [ReleaseNote] {
    if approval.notes.is_empty() {
        &release.notes
    } else {
        &approval.notes
    }
}

/// Release notes and commits, escaped.
pub fn notes(notes: &[ReleaseNote]) -> Markup {
    html! {
        @if notes.is_empty() { p.muted { "No release notes were given." } }
        ul {
            @for n in notes {
                li {
                    strong { (n.component) " " (n.version.to_string()) } ": "
                    (n.metadata.notes.as_deref().unwrap_or("no notes"))
                    @if let Some(commit) = &n.metadata.commit { " " span.muted { "(commit " code { (commit) } ")" } }
                    @if let Some(url) = &n.metadata.build_url { " " span.muted { "build: " (url) } }
                }
            }
        }
    }
}

/// The page a GET of the link shows. It decides nothing: only the form's POST does. A
/// redeploy's confirmation (`approval.redeploy`) asks `Roll PROD back to release 5?`, says who
/// asked and why, and its buttons read Confirm and Cancel (posting `approve` and `reject`).
/// [`approval_page_with`] without the record of the environment before.
pub fn approval_page(v: &ApprovalView) -> String {
    approval_page_with(v, None)
}

/// The approval page, with the release's record in the environment before (`evidence`).
pub fn approval_page_with(v: &ApprovalView, evidence_before: Option<&Evidence>) -> String {
    let a = v.approval;
    let (title, approve, reject) = match &a.redeploy {
        Some(r) => (
            format!("{}?", action_words(a.number, &a.environment, r.replacing)),
            "Confirm".to_string(),
            "Cancel",
        ),
        None => (
            format!("Approve release {} for {}?", a.number, a.environment),
            format!("Approve for {}", a.environment),
            "Reject",
        ),
    };
    page(
        &title,
        html! {
            p.muted { @if a.redeploy.is_some() { "Baton redeploy confirmation" } @else { "Baton release approval" } }
            h1 { (title) }
            @if let Some(r) = &a.redeploy {
                div.banner.warn role="status" {
                    p { "Asked by " (r.requested_by) ": " (r.reason) }
                    p { "Nothing changes in " (a.environment) " until you confirm." }
                }
            }
            @if let Some(hold) = a.hold_at(chrono::Utc::now()) {
                div.banner.warn role="status" {
                    strong { "On hold" } " by " (hold.by)
                    @if let Some(until) = hold.until { " until " (human_time(until, v.zone)) }
                    ": " (hold.reason) ". Nothing can approve it until the hold is lifted or ends."
                }
            }
            div.banner {
                "You are signed in by your personal link as " strong { (v.approver) } ". "
                "This request expires " strong { (human_time(a.expires_at, v.zone)) } "."
                @if v.required > 1 {
                    br;
                    strong { (a.sign_offs.len().min(v.required)) " of " (v.required) " sign-offs" }
                    @if !a.sign_offs.is_empty() {
                        " so far (" (a.sign_offs.iter().map(|s| s.by.as_str()).collect::<Vec<_>>().join(", ")) ")"
                    }
                    ". Baton deploys once " (v.required) " approvers have signed off."
                }
            }
            @if let Some(e) = evidence_before { (evidence(e, v.zone)) }
            div.card {
                h2 { "What changes in " (a.environment) }
                (changes(a))
                p.muted { "Release " (v.release.id) ", content hash " code { (v.release.content_hash) } ". "
                a href={ (v.public_url) "/releases/" (v.release.id) } { "Its timeline and deployments" } }
            }
            div.card {
                h2 { "What deploying changes in " (a.environment) }
                (plan(a))
            }
            div.card {
                h2 { "What changed since what is live in " (a.environment) }
                (notes(notes_shown(a, v.release)))
            }
            // Relative, so the form posts back to whatever origin served the page (CSP form-action 'self').
        form.card method="post" action={ "/approvals/" (a.id) } {
                input type="hidden" name="token" value=(v.token);
                label {
                    input type="checkbox" name="confirm" value="yes" required;
                    " I have reviewed the changes above for " (a.environment) "."
                }
                label for="comment" { "Comment (optional, kept in the audit trail)" }
                textarea id="comment" name="comment" maxlength="2000" {}
                fieldset {
                    legend { "If approved, deploy" }
                    label { input type="radio" name="when" value="now" checked; " as soon as Baton can" }
                    label {
                        input type="radio" name="when" value="at"; " at "
                        input type="datetime-local" name="deploy_at" aria-label="Date and time to deploy"
                            min=(local_input(chrono::Utc::now(), v.zone)) max=(local_input(a.expires_at, v.zone));
                        " " span.muted { "(" (crate::time::zone_words(v.zone)) ", before the request expires)" }
                    }
                }
                p {
                    @if a.hold_at(chrono::Utc::now()).is_some() {
                        button.approve type="submit" name="decision" value="approve" disabled { (approve) }
                    } @else {
                        button.approve type="submit" name="decision" value="approve" { (approve) }
                    }
                    button.reject type="submit" name="decision" value="reject" { (reject) }
                }
            }
            // Hold or lift: not a decision, so no "I have reviewed" box.
            form.card method="post" action={ "/approvals/" (a.id) } {
                input type="hidden" name="token" value=(v.token);
                @if a.hold_at(chrono::Utc::now()).is_some() {
                    p { "Lift the hold so that the request can be approved again." }
                    button type="submit" name="decision" value="lift" { "Lift the hold" }
                } @else {
                    h2 { "Not yet? Put it on hold" }
                    p.muted { "The request stays open; nothing can approve it until someone lifts the hold or it ends." }
                    label for="hold_reason" { "Why (shown to the other approvers and on the status page)" }
                    input id="hold_reason" type="text" name="hold_reason" maxlength="500" required;
                    label {
                        "Until (optional, " (crate::time::zone_words(v.zone)) ") "
                        input type="datetime-local" name="hold_until"
                            min=(local_input(chrono::Utc::now(), v.zone)) max=(local_input(a.expires_at, v.zone));
                    }
                    p { button type="submit" name="decision" value="hold" { "Hold" } }
                }
            }
        },
    )
}

/// A time as a `datetime-local` input holds it, in `zone`: `2026-11-30T18:00`.
fn local_input(at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()
}

fn decision_title(approval: &Approval, approved: bool) -> String {
    format!(
        "Release {} {} for {}",
        approval.number,
        if approved { "approved" } else { "rejected" },
        approval.environment
    )
}

/// The page after a decision was recorded and the workflow has it.
pub fn decided_page(approval: &Approval, approved: bool) -> String {
    decided_page_with(approval, approved, None)
}

/// [`decided_page`] linking to the release's page under `public_url` (Baton's base URL), where
/// its progress shows.
pub fn decided_page_with(approval: &Approval, approved: bool, public_url: Option<&str>) -> String {
    let title = decision_title(approval, approved);
    let text = if approved {
        "Your decision is recorded and the workflow has it: Baton is deploying the release now. You will find its progress on the status page."
    } else {
        "Your decision is recorded and the workflow has it. Nothing will be deployed; the release stops here."
    };
    page(
        &title,
        html! {
            div.banner.(if approved { "ok" } else { "bad" }) { h1 { (title) } p { (text) } }
            @if let Some(base) = public_url {
                p { a href={ (base.trim_end_matches('/')) "/releases/" (approval.release_id) } { "Follow release " (approval.number) " on the status page" } }
            }
        },
    )
}

/// The page after a decision was recorded but Step Functions did not take it yet: Baton keeps
/// passing it on. With `again` (the token and decision), Baton could not even queue it, and the
/// approver may press to pass it on now.
pub fn decision_pending_page(approval: &Approval, approved: bool, again: Option<(&str, &str)>) -> String {
    let title = decision_title(approval, approved);
    page(
        &title,
        html! {
            div.banner.(if approved { "ok" } else { "bad" }) {
                h1 { (title) }
                p { "Your decision is recorded. It will reach the release workflow shortly: you need not do anything more. The release's progress is on the status page." }
            }
            @if let Some((token, decision)) = again {
                form method="post" {
                    input type="hidden" name="token" value=(token);
                    input type="hidden" name="decision" value=(decision);
                    input type="hidden" name="confirm" value="yes";
                    p.muted { "If the release has not moved in a few minutes, press here to pass your decision on again (it is not recorded twice)." }
                    button type="submit" { "Pass my decision on again" }
                }
            }
        },
    )
}

/// The page for a decision that reached the workflow after its request had closed (stopped,
/// lapsed or replaced): kept in the audit trail, but it changed nothing.
pub fn too_late_page(approval: &Approval, approved: bool) -> String {
    let title = "Your decision came too late".to_string();
    page(
        &title,
        html! {
            div.banner.bad {
                h1 { (title) }
                p {
                    "The request for release " (approval.number) " in " (approval.environment)
                    " had closed before your decision (to " (if approved { "approve" } else { "reject" })
                    ") reached the workflow. It is kept in the audit trail but changed nothing: nothing will be deployed on it."
                }
            }
        },
    )
}

/// The page after a sign-off that does not yet make the number required, or a second
/// sign-off by the same person.
pub fn signed_off_page(approval: &Approval, approver: &str, have: usize, need: usize) -> String {
    let title = format!(
        "{have} of {need} sign-offs for release {} in {}",
        approval.number, approval.environment
    );
    let remaining = need.saturating_sub(have);
    page(
        &title,
        html! {
            div.banner.ok {
                h1 { (title) }
                p {
                    "Your sign-off as " strong { (approver) } " is recorded. Nothing is deployed until "
                    (remaining) " more " (if remaining == 1 { "approver signs" } else { "approvers sign" }) " off."
                }
            }
        },
    )
}

/// The page for a link that cannot be used (403, 409, 410); when it lapsed or was decided, in
/// `zone`.
pub fn problem_page(problem: &LinkProblem, approval: Option<&Approval>, public_url: &str, zone: Tz) -> String {
    let (title, body): (String, Markup) = match problem {
        LinkProblem::Forbidden => (
            "This link is not valid".into(),
            html! { p { "The link is incomplete or has been altered. Open the link from your email again; if it still fails, ask for a new request." } },
        ),
        LinkProblem::Expired { at } => (
            "This approval request has expired".into(),
            html! { p { "It lapsed " (human_time(*at, zone)) ". Nothing was approved. The release manager can start a new request." } },
        ),
        LinkProblem::Decided { by, status, at } => (
            format!(
                "Already {} by {by}",
                if *status == ApprovalStatus::Approved {
                    "approved"
                } else {
                    "rejected"
                }
            ),
            html! { p { "This request was decided" @if let Some(at) = at { " " (human_time(*at, zone)) } " by " strong { (by) } ". Your link no longer changes anything." } },
        ),
        LinkProblem::Superseded { by } => (
            "A newer release replaced this one".into(),
            html! {
                p { "This release will not be deployed here: a newer one is waiting for approval instead." }
                @if let Some(newer) = by { p { a href={ (public_url) "/releases/" (newer) } { "See release " (newer) } } }
            },
        ),
    };
    page(
        &title,
        html! {
            div.banner.bad { h1 { (title) } (body) }
            @if let Some(a) = approval { p.muted { "Release " (a.release_id) " for " (a.environment) "." } }
        },
    )
}

/// A page for a request Baton cannot read (bad form, unknown approval).
pub fn message_page(title: &str, text: &str) -> String {
    page(title, html! { div.banner.bad { h1 { (title) } p { (text) } } })
}
