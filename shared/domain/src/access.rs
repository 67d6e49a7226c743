//! Who may read the status pages and API, and how they prove it (DESIGN §3.7).
//!
//! `access.viewers` in `baton.yaml` is `public` (anyone reads; addresses, build URLs, object
//! keys and preview URLs are hidden: see [`public`]) or a list of addresses and `@domains`
//! (only those, signed in, read anything). A viewer signs in with an emailed link ([`tokens`]),
//! keeps a signed session cookie ([`session`]), and may mint bearer tokens for scripts.
//! Approval and confirmation links never need any of this: their own tokens are the proof.

pub mod public;
pub mod session;
pub mod tokens;

use serde::{Deserialize, Serialize};

use crate::config::{BatonConfig, looks_like_email};

/// Where the session signing key lives in Secrets Manager unless `access.session_secret` says
/// otherwise; the template creates it with a random value.
pub const DEFAULT_SESSION_SECRET: &str = "baton/session-key";

/// The `access` section of `baton.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Who may read: `public`, or addresses and `@domains`.
    #[serde(default)]
    pub viewers: Viewers,
    /// The Secrets Manager name of the key sessions are signed with. Rotating its value signs
    /// everyone out.
    #[serde(default = "default_session_secret")]
    pub session_secret: String,
    /// How approvers appear to the public, by address: "the release manager", "CAB".
    /// An approver not named here appears as "an approver".
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub roles: std::collections::BTreeMap<String, String>,
}

fn default_session_secret() -> String {
    DEFAULT_SESSION_SECRET.to_string()
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            viewers: Viewers::Public,
            session_secret: default_session_secret(),
            roles: Default::default(),
        }
    }
}

/// Who may read the status pages and API.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Viewers {
    /// Anyone, with people's addresses and internal links hidden. The default, so a
    /// configuration written before sign-in existed keeps a readable page that leaks nothing.
    #[default]
    Public,
    /// Only these addresses and `@domains` (and the approvers), signed in.
    Listed(Vec<String>),
}

impl Serialize for Viewers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Viewers::Public => s.serialize_str("public"),
            Viewers::Listed(list) => list.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Viewers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Word(String),
            List(Vec<String>),
        }
        match Written::deserialize(d)? {
            Written::Word(word) if word == "public" => Ok(Viewers::Public),
            Written::Word(other) => Err(serde::de::Error::custom(format!(
                "'{other}' is neither `public` nor a list of addresses and @domains"
            ))),
            Written::List(list) => Ok(Viewers::Listed(list)),
        }
    }
}

impl AccessConfig {
    /// Problems with this section, as (field under `access`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if let Viewers::Listed(list) = &self.viewers {
            if list.is_empty() {
                problems.push((
                    "viewers".into(),
                    "lists nobody: write `public`, or at least one address or @domain".into(),
                ));
            }
            for (i, entry) in list.iter().enumerate() {
                let entry = entry.trim();
                let ok = match entry.strip_prefix('@') {
                    Some(domain) => looks_like_email(&format!("x@{domain}")),
                    None => looks_like_email(entry),
                };
                if !ok {
                    problems.push((
                        format!("viewers[{i}]"),
                        "must be an address (ann@example.org) or a domain written @example.org".into(),
                    ));
                }
            }
        }
        for (who, role) in &self.roles {
            if !looks_like_email(who.trim()) {
                problems.push((format!("roles.{who}"), "must be keyed by an approver's address".into()));
            }
            if role.trim().is_empty() || role.chars().count() > 40 || role.contains('@') {
                problems.push((
                    format!("roles.{who}"),
                    "must be a role of at most 40 characters, without an address, like \"the release manager\"".into(),
                ));
            }
        }
        if self.session_secret.trim().is_empty() || self.session_secret.len() > 512 {
            problems.push((
                "session_secret".into(),
                "must name a Secrets Manager secret, like baton/session-key".into(),
            ));
        }
        problems
    }

    /// Whether the pages are public.
    pub fn is_public(&self) -> bool {
        self.viewers == Viewers::Public
    }
}

/// An address as Baton compares it: trimmed, lower case.
pub fn normalise_address(address: &str) -> String {
    address.trim().to_ascii_lowercase()
}

/// Whether `address` is listed in `viewers`, by itself or by its `@domain`.
fn listed(list: &[String], address: &str) -> bool {
    let address = normalise_address(address);
    let Some((_, domain)) = address.rsplit_once('@') else {
        return false;
    };
    list.iter()
        .map(|e| normalise_address(e))
        .any(|entry| match entry.strip_prefix('@') {
            Some(d) => d == domain,
            None => entry == address,
        })
}

/// Whether `address` may sign in (and so see names and links): a listed viewer, or an approver
/// of any environment. In public mode only approvers sign in: the page is already open to
/// everyone, and a sign-in lets the people who act see who they act with.
pub fn may_sign_in(config: &BatonConfig, address: &str) -> bool {
    if !looks_like_email(address.trim()) {
        return false;
    }
    let approver = config.environments.iter().any(|e| e.approver(address).is_some());
    approver
        || match &config.access.viewers {
            Viewers::Public => false,
            Viewers::Listed(list) => listed(list, address),
        }
}

/// What a request may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Anyone (public mode, not signed in): addresses and internal links hidden.
    Public,
    /// A signed-in viewer (by session or bearer token), who sees names and links.
    Viewer(String),
}

/// Why a request may not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It proved no one (no session, no token): the pages are for signed-in viewers.
    NotSignedIn,
    /// Its session or token is for someone no longer allowed (removed from the list).
    NoLongerAllowed,
}

/// Who a request reads as, from the viewer its session or token proved (if any), checked
/// against the configuration as it is now: a viewer removed from the list loses access at once,
/// whatever their cookie or token says.
pub fn audience(config: &BatonConfig, proven: Option<&str>) -> Result<Audience, Refusal> {
    match proven {
        Some(who) if may_sign_in(config, who) => Ok(Audience::Viewer(normalise_address(who))),
        Some(_) if config.access.is_public() => Ok(Audience::Public),
        Some(_) => Err(Refusal::NoLongerAllowed),
        None if config.access.is_public() => Ok(Audience::Public),
        None => Err(Refusal::NotSignedIn),
    }
}

#[cfg(test)]
mod tests;
