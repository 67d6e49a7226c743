//! anypoint-cli-v4 1.6.12, as a user runs it, judges the Anypoint simulator: each test runs real
//! commands through an HTTPS proxy to the simulator (TLS with a CA it generated, trusted through
//! `NODE_EXTRA_CA_CERTS`) and asserts on what the CLI printed and on the simulator's state.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use baton_fidelity::anypoint::{ANYPOINT_HOST, AnypointCli};
use baton_sim_anypoint::{DEFAULT_ORG_ID, DEFAULT_SANDBOX_ENV_ID, SimConfig};
use serde_json::Value;

/// Sandbox, where the application tests deploy (the CLI's default is the production one).
const ENV: [&str; 2] = ["--environment", "Sandbox"];
/// A CloudHub 2.0 shared space the simulator offers.
const TARGET: &str = "cloudhub-us-east-2";

fn with_env<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(ENV);
    all
}

/// The CLI's message without the line wrapping and `›` markers it adds to errors.
fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "›")
        .collect::<Vec<_>>()
        .join(" ")
}

/// The one deployment of that name in Sandbox, as the simulator holds it.
fn deployment(cli: &AnypointCli, name: &str) -> Result<Value> {
    cli.deployments("Sandbox")
        .into_iter()
        .find(|d| d["name"] == name)
        .with_context(|| format!("no deployment {name} in the simulator"))
}

