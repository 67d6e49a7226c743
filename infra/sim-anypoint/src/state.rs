//! The simulator's in-memory world, behind one mutex (handlers never hold it across an await).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::SimConfig;
use crate::deployment::Deployment;

/// Exchange coordinates: (group id, asset id, version).
pub(crate) type AssetKey = (String, String, String);

/// An Exchange asset version.
#[derive(Debug, Clone)]
pub(crate) struct AssetRecord {
    /// Before this instant the version answers 404 (simulated publication lag, §5.2).
    pub(crate) visible_from: Instant,
    pub(crate) created_ms: i64,
}

/// A fault to inject: the next `count` matching requests are answered with `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// HTTP status to answer with (e.g. 429, 500, 503).
    pub status: u16,
    /// How many matching requests fail. Default 1.
    #[serde(default = "one")]
    pub count: u32,
    /// Only requests whose path contains this substring. Default: any path.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only requests with this method (case-insensitive). Default: any method.
    #[serde(default)]
    pub method: Option<String>,
    /// `Retry-After` header value in seconds. Default none.
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
    /// Message in the error body. Default: the status's reason phrase.
    #[serde(default)]
    pub message: Option<String>,
    /// Let the request take effect, then answer with the fault (e.g. a 500 on a POST that did
    /// create the deployment, §10 fault 4). Default false.
    #[serde(default)]
    pub after_handler: bool,
}

fn one() -> u32 {
    1
}

impl FaultSpec {
    /// A fault for the next `count` requests of any path.
    pub fn new(status: u16, count: u32) -> Self {
        Self {
            status,
            count,
            path_contains: None,
            method: None,
            retry_after_seconds: None,
            message: None,
            after_handler: false,
        }
    }

    /// Restricts the fault to paths containing `fragment`.
    pub fn on_path(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_string());
        self
    }

    /// Restricts the fault to one HTTP method.
    pub fn on_method(mut self, method: &str) -> Self {
        self.method = Some(method.to_string());
        self
    }

    /// Adds a `Retry-After` header.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.count > 0
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|fragment| path.contains(fragment))
    }
}

/// Everything the simulator knows.
pub(crate) struct World {
    pub(crate) config: SimConfig,
    pub(crate) tokens: HashMap<String, Instant>,
    /// Tokens issued before the last credential rotation, and the status they get (401 or 403).
    pub(crate) revoked_tokens: HashMap<String, u16>,
    pub(crate) tokens_issued: u64,
    pub(crate) assets: BTreeMap<AssetKey, AssetRecord>,
    pub(crate) failing: HashMap<AssetKey, Option<String>>,
    pub(crate) deployments: BTreeMap<String, Deployment>,
    pub(crate) faults: Vec<FaultSpec>,
    pub(crate) requests_total: u64,
    pub(crate) requests_by_path: BTreeMap<String, u64>,
    /// Access Management rate-limit window: (epoch minute, requests in it).
    pub(crate) accounts_window: (u64, u64),
}

impl World {
    fn new(config: SimConfig) -> Self {
        let mut world = Self {
            config,
            tokens: HashMap::new(),
            revoked_tokens: HashMap::new(),
            tokens_issued: 0,
            assets: BTreeMap::new(),
            failing: HashMap::new(),
            deployments: BTreeMap::new(),
            faults: Vec::new(),
            requests_total: 0,
            requests_by_path: BTreeMap::new(),
            accounts_window: (0, 0),
        };
        for seed in world.config.assets.clone() {
            world.add_asset(seed.group_id.as_deref(), &seed.asset_id, &seed.version, Duration::ZERO);
        }
        for failing in world.config.failing_versions.clone() {
            world.mark_failing(
                failing.group_id.as_deref(),
                &failing.asset_id,
                &failing.version,
                failing.reason,
            );
        }
        world
    }

    /// The group id, defaulting to the organisation id.
    pub(crate) fn group(&self, group_id: Option<&str>) -> String {
        group_id
            .filter(|g| !g.is_empty())
            .unwrap_or(&self.config.org_id)
            .to_string()
    }

    pub(crate) fn add_asset(&mut self, group_id: Option<&str>, asset_id: &str, version: &str, lag: Duration) {
        let key = (self.group(group_id), asset_id.to_string(), version.to_string());
        let record = AssetRecord {
            visible_from: Instant::now() + lag,
            created_ms: crate::http::now_ms(),
        };
        self.assets.entry(key).or_insert(record);
    }

    pub(crate) fn mark_failing(
        &mut self,
        group_id: Option<&str>,
        asset_id: &str,
        version: &str,
        reason: Option<String>,
    ) {
        self.add_asset(group_id, asset_id, version, Duration::ZERO);
        self.failing.insert(
            (self.group(group_id), asset_id.to_string(), version.to_string()),
            reason,
        );
    }

    /// The visible asset version, if any.
    pub(crate) fn visible_asset(&self, key: &AssetKey) -> Option<&AssetRecord> {
        self.assets
            .get(key)
            .filter(|record| Instant::now() >= record.visible_from)
    }

    pub(crate) fn token_is_valid(&self, token: &str) -> bool {
        self.tokens.get(token).is_some_and(|expires| Instant::now() < *expires)
    }

    /// The status a token revoked by a credential rotation gets, if it was one.
    pub(crate) fn revoked_status(&self, token: &str) -> Option<u16> {
        self.revoked_tokens.get(token).copied()
    }

