//! Pre-flight before anyone is asked (DESIGN §3.5): a release that could not deploy is blocked
//! with the reasons, no approver is mailed, and nothing in either platform changes.

use std::time::Duration;

use anyhow::Result;
use baton_e2e::{Harness, sample_manifest, sample_site};

const LONG: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_missing_from_exchange_blocks_the_release_before_sign_off() -> Result<()> {
    let h = Harness::start().await?;
    h.upload("packages/web/1.0.0/site.zip", sample_site("one"), &[]).await?;
    // patient-api 9.9.9 was never published to Exchange.
    h.upload("packages/state/1.0.0/manifest.yaml", sample_manifest("9.9.9"), &[])
        .await?;
    let release = h.wait_for_status(1, "blocked", LONG).await?;
    assert_eq!(release.number, 1);

    // Nobody was asked to approve what could not deploy; the release manager is told why once.
    // The status is written before the mail is sent: wait for the mail, then look at them all.
    h.wait_for_mails("blocked before sign-off", 1).await?;
    let mails = h.mails();
    assert!(
        !mails.iter().any(|m| m.subject.starts_with("Approve release")),
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let blocked: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("blocked before sign-off"))
        .collect();
    assert_eq!(
        blocked.len(),
        1,
        "one mail to TEST's approver: {:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(blocked[0].text.contains("patient-api:9.9.9"), "{}", blocked[0].text);
    assert!(blocked[0].text.contains("Nothing was changed"), "{}", blocked[0].text);

    // Nothing changed on either platform.
    assert!(h.pages_deployments().is_empty(), "{:?}", h.pages_deployments());
    assert!(h.cloudhub_deployments("Sandbox").is_empty());
    assert!(h.entities("approval").await?.is_empty(), "no approval was requested");

    // The page says so in words.
    let page = h.get("/releases/rel-1").await?;
    assert!(page.body.contains("Blocked before sign-off"), "{}", page.body);
    let detail = h.get_json("/api/releases/rel-1").await?;
    assert_eq!(detail["status"], "blocked");
    assert!(detail["events"].to_string().contains("9.9.9"), "{detail}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_release_passes_pre_flight_and_is_asked_as_before() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let links = h.approval_links(1, "TEST").await?;
    assert_eq!(links.len(), 1);
    // The request carries the plan: every application created, every file of the site new.
    let mail = &h.wait_for_mails("Approve release 1 for TEST?", 1).await?[0];
    assert!(mail.text.contains("patient-api: create at 1.4.2"), "{}", mail.text);
    assert!(mail.text.contains("web: site 1.0.0"), "{}", mail.text);
    assert!(
        mail.text
            .contains("5 files added (_headers, _redirects, assets/app.css"),
        "{}",
        mail.text
    );
    assert!(h.pages_deployments().is_empty(), "pre-flight deploys nothing");
    assert!(
        h.cloudhub_deployments("Sandbox").is_empty(),
        "pre-flight deploys nothing"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_the_organisation_does_not_have_blocks_the_release() -> Result<()> {
    let root = baton_local::repository_root();
    let text = std::fs::read_to_string(root.join("infra/config/baton.local.yaml"))?;
    let text = text.replacen(
        "TEST: { environment: Sandbox, target: cloudhub-eu-west-1 }",
        "TEST: { environment: Sandbox, target: cloudhub-nowhere-9 }",
        1,
    );
    assert!(text.contains("cloudhub-nowhere-9"));
    let h = Harness::start_with(baton_local::StackOptions {
        config_yaml: Some(text),
        ..baton_local::StackOptions::ephemeral()
    })
    .await?;
    h.release_samples("1.0.0", 1).await?;
    h.wait_for_status(1, "blocked", LONG).await?;
    let mail = &h.wait_for_mails("blocked before sign-off", 1).await?[0];
    assert!(mail.text.contains("'cloudhub-nowhere-9'"), "{}", mail.text);
    assert!(
        mail.text.contains("is not one of the organisation's targets"),
        "{}",
        mail.text
    );
    assert!(h.cloudhub_deployments("Sandbox").is_empty());
    Ok(())
}