#[tokio::test]
async fn logs_in_with_client_credentials_and_lists_environments() -> Result<()> {
    let cli = AnypointCli::start("anypoint-login", SimConfig::default()).await?;
    let envs = cli.json(&["account", "environment", "list"]).await?;
    let text = envs.to_string();
    ensure!(
        text.contains("Sandbox") && text.contains("Production"),
        "environments: {text}"
    );
    ensure!(text.contains(DEFAULT_SANDBOX_ENV_ID), "environment ids: {text}");
    let tunnels = cli.tunnels.lock().map(|t| t.clone()).unwrap_or_default();
    ensure!(
        !tunnels.is_empty() && tunnels.iter().all(|t| t == &format!("{ANYPOINT_HOST}:443")),
        "the CLI talked to its real host through the proxy: {tunnels:?}"
    );
    let requests = cli.sim.state().snapshot()["requests_by_path"].to_string();
    ensure!(
        requests.contains("/accounts/api/users/me"),
        "login read users/me: {requests}"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_credentials_fail_with_the_cli_authentication_message() -> Result<()> {
    let cli = AnypointCli::start("anypoint-badlogin", SimConfig::default()).await?;
    let ran = cli
        .run(&[
            "account",
            "environment",
            "list",
            "--client_id",
            "nobody",
            "--client_secret",
            "wrong",
        ])
        .await?;
    ensure!(!ran.success, "wrong credentials must fail: {ran:?}");
    ensure!(ran.all().contains("Authentication failed"), "{}", ran.all());
    Ok(())
}

#[tokio::test]
async fn an_unknown_organisation_is_refused_naming_the_ones_the_app_belongs_to() -> Result<()> {
    let cli = AnypointCli::start("anypoint-badorg", SimConfig::default()).await?;
    let ran = cli
        .run(&["account", "environment", "list", "--organization", "Elsewhere"])
        .await?;
    ensure!(!ran.success, "an unknown organisation must fail: {ran:?}");
    ensure!(
        ran.all().contains("Elsewhere not found") && ran.all().contains(DEFAULT_ORG_ID),
        "{}",
        ran.all()
    );
    Ok(())
}

#[tokio::test]
async fn deployment_targets_are_listed() -> Result<()> {
    let cli = AnypointCli::start("anypoint-rtf", SimConfig::default()).await?;
    let targets = cli.json(&with_env(&["runtime-mgr", "rtf", "list"])).await?;
    let items = targets.as_array().context("a JSON array of targets")?;
    ensure!(
        items
            .iter()
            .any(|t| t["id"] == TARGET && t["provider"] == "MC" && t["isAvailableForDeployments"] == true),
        "targets: {targets}"
    );
    let table = cli.ok(&with_env(&["runtime-mgr", "rtf", "list"])).await?;
    ensure!(table.stdout.contains("Cloudhub-US-East-2"), "{}", table.all());
    Ok(())
}

#[tokio::test]
async fn exchange_assets_are_described_and_listed() -> Result<()> {
    let cli = AnypointCli::start("anypoint-exchange", SimConfig::default()).await?;
    let described = cli
        .json(&[
            "exchange",
            "asset",
            "describe",
            &format!("{DEFAULT_ORG_ID}/patient-api/1.4.2"),
        ])
        .await?;
    ensure!(
        described["assetId"] == "patient-api" && described["version"] == "1.4.2" && described["type"] == "app",
        "{described}"
    );
    let table = cli
        .ok(&[
            "exchange",
            "asset",
            "describe",
            &format!("{DEFAULT_ORG_ID}/patient-api/1.4.2"),
        ])
        .await?;
    ensure!(table.stdout.contains("1.5.0, 1.4.2"), "asset versions: {}", table.all());

    let missing = cli
        .run(&[
            "exchange",
            "asset",
            "describe",
            &format!("{DEFAULT_ORG_ID}/patient-api/9.9.9"),
        ])
        .await?;
    ensure!(
        !missing.success && flat(&missing.all()).contains("9.9.9 not found"),
        "{}",
        missing.all()
    );

    let listed = cli.json(&["exchange", "asset", "list"]).await?;
    let items = listed.as_array().context("a JSON array of assets")?;
    let latest: Vec<(String, String)> = items
        .iter()
        .map(|a| {
            (
                a["assetId"].as_str().unwrap_or_default().into(),
                a["version"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    ensure!(
        latest.contains(&("patient-api".into(), "1.5.0".into()))
            && latest.contains(&("admissions-api".into(), "2.2.0".into())),
        "latest versions: {listed}"
    );
    let searched = cli.json(&["exchange", "asset", "list", "admissions"]).await?;
    ensure!(searched.as_array().is_some_and(|a| a.len() == 1), "search: {searched}");
    Ok(())
}

#[tokio::test]
async fn an_application_lives_its_life_through_the_cli() -> Result<()> {
    let config = SimConfig::default().with_apply_delay(Duration::ZERO);
    let cli = AnypointCli::start("anypoint-app", config).await?;

    // Deploy a named version.
    let deployed = cli
        .json(&with_env(&[
            "runtime-mgr",
            "application",
            "deploy",
            "patient-api",
            TARGET,
            "4.6.0",
            "patient-api",
            "--assetVersion",
            "1.4.2",
            "--property",
            "http.port:8081",
        ]))
        .await?;
    ensure!(
        deployed["target"]["deploymentSettings"]["runtimeVersion"] == "4.6.0:40e-java17",
        "{deployed}"
    );
    let stored = deployment(&cli, "patient-api")?;
    let id = stored["id"].as_str().context("deployment id")?.to_string();
    ensure!(stored["application"]["ref"]["version"] == "1.4.2", "{stored}");
    ensure!(
        stored["target"]["deploymentSettings"]["runtime"]["releaseChannel"] == "LTS",
        "{stored}"
    );
    ensure!(
        stored["target"]["deploymentSettings"]["runtime"]["java"] == "17",
        "{stored}"
    );
    let public_url = stored["target"]["deploymentSettings"]["http"]["inbound"]["publicUrl"].as_str();
    ensure!(
        public_url.is_some_and(|u| u.ends_with(".cloudhub.io")),
        "a generated public URL: {stored}"
    );

    // Deploy without a version: the CLI looks up the latest one in Exchange v1.
    let latest = cli
        .ok(&with_env(&[
            "runtime-mgr",
            "application",
            "deploy",
            "admissions-api",
            TARGET,
            "4.9.0",
            "admissions-api",
            "--publicEndpoints",
            "admissions.example.com",
        ]))
        .await?;
    ensure!(latest.stdout.contains("default version: v2.2.0"), "{}", latest.all());
    let admissions = deployment(&cli, "admissions-api")?;
    ensure!(admissions["application"]["ref"]["version"] == "2.2.0", "{admissions}");
    // Own endpoints without a cloudhub.io one: the CLI sends `generateDefaultPublicUrl: false`.
    ensure!(
        admissions["target"]["deploymentSettings"]["http"]["inbound"]["publicUrl"] == "admissions.example.com",
        "{admissions}"
    );

    // A name already used on the target is refused with the platform's message.
    let again = cli
        .run(&with_env(&[
            "runtime-mgr",
            "application",
            "deploy",
            "patient-api",
            TARGET,
            "4.6.0",
            "patient-api",
            "--assetVersion",
            "1.4.2",
        ]))
        .await?;
    ensure!(
        !again.success && again.all().contains("already used"),
        "{}",
        again.all()
    );

    let listed = cli.ok(&with_env(&["runtime-mgr", "application", "list"])).await?;
    ensure!(
        listed.stdout.contains("patient-api")
            && listed.stdout.contains("admissions-api")
            && listed.stdout.contains(&id),
        "{}",
        listed.all()
    );

    let described = cli
        .ok(&with_env(&["runtime-mgr", "application", "describe", &id]))
        .await?;
    ensure!(
        described.stdout.contains("4.6.0") && !described.stdout.contains("40e"),
        "runtime shown as its version: {}",
        described.all()
    );
    ensure!(described.stdout.contains("http.port : 8081"), "{}", described.all());

    // A change: two replicas and a newer version; a new spec version is rolled out.
    let before = deployment(&cli, "patient-api")?["desiredVersion"].clone();
    cli.ok(&with_env(&[
        "runtime-mgr",
        "application",
        "modify",
        &id,
        "--replicas",
        "2",
        "--assetVersion",
        "1.5.0",
        "--artifactId",
        "patient-api",
    ]))
    .await?;
    let after = deployment(&cli, "patient-api")?;
    ensure!(
        after["target"]["replicas"] == 2 && after["application"]["ref"]["version"] == "1.5.0",
        "{after}"
    );
    ensure!(
        after["desiredVersion"] != before,
        "a change makes a new spec version: {after}"
    );

    // Asking for what is already there changes nothing: the platform answers 304.
    let unchanged = cli
        .run(&with_env(&[
            "runtime-mgr",
            "application",
            "modify",
            &id,
            "--replicas",
            "2",
        ]))
        .await?;
    ensure!(
        !unchanged.success && unchanged.all().contains("304"),
        "{}",
        unchanged.all()
    );
    ensure!(deployment(&cli, "patient-api")?["desiredVersion"] == after["desiredVersion"]);

    let stopped = cli.ok(&with_env(&["runtime-mgr", "application", "stop", &id])).await?;
    ensure!(stopped.stdout.contains("OK, STOPPED"), "{}", stopped.all());
    ensure!(deployment(&cli, "patient-api")?["application"]["desiredState"] == "STOPPED");
    let stopped_again = cli.run(&with_env(&["runtime-mgr", "application", "stop", &id])).await?;
    ensure!(
        stopped_again.all().contains("Application already in this state"),
        "{}",
        stopped_again.all()
    );

    let started = cli.ok(&with_env(&["runtime-mgr", "application", "start", &id])).await?;
    ensure!(started.stdout.contains("OK, STARTED"), "{}", started.all());
    ensure!(deployment(&cli, "patient-api")?["application"]["status"] == "RUNNING");

    let deleted = cli
        .ok(&with_env(&["runtime-mgr", "application", "delete", &id]))
        .await?;
    ensure!(deleted.stdout.contains("deleted"), "{}", deleted.all());
    ensure!(deployment(&cli, "patient-api").is_err(), "deleted from the simulator");
    let gone = cli
        .run(&with_env(&["runtime-mgr", "application", "describe", &id]))
        .await?;
    ensure!(
        !gone.success && flat(&gone.all()).contains("not found"),
        "{}",
        gone.all()
    );
    Ok(())
}
