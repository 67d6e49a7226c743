//! Deploys against the simulator: preview and production, serving, caching of assets, rollback, zips.

mod common;

use std::io::Write;

use baton_cloudflare::{DeployOptions, Environment, SiteFiles, StageStatus};
use common::*;

#[tokio::test]
async fn deploys_preview_and_production_and_serves_them() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);

    let options = DeployOptions::new(PROJECT)
        .branch("feature/login")
        .commit("0123abcd", "Add login", false);
    let preview = client.deploy(&options, site("v1")).await.expect("preview deploy");
    assert_eq!(preview.environment, Environment::Preview);
    assert_eq!(
        (preview.stage.name.as_str(), preview.stage.status),
        ("deploy", StageStatus::Success)
    );
    assert_eq!((preview.uploaded_files, preview.total_files), (4, 4));
    let short_id = &preview.id[..8];
    let port = sim.port();
    assert_eq!(preview.url, format!("http://{short_id}.{PROJECT}.localhost:{port}"));
    assert_eq!(
        preview.aliases,
        vec![format!("http://feature-login.{PROJECT}.localhost:{port}")]
    );

    // The deployment URL serves index.html for `/`, with the site's _headers and the content type sent.
    let page = fetch_site(&sim, &format!("{short_id}.{PROJECT}"), "/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html");
    assert_eq!(page.headers()["x-baton-site"], "demo");
    assert!(page.text().await.unwrap().contains("Baton demo v1"));
    let asset = fetch_site(&sim, &format!("{short_id}.{PROJECT}"), "/assets/app.js").await;
    assert_eq!(asset.headers()["content-type"], "application/javascript");
    assert_eq!(asset.headers()["cache-control"], "public, max-age=31536000, immutable");
    // _redirects, the extensionless route to about.html, and a 404.
    let moved = fetch_site(&sim, &format!("{short_id}.{PROJECT}"), "/old").await;
    assert_eq!(
        (moved.status().as_u16(), &moved.headers()["location"]),
        (301, &"/about".parse().unwrap())
    );
    assert_eq!(
        fetch_site(&sim, &format!("{short_id}.{PROJECT}"), "/about")
            .await
            .status(),
        200
    );
    assert_eq!(
        fetch_site(&sim, &format!("{short_id}.{PROJECT}"), "/missing")
            .await
            .status(),
        404
    );
    // The branch alias, through the path-based fallback.
    let by_alias = fetch_site_by_path(&sim, &format!("feature-login.{PROJECT}"), "/").await;
    assert_eq!(by_alias.status(), 200);
    assert_eq!(by_alias.headers()["x-baton-site"], "demo");
    // Nothing is in production yet.
    assert_eq!(fetch_site(&sim, PROJECT, "/").await.status(), 404);

    let production = client
        .deploy(&DeployOptions::new(PROJECT).branch("main"), site("v1"))
        .await
        .expect("production");
    assert_eq!(production.environment, Environment::Production);
    assert!(production.aliases.is_empty());
    let live = fetch_site(&sim, PROJECT, "/").await;
    assert_eq!(live.status(), 200);
    assert!(live.text().await.unwrap().contains("Baton demo v1"));

    let project = client.get_project(PROJECT).await.expect("project");
    let canonical = project.canonical_deployment.expect("a production deployment");
    assert_eq!(canonical.id, production.id);
    let previews = client
        .list_deployments(PROJECT, Some(Environment::Preview), 1, 10)
        .await
        .expect("list");
    assert_eq!(previews.deployments.len(), 1);
    assert_eq!(previews.deployments[0].id, preview.id);
    let metadata = previews.deployments[0]
        .deployment_trigger
        .clone()
        .and_then(|t| t.metadata)
        .unwrap_or_default();
    assert_eq!(metadata.commit_message.as_deref(), Some("Add login"));
    assert_eq!(metadata.commit_dirty, Some(false));
}

