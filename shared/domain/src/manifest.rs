//! The state package: an Anypoint desired-state manifest, schema v1.
//!
//! It says which Mule applications run on CloudHub 2.0, at which Exchange asset version, and
//! how (runtime, replicas, vCores, properties), with optional per-environment overrides.
//! Secrets never appear in it: secure properties are references to Secrets Manager.
//! The documented example is `samples/state/manifest.yaml`; the reference is `docs/manifest.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::STATE_MAX_BYTES;
use crate::package::{PackageContents, RejectCode, Rejection};
use crate::version::Version;

/// The only schema version this build understands.
pub const SCHEMA_VERSION: u32 = 1;
/// vCore sizes CloudHub 2.0 offers (classic pricing).
pub const VCORE_SIZES: [f64; 10] = [0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0];
/// Property name fragments that mark a value as secret.
const SECRET_HINTS: [&str; 8] = [
    "password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "private",
];

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The applications, names unique.
    pub applications: Vec<Application>,
}

/// One Mule application as the manifest wants it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Application {
    /// CloudHub application name: 3 to 42 of `[A-Za-z0-9-]`, starting with a letter, not ending in `-`.
    pub name: String,
    /// The Exchange asset to run.
    pub asset: AssetRef,
    /// Mule runtime version, e.g. `4.9.0` or `4.6.0:40e-java17`.
    pub runtime_version: String,
    /// Replica count, 1 to 8.
    #[serde(default = "one")]
    pub replicas: u32,
    /// Size per replica, one of [`VCORE_SIZES`].
    #[serde(default = "smallest_vcores")]
    pub v_cores: f64,
    /// Plain application properties.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
    /// Secure properties, each a reference to a Secrets Manager secret.
    #[serde(default)]
    pub secure_properties: BTreeMap<String, SecretRef>,
    /// Per-environment overrides, keyed by environment name.
    #[serde(default)]
    pub environments: BTreeMap<String, Override>,
}

fn one() -> u32 {
    1
}
fn smallest_vcores() -> f64 {
    0.1
}

/// Exchange coordinates of a Mule application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetRef {
    /// Exchange group id (usually the organisation id).
    pub group_id: String,
    /// Exchange artifact id.
    pub artifact_id: String,
    /// Asset version (SemVer 2.0, checked at validation).
    pub version: String,
}

/// A property value: YAML strings, numbers and booleans are all sent to CloudHub as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// Text.
    Text(String),
    /// A number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

impl PropertyValue {
    /// The value as CloudHub receives it.
    pub fn as_text(&self) -> String {
        match self {
            PropertyValue::Text(t) => t.clone(),
            PropertyValue::Number(n) => n.to_string(),
            PropertyValue::Bool(b) => b.to_string(),
        }
    }
}

/// Where a secure property's value lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Secrets Manager secret name, under the component's `secure_properties_prefix` (see
    /// [`check_secret_name`]).
    pub secret: String,
    /// The JSON key inside the secret; the whole secret string when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// What may change per environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Override {
    /// Replica count in this environment.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Size in this environment.
    #[serde(default)]
    pub v_cores: Option<f64>,
    /// Runtime in this environment.
    #[serde(default)]
    pub runtime_version: Option<String>,
    /// Properties merged over the base ones.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
    /// Secure properties merged over the base ones.
    #[serde(default)]
    pub secure_properties: BTreeMap<String, SecretRef>,
}

/// An application with its environment's overrides applied: what CloudHub should run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedApplication {
    /// Application name.
    pub name: String,
    /// Exchange asset.
    pub asset: AssetRef,
    /// Runtime version.
    pub runtime_version: String,
    /// Replicas.
    pub replicas: u32,
    /// vCores.
    pub v_cores: f64,
    /// Properties as text.
    pub properties: BTreeMap<String, String>,
    /// Secure property references.
    pub secure_properties: BTreeMap<String, SecretRef>,
}

/// Only the schema version, read first so a manifest of another version is refused as such
/// rather than for the fields it does not share with version 1.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawManifest {
    schema_version: u32,
    applications: Vec<Application>,
}

