//! Mails: the approval request, the follow-up when someone decides, the failure notice and
//! the failure question (retry, roll back or leave it).

use baton_domain::Release;
use baton_domain::approval::Approval;
use baton_domain::approval::evidence::Evidence;
use baton_domain::ports::Mail;
use chrono_tz::Tz;
use maud::html;

use crate::approval::{changes, notes};
use crate::human_time;

mod confirmation;
mod drift;
mod failure;
pub mod subscription;

pub use drift::drift_noticed;
pub(crate) use failure::failure_reason;
pub use failure::{FailureLinks, failure_question};

/// The text lines of what a request changes (live version -> new, per component), then the
/// plan, if the request has one: the same in an approval request and a confirmation.
fn changes_text(approval: &Approval) -> String {
    let mut text = String::new();
    for c in &approval.changes {
        let live = c
            .live
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "nothing yet".into());
        text.push_str(&format!("  {}: {} -> {}\n", c.component, live, c.next));
    }
    if !approval.plan.0.is_empty() || !approval.drift.is_empty() {
        text.push_str(&format!("\nWhat deploying changes in {}:\n", approval.environment));
        text.push_str(&crate::approval::plan_text(approval));
    }
    text
}

/// The approval request for one approver, with their personal link; its expiry in `zone`.
///
/// When the approval is a redeploy's (`approval.redeploy`), the mail is its confirmation,
/// `Confirm: Roll PROD back to release 5?`: who asked and why, that nothing changes until they
/// confirm, the link, what changes and the plan.
pub fn approval_request(approval: &Approval, release: &Release, approver: &str, link: &str, zone: Tz) -> Mail {
    approval_request_with(approval, release, approver, link, zone, None)
}

/// [`approval_request`] with the release's record in the environment before (`evidence`):
/// live there since when, signed off by whom, and its site there.
pub fn approval_request_with(
    approval: &Approval,
    release: &Release,
    approver: &str,
    link: &str,
    zone: Tz,
    evidence: Option<&Evidence>,
) -> Mail {
    if let Some(redeploy) = &approval.redeploy {
        return confirmation::mail(approval, redeploy, approver, link, zone);
    }
    let expires = human_time(approval.expires_at, zone);
    let subject = format!(
        "Approve release {} for {}? (expires {})",
        approval.number, approval.environment, expires
    );
    let mut text = format!(
        "Release {} is ready for {}.\n\nWhat changes in {}:\n",
        approval.number, approval.environment, approval.environment
    );
    text.push_str(&changes_text(approval));
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
    // After the personal link, which stays the first link of the mail.
    if let Some(e) = evidence {
        text.push_str(&format!("\n{}\n", crate::approval::evidence_text(e, zone)));
    }
    let html = html! {
        p { "Release " strong { (approval.number) } " is ready for " strong { (approval.environment) } "." }
        @if let Some(e) = evidence { (crate::approval::evidence(e, zone)) }
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
    Mail::new(approver, subject, text, html)
}

/// Tells the other approvers that someone decided.
pub fn decided_follow_up(approval: &Approval, to: &str, by: &str, approved: bool) -> Mail {
    let verb = if approved { "approved" } else { "rejected" };
    let subject = format!(
        "Release {} for {} was {verb} by {by}",
        approval.number, approval.environment
    );
    let line = format!("{subject}. Your link for this request no longer changes anything.");
    plain(to, subject, line)
}

/// Tells an approver that `by` put the request on hold (`hold`) or lifted its hold (`None`).
pub fn hold_changed(
    approval: &Approval,
    to: &str,
    by: &str,
    hold: Option<&baton_domain::approval::hold::Hold>,
    zone: chrono_tz::Tz,
) -> Mail {
    let (subject, line) = match hold {
        Some(h) => {
            let until = h
                .until
                .map(|u| format!(" until {}", human_time(u, zone)))
                .unwrap_or_else(|| " until someone lifts it".to_string());
            (
                format!("Release {} for {} is on hold", approval.number, approval.environment),
                format!(
                    "{by} put release {} for {} on hold{until}: {}.",
                    approval.number, approval.environment, h.reason
                ),
            )
        }
        None => (
            format!(
                "Release {} for {} is no longer on hold",
                approval.number, approval.environment
            ),
            format!(
                "{by} lifted the hold on release {} for {}: it can be approved again from your link.",
                approval.number, approval.environment
            ),
        ),
    };
    plain(to, subject, line)
}

/// Tells an approver that a signed-off release waits on a freeze, with their personal link to
/// deploy it now anyway.
pub fn freeze_wait(
    approval: &Approval,
    to: &str,
    reason: &str,
    until: chrono::DateTime<chrono::Utc>,
    link: &str,
    zone: chrono_tz::Tz,
) -> Mail {
    let subject = format!(
        "Release {} waits for the {reason} freeze of {}",
        approval.number, approval.environment
    );
    let until = human_time(until, zone);
    let text = format!(
        "Release {} is approved for {}, which is frozen ({reason}) until {until}. It deploys then.\n\nTo deploy it now anyway, with a reason, open your personal link:\n{link}\n\nOpening it decides nothing.\n",
        approval.number, approval.environment
    );
    let html = html! {
        p { "Release " (approval.number) " is approved for " (approval.environment) ", which is frozen (" (reason) ") until " strong { (until) } ". It deploys then." }
        p { "To deploy it now anyway, with a reason: " a href=(link) { "open your personal link" } "." }
        p { small { "Opening it decides nothing. The link is yours alone (" (to) ")." } }
    }
    .into_string();
    Mail::new(to, subject, text, html)
}

/// Tells an approver that a hold ended at its time.
pub fn hold_ended(
    approval: &Approval,
    to: &str,
    hold: &baton_domain::approval::hold::Hold,
    zone: chrono_tz::Tz,
) -> Mail {
    let subject = format!(
        "Release {} for {}: the hold has ended",
        approval.number, approval.environment
    );
    let line = format!(
        "The hold {} put on release {} for {} ({}) ended {}. It can be approved again from your link until {}.",
        hold.by,
        approval.number,
        approval.environment,
        hold.reason,
        hold.until.map(|u| human_time(u, zone)).unwrap_or_default(),
        human_time(approval.expires_at, zone)
    );
    plain(to, subject, line)
}

/// A short mail of one sentence, as text and HTML.
fn plain(to: &str, subject: String, line: String) -> Mail {
    let text = format!("{line}\n");
    let html = html! { p { (line) } }.into_string();
    Mail::new(to, subject, text, html)
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
        headers: Vec::new(),
    }
}

