//! The simulator's HTTP surface as a foreign client sees it: both token encodings, tolerant bodies,
//! validation, lifecycle variants, Exchange, targets, and the admin endpoints.

use std::time::Duration;

use baton_sim_anypoint::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ORG_ID, DEFAULT_SANDBOX_ENV_ID, RunningSim, SimConfig,
};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Harness {
    sim: RunningSim,
    http: reqwest::Client,
    token: String,
}

impl Harness {
    async fn start(config: SimConfig) -> Result<Self, Box<dyn std::error::Error>> {
        let sim = baton_sim_anypoint::start(config, 0).await?;
        let http = reqwest::Client::new();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
        ];
        let answer: Value = http
            .post(format!("{}/accounts/api/v2/oauth2/token", sim.url()))
            .form(&form)
            .send()
            .await?
            .json()
            .await?;
        let token = answer["access_token"].as_str().ok_or("no access_token")?.to_string();
        Ok(Self { sim, http, token })
    }

    fn deployments_url(&self) -> String {
        format!(
            "{}/amc/application-manager/api/v2/organizations/{DEFAULT_ORG_ID}/environments/{DEFAULT_SANDBOX_ENV_ID}/deployments",
            self.sim.url()
        )
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let response = request.bearer_auth(&self.token).send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn get(&self, url: &str) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        self.send(self.http.get(url)).await
    }

    async fn post(&self, url: &str, body: Value) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        self.send(self.http.post(url).json(&body)).await
    }

    async fn patch(&self, url: &str, body: Value) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        self.send(self.http.patch(url).json(&body)).await
    }
}

/// A create body the way MMP sends it: replicas and vCores as strings.
fn mmp_style_body(name: &str, version: &str) -> Value {
    json!({
        "name": name,
        "target": { "provider": "MC", "targetId": "cloudhub-us-east-2", "replicas": "2",
                    "deploymentSettings": { "runtimeVersion": "4.6.0:40e-java17", "updateStrategy": "recreate" } },
        "application": { "ref": { "groupId": DEFAULT_ORG_ID, "artifactId": "patient-api", "version": version, "packaging": "jar" },
                         "desiredState": "STARTED", "vCores": "0.5",
                         "configuration": { "mule.agent.application.properties.service": {
                             "applicationName": name, "properties": { "a": "1" }, "secureProperties": { "pw": "plain" } } } }
    })
}

#[tokio::test]
async fn tokens_are_issued_for_json_bodies_and_refused_for_wrong_secrets() -> TestResult {
    let harness = Harness::start(SimConfig::default()).await?;
    let url = format!("{}/accounts/api/v2/oauth2/token", harness.sim.url());
    let good = json!({ "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, "grant_type": "client_credentials" });
    let answer: Value = harness.http.post(&url).json(&good).send().await?.json().await?;
    assert_eq!(answer["token_type"], "bearer");
    assert_eq!(answer["expires_in"], 3600);

    let bad = json!({ "client_id": DEFAULT_CLIENT_ID, "client_secret": "nope", "grant_type": "client_credentials" });
    let response = harness.http.post(&url).json(&bad).send().await?;
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.json::<Value>().await?["error"], "invalid_client");

    let (status, me) = harness.get(&format!("{}/accounts/api/me", harness.sim.url())).await?;
    assert_eq!((status, me["client"]["org_id"].as_str()), (200, Some(DEFAULT_ORG_ID)));
    let unauthenticated = harness
        .http
        .get(format!("{}/accounts/api/me", harness.sim.url()))
        .send()
        .await?;
    assert_eq!(unauthenticated.status().as_u16(), 401);
    assert!(unauthenticated.headers().contains_key("x-ratelimit-limit"));
    Ok(())
}

#[tokio::test]
async fn mmp_style_bodies_are_accepted_and_recreate_has_a_gap() -> TestResult {
    let harness = Harness::start(SimConfig::default().with_apply_delay(Duration::from_millis(300))).await?;
    let (status, created) = harness
        .post(&harness.deployments_url(), mmp_style_body("patient-api", "1.4.2"))
        .await?;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["target"]["replicas"], 2);
    assert_eq!(created["application"]["vCores"], 0.5);
    assert_eq!(
        created["target"]["deploymentSettings"]["runtime"]["version"],
        "4.6.0:40e-java17"
    );
    let secure =
        &created["application"]["configuration"]["mule.agent.application.properties.service"]["secureProperties"];
    assert_eq!(secure["pw"], "********", "secure values are never echoed");
    assert_eq!(created["replicas"].as_array().map(Vec::len), Some(2));
    assert!(
        created["replicas"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|r| r["state"] == "PENDING")
    );

    harness.sim.state().set_apply_delay(Duration::ZERO);
    let url = format!(
        "{}/{}",
        harness.deployments_url(),
        created["id"].as_str().unwrap_or_default()
    );
    let (_, applied) = harness.get(&url).await?;
    assert_eq!(
        (applied["status"].as_str(), applied["application"]["status"].as_str()),
        (Some("APPLIED"), Some("RUNNING"))
    );

    // Recreate: old replicas go first, so the application stops serving during the rollout.
    harness.sim.state().set_apply_delay(Duration::from_millis(600));
    let (status, patched) =
        harness.patch(&url, json!({ "application": { "ref": { "groupId": DEFAULT_ORG_ID, "artifactId": "patient-api", "version": "1.5.0" } } })).await?;
    assert_eq!(status, 200, "{patched}");
    assert_ne!(patched["desiredVersion"], applied["desiredVersion"]);
    assert_eq!(patched["lastSuccessfulVersion"], applied["desiredVersion"]);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (_, during) = harness.get(&url).await?;
    assert_eq!(during["application"]["status"], "NOT_RUNNING", "{during}");
    // The omitted configuration was kept by the merge.
    assert_eq!(
        during["application"]["configuration"]["mule.agent.application.properties.service"]["properties"]["a"],
        "1"
    );
    Ok(())
}

