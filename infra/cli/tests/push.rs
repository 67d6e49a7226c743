//! `baton` as CI runs it: the real binary against a local stack of its own, configured the
//! way a pipeline configures it (BATON_API_URL, BATON_BUCKET, AWS_ENDPOINT_URL and credentials
//! from the environment).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use anyhow::{Context, Result};
use baton_e2e::{Harness, sample_manifest, sample_site};
use baton_local::StackOptions;

/// Notes with everything an S3 header cannot carry as it is.
const NOTES: &str = "Admissions form, \"v2\" ready\nNouveau : formulaire d'admission é → ü";

/// Runs `baton` with `args` against the stack, as CI would.
async fn baton(h: &Harness, args: &[&str]) -> Result<Output> {
    baton_as(h, None, args).await
}

/// Runs `baton` with `args`, with `BATON_TOKEN` set to `token` if given.
async fn baton_as(h: &Harness, token: Option<&str>, args: &[&str]) -> Result<Output> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let token = token.unwrap_or_default().to_string();
    let (api, bucket, endpoint) = (
        h.stack.http_url.clone(),
        h.stack.bucket.clone(),
        h.stack.aws_endpoint.clone(),
    );
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(&args)
            .env("BATON_API_URL", api)
            .env("BATON_BUCKET", bucket)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "eu-west-1")
            .env("BATON_TOKEN", token)
            .env_remove("AWS_PROFILE")
            .output()
    })
    .await?
    .context("running baton")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn said(out: &Output) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        code(out),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<String> {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path.to_string_lossy().into_owned())
}

