//! The simulator's world: projects, deployments, assets, JWTs, faults and counters, behind one lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::{SeedProject, SimConfig};
use crate::faults::PendingFault;
use crate::rules::{HeaderRule, RedirectRule};
use crate::stages::FailurePlan;

/// The simulator's shared state. Cheap to clone; every clone sees the same world.
#[derive(Clone)]
pub struct SimState {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub config: SimConfig,
    /// `host[:port]` that site URLs are built on.
    pub public_host: String,
    /// The key that signs upload JWTs (random per start).
    pub jwt_key: [u8; 32],
    world: Mutex<World>,
}

/// An uploaded asset.
pub(crate) struct AssetRecord {
    pub content: Vec<u8>,
    pub content_type: String,
    pub last_used: DateTime<Utc>,
}

/// A live upload JWT.
pub(crate) struct JwtRecord {
    pub project: String,
    pub expires_at: DateTime<Utc>,
}

/// A project's identity, detached from the world's borrow.
pub(crate) struct ProjectRef {
    pub id: String,
    pub name: String,
}

pub(crate) struct ProjectRecord {
    pub id: String,
    pub name: String,
    pub production_branch: String,
    pub created_on: DateTime<Utc>,
    pub deployment_configs: Value,
    /// Oldest first.
    pub deployments: Vec<DeploymentRecord>,
    /// The deployment serving production.
    pub canonical: Option<String>,
    /// Branch alias → the deployment it serves (the branch's latest successful deployment).
    pub aliases: BTreeMap<String, String>,
}

#[derive(Clone)]
pub(crate) struct DeploymentRecord {
    pub id: String,
    pub short_id: String,
    pub production: bool,
    pub branch: Option<String>,
    /// The branch alias (the production branch's for a deployment without a branch).
    pub alias: String,
    pub commit_hash: Option<String>,
    pub commit_message: Option<String>,
    pub commit_dirty: Option<bool>,
    /// The environment's variables when the deployment was created, secrets without their values
    /// (the simulator runs no Functions, so it never needs them).
    pub env_vars: Value,
    pub manifest: BTreeMap<String, String>,
    pub header_rules: Vec<HeaderRule>,
    pub redirect_rules: Vec<RedirectRule>,
    /// Problems found in `_headers` / `_redirects`, shown in the build log.
    pub warnings: Vec<String>,
    pub created_on: DateTime<Utc>,
    pub step_delay: Duration,
    pub failure: Option<FailurePlan>,
    /// Whether the end of the deployment (success or failure) has been applied to the project.
    pub settled: bool,
}

pub(crate) struct World {
    pub projects: BTreeMap<String, ProjectRecord>,
    /// Project → asset key → asset. [uncertain] Whether the real store is global, per account or per project
    /// is unknown; per project (bound by the JWT) is the strict reading the reference suggests.
    pub assets: HashMap<String, HashMap<String, AssetRecord>>,
    pub live_jwts: HashMap<String, JwtRecord>,
    pub faults: Vec<PendingFault>,
    pub next_fault_id: u64,
    pub jwt_ttl: Duration,
    pub step_delay: Duration,
    pub api_requests: u64,
    pub requests_by_endpoint: BTreeMap<&'static str, u64>,
    pub jwts_issued: u64,
    /// Start and count of the current rate-limit window.
    pub rate_window: Option<(DateTime<Utc>, u32)>,
    /// The API token accepted now: the configured one until a `rotate_token` fault replaces it.
    pub api_token: String,
    /// The status a wrong API token gets (401, or 403 after `rotate_token` asked for it).
    pub refused_token_status: u16,
}

impl World {
    fn new(config: &SimConfig, now: DateTime<Utc>) -> Self {
        let mut world = World {
            projects: BTreeMap::new(),
            assets: HashMap::new(),
            live_jwts: HashMap::new(),
            faults: Vec::new(),
            next_fault_id: 1,
            jwt_ttl: config.jwt_ttl,
            step_delay: config.step_delay,
            api_requests: 0,
            requests_by_endpoint: BTreeMap::new(),
            jwts_issued: 0,
            rate_window: None,
            api_token: config.api_token.clone(),
            refused_token_status: 401,
        };
        for seed in &config.projects {
            world.add_project(seed, json!({}), now);
        }
        world
    }

