//! Every AWS call a function makes is allowed by its role in template.yaml (docs/iam.md). The
//! runner judges each request as IAM would and answers a refused one as AWS does; these tests
//! check the refusals first, then run a whole release journey and assert that nothing was
//! refused, listing the permissions no call used in `target/iam-unused.txt`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use baton_e2e::Harness;
use baton_local::iam;

const LONG: Duration = Duration::from_secs(120);

fn function_name(h: &Harness, logical_id: &str) -> Result<String> {
    h.stack.resource_name(logical_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_refuses_what_it_does_not_grant_as_aws_does_and_changes_nothing() -> Result<()> {
    let h = Harness::start().await?;
    let status = function_name(&h, "StatusFunction")?;
    let s3 = baton_local::path_style_s3(&iam::function_sdk(&h.stack.sdk, &status));
    let before =
        h.s3.get_object()
            .bucket(&h.stack.bucket)
            .key("config/baton.yaml")
            .send()
            .await?
            .e_tag()
            .map(str::to_string);

    // status may read config/baton.yaml, never write it.
    s3.get_object()
        .bucket(&h.stack.bucket)
        .key("config/baton.yaml")
        .send()
        .await
        .context("status reads the config")?;
    let refused = s3
        .put_object()
        .bucket(&h.stack.bucket)
        .key("config/baton.yaml")
        .body(b"forged: true".to_vec().into())
        .send()
        .await
        .expect_err("status may not write the config");
    let raw = refused.raw_response().map(|r| r.status().as_u16());
    assert_eq!(raw, Some(403), "{refused:?}");
    let message = format!("{:?}", aws_sdk_s3::error::DisplayErrorContext(&refused));
    assert!(message.contains("AccessDenied"), "{message}");
    assert!(message.contains("s3:PutObject"), "{message}");
    assert!(
        message.contains(&format!("arn:aws:s3:::{}/config/baton.yaml", h.stack.bucket)),
        "{message}"
    );
    assert!(message.contains(&status), "names the function: {message}");
    let after =
        h.s3.get_object()
            .bucket(&h.stack.bucket)
            .key("config/baton.yaml")
            .send()
            .await?
            .e_tag()
            .map(str::to_string);
    assert_eq!(before, after, "a refused write changes nothing");

    // deploy-pages reads the Cloudflare token, never Anypoint's credentials.
    let pages = function_name(&h, "DeployPagesFunction")?;
    let secrets = aws_sdk_secretsmanager::Client::new(&iam::function_sdk(&h.stack.sdk, &pages));
    secrets
        .get_secret_value()
        .secret_id("baton/cloudflare-api-token")
        .send()
        .await
        .context("deploy-pages reads its token")?;
    let refused = secrets
        .get_secret_value()
        .secret_id("baton/anypoint-connected-app")
        .send()
        .await
        .expect_err("deploy-pages may not read Anypoint's secret");
    let message = format!("{:?}", aws_sdk_secretsmanager::error::DisplayErrorContext(&refused));
    assert!(message.contains("AccessDeniedException"), "{message}");
    assert!(message.contains("secretsmanager:GetSecretValue"), "{message}");
    assert!(message.contains("secret:baton/anypoint-connected-app-"), "{message}");

    // A missing package reads as missing (NoSuchKey), not forbidden: deploy-pages may list
    // packages/ (s3:ListBucket with its s3:prefix), so S3 tells it the key is absent.
    let pages_s3 = baton_local::path_style_s3(&iam::function_sdk(&h.stack.sdk, &pages));
    let missing = pages_s3
        .get_object()
        .bucket(&h.stack.bucket)
        .key("packages/web/9.9.9/site.zip")
        .send()
        .await
        .expect_err("no such package");
    assert!(
        missing.as_service_error().is_some_and(|e| e.is_no_such_key()),
        "{missing:?}"
    );

    // status reads by key and query, never by Scan.
    let dynamodb = aws_sdk_dynamodb::Client::new(&iam::function_sdk(&h.stack.sdk, &status));
    let refused = dynamodb
        .scan()
        .table_name(&h.table)
        .send()
        .await
        .expect_err("status may not scan");
    let message = format!("{:?}", aws_sdk_dynamodb::error::DisplayErrorContext(&refused));
    assert!(
        message.contains("dynamodb:Scan") && message.contains(&format!("table/{}", h.table)),
        "{message}"
    );

    // A key naming no function of the template, or no function at all, is refused too.
    for forged in ["FUNCTION-nobody", "AKIAFORGEDKEY"] {
        let credentials = aws_sdk_s3::config::Credentials::new(forged, "x", None, None, "forged");
        let sdk = h
            .stack
            .sdk
            .to_builder()
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(credentials))
            .build();
        let refused = baton_local::path_style_s3(&sdk)
            .get_object()
            .bucket(&h.stack.bucket)
            .key("config/baton.yaml")
            .send()
            .await
            .expect_err("a forged key reads nothing");
        let message = format!("{:?}", aws_sdk_s3::error::DisplayErrorContext(&refused));
        assert!(message.contains("AccessDenied"), "{forged}: {message}");
    }

    // The refusals are recorded with function, action and resource.
    let denials = h.stack.iam.denials();
    assert!(
        denials
            .iter()
            .any(|c| c.function == status && c.action == "s3:PutObject"),
        "{denials:?}"
    );
    assert!(denials.iter().any(|c| c.function == "nobody"), "{denials:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_release_journey_makes_no_call_its_roles_refuse() -> Result<()> {
    let h = Harness::start().await?;
    // Release 1 live in TEST and PROD; release 2 live in TEST, waiting for PROD; one refused
    // upload; then PROD's sign-off of release 2 is rejected.
    h.status_journey().await?;
    let links = h.approval_links(2, "PROD").await?;
    let page = h.decide(&links[0].1, "reject", "not this week").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    h.wait_for_status(2, "rejected", LONG).await?;
    // The pages a business user reads, and the feed.
    for path in ["/", "/api/status", "/api/releases", "/feed.xml", "/releases/1"] {
        let answer = h.get(path).await?;
        assert!(answer.status < 500, "{path}: {}", answer.status);
    }
    h.drained().await?;

    let calls = h.stack.iam.calls();
    let denials: Vec<_> = calls.iter().filter(|c| c.denied.is_some()).collect();
    assert!(
        denials.is_empty(),
        "calls the functions' roles refuse:\n{}",
        denials
            .iter()
            .map(|c| format!(
                "{} {} {}: {}",
                c.function,
                c.action,
                c.resource,
                c.denied.as_deref().unwrap_or("")
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every function that ran was judged (none slipped past unrecorded).
    for f in [
        "IngestFunction",
        "NotifyFunction",
        "ApproveFunction",
        "LifecycleFunction",
        "StatusFunction",
    ] {
        let name = function_name(&h, f)?;
        assert!(calls.iter().any(|c| c.function == name), "no call of {name} recorded");
    }

    let unused = h.stack.iam.unused();
    let report = format!(
        "# Permissions of template.yaml's function roles no call used in tests/e2e/tests/iam.rs's journey\n# (candidates to remove; logs:* are written by the Lambda runtime and left out)\n{}\n",
        unused.join("\n")
    );
    let path = target_dir().join("iam-unused.txt");
    std::fs::create_dir_all(target_dir())?;
    std::fs::write(&path, &report)?;
    println!(
        "{} calls judged, none refused; unused permissions ({}):\n{report}",
        calls.len(),
        path.display()
    );
    Ok(())
}

fn target_dir() -> PathBuf {
    let root = baton_local::repository_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    if target.is_absolute() {
        target
    } else {
        root.join(target)
    }
}
