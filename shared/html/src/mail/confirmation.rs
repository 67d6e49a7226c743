//! The confirmation of a redeploy: the approval mail of a request that is a redeploy, sent to
//! the one approver who asked for it.

use baton_domain::approval::Approval;
use baton_domain::ports::Mail;
use baton_domain::redeploy::{Redeploy, action_words};
use chrono_tz::Tz;
use maud::html;

use crate::approval::changes;
use crate::human_time;

/// The subject of a redeploy's confirmation: `Confirm: Roll PROD back to release 5?`.
fn subject(approval: &Approval, redeploy: &Redeploy) -> String {
    format!("Confirm: {}?", words(approval, redeploy))
}

/// What the redeploy does, in words (`Roll PROD back to release 5`).
fn words(approval: &Approval, redeploy: &Redeploy) -> String {
    action_words(approval.number, &approval.environment, redeploy.replacing)
}

/// The words with a lowercase first letter, to follow "asked Baton to".
fn lowercase_first(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The confirmation mail for `approver` with their personal `link`; its expiry in `zone`. The
/// link is the mail's first link: what the requester wrote (the reason) comes after it.
pub(super) fn mail(approval: &Approval, redeploy: &Redeploy, approver: &str, link: &str, zone: Tz) -> Mail {
    let expires = human_time(approval.expires_at, zone);
    let env = &approval.environment;
    let asked = format!(
        "{} asked Baton to {}.",
        redeploy.requested_by,
        lowercase_first(&words(approval, redeploy))
    );
    let mut text = format!(
        "{asked}\n\nNothing changes in {env} until you confirm through your link:\n{link}\n\nReason: {}\n\nWhat changes in {env}:\n",
        redeploy.reason
    );
    text.push_str(&super::changes_text(approval));
    text.push_str(&format!(
        "\nOpening the link decides nothing; you confirm or cancel on the page.\nThis link is yours alone ({approver}) and expires {expires}.\n"
    ));
    let html = html! {
        p { (asked) }
        p { "Nothing changes in " strong { (env) } " until you confirm through your link: " a href=(link) { "Review and confirm" } }
        p { "Reason: " (redeploy.reason) }
        h3 { "What changes in " (env) }
        (changes(approval))
        h3 { "What deploying changes in " (env) }
        (crate::approval::plan(approval))
        p { small { "Opening the link decides nothing; you confirm or cancel on the page. This link is yours alone (" (approver) ") and expires " (expires) "." } }
    }
    .into_string();
    Mail::new(approver, subject(approval, redeploy), text, html)
}
