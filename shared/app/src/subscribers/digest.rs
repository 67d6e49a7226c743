//! The weekly digest: a scheduled EventBridge rule invokes the status function with a
//! `Scheduled Event`; every confirmed digest subscriber gets one mail of what went live where in
//! the last seven days and what waits on whom. A schedule delivered twice in the same ISO week
//! mails nobody twice.

use baton_domain::ports::status::{OVERVIEW_RELEASES, StatusReads, StatusView};
use baton_domain::ports::{Mailer, SubscriptionStore};
use baton_domain::subscription::digest::Digest;
use baton_domain::subscription::{Scope, digest_key};
use baton_domain::{BatonConfig, BatonError};
use baton_html::mail::subscription as mails;
use chrono::{DateTime, Utc};

use super::{Recipient, tell_once};

/// Sends the weekly digest.
pub struct WeeklyDigest<S, M> {
    store: S,
    mailer: M,
}

impl<S, M> WeeklyDigest<S, M>
where
    S: SubscriptionStore + StatusReads,
    M: Mailer,
{
    /// The sender over these adapters.
    pub fn new(store: S, mailer: M) -> Self {
        WeeklyDigest { store, mailer }
    }

    /// The digest at `now`, from the overview (`view`) and the records of the most recent
    /// releases (a fixed number of reads, whatever the history).
    pub async fn digest(&self, view: &StatusView, now: DateTime<Utc>) -> Result<Digest, BatonError> {
        let page = self.store.releases(OVERVIEW_RELEASES, None).await?;
        let mut records = Vec::new();
        for release in &page.releases {
            if let Some(record) = self.store.release_record(&release.id).await? {
                records.push(record);
            }
        }
        Ok(Digest::build(view, &records, now))
    }

    /// Mails the digest to every confirmed digest subscriber not mailed this week; how many
    /// were mailed now. Fails (after trying everyone) if a mail could not be sent, so the
    /// schedule's retry tries those again.
    pub async fn send(&self, config: &BatonConfig, view: &StatusView, now: DateTime<Utc>) -> Result<usize, BatonError> {
        let digest = self.digest(view, now).await?;
        let notice = digest_key(now);
        let mut sent = 0;
        let mut failed = None;
        for subscription in self.store.subscribers(&Scope::Digest.topic()).await? {
            let result = tell_once(
                &self.store,
                &self.mailer,
                &config.mail.sender,
                &config.public_url,
                &notice,
                Recipient::Subscriber(&subscription),
                |to, unsubscribe| mails::digest(to, &digest, config.zone(), &config.public_url, unsubscribe),
            )
            .await;
            match result {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(subscription = %subscription.id, error = %e, "digest not sent");
                    failed.get_or_insert(e);
                }
            }
        }
        tracing::info!(sent, notice, "weekly digest done");
        failed.map_or(Ok(sent), Err)
    }
}
