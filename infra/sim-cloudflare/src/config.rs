//! The simulator's settings and their defaults.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The API token the simulator accepts by default.
pub const DEFAULT_API_TOKEN: &str = "local-cloudflare-token";
/// The account id the simulator serves by default.
pub const DEFAULT_ACCOUNT_ID: &str = "023e105f4ecef8ad9ca31a8372d0c353";
/// The project seeded by default.
pub const DEFAULT_PROJECT: &str = "baton-demo";
/// The seeded project's production branch.
pub const DEFAULT_PRODUCTION_BRANCH: &str = "main";

/// A project that exists when the simulator starts (and again after `POST /__admin/reset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProject {
    /// The project name (lowercase letters, digits and `-`).
    pub name: String,
    /// The branch whose deployments are production.
    pub production_branch: String,
}

impl SeedProject {
    /// A seed project.
    pub fn new(name: impl Into<String>, production_branch: impl Into<String>) -> Self {
        SeedProject {
            name: name.into(),
            production_branch: production_branch.into(),
        }
    }
}

/// A request budget: more than `requests` API calls within `window` get HTTP 429, code 971 and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// API requests allowed per window.
    pub requests: u32,
    /// The window (Cloudflare's global limit is 1 200 per 5 minutes).
    pub window: Duration,
}

/// The simulator's settings. `SimConfig::default()` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The API token accepted as `Authorization: Bearer <token>` (default `local-cloudflare-token`).
    /// `baton-local sim cloudflare --token`.
    pub api_token: String,
    /// The one account served (default `023e105f4ecef8ad9ca31a8372d0c353`). `--account`.
    pub account_id: String,
    /// Projects that exist at start (default `baton-demo` with production branch `main`).
    pub projects: Vec<SeedProject>,
    /// How long each of the 5 deployment stages takes (default 200 ms, so a deployment succeeds in 1 s;
    /// zero makes it succeed at creation).
    pub step_delay: Duration,
    /// Lifetime of the upload JWTs (default 15 min; the real lifetime is undocumented).
    pub jwt_ttl: Duration,
    /// The `max_file_count_allowed` claim of upload JWTs (default 20 000, the Free plan).
    pub max_file_count_allowed: u64,
    /// The host (and port) that site URLs are built on: a deployment is `http://<short-id>.<project>.<public_host>`.
    /// Default `localhost:<port>`: browsers resolve `*.localhost` to the loopback address.
    pub public_host: Option<String>,
    /// The address to listen on (default 127.0.0.1; use 0.0.0.0 inside a container).
    pub bind_address: IpAddr,
    /// An optional request budget (default none).
    pub rate_limit: Option<RateLimit>,
    /// The largest request body accepted (default 100 MiB: an upload request carries up to ~54 MiB of JSON).
    pub max_body_bytes: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            api_token: DEFAULT_API_TOKEN.to_string(),
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
            projects: vec![SeedProject::new(DEFAULT_PROJECT, DEFAULT_PRODUCTION_BRANCH)],
            step_delay: Duration::from_millis(200),
            jwt_ttl: Duration::from_secs(15 * 60),
            max_file_count_allowed: 20_000,
            public_host: None,
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rate_limit: None,
            max_body_bytes: 100 * 1024 * 1024,
        }
    }
}

impl SimConfig {
    /// The defaults with another token and account (what `baton-local sim cloudflare --token --account` sets).
    pub fn with_credentials(api_token: impl Into<String>, account_id: impl Into<String>) -> Self {
        SimConfig {
            api_token: api_token.into(),
            account_id: account_id.into(),
            ..SimConfig::default()
        }
    }
}
