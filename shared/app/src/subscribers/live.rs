//! "Release N is live in PROD": on a timeline event of kind `live`, every confirmed subscriber
//! whose scope matches (the environment, that release there, a component the release changes)
//! and every approver of the environment (the release manager) gets one mail.

use std::collections::HashSet;

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::ports::{ConfigSource, EventListener, Mailer, ReleaseEvent, ReleaseStore, SubscriptionStore};
use baton_domain::subscription::{live_in, live_topics, notice_key};
use baton_html::mail::subscription as mails;

use super::{Recipient, tell_once};

/// The listener that mails "live" notices.
pub struct LiveNotices<C, S, M> {
    config: C,
    store: S,
    mailer: M,
}

impl<C, S, M> LiveNotices<C, S, M>
where
    C: ConfigSource,
    S: SubscriptionStore + ReleaseStore,
    M: Mailer,
{
    /// The listener over these adapters.
    pub fn new(config: C, store: S, mailer: M) -> Self {
        LiveNotices { config, store, mailer }
    }
}

#[async_trait]
impl<C, S, M> EventListener for LiveNotices<C, S, M>
where
    C: ConfigSource,
    S: SubscriptionStore + ReleaseStore,
    M: Mailer,
{
    /// Tells everyone concerned that `event`'s release is live, if it is a `live` event;
    /// anything else is ignored. Idempotent: a redelivered event mails nobody twice. An
    /// address whose mail fails makes the whole call fail (after trying the others), so the
    /// event is delivered again and that address tried again.
    async fn on_event(&self, event: &ReleaseEvent) -> Result<(), BatonError> {
        let Some(environment) = live_in(event) else {
            return Ok(());
        };
        let config = self.config.config().await?;
        let Some(release) = self.store.release(&event.release_id).await? else {
            tracing::warn!(release = %event.release_id, "live event of a release Baton has no record of; nobody told");
            return Ok(());
        };
        let notice = notice_key(event);
        let page = format!("{}/releases/{}", config.public_url.trim_end_matches('/'), release.id);
        let sender = config.mail.sender.as_str();
        let mut told = HashSet::new();
        let mut failed = None;
        let note = |result: Result<bool, BatonError>, failed: &mut Option<BatonError>| {
            if let Err(e) = result {
                tracing::error!(release = %release.id, environment, error = %e, "live notice not sent");
                failed.get_or_insert(e);
            }
        };
        for topic in live_topics(&release, environment) {
            for subscription in self.store.subscribers(&topic).await? {
                // One mail per address, even when several of its subscriptions match.
                if !told.insert(subscription.address.clone()) {
                    continue;
                }
                let why = subscription.scope.describe();
                let result = tell_once(
                    &self.store,
                    &self.mailer,
                    sender,
                    &config.public_url,
                    &notice,
                    Recipient::Subscriber(&subscription),
                    |to, unsubscribe| mails::live_notice(to, release.number, environment, &page, &why, unsubscribe),
                )
                .await;
                note(result, &mut failed);
            }
        }
        let approvers = config
            .environment(environment)
            .map(|e| e.approvers.clone())
            .unwrap_or_default();
        for approver in &approvers {
            if !told.insert(approver.trim().to_lowercase()) {
                continue;
            }
            let result = tell_once(
                &self.store,
                &self.mailer,
                sender,
                &config.public_url,
                &notice,
                Recipient::Configured(approver),
                |to, _| mails::live_for_approver(to, release.number, environment, &page),
            )
            .await;
            note(result, &mut failed);
        }
        tracing::info!(release = %release.id, environment, addresses = told.len(), "live notices done");
        failed.map_or(Ok(()), Err)
    }
}