#[tokio::test]
async fn invalid_creates_are_rejected_with_messages() -> TestResult {
    let harness = Harness::start(SimConfig::default()).await?;
    let url = harness.deployments_url();
    let cases = [
        (
            "bad name",
            json!({ "name": "9-lives" }),
            400,
            "Invalid application name",
        ),
        (
            "unknown target",
            {
                let mut b = mmp_style_body("patient-api", "1.4.2");
                b["target"]["targetId"] = json!("mars-1");
                b
            },
            400,
            "targetId",
        ),
        (
            "both sizes",
            {
                let mut b = mmp_style_body("patient-api", "1.4.2");
                b["target"]["deploymentSettings"]["instanceType"] = json!("mule.small");
                b
            },
            400,
            "instanceType and vCores",
        ),
        (
            "odd vCores",
            {
                let mut b = mmp_style_body("patient-api", "1.4.2");
                b["application"]["vCores"] = json!(0.3);
                b
            },
            400,
            "vCores",
        ),
        (
            "no ref",
            {
                let mut b = mmp_style_body("patient-api", "1.4.2");
                b["application"].as_object_mut().map(|a| a.remove("ref"));
                b
            },
            400,
            "ref",
        ),
        (
            "unpublished",
            mmp_style_body("patient-api", "7.7.7"),
            404,
            "not found in Exchange",
        ),
    ];
    for (case, body, want_status, want_text) in cases {
        let (status, answer) = harness.post(&url, body).await?;
        assert_eq!(status, want_status, "{case}: {answer}");
        assert!(
            answer["message"].as_str().unwrap_or_default().contains(want_text),
            "{case}: {answer}"
        );
    }
    let (_, list) = harness.get(&url).await?;
    assert_eq!(list["total"], 0);
    Ok(())
}

