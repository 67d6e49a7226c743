//! The routes and shapes anypoint-cli-v4 needs (the fidelity suite runs the CLI itself; these
//! pin each answer, hostile cases first, without Node): TLS with the generated CA, `users/me`,
//! the organisation's entitlements, atlas targets, Exchange v1, the Graph API, runtime tags,
//! 304 on a PATCH that changes nothing, and `generateDefaultPublicUrl`.

use std::time::Duration;

use baton_sim_anypoint::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ORG_ID, DEFAULT_SANDBOX_ENV_ID, RunningSim, SimConfig,
};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const OTHER_ORG: &str = "00000000-0000-4000-8000-000000000000";

struct Sim {
    sim: RunningSim,
    http: reqwest::Client,
    token: String,
}

impl Sim {
    async fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let sim = baton_sim_anypoint::start(SimConfig::default().with_apply_delay(Duration::ZERO), 0).await?;
        let http = reqwest::Client::new();
        let token = token(&http, &sim.url()).await?;
        Ok(Self { sim, http, token })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.url())
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        self.call(self.http.get(self.url(path)).bearer_auth(&self.token)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        self.call(
            self.http
                .request(method, self.url(path))
                .bearer_auth(&self.token)
                .json(&body),
        )
        .await
    }
}

async fn token(http: &reqwest::Client, base: &str) -> Result<String, Box<dyn std::error::Error>> {
    let body = json!({ "grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                       "client_secret": DEFAULT_CLIENT_SECRET });
    let answer: Value = http
        .post(format!("{base}/accounts/api/v2/oauth2/token"))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    Ok(answer["access_token"].as_str().ok_or("no access_token")?.to_string())
}

fn deployments() -> String {
    format!(
        "/amc/application-manager/api/v2/organizations/{DEFAULT_ORG_ID}/environments/{DEFAULT_SANDBOX_ENV_ID}/deployments"
    )
}

/// The body anypoint-cli's `runtime-mgr application deploy` sends (`handleCommonCreate`).
fn cli_deploy_body(name: &str, runtime: &str, public_endpoints: Option<&str>) -> Value {
    json!({
        "name": name,
        "labels": [],
        "application": {
            "desiredState": "STARTED", "assets": [],
            "ref": { "artifactId": "patient-api", "groupId": DEFAULT_ORG_ID, "packaging": "jar", "version": "1.4.2" },
            "configuration": { "mule.agent.application.properties.service": { "applicationName": name, "properties": {}, "secureProperties": {} } },
            "integrations": { "services": { "objectStoreV2": { "enabled": null } } },
            "vCores": "0.1"
        },
        "target": {
            "provider": "MC", "replicas": 1, "targetId": "cloudhub-us-east-2",
            "deploymentSettings": {
                "clustered": false, "runtime": { "version": runtime }, "runtimeVersion": runtime,
                "updateStrategy": "rolling",
                "http": { "inbound": { "publicUrl": public_endpoints, "pathRewrite": null } },
                "generateDefaultPublicUrl": public_endpoints.map(|e| e.contains("cloudhub.io")),
            }
        }
    })
}

#[tokio::test]
async fn tls_is_trusted_only_through_the_generated_ca() -> TestResult {
    let sim = baton_sim_anypoint::start_tls(SimConfig::default(), 0, &["anypoint.mulesoft.com"]).await?;
    assert!(sim.url().starts_with("https://127.0.0.1:"), "{}", sim.url());
    let pem = sim.ca_pem().ok_or("a TLS simulator has a CA")?;

    // Hostile first: a client that does not trust the CA refuses the certificate.
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(format!("{}/accounts/api/users/me", sim.url()))
            .send()
            .await
            .is_err()
    );

    let ca = reqwest::Certificate::from_pem(pem.as_bytes())?;
    let trusting = reqwest::Client::builder().tls_certs_only([ca]).build()?;
    let token = token(&trusting, &sim.url()).await?;
    let me: Value = trusting
        .get(format!("{}/accounts/api/users/me", sim.url()))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(me["memberOfOrganizations"][0]["id"], DEFAULT_ORG_ID);

    // The plain-http start is unchanged: no CA.
    let plain = baton_sim_anypoint::start(SimConfig::default(), 0).await?;
    assert!(plain.url().starts_with("http://") && plain.ca_pem().is_none());
    Ok(())
}

#[tokio::test]
async fn users_me_and_the_organisation_have_what_the_cli_reads() -> TestResult {
    let sim = Sim::start().await?;
    let (status, _) = sim.call(sim.http.get(sim.url("/accounts/api/users/me"))).await?;
    assert_eq!(status, 401, "no token");
    let (status, _) = sim
        .call(sim.http.get(sim.url("/accounts/api/users/me")).bearer_auth("forged"))
        .await?;
    assert_eq!(status, 401, "unknown token");

    let (status, me) = sim.get("/accounts/api/users/me").await?;
    assert_eq!(status, 200);
    assert!(me["id"].as_str().is_some_and(|id| !id.is_empty()), "{me}");
    assert!(me["organizationPreferences"].is_object(), "{me}");
    assert_eq!(
        me["memberOfOrganizations"],
        json!([{ "id": DEFAULT_ORG_ID, "name": "Baton Demo", "isRoot": true, "isMaster": true,
                 "parentId": null, "parentOrganizationIds": [], "subOrganizationIds": [] }])
    );

    let (status, _) = sim.get(&format!("/accounts/api/organizations/{OTHER_ORG}")).await?;
    assert_eq!(status, 403, "another organisation");
    let (_, org) = sim
        .get(&format!("/accounts/api/organizations/{DEFAULT_ORG_ID}"))
        .await?;
    assert_eq!(
        org["entitlements"]["usageBasedPricing"]["muleRuntimeIntegration"]["enabled"],
        false
    );
    assert_eq!(org["isRoot"], true);
    assert_eq!(org["ownerId"], me["id"]);
    Ok(())
}

#[tokio::test]
async fn atlas_targets_list_the_shared_spaces_of_the_mc_provider() -> TestResult {
    let sim = Sim::start().await?;
    let atlas = |org: &str, provider: &str, env: &str| {
        format!("/amc/atlas/api/v1/organizations/{org}/providers/{provider}/targets?environmentId={env}")
    };
    assert_eq!(sim.get(&atlas(OTHER_ORG, "MC", DEFAULT_SANDBOX_ENV_ID)).await?.0, 403);
    assert_eq!(sim.get(&atlas(DEFAULT_ORG_ID, "MC", "no-such-env")).await?.0, 404);
    assert_eq!(
        sim.get(&atlas(DEFAULT_ORG_ID, "RTF", DEFAULT_SANDBOX_ENV_ID)).await?,
        (200, json!([]))
    );
    let (status, targets) = sim.get(&atlas(DEFAULT_ORG_ID, "MC", DEFAULT_SANDBOX_ENV_ID)).await?;
    assert_eq!(status, 200);
    let first = &targets[0];
    assert_eq!(
        (first["provider"].clone(), first["isAvailableForDeployments"].clone()),
        (json!("MC"), json!(true))
    );
    assert!(first["id"].is_string() && first["name"].is_string(), "{first}");
    Ok(())
}

#[tokio::test]
async fn exchange_v1_and_the_graph_api_answer_the_cli() -> TestResult {
    let sim = Sim::start().await?;
    let v1 = |rest: &str| format!("/exchange/api/v1/assets/{DEFAULT_ORG_ID}/{rest}");
    let (status, _) = sim.call(sim.http.get(sim.url(&v1("patient-api")))).await?;
    assert_eq!(status, 401, "no token");
    let (status, missing) = sim.get(&v1("patient-api/9.9.9")).await?;
    assert_eq!(status, 404);
    assert!(
        missing["message"].as_str().unwrap_or_default().contains("9.9.9"),
        "{missing}"
    );
    assert_eq!(sim.get(&v1("no-such-asset")).await?.0, 404);

    let (_, latest) = sim.get(&v1("patient-api")).await?;
    assert_eq!(latest["version"], "1.5.0");
    let (_, described) = sim.get(&v1("patient-api/1.4.2")).await?;
    assert_eq!(described["version"], "1.4.2");
    assert!(
        described["modifiedAt"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{described}"
    );
    let versions: Vec<&str> = described["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(versions, ["1.5.0", "1.4.2"]);

    let graph = "/graph/api/v2/graphql";
    let query = "query($searchText: String!) { assets(searchTerm: $searchText) { assetId version } }";
    let forged = json!({ "query": query, "variables": { "accessToken": "forged", "searchText": "" } });
    let (status, _) = sim.call(sim.http.post(sim.url(graph)).json(&forged)).await?;
    assert_eq!(status, 401, "a forged token in the variables");
    let other = json!({ "query": "{ organizations { id } }", "variables": { "accessToken": sim.token } });
    let (status, answer) = sim.call(sim.http.post(sim.url(graph)).json(&other)).await?;
    assert_eq!(status, 200);
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Not simulated"),
        "{answer}"
    );

    let search = json!({ "query": query, "variables": { "accessToken": sim.token, "searchText": "admissions", "limit": 10, "offset": 0 } });
    let (_, found) = sim.call(sim.http.post(sim.url(graph)).json(&search)).await?;
    assert_eq!(found["data"]["assets"].as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found["data"]["assets"][0]["version"], "2.2.0");
    let elsewhere = json!({ "query": query, "variables": { "accessToken": sim.token, "searchText": "", "organizationIds": [OTHER_ORG] } });
    let (_, none) = sim.call(sim.http.post(sim.url(graph)).json(&elsewhere)).await?;
    assert_eq!(none["data"]["assets"], json!([]));
    Ok(())
}

#[tokio::test]
async fn runtimes_are_answered_as_tags_with_their_channel_and_java() -> TestResult {
    let sim = Sim::start().await?;
    let (status, refused) = sim
        .send(
            reqwest::Method::POST,
            &deployments(),
            cli_deploy_body("old-api", "3.9.0", None),
        )
        .await?;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("4.6.0:40e-java17"),
        "names the offered tags: {refused}"
    );

    let (status, created) = sim
        .send(
            reqwest::Method::POST,
            &deployments(),
            cli_deploy_body("patient-api", "4.6.0", None),
        )
        .await?;
    assert_eq!(status, 202, "{created}");
    let settings = &created["target"]["deploymentSettings"];
    assert_eq!(settings["runtimeVersion"], "4.6.0:40e-java17");
    assert_eq!(
        settings["runtime"],
        json!({ "version": "4.6.0:40e-java17", "releaseChannel": "LTS", "java": "17" })
    );

    // The CLI's modify sends `runtimeVersion` next to an empty `runtime`.
    let id = created["id"].as_str().unwrap_or_default();
    let path = format!("{}/{id}", deployments());
    let body = json!({ "target": { "deploymentSettings": { "runtime": {}, "runtimeVersion": "4.9.0" } } });
    let (status, modified) = sim.send(reqwest::Method::PATCH, &path, body).await?;
    assert_eq!(status, 200, "{modified}");
    assert_eq!(
        modified["target"]["deploymentSettings"]["runtimeVersion"],
        "4.9.0:12e-java17"
    );
    assert_eq!(
        modified["target"]["deploymentSettings"]["runtime"]["releaseChannel"],
        "EDGE"
    );
    Ok(())
}

#[tokio::test]
async fn a_patch_that_changes_nothing_answers_304_and_starts_no_new_version() -> TestResult {
    let sim = Sim::start().await?;
    let (_, created) = sim
        .send(
            reqwest::Method::POST,
            &deployments(),
            cli_deploy_body("patient-api", "4.6.0", None),
        )
        .await?;
    let path = format!("{}/{}", deployments(), created["id"].as_str().unwrap_or_default());
    let desired = created["desiredVersion"].clone();

    for unchanged in [
        json!({ "application": { "desiredState": "STARTED" } }),
        json!({ "target": { "replicas": 1, "deploymentSettings": { "runtime": { "version": "4.6.0" } } } }),
        // What a GET-modify-PATCH client sends back: the detail itself.
        sim.get(&path).await?.1,
    ] {
        let (status, body) = sim.send(reqwest::Method::PATCH, &path, unchanged.clone()).await?;
        assert_eq!((status, body), (304, Value::Null), "{unchanged}");
    }
    assert_eq!(sim.get(&path).await?.1["desiredVersion"], desired);

    let (status, stopped) = sim
        .send(
            reqwest::Method::PATCH,
            &path,
            json!({ "application": { "desiredState": "STOPPED" } }),
        )
        .await?;
    assert_eq!(status, 200);
    assert_ne!(stopped["desiredVersion"], desired);
    let (status, _) = sim
        .send(
            reqwest::Method::PATCH,
            &path,
            json!({ "application": { "desiredState": "STOPPED" } }),
        )
        .await?;
    assert_eq!(status, 304, "stopping a stopped application");
    Ok(())
}

#[tokio::test]
async fn the_same_spec_retries_a_failed_rollout() -> TestResult {
    let sim = Sim::start().await?;
    sim.sim.state().mark_failing(None, "patient-api", "1.4.2", None);
    let (_, created) = sim
        .send(
            reqwest::Method::POST,
            &deployments(),
            cli_deploy_body("patient-api", "4.6.0", None),
        )
        .await?;
    let path = format!("{}/{}", deployments(), created["id"].as_str().unwrap_or_default());
    assert_eq!(sim.get(&path).await?.1["status"], "FAILED");
    sim.sim.state().clear_failing(None, "patient-api", "1.4.2");
    let (status, retried) = sim
        .send(
            reqwest::Method::PATCH,
            &path,
            json!({ "application": { "desiredState": "STARTED" } }),
        )
        .await?;
    assert_eq!(status, 200, "{retried}");
    assert_ne!(retried["desiredVersion"], created["desiredVersion"]);
    assert_eq!(sim.get(&path).await?.1["status"], "APPLIED");
    Ok(())
}

#[tokio::test]
async fn public_urls_follow_generate_default_public_url_and_own_endpoints() -> TestResult {
    let sim = Sim::start().await?;
    let url_of = |detail: &Value| detail["target"]["deploymentSettings"]["http"]["inbound"]["publicUrl"].clone();
    let (_, default) = sim
        .send(
            reqwest::Method::POST,
            &deployments(),
            cli_deploy_body("default-api", "4.6.0", None),
        )
        .await?;
    assert!(
        url_of(&default).as_str().is_some_and(|u| u.ends_with(".cloudhub.io")),
        "{default}"
    );

    let (_, own) = sim
        .send(
            reqwest::Method::POST,
            &deployments(),
            cli_deploy_body("own-api", "4.6.0", Some("own.example.com")),
        )
        .await?;
    assert_eq!(url_of(&own), "own.example.com", "no generated URL: {own}");

    let mut hidden = cli_deploy_body("hidden-api", "4.6.0", None);
    hidden["target"]["deploymentSettings"]["generateDefaultPublicUrl"] = json!(false);
    let (_, hidden) = sim.send(reqwest::Method::POST, &deployments(), hidden).await?;
    assert_eq!(url_of(&hidden), Value::Null, "{hidden}");
    Ok(())
}