    /// Adds a project (the caller has checked the name is free).
    pub fn add_project(&mut self, seed: &SeedProject, deployment_configs: Value, now: DateTime<Utc>) -> &ProjectRecord {
        let record = ProjectRecord {
            id: new_uuid(),
            name: seed.name.clone(),
            production_branch: seed.production_branch.clone(),
            created_on: now,
            deployment_configs: complete_deployment_configs(deployment_configs),
            deployments: Vec::new(),
            canonical: None,
            aliases: BTreeMap::new(),
        };
        self.projects.entry(seed.name.clone()).or_insert(record)
    }

    /// Applies deployments that have ended since the last look: a successful one takes its branch alias
    /// and, for production, the project's production URL. Done lazily, in creation order, whenever the world
    /// is read, so no timer tasks are needed.
    fn settle(&mut self, now: DateTime<Utc>) {
        for project in self.projects.values_mut() {
            for deployment in project.deployments.iter_mut().filter(|d| !d.settled) {
                let view = deployment.stage_view(now);
                if !view.finished {
                    continue;
                }
                deployment.settled = true;
                if view.succeeded {
                    project.aliases.insert(deployment.alias.clone(), deployment.id.clone());
                    if deployment.production {
                        project.canonical = Some(deployment.id.clone());
                    }
                }
            }
        }
    }
}

/// wrangler dereferences `deployment_configs.production` and `.preview`, so both always exist.
pub(crate) fn complete_deployment_configs(configs: Value) -> Value {
    let mut configs = match configs {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    for env in ["production", "preview"] {
        let entry = configs.entry(env).or_insert_with(|| json!({}));
        if let Value::Object(settings) = entry {
            settings
                .entry("compatibility_date")
                .or_insert_with(|| json!("2026-08-01"));
            settings.entry("compatibility_flags").or_insert_with(|| json!([]));
            settings.entry("env_vars").or_insert_with(|| json!({}));
        }
    }
    Value::Object(configs)
}

impl SimState {
    /// A fresh world for `config`, serving site URLs on `localhost:<port>` unless `config.public_host` says
    /// otherwise.
    pub fn new(config: SimConfig, port: u16) -> Self {
        let public_host = config
            .public_host
            .clone()
            .unwrap_or_else(|| format!("localhost:{port}"));
        let world = World::new(&config, Utc::now());
        SimState {
            shared: Arc::new(Shared {
                jwt_key: random_bytes(),
                public_host,
                config,
                world: Mutex::new(world),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The host (and port) site URLs are built on.
    pub fn public_host(&self) -> &str {
        &self.shared.public_host
    }

    /// Locks the world, first applying any deployments that have ended.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        let mut world = self
            .shared
            .world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        world.settle(Utc::now());
        world
    }

    /// Rotates the API token: only `token` is accepted from now on; any other gets `refused_status`
    /// (401 or 403) with code 10000. The same as posting a `rotate_token` fault.
    pub fn rotate_token(&self, token: &str, refused_status: u16) -> Result<(), String> {
        self.add_fault(crate::FaultSpec::RotateToken {
            token: token.to_string(),
            status: Some(refused_status),
        })
        .map(|_| ())
    }

    /// Back to the start: seed projects only; no deployments, assets, JWTs, faults or counts; the
    /// configured API token.
    pub fn reset(&self) {
        let mut world = self.world();
        *world = World::new(&self.shared.config, Utc::now());
    }

    /// The URL scheme and host of a site: `http://<label>.<public_host>`.
    pub(crate) fn site_url(&self, label: &str) -> String {
        format!("http://{label}.{}", self.shared.public_host)
    }
}

/// RFC 3339 with microseconds, as Cloudflare writes timestamps.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Random bytes from the OS; if that ever fails, a hash of the time and a counter (ids only need to be unique).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    static FALLBACK_COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        let mut seed = Vec::new();
        for (block, chunk) in bytes.chunks_mut(32).enumerate() {
            seed.clear();
            seed.extend_from_slice(&Utc::now().timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
            seed.extend_from_slice(&FALLBACK_COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
            seed.extend_from_slice(&(block as u64).to_le_bytes());
            let digest = Sha256::digest(&seed);
            chunk.copy_from_slice(&digest[..chunk.len()]);
        }
    }
    bytes
}

/// A random (version 4) UUID.
pub(crate) fn new_uuid() -> String {
    let mut bytes: [u8; 16] = random_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