    /// Rotates the connected app's secret (and id, when given): the token call accepts only the new
    /// credentials, and every token issued so far is refused with `refused_status` (401 or 403).
    pub(crate) fn rotate_credentials(
        &mut self,
        client_id: Option<&str>,
        client_secret: &str,
        refused_status: u16,
    ) -> Result<(), String> {
        if client_secret.is_empty() {
            return Err("client_secret must not be empty".to_string());
        }
        if refused_status != 401 && refused_status != 403 {
            return Err(format!("refused_status must be 401 or 403, got {refused_status}"));
        }
        if let Some(id) = client_id.filter(|id| !id.is_empty()) {
            self.config.client_id = id.to_string();
        }
        self.config.client_secret = client_secret.to_string();
        for (token, _) in self.tokens.drain() {
            self.revoked_tokens.insert(token, refused_status);
        }
        Ok(())
    }

    pub(crate) fn environment_name(&self, env_id: &str) -> Option<&str> {
        self.config
            .environments
            .iter()
            .find(|e| e.id == env_id)
            .map(|e| e.name.as_str())
    }

    /// Counts the request and takes the first matching fault, if any.
    pub(crate) fn on_request(&mut self, method: &str, path: &str) -> Option<FaultSpec> {
        self.requests_total += 1;
        *self.requests_by_path.entry(format!("{method} {path}")).or_default() += 1;
        let fault = self.faults.iter_mut().find(|f| f.matches(method, path))?;
        fault.count -= 1;
        let taken = fault.clone();
        self.faults.retain(|f| f.count > 0);
        Some(taken)
    }

    /// Settles every deployment's lifecycle to now.
    pub(crate) fn advance_all(&mut self) {
        let delay = self.config.apply_delay;
        for deployment in self.deployments.values_mut() {
            deployment.advance(delay);
        }
    }

    /// The `GET /__admin/state` document.
    pub(crate) fn snapshot(&mut self) -> Value {
        self.advance_all();
        let delay = self.config.apply_delay;
        let environments: Vec<Value> = self
            .config
            .environments
            .iter()
            .map(|env| {
                let deployments: Vec<Value> = self
                    .deployments
                    .values()
                    .filter(|d| d.env_id == env.id)
                    .map(|d| d.detail_json(delay))
                    .collect();
                json!({ "id": env.id, "name": env.name, "deployments": deployments })
            })
            .collect();
        let assets: Vec<Value> = self
            .assets
            .keys()
            .map(|key| {
                json!({ "group_id": key.0, "asset_id": key.1, "version": key.2, "failing": self.failing.contains_key(key) })
            })
            .collect();
        json!({
            "requests_total": self.requests_total,
            "requests_by_path": self.requests_by_path,
            "tokens_issued": self.tokens_issued,
            "environments": environments,
            "assets": assets,
            "pending_faults": self.faults,
            "apply_delay_ms": delay.as_millis() as u64,
        })
    }
}

/// Shared handle on the simulator's state; clone freely. Tests can drive the simulator through it
/// without HTTP (the admin endpoints call the same methods).
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Mutex<World>>,
}

impl SimState {
    /// A fresh world from `config`.
    pub fn new(config: SimConfig) -> Self {
        Self {
            inner: Arc::new(Mutex::new(World::new(config))),
        }
    }

    /// Locks the world. A poisoned lock (a panicked handler) is recovered: the data is still usable.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A copy of the current configuration.
    pub fn config(&self) -> SimConfig {
        self.world().config.clone()
    }

    /// Publishes an asset version (group `None` = the organisation).
    pub fn add_asset(&self, group_id: Option<&str>, asset_id: &str, version: &str) {
        self.world().add_asset(group_id, asset_id, version, Duration::ZERO);
    }

    /// Marks an asset version as failing to start (and publishes it).
    pub fn mark_failing(&self, group_id: Option<&str>, asset_id: &str, version: &str, reason: Option<String>) {
        self.world().mark_failing(group_id, asset_id, version, reason);
    }

    /// Lets an asset version start again (the cause of its failures fixed).
    pub fn clear_failing(&self, group_id: Option<&str>, asset_id: &str, version: &str) {
        let mut world = self.world();
        let key = (world.group(group_id), asset_id.to_string(), version.to_string());
        world.failing.remove(&key);
    }

    /// Queues a fault.
    pub fn inject_fault(&self, fault: FaultSpec) {
        self.world().faults.push(fault);
    }

    /// Drops every pending fault (the end of a storm).
    pub fn clear_faults(&self) {
        self.world().faults.clear();
    }

    /// Invalidates every issued token, so the next call with one gets a 401.
    pub fn expire_tokens(&self) {
        self.world().tokens.clear();
    }

    /// Rotates the connected app's client secret (and client id, when given), as an administrator
    /// would in Access Management: the token call accepts only the new credentials from now on, and
    /// tokens issued before are refused with `refused_status` (401, or 403). Runtime state: a
    /// [`SimState::reset`] keeps it.
    pub fn rotate_credentials(
        &self,
        client_id: Option<&str>,
        client_secret: &str,
        refused_status: u16,
    ) -> Result<(), String> {
        self.world()
            .rotate_credentials(client_id, client_secret, refused_status)
    }

    /// Changes the apply delay for rollouts started from now on (and those in flight).
    pub fn set_apply_delay(&self, delay: Duration) {
        self.world().config.apply_delay = delay;
    }

    /// Non-admin requests received so far.
    pub fn requests_total(&self) -> u64 {
        self.world().requests_total
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.world().tokens_issued
    }

    /// The `GET /__admin/state` document.
    pub fn snapshot(&self) -> Value {
        self.world().snapshot()
    }

    /// Back to the configured seed: no deployments, tokens, faults or counts.
    pub fn reset(&self) {
        let mut world = self.world();
        let config = world.config.clone();
        *world = World::new(config);
    }
}
