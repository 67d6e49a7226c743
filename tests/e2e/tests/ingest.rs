//! Package ingest end to end: uploads through S3 as CI makes them, events through SQS, the
//! ingest handler in the runner, records in DynamoDB, executions in Step Functions.

use std::collections::BTreeSet;

use anyhow::Result;
use baton_e2e::{Harness, number, sample_manifest, sample_site, snapshot, text, zip_of};

#[path = "common/hostile.rs"]
mod hostile;

/// An S3 event for `key` in moto's shape, as a redelivery of the original would look.
fn s3_event(bucket: &str, key: &str, etag: &str) -> String {
    serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
        "eventTime": "2026-11-27T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "packages",
               "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key.replace('/', "%2F"), "size": 1, "eTag": etag}}
    }]})
    .to_string()
}

async fn first_release(h: &Harness) -> Result<()> {
    h.upload(
        "packages/state/1.0.0/manifest.yaml",
        sample_manifest("1.4.2"),
        &[
            ("commit", "3f2c1d9"),
            ("branch", "main"),
            ("notes", "Patient API 1.4.2"),
        ],
    )
    .await?;
    h.upload(
        "packages/web/1.0.0/site.zip",
        sample_site("1.0.0"),
        &[
            ("commit", "aa11bb2"),
            ("build-url", "https://ci.example.com/b/7"),
            ("notes", "Portal home page"),
        ],
    )
    .await?;
    h.drained().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_and_state_uploads_make_release_one() -> Result<()> {
    let h = Harness::start().await?;
    first_release(&h).await?;

    let packages = h.packages().await?;
    assert_eq!(packages.len(), 2, "both packages registered");
    let releases = h.releases().await?;
    assert_eq!(releases.len(), 1, "one release");
    let release = &releases[0];
    assert_eq!(number(release, "number"), 1);
    assert_eq!(text(release, "id"), "rel-1");
    let snap = snapshot(release);
    assert_eq!(snap["state"].0, "1.0.0");
    assert_eq!(snap["web"].0, "1.0.0");
    for p in &packages {
        let component = text(p, "component");
        assert_eq!(
            snap[&component].1,
            text(p, "sha256"),
            "snapshot holds the registered bytes of {component}"
        );
        assert_eq!(text(p, "release_id"), "rel-1", "{component} is marked with its release");
    }
    let notes = format!("{:?}", release.get("notes"));
    for expected in [
        "3f2c1d9",
        "Patient API 1.4.2",
        "aa11bb2",
        "Portal home page",
        "https://ci.example.com/b/7",
    ] {
        assert!(notes.contains(expected), "release notes carry {expected}: {notes}");
    }
    assert_eq!(text(release, "content_hash").len(), 64);

    let executions = h.executions().await?;
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].0, "rel-1", "the execution is named by the release id");
    assert!(h.rejections().await?.is_empty());
    assert_eq!(h.dead_letters().await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_events_and_identical_reuploads_change_nothing() -> Result<()> {
    let h = Harness::start().await?;
    first_release(&h).await?;
    // The workflow settles first (pre-flight, then the approval request moves the status on),
    // so what is compared below is what ingest could have changed.
    h.approval_links(1, "TEST").await?;
    let before = (h.packages().await?, h.releases().await?);

    // S3 delivers an event twice.
    let queue = h.stack.queue_url("UploadsQueue")?;
    let etag =
        h.s3.head_object()
            .bucket(&h.stack.bucket)
            .key("packages/web/1.0.0/site.zip")
            .send()
            .await?;
    let body = s3_event(
        &h.stack.bucket,
        "packages/web/1.0.0/site.zip",
        etag.e_tag().unwrap_or_default(),
    );
    h.sqs
        .send_message()
        .queue_url(&queue)
        .message_body(&body)
        .send()
        .await?;
    h.sqs
        .send_message()
        .queue_url(&queue)
        .message_body(&body)
        .send()
        .await?;
    // CI uploads the same bytes again.
    h.upload(
        "packages/state/1.0.0/manifest.yaml",
        sample_manifest("1.4.2"),
        &[("commit", "3f2c1d9")],
    )
    .await?;
    h.drained().await?;

    let after = (h.packages().await?, h.releases().await?);
    assert_eq!(after.0.len(), before.0.len(), "no new package");
    assert_eq!(after.1.len(), 1, "no new release");
    assert_eq!(after.1[0], before.1[0], "the release is unchanged");
    assert_eq!(h.executions().await?.len(), 1, "no second execution");
    assert!(h.rejections().await?.is_empty(), "identical bytes are not a conflict");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_version_with_other_bytes_is_rejected_and_the_first_kept() -> Result<()> {
    let h = Harness::start().await?;
    first_release(&h).await?;
    let original = h
        .packages()
        .await?
        .into_iter()
        .find(|p| text(p, "component") == "web")
        .map(|p| text(&p, "sha256"));

    h.upload(
        "packages/web/1.0.0/site.zip",
        sample_site("tampered"),
        &[("commit", "ffff000")],
    )
    .await?;
    h.drained().await?;

    let rejections = h.rejections().await?;
    assert_eq!(rejections.len(), 1);
    let reason = format!("{:?}", rejections[0].get("rejection"));
    assert!(
        reason.contains("version already published with other content"),
        "{reason}"
    );
    assert!(reason.contains("version-conflict"), "{reason}");
    let kept = h
        .packages()
        .await?
        .into_iter()
        .find(|p| text(p, "component") == "web")
        .map(|p| text(&p, "sha256"));
    assert_eq!(kept, original, "the first upload's record stays");
    assert_eq!(h.releases().await?.len(), 1);
    assert_eq!(h.dead_letters().await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_input_is_rejected_with_its_reason_and_nothing_else_changes() -> Result<()> {
    let h = Harness::start().await?;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "packages/mobile/1.0.0/app.zip",
            sample_site("x"),
            "unknown component 'mobile'",
        ),
        (
            "packages/web/v1.2/site.zip",
            sample_site("x"),
            "'v1.2' is not a SemVer 2.0 version",
        ),
        (
            "packages/web/site.zip",
            sample_site("x"),
            "does not have the layout packages/<component>/<version>/<file>",
        ),
        ("packages/web/2.0.0/site.zip", Vec::new(), "the package is empty"),
        (
            "packages/web/2.0.1/site.zip",
            b"PK\x03\x04 this is not a zip".to_vec(),
            "not a readable zip",
        ),
        (
            "packages/web/2.0.2/site.zip",
            zip_of(&[("dist/index.html", b"x")]),
            "no index.html at its root",
        ),
        (
            "packages/web/2.0.3/site.zip",
            zip_of(&[("index.html", b"x"), ("../escape.sh", b"x")]),
            "path traversal",
        ),
        (
            "packages/state/2.0.0/manifest.yaml",
            b"schemaVersion: 1\napplications:\n  - name: x\n".to_vec(),
            "invalid manifest: applications[0]",
        ),
    ];
    for (key, body, _) in &cases {
        h.upload(key, body.clone(), &[("commit", "bad0001")]).await?;
    }
    h.drained().await?;

    let rejections = h.rejections().await?;
    assert_eq!(rejections.len(), cases.len(), "one rejection per bad upload");
    for (key, _, reason) in &cases {
        let found = rejections.iter().find(|r| text(r, "object_key") == *key);
        let found = found.unwrap_or_else(|| panic!("no rejection recorded for {key}"));
        let recorded = format!("{:?}", found.get("rejection"));
        assert!(recorded.contains(reason), "{key}: expected '{reason}' in {recorded}");
    }
    assert_eq!(
        h.dead_letters().await?,
        0,
        "validation failures are not retried into the DLQ"
    );
    assert!(h.packages().await?.is_empty(), "nothing registered");
    assert!(h.releases().await?.is_empty(), "no release");
    assert!(h.executions().await?.is_empty(), "no execution");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_uploads_make_strictly_numbered_consistent_releases() -> Result<()> {
    let h = Harness::start().await?;
    let mut uploads = Vec::new();
    for i in 0..25 {
        uploads.push((
            format!("packages/web/1.0.{i}/site.zip"),
            sample_site(&format!("1.0.{i}")),
        ));
        uploads.push((
            format!("packages/state/1.{i}.0/manifest.yaml"),
            sample_manifest(&format!("1.{i}.0")),
        ));
    }
    let results = futures_join(&h, uploads).await;
    for r in results {
        r?;
    }
    h.drained().await?;

    let packages = h.packages().await?;
    assert_eq!(packages.len(), 50, "every upload registered");
    let registered: BTreeSet<(String, String, String)> = packages
        .iter()
        .map(|p| (text(p, "component"), text(p, "version"), text(p, "sha256")))
        .collect();
    let releases = h.releases().await?;
    assert!(!releases.is_empty());
    let numbers: Vec<u64> = releases.iter().map(|r| number(r, "number")).collect();
    let unique: BTreeSet<u64> = numbers.iter().copied().collect();
    assert_eq!(unique.len(), numbers.len(), "no duplicate release number: {numbers:?}");
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing: {numbers:?}"
    );
    let mut previous: Option<std::collections::BTreeMap<String, (String, String)>> = None;
    for release in &releases {
        let snap = snapshot(release);
        assert_eq!(snap.len(), 2, "one package per component");
        for (component, (version, sha)) in &snap {
            assert!(
                registered.contains(&(component.clone(), version.clone(), sha.clone())),
                "{component} {version} was registered"
            );
        }
        if let Some(prev) = &previous {
            for (component, (version, _)) in &snap {
                let v = |s: &str| s.split('.').map(|n| n.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
                assert!(
                    v(version) >= v(&prev[component].0),
                    "{component} never goes back between releases"
                );
            }
            assert_ne!(&snap, prev, "each release differs from the one before");
        }
        previous = Some(snap);
    }
    let last = previous.unwrap_or_default();
    assert_eq!(last["web"].0, "1.0.24", "the last release holds the newest web");
    assert_eq!(last["state"].0, "1.24.0", "the last release holds the newest state");
    let executions: BTreeSet<String> = h.executions().await?.into_iter().map(|e| e.0).collect();
    let ids: BTreeSet<String> = releases.iter().map(|r| text(r, "id")).collect();
    assert_eq!(executions, ids, "one execution per release, named by its id");
    assert_eq!(h.dead_letters().await?, 0);
    Ok(())
}

async fn futures_join(h: &Harness, uploads: Vec<(String, Vec<u8>)>) -> Vec<Result<()>> {
    let mut set = tokio::task::JoinSet::new();
    for (key, body) in uploads {
        let s3 = h.s3.clone();
        let bucket = h.stack.bucket.clone();
        set.spawn(async move {
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(body.into())
                .metadata("commit", "c0ffee1")
                .send()
                .await?;
            Ok::<(), anyhow::Error>(())
        });
    }
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.push(r.map_err(anyhow::Error::from).and_then(|x| x));
    }
    results
}

/// Issue 14, item 6: hostile packages uploaded in one burst with an innocent pair. Each is
/// refused with what was wrong and what to do, none reaches the DLQ, and the innocent uploads
/// are registered and released as if nothing else had come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_packages_are_refused_and_innocent_uploads_in_the_same_burst_go_through() -> Result<()> {
    let h = Harness::start().await?;
    let hostile = [
        hostile::zip_bomb(),
        hostile::nested_zip_bomb(),
        hostile::million_entry_zip(),
        hostile::yaml_alias_bomb(),
        hostile::yaml_tag(),
        hostile::huge_manifest(),
    ];
    let (first, rest) = hostile.split_at(3);
    for bad in first {
        h.upload(bad.key, bad.body.clone(), &[("commit", "bad0002")]).await?;
    }
    h.upload(
        "packages/state/1.0.0/manifest.yaml",
        sample_manifest("1.4.2"),
        &[("commit", "good001")],
    )
    .await?;
    h.upload(
        "packages/web/1.0.0/site.zip",
        sample_site("1.0.0"),
        &[("commit", "good002")],
    )
    .await?;
    for bad in rest {
        h.upload(bad.key, bad.body.clone(), &[("commit", "bad0003")]).await?;
    }
    h.drained().await?;

    let rejections = h.rejections().await?;
    for bad in &hostile {
        let found = rejections.iter().find(|r| text(r, "object_key") == bad.key);
        let found = found.unwrap_or_else(|| panic!("no rejection recorded for {}", bad.key));
        let recorded = format!("{:?}", found.get("rejection"));
        for phrase in bad.reason {
            assert!(
                recorded.contains(phrase),
                "{}: expected '{phrase}' in {recorded}",
                bad.key
            );
        }
    }
    assert_eq!(rejections.len(), hostile.len(), "one rejection per hostile upload");
    assert_eq!(h.dead_letters().await?, 0, "no hostile upload reached the DLQ");
    let packages = h.packages().await?;
    let registered: BTreeSet<String> = packages.iter().map(|p| text(p, "object_key")).collect();
    assert_eq!(
        registered,
        BTreeSet::from([
            "packages/state/1.0.0/manifest.yaml".to_string(),
            "packages/web/1.0.0/site.zip".to_string()
        ]),
        "the innocent uploads are registered"
    );
    assert_eq!(h.releases().await?.len(), 1, "and make release 1");
    Ok(())
}
