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

/// What a scheduled deployment's mail needs to say.
pub struct Scheduled<'a> {
    /// The approval that scheduled it.
    pub approval: &'a Approval,
    /// Who the mail is for.
    pub to: &'a str,
    /// Whose sign-off completed the approval.
    pub by: &'a str,
    /// When the deployment starts.
    pub at: chrono::DateTime<chrono::Utc>,
    /// When the mail is made (the invitation's stamp).
    pub now: chrono::DateTime<chrono::Utc>,
    /// The zone times are shown in.
    pub zone: chrono_tz::Tz,
    /// Where the release's page is.
    pub public_url: &'a str,
    /// Who the mail comes from (the invitation's organizer).
    pub sender: &'a str,
}

/// Tells an approver when a signed-off deployment will start, with an `.ics` invitation for
/// that time (the same UID for a release and environment, so a calendar updates it).
pub fn deployment_scheduled(s: &Scheduled<'_>) -> Mail {
    let a = s.approval;
    let when = human_time(s.at, s.zone);
    let subject = format!("Release {} deploys to {} at {when}", a.number, a.environment);
    let page = format!("{}/releases/{}", s.public_url.trim_end_matches('/'), a.release_id);
    let text = format!(
        "Release {} was approved for {} by {}, to deploy at {when}.\n\nUntil then nothing changes there. Its page: {page}\n",
        a.number, a.environment, s.by
    );
    let html = html! {
        p { "Release " (a.number) " was approved for " (a.environment) " by " (s.by) ", to deploy at " strong { (when) } "." }
        p { "Until then nothing changes there. " a href=(page) { "Its page" } "." }
    }
    .into_string();
    let invitation = crate::ics::invitation(&crate::ics::CalendarEvent {
        uid: format!("{}-{}@baton", a.release_id, a.environment),
        stamp: s.now,
        start: s.at,
        minutes: 30,
        summary: format!("Baton deploys release {} to {}", a.number, a.environment),
        description: format!("Approved by {}. Follow it on {page}", s.by),
        url: Some(page.clone()),
        organizer: Some(s.sender.to_string()),
    });
    Mail {
        to: s.to.to_string(),
        subject,
        text,
        html,
        attachments: vec![baton_domain::ports::Attachment {
            filename: format!("release-{}-{}.ics", a.number, a.environment),
            content_type: crate::ics::CONTENT_TYPE.to_string(),
            content: invitation.into_bytes(),
        }],
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
