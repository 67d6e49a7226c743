//! A quota on the mails anyone can make Baton send: sign-in links and subscription
//! confirmations. Both forms are open to the internet (a subscription needs no account), so
//! without a limit they would let anyone flood an inbox with Baton's mails, or spend the
//! sending reputation of the team's SES identity on addresses that never asked.
//!
//! Each address may be sent [`PER_ADDRESS`] such mails an hour, and the whole Baton
//! [`OVERALL`]. Past either, the form answers exactly as before (it must not tell whether a mail
//! went) and sends nothing; the log says why. Mails Baton sends on its own (approval requests,
//! "live" notices, the digest) are not counted: nobody outside can cause them.

use chrono::{DateTime, Duration, Utc};

/// Unsolicited mails one address may be sent in an hour.
pub const PER_ADDRESS: u32 = 5;
/// Unsolicited mails Baton may send in an hour, to every address together.
pub const OVERALL: u32 = 200;

/// One counter of a quota: what it counts, in which hour, up to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailQuota {
    /// What is counted: `address#<sha256 of the lower-cased address>` or `overall` (the
    /// address itself is never stored).
    pub counter: String,
    /// The hour counted, as hours since the Unix epoch.
    pub hour: i64,
    /// How many mails the hour allows.
    pub limit: u32,
    /// When the counter may be forgotten (epoch seconds): an hour after its hour ends.
    pub expires_at: i64,
}

impl MailQuota {
    /// The counters a mail to `address` at `now` must fit in: the address's, then the overall.
    pub fn for_mail_to(address: &str, now: DateTime<Utc>) -> [MailQuota; 2] {
        let hour = now.timestamp().div_euclid(3600);
        let expires_at = (hour + 1) * 3600 + Duration::hours(1).num_seconds();
        let address = address.trim().to_ascii_lowercase();
        [
            MailQuota {
                counter: format!("address#{}", crate::sha256_hex(address.as_bytes())),
                hour,
                limit: PER_ADDRESS,
                expires_at,
            },
            MailQuota {
                counter: "overall".to_string(),
                hour,
                limit: OVERALL,
                expires_at,
            },
        ]
    }
}

/// Counts a mail to `address` at `now` against every counter it must fit in: `None` if it may be
/// sent, otherwise the counter that is full (for the caller's log). When the address's counter
/// has room but the overall one is full, the address's count still went up: a refusal that costs
/// the address one of its mails this hour, never a mail too many.
pub async fn full_counter_for_mail_to(
    store: &(impl crate::ports::MailQuotaStore + ?Sized),
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<MailQuota>, crate::BatonError> {
    for quota in MailQuota::for_mail_to(address, now) {
        if !store.take_mail_quota(&quota).await? {
            return Ok(Some(quota));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn one_address_is_counted_alike_whatever_its_case_and_never_stored_in_the_clear() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 30, 10, 15, 0)
            .single()
            .unwrap_or_default();
        let [upper, _] = MailQuota::for_mail_to(" Ann@Example.org ", now);
        let [lower, overall] = MailQuota::for_mail_to("ann@example.org", now);
        assert_eq!(upper, lower);
        assert!(!upper.counter.contains("ann"), "{}", upper.counter);
        assert_eq!(upper.limit, PER_ADDRESS);
        assert_eq!(overall.counter, "overall");
        assert_eq!(overall.limit, OVERALL);
    }

    /// Counters in memory, as the port promises them.
    #[derive(Default)]
    struct Counters(std::sync::Mutex<std::collections::HashMap<(String, i64), u32>>);

    #[async_trait::async_trait]
    impl crate::ports::MailQuotaStore for Counters {
        async fn take_mail_quota(&self, quota: &MailQuota) -> Result<bool, crate::BatonError> {
            let mut counters = self.0.lock().map_err(|_| crate::BatonError::internal("poisoned"))?;
            let sent = counters.entry((quota.counter.clone(), quota.hour)).or_default();
            Ok(if *sent < quota.limit {
                *sent += 1;
                true
            } else {
                false
            })
        }
    }

    #[tokio::test]
    async fn an_address_gets_its_hourly_mails_then_none_while_others_still_get_theirs() -> Result<(), crate::BatonError>
    {
        let store = Counters::default();
        let now = Utc
            .with_ymd_and_hms(2026, 11, 30, 10, 15, 0)
            .single()
            .unwrap_or_default();
        for _ in 0..PER_ADDRESS {
            assert_eq!(full_counter_for_mail_to(&store, "ann@example.org", now).await?, None);
        }
        let full = full_counter_for_mail_to(&store, "ANN@example.org", now).await?;
        assert!(full.is_some_and(|q| q.counter.starts_with("address#")));
        assert_eq!(full_counter_for_mail_to(&store, "bob@example.org", now).await?, None);
        let next_hour = now + Duration::hours(1);
        assert_eq!(
            full_counter_for_mail_to(&store, "ann@example.org", next_hour).await?,
            None
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_overall_limit_holds_across_addresses() -> Result<(), crate::BatonError> {
        let store = Counters::default();
        let now = Utc
            .with_ymd_and_hms(2026, 11, 30, 10, 15, 0)
            .single()
            .unwrap_or_default();
        for n in 0..OVERALL {
            let address = format!("someone{n}@example.org");
            assert_eq!(full_counter_for_mail_to(&store, &address, now).await?, None);
        }
        let full = full_counter_for_mail_to(&store, "one-more@example.org", now).await?;
        assert_eq!(full.map(|q| q.counter), Some("overall".to_string()));
        Ok(())
    }

    #[test]
    fn an_hour_is_one_window_and_its_counter_outlives_it_by_an_hour() {
        let at = |h, m, s| Utc.with_ymd_and_hms(2026, 11, 30, h, m, s).single().unwrap_or_default();
        let [start, _] = MailQuota::for_mail_to("a@b.org", at(10, 0, 0));
        let [end, _] = MailQuota::for_mail_to("a@b.org", at(10, 59, 59));
        let [next, _] = MailQuota::for_mail_to("a@b.org", at(11, 0, 0));
        assert_eq!(start.hour, end.hour);
        assert_eq!(next.hour, start.hour + 1);
        assert_eq!(start.expires_at, at(12, 0, 0).timestamp());
    }
}