#[tokio::test]
async fn an_unchanged_site_uploads_nothing_the_second_time() {
    let sim = start_sim(|config| config.step_delay = std::time::Duration::ZERO).await;
    let client = client(&sim);
    let options = DeployOptions::new(PROJECT);

    let first = client.deploy(&options, site("v1")).await.expect("first deploy");
    assert_eq!(first.uploaded_files, 4);
    assert!(first.uploaded_bytes > 0);
    let uploads_after_first = endpoint_count(&sim, "upload").await;
    assert_eq!(
        uploads_after_first, 3,
        "4 small assets spread over wrangler's 3 initial buckets"
    );

    let before = client.requests_made();
    let second = client.deploy(&options, site("v1")).await.expect("second deploy");
    assert_eq!((second.uploaded_files, second.uploaded_bytes), (0, 0));
    assert_ne!(second.id, first.id);
    assert_eq!(
        endpoint_count(&sim, "upload").await,
        uploads_after_first,
        "no upload request at all"
    );
    // project, upload token, check-missing, upsert-hashes, create deployment (already finished: no poll).
    assert_eq!(client.requests_made() - before, 5);

    let changed = client.deploy(&options, site("v2")).await.expect("changed deploy");
    assert_eq!(changed.uploaded_files, 1, "only index.html changed");
}

#[tokio::test]
async fn rollback_restores_a_previous_production_deployment() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);
    let options = DeployOptions::new(PROJECT).branch("main");
    let v1 = client.deploy(&options, site("v1")).await.expect("v1");
    let v2 = client.deploy(&options, site("v2")).await.expect("v2");
    assert!(
        fetch_site(&sim, PROJECT, "/")
            .await
            .text()
            .await
            .unwrap()
            .contains("v2")
    );

    let rolled_back = client.rollback(PROJECT, &v1.id).await.expect("rollback");
    assert_eq!(rolled_back.id, v1.id);
    assert!(
        fetch_site(&sim, PROJECT, "/")
            .await
            .text()
            .await
            .unwrap()
            .contains("v1")
    );
    let project = client.get_project(PROJECT).await.expect("project");
    assert_eq!(project.canonical_deployment.map(|d| d.id), Some(v1.id.clone()));
    // v2 keeps its own URL, and production can roll forward again.
    let v2_page = fetch_site(&sim, &format!("{}.{PROJECT}", &v2.id[..8]), "/").await;
    assert!(v2_page.text().await.unwrap().contains("v2"));
    client.rollback(PROJECT, &v2.id).await.expect("roll forward");
    assert!(
        fetch_site(&sim, PROJECT, "/")
            .await
            .text()
            .await
            .unwrap()
            .contains("v2")
    );

    // A preview is not a rollback target.
    let preview = client
        .deploy(&DeployOptions::new(PROJECT).branch("topic"), site("v3"))
        .await
        .expect("preview");
    let refused = client
        .rollback(PROJECT, &preview.id)
        .await
        .expect_err("preview target refused");
    assert_eq!(refused.status(), Some(400));
    assert!(!refused.is_transient());

    let listed = client
        .list_deployments(PROJECT, Some(Environment::Production), 1, 10)
        .await
        .expect("list");
    let ids: Vec<&str> = listed.deployments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [v2.id.as_str(), v1.id.as_str()], "newest first");
    assert_eq!(listed.result_info.and_then(|info| info.total_count), Some(2));
}

#[tokio::test]
async fn deploys_a_site_from_a_zip() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in [
        ("index.html", "<h1>zipped</h1>"),
        ("css/site.css", "body{}"),
        ("_headers", ""),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.add_directory("empty/", options).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let site = SiteFiles::from_zip(&bytes).expect("zip reads");
    assert_eq!(site.len(), 3);

    let sim = start_sim(|_| {}).await;
    let result = client(&sim)
        .deploy(&DeployOptions::new(PROJECT), site)
        .await
        .expect("deploy");
    assert_eq!(result.total_files, 2, "an empty _headers is neither an asset nor sent");
    let css = fetch_site_by_path(&sim, PROJECT, "/css/site.css").await;
    assert_eq!(css.headers()["content-type"], "text/css");
}
