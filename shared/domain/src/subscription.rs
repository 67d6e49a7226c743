//! Subscriptions, no account needed (DESIGN §3.7): anyone may ask to be mailed when releases go
//! live, or to get the weekly digest. Double opt-in: a subscription starts `Pending` and counts
//! only once confirmed through a mailed link; every notification carries a one-click
//! unsubscribe link (RFC 8058).
//!
//! Links carry 256-bit tokens of which only the SHA-256 is kept, exactly as approval links
//! ([`crate::approval::token_hash`]). A subscription's id is derived from its address and
//! scope, so subscribing twice names the same record: the store's conditional write makes a
//! re-subscription idempotent without anyone learning whether the address was subscribed.

pub mod digest;
mod notice;

use std::collections::BTreeMap;

pub use notice::{NoticeMark, digest_key, is_notice_key, live_in, live_topics, notice_key};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::approval::{constant_time_eq, token_hash};
use crate::config::{BatonConfig, is_component_name, looks_like_email};
use crate::release::ReleaseId;

/// How long a confirmation link lasts.
pub const CONFIRM_TTL: Duration = Duration::hours(24);
/// How long a notice marker (and an ended subscription) is kept before the table's TTL removes
/// it: long past any redelivery of the event it guards, and as long as the unsubscribe link of
/// the mail it marks keeps working.
pub const KEEP_MARKERS: Duration = Duration::days(400);
/// Longest address accepted (RFC 5321's path limit).
pub const MAX_ADDRESS_LEN: usize = 254;
/// Length of a subscription id: 32 hex digits.
pub const ID_LEN: usize = 32;
/// The route the forms post to; the links live under it.
pub const PATH: &str = "/subscriptions";
/// The body a mail client posts for a one-click unsubscribe (RFC 8058 §3.1).
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";

/// What a subscriber wants to hear about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Scope {
    /// Every release going live in an environment.
    Environment {
        /// The environment, e.g. `PROD`.
        environment: String,
    },
    /// One release going live in an environment.
    Release {
        /// The release.
        release: ReleaseId,
        /// The environment.
        environment: String,
    },
    /// Every release that changes a component, going live anywhere.
    Component {
        /// The component, e.g. `web`.
        component: String,
    },
    /// The weekly digest.
    Digest,
}

impl Scope {
    /// The key subscribers of this scope are listed under: one Query per topic finds them all.
    pub fn topic(&self) -> String {
        match self {
            Scope::Environment { environment } => format!("ENV#{environment}"),
            Scope::Release { release, environment } => format!("RELEASE#{release}#{environment}"),
            Scope::Component { component } => format!("COMPONENT#{component}"),
            Scope::Digest => "DIGEST".to_string(),
        }
    }

    /// In words, completing "You will be mailed about ...".
    pub fn describe(&self) -> String {
        match self {
            Scope::Environment { environment } => format!("every release going live in {environment}"),
            Scope::Release { release, environment } => {
                format!("release {} going live in {environment}", release.number_text())
            }
            Scope::Component { component } => format!("every release that changes {component}, wherever it goes live"),
            Scope::Digest => "the weekly digest: what went live where, and what waits on whom".to_string(),
        }
    }

