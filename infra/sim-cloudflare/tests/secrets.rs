//! Secrets (`secret_text` environment variables) are write-only, as on Cloudflare: a value put
//! through the API never comes back in any answer, and PATCH merges variables one by one (a
//! `null` deletes one), which is what `wrangler pages secret put/delete` rely on.

mod common;

use common::*;
use serde_json::{Value, json};

const SECRET: &str = "hunter2-never-echoed";

async fn patch(sim: &baton_sim_cloudflare::RunningSim, body: Value) -> (u16, Value) {
    send(
        http()
            .patch(project_url(sim, PROJECT))
            .bearer_auth(token(sim))
            .json(&body),
    )
    .await
}

fn env_var(name: &str, value: Value) -> Value {
    json!({ "deployment_configs": { "production": { "env_vars": { name: value } } } })
}

#[tokio::test]
async fn a_secret_put_through_the_api_never_appears_in_any_answer() {
    let sim = start(|_| {}).await;
    let (status, body) = patch(
        &sim,
        env_var("API_KEY", json!({ "type": "secret_text", "value": SECRET })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !body.to_string().contains(SECRET),
        "PATCH answer echoes the secret: {body}"
    );
    assert_eq!(
        body["result"]["deployment_configs"]["production"]["env_vars"]["API_KEY"],
        json!({ "type": "secret_text" }),
        "a secret comes back as its type only"
    );
    let deployment = deploy_two_files(&sim, None).await;
    let preview = deploy_two_files(&sim, Some("feature/x")).await;
    let deployments = format!("{}/deployments", project_url(&sim, PROJECT));
    let answers = [
        ("create deployment", deployment.clone()),
        ("create preview", preview),
        ("project get", api_get(&sim, &project_url(&sim, PROJECT)).await.1),
        (
            "project list",
            api_get(&sim, &format!("{}/pages/projects", account_path(&sim))).await.1,
        ),
        ("deployment list", api_get(&sim, &deployments).await.1),
        (
            "deployment get",
            api_get(
                &sim,
                &format!("{deployments}/{}", deployment["id"].as_str().unwrap_or_default()),
            )
            .await
            .1,
        ),
        ("admin state", sim.state().snapshot()),
    ];
    for (what, answer) in &answers {
        assert!(
            !answer.to_string().contains(SECRET),
            "{what} echoes the secret: {answer}"
        );
    }
    // The deployment carries its environment's variables as they were when it was created,
    // secrets by type only.
    assert_eq!(
        deployment["env_vars"]["API_KEY"],
        json!({ "type": "secret_text" }),
        "{deployment}"
    );
}

#[tokio::test]
async fn patch_merges_variables_one_by_one_and_null_deletes_one() {
    let sim = start(|_| {}).await;
    for (name, value) in [
        ("FIRST", json!({ "type": "secret_text", "value": "one" })),
        ("SECOND", json!({ "type": "secret_text", "value": "two" })),
        ("PLAIN", json!({ "type": "plain_text", "value": "visible" })),
    ] {
        let (status, body) = patch(&sim, env_var(name, value)).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, body) = api_get(&sim, &project_url(&sim, PROJECT)).await;
    let vars = &body["result"]["deployment_configs"]["production"]["env_vars"];
    assert_eq!(
        *vars,
        json!({
            "FIRST": { "type": "secret_text" },
            "SECOND": { "type": "secret_text" },
            "PLAIN": { "type": "plain_text", "value": "visible" },
        }),
        "plain text values are shown, secrets are not, and a second PATCH keeps the first"
    );
    let (status, body) = patch(&sim, env_var("FIRST", Value::Null)).await;
    assert_eq!(status, 200, "{body}");
    let vars = &body["result"]["deployment_configs"]["production"]["env_vars"];
    assert!(vars.get("FIRST").is_none(), "null deletes the variable: {vars}");
    assert_eq!(vars["SECOND"], json!({ "type": "secret_text" }));
    assert_eq!(
        body["result"]["deployment_configs"]["preview"]["env_vars"],
        json!({}),
        "the other environment is untouched"
    );
}

#[tokio::test]
async fn an_env_var_without_a_string_value_is_refused_and_changes_nothing() {
    let sim = start(|_| {}).await;
    let (_, before) = api_get(&sim, &project_url(&sim, PROJECT)).await;
    for bad in [
        json!({ "type": "secret_text" }),
        json!({ "type": "secret_text", "value": 42 }),
        json!({ "type": "mystery", "value": "x" }),
        json!("just a string"),
    ] {
        let (status, body) = patch(&sim, env_var("BAD", bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("BAD"), "the error names the variable: {message}");
    }
    let (_, after) = api_get(&sim, &project_url(&sim, PROJECT)).await;
    assert_eq!(
        before["result"]["deployment_configs"], after["result"]["deployment_configs"],
        "a refused PATCH changes nothing"
    );
}

#[tokio::test]
async fn tailing_a_deployment_without_functions_answers_as_cloudflare_does_for_a_static_site() {
    let sim = start(|_| {}).await;
    let deployment = deploy_two_files(&sim, None).await;
    let id = deployment["id"].as_str().unwrap_or_default();
    let url = format!("{}/deployments/{id}/tails", project_url(&sim, PROJECT));
    let (status, body) = send(http().post(&url).bearer_auth(token(&sim)).json(&json!({}))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["errors"][0]["code"], 8_000_098);
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot tail a static site"), "{message}");
    let unknown = format!(
        "{}/deployments/00000000-0000-4000-8000-000000000000/tails",
        project_url(&sim, PROJECT)
    );
    let (status, body) = send(http().post(&unknown).bearer_auth(token(&sim)).json(&json!({}))).await;
    assert_eq!(status, 404, "an unknown deployment is not found first: {body}");
}
