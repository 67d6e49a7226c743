//! The release page's "Deploy again" section: for each environment the release was deployed
//! to, a form asking Baton to deploy it there again (a rollback when a newer release is live).
//! The form only asks: Baton mails the requester a confirmation link if they are an approver of
//! the environment, and nothing changes until they confirm (DESIGN §3.6).

use baton_domain::ReleaseId;
use baton_domain::redeploy::{MAX_REASON_CHARS, action_words};
use maud::{Markup, html};

/// What the release page offers to deploy again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployAgain {
    /// Base URL of Baton's HTTP API (`public_url`): the forms post to `{public_url}/redeploys`.
    pub public_url: String,
    /// In lifecycle order, each environment where the release may be deployed again
    /// (`baton_domain::redeploy::eligible`); none hides the section.
    pub targets: Vec<RedeployTarget>,
}

/// One environment the release may be deployed to again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeployTarget {
    /// The environment.
    pub environment: String,
    /// The number of the release live there now, if any: it makes the button say "Roll back",
    /// "again" or "Retry".
    pub live: Option<u64>,
}

/// The section, or nothing when no environment is offered.
pub(super) fn section(release: &ReleaseId, number: u64, again: &DeployAgain) -> Markup {
    let action = format!("{}/redeploys", again.public_url.trim_end_matches('/'));
    html! {
        @if !again.targets.is_empty() {
            section aria-labelledby="again" {
                h2 id="again" { "Deploy again" }
                @for t in &again.targets {
                    form.card method="post" action=(action) {
                        input type="hidden" name="release" value=(release);
                        input type="hidden" name="environment" value=(t.environment);
                        label {
                            "Your address (an approver of " (t.environment) ") "
                            input type="email" name="email" required autocomplete="email";
                        }
                        label {
                            "Reason "
                            input type="text" name="reason" required maxlength=(MAX_REASON_CHARS);
                        }
                        p { button type="submit" { (action_words(number, &t.environment, t.live)) } }
                        p.muted.small {
                            "Baton mails you a confirmation link if you are an approver of " (t.environment)
                            "; nothing changes until you confirm."
                        }
                    }
                }
            }
        }
    }
}
