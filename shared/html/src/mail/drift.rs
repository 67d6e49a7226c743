//! The mail that tells an environment's release manager it was changed outside Baton.

use baton_domain::drift::DriftRecord;
use baton_domain::ports::Mail;
use chrono_tz::Tz;
use maud::html;

use crate::human_time;

/// The mail to `to` about `record`, a difference first noticed now; `status_url` is the
/// status page.
pub fn drift_noticed(record: &DriftRecord, to: &str, status_url: &str, zone: Tz) -> Mail {
    let env = &record.environment;
    let since = human_time(record.since, zone);
    let subject = format!("{env} changed outside Baton: {}", record.words);
    let next = format!(
        "The next release's sign-off for {env} lists it: deploying there puts back what Baton deploys. \
         If the change should stay, put it in the release (manifest or site) before then."
    );
    let text = format!(
        "{}\n\nNoticed {since}, comparing what runs in {env} with what Baton deployed there (release {}).\n\n{next}\n\nStatus: {status_url}\n",
        record.words, record.release_id
    );
    let html = html! {
        p { strong { (record.words) } }
        p { "Noticed " (since) ", comparing what runs in " strong { (env) } " with what Baton deployed there (release " (record.release_id) ")." }
        p { (next) }
        p { a href=(status_url) { "Status" } }
    }
    .into_string();
    Mail::new(to, subject, text, html)
}
