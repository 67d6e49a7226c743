//! Secure properties are namespaced (issue 13): a state manifest may have Baton read only the
//! secrets under its component's `secure_properties_prefix`. One that names Baton's own
//! connected-app secret, an ARN, or a secret elsewhere is refused at ingest with its reason,
//! through S3, SQS and the ingest handler as CI's uploads go.

use anyhow::Result;
use baton_e2e::{Harness, sample_manifest, sample_site, text};

/// The sample manifest with patient-api's `db.password` pointing at `secret` and `key`.
fn manifest_naming(secret: &str, key: &str) -> Result<Vec<u8>> {
    let sample = String::from_utf8(sample_manifest("1.4.2"))?;
    let original = "secret: baton/secure-properties/patient-api/db\n        key: password";
    anyhow::ensure!(sample.contains(original), "the sample manifest changed: {sample}");
    Ok(sample
        .replace(original, &format!("secret: '{secret}'\n        key: {key}"))
        .into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_naming_secrets_outside_their_prefix_are_refused_and_release_nothing() -> Result<()> {
    let h = Harness::start().await?;
    // The web package is there, so any accepted manifest would complete the set and be released.
    h.upload(
        "packages/web/1.0.0/site.zip",
        sample_site("1.0.0"),
        &[("commit", "aa11bb2")],
    )
    .await?;
    h.drained().await?;

    let property = "applications[0].secureProperties.db.password.secret";
    let cases = [
        (
            "packages/state/1.0.0/manifest.yaml",
            manifest_naming("baton/anypoint-connected-app", "client_secret")?,
            "'baton/anypoint-connected-app' holds Baton's own credentials",
        ),
        (
            "packages/state/1.0.1/manifest.yaml",
            manifest_naming(
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton/anypoint-connected-app-AbCdEf",
                "client_secret",
            )?,
            "is an ARN",
        ),
        (
            "packages/state/1.0.2/manifest.yaml",
            manifest_naming("payments/prod/db", "password")?,
            "'payments/prod/db' is outside this component's secure properties prefix 'baton/secure-properties/'",
        ),
    ];
    for (key, body, _) in &cases {
        h.upload(key, body.clone(), &[("commit", "bad0001")]).await?;
    }
    h.drained().await?;

    let rejections = h.rejections().await?;
    assert_eq!(rejections.len(), cases.len(), "one rejection per hostile manifest");
    for (key, _, reason) in &cases {
        let found = rejections
            .iter()
            .find(|r| text(r, "object_key") == *key)
            .unwrap_or_else(|| panic!("no rejection recorded for {key}"));
        let recorded = format!("{:?}", found.get("rejection"));
        for expected in [
            "invalid-content",
            property,
            reason,
            "store the application's secret under 'baton/secure-properties/'",
        ] {
            assert!(
                recorded.contains(expected),
                "{key}: expected '{expected}' in {recorded}"
            );
        }
    }
    let packages = h.packages().await?;
    assert_eq!(packages.len(), 1, "only the web package is registered");
    assert_eq!(text(&packages[0], "component"), "web");
    assert!(h.releases().await?.is_empty(), "no release");
    assert!(h.executions().await?.is_empty(), "no execution");
    assert_eq!(h.dead_letters().await?, 0, "refusals are not retried into the DLQ");

    // The same manifest naming a secret under the prefix is accepted and released: the refusals
    // above were about the secrets, not about anything else in the manifests.
    h.upload(
        "packages/state/1.0.3/manifest.yaml",
        manifest_naming("baton/secure-properties/patient-api/db", "password")?,
        &[("commit", "600d001")],
    )
    .await?;
    h.drained().await?;
    let releases = h.releases().await?;
    assert_eq!(releases.len(), 1, "the accepted manifest completes the set");
    assert_eq!(h.rejections().await?.len(), cases.len(), "no new rejection");
    assert_eq!(h.dead_letters().await?, 0);
    Ok(())
}