fn scratch(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("baton-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_gives_ci_a_verdict_and_an_exit_code() -> Result<()> {
    let h = Harness::start().await?;
    let dir = scratch("verdicts")?;
    let site = write(&dir, "site.zip", &sample_site("one"))?;
    let manifest = write(&dir, "manifest.yaml", &sample_manifest("1.4.2"))?;

    // The first component's package: registered, no release until every component has one.
    let out = baton(&h, &["push", "web", "1.0.0", &site, "--commit", "aa11bb2", "--wait"]).await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("registered: web 1.0.0"), "{}", said(&out));
    assert!(
        stdout.contains("waiting for the first package of state"),
        "{}",
        said(&out)
    );

    // The second makes release 1, named with its page; the notes travel encoded.
    let out = baton(
        &h,
        &[
            "push",
            "state",
            "1.0.0",
            &manifest,
            "--commit",
            "3f2c1d9",
            "--branch",
            "main",
            "--build-url",
            "https://ci.example.com/42",
            "--notes",
            NOTES,
            "--wait",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let page = format!("{}/releases/rel-1", h.stack.http_url);
    assert!(stdout.contains(&format!("release 1: {page}")), "{}", said(&out));

    // The same bytes again: nothing to do, and CI is told so.
    let out = baton(&h, &["push", "web", "1.0.0", &site, "--wait"]).await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("already registered"),
        "{}",
        said(&out)
    );

    // Other bytes under the published version: refused, and the first upload stays current.
    let other = write(&dir, "other.zip", &sample_site("two"))?;
    let out = baton(&h, &["push", "web", "1.0.0", &other, "--wait"]).await?;
    assert_eq!(code(&out), 1, "{}", said(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already published with other content"),
        "{}",
        said(&out)
    );

    // A corrupt zip: refused by Baton's checks, with Baton's reason.
    let corrupt = write(&dir, "site.zip", b"PK\x03\x04 this is not a zip archive")?;
    let out = baton(&h, &["push", "web", "1.0.1", &corrupt, "--wait", "--timeout", "60s"]).await?;
    assert_eq!(code(&out), 1, "{}", said(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: refused: "), "{}", said(&out));
    let verdict: serde_json::Value = reqwest::get(format!("{}/api/packages/web/1.0.1", h.stack.http_url))
        .await?
        .json()
        .await?;
    let reason = verdict["refused"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        !reason.is_empty() && stderr.contains(reason),
        "{verdict}\n{}",
        said(&out)
    );
    assert_eq!(h.dead_letters().await?, 0, "a package's own fault is not a dead letter");

    // The fixed build under the refused version: the key is taken (If-None-Match), and CI is
    // told why and what to do.
    let fixed = write(&dir, "site.zip", &sample_site("fixed"))?;
    let out = baton(&h, &["push", "web", "1.0.1", &fixed, "--wait"]).await?;
    assert_eq!(code(&out), 1, "{}", said(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already holds an upload of web 1.0.1"),
        "{}",
        said(&out)
    );
    assert!(stderr.contains("publish a new version"), "{}", said(&out));
    assert!(stderr.contains(reason), "{}", said(&out));

    // The notes arrive intact on the status API (as a signed-in viewer sees it: the public's
    // page hides build URLs), the approval mail and the approval page.
    let cookie = h.sign_in("release-manager@example.com").await?;
    let detail: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/releases/rel-1", h.stack.http_url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?
        .json()
        .await?;
    let notes: Vec<&str> = detail["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["notes"].as_str())
        .collect();
    assert!(notes.contains(&NOTES), "{detail}");
    let state_note = detail["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["component"] == "state")
        .cloned()
        .unwrap_or_default();
    assert_eq!(state_note["build_url"], "https://ci.example.com/42");
    assert_eq!(state_note["branch"], "main");
    let mails = h.wait_for_mails("Approve release 1 for TEST?", 1).await?;
    assert!(mails[0].text.contains(NOTES), "{}", mails[0].text);
    let approval = h.open(&mails[0].links[0]).await?;
    assert!(
        approval.body.contains("Admissions form, &quot;v2&quot; ready")
            || approval.body.contains("Admissions form, \"v2\" ready"),
        "{}",
        approval.body
    );
    assert!(
        approval.body.contains("formulaire d'admission é → ü")
            || approval.body.contains("formulaire d&#39;admission é → ü")
    );

    // The terminal reads tell the same story.
    let out = baton(&h, &["release", "1"]).await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Release 1: "), "{}", said(&out));
    assert!(stdout.contains("formulaire d'admission é → ü"), "{}", said(&out));
    let out = baton(&h, &["status"]).await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Live now") && stdout.contains("Release 1"),
        "{}",
        said(&out)
    );
    // The public page hides object keys; with a viewer's token (BATON_TOKEN) they are shown.
    assert!(
        !stdout.contains("packages/web/1.0.1/site.zip") && stdout.contains("(hidden)"),
        "{}",
        said(&out)
    );
    let token = h.api_token(&cookie, "terminal").await?;
    let out = baton_as(&h, Some(&token), &["status"]).await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("packages/web/1.0.1/site.zip"),
        "the refused upload is listed: {}",
        said(&out)
    );
    // A token that is not one of ours: refused, and baton says what to do.
    let forged = format!("baton_{}", "A".repeat(43));
    let out = baton_as(&h, Some(&forged), &["status"]).await?;
    assert_ne!(code(&out), 0, "{}", said(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("BATON_TOKEN"),
        "{}",
        said(&out)
    );
    let out = baton(&h, &["releases", "--json"]).await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(list["releases"][0]["number"], 1);
    let out = baton(&h, &["release", "99"]).await?;
    assert_eq!(code(&out), 1, "{}", said(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("There is no release rel-99"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_without_a_verdict_times_out_with_exit_three() -> Result<()> {
    // No SQS poller: the upload is never checked, so no verdict comes.
    let h = Harness::start_with(StackOptions {
        sqs_pollers: false,
        ..StackOptions::ephemeral()
    })
    .await?;
    let dir = scratch("timeout")?;
    let site = write(&dir, "site.zip", &sample_site("t"))?;
    let started = std::time::Instant::now();
    let out = baton(&h, &["push", "web", "2.0.0", &site, "--wait", "--timeout", "2s"]).await?;
    assert_eq!(code(&out), 3, "{}", said(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no verdict on web 2.0.0 within 2s"));
    assert!(started.elapsed() < Duration::from_secs(30));

    // Without --wait, the upload itself is the success.
    let out = baton(&h, &["push", "web", "2.0.1", &site]).await?;
    assert_eq!(code(&out), 0, "{}", said(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("uploaded s3://"));
    Ok(())
}

#[tokio::test]
async fn mistakes_on_the_command_line_exit_two_and_help_answers_everywhere() -> Result<()> {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(args)
            // A closed port: nothing here may reach a network.
            .env("BATON_API_URL", "http://127.0.0.1:9")
            .env("BATON_BUCKET", "b")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
    };
    for args in [
        vec!["--help"],
        vec!["-h"],
        vec!["push", "--help"],
        vec!["status", "--help"],
        vec!["releases", "-h"],
        vec!["release", "--help"],
        vec!["help", "push"],
    ] {
        let out = run(&args)?;
        assert_eq!(code(&out), 0, "{args:?}: {}", said(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage: baton"),
            "{args:?}"
        );
    }
    let out = run(&["--version"])?;
    assert_eq!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("baton "));
    for args in [
        vec!["push", "web", "1.0.0", "site.zip", "--bogus"],
        vec!["push", "web", "1.0.0"],
        vec!["push", "web", "1.0", "Cargo.toml"],
        vec!["push", "Web", "1.0.0", "Cargo.toml"],
        vec!["push", "web", "1.0.0", "/no/such/file.zip"],
        vec!["push", "web", "1.0.0", "Cargo.toml", "--timeout", "5s"],
        vec!["releases", "--limit", "0"],
        vec!["release", "twelve"],
        vec!["deploy"],
    ] {
        let out = run(&args)?;
        assert_eq!(code(&out), 2, "{args:?}: {}", said(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{stderr}"
        );
    }
    // Baton out of reach: exit 4, with what to check.
    let out = run(&["status"])?;
    assert_eq!(code(&out), 4, "{}", said(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach Baton"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploy_asks_for_the_same_confirmation_mail_as_the_release_page() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "looks good").await?;
    h.approval_links(1, "PROD").await?;

    // Without an address there is nobody to mail: a command-line mistake.
    let none = baton(
        &h,
        &["redeploy", "--release", "1", "--env", "TEST", "--reason", "cache"],
    )
    .await?;
    assert_eq!(code(&none), 2, "{}", said(&none));
    // Somewhere the release never went is refused with Baton's reason.
    let refused = baton(
        &h,
        &[
            "redeploy",
            "--release",
            "1",
            "--env",
            "PROD",
            "--reason",
            "x",
            "--email",
            "cab@example.com",
        ],
    )
    .await?;
    assert_eq!(code(&refused), 1, "{}", said(&refused));
    assert!(said(&refused).contains("never deployed to PROD"), "{}", said(&refused));

    let asked = baton(
        &h,
        &[
            "redeploy",
            "--release",
            "1",
            "--env",
            "TEST",
            "--reason",
            "cache poisoned",
            "--email",
            "release-manager@example.com",
        ],
    )
    .await?;
    assert_eq!(code(&asked), 0, "{}", said(&asked));
    let mails = h.wait_for_mails("Confirm: Deploy release 1 to TEST again?", 1).await?;
    assert_eq!(mails[0].to, ["release-manager@example.com"]);
    assert!(mails[0].text.contains("cache poisoned"), "{}", mails[0].text);
    Ok(())
}
