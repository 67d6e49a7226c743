//! Who hears about what, once: the topics a "live" event reaches, and the marks that keep an
//! address from being told about one event (or one week's digest) twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ID_LEN, Scope};
use crate::approval::{constant_time_eq, token_hash};
use crate::ports::ReleaseEvent;
use crate::release::Release;

/// The mark that one address was told about one event (or week's digest). It keeps the hash of
/// that mail's own unsubscribe token: only hashes are stored, so a notification cannot reuse
/// the token of the subscription's link; each mail gets its own, checked against its mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeMark {
    /// [`notice_key`] or [`digest_key`].
    pub notice: String,
    /// Who was told.
    pub address: String,
    /// The subscription the mail was sent for (none for an approver's mail).
    pub subscription: Option<String>,
    /// SHA-256 of the mail's unsubscribe token.
    pub unsubscribe_hash: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl NoticeMark {
    /// Whether `token` is the unsubscribe token of the mail this marks, for `subscription`.
    pub fn unsubscribes(&self, subscription: &str, token: &str) -> bool {
        let hash = self.unsubscribe_hash.as_deref().unwrap_or_default();
        self.subscription.as_deref() == Some(subscription)
            && !hash.is_empty()
            && constant_time_eq(hash, token_hash(token))
    }
}

/// Whether `text` has the form of a notice key, checked before any lookup.
pub fn is_notice_key(text: &str) -> bool {
    !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The topics whose subscribers hear that `release` went live in `environment`: the
/// environment, that release there, and each component the release changes (against the
/// release before it). One Query each, however many subscribers there are.
pub fn live_topics(release: &Release, environment: &str) -> Vec<String> {
    let mut topics = vec![
        Scope::Environment {
            environment: environment.to_string(),
        }
        .topic(),
        Scope::Release {
            release: release.id.clone(),
            environment: environment.to_string(),
        }
        .topic(),
    ];
    // The first release changes nothing "against" anything: it brings every component.
    let changed: Vec<&str> = if release.changes.is_empty() && release.previous.is_none() {
        release.snapshot.keys().map(String::as_str).collect()
    } else {
        release.changes.iter().map(|c| c.component.as_str()).collect()
    };
    for component in changed {
        topics.push(
            Scope::Component {
                component: component.to_string(),
            }
            .topic(),
        );
    }
    topics.dedup();
    topics
}

/// The environment a timeline event announces a release live in, if it does.
pub fn live_in(event: &ReleaseEvent) -> Option<&str> {
    (event.kind == "live").then_some(event.environment.as_deref()).flatten()
}

/// The key of the notices of one event: every address is told about it at most once, however
/// often the event is delivered. A release deployed again to the same environment is a new
/// event (a later `at`), told again.
pub fn notice_key(event: &ReleaseEvent) -> String {
    let text = format!(
        "{}\n{}\n{}\n{}",
        event.release_id,
        event.environment.as_deref().unwrap_or_default(),
        event.kind,
        event.at.to_rfc3339()
    );
    let mut key = crate::sha256_hex(text.as_bytes());
    key.truncate(ID_LEN);
    format!("live-{key}")
}

/// The key of the digest notices of the ISO week `now` falls in: a schedule delivered twice
/// mails nobody twice.
pub fn digest_key(now: DateTime<Utc>) -> String {
    use chrono::Datelike;
    let week = now.iso_week();
    format!("digest-{}-W{:02}", week.year(), week.week())
}
