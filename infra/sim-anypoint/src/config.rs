//! The simulator's configuration: credentials, organisation, environments, Exchange seed, timing.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::SimError;

/// Default connected-app client id.
pub const DEFAULT_CLIENT_ID: &str = "local-anypoint-client";
/// Default connected-app client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "local-anypoint-secret";
/// Default organisation id (also the default Exchange group id).
pub const DEFAULT_ORG_ID: &str = "7d1f3a52-6c1e-4b8a-9d3e-2f6a1b0c9e41";
/// Default organisation name.
pub const DEFAULT_ORG_NAME: &str = "Baton Demo";
/// Fixed id of the default `Sandbox` environment.
pub const DEFAULT_SANDBOX_ENV_ID: &str = "0b6e5d1c-3f2a-4e8b-9c7d-5a4b3c2d1e01";
/// Fixed id of the default `Production` environment.
pub const DEFAULT_PRODUCTION_ENV_ID: &str = "0b6e5d1c-3f2a-4e8b-9c7d-5a4b3c2d1e02";
/// Default time a deployment takes from APPLYING to APPLIED (or FAILED).
pub const DEFAULT_APPLY_DELAY: Duration = Duration::from_secs(1);
/// Default token lifetime (`expires_in`).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// An environment of the simulated organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentSeed {
    /// Environment id.
    pub id: String,
    /// Environment name (matched case-sensitively by clients).
    pub name: String,
    /// Whether it is a production environment.
    pub production: bool,
}

/// An asset version present in the simulated Exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetSeed {
    /// Group id; `None` means the organisation id (as Mule apps publish).
    pub group_id: Option<String>,
    /// Asset id (Maven artifactId).
    pub asset_id: String,
    /// Version.
    pub version: String,
}

/// An asset version whose deployments crash-loop and end FAILED. It is also published to the
/// simulated Exchange, so it can be deployed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingVersion {
    /// Group id; `None` means the organisation id.
    pub group_id: Option<String>,
    /// Asset id.
    pub asset_id: String,
    /// Version.
    pub version: String,
    /// Replica reason to report; a CrashLoopBackoff message when `None`.
    pub reason: Option<String>,
}

/// Everything the simulator needs to start. [`SimConfig::default`] documents the defaults; the
/// fields match the `baton-local sim anypoint` flags (`--client-id`, `--client-secret`, `--org`,
/// `--seed`).
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Client id the token endpoint accepts. Default [`DEFAULT_CLIENT_ID`].
    pub client_id: String,
    /// Client secret the token endpoint accepts. Default [`DEFAULT_CLIENT_SECRET`].
    pub client_secret: String,
    /// Organisation id. Default [`DEFAULT_ORG_ID`].
    pub org_id: String,
    /// Organisation name. Default [`DEFAULT_ORG_NAME`].
    pub org_name: String,
    /// Environments. Default `Sandbox` ([`DEFAULT_SANDBOX_ENV_ID`]) and `Production` ([`DEFAULT_PRODUCTION_ENV_ID`]).
    pub environments: Vec<EnvironmentSeed>,
    /// APPLYING → APPLIED (or FAILED) time; replicas go PENDING for the first third, then
    /// STARTING. Zero is allowed (done at the next read). Default [`DEFAULT_APPLY_DELAY`].
    pub apply_delay: Duration,
    /// Token lifetime. Default [`DEFAULT_TOKEN_TTL`].
    pub token_ttl: Duration,
    /// Exchange asset versions. Default: `patient-api` 1.4.2 and 1.5.0, `admissions-api` 2.1.0
    /// and 2.2.0, in the organisation's group.
    pub assets: Vec<AssetSeed>,
    /// Versions that fail to start. Default none.
    pub failing_versions: Vec<FailingVersion>,
}

