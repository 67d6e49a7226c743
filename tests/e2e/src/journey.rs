//! Driving a release through its workflow as people would: read the mails, open links,
//! press buttons; and reading what happened.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use baton_aws::DynamoStore;
use baton_domain::deployment::EnvironmentState;
use baton_domain::ports::{DeploymentStore, ReleaseEvent, ReleaseStore, Timeline};
use baton_domain::{Release, ReleaseId};
use baton_local::outbox::SentMail;

use crate::Harness;

/// An HTTP answer: status and body text.
pub struct Page {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: String,
}

impl Harness {
    /// The store, through the real adapter.
    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.dynamodb.clone(), &self.table)
    }

    /// Every mail sent so far.
    pub fn mails(&self) -> Vec<SentMail> {
        self.stack.outbox.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Waits for mails whose subject contains `subject`, until at least `count` exist.
    pub async fn wait_for_mails(&self, subject: &str, count: usize) -> Result<Vec<SentMail>> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let found: Vec<SentMail> = self
                .mails()
                .into_iter()
                .filter(|m| m.subject.contains(subject))
                .collect();
            if found.len() >= count {
                return Ok(found);
            }
            if Instant::now() > deadline {
                let subjects: Vec<String> = self.mails().into_iter().map(|m| m.subject).collect();
                let failed = self.execution_failures().await.unwrap_or_default();
                bail!(
                    "no {count} mail(s) about '{subject}' within 120 s; sent: {subjects:?}; failed executions: {failed:#?}"
                );
            }
            // The outbox is in memory: a fine poll costs nothing and lets `make bench` time mails.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The approval links mailed for release `number` in `environment`, one per approver.
    pub async fn approval_links(&self, number: u64, environment: &str) -> Result<Vec<(String, String)>> {
        let subject = format!("Approve release {number} for {environment}?");
        let env_approvers = if environment == "PROD" { 2 } else { 1 };
        let mails = self.wait_for_mails(&subject, env_approvers).await?;
        mails
            .into_iter()
            .map(|m| {
                let link = m.links.first().cloned().ok_or_else(|| anyhow!("mail without a link"))?;
                Ok((m.to.first().cloned().unwrap_or_default(), link))
            })
            .collect()
    }

    /// Opens a link (GET), as a person or a mail scanner would.
    pub async fn open(&self, link: &str) -> Result<Page> {
        let answer = reqwest::get(link).await?;
        Ok(Page {
            status: answer.status().as_u16(),
            body: answer.text().await?,
        })
    }

    /// Posts a decision from a link's page.
    pub async fn decide(&self, link: &str, decision: &str, comment: &str) -> Result<Page> {
        self.decide_with(link, decision, comment, &[]).await
    }

    /// Posts a decision from a link's page with more of its fields (`when`, `deploy_at`, ...).
    pub async fn decide_with(&self, link: &str, decision: &str, comment: &str, more: &[(&str, &str)]) -> Result<Page> {
        let (base, token) = link
            .split_once("?token=")
            .ok_or_else(|| anyhow!("link without a token: {link}"))?;
        let mut form = vec![
            ("token", token),
            ("decision", decision),
            ("confirm", "yes"),
            ("comment", comment),
        ];
        form.extend_from_slice(more);
        let answer = reqwest::Client::new().post(base).form(&form).send().await?;
        Ok(Page {
            status: answer.status().as_u16(),
            body: answer.text().await?,
        })
    }

    /// A release.
    pub async fn release(&self, number: u64) -> Result<Release> {
        ReleaseStore::release(&self.store(), &ReleaseId::from_number(number))
            .await
            .map_err(|e| anyhow!("{e}"))?
            .ok_or_else(|| anyhow!("no release {number}"))
    }

    /// Waits until release `number` has `status` (kebab-case, e.g. `released`).
    pub async fn wait_for_status(&self, number: u64, status: &str, timeout: Duration) -> Result<Release> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(release) = self.release(number).await {
                let now = serde_json::to_value(release.status)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if now == status {
                    return Ok(release);
                }
                if Instant::now() > deadline {
                    let events = self.events(number).await.unwrap_or_default();
                    let shown: Vec<String> = events
                        .iter()
                        .map(|e| format!("{} {}: {}", e.kind, e.environment.clone().unwrap_or_default(), e.detail))
                        .collect();
                    let failed = self.execution_failures().await.unwrap_or_default();
                    bail!(
                        "release {number} is '{now}', not '{status}', after {} s; events: {shown:#?}; failed executions: {failed:#?}",
                        timeout.as_secs()
                    );
                }
            } else if Instant::now() > deadline {
                bail!("release {number} never appeared");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A release's timeline.
    pub async fn events(&self, number: u64) -> Result<Vec<ReleaseEvent>> {
        self.store()
            .events(&ReleaseId::from_number(number))
            .await
            .map_err(|e| anyhow!("{e}"))
    }

    /// What runs in an environment.
    pub async fn environment(&self, name: &str) -> Result<EnvironmentState> {
        self.store().environment_state(name).await.map_err(|e| anyhow!("{e}"))
    }

    /// The Cloudflare simulator's deployments: (branch, environment, latest stage status).
    pub fn pages_deployments(&self) -> Vec<serde_json::Value> {
        self.stack.cloudflare.state().snapshot()["deployments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The Anypoint simulator's deployments in an environment (`Sandbox`, `Production`).
    pub fn cloudhub_deployments(&self, environment: &str) -> Vec<serde_json::Value> {
        let snapshot = self.stack.anypoint.state().snapshot();
        snapshot["environments"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == environment)
            .and_then(|e| e["deployments"].as_array().cloned())
            .unwrap_or_default()
    }

    /// Uploads the sample packages as `version` and waits for the release they make.
    pub async fn release_samples(&self, version: &str, number: u64) -> Result<Release> {
        let root = baton_local::repository_root();
        baton_local::demo::push_samples(&self.stack, &root, version).await?;
        baton_local::demo::wait_for_release(&self.stack, number, Duration::from_secs(90)).await
    }

    /// The deployed site's `index.html` at `alias` (a branch alias, or none for production), as
    /// a browser gets it from the Pages simulator.
    pub async fn deployed_index(&self, alias: Option<&str>) -> Result<String> {
        let site = match alias {
            Some(alias) => format!("{alias}.baton-demo"),
            None => "baton-demo".to_string(),
        };
        let url = format!("{}/__sites/{site}/", self.stack.cloudflare.base_url());
        Ok(reqwest::get(&url).await?.error_for_status()?.text().await?)
    }

    /// Removes `address` from the first environment that lists it (environments are in
    /// lifecycle order) in the uploaded `baton.yaml`, and restarts the functions' host so that
    /// they read the configuration as it is now.
    pub async fn remove_approver(&mut self, address: &str) -> Result<()> {
        let key = baton_aws::settings::DEFAULT_CONFIG_KEY;
        let current = self.s3.get_object().bucket(&self.stack.bucket).key(key).send().await?;
        let yaml = String::from_utf8(current.body.collect().await?.into_bytes().to_vec())?;
        let listing = format!("- {address}");
        let mut removed = false;
        let edited: String = yaml
            .lines()
            .filter(|line| {
                let drop = !removed && line.trim() == listing;
                removed |= drop;
                !drop
            })
            .map(|line| format!("{line}\n"))
            .collect();
        if !removed {
            anyhow::bail!("{address} is not an approver in the uploaded configuration");
        }
        self.s3
            .put_object()
            .bucket(&self.stack.bucket)
            .key(key)
            .body(edited.into_bytes().into())
            .send()
            .await?;
        self.stack.restart_functions().await
    }

    /// Posts the release page's "deploy again" form: asks for a redeploy of `release` (`rel-5`)
    /// to `environment`, as `email`.
    pub async fn ask_redeploy(&self, release: &str, environment: &str, email: &str, reason: &str) -> Result<Page> {
        let form = [
            ("release", release),
            ("environment", environment),
            ("email", email),
            ("reason", reason),
        ];
        let answer = reqwest::Client::new()
            .post(format!("{}/redeploys", self.stack.http_url))
            .form(&form)
            .send()
            .await?;
        Ok(Page {
            status: answer.status().as_u16(),
            body: answer.text().await?,
        })
    }

    /// Releases the sample packages as `version` (release `number`) and takes them live in
    /// TEST: approved there, deployed, and PROD's request mailed.
    pub async fn live_in_test(&self, version: &str, number: u64) -> Result<Release> {
        let release = self.release_samples(version, number).await?;
        self.approve_from_mail(number, "TEST", "looks good").await?;
        self.approval_links(number, "PROD").await?;
        Ok(release)
    }
}

/// Options for a stack whose `baton.yaml` is the local one edited by `edit`.
pub fn config_with(edit: impl Fn(String) -> String) -> baton_local::StackOptions {
    let root = baton_local::repository_root();
    let text = std::fs::read_to_string(root.join("infra/config/baton.local.yaml")).unwrap_or_default();
    baton_local::StackOptions {
        config_yaml: Some(edit(text)),
        ..baton_local::StackOptions::ephemeral()
    }
}
