//! "Tell me when this is live": the subscription forms on the overview and a release's page,
//! and the pages behind the links Baton mails (confirm, unsubscribe).
//!
//! The forms are plain HTML POSTs (no script) and need no session. A forged POST from another
//! site can at most ask for a subscription of some address, which double opt-in makes harmless:
//! nothing is sent to that address but the confirmation request. The link pages show a button;
//! only its POST changes anything, since mail scanners open every link.

use baton_domain::ports::status::{Progress, ReleaseDetail, StatusView};
use maud::{Markup, html};

use crate::page;

// Options carry no `value`: an option's text is what it submits, and the page's other forms
// (deploy again) are told apart by their `value="<env>"` fields.

/// The overview's form: every release going live in an environment, every release changing a
/// component, or the weekly digest. Posts to `subscriptions` (the status page is at `/`).
pub fn overview_form(view: &StatusView) -> Markup {
    let mut components: Vec<&str> = view
        .recent_releases
        .iter()
        .flat_map(|r| r.versions.keys().map(String::as_str))
        .collect();
    components.sort_unstable();
    components.dedup();
    let environments: Vec<&str> = view.environments.iter().map(|e| e.name.as_str()).collect();
    html! {
        section aria-labelledby="subscribe" {
            h2 id="subscribe" { "Tell me when it is live" }
            form.card method="post" action="subscriptions" {
                label {
                    "Tell me when a release is live in "
                    select name="environment" {
                        @for (i, env) in environments.iter().enumerate() {
                            option selected[i + 1 == environments.len()] { (env) }
                        }
                    }
                }
                (email_field())
                p { button type="submit" name="scope" value="environment" { "Subscribe" } }
            }
            @if !components.is_empty() {
                form.card method="post" action="subscriptions" {
                    input type="hidden" name="scope" value="component";
                    label {
                        "Tell me whenever a release that changes "
                        select name="component" { @for c in &components { option { (c) } } }
                        " goes live anywhere"
                    }
                    (email_field())
                    p { button type="submit" { "Subscribe" } }
                }
            }
            form.card method="post" action="subscriptions" {
                input type="hidden" name="scope" value="digest";
                p { "A weekly digest: what went live where, and what waits on whom." }
                (email_field())
                p { button type="submit" { "Get the weekly digest" } }
            }
            (fine_print())
        }
    }
}

/// A release's form: tell me when this release is live in an environment it has not reached
/// yet. Nothing when it is live everywhere. Posts to `../subscriptions` (the page is at
/// `/releases/{id}`).
pub fn release_form(detail: &ReleaseDetail) -> Markup {
    let s = &detail.summary;
    let waiting: Vec<&str> = detail
        .environments
        .iter()
        .filter(|p| !matches!(p.progress, Progress::Live | Progress::Superseded))
        .map(|p| p.environment.as_str())
        .collect();
    html! {
        @if !waiting.is_empty() {
            section aria-labelledby="subscribe" {
                h2 id="subscribe" { "Tell me when it is live" }
                form.card method="post" action="../subscriptions" {
                    input type="hidden" name="scope" value="release";
                    input type="hidden" name="release" value=(s.id);
                    label {
                        "Tell me when release " (s.number) " is live in "
                        select name="environment" {
                            @for (i, env) in waiting.iter().enumerate() {
                                option selected[i + 1 == waiting.len()] { (env) }
                            }
                        }
                    }
                    (email_field())
                    p { button type="submit" { "Subscribe" } }
                }
                (fine_print())
            }
        }
    }
}

fn email_field() -> Markup {
    html! {
        label {
            "Your email address "
            input type="email" name="email" required maxlength="254" autocomplete="email";
        }
    }
}

fn fine_print() -> Markup {
    html! {
        p.muted.small {
            "No account needed. Baton mails you a link to confirm; nothing is sent until you do. "
            "Every mail has a link to stop them."
        }
    }
}

/// The answer to every subscription request, whatever the address: it says nothing about
/// whether the address was subscribed already.
pub fn check_mail_page(what: &str) -> String {
    page(
        "Check your mail",
        html! {
            div.banner.info {
                h1 { "Check your mail" }
                p { "If that address can receive mail, a confirmation link for " (what) " is on its way. Nothing is sent until you confirm; the link lasts 24 hours." }
            }
        },
    )
}

/// The confirmation link's page: a button, since only a POST confirms. The form posts `id` and
/// `token` back to the same path.
pub fn confirm_page(id: &str, token: &str, address: &str, what: &str) -> String {
    link_form(
        "Confirm your subscription",
        &format!("Mail {address} about {what}?"),
        "confirm",
        id,
        token,
        "Yes, mail me",
    )
}

/// The unsubscribe link's page: a button, since only a POST unsubscribes.
pub fn unsubscribe_page(id: &str, token: &str, address: &str, what: &str) -> String {
    link_form(
        "Unsubscribe",
        &format!("Stop mailing {address} about {what}?"),
        "unsubscribe",
        id,
        token,
        "Unsubscribe",
    )
}

fn link_form(title: &str, question: &str, action: &str, id: &str, token: &str, button: &str) -> String {
    page(
        title,
        html! {
            div.banner.info {
                h1 { (title) }
                form method="post" action=(action) {
                    p { (question) }
                    input type="hidden" name="id" value=(id);
                    input type="hidden" name="token" value=(token);
                    p { button type="submit" { (button) } }
                }
            }
        },
    )
}

/// A short page saying what happened (confirmed, unsubscribed, or a link problem).
pub fn done_page(title: &str, text: &str, good: bool) -> String {
    page(
        title,
        html! { div.banner.(if good { "ok" } else { "bad" }) { h1 { (title) } p { (text) } } },
    )
}
