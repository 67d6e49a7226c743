//! Telling subscribers (DESIGN §3.7): "release N is live in PROD" on the timeline's `live`
//! events ([`live::LiveNotices`]), and the weekly digest ([`digest::WeeklyDigest`]).
//!
//! Every address is told about one event at most once, whatever the redeliveries: a
//! conditional notice mark (event × address) is written before the mail goes, and removed
//! again if the mail could not be sent, so the redelivery tries that address again.

pub mod digest;
pub mod live;

use baton_domain::BatonError;
use baton_domain::approval::token_hash;
use baton_domain::ports::{Mail, Mailer, SubscriptionStore};
use baton_domain::subscription::{NoticeMark, Subscription, unsubscribe_link};
use chrono::Utc;

use crate::links::new_token;

/// Who a notice goes to, and who needs an unsubscribe link.
pub(crate) enum Recipient<'a> {
    /// A confirmed subscriber: the mail carries its own one-click unsubscribe link.
    Subscriber(&'a Subscription),
    /// Someone told by configuration (an approver): no unsubscribe link.
    Configured(&'a str),
}

impl Recipient<'_> {
    fn address(&self) -> String {
        match self {
            Recipient::Subscriber(s) => s.address.clone(),
            Recipient::Configured(a) => a.trim().to_lowercase(),
        }
    }
}

/// Mails `to` about `notice` unless it was told already: `Ok(false)` then. `mail` makes the
/// mail from the unsubscribe link (empty for a configured recipient).
pub(crate) async fn tell_once<S, M>(
    store: &S,
    mailer: &M,
    sender: &str,
    public_url: &str,
    notice: &str,
    to: Recipient<'_>,
    mail: impl FnOnce(&str, &str) -> Mail,
) -> Result<bool, BatonError>
where
    S: SubscriptionStore,
    M: Mailer,
{
    let address = to.address();
    let (subscription, token) = match &to {
        Recipient::Subscriber(s) => (Some(s.id.clone()), Some(new_token()?)),
        Recipient::Configured(_) => (None, None),
    };
    let mark = NoticeMark {
        notice: notice.to_string(),
        address: address.clone(),
        subscription: subscription.clone(),
        unsubscribe_hash: token.as_deref().map(token_hash),
        at: Utc::now(),
    };
    if !store.claim_notice(&mark).await? {
        return Ok(false);
    }
    let link = match (&subscription, &token) {
        (Some(id), Some(token)) => unsubscribe_link(public_url, id, Some(notice), token),
        _ => String::new(),
    };
    if let Err(e) = mailer.send(sender, &mail(&address, &link)).await {
        // Unmarked, so the redelivery of the event tries this address again.
        if let Err(undo) = store.drop_notice(notice, &address).await {
            tracing::error!(notice, error = %undo, "notice mark of an unsent mail not removed; that address misses this notice");
        }
        return Err(e);
    }
    Ok(true)
}
