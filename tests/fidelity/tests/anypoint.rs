//! anypoint-cli-v4 1.6.12, as a user runs it, judges the Anypoint simulator: each test runs real
//! commands through an HTTPS proxy to the simulator (TLS with a CA it generated, trusted through
//! `NODE_EXTRA_CA_CERTS`) and asserts on what the CLI printed and on the simulator's state.

use anyhow::{Result, ensure};
use baton_fidelity::anypoint::{ANYPOINT_HOST, AnypointCli};
use baton_sim_anypoint::{DEFAULT_ORG_ID, DEFAULT_SANDBOX_ENV_ID, SimConfig};

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
    let _ = DEFAULT_ORG_ID;
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
    ensure!(
        ran.all().contains("401") || ran.all().contains("Authentication failed"),
        "{}",
        ran.all()
    );
    Ok(())
}