impl Manifest {
    /// Parses and validates a manifest (YAML or JSON). `environments` are the configured
    /// environment names an override may name.
    pub fn parse(bytes: &[u8], environments: &[&str]) -> Result<Manifest, Rejection> {
        if bytes.is_empty() {
            return Err(Rejection::new(
                RejectCode::Empty,
                "the manifest is empty (0 bytes); upload a desired-state manifest (see docs/manifest.md)",
            ));
        }
        // Checked before anything is parsed: ingest never reads more, but the rule is the
        // manifest's own.
        if bytes.len() as u64 > STATE_MAX_BYTES {
            return Err(Rejection::new(
                RejectCode::TooLarge,
                format!(
                    "the manifest is {} bytes; a manifest may be at most {} bytes (1 MiB): list only the applications and their settings (see docs/manifest.md)",
                    bytes.len(),
                    STATE_MAX_BYTES
                ),
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| {
            invalid(
                "manifest",
                "is not UTF-8 text; upload the YAML manifest (see docs/manifest.md)",
            )
        })?;
        // Anchors, aliases and tags are refused on the event stream, before anything is built:
        // an alias is where a small document starts expanding into gigabytes.
        yaml::screen(text).map_err(|refused| match refused {
            yaml::Screened::Syntax(e) => invalid("manifest", &format!("is not valid YAML or JSON: {e}")),
            yaml::Screened::Refused { what, line } => invalid(
                "manifest",
                &format!(
                    "uses {what} at line {line}; manifests may not use YAML anchors, aliases or tags (they can expand a small file into gigabytes): write every value out in full"
                ),
            ),
        })?;
        let probe: VersionProbe = yaml::from_str(text).map_err(|e| {
            invalid(
                "manifest",
                &format!("must be a mapping that starts with `schemaVersion: 1` ({})", e.message),
            )
        })?;
        match probe.schema_version {
            Some(serde_json::Value::Number(v)) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(serde_json::Value::Null) | None => {
                return Err(invalid(
                    "schemaVersion",
                    "is missing; start the manifest with `schemaVersion: 1`",
                ));
            }
            Some(v) => {
                return Err(invalid(
                    "schemaVersion",
                    &format!("is {v}; this Baton understands schemaVersion 1"),
                ));
            }
        }
        let raw: RawManifest = yaml::from_str(text).map_err(|e| match e.path {
            Some(path) => invalid(&path, &e.message),
            None => invalid("manifest", &e.message),
        })?;
        let manifest = Manifest {
            schema_version: raw.schema_version,
            applications: raw.applications,
        };
        manifest.validate(environments)?;
        Ok(manifest)
    }

    fn validate(&self, environments: &[&str]) -> Result<(), Rejection> {
        if self.applications.is_empty() {
            return Err(invalid("applications", "is empty; list at least one application"));
        }
        let mut names = BTreeSet::new();
        for (i, app) in self.applications.iter().enumerate() {
            let at = format!("applications[{i}]");
            if !is_application_name(&app.name) {
                return Err(invalid(
                    &format!("{at}.name"),
                    &format!(
                        "'{}' is not a valid CloudHub name: 3 to 42 letters, digits or '-', starting with a letter, not ending with '-'",
                        app.name
                    ),
                ));
            }
            if !names.insert(app.name.to_ascii_lowercase()) {
                return Err(invalid(
                    &format!("{at}.name"),
                    &format!("'{}' appears twice; application names must be unique", app.name),
                ));
            }
            for (field, value) in [("groupId", &app.asset.group_id), ("artifactId", &app.asset.artifact_id)] {
                if value.trim().is_empty() || value.contains(char::is_whitespace) || value.contains('/') {
                    return Err(invalid(
                        &format!("{at}.asset.{field}"),
                        "must be a non-empty Exchange coordinate without spaces or '/'",
                    ));
                }
            }
            if let Err(e) = Version::parse(&app.asset.version) {
                return Err(invalid(&format!("{at}.asset.version"), &e.to_string()));
            }
            check_sizing(&at, Some(&app.runtime_version), Some(app.replicas), Some(app.v_cores))?;
            check_properties(&format!("{at}.properties"), &app.properties)?;
            check_secure(&format!("{at}.secureProperties"), &app.secure_properties)?;
            for (env, o) in &app.environments {
                let env_at = format!("{at}.environments.{env}");
                if !environments.contains(&env.as_str()) {
                    return Err(invalid(
                        &env_at,
                        &format!(
                            "is not a configured environment; overrides may name: {}",
                            environments.join(", ")
                        ),
                    ));
                }
                check_sizing(&env_at, o.runtime_version.as_ref(), o.replicas, o.v_cores)?;
                check_properties(&format!("{env_at}.properties"), &o.properties)?;
                check_secure(&format!("{env_at}.secureProperties"), &o.secure_properties)?;
            }
        }
        Ok(())
    }

    /// Refuses the manifest if a secure property, in the base settings or in any environment's
    /// overrides, names a secret the component may not use (see [`check_secret_name`]). The
    /// reason names the property's path, the secret and the allowed prefix.
    ///
    /// `prefix` is the component's `secure_properties_prefix`; `forbidden` are Baton's own
    /// credentials ([`crate::BatonConfig::platform_secrets`]).
    pub fn check_secret_namespace(&self, prefix: &str, forbidden: &[&str]) -> Result<(), Rejection> {
        for (i, app) in self.applications.iter().enumerate() {
            let at = format!("applications[{i}]");
            let overrides = app
                .environments
                .iter()
                .map(|(env, o)| (format!("{at}.environments.{env}"), &o.secure_properties));
            for (owner, secure) in std::iter::once((at.clone(), &app.secure_properties)).chain(overrides) {
                for (property, reference) in secure {
                    if let Err(refused) = check_secret_name(&reference.secret, prefix, forbidden) {
                        return Err(invalid(
                            &format!("{owner}.secureProperties.{property}.secret"),
                            &refused.reason,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The applications as they should run in `environment`.
    pub fn resolve(&self, environment: &str) -> Vec<ResolvedApplication> {
        self.applications
            .iter()
            .map(|app| {
                let o = app.environments.get(environment).cloned().unwrap_or_default();
                let mut properties: BTreeMap<String, String> =
                    app.properties.iter().map(|(k, v)| (k.clone(), v.as_text())).collect();
                properties.extend(o.properties.iter().map(|(k, v)| (k.clone(), v.as_text())));
                let mut secure_properties = app.secure_properties.clone();
                secure_properties.extend(o.secure_properties);
                ResolvedApplication {
                    name: app.name.clone(),
                    asset: app.asset.clone(),
                    runtime_version: o.runtime_version.unwrap_or_else(|| app.runtime_version.clone()),
                    replicas: o.replicas.unwrap_or(app.replicas),
                    v_cores: o.v_cores.unwrap_or(app.v_cores),
                    properties,
                    secure_properties,
                }
            })
            .collect()
    }

    /// A summary for people: application name to asset version.
    pub fn contents(&self) -> PackageContents {
        PackageContents::State {
            applications: self
                .applications
                .iter()
                .map(|a| (a.name.clone(), a.asset.version.clone()))
                .collect(),
        }
    }
}

fn invalid(path: &str, message: &str) -> Rejection {
    Rejection::new(
        RejectCode::InvalidContent,
        format!("invalid manifest: {path}: {message}"),
    )
}

fn is_application_name(name: &str) -> bool {
    (3..=42).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.ends_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn check_sizing(
    at: &str,
    runtime: Option<&String>,
    replicas: Option<u32>,
    v_cores: Option<f64>,
) -> Result<(), Rejection> {
    if let Some(runtime) = runtime {
        let base = runtime.split(':').next().unwrap_or_default();
        let parts: Vec<&str> = base.split('.').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
            || !base.starts_with('4')
        {
            return Err(invalid(
                &format!("{at}.runtimeVersion"),
                &format!("'{runtime}' is not a Mule 4 runtime version such as 4.9.0 or 4.6.0:40e-java17"),
            ));
        }
    }
    if let Some(replicas) = replicas
        && !(1..=8).contains(&replicas)
    {
        return Err(invalid(
            &format!("{at}.replicas"),
            &format!("is {replicas}; use 1 to 8"),
        ));
    }
    if let Some(v) = v_cores
        && !VCORE_SIZES.iter().any(|s| (s - v).abs() < 1e-9)
    {
        return Err(invalid(
            &format!("{at}.vCores"),
            &format!("is {v}; use one of 0.1, 0.2, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4"),
        ));
    }
    Ok(())
}

fn check_properties(at: &str, properties: &BTreeMap<String, PropertyValue>) -> Result<(), Rejection> {
    for (key, value) in properties {
        let lower = key.to_ascii_lowercase();
        let text = value.as_text();
        if SECRET_HINTS.iter().any(|h| lower.contains(h)) || text.contains("-----BEGIN") {
            return Err(invalid(
                &format!("{at}.{key}"),
                "looks like a secret in plain text; move it to secureProperties as {secret: <Secrets Manager name>, key: <JSON key>}",
            ));
        }
    }
    Ok(())
}

fn check_secure(at: &str, secure: &BTreeMap<String, SecretRef>) -> Result<(), Rejection> {
    for (key, reference) in secure {
        if reference.secret.trim().is_empty() {
            return Err(invalid(
                &format!("{at}.{key}.secret"),
                "must name a Secrets Manager secret",
            ));
        }
    }
    Ok(())
}

mod secrets;
pub(crate) mod yaml;

pub use secrets::{SecretRefused, check_secret_name};

#[cfg(test)]
mod tests;
