//! Real wrangler against the Cloudflare Pages simulator: a simulator started in-process, a scratch
//! folder, and wrangler run there with only the environment a CI job would give it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use baton_sim_cloudflare::{RunningSim, SimConfig};

use crate::{Ran, fidelity_dir, tool};

/// A running Pages simulator and a scratch folder to run wrangler in.
pub struct PagesBench {
    /// The simulator (in-process; stopped when dropped).
    pub sim: RunningSim,
    /// The scratch folder (`tests/fidelity/.work/<name>-<pid>`), emptied at start.
    pub dir: PathBuf,
}

impl PagesBench {
    /// Starts a simulator with fast deployment stages and makes a fresh scratch folder `name`.
    pub async fn start(name: &str) -> Result<Self> {
        let config = SimConfig {
            // Five stages of 20 ms: wrangler's first status poll (after 1 s) sees the deployment done.
            step_delay: Duration::from_millis(20),
            ..SimConfig::default()
        };
        let sim = baton_sim_cloudflare::start(config, 0)
            .await
            .context("starting the Pages simulator")?;
        let dir = fidelity_dir()
            .join(".work")
            .join(format!("{name}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("emptying {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(PagesBench { sim, dir })
    }

    /// What wrangler needs to talk to the simulator without a login or a prompt.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let config = self.sim.state().config();
        vec![
            ("CLOUDFLARE_API_BASE_URL", self.sim.url()),
            ("CLOUDFLARE_API_TOKEN", config.api_token.clone()),
            ("CLOUDFLARE_ACCOUNT_ID", config.account_id.clone()),
            ("WRANGLER_SEND_METRICS", "false".to_string()),
            // Non-interactive: prompts take their fallback values instead of waiting.
            ("CI", "1".to_string()),
            ("FORCE_COLOR", "0".to_string()),
            // No banner, hence no update check against the npm registry: the suite stays offline.
            ("WRANGLER_HIDE_BANNER", "true".to_string()),
        ]
    }

    /// Runs `wrangler <args>` in the scratch folder.
    pub async fn wrangler(&self, args: &[&str]) -> Result<Ran> {
        self.wrangler_in(&self.dir, args, None).await
    }

    /// Runs `wrangler <args>` in `dir`, with `stdin` piped in when given (as `echo value | wrangler ...`).
    pub async fn wrangler_in(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> Result<Ran> {
        crate::run_program_with_stdin(&tool("wrangler")?, args, &self.env(), dir, stdin).await
    }

    /// Writes `files` (relative path, content) under `<scratch>/<name>` and returns that folder.
    pub fn write_site(&self, name: &str, files: &[(&str, &str)]) -> Result<PathBuf> {
        let root = self.dir.join(name);
        for (path, content) in files {
            let file = root.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&file, content).with_context(|| format!("writing {}", file.display()))?;
        }
        Ok(root)
    }

    /// Calls the simulator's API as a script would (`path` under `/accounts/<account>`, e.g.
    /// `/pages/projects/p`), with the API token; returns the whole envelope.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value> {
        let config = self.sim.state().config();
        let url = format!("{}/accounts/{}{path}", self.sim.url(), config.account_id);
        let mut request = reqwest::Client::new()
            .request(method.clone(), &url)
            .bearer_auth(&config.api_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| format!("{method} {url}"))?;
        response
            .json()
            .await
            .with_context(|| format!("{method} {url}: not JSON"))
    }

    /// GETs `path` of the site at `<labels>.<public host>` (e.g. `my-site` or `feature-x.my-site`),
    /// as a browser would (by its `Host`), without following redirects.
    pub async fn site(&self, labels: &str, path: &str) -> Result<SiteAnswer> {
        let url = format!("{}{path}", self.sim.base_url());
        let host = format!("{labels}.{}", self.sim.state().public_host());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building an HTTP client")?;
        let response = client
            .get(&url)
            .header(reqwest::header::HOST, &host)
            .send()
            .await
            .with_context(|| format!("GET {url} (Host {host})"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.with_context(|| format!("reading {url}"))?;
        Ok(SiteAnswer { status, headers, body })
    }
}

/// A deployed site's answer.
#[derive(Debug)]
pub struct SiteAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl SiteAnswer {
    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }
}