impl Default for SimConfig {
    fn default() -> Self {
        let asset = |asset_id: &str, version: &str| AssetSeed {
            group_id: None,
            asset_id: asset_id.to_string(),
            version: version.to_string(),
        };
        Self {
            client_id: DEFAULT_CLIENT_ID.to_string(),
            client_secret: DEFAULT_CLIENT_SECRET.to_string(),
            org_id: DEFAULT_ORG_ID.to_string(),
            org_name: DEFAULT_ORG_NAME.to_string(),
            environments: vec![
                EnvironmentSeed {
                    id: DEFAULT_SANDBOX_ENV_ID.into(),
                    name: "Sandbox".into(),
                    production: false,
                },
                EnvironmentSeed {
                    id: DEFAULT_PRODUCTION_ENV_ID.into(),
                    name: "Production".into(),
                    production: true,
                },
            ],
            apply_delay: DEFAULT_APPLY_DELAY,
            token_ttl: DEFAULT_TOKEN_TTL,
            assets: vec![
                asset("patient-api", "1.4.2"),
                asset("patient-api", "1.5.0"),
                asset("admissions-api", "2.1.0"),
                asset("admissions-api", "2.2.0"),
            ],
            failing_versions: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Replaces the apply delay.
    pub fn with_apply_delay(mut self, delay: Duration) -> Self {
        self.apply_delay = delay;
        self
    }

    /// Adds an asset version in the organisation's group.
    pub fn with_asset(mut self, asset_id: &str, version: &str) -> Self {
        self.assets.push(AssetSeed {
            group_id: None,
            asset_id: asset_id.into(),
            version: version.into(),
        });
        self
    }

    /// Adds a failing version in the organisation's group (published too).
    pub fn with_failing_version(mut self, asset_id: &str, version: &str) -> Self {
        self.failing_versions.push(FailingVersion {
            group_id: None,
            asset_id: asset_id.into(),
            version: version.into(),
            reason: None,
        });
        self
    }

    /// Reads a YAML (or JSON, a YAML subset) seed file; absent fields keep their defaults, and a
    /// given `assets` list replaces the default assets. See the crate README for the format.
    pub fn from_seed_file(path: impl AsRef<Path>) -> Result<Self, SimError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Seed {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_seed_str(&text).map_err(|message| SimError::Seed {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses seed text (YAML or JSON) over the defaults.
    pub fn from_seed_str(text: &str) -> Result<Self, String> {
        let seed: SeedFile = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let mut config = Self::default();
        if let Some(v) = seed.client_id {
            config.client_id = v;
        }
        if let Some(v) = seed.client_secret {
            config.client_secret = v;
        }
        if let Some(v) = seed.org_id {
            config.org_id = v;
        }
        if let Some(v) = seed.org_name {
            config.org_name = v;
        }
        if let Some(ms) = seed.apply_delay_ms {
            config.apply_delay = Duration::from_millis(ms);
        }
        if let Some(seconds) = seed.token_ttl_seconds {
            config.token_ttl = Duration::from_secs(seconds.max(1));
        }
        if let Some(environments) = seed.environments {
            config.environments = environments
                .into_iter()
                .enumerate()
                .map(|(index, e)| EnvironmentSeed {
                    id: e
                        .id
                        .unwrap_or_else(|| format!("0b6e5d1c-3f2a-4e8b-9c7d-5a4b3c2d{:04x}", 0x1e01 + index)),
                    name: e.name,
                    production: e.production,
                })
                .collect();
        }
        if let Some(assets) = seed.assets {
            config.assets = assets
                .into_iter()
                .flat_map(|entry| {
                    let mut versions: Vec<String> = entry.versions.into_iter().map(|v| v.0).collect();
                    versions.extend(entry.version.map(|v| v.0));
                    let (group_id, asset_id) = (entry.group_id, entry.asset_id);
                    versions.into_iter().map(move |version| AssetSeed {
                        group_id: group_id.clone(),
                        asset_id: asset_id.clone(),
                        version,
                    })
                })
                .collect();
        }
        for entry in seed.failing.unwrap_or_default() {
            config.failing_versions.push(FailingVersion {
                group_id: entry.group_id,
                asset_id: entry.asset_id,
                version: entry.version.0,
                reason: entry.reason,
            });
        }
        if config.environments.is_empty() {
            return Err("at least one environment is needed".to_string());
        }
        Ok(config)
    }
}

/// A version written as a string or, carelessly, as a YAML number (`1.5`): both are read as text.
/// Quote versions such as `"1.10"`, which a YAML number would turn into 1.1.
#[derive(Debug)]
struct VersionText(String);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_yaml::Value::deserialize(deserializer)? {
            serde_yaml::Value::String(s) => Ok(Self(s)),
            serde_yaml::Value::Number(n) => Ok(Self(n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "a version must be a string, got {other:?}"
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    client_id: Option<String>,
    client_secret: Option<String>,
    org_id: Option<String>,
    org_name: Option<String>,
    apply_delay_ms: Option<u64>,
    token_ttl_seconds: Option<u64>,
    environments: Option<Vec<SeedEnvironment>>,
    assets: Option<Vec<SeedAsset>>,
    failing: Option<Vec<SeedFailing>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedEnvironment {
    name: String,
    id: Option<String>,
    #[serde(default)]
    production: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAsset {
    group_id: Option<String>,
    asset_id: String,
    #[serde(default)]
    versions: Vec<VersionText>,
    version: Option<VersionText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFailing {
    group_id: Option<String>,
    asset_id: String,
    version: VersionText,
    reason: Option<String>,
}
