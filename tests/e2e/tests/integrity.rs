//! What is approved is what is deployed (DESIGN §3.5): hostile cases against the pinning of
//! registered packages.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use baton_e2e::{Harness, sample_site, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_overwritten_after_registration_change_nothing_a_release_deploys() -> Result<()> {
    let h = Harness::start().await?;
    let release = h.release_samples("1.0.0", 1).await?;
    let registered = release.snapshot["web"].clone();
    assert!(
        registered.s3_version_id.is_some(),
        "the registered package names its S3 version: {registered:?}"
    );

    // Someone with wider rights than CI's policy gives overwrites the published key.
    h.upload(
        "packages/web/1.0.0/site.zip",
        sample_site("OVERWRITTEN"),
        &[("notes", "not what was approved")],
    )
    .await?;
    h.drained().await?;
    let refused = h.rejections().await?;
    assert!(
        refused
            .iter()
            .any(|r| text(r, "object_key") == "packages/web/1.0.0/site.zip"
                && format!("{:?}", r.get("rejection")).contains("already published with other content")),
        "the other bytes are refused: {refused:?}"
    );

    // Approving deploys the registered version, not the newest object at the key.
    let links = h.approval_links(1, "TEST").await?;
    let page = h.decide(&links[0].1, "approve", "approved what I saw").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    h.approval_links(1, "PROD").await?; // asked once TEST is live
    let index = h.deployed_index(Some("test")).await?;
    assert!(index.contains("Patient Portal"), "{index}");
    assert!(
        !index.contains("OVERWRITTEN"),
        "the overwritten bytes were deployed: {index}"
    );
    let test = h.environment("TEST").await?;
    let Some(live) = test.current else {
        bail!("TEST has no live release")
    };
    assert_eq!(live.components["web"].package.sha256, registered.sha256);
    assert_eq!(h.dead_letters().await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_names_the_version_it_announces_and_ingest_reads_exactly_it() -> Result<()> {
    let h = Harness::start().await?;
    // Two uploads to one key in quick succession: each event names its own version, so the
    // first is registered with the first bytes and the second refused, whatever order the
    // messages are handled in.
    h.upload("packages/web/3.0.0/site.zip", sample_site("FIRST"), &[])
        .await?;
    h.upload("packages/web/3.0.0/site.zip", sample_site("SECOND"), &[])
        .await?;
    h.drained().await?;
    let packages = h.packages().await?;
    let web: Vec<_> = packages.iter().filter(|p| text(p, "version") == "3.0.0").collect();
    assert_eq!(web.len(), 1, "{packages:?}");
    let first = baton_domain::sha256_hex(&sample_site("FIRST"));
    let second = baton_domain::sha256_hex(&sample_site("SECOND"));
    let sha = text(web[0], "sha256");
    assert!(sha == first || sha == second, "{sha}");
    // Whichever was registered, its S3 version holds exactly its bytes.
    let version = text(web[0], "s3_version_id");
    assert!(!version.is_empty(), "{:?}", web[0]);
    let object =
        h.s3.get_object()
            .bucket(&h.stack.bucket)
            .key("packages/web/3.0.0/site.zip")
            .version_id(&version)
            .send()
            .await?;
    let bytes = object.body.collect().await?.into_bytes();
    assert_eq!(baton_domain::sha256_hex(&bytes), sha);
    // And the other upload is on record as refused, not lost.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = h.rejections().await?;
    assert_eq!(refused.len(), 1, "{refused:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_aws_errors_reach_no_page_mail_or_api_answer() -> Result<()> {
    const ACCOUNT: &str = "123456789012";
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    let approvals = h.entities("approval").await?;
    let token = text(approvals.first().context("an approval item")?, "task_token");
    // The workflow fails with the kind of cause AWS writes: role ARNs and the account id.
    let cause = format!(
        "User: arn:aws:sts::{ACCOUNT}:assumed-role/baton-NotifyRole/baton-notify is not authorized to perform: \
         dynamodb:UpdateItem on resource: arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/baton-Table"
    );
    h.sfn
        .send_task_failure()
        .task_token(&token)
        .error("Lambda.Unknown")
        .cause(&cause)
        .send()
        .await?;
    h.wait_for_status(1, "failed", Duration::from_secs(120)).await?;
    // The status is written before the release manager's mail goes out.
    h.wait_for_mails("failed", 1).await?;

    let mut shown = Vec::new();
    for path in [
        "/",
        "/releases/rel-1",
        "/api/status",
        "/api/releases",
        "/api/releases/rel-1",
        "/feed.xml",
    ] {
        let answer = h.get(path).await?;
        assert_eq!(answer.status, 200, "{path}");
        shown.push((path.to_string(), answer.body));
    }
    for mail in h.mails() {
        shown.push((format!("mail '{}'", mail.subject), mail.text));
    }
    for (what, body) in &shown {
        assert!(!body.contains("arn:aws"), "{what} shows an ARN: {body}");
        assert!(!body.contains(ACCOUNT), "{what} shows the account id: {body}");
    }
    // The reason is still told, in words.
    let detail = &shown[1].1;
    assert!(detail.contains("is not authorized to perform"), "{detail}");
    assert!(
        h.mails()
            .iter()
            .any(|m| m.subject.contains("failed") && m.text.contains("(an AWS resource)")),
        "the release manager is told, without internals"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_for_another_bucket_is_ignored_not_refused() -> Result<()> {
    let h = Harness::start().await?;
    let body = serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "someone-elses-bucket"},
               "object": {"key": "packages/web/9.9.9/site.zip", "size": 10, "eTag": "abc"}}
    }]});
    h.sqs
        .send_message()
        .queue_url(h.stack.queue_url("UploadsQueue")?)
        .message_body(body.to_string())
        .send()
        .await?;
    h.drained().await?;
    assert!(h.rejections().await?.is_empty(), "nothing refused");
    assert!(h.packages().await?.is_empty(), "nothing registered");
    assert_eq!(h.dead_letters().await?, 0, "nothing dead-lettered");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_property_only_change_is_deployed_and_shown_field_by_field() -> Result<()> {
    let h = Harness::start().await?;
    h.live_in_test("1.0.0", 1).await?;

    // State 1.0.1: the same applications and versions, one property more.
    let manifest = baton_e2e::sample_manifest("1.4.2");
    let text = String::from_utf8(manifest)?.replacen(
        "      http.port: 8081\n",
        "      http.port: 8081\n      feature.new-admissions-form: \"on\"\n",
        1,
    );
    assert!(text.contains("feature.new-admissions-form"));
    h.upload(
        "packages/state/1.0.1/manifest.yaml",
        text.into_bytes(),
        &[("notes", "New admissions form flag")],
    )
    .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, Duration::from_secs(90)).await?;
    // The approver sees the property change in the plan they sign.
    let asked = h.wait_for_mails("Approve release 2 for TEST?", 1).await?;
    assert!(
        asked[0]
            .text
            .contains("patient-api: update: property feature.new-admissions-form added (on)"),
        "{}",
        asked[0].text
    );
    let page = h.open(&asked[0].links[0]).await?;
    assert!(
        page.body.contains("property feature.new-admissions-form added (on)"),
        "{}",
        page.body
    );
    let links = h.approval_links(2, "TEST").await?;
    h.decide(&links[0].1, "approve", "ok").await?;
    h.approval_links(2, "PROD").await?; // TEST is live with release 2

    let patient = h
        .cloudhub_deployments("Sandbox")
        .into_iter()
        .find(|d| d["name"] == "patient-api")
        .context("patient-api in Sandbox")?;
    let properties =
        &patient["application"]["configuration"]["mule.agent.application.properties.service"]["properties"];
    assert_eq!(properties["feature.new-admissions-form"], "on", "{patient}");
    let detail = h.get_json("/api/releases/rel-2").await?;
    let changes = detail["deployments"].to_string();
    assert!(
        changes.contains("property feature.new-admissions-form added (on)"),
        "the release page names the property change: {changes}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_changed_by_hand_after_approval_deploys_nothing_and_asks_again() -> Result<()> {
    let h = Harness::start().await?;
    h.live_in_test("1.0.0", 1).await?;

    // Release 2 moves admissions-api to 2.2.0; its TEST request shows that plan.
    let manifest =
        String::from_utf8(baton_e2e::sample_manifest("1.4.2"))?.replacen("version: 2.1.0", "version: 2.2.0", 1);
    h.upload("packages/state/1.1.0/manifest.yaml", manifest.into_bytes(), &[])
        .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, Duration::from_secs(90)).await?;
    let asked = h.wait_for_mails("Approve release 2 for TEST?", 1).await?;
    assert!(
        asked[0].text.contains("admissions-api: update: asset 2.1.0 -> 2.2.0"),
        "{}",
        asked[0].text
    );
    assert!(
        asked[0].text.contains("patient-api: unchanged at 1.4.2"),
        "{}",
        asked[0].text
    );
    let page = h.open(&asked[0].links[0]).await?;
    assert!(page.body.contains("What deploying changes in TEST"), "{}", page.body);

    // Someone scales patient-api by hand, through the platform's own API, after the mail.
    let sim = &h.stack.anypoint;
    let client = baton_anypoint::AnypointClient::new(
        sim.url(),
        baton_sim_anypoint::DEFAULT_CLIENT_ID,
        baton_sim_anypoint::DEFAULT_CLIENT_SECRET,
    )?;
    let scope = client.scope("Sandbox").await?;
    let patient = client
        .find_deployment(&scope, "patient-api", "cloudhub-eu-west-1")
        .await?
        .context("patient-api in Sandbox")?;
    client
        .patch_deployment_raw(&scope, &patient.id, serde_json::json!({ "target": { "replicas": 3 } }))
        .await?;

    // Approving the plan that no longer holds deploys nothing and asks again with the new one.
    let page = h.decide(&asked[0].links[0], "approve", "as mailed").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let again = h.wait_for_mails("Approve release 2 for TEST?", 2).await?;
    let newest = again.last().context("a second request")?;
    assert!(
        newest.text.contains("patient-api: update: replicas 3 -> 1"),
        "{}",
        newest.text
    );
    let admissions = h
        .cloudhub_deployments("Sandbox")
        .into_iter()
        .find(|d| d["name"] == "admissions-api")
        .context("admissions-api")?;
    assert_eq!(
        admissions["application"]["ref"]["version"], "2.1.0",
        "nothing was deployed"
    );
    let kinds: Vec<String> = h.events(2).await?.into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"plan-changed".to_string()), "{kinds:?}");
    assert!(
        h.leases_held().await?.is_empty(),
        "the environment is free while it waits"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_is_a_change_to_deploy_though_its_value_is_never_read_back() -> Result<()> {
    let mut h = Harness::start().await?;
    h.live_in_test("1.0.0", 1).await?;

    // The database password behind patient-api's secure property is rotated.
    let secrets = aws_sdk_secretsmanager::Client::new(&h.stack.sdk);
    secrets
        .put_secret_value()
        .secret_id("baton/secure-properties/patient-api/db")
        .secret_string(r#"{"password": "rotated-0c41"}"#)
        .send()
        .await?;
    // A fresh functions' host, as after Lambda's next cold start, reads the new version.
    h.stack.restart_functions().await?;

    // The same desired state as a new version: only the secret's version differs from what is
    // live. (A comment makes the bytes differ: identical bytes would make no new release.)
    let mut manifest = baton_e2e::sample_manifest("1.4.2");
    manifest.extend_from_slice(b"# password rotated\n");
    h.upload("packages/state/1.0.1/manifest.yaml", manifest, &[]).await?;
    baton_local::demo::wait_for_release(&h.stack, 2, Duration::from_secs(90)).await?;
    let asked = h.wait_for_mails("Approve release 2 for TEST?", 1).await?;
    let text = &asked[0].text;
    assert!(
        text.contains("patient-api: update: secure properties changed (a secret has a new version)"),
        "{text}"
    );
    assert!(text.contains("admissions-api: unchanged at 2.1.0"), "{text}");
    assert!(!text.contains("rotated-0c41"), "never the value");
    h.decide(&asked[0].links[0], "approve", "rotate").await?;
    h.approval_links(2, "PROD").await?; // live in TEST
    let detail = h.get_json("/api/releases/rel-2").await?;
    assert!(detail.to_string().contains("secure properties changed"), "{detail}");
    assert!(!detail.to_string().contains("rotated-0c41"));
    Ok(())
}
