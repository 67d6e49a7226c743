//! The pages of an approver's controls other than approve and reject: a hold put on or lifted,
//! and letting an approved release through a freeze.

use maud::html;

use baton_domain::approval::Approval;

use crate::{human_time, page};

/// The page of an approved release waiting on a freeze: deploy it now anyway, with a reason.
pub fn freeze_override_page(
    approval: &Approval,
    wait: &baton_domain::approval::freeze_override::FreezeWait,
    approver: &str,
    token: &str,
    zone: chrono_tz::Tz,
) -> String {
    let title = format!(
        "Deploy release {} to {} during the {} freeze?",
        approval.number, approval.environment, wait.reason
    );
    page(
        &title,
        html! {
            p.muted { "Baton release approval" }
            h1 { (title) }
            div.banner {
                "Release " (approval.number) " is approved for " (approval.environment) ", which is frozen (" (wait.reason) ") until "
                strong { (human_time(wait.until, zone)) } ". It deploys then unless an approver lets it through now. "
                "You are signed in by your personal link as " strong { (approver) } "."
            }
            form.card method="post" action={ "/approvals/" (approval.id) } {
                input type="hidden" name="token" value=(token);
                label for="reason" { "Why it cannot wait (kept on the release's timeline)" }
                textarea id="reason" name="reason" maxlength="500" required {}
                p { button.approve type="submit" name="decision" value="override" { "Deploy now, during the freeze" } }
            }
        },
    )
}

/// The page after letting a release through a freeze.
pub fn freeze_overridden_page(approval: &Approval, reason: &str) -> String {
    let title = format!("Release {} deploys to {} now", approval.number, approval.environment);
    page(
        &title,
        html! { div.banner { h1 { (title) } p { "You let it through the " (reason) " freeze; the release's timeline says so." } } },
    )
}

/// The page after putting a request on hold.
pub fn held_page(approval: &Approval, hold: &baton_domain::approval::hold::Hold, zone: chrono_tz::Tz) -> String {
    let title = format!("Release {} for {} is on hold", approval.number, approval.environment);
    let until = hold
        .until
        .map(|u| format!("until {}", human_time(u, zone)))
        .unwrap_or_else(|| "until someone lifts it".to_string());
    page(
        &title,
        html! { div.banner { h1 { (title) } p { "On hold " (until) ": " (hold.reason) ". The other approvers were told; any of you can lift it from your link. The request still lapses " (human_time(approval.expires_at, zone)) "." } } },
    )
}

/// The page after lifting a hold.
pub fn lifted_page(approval: &Approval) -> String {
    let title = format!(
        "Release {} for {} is no longer on hold",
        approval.number, approval.environment
    );
    page(
        &title,
        html! { div.banner { h1 { (title) } p { "The other approvers were told. Open your link again to approve or reject." } } },
    )
}