    /// The scope a form asks for (`scope` = environment | release | component | digest, with
    /// `environment`, `release` and `component` as each needs), checked against the
    /// configuration. Whether the release exists is for the caller to check: it needs a read.
    pub fn from_form(form: &BTreeMap<String, String>, config: &BatonConfig) -> Result<Scope, String> {
        let field = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or_default();
        let environment = || {
            let name = field("environment");
            match config.environment(name) {
                Some(env) => Ok(env.name.clone()),
                None if name.is_empty() => Err(format!(
                    "Choose an environment ({}).",
                    config.environment_names().join(", ")
                )),
                None => Err(format!(
                    "There is no environment '{}'; choose one of {}.",
                    shorten(name),
                    config.environment_names().join(", ")
                )),
            }
        };
        match field("scope") {
            "environment" | "" => Ok(Scope::Environment {
                environment: environment()?,
            }),
            "release" => {
                let text = field("release");
                let release = parse_release(text)
                    .ok_or_else(|| format!("'{}' is not a release; releases look like rel-12.", shorten(text)))?;
                Ok(Scope::Release {
                    release,
                    environment: environment()?,
                })
            }
            "component" => {
                let name = field("component");
                if !is_component_name(name) || config.component(name).is_none() {
                    let known: Vec<&str> = config.components.iter().map(|c| c.name.as_str()).collect();
                    return Err(format!(
                        "There is no component '{}'; choose one of {}.",
                        shorten(name),
                        known.join(", ")
                    ));
                }
                Ok(Scope::Component {
                    component: name.to_string(),
                })
            }
            "digest" => Ok(Scope::Digest),
            other => Err(format!(
                "'{}' is not something to subscribe to; choose environment, release, component or digest.",
                shorten(other)
            )),
        }
    }
}

/// `rel-12` (or `12`) as a release id: canonical digits only.
fn parse_release(text: &str) -> Option<ReleaseId> {
    let digits = text.strip_prefix("rel-").unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.len() <= 12
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit());
    canonical
        .then(|| digits.parse::<u64>().ok())
        .flatten()
        .map(ReleaseId::from_number)
}

/// At most 40 characters of what someone typed, for an error message.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// An address as stored and compared: trimmed, lower case, checked.
pub fn normalise_address(text: &str) -> Result<String, String> {
    let address = text.trim().to_lowercase();
    let forbidden = |c: char| c.is_control() || "<>,;:\"()[]\\".contains(c);
    if address.is_empty() {
        return Err("Give your email address: the confirmation link is mailed to it.".into());
    }
    if address.len() > MAX_ADDRESS_LEN || !looks_like_email(&address) || address.contains(forbidden) {
        return Err(format!(
            "'{}' is not an email address; give one such as name@example.com.",
            shorten(text.trim())
        ));
    }
    Ok(address)
}

/// The id of `address`'s subscription to `scope` (32 hex digits): the same for the same
/// address and scope, so subscribing again finds the same record.
pub fn subscription_id(address: &str, scope: &Scope) -> String {
    let mut id = crate::sha256_hex(format!("{address}\n{}", scope.topic()).as_bytes());
    id.truncate(ID_LEN);
    id
}

/// Whether `text` has the form of a subscription id, checked before any lookup.
pub fn is_subscription_id(text: &str) -> bool {
    text.len() == ID_LEN && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionState {
    /// Asked for; the confirmation link has not been used.
    Pending,
    /// Confirmed: mails go out.
    Confirmed,
    /// Ended by its unsubscribe link; kept a while so the link keeps answering.
    Unsubscribed,
}

/// One address's subscription to one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// [`subscription_id`] of address and scope.
    pub id: String,
    /// The address, normalised.
    pub address: String,
    /// What it is about.
    pub scope: Scope,
    /// Where it stands.
    pub state: SubscriptionState,
    /// When it was (last) asked for.
    pub created_at: DateTime<Utc>,
    /// SHA-256 of the confirmation link's token.
    pub confirm_hash: String,
    /// SHA-256 of the unsubscribe link's token.
    pub unsubscribe_hash: String,
    /// The confirmation link lapses then.
    pub confirm_expires_at: DateTime<Utc>,
    /// When it was confirmed.
    #[serde(default)]
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// Why a subscription link cannot be used, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionLinkProblem {
    /// No such subscription, or the wrong token: the two look the same (403).
    Forbidden,
    /// The confirmation link lapsed (410).
    Expired,
    /// The subscription was ended; confirming it again needs a new one (410).
    Unsubscribed,
}