/// Tells the release manager that a deployment failed.
pub fn deployment_failed(release: &Release, environment: &str, to: &str, outcome: &str, reason: &str) -> Mail {
    deployment_failed_with_retry(release, environment, to, outcome, reason, None)
}

/// [`deployment_failed`], with a "Retry this release" link to the release page's "Deploy again"
/// form when the release may be deployed there again.
pub fn deployment_failed_with_retry(
    release: &Release,
    environment: &str,
    to: &str,
    outcome: &str,
    reason: &str,
    retry: Option<&str>,
) -> Mail {
    // Its page is where the retry form is: the retry link without its fragment.
    let page = retry.map(|link| link.split('#').next().unwrap_or(link));
    deployment_failed_at(release, environment, to, outcome, reason, retry, page)
}

/// [`deployment_failed_with_retry`] linking to the release's page (`page`), retry or not.
pub fn deployment_failed_at(
    release: &Release,
    environment: &str,
    to: &str,
    outcome: &str,
    reason: &str,
    retry: Option<&str>,
    page: Option<&str>,
) -> Mail {
    let subject = format!("Release {} {outcome} in {environment}", release.number);
    let retry_words = format!(
        "Retry this release: give your address and a reason there; Baton mails an approver of {environment} a confirmation link, and nothing changes until it is confirmed."
    );
    let retry_text = retry
        .map(|link| format!("Retry this release: {link}\n({retry_words})\n\n"))
        .unwrap_or_default();
    let page_text = page.map(|p| format!("The release: {p}\n")).unwrap_or_default();
    let text = format!(
        "{subject}.\n\nWhat happened: {reason}\n\n{retry_text}{page_text}Release {} ({}).\n",
        release.id, release.content_hash
    );
    let html = html! {
        p { strong { (subject) } "." }
        p { "What happened: " (reason) }
        @if let Some(link) = retry {
            p { a href=(link) { "Retry this release" } }
            p { small { (retry_words) } }
        }
        @if let Some(p) = page { p { a href=(p) { "Release " (release.number) " on the status page" } } }
        p { small { "Release " (release.id) " (" (release.content_hash) ")." } }
    }
    .into_string();
    Mail::new(to, subject, text, html)
}

#[cfg(test)]
mod tests;
