//! Uploads racing through ingest (the runner polls the uploads queue with three pollers, as
//! Lambda does with several): no upload may fall between two releases. Ingest reads the heads
//! and the counter in one Query and raises a head inside the release's own transaction, which
//! checks every head it was planned from (issue 18); these races are what that check is for.

use std::collections::BTreeMap;

use anyhow::Result;
use baton_e2e::{Harness, number, sample_manifest, sample_site, snapshot, text};

/// Uploads web and state at `version` at the same moment.
async fn upload_both(h: &Harness, version: &str, patient: &str) -> Result<()> {
    let (web_key, state_key) = (
        format!("packages/web/{version}/site.zip"),
        format!("packages/state/{version}/manifest.yaml"),
    );
    let (web, state) = tokio::join!(
        h.upload(&web_key, sample_site(version), &[("notes", "race")]),
        h.upload(&state_key, sample_manifest(patient), &[("notes", "race")]),
    );
    web?;
    state
}

/// The versions (component → version) of the newest release.
async fn newest_release(h: &Harness) -> Result<BTreeMap<String, String>> {
    let releases = h.releases().await?;
    Ok(releases
        .last()
        .map(|r| snapshot(r).into_iter().map(|(c, (v, _))| (c, v)).collect())
        .unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_racing_from_an_empty_table_leave_no_package_behind() -> Result<()> {
    let h = Harness::start().await?;
    // The first packages of both components at once: each may find the other missing. One of
    // them must still make the first release, holding both.
    upload_both(&h, "1.0.0", "1.4.2").await?;
    h.drained().await?;
    let want = |v: &str| BTreeMap::from([("state".to_string(), v.to_string()), ("web".to_string(), v.to_string())]);
    assert_eq!(newest_release(&h).await?, want("1.0.0"), "the first release holds both");

    // Then rounds of both at once, each a new version: the last release holds the newest of each.
    for (round, patient) in [(1, "1.4.3"), (2, "1.4.4"), (3, "1.4.5")] {
        upload_both(&h, &format!("1.0.{round}"), patient).await?;
    }
    h.drained().await?;
    assert_eq!(
        newest_release(&h).await?,
        want("1.0.3"),
        "the newest release holds the newest of each"
    );

    // Every package is in a release, or says which release went past it: none is left waiting.
    let releases = h.releases().await?;
    let numbers: Vec<u64> = releases.iter().map(|r| number(r, "number")).collect();
    assert_eq!(
        numbers,
        (1..=numbers.len() as u64).collect::<Vec<_>>(),
        "numbered without gaps"
    );
    for package in h.packages().await? {
        let released = !text(&package, "release_id").is_empty();
        let outcome = format!("{:?}", package.get("outcome"));
        assert!(
            released || outcome.contains("superseded"),
            "{} {} is in no release and not superseded: {outcome}",
            text(&package, "component"),
            text(&package, "version")
        );
    }
    assert_eq!(h.dead_letters().await?, 0);
    Ok(())
}
