//! The API surface over HTTP: envelope, auth, projects, assets and JWTs, deployments, admin.

mod common;

use std::time::Duration;

use baton_sim_cloudflare::{RateLimit, codes};
use common::*;
use serde_json::json;

#[tokio::test]
async fn errors_use_the_envelope_and_cloudflares_codes() {
    let sim = start(|_| {}).await;
    let url = project_url(&sim, PROJECT);
    let (status, body) = send(http().get(&url)).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (401, Some(codes::AUTHENTICATION_ERROR))
    );
    assert_eq!(
        (
            body["success"].clone(),
            body["result"].clone(),
            body["messages"].clone()
        ),
        (json!(false), json!(null), json!([]))
    );
    let (status, body) = send(http().get(&url).header("authorization", "Basic abc")).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (400, Some(codes::INVALID_HEADERS))
    );
    assert_eq!(
        body["errors"][0]["error_chain"][0]["code"],
        codes::INVALID_AUTHORIZATION_FORMAT
    );
    let other_account = format!("{}/accounts/{}/pages/projects/{PROJECT}", sim.url(), "f".repeat(32));
    assert_eq!(api_get(&sim, &other_account).await.0, 403);
    let (status, body) = api_get(&sim, &format!("{}/accounts/nope/pages/projects/{PROJECT}", sim.url())).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (404, Some(codes::COULD_NOT_ROUTE))
    );
    let (status, body) = api_get(&sim, &format!("{}/no/such/route", sim.url())).await;
    assert_eq!(
        (status, body["errors"][1]["code"].as_i64()),
        (404, Some(codes::NO_ROUTE))
    );
    let (status, body) = api_get(&sim, &project_url(&sim, "missing")).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (404, Some(codes::PROJECT_NOT_FOUND))
    );
}

#[tokio::test]
async fn projects_are_created_listed_and_read() {
    let sim = start(|_| {}).await;
    let create = |body| {
        http()
            .post(format!("{}/pages/projects", account_path(&sim)))
            .bearer_auth(token(&sim))
            .json(&body)
    };
    let (status, body) = send(create(json!({ "name": "docs", "production_branch": "production" }))).await;
    assert_eq!(status, 200, "{body}");
    let project = &body["result"];
    assert_eq!(project["production_branch"], "production");
    assert!(
        project["deployment_configs"]["production"].is_object() && project["deployment_configs"]["preview"].is_object()
    );
    assert!(project["source"].is_null());
    let (status, body) = send(create(json!({ "name": "docs", "production_branch": "main" }))).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (409, Some(codes::PROJECT_EXISTS))
    );
    assert_eq!(
        send(create(json!({ "name": "Bad Name", "production_branch": "main" })))
            .await
            .0,
        400
    );
    assert_eq!(send(create(json!({ "name": "no-branch" }))).await.0, 400);

    let (status, body) = api_get(&sim, &format!("{}/pages/projects?per_page=1", account_path(&sim))).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (
            body["result_info"]["total_count"].as_u64(),
            body["result_info"]["total_pages"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let (_, body) = api_get(&sim, &project_url(&sim, "docs")).await;
    assert_eq!(body["result"]["name"], "docs");
}

#[tokio::test]
async fn asset_endpoints_take_only_a_valid_upload_jwt() {
    let sim = start(|_| {}).await;
    let check = |bearer: String, hashes: serde_json::Value| {
        http()
            .post(format!("{}/pages/assets/check-missing", sim.url()))
            .bearer_auth(bearer)
            .json(&json!({ "hashes": hashes }))
    };
    let (status, body) = send(check(token(&sim), json!([INDEX_KEY]))).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (401, Some(codes::UPLOAD_UNAUTHORIZED))
    );

    let jwt = upload_jwt(&sim).await;
    let payload = claims(&jwt);
    assert_eq!(payload["max_file_count_allowed"], 20_000);
    assert_eq!(payload["project_name"], PROJECT);
    assert!(payload["exp"].as_i64() > payload["iat"].as_i64());
    let tampered = format!("{}x", &jwt[..jwt.len() - 1]);
    assert_eq!(
        send(check(tampered, json!([INDEX_KEY]))).await.1["errors"][0]["code"],
        codes::UPLOAD_UNAUTHORIZED
    );

    let (status, body) = send(check(jwt.clone(), json!([INDEX_KEY, APP_KEY, INDEX_KEY]))).await;
    assert_eq!((status, body["result"].clone()), (200, json!([INDEX_KEY, APP_KEY])));
    assert_eq!(
        upload(&sim, &jwt, &[(INDEX_KEY, "<h1>hello</h1>", "text/html")])
            .await
            .0,
        200
    );
    assert_eq!(
        send(check(jwt.clone(), json!([INDEX_KEY, APP_KEY]))).await.1["result"],
        json!([APP_KEY])
    );
    assert_eq!(upload(&sim, &jwt, &[("NOT-A-KEY", "x", "text/plain")]).await.0, 400);
    assert_eq!(send(check(jwt.clone(), json!(["short"]))).await.0, 400);

    // Expire every JWT now: the old one is refused, a new one works.
    assert_eq!(
        admin_post(&sim, "/__admin/faults", json!({ "kind": "expire_jwts" }))
            .await
            .0,
        200
    );
    assert_eq!(
        send(check(jwt, json!([APP_KEY]))).await.1["errors"][0]["code"],
        codes::UPLOAD_UNAUTHORIZED
    );
    assert_eq!(send(check(upload_jwt(&sim).await, json!([APP_KEY]))).await.0, 200);
}