#[tokio::test]
async fn admin_faults_assets_state_and_reset() -> TestResult {
    let harness = Harness::start(SimConfig::default().with_apply_delay(Duration::ZERO)).await?;
    let admin = |path: &str| format!("{}/__admin/{path}", harness.sim.url());

    let (status, _) = harness
        .post(
            &admin("faults"),
            json!({ "status": 503, "count": 1, "path_contains": "/exchange/" }),
        )
        .await?;
    assert_eq!(status, 201);
    let asset_url = format!(
        "{}/exchange/api/v2/assets/{DEFAULT_ORG_ID}/patient-api/1.4.2",
        harness.sim.url()
    );
    assert_eq!(harness.get(&asset_url).await?.0, 503);
    assert_eq!(harness.get(&asset_url).await?.0, 200, "the fault was used up");

    let lagging = json!({ "asset_id": "billing-api", "versions": ["3.0.0"], "publication_lag_ms": 150 });
    assert_eq!(harness.post(&admin("assets"), lagging).await?.0, 201);
    let billing = format!(
        "{}/exchange/api/v2/assets/{DEFAULT_ORG_ID}/billing-api/3.0.0",
        harness.sim.url()
    );
    assert_eq!(
        harness.get(&billing).await?.0,
        404,
        "not visible during the publication lag"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(harness.get(&billing).await?.0, 200);
    let (_, latest) = harness
        .get(&format!(
            "{}/exchange/api/v2/assets/{DEFAULT_ORG_ID}/patient-api/asset",
            harness.sim.url()
        ))
        .await?;
    assert_eq!(latest["version"], "1.5.0");
    assert_eq!(latest["versions"].as_array().map(Vec::len), Some(2));

    let failing = json!({ "asset_id": "patient-api", "version": "1.6.0", "reason": "CrashLoopBackoff: boom" });
    assert_eq!(harness.post(&admin("failing-versions"), failing).await?.0, 204);
    let (status, created) = harness
        .post(&harness.deployments_url(), mmp_style_body("patient-api", "1.6.0"))
        .await?;
    assert_eq!(status, 202);
    let (_, failed) = harness
        .get(&format!(
            "{}/{}",
            harness.deployments_url(),
            created["id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["replicas"][0]["reason"], "CrashLoopBackoff: boom");

    let (_, state) = harness.get(&admin("state")).await?;
    assert_eq!(state["environments"][0]["name"], "Sandbox");
    assert_eq!(
        state["environments"][0]["deployments"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        state["requests_total"].as_u64().unwrap_or_default() >= 8,
        "{}",
        state["requests_total"]
    );

    assert_eq!(harness.post(&admin("reset"), json!({})).await?.0, 204);
    let (_, state) = harness.get(&admin("state")).await?;
    assert_eq!(state["requests_total"], 0);
    assert_eq!(state["environments"][0]["deployments"], json!([]));
    assert_eq!(
        harness.get(&format!("{}/accounts/api/me", harness.sim.url())).await?.0,
        401,
        "tokens are forgotten"
    );
    Ok(())
}

#[tokio::test]
async fn targets_domains_and_environments_are_served() -> TestResult {
    let harness = Harness::start(SimConfig::default()).await?;
    let base = harness.sim.url();
    let (status, targets) = harness
        .get(&format!(
            "{base}/runtimefabric/api/organizations/{DEFAULT_ORG_ID}/targets"
        ))
        .await?;
    assert_eq!(status, 200);
    let us_east = targets
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == "Cloudhub-US-East-1")
        .cloned();
    assert_eq!(
        us_east.as_ref().map(|t| t["id"].clone()),
        Some(json!("cloudhub-us-east-1"))
    );
    assert!(us_east.is_some_and(|t| t["runtimes"][0]["versions"].as_array().is_some_and(|v| !v.is_empty())));
    let domains_url = format!(
        "{base}/runtimefabric/api/organizations/{DEFAULT_ORG_ID}/targets/cloudhub-us-east-1/environments/{DEFAULT_SANDBOX_ENV_ID}/domains"
    );
    let (_, domains) = harness.get(&domains_url).await?;
    assert!(domains[0].as_str().is_some_and(|d| d.starts_with("*.")));
    let (_, environments) = harness
        .get(&format!(
            "{base}/accounts/api/organizations/{DEFAULT_ORG_ID}/environments"
        ))
        .await?;
    assert_eq!(environments["total"], 2);
    assert_eq!(
        harness
            .get(&format!("{base}/accounts/api/organizations/other-org/environments"))
            .await?
            .0,
        403
    );
    Ok(())
}

#[test]
fn the_example_seed_file_parses() -> TestResult {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/seed.example.yaml");
    let config = SimConfig::from_seed_file(path)?;
    assert_eq!(config.client_id, DEFAULT_CLIENT_ID);
    assert_eq!(config.environments.len(), 2);
    assert_eq!(config.assets.len(), 5);
    assert_eq!(config.failing_versions.len(), 1);
    assert_eq!(config.apply_delay, Duration::from_secs(1));

    let json_seed = r#"{"org_id": "org-2", "apply_delay_ms": 0, "assets": [{"asset_id": "a", "version": 1.5}]}"#;
    let config = SimConfig::from_seed_str(json_seed)?;
    assert_eq!(
        (config.org_id.as_str(), config.assets[0].version.as_str()),
        ("org-2", "1.5")
    );
    assert!(
        SimConfig::from_seed_str("unknown_key: 1").is_err(),
        "typos are reported"
    );
    Ok(())
}
