//! Hostile packages (issue 14, item 6): each uploaded beside a healthy site and manifest. The
//! hostile one is refused with its reason, the healthy pair makes release 1, which waits for
//! TEST's sign-off; nothing goes to the dead-letter queue.

use std::time::Duration;

use anyhow::{Result, ensure};
use baton_e2e::{Harness, sample_manifest, sample_site, text};

use super::Outcome;

#[path = "../common/hostile.rs"]
mod hostile;

use hostile::Hostile;

const LONG: Duration = Duration::from_secs(120);

/// Uploads the healthy pair and `bad` together, waits until release 1 awaits approval and the
/// hostile upload is refused, and checks the refusal's reason.
async fn beside_a_healthy_release(bad: Hostile) -> Result<Outcome> {
    let h = Harness::start().await?;
    h.upload(bad.key, bad.body, &[("commit", "bad0004")]).await?;
    h.upload(
        "packages/state/1.0.0/manifest.yaml",
        sample_manifest("1.4.2"),
        &[("commit", "good003")],
    )
    .await?;
    h.upload(
        "packages/web/1.0.0/site.zip",
        sample_site("1.0.0"),
        &[("commit", "good004")],
    )
    .await?;
    h.drained().await?;
    h.wait_for_status(1, "awaiting-approval", LONG).await?;
    let rejections = h.rejections().await?;
    ensure!(
        rejections.len() == 1,
        "one rejection, not {}: {rejections:?}",
        rejections.len()
    );
    ensure!(
        text(&rejections[0], "object_key") == bad.key,
        "the hostile upload is the one refused"
    );
    let recorded = format!("{:?}", rejections[0].get("rejection"));
    for phrase in bad.reason {
        ensure!(
            recorded.contains(phrase),
            "{}: expected '{phrase}' in {recorded}",
            bad.key
        );
    }
    ensure!(h.packages().await?.len() == 2, "the healthy pair is registered");
    Ok(Outcome {
        faults: 1,
        expected_releases: 1,
        harness: h,
    })
}

/// A site with a file that inflates about 1000:1 past the per-file limit.
pub async fn zip_bomb() -> Result<Outcome> {
    beside_a_healthy_release(hostile::zip_bomb()).await
}

/// A site holding a zip that inflates past the site's whole budget.
pub async fn nested_zip_bomb() -> Result<Outcome> {
    beside_a_healthy_release(hostile::nested_zip_bomb()).await
}

/// An end of central directory record declaring a million entries.
pub async fn million_entry_zip() -> Result<Outcome> {
    beside_a_healthy_release(hostile::million_entry_zip()).await
}

/// A "billion laughs" manifest.
pub async fn yaml_alias_bomb() -> Result<Outcome> {
    beside_a_healthy_release(hostile::yaml_alias_bomb()).await
}
