//! Sign-in and account pages, the sign-in mail, and the bar a signed-in viewer sees.
//! Every form is a plain POST back to Baton (no script); forms of a signed-in page carry the
//! session's form guard.

use baton_domain::access::tokens::{ApiToken, MAX_TOKENS_PER_VIEWER, SIGN_IN_MINUTES};
use baton_domain::ports::Mail;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use crate::layout::page;
use crate::time::human_time;

fn frame(title: &str, body: Markup) -> String {
    page(
        title,
        html! {
            div.status {
                nav aria-label="Breadcrumb" { p.brand { a href="/" { "← Baton release status" } } }
                (body)
            }
        },
    )
}

fn sign_in_form(address: &str) -> Markup {
    html! {
        form method="post" action="/sign-in" {
            label { "Your work email address"
                input type="email" name="email" required autocomplete="email" value=(address);
            }
            button.approve type="submit" { "Email me a sign-in link" }
        }
    }
}

/// The sign-in page. `why` says why the reader is here (they asked for a page they may not
/// read without signing in), if they did.
pub fn sign_in_page(why: Option<&str>) -> String {
    frame(
        "Sign in",
        html! {
            h1 { "Sign in to Baton" }
            @if let Some(why) = why { div.banner { p { (why) } } }
            p { "Baton emails you a link that signs you in on this device for 7 days. "
                "It works once, for " (SIGN_IN_MINUTES) " minutes." }
            (sign_in_form(""))
        },
    )
}

/// The answer to every sign-in request, allowed or not: the same words, so the page tells no
/// one which addresses have access.
pub fn sign_in_sent_page(address: &str) -> String {
    frame(
        "Check your email",
        html! {
            h1 { "Check your email" }
            div.banner.ok { p { "If " strong { (address) } " may read Baton's status, a sign-in link is on its way. "
                "It works once, for " (SIGN_IN_MINUTES) " minutes." } }
            p.muted { "Nothing arrived? Check the address, your spam folder, or ask your release manager whether your address is on Baton's list." }
        },
    )
}

/// The page a sign-in link opens: a button, because a GET never signs anyone in (mail
/// scanners open every link).
pub fn sign_in_confirm_page(token: &str) -> String {
    frame(
        "Sign in",
        html! {
            h1 { "Sign in to Baton" }
            form method="post" action="/sign-in/confirm" {
                input type="hidden" name="token" value=(token);
                button.approve type="submit" { "Sign in on this device" }
            }
        },
    )
}

/// The sign-in mail.
pub fn sign_in_mail(to: &str, link: &str, zone: Tz, expires_at: DateTime<Utc>) -> Mail {
    let until = human_time(expires_at, zone);
    let subject = "Your Baton sign-in link".to_string();
    let text = format!(
        "Open this link to sign in to Baton's release status:\n\n{link}\n\nIt works once, until {until}. \
         If you did not ask for it, ignore this mail: nobody can use it without your mailbox.\n"
    );
    let html = html! {
        p { "Open this link to sign in to Baton's release status:" }
        p { a href=(link) { "Sign in to Baton" } }
        p { "It works once, until " (until) ". If you did not ask for it, ignore this mail: nobody can use it without your mailbox." }
    }
    .into_string();
    Mail::new(to, subject, text, html)
}

/// The account page: the viewer, their tokens, a form for a new one. `new_token` is a token
/// just made, shown this once.
pub fn account_page(viewer: &str, tokens: &[ApiToken], guard: &str, new_token: Option<&str>, zone: Tz) -> String {
    let live: Vec<&ApiToken> = tokens.iter().filter(|t| t.revoked_at.is_none()).collect();
    frame(
        "Your account",
        html! {
            h1 { "Your account" }
            p { "Signed in as " strong { (viewer) } "." }
            @if let Some(secret) = new_token {
                div.banner.ok {
                    p { strong { "Your new token. Copy it now: Baton keeps only its fingerprint and cannot show it again." } }
                    p { code { (secret) } }
                    p.small { "Send it as " code { "Authorization: Bearer <token>" } " to the JSON API, or set " code { "BATON_TOKEN" } " for " code { "baton" } "." }
                }
            }
            h2 { "API tokens" }
            @if live.is_empty() {
                p.muted { "You have no tokens." }
            } @else {
                div.scroll { table {
                    thead { tr { th { "Name" } th { "Made" } th { "Last used" } th { span.sr-only { "Revoke" } } } }
                    tbody { @for t in &live { tr {
                        td { (t.name) }
                        td.nowrap { (human_time(t.created_at, zone)) }
                        td.nowrap { @match t.last_used_at { Some(at) => (human_time(at, zone)), None => "never" } }
                        td { form method="post" action={ "/account/tokens/" (t.id) "/revoke" } {
                            input type="hidden" name="guard" value=(guard);
                            button.reject type="submit" { "Revoke" }
                        } }
                    } } }
                } }
            }
            @if live.len() < MAX_TOKENS_PER_VIEWER {
                form method="post" action="/account/tokens" {
                    input type="hidden" name="guard" value=(guard);
                    label { "Name of a new token" input type="text" name="name" required maxlength="60" placeholder="release dashboard"; }
                    button.approve type="submit" { "Make a token" }
                }
            } @else {
                p.muted { "You hold " (MAX_TOKENS_PER_VIEWER) " tokens, the most Baton keeps: revoke one to make another." }
            }
            h2 { "Sign out" }
            (sign_out_form(guard))
        },
    )
}

fn sign_out_form(guard: &str) -> Markup {
    html! {
        form method="post" action="/sign-out" {
            input type="hidden" name="guard" value=(guard);
            button type="submit" { "Sign out" }
        }
    }
}

/// `page` (a whole status page) with a bar naming the signed-in viewer, a link to their
/// account and a sign-out button, at the top of its `<main>`.
pub fn with_viewer_bar(page: &str, viewer: &str, guard: &str) -> String {
    let bar = html! {
        div.top.small {
            p.updated { "Signed in as " strong { (viewer) } " · " a href="/account" { "Account and tokens" } }
            (sign_out_form(guard))
        }
    }
    .into_string();
    page.replacen("<main>", &format!("<main>{bar}"), 1)
}

/// What someone not signed in sees instead of a page: nothing of Baton's state, a sign-in form.
pub fn sign_in_required_page() -> String {
    sign_in_page(Some(
        "This release status is for signed-in viewers. Sign in with your work email address.",
    ))
}