impl SubscriptionLinkProblem {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            SubscriptionLinkProblem::Forbidden => 403,
            SubscriptionLinkProblem::Expired | SubscriptionLinkProblem::Unsubscribed => 410,
        }
    }

    /// What the page says, and what to do.
    pub fn message(&self) -> &'static str {
        match self {
            SubscriptionLinkProblem::Forbidden => {
                "This link is not valid. Use the link in the most recent mail Baton sent you; nothing was changed."
            }
            SubscriptionLinkProblem::Expired => {
                "This confirmation link has lapsed (links last 24 hours). Subscribe again from the status page; nothing was changed."
            }
            SubscriptionLinkProblem::Unsubscribed => {
                "This subscription was ended. Subscribe again from the status page if you want these mails."
            }
        }
    }
}

impl Subscription {
    /// A new pending subscription of `address` to `scope`, its link tokens' hashes given.
    pub fn pending(
        address: &str,
        scope: Scope,
        now: DateTime<Utc>,
        confirm_token: &str,
        unsubscribe_token: &str,
    ) -> Subscription {
        Subscription {
            id: subscription_id(address, &scope),
            address: address.to_string(),
            scope,
            state: SubscriptionState::Pending,
            created_at: now,
            confirm_hash: token_hash(confirm_token),
            unsubscribe_hash: token_hash(unsubscribe_token),
            confirm_expires_at: now + CONFIRM_TTL,
            confirmed_at: None,
        }
    }

    /// Whether a confirmation with `token` at `now` may go ahead: `Ok(true)` to confirm,
    /// `Ok(false)` if it is confirmed already (the same answer again, nothing to do).
    pub fn check_confirm(&self, token: &str, now: DateTime<Utc>) -> Result<bool, SubscriptionLinkProblem> {
        if !constant_time_eq(&self.confirm_hash, token_hash(token)) {
            return Err(SubscriptionLinkProblem::Forbidden);
        }
        match self.state {
            SubscriptionState::Confirmed => Ok(false),
            SubscriptionState::Unsubscribed => Err(SubscriptionLinkProblem::Unsubscribed),
            SubscriptionState::Pending if now > self.confirm_expires_at => Err(SubscriptionLinkProblem::Expired),
            SubscriptionState::Pending => Ok(true),
        }
    }

    /// Whether an unsubscribe with `token` may go ahead: `Ok(true)` to end it, `Ok(false)` if
    /// it has ended already.
    pub fn check_unsubscribe(&self, token: &str) -> Result<bool, SubscriptionLinkProblem> {
        if !constant_time_eq(&self.unsubscribe_hash, token_hash(token)) {
            return Err(SubscriptionLinkProblem::Forbidden);
        }
        Ok(self.state != SubscriptionState::Unsubscribed)
    }
}

/// `{public_url}/subscriptions/confirm?id=..&token=..`.
pub fn confirm_link(public_url: &str, id: &str, token: &str) -> String {
    format!(
        "{}{PATH}/confirm?id={id}&token={token}",
        public_url.trim_end_matches('/')
    )
}

/// `{public_url}/subscriptions/unsubscribe?id=..&token=..`: the subscription's own link (in the
/// confirmation mail), or, with `notice`, the link of one notification mail.
pub fn unsubscribe_link(public_url: &str, id: &str, notice: Option<&str>, token: &str) -> String {
    let notice = notice.map(|n| format!("&notice={n}")).unwrap_or_default();
    format!(
        "{}{PATH}/unsubscribe?id={id}{notice}&token={token}",
        public_url.trim_end_matches('/')
    )
}

/// The headers that let a mail client offer one-click unsubscribe (RFC 2369, RFC 8058).
pub fn unsubscribe_headers(link: &str) -> Vec<(String, String)> {
    vec![
        ("List-Unsubscribe".to_string(), format!("<{link}>")),
        ("List-Unsubscribe-Post".to_string(), ONE_CLICK_BODY.to_string()),
    ]
}

#[cfg(test)]
mod tests;
