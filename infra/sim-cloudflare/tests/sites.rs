//! Deployed sites served by Host and by path: routing, `_headers`, `_redirects`, 404 pages.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// Uploads `files` (path, content, content type, key) and deploys them with `_headers` / `_redirects`.
async fn deploy_site(sim: &baton_sim_cloudflare::RunningSim, headers: &str, redirects: &str) -> Value {
    let files = [
        (
            "/index.html",
            "<h1>home</h1>",
            "text/html",
            "11111111111111111111111111111111",
        ),
        (
            "/docs/index.html",
            "<h1>docs</h1>",
            "text/html",
            "22222222222222222222222222222222",
        ),
        (
            "/about.html",
            "<h1>about</h1>",
            "text/html",
            "33333333333333333333333333333333",
        ),
        (
            "/docs/404.html",
            "<h1>no such doc</h1>",
            "text/html",
            "44444444444444444444444444444444",
        ),
        (
            "/app.js",
            "console.log(1)",
            "application/javascript",
            "55555555555555555555555555555555",
        ),
    ];
    let jwt = upload_jwt(sim).await;
    let body: Vec<Value> = files
        .iter()
        .map(|(_, content, content_type, key)| {
            json!({ "key": key, "value": STANDARD.encode(content), "metadata": { "contentType": content_type }, "base64": true })
        })
        .collect();
    let (status, _) = send(
        http()
            .post(format!("{}/pages/assets/upload", sim.url()))
            .bearer_auth(jwt)
            .json(&body),
    )
    .await;
    assert_eq!(status, 200);
    let manifest: serde_json::Map<String, Value> = files
        .iter()
        .map(|(path, _, _, key)| (path.to_string(), json!(key)))
        .collect();
    let form = Form::new()
        .text("manifest", Value::Object(manifest).to_string())
        .part(
            "_headers",
            Part::bytes(headers.as_bytes().to_vec()).file_name("_headers"),
        )
        .part(
            "_redirects",
            Part::bytes(redirects.as_bytes().to_vec()).file_name("_redirects"),
        );
    let url = format!("{}/deployments", project_url(sim, PROJECT));
    let (status, body) = send(http().post(url).bearer_auth(token(sim)).multipart(form)).await;
    assert_eq!(status, 200, "{body}");
    body["result"].clone()
}

#[tokio::test]
async fn sites_follow_pages_routing_headers_and_redirects() {
    let sim = start(|_| {}).await;
    let headers = "/*\n  X-Frame-Options: DENY\n/app.js\n  Cache-Control: max-age=60\n  ! X-Frame-Options\n";
    let redirects = "/old /about 301\n/blog/:slug /docs/:slug 302\n/spa/* /index.html 200\n";
    let deployment = deploy_site(&sim, headers, redirects).await;
    let labels = format!("{}.{PROJECT}", &deployment["short_id"].as_str().unwrap());

    let home = site_get(&sim, PROJECT, "/").await;
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["x-frame-options"], "DENY");
    assert_eq!(home.headers()["access-control-allow-origin"], "*");
    let etag = home.headers()["etag"].clone();
    assert_eq!(home.text().await.unwrap(), "<h1>home</h1>");

    let script = site_get(&sim, &labels, "/app.js").await;
    assert_eq!(script.headers()["cache-control"], "max-age=60");
    assert!(script.headers().get("x-frame-options").is_none(), "detached");
    assert_eq!(
        site_get(&sim, &labels, "/about").await.text().await.unwrap(),
        "<h1>about</h1>"
    );
    let docs = site_get(&sim, &labels, "/docs").await;
    assert_eq!(
        (docs.status().as_u16(), docs.headers()["location"].to_str().unwrap()),
        (308, "/docs/")
    );
    assert_eq!(
        site_get(&sim, &labels, "/docs/").await.text().await.unwrap(),
        "<h1>docs</h1>"
    );
    let moved = site_get(&sim, &labels, "/blog/intro").await;
    assert_eq!(
        (moved.status().as_u16(), moved.headers()["location"].to_str().unwrap()),
        (302, "/docs/intro")
    );
    let spa = site_get(&sim, &labels, "/spa/some/route").await;
    assert_eq!(
        (spa.status().as_u16(), spa.text().await.unwrap()),
        (200, "<h1>home</h1>".to_string())
    );
    let missing_doc = site_get(&sim, &labels, "/docs/missing").await;
    assert_eq!(
        (missing_doc.status().as_u16(), missing_doc.text().await.unwrap()),
        (404, "<h1>no such doc</h1>".to_string())
    );
    assert_eq!(site_get(&sim, &labels, "/nothing").await.status(), 404);

    let cached = http()
        .get(format!("{}/", sim.base_url()))
        .header("host", format!("{PROJECT}.localhost:{}", sim.port()))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let head = http()
        .head(format!("{}/", sim.base_url()))
        .header("host", format!("{labels}.localhost"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (head.status().as_u16(), head.headers()["content-type"].to_str().unwrap()),
        (200, "text/html")
    );

    // The path-based way in keeps redirects under its prefix.
    let by_path = http()
        .get(format!("{}/__sites/{labels}/old", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_path.headers()["location"].to_str().unwrap(),
        format!("/__sites/{labels}/about")
    );
    let bare = http()
        .get(format!("{}/__sites/{PROJECT}", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 308);
    let index = http()
        .get(format!(
            "{}/__sites/{PROJECT}.localhost:{}/",
            sim.base_url(),
            sim.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(index.text().await.unwrap(), "<h1>home</h1>");
}

#[tokio::test]
async fn unknown_sites_and_unfinished_deployments_are_not_served() {
    let sim = start(|config| config.step_delay = std::time::Duration::from_secs(60)).await;
    assert_eq!(site_get(&sim, "nope", "/").await.status(), 404);
    assert_eq!(site_get(&sim, PROJECT, "/").await.status(), 404, "nothing deployed yet");
    let deployment = deploy_two_files(&sim, None).await;
    let labels = format!("{}.{PROJECT}", deployment["short_id"].as_str().unwrap());
    let queued = site_get(&sim, &labels, "/").await;
    assert_eq!(queued.status(), 404);
    assert!(queued.text().await.unwrap().contains("not live"));
    // The API itself is not a site: `localhost` without a project label.
    let index = http().get(format!("{}/", sim.base_url())).send().await.unwrap();
    assert!(index.text().await.unwrap().contains("Cloudflare Pages simulator"));
}
