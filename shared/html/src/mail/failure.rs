//! The question a failed deployment asks its approvers when the environment says
//! `on_failure: ask` (issue 15, item 2): retry, roll back, or leave it as it is.

use baton_domain::Release;
use baton_domain::approval::Approval;
use baton_domain::approval::guided_failure::FailureChoice;
use baton_domain::ports::Mail;
use chrono_tz::Tz;
use maud::html;

use crate::human_time;

/// One approver's three personal links to a failure question: each opens the question's page
/// (`/approvals/{id}?token=…`) with that choice marked; opening one decides nothing.
pub struct FailureLinks<'a> {
    /// The link that offers to retry.
    pub retry: &'a str,
    /// The link that offers to roll back.
    pub rollback: &'a str,
    /// The link that offers to leave it as it is (with a reason).
    pub leave: &'a str,
}

impl FailureLinks<'_> {
    /// The links with their choices, in the order the mail gives them.
    fn in_order(&self) -> [(FailureChoice, &str); 3] {
        [
            (FailureChoice::Retry, self.retry),
            (FailureChoice::Rollback, self.rollback),
            (FailureChoice::Leave, self.leave),
        ]
    }
}

/// What failed, in words: the question's reason, or a plain statement for a record without one.
pub(crate) fn failure_reason(approval: &Approval) -> &str {
    approval
        .failure
        .as_ref()
        .map(|f| f.reason.as_str())
        .unwrap_or("the deployment failed (no reason was recorded)")
}

/// The failure question for `to`, with their personal `links`; its expiry in `zone`.
///
/// The three links are the mail's first links, in the order retry, roll back, leave: what failed
/// (which may quote URLs of its own) comes after them, as in a redeploy's confirmation.
pub fn failure_question(approval: &Approval, release: &Release, to: &str, links: &FailureLinks<'_>, zone: Tz) -> Mail {
    let env = &approval.environment;
    let number = approval.number;
    let subject = format!("Release {number} failed in {env}: retry, roll back or leave it?");
    let expires = human_time(approval.expires_at, zone);
    let reason = failure_reason(approval);
    let kept =
        format!("{env} is kept as the failure left it, and no other release can deploy there until this is answered.");
    let lapse = format!("If nobody answers by {expires}, Baton rolls back.");
    let mut text = format!(
        "Release {number} failed in {env}.\n{kept}\n\nChoose what Baton does (opening a link decides nothing; you choose on the page):\n"
    );
    for (choice, link) in links.in_order() {
        text.push_str(&format!("{}: {link}\n", choice.words()));
    }
    text.push_str(&format!(
        "(Leaving it as it is needs a reason, given on the page.)\n\n{lapse}\n\nWhat failed: {reason}\n\nThese links are yours alone ({to}). Release {} ({}).\n",
        release.id, release.content_hash
    ));
    let html = html! {
        p { "Release " strong { (number) } " failed in " strong { (env) } "." }
        p { (kept) }
        p { "Choose what Baton does:" }
        ul {
            @for (choice, link) in links.in_order() {
                li { a href=(link) { (choice.words()) } }
            }
        }
        p { small { "Opening a link decides nothing; you choose on the page. Leaving it as it is needs a reason, given there." } }
        p { strong { (lapse) } }
        p { "What failed: " (reason) }
        p { small { "These links are yours alone (" (to) "). Release " (release.id) " (" (release.content_hash) ")." } }
    }
    .into_string();
    Mail::new(to, subject, text, html)
}
