//! `wrangler pages secret put/list/delete` and `pages download config`.

use anyhow::{Context, Result, ensure};
use baton_fidelity::pages::PagesBench;
use reqwest::Method;
use serde_json::json;

use crate::{deployment_rows, ok, says};

#[tokio::test]
async fn secrets_are_put_listed_and_deleted_and_never_shown() -> Result<()> {
    const SECRET: &str = "s3cr3t-from-stdin-4f9a";
    let bench = PagesBench::start("wrangler-secrets").await?;
    let put = ok(
        bench
            .wrangler_in(
                &bench.dir,
                &["pages", "secret", "put", "API_KEY", "--project-name", "baton-demo"],
                Some(&format!("{SECRET}\n")),
            )
            .await?,
        "pages secret put API_KEY",
    )?;
    says(&put, "Success! Uploaded secret API_KEY", "secret put")?;
    ok(
        bench
            .wrangler_in(
                &bench.dir,
                &["pages", "secret", "put", "DB_PASSWORD", "--project-name", "baton-demo"],
                Some("another-secret-77"),
            )
            .await?,
        "pages secret put DB_PASSWORD",
    )?;
    // A plain variable, set through the API (wrangler has no command for Pages variables).
    let patched = bench
        .api(
            Method::PATCH,
            "/pages/projects/baton-demo",
            Some(json!({ "deployment_configs": { "production": { "env_vars": {
                "PUBLIC_URL": { "type": "plain_text", "value": "https://example.test" } } } } })),
        )
        .await?;
    ensure!(patched["success"] == true, "{patched}");

    let listed = ok(
        bench
            .wrangler(&["pages", "secret", "list", "--project-name", "baton-demo"])
            .await?,
        "pages secret list",
    )?;
    says(&listed, "API_KEY: Value Encrypted", "secret list")?;
    says(
        &listed,
        "DB_PASSWORD: Value Encrypted",
        "secret list (a second put keeps the first)",
    )?;
    ensure!(
        !listed.all().contains("PUBLIC_URL"),
        "a plain variable listed as a secret"
    );

    // Hostile: the value never comes back, whoever asks.
    let site = bench.write_site("site", &[("index.html", "<p>hi</p>")])?;
    let site_arg = site.to_string_lossy().into_owned();
    ok(
        bench
            .wrangler(&[
                "pages",
                "deploy",
                &site_arg,
                "--project-name",
                "baton-demo",
                "--branch",
                "main",
            ])
            .await?,
        "pages deploy",
    )?;
    let rows = deployment_rows(&bench, "baton-demo").await?;
    let id = rows.first().and_then(|r| r["Id"].as_str()).context("no deployment")?;
    let answers = [
        bench.api(Method::GET, "/pages/projects/baton-demo", None).await?,
        bench.api(Method::GET, "/pages/projects", None).await?,
        bench
            .api(Method::GET, "/pages/projects/baton-demo/deployments", None)
            .await?,
        bench
            .api(
                Method::GET,
                &format!("/pages/projects/baton-demo/deployments/{id}"),
                None,
            )
            .await?,
        bench.sim.state().snapshot(),
    ];
    for answer in &answers {
        let text = answer.to_string();
        ensure!(
            !text.contains(SECRET) && !text.contains("another-secret-77"),
            "a secret leaks: {text}"
        );
    }
    let deployment = &answers[3]["result"];
    ensure!(
        deployment["env_vars"]["API_KEY"] == json!({ "type": "secret_text" }),
        "the deployment's configuration shows the secret by type: {deployment}"
    );

    // download config: plain variables become [vars]; secrets stay out.
    let download_dir = bench.dir.join("download");
    std::fs::create_dir_all(&download_dir)?;
    let downloaded = ok(
        bench
            .wrangler_in(&download_dir, &["pages", "download", "config", "baton-demo"], None)
            .await?,
        "pages download config",
    )?;
    says(&downloaded, "downloaded to wrangler.toml", "download config")?;
    let toml = std::fs::read_to_string(download_dir.join("wrangler.toml"))?;
    for line in [
        "name = \"baton-demo\"",
        "compatibility_date = \"2026-08-01\"",
        "[env.production.vars]",
        "PUBLIC_URL = \"https://example.test\"",
    ] {
        ensure!(toml.contains(line), "wrangler.toml lacks {line:?}:\n{toml}");
    }
    ensure!(
        !toml.contains("API_KEY") && !toml.contains(SECRET),
        "a secret in wrangler.toml:\n{toml}"
    );

    let deleted = ok(
        bench
            .wrangler(&["pages", "secret", "delete", "API_KEY", "--project-name", "baton-demo"])
            .await?,
        "pages secret delete",
    )?;
    says(&deleted, "Success! Deleted secret API_KEY", "secret delete")?;
    let listed = ok(
        bench
            .wrangler(&["pages", "secret", "list", "--project-name", "baton-demo"])
            .await?,
        "pages secret list",
    )?;
    ensure!(
        !listed.all().contains("API_KEY"),
        "deleted secret still listed:\n{}",
        listed.all()
    );
    says(&listed, "DB_PASSWORD", "the other secret stays")?;
    let project = bench.api(Method::GET, "/pages/projects/baton-demo", None).await?;
    let vars = &project["result"]["deployment_configs"]["production"]["env_vars"];
    ensure!(
        vars.get("API_KEY").is_none() && vars.get("DB_PASSWORD").is_some(),
        "{vars}"
    );
    Ok(())
}