#[tokio::test]
async fn deployments_walk_their_stages_and_write_logs() {
    let sim = start(|config| config.step_delay = Duration::from_millis(40)).await;
    let created = deploy_two_files(&sim, Some("fix/api")).await;
    assert_eq!(created["environment"], "preview");
    assert_eq!(created["latest_stage"]["name"], "queued");
    assert_eq!(created["latest_stage"]["status"], "active");
    let names: Vec<&str> = created["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["queued", "initialize", "clone_repo", "build", "deploy"]);
    assert_eq!(created["short_id"].as_str(), created["id"].as_str().map(|id| &id[..8]));
    assert!(
        created["aliases"][0]
            .as_str()
            .unwrap()
            .starts_with("http://fix-api.baton-demo.localhost:")
    );
    assert_eq!(created["deployment_trigger"]["type"], "ad_hoc");

    tokio::time::sleep(Duration::from_millis(250)).await;
    let url = format!(
        "{}/deployments/{}",
        project_url(&sim, PROJECT),
        created["id"].as_str().unwrap()
    );
    let (_, body) = api_get(&sim, &url).await;
    assert_eq!(body["result"]["latest_stage"]["name"], "deploy");
    assert_eq!(body["result"]["latest_stage"]["status"], "success");
    let (_, logs) = api_get(&sim, &format!("{url}/history/logs?size=10000000")).await;
    let lines: Vec<&str> = logs["result"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["line"].as_str())
        .collect();
    assert_eq!(lines.last(), Some(&"Success: Your site was deployed!"));
    assert_eq!(logs["result"]["total"].as_u64(), Some(lines.len() as u64));

    let missing = json!({ "/x.html": "0123456789abcdef0123456789abcdef" }).to_string();
    let (status, body) = create_deployment(&sim, &[("manifest", &missing)]).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (400, Some(codes::MISSING_ASSET))
    );
    let manifest = json!({ "/index.html": INDEX_KEY }).to_string();
    assert_eq!(
        create_deployment(&sim, &[("manifest", &manifest), ("commit_dirty", "maybe")])
            .await
            .0,
        400
    );
    assert_eq!(create_deployment(&sim, &[("branch", "main")]).await.0, 400);
}

