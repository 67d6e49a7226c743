//! Mails: the approval request, the follow-up when someone decides, and the failure notice.

use baton_domain::Release;
use baton_domain::approval::Approval;
use baton_domain::ports::Mail;
use chrono_tz::Tz;
use maud::html;

use crate::approval::{changes, notes};
use crate::human_time;

/// The approval request for one approver, with their personal link; its expiry in `zone`.
pub fn approval_request(approval: &Approval, release: &Release, approver: &str, link: &str, zone: Tz) -> Mail {
    let expires = human_time(approval.expires_at, zone);
    let subject = format!(
        "Approve release {} for {}? (expires {})",
        approval.number, approval.environment, expires
    );
    let mut text = format!(
        "Release {} is ready for {}.\n\nWhat changes in {}:\n",
        approval.number, approval.environment, approval.environment
    );
    for c in &approval.changes {
        let live = c
            .live
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "nothing yet".into());
        text.push_str(&format!("  {}: {} -> {}\n", c.component, live, c.next));
    }
    if !approval.plan.0.is_empty() {
        text.push_str(&format!("\nWhat deploying changes in {}:\n", approval.environment));
        text.push_str(&crate::approval::plan_text(approval));
    }
    text.push_str(&format!(
        "\nWhat changed since what is live in {}:\n",
        approval.environment
    ));
    for n in crate::approval::notes_shown(approval, release) {
        text.push_str(&format!(
            "  {} {}: {} (commit {})\n",
            n.component,
            n.version,
            n.metadata.notes.as_deref().unwrap_or("no notes"),
            n.metadata.commit.as_deref().unwrap_or("-")
        ));
    }
    text.push_str(&format!(
        "\nReview and decide: {link}\n\nOpening the link decides nothing; you approve or reject on the page.\nThis link is yours alone ({approver}) and expires {expires}.\n"
    ));
    let html = html! {
        p { "Release " strong { (approval.number) } " is ready for " strong { (approval.environment) } "." }
        h3 { "What changes in " (approval.environment) }
        (changes(approval))
        h3 { "What deploying changes in " (approval.environment) }
        (crate::approval::plan(approval))
        h3 { "What changed since what is live in " (approval.environment) }
        (notes(crate::approval::notes_shown(approval, release)))
        p { a href=(link) { "Review and decide" } }
        p { small { "Opening the link decides nothing; you approve or reject on the page. This link is yours alone (" (approver) ") and expires " (expires) "." } }
    }
    .into_string();
    Mail {
        to: approver.to_string(),
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// Tells the other approvers that someone decided.
pub fn decided_follow_up(approval: &Approval, to: &str, by: &str, approved: bool) -> Mail {
    let verb = if approved { "approved" } else { "rejected" };
    let subject = format!(
        "Release {} for {} was {verb} by {by}",
        approval.number, approval.environment
    );
    let text = format!("{subject}. Your link for this request no longer changes anything.\n");
    let html = html! { p { (subject) ". Your link for this request no longer changes anything." } }.into_string();
    Mail {
        to: to.to_string(),
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// Tells the release manager that a deployment failed.
pub fn deployment_failed(release: &Release, environment: &str, to: &str, outcome: &str, reason: &str) -> Mail {
    let subject = format!("Release {} {outcome} in {environment}", release.number);
    let text = format!(
        "{subject}.\n\nWhat happened: {reason}\n\nRelease {} ({}).\n",
        release.id, release.content_hash
    );
    let html = html! {
        p { strong { (subject) } "." }
        p { "What happened: " (reason) }
        p { small { "Release " (release.id) " (" (release.content_hash) ")." } }
    }
    .into_string();
    Mail {
        to: to.to_string(),
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
