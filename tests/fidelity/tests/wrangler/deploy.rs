//! `wrangler pages deploy` (rules, caching, preview aliases), `pages deployment list/delete/tail`.

use anyhow::{Context, Result, ensure};
use baton_fidelity::pages::PagesBench;

use crate::{deployment_rows, ok, says, sim_project, uploads};

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