#[tokio::test]
async fn deletion_protects_production_and_aliased_deployments() {
    let sim = start(|_| {}).await;
    let production = deploy_two_files(&sim, None).await;
    let preview = deploy_two_files(&sim, Some("topic")).await;
    let delete = |id: &serde_json::Value, force: bool| {
        let url = format!(
            "{}/deployments/{}?force={force}",
            project_url(&sim, PROJECT),
            id.as_str().unwrap_or_default()
        );
        http().delete(url).bearer_auth(token(&sim))
    };
    let (status, body) = send(delete(&production["id"], true)).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_i64()),
        (400, Some(codes::DEPLOYMENT_IN_USE))
    );
    assert_eq!(send(delete(&preview["id"], false)).await.0, 400);
    assert_eq!(send(delete(&preview["id"], true)).await.0, 200);
    let (_, list) = api_get(&sim, &format!("{}/deployments", project_url(&sim, PROJECT))).await;
    assert_eq!(list["result_info"]["total_count"], 1);
}

#[tokio::test]
async fn faults_are_validated_listed_and_cleared() {
    let sim = start(|_| {}).await;
    assert_eq!(
        admin_post(&sim, "/__admin/faults", json!({ "kind": "explode" }))
            .await
            .0,
        400
    );
    assert_eq!(
        admin_post(
            &sim,
            "/__admin/faults",
            json!({ "kind": "http_error", "status": 500, "pathcontains": "x" })
        )
        .await
        .0,
        400
    );
    assert_eq!(
        admin_post(&sim, "/__admin/faults", json!({ "kind": "http_error", "status": 200 }))
            .await
            .0,
        400
    );
    let (status, body) = admin_post(
        &sim,
        "/__admin/faults",
        json!([
            { "kind": "http_error", "status": 503, "count": 2, "path_contains": "/projects/" },
            { "kind": "fail_deployment" }
        ]),
    )
    .await;
    assert_eq!((status, body["faults"].as_array().map(Vec::len)), (200, Some(2)));
    assert_eq!(api_get(&sim, &project_url(&sim, PROJECT)).await.0, 503);
    assert_eq!(api_get(&sim, &project_url(&sim, PROJECT)).await.0, 503);
    assert_eq!(api_get(&sim, &project_url(&sim, PROJECT)).await.0, 200);
    let cleared = send(http().delete(format!("{}/__admin/faults", sim.base_url()))).await;
    assert_eq!(cleared.1["faults"], json!([]));

    // A plain-text 403 "Expired JWT", as older servers answered.
    admin_post(
        &sim,
        "/__admin/faults",
        json!({ "kind": "http_error", "status": 403, "message": "Expired JWT", "path_contains": "check-missing" }),
    )
    .await;
    let response = http()
        .post(format!("{}/pages/assets/check-missing", sim.url()))
        .json(&json!({ "hashes": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.text().await.unwrap(), "Expired JWT");
}

#[tokio::test]
async fn a_request_budget_answers_429_with_retry_after() {
    let sim = start(|config| {
        config.rate_limit = Some(RateLimit {
            requests: 2,
            window: Duration::from_secs(60),
        })
    })
    .await;
    for _ in 0..2 {
        assert_eq!(api_get(&sim, &project_url(&sim, PROJECT)).await.0, 200);
    }
    let response = http()
        .get(project_url(&sim, PROJECT))
        .bearer_auth(token(&sim))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], codes::RATE_LIMITED);
}

#[tokio::test]
async fn reset_returns_to_the_seeded_state() {
    let sim = start(|_| {}).await;
    deploy_two_files(&sim, None).await;
    let state = send(http().get(format!("{}/__admin/state", sim.base_url()))).await.1;
    assert_eq!(
        (state["assets"].as_u64(), state["deployments"].as_array().map(Vec::len)),
        (Some(2), Some(1))
    );
    assert!(state["requests"].as_u64() >= Some(3));
    assert_eq!(admin_post(&sim, "/__admin/reset", json!({})).await.0, 200);
    let state = send(http().get(format!("{}/__admin/state", sim.base_url()))).await.1;
    assert_eq!(
        (state["assets"].as_u64(), state["requests"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(state["projects"][0]["name"], PROJECT);
    assert_eq!(state["projects"][0]["production_branch"], "main");
}
