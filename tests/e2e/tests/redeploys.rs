//! Redeploys on demand (issue 15, item 1), end to end on the local stack: PROD rolled back to
//! an earlier release and a release deployed to TEST again, each asked from the release page's
//! form and confirmed through a personal mailed link; a non-approver's request changes nothing;
//! two redeploys of one environment never overlap.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use baton_e2e::{Harness, number, sample_manifest, sample_site, snapshot};

const LONG: Duration = Duration::from_secs(120);

/// Uploads a site showing `marker` and a manifest with the Patient API at `patient`, both as
/// `version`, and answers the number of the release holding both (one or two releases are
/// made, as ingest meets the two uploads).
async fn release(h: &Harness, version: &str, marker: &str, patient: &str) -> Result<u64> {
    h.upload(
        &format!("packages/state/{version}/manifest.yaml"),
        sample_manifest(patient),
        &[("notes", &format!("Patient API {patient}"))],
    )
    .await?;
    h.upload(
        &format!("packages/web/{version}/site.zip"),
        sample_site(marker),
        &[("notes", &format!("Portal {marker}"))],
    )
    .await?;
    let deadline = Instant::now() + LONG;
    loop {
        let both = h.releases().await?.into_iter().find(|r| {
            let pinned = snapshot(r);
            [("web", version), ("state", version)]
                .iter()
                .all(|(c, v)| pinned.get(*c).is_some_and(|(pv, _)| pv == v))
        });
        if let Some(release) = both {
            return Ok(number(&release, "number"));
        }
        ensure!(
            Instant::now() < deadline,
            "no release of {version} within {} s",
            LONG.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Takes release `number` through TEST and PROD.
async fn released(h: &Harness, number: u64) -> Result<()> {
    h.approve_from_mail(number, "TEST", "fine in TEST").await?;
    h.approve_from_mail(number, "PROD", "fine in PROD").await?;
    h.wait_for_status(number, "released", LONG).await?;
    Ok(())
}

/// The version of patient-api CloudHub runs in `environment` (`Sandbox`, `Production`).
fn patient_api(h: &Harness, environment: &str) -> String {
    h.cloudhub_deployments(environment)
        .iter()
        .find(|a| a["name"] == "patient-api")
        .and_then(|a| a["application"]["ref"]["version"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Waits until `check` holds.
async fn eventually<F, Fut>(what: &str, check: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = Instant::now() + LONG;
    while !check().await? {
        ensure!(Instant::now() < deadline, "{what}: not within {} s", LONG.as_secs());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prod_rolls_back_to_an_earlier_release_and_test_takes_a_release_again_each_confirmed_by_mail() -> Result<()> {
    let h = Harness::start().await?;
    let one = release(&h, "1.0.0", "one", "1.4.2").await?;
    ensure!(one == 1);
    released(&h, 1).await?;
    let newer = release(&h, "1.1.0", "two", "1.5.0").await?;
    released(&h, newer).await?;
    ensure!(h.deployed_index(None).await?.contains("Patient Portal two"));
    ensure!(patient_api(&h, "Production") == "1.5.0");

    // The release page offers it, for the environments release 1 went to.
    let page = h.get("/releases/rel-1").await?;
    ensure!(page.body.contains("Roll PROD back to release 1"), "{}", page.body);

    // Someone who is not an approver of PROD gets the same answer, and nothing happens.
    let confirms = |h: &Harness| {
        h.mails()
            .into_iter()
            .filter(|m| m.subject.starts_with("Confirm:"))
            .count()
    };
    let stranger = h
        .ask_redeploy("rel-1", "PROD", "dev@example.com", "I think 2 is broken")
        .await?;
    ensure!(stranger.status == 200, "{} {}", stranger.status, stranger.body);
    let asked = h
        .ask_redeploy(
            "rel-1",
            "PROD",
            "cab@example.com",
            &format!("login broken since release {newer}"),
        )
        .await?;
    ensure!(asked.status == 200, "{} {}", asked.status, asked.body);
    let answer_words = |body: &str| {
        body.split("<p>")
            .nth(1)
            .map(|t| t.replace("dev@example.com", "X").replace("cab@example.com", "X"))
    };
    ensure!(
        answer_words(&stranger.body) == answer_words(&asked.body),
        "the answer tells nobody who is an approver: {} / {}",
        stranger.body,
        asked.body
    );
    // Bad requests are refused, saying what is wrong, and change nothing.
    let never = h.ask_redeploy("rel-1", "NOWHERE", "cab@example.com", "x").await?;
    ensure!(
        never.status == 400 && never.body.contains("no environment"),
        "{}",
        never.body
    );
    let reasonless = h.ask_redeploy("rel-1", "PROD", "cab@example.com", " ").await?;
    ensure!(
        reasonless.status == 400 && reasonless.body.contains("reason"),
        "{}",
        reasonless.body
    );

    // Only the approver who asked gets a confirmation link; nothing changed yet.
    let mails = h.wait_for_mails("Confirm: Roll PROD back to release 1?", 1).await?;
    ensure!(
        mails.len() == 1 && mails[0].to == ["cab@example.com"],
        "{:?}",
        mails[0].to
    );
    let link = mails[0].links[0].clone();
    let shown = h.open(&link).await?;
    ensure!(
        shown.status == 200 && shown.body.contains(&format!("login broken since release {newer}")),
        "{}",
        shown.body
    );
    ensure!(
        h.environment("PROD").await?.current.is_some_and(|c| c.number == newer),
        "GET decides nothing"
    );
    let forged = h.open(&link.replace("token=", "token=x")).await?;
    ensure!(forged.status == 403, "a forged token gets 403, not {}", forged.status);

    let confirmed = h.decide(&link, "approve", "").await?;
    ensure!(confirmed.status == 200, "{} {}", confirmed.status, confirmed.body);
    eventually("PROD runs release 1 again", || async {
        Ok(h.environment("PROD").await?.current.is_some_and(|c| c.number == 1))
    })
    .await?;
    ensure!(
        h.deployed_index(None).await?.contains("Patient Portal one"),
        "the site is release 1's"
    );
    ensure!(patient_api(&h, "Production") == "1.4.2", "the APIs are release 1's");
    let prod = h.environment("PROD").await?;
    ensure!(
        prod.previous.as_ref().is_some_and(|p| p.number == newer),
        "release 3 is the rollback target now"
    );
    ensure!(patient_api(&h, "Sandbox") == "1.5.0", "TEST is untouched");
    let again = h.decide(&link, "approve", "").await?;
    ensure!(again.status == 409, "the link decides once: {}", again.status);

    // Both timelines tell it; both releases keep their own status.
    let one = h.events(1).await?;
    let told = one
        .iter()
        .find(|e| e.kind == "redeployed")
        .map(|e| e.detail.clone())
        .unwrap_or_default();
    ensure!(
        told.contains(&format!(
            "PROD rolled back to release 1 (from release {newer}) by cab@example.com, reason: login broken since release {newer}"
        )),
        "{one:#?}"
    );
    let three = h.events(newer).await?;
    ensure!(
        three
            .iter()
            .any(|e| e.kind == "replaced" && e.detail.contains("PROD rolled back to release 1 by cab@example.com")),
        "{three:#?}"
    );
    h.wait_for_status(1, "released", LONG).await?;
    h.wait_for_status(newer, "released", LONG).await?;
    let page = h.get(&format!("/releases/rel-{newer}")).await?;
    ensure!(page.body.contains("PROD rolled back to release 1"), "{}", page.body);

    // A release deployed to TEST again (the newer release is live there): a new deployment of the same
    // packages, and TEST's rollback target stays release 1.
    let before = h.pages_deployments().len();
    h.ask_redeploy(
        &format!("rel-{newer}"),
        "TEST",
        "release-manager@example.com",
        "cache poisoned",
    )
    .await?;
    let mails = h
        .wait_for_mails(&format!("Confirm: Deploy release {newer} to TEST again?"), 1)
        .await?;
    ensure!(h.decide(&mails[0].links[0], "approve", "").await?.status == 200);
    eventually("the newer release is deployed to TEST again", || async {
        Ok(h.events(newer)
            .await?
            .iter()
            .any(|e| e.kind == "redeployed" && e.environment.as_deref() == Some("TEST")))
    })
    .await?;
    let test = h.environment("TEST").await?;
    ensure!(test.current.as_ref().is_some_and(|c| c.number == newer), "{test:?}");
    ensure!(test.previous.as_ref().is_some_and(|p| p.number == 1), "{test:?}");
    ensure!(h.pages_deployments().len() == before + 1, "one new Pages deployment");
    ensure!(
        confirms(&h) == 2,
        "two confirmations were mailed in all, none to the stranger"
    );
    // The "redeployed" event is written by the execution's last task; the execution itself ends
    // a state or two later, so its status is awaited rather than read once.
    eventually("every redeploy execution has succeeded", || async {
        Ok(h.executions()
            .await?
            .iter()
            .all(|(name, status)| name.starts_with("rel-") || status == "SUCCEEDED"))
    })
    .await?;
    ensure!(h.leases_held().await?.is_empty(), "every lease given back");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_redeploys_of_one_environment_never_overlap_and_a_release_never_goes_where_it_was_not_approved()
-> Result<()> {
    let h = Harness::start().await?;
    ensure!(release(&h, "1.0.0", "one", "1.4.2").await? == 1);
    h.approve_from_mail(1, "TEST", "fine").await?;
    h.approval_links(1, "PROD").await?;

    // Release 1 never passed PROD's gate: it cannot be sent there by a redeploy.
    let refused = h
        .ask_redeploy("rel-1", "PROD", "cab@example.com", "skip the queue")
        .await?;
    ensure!(
        refused.status == 400 && refused.body.contains("was never deployed to PROD"),
        "{} {}",
        refused.status,
        refused.body
    );

    // Two approvers each ask to deploy release 1 to TEST again, and confirm at once.
    h.ask_redeploy("rel-1", "TEST", "release-manager@example.com", "first")
        .await?;
    h.ask_redeploy("rel-1", "TEST", "release-manager@example.com", "second")
        .await?;
    let mails = h.wait_for_mails("Confirm: Deploy release 1 to TEST again?", 2).await?;
    let (a, b) = (mails[0].links[0].clone(), mails[1].links[0].clone());
    let (first, second) = tokio::join!(h.decide(&a, "approve", ""), h.decide(&b, "approve", ""));
    ensure!(first?.status == 200 && second?.status == 200);
    eventually("both redeploys are done", || async {
        Ok(h.events(1).await?.iter().filter(|e| e.kind == "redeployed").count() == 2)
    })
    .await?;
    // Each ran deploying → live with the lease; the two intervals do not overlap.
    let events = h.events(1).await?;
    let in_test = |kind: &str| -> Vec<chrono::DateTime<chrono::Utc>> {
        events
            .iter()
            .filter(|e| {
                e.kind == kind
                    && e.environment.as_deref() == Some("TEST")
                    && (kind != "deploying" || e.detail.contains("again"))
            })
            .map(|e| e.at)
            .collect()
    };
    let (starts, ends) = (in_test("deploying"), in_test("live"));
    ensure!(starts.len() == 2 && ends.len() == 3, "{events:#?}");
    ensure!(
        starts[1] >= ends[1],
        "the second redeploy began ({}) after the first was live ({})",
        starts[1],
        ends[1]
    );
    ensure!(h.leases_held().await?.is_empty(), "every lease given back");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_rolled_back_after_a_failure_is_retried_from_its_failure_mail_once_the_cause_is_fixed() -> Result<()>
{
    let h = Harness::start().await?;
    h.stack.anypoint.state().mark_failing(
        None,
        "patient-api",
        "1.4.2",
        Some("CrashLoopBackoff: database unreachable".into()),
    );
    ensure!(release(&h, "1.0.0", "one", "1.4.2").await? == 1);
    h.approve_from_mail(1, "TEST", "looks good").await?;
    h.wait_for_status(1, "rolled-back", LONG).await?;

    // The failure mail links to the release page's form, which offers the retry.
    let failed = h
        .wait_for_mails("Release 1 failed and was rolled back in TEST", 1)
        .await?;
    let retry = failed[0]
        .links
        .iter()
        .find(|l| l.ends_with("/releases/rel-1#again"))
        .cloned();
    ensure!(
        retry.is_some() && failed[0].text.contains("Retry this release"),
        "{}",
        failed[0].text
    );
    let page = h.get("/releases/rel-1").await?;
    ensure!(page.body.contains("Retry release 1 in TEST"), "{}", page.body);

    // The database is back: the retry, confirmed, takes release 1 live in TEST.
    h.stack.anypoint.state().clear_failing(None, "patient-api", "1.4.2");
    h.ask_redeploy("rel-1", "TEST", "release-manager@example.com", "database is back")
        .await?;
    let mails = h.wait_for_mails("Confirm: Retry release 1 in TEST?", 1).await?;
    ensure!(h.decide(&mails[0].links[0], "approve", "").await?.status == 200);
    eventually("release 1 is live in TEST", || async {
        Ok(h.environment("TEST").await?.current.is_some_and(|c| c.number == 1))
    })
    .await?;
    let apps = h.cloudhub_deployments("Sandbox");
    ensure!(
        apps.iter().all(|a| a["status"] == "APPLIED"),
        "every application applied: {apps:?}"
    );
    ensure!(h.deployed_index(Some("test")).await?.contains("Patient Portal one"));
    // The release's own journey stays as it ended; its timeline tells the retry.
    h.wait_for_status(1, "rolled-back", LONG).await?;
    let events = h.events(1).await?;
    ensure!(
        events
            .iter()
            .any(|e| e.kind == "redeployed" && e.detail.contains("database is back")),
        "{events:#?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_by_an_approver_removed_since_asking_deploys_nothing() -> Result<()> {
    let mut h = Harness::start().await?;
    ensure!(release(&h, "1.0.0", "one", "1.4.2").await? == 1);
    released(&h, 1).await?;
    h.ask_redeploy("rel-1", "PROD", "cab@example.com", "redo the cache")
        .await?;
    let mails = h.wait_for_mails("Confirm: Deploy release 1 to PROD again?", 1).await?;
    let link = mails[0].links[0].clone();
    let deployments = h.pages_deployments().len();

    // The CAB (listed once: among PROD's approvers) leaves them before confirming.
    h.remove_approver("cab@example.com").await?;

    let page = h.decide(&link, "approve", "").await?;
    ensure!(
        page.status == 403 && page.body.contains("no longer an approver"),
        "{} {}",
        page.status,
        page.body
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(h.pages_deployments().len() == deployments, "nothing deployed");
    ensure!(
        h.events(1).await?.iter().all(|e| e.kind != "redeployed"),
        "no redeploy recorded"
    );
    Ok(())
}
