//! One mail per burst: the settle window (`release.settle_seconds`). CI pushes web and state
//! seconds apart; each push makes a release, but only the newest of the burst asks anyone.

use std::time::Duration;

use anyhow::Result;
use baton_e2e::{Harness, config_with, sample_manifest, sample_site};

const LONG: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_uploads_inside_the_settle_window_make_one_mail() -> Result<()> {
    let h = Harness::start_with(config_with(|c| c.replacen("settle_seconds: 0", "settle_seconds: 3", 1))).await?;
    // Release 1 (both components) settles, then asks TEST.
    h.release_samples("1.0.0", 1).await?;
    // Nobody is asked while the window lasts (3 s; the release was made just now).
    let early: Vec<String> = h.mails().into_iter().map(|m| m.subject).collect();
    assert!(early.is_empty(), "mailed inside the settle window: {early:?}");
    h.approval_links(1, "TEST").await?;

    // The burst: web, then state, seconds apart. Each makes a release.
    h.upload(
        "packages/web/1.1.0/site.zip",
        sample_site("1.1.0"),
        &[("commit", "w110"), ("notes", "New admissions form")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, LONG).await?;
    // While it collects, the status page says so, until when.
    let status = h.get_json("/api/status").await?;
    let two = status["in_flight"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["number"] == 2).cloned())
        .unwrap_or_default();
    assert_eq!(two["waiting_on"]["kind"], "collecting", "{status:#}");
    assert!(two["waiting_on"]["until"].is_string(), "{two:#}");
    assert!(
        two["summary"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Collecting packages"),
        "{two:#}"
    );
    let page = h.get("/").await?;
    let until = two["waiting_on"]["until"].as_str().unwrap_or_default();
    let shown = until.get(11..19).unwrap_or("?"); // HH:MM:SS of the RFC 3339 time (UTC here)
    assert!(
        page.body.contains("Collecting packages until <time") && page.body.contains(&format!(">{shown}</time>")),
        "the overview says until when, to the second ({shown}): {}",
        page.body
    );
    h.upload(
        "packages/state/1.1.0/manifest.yaml",
        sample_manifest("1.5.0"),
        &[("commit", "s110"), ("notes", "Admissions API 1.5.0")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 3, LONG).await?;

    // Release 2 ends superseded without asking anyone; release 3 asks, once.
    h.wait_for_status(2, "superseded", LONG).await?;
    let links = h.approval_links(3, "TEST").await?;
    assert_eq!(links.len(), 1);
    let about_two: Vec<String> = h
        .mails()
        .into_iter()
        .map(|m| m.subject)
        .filter(|s| s.contains("release 2"))
        .collect();
    assert!(about_two.is_empty(), "release 2 mailed nobody: {about_two:?}");
    let about_three = h
        .mails()
        .into_iter()
        .filter(|m| m.subject.contains("Approve release 3 for TEST?"))
        .count();
    assert_eq!(about_three, 1, "one approval mail for the burst");
    let events = h.events(2).await?;
    assert!(
        !events.iter().any(|e| e.kind == "approval-requested"),
        "release 2 asked nobody: {events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == "superseded" && e.detail.contains("rel-3")),
        "release 2's timeline names the release that replaced it: {events:#?}"
    );
    Ok(())
}
