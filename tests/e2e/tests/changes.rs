//! What an approver reads is what changes in that environment: the notes of every package
//! between what is live there and what the release brings, not only those since the previous
//! release.

use anyhow::{Context, Result};
use baton_e2e::{Harness, sample_manifest};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_carries_the_notes_of_every_package_since_what_is_live() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    h.approve_from_mail(1, "PROD", "looks good").await?;
    h.wait_for_status(1, "released", LONG).await?;

    // Two state versions land before anyone approves again: release 2 (1.1.0) is superseded
    // by release 3 (1.2.0) and never reaches an environment.
    h.upload(
        "packages/state/1.1.0/manifest.yaml",
        sample_manifest("1.5.0"),
        &[("notes", "New admissions form"), ("commit", "c110")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, LONG).await?;
    h.upload(
        "packages/state/1.2.0/manifest.yaml",
        sample_manifest("1.4.2")
            .into_iter()
            .chain(b"# ward list fix\n".iter().copied())
            .collect(),
        &[("notes", "Fix the ward list"), ("commit", "c120")],
    )
    .await?;
    let three = baton_local::demo::wait_for_release(&h.stack, 3, LONG).await?;
    let own: Vec<String> = three.notes.iter().filter_map(|n| n.metadata.notes.clone()).collect();
    assert_eq!(
        own,
        ["Fix the ward list"],
        "the release's own notes are since release 2"
    );

    h.approve_from_mail(3, "TEST", "looks good").await?;
    let prod = h.wait_for_mails("Approve release 3 for PROD?", 2).await?;
    let text = &prod[0].text;
    let first = text.find("New admissions form").context(text.clone())?;
    let second = text.find("Fix the ward list").context(text.clone())?;
    assert!(first < second, "oldest first: {text}");
    assert!(text.contains("state: 1.0.0 -> 1.2.0"), "{text}");
    let page = h.open(&prod[0].links[0]).await?;
    assert!(page.body.contains("New admissions form"), "{}", page.body);
    assert!(
        page.body.contains("What changed since what is live in PROD"),
        "{}",
        page.body
    );

    let detail = h.get_json("/api/releases/rel-3").await?;
    let prod_notes = detail["environment_notes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["environment"] == "PROD")
        .context(detail.to_string())?;
    let versions: Vec<&str> = prod_notes["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["version"].as_str())
        .collect();
    assert_eq!(versions, ["1.1.0", "1.2.0"], "{prod_notes}");
    let page = h.get("/releases/rel-3").await?;
    assert!(page.body.contains("What it changes in PROD"), "{}", page.body);
    // The feed's entry for release 3 tells the same, per environment.
    let feed = h.get("/feed.xml").await?.body;
    let entry = feed
        .split("<entry>")
        .find(|e| e.contains("/releases/rel-3"))
        .context(feed.clone())?;
    assert!(entry.contains("Since what was live in PROD:"), "{entry}");
    assert!(entry.contains("state 1.1.0: New admissions form"), "{entry}");
    Ok(())
}
