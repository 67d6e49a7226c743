//! wrangler 4.86.0, Cloudflare's own CLI, judges the Pages simulator: each command is run as a
//! user would, and its outcome is checked in what wrangler prints AND in the simulator (its state,
//! its API or the deployed site it serves).

use anyhow::{Context, Result, ensure};
use baton_fidelity::Ran;
use baton_fidelity::pages::PagesBench;
use reqwest::Method;
use serde_json::{Value, json};

fn ok(ran: Ran, what: &str) -> Result<Ran> {
    ensure!(ran.success, "{what} failed:\n{}", ran.all());
    Ok(ran)
}

fn says(ran: &Ran, text: &str, what: &str) -> Result<()> {
    ensure!(ran.all().contains(text), "{what}: expected {text:?} in:\n{}", ran.all());
    Ok(())
}

/// The simulator's view of one project (from `/__admin/state`).
fn sim_project(bench: &PagesBench, name: &str) -> Option<Value> {
    let state = bench.sim.state().snapshot();
    state["projects"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
}

fn uploads(bench: &PagesBench) -> u64 {
    bench.sim.state().snapshot()["requests_by_endpoint"]["upload"]
        .as_u64()
        .unwrap_or(0)
}

/// `wrangler pages deployment list --json`: the rows wrangler shows.
async fn deployment_rows(bench: &PagesBench, project: &str) -> Result<Vec<Value>> {
    let ran = ok(
        bench
            .wrangler(&["pages", "deployment", "list", "--project-name", project, "--json"])
            .await?,
        "pages deployment list --json",
    )?;
    let start = ran
        .stdout
        .find('[')
        .context("no JSON array in deployment list output")?;
    let rows: Vec<Value> = serde_json::from_str(&ran.stdout[start..])
        .with_context(|| format!("deployment list --json output:\n{}", ran.stdout))?;
    Ok(rows)
}

#[tokio::test]
async fn project_create_list_and_delete() -> Result<()> {
    let bench = PagesBench::start("wrangler-projects").await?;
    let created = ok(
        bench
            .wrangler(&[
                "pages",
                "project",
                "create",
                "fid-projects",
                "--production-branch",
                "trunk",
            ])
            .await?,
        "pages project create",
    )?;
    says(&created, "Successfully created the 'fid-projects' project", "create")?;
    let project = sim_project(&bench, "fid-projects").context("the simulator has no fid-projects")?;
    ensure!(project["production_branch"] == "trunk", "{project}");

    let again = bench
        .wrangler(&[
            "pages",
            "project",
            "create",
            "fid-projects",
            "--production-branch",
            "trunk",
        ])
        .await?;
    ensure!(
        !again.success,
        "a second create of the same name succeeded:\n{}",
        again.all()
    );
    says(&again, "already exists", "second create")?;

    let listed = ok(
        bench.wrangler(&["pages", "project", "list"]).await?,
        "pages project list",
    )?;
    says(&listed, "fid-projects", "list")?;
    says(&listed, "baton-demo", "list (the seeded project)")?;

    let deleted = ok(
        bench
            .wrangler(&["pages", "project", "delete", "fid-projects", "--yes"])
            .await?,
        "pages project delete",
    )?;
    says(&deleted, "Successfully deleted fid-projects", "delete")?;
    ensure!(
        sim_project(&bench, "fid-projects").is_none(),
        "the project is still in the simulator"
    );
    let listed = ok(
        bench.wrangler(&["pages", "project", "list"]).await?,
        "pages project list",
    )?;
    ensure!(
        !listed.all().contains("fid-projects"),
        "still listed:\n{}",
        listed.all()
    );

    let unknown = bench
        .wrangler(&["pages", "project", "delete", "fid-projects", "--yes"])
        .await?;
    ensure!(
        !unknown.success,
        "deleting a missing project succeeded:\n{}",
        unknown.all()
    );
    says(&unknown, "Project not found", "delete of a missing project")?;
    Ok(())
}

#[tokio::test]
async fn deploy_serves_headers_redirects_and_404_and_a_second_deploy_uploads_nothing() -> Result<()> {
    let bench = PagesBench::start("wrangler-deploy").await?;
    ok(
        bench
            .wrangler(&["pages", "project", "create", "fid-site", "--production-branch", "main"])
            .await?,
        "pages project create",
    )?;
    let site = bench.write_site(
        "site",
        &[
            ("index.html", "<h1>home v1</h1>"),
            ("docs/index.html", "<h1>docs</h1>"),
            ("404.html", "<h1>nothing here</h1>"),
            ("_headers", "/*\n  X-Fidelity: judged\n/docs/*\n  X-Docs: yes\n"),
            ("_redirects", "/old /docs/ 301\n/rewritten /docs/ 200\n"),
        ],
    )?;
    let site_arg = site.to_string_lossy().into_owned();
    let deploy = [
        "pages",
        "deploy",
        site_arg.as_str(),
        "--project-name",
        "fid-site",
        "--branch",
        "main",
    ];
    let first = ok(bench.wrangler(&deploy).await?, "pages deploy")?;
    says(&first, "Uploaded 3 files", "first deploy")?;
    says(&first, "Uploading _headers", "first deploy")?;
    says(&first, "Uploading _redirects", "first deploy")?;
    says(&first, "Deployment complete!", "first deploy")?;
    let uploads_after_first = uploads(&bench);
    ensure!(uploads_after_first >= 1, "no upload request reached the simulator");
    let project = sim_project(&bench, "fid-site").context("no fid-site")?;
    ensure!(
        project["assets"] == 3,
        "_headers and _redirects are not assets: {project}"
    );
    ensure!(
        !project["canonical_deployment_id"].is_null(),
        "production not live: {project}"
    );

    let home = bench.site("fid-site", "/").await?;
    ensure!(home.status == 200 && home.body.contains("home v1"), "{home:?}");
    ensure!(home.header("x-fidelity") == "judged", "_headers not applied: {home:?}");
    let docs = bench.site("fid-site", "/docs/").await?;
    ensure!(docs.body.contains("docs") && docs.header("x-docs") == "yes", "{docs:?}");
    let old = bench.site("fid-site", "/old").await?;
    ensure!(
        old.status == 301 && old.header("location") == "/docs/",
        "_redirects 301: {old:?}"
    );
    let rewritten = bench.site("fid-site", "/rewritten").await?;
    ensure!(
        rewritten.status == 200 && rewritten.body.contains("docs"),
        "_redirects 200 rewrite: {rewritten:?}"
    );
    let missing = bench.site("fid-site", "/no/such/page").await?;
    ensure!(
        missing.status == 404 && missing.body.contains("nothing here"),
        "404.html: {missing:?}"
    );

    let second = ok(bench.wrangler(&deploy).await?, "second pages deploy")?;
    says(&second, "Uploaded 0 files (3 already uploaded)", "second deploy")?;
    ensure!(
        uploads(&bench) == uploads_after_first,
        "the second deploy sent upload requests"
    );

    // A preview branch: only the changed file is uploaded, and the branch alias serves it.
    let preview_site = bench.write_site(
        "preview",
        &[
            ("index.html", "<h1>preview of login</h1>"),
            ("docs/index.html", "<h1>docs</h1>"),
            ("404.html", "<h1>nothing here</h1>"),
        ],
    )?;
    let preview_arg = preview_site.to_string_lossy().into_owned();
    let preview = ok(
        bench
            .wrangler(&[
                "pages",
                "deploy",
                &preview_arg,
                "--project-name",
                "fid-site",
                "--branch",
                "feature/login",
            ])
            .await?,
        "pages deploy --branch feature/login",
    )?;
    says(&preview, "Uploaded 1 files (2 already uploaded)", "preview deploy")?;
    let alias = bench.site("feature-login.fid-site", "/").await?;
    ensure!(
        alias.status == 200 && alias.body.contains("preview of login"),
        "branch alias: {alias:?}"
    );
    let production = bench.site("fid-site", "/").await?;
    ensure!(
        production.body.contains("home v1"),
        "a preview replaced production: {production:?}"
    );

    // deployment list, then delete.
    let rows = deployment_rows(&bench, "fid-site").await?;
    ensure!(rows.len() == 3, "three deployments expected: {rows:?}");
    ensure!(
        rows[0]["Environment"] == "Preview" && rows[0]["Branch"] == "feature/login",
        "newest first: {rows:?}"
    );
    let preview_url = rows[0]["Deployment"].as_str().unwrap_or_default();
    says(&preview, preview_url, "preview deploy prints the deployment URL")?;
    let oldest = rows[2]["Id"].as_str().unwrap_or_default().to_string();
    let live = rows[1]["Id"].as_str().unwrap_or_default().to_string();

    let unconfirmed = ok(
        bench
            .wrangler(&["pages", "deployment", "delete", &oldest, "--project-name", "fid-site"])
            .await?,
        "pages deployment delete without --force",
    )?;
    ensure!(
        !unconfirmed.all().contains("Successfully deleted"),
        "{}",
        unconfirmed.all()
    );
    ensure!(
        deployment_rows(&bench, "fid-site").await?.len() == 3,
        "deleted without confirmation"
    );

    let deleted = ok(
        bench
            .wrangler(&[
                "pages",
                "deployment",
                "delete",
                &oldest,
                "--project-name",
                "fid-site",
                "--force",
            ])
            .await?,
        "pages deployment delete --force",
    )?;
    says(&deleted, &format!("Successfully deleted deployment {oldest}"), "delete")?;
    let rows = deployment_rows(&bench, "fid-site").await?;
    ensure!(
        rows.len() == 2 && rows.iter().all(|r| r["Id"] != oldest.as_str()),
        "{rows:?}"
    );

    let refused = bench
        .wrangler(&[
            "pages",
            "deployment",
            "delete",
            &live,
            "--project-name",
            "fid-site",
            "--force",
        ])
        .await?;
    ensure!(
        !refused.success,
        "the live production deployment was deleted:\n{}",
        refused.all()
    );
    says(
        &refused,
        "active production deployment cannot be deleted",
        "delete of production",
    )?;
    ensure!(
        bench.site("fid-site", "/").await?.body.contains("home v1"),
        "production went away"
    );
    Ok(())
}

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

#[tokio::test]
async fn tailing_a_static_deployment_says_there_is_no_function() -> Result<()> {
    let bench = PagesBench::start("wrangler-tail").await?;
    let site = bench.write_site("site", &[("index.html", "<p>static</p>")])?;
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
    let tail = bench
        .wrangler(&["pages", "deployment", "tail", id, "--project-name", "baton-demo"])
        .await?;
    ensure!(!tail.success, "tail of a static site succeeded:\n{}", tail.all());
    says(&tail, "cannot tail a static site", "tail")?;
    says(&tail, "8000098", "tail")?;
    ensure!(
        !tail.all().contains("No route for that URI"),
        "a 404 surprise:\n{}",
        tail.all()
    );
    Ok(())
}
