//! `baton.yaml`: components, environments and where things go. Validated at load; every
//! problem is reported with the path of the field that is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits a web package must respect unless a component sets its own total.
pub const DEFAULT_WEB_MAX_TOTAL_MIB: u64 = 200;
/// Largest single file in a web package (Cloudflare Pages refuses bigger assets).
pub const WEB_MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// Most files in a web package (Cloudflare Pages' per-deployment limit).
pub const WEB_MAX_FILES: usize = 20_000;
/// Largest state manifest accepted.
pub const STATE_MAX_BYTES: u64 = 1024 * 1024;

/// The whole configuration document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatonConfig {
    /// Base URL of Baton's HTTP API (approval links and the status page live under it).
    pub public_url: String,
    /// Who approval mails come from.
    pub mail: MailConfig,
    /// What is released. Order is display order; deploy order comes from `wave`.
    pub components: Vec<ComponentConfig>,
    /// Where releases go, in lifecycle order (e.g. TEST then PROD).
    pub environments: Vec<EnvironmentConfig>,
    /// How the release workflow paces itself.
    #[serde(default)]
    pub workflow: WorkflowConfig,
}

/// Pacing of the release workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowConfig {
    /// Seconds between checks of a CloudHub rollout.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u32,
    /// Seconds between tries for an environment another release is deploying to.
    #[serde(default = "default_lease_wait_seconds")]
    pub lease_wait_seconds: u32,
    /// How long a CloudHub rollout may take before it counts as failed, e.g. `30m`.
    #[serde(default = "default_rollout_deadline")]
    pub rollout_deadline: String,
}

fn default_poll_seconds() -> u32 {
    15
}
fn default_lease_wait_seconds() -> u32 {
    30
}
fn default_rollout_deadline() -> String {
    "30m".to_string()
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        WorkflowConfig {
            poll_seconds: default_poll_seconds(),
            lease_wait_seconds: default_lease_wait_seconds(),
            rollout_deadline: default_rollout_deadline(),
        }
    }
}

impl WorkflowConfig {
    /// The rollout deadline. Valid after [`BatonConfig::from_yaml`].
    pub fn rollout_deadline(&self) -> Duration {
        parse_duration(&self.rollout_deadline).unwrap_or(Duration::from_secs(1_800))
    }
}

/// Outgoing mail settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// Verified SES sender address.
    pub sender: String,
}

/// What kind of package a component ships, which decides validation and deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    /// A zip of a static site, deployed to Cloudflare Pages.
    Web,
    /// An Anypoint desired-state manifest, reconciled on CloudHub 2.0.
    State,
}

impl ComponentKind {
    /// The deploy wave used when a component does not set one: backend first.
    pub fn default_wave(self) -> u32 {
        match self {
            ComponentKind::State => 1,
            ComponentKind::Web => 2,
        }
    }
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ComponentKind::Web => "web",
            ComponentKind::State => "state",
        })
    }
}

/// One released component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// Name used in package keys (`packages/<name>/<version>/<file>`).
    pub name: String,
    /// What the package is.
    pub kind: ComponentKind,
    /// Deploy wave: lower waves deploy first. Defaults by kind (state 1, web 2).
    #[serde(default)]
    pub wave: Option<u32>,
    /// Web only: the largest total uncompressed size of the site, in MiB.
    #[serde(default)]
    pub max_total_mib: Option<u64>,
    /// Web only: the Cloudflare Pages project.
    #[serde(default)]
    pub cloudflare: Option<CloudflareTarget>,
    /// State only: the Anypoint organisation.
    #[serde(default)]
    pub anypoint: Option<AnypointTarget>,
    /// Per-environment target settings; every configured environment needs an entry.
    pub environments: BTreeMap<String, ComponentEnvironment>,
}

impl ComponentConfig {
    /// The wave this component deploys in.
    pub fn effective_wave(&self) -> u32 {
        self.wave.unwrap_or_else(|| self.kind.default_wave())
    }

    /// The largest total uncompressed size of a web package, in bytes.
    pub fn max_total_bytes(&self) -> u64 {
        self.max_total_mib.unwrap_or(DEFAULT_WEB_MAX_TOTAL_MIB) * 1024 * 1024
    }
}

/// Where a web component is deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudflareTarget {
    /// Cloudflare account id.
    pub account_id: String,
    /// Pages project name.
    pub project: String,
    /// Secrets Manager secret holding the API token.
    pub api_token_secret: String,
    /// API base URL; defaults to Cloudflare's. The local stack points it at the simulator.
    #[serde(default)]
    pub api_base_url: Option<String>,
}

/// Where a state component is reconciled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnypointTarget {
    /// Secrets Manager secret holding the connected app's `client_id` and `client_secret`.
    pub credentials_secret: String,
    /// Control plane base URL; defaults to `https://anypoint.mulesoft.com`.
    #[serde(default)]
    pub base_url: Option<String>,
}

/// A component's settings in one environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentEnvironment {
    /// Web: the Pages branch (the project's production branch for PROD, a preview branch otherwise).
    #[serde(default)]
    pub branch: Option<String>,
    /// State: the Anypoint environment name (e.g. `Sandbox`, `Production`).
    #[serde(default)]
    pub environment: Option<String>,
    /// State: the CloudHub 2.0 target id (e.g. `cloudhub-eu-west-1`).
    #[serde(default)]
    pub target: Option<String>,
}

/// What happens to an older release still waiting for approval when a newer one arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SupersedePolicy {
    /// The older approval is withdrawn; its links say which release replaced it.
    #[default]
    Supersede,
    /// Releases wait their turn.
    Queue,
}

/// One environment of the lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Name, e.g. `TEST` or `PROD`.
    pub name: String,
    /// Who may approve; each gets a personal link.
    pub approvers: Vec<String>,
    /// How long an approval request stays open, e.g. `24h`, `30m`, `90s`.
    pub approval_ttl: String,
    /// What a newer release does to an older pending one.
    #[serde(default)]
    pub on_newer_release: SupersedePolicy,
}

impl EnvironmentConfig {
    /// The approval time-to-live. Valid after [`BatonConfig::from_yaml`].
    pub fn approval_ttl(&self) -> Duration {
        parse_duration(&self.approval_ttl).unwrap_or(Duration::from_secs(86_400))
    }
}

/// One problem in the configuration, located by its field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where, e.g. `components[0].environments.PROD.branch`.
    pub path: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Why a configuration document was refused: every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems, each naming its field.
    pub problems: Vec<FieldError>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "baton.yaml is invalid: ")?;
        let shown: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        f.write_str(&shown.join("; "))
    }
}

impl BatonConfig {
    /// Parses and validates a `baton.yaml` document.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let config: BatonConfig = serde_yaml::from_str(text).map_err(|e| ConfigError {
            problems: vec![FieldError {
                path: yaml_error_path(&e),
                message: e.to_string(),
            }],
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The component called `name`, if configured.
    pub fn component(&self, name: &str) -> Option<&ComponentConfig> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The environment called `name`, if configured.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentConfig> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// Environment names in lifecycle order.
    pub fn environment_names(&self) -> Vec<&str> {
        self.environments.iter().map(|e| e.name.as_str()).collect()
    }

    /// Checks everything serde cannot: names, references between sections, kind-specific fields.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: &str| {
            problems.push(FieldError {
                path,
                message: message.to_string(),
            })
        };

        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            problem(
                "public_url".into(),
                "must be an http:// or https:// URL (the base of approval links)",
            );
        }
        if !looks_like_email(&self.mail.sender) {
            problem("mail.sender".into(), "must be an email address verified in SES");
        }

        if !(1..=3_600).contains(&self.workflow.poll_seconds) {
            problem("workflow.poll_seconds".into(), "must be between 1 and 3600");
        }
        if !(1..=3_600).contains(&self.workflow.lease_wait_seconds) {
            problem("workflow.lease_wait_seconds".into(), "must be between 1 and 3600");
        }
        if parse_duration(&self.workflow.rollout_deadline).is_none_or(|d| d < Duration::from_secs(10)) {
            problem(
                "workflow.rollout_deadline".into(),
                "must be a duration of at least 10s, like 30m",
            );
        }
        if self.environments.is_empty() {
            problem(
                "environments".into(),
                "at least one environment is needed (e.g. TEST, then PROD)",
            );
        }
        let mut env_names = BTreeSet::new();
        for (i, env) in self.environments.iter().enumerate() {
            let at = format!("environments[{i}]");
            if !is_environment_name(&env.name) {
                problem(
                    format!("{at}.name"),
                    "must start with a letter and use only letters, digits, '-' and '_' (at most 32)",
                );
            }
            if !env_names.insert(env.name.as_str()) {
                problem(
                    format!("{at}.name"),
                    "is used by another environment; names must be unique",
                );
            }
            if env.approvers.is_empty() {
                problem(format!("{at}.approvers"), "at least one approver email is needed");
            }
            for (j, who) in env.approvers.iter().enumerate() {
                if !looks_like_email(who) {
                    problem(format!("{at}.approvers[{j}]"), "must be an email address");
                }
            }
            match parse_duration(&env.approval_ttl) {
                Some(ttl) if ttl >= Duration::from_secs(1) && ttl <= Duration::from_secs(365 * 86_400) => {}
                _ => problem(
                    format!("{at}.approval_ttl"),
                    "must be a duration between 1s and 365d, written like 90s, 30m, 24h or 7d",
                ),
            }
        }

        if self.components.is_empty() {
            problem("components".into(), "at least one component is needed");
        }
        let mut component_names = BTreeSet::new();
        for (i, c) in self.components.iter().enumerate() {
            let at = format!("components[{i}]");
            if !is_component_name(&c.name) {
                problem(
                    format!("{at}.name"),
                    "must start with a lowercase letter and use only a-z, 0-9 and '-' (at most 32); it is the folder name under packages/",
                );
            }
            if !component_names.insert(c.name.as_str()) {
                problem(
                    format!("{at}.name"),
                    "is used by another component; names must be unique",
                );
            }
            match c.kind {
                ComponentKind::Web => {
                    match &c.cloudflare {
                        None => problem(
                            format!("{at}.cloudflare"),
                            "a web component needs its Cloudflare Pages project (account_id, project, api_token_secret)",
                        ),
                        Some(cf) => {
                            for (field, value) in [
                                ("account_id", &cf.account_id),
                                ("project", &cf.project),
                                ("api_token_secret", &cf.api_token_secret),
                            ] {
                                if value.trim().is_empty() {
                                    problem(format!("{at}.cloudflare.{field}"), "must not be empty");
                                }
                            }
                        }
                    }
                    if c.anypoint.is_some() {
                        problem(
                            format!("{at}.anypoint"),
                            "only state components deploy to Anypoint; remove it or change kind to state",
                        );
                    }
                    if c.max_total_mib == Some(0) {
                        problem(format!("{at}.max_total_mib"), "must be at least 1");
                    }
                }
                ComponentKind::State => {
                    match &c.anypoint {
                        None => problem(
                            format!("{at}.anypoint"),
                            "a state component needs its Anypoint settings (credentials_secret)",
                        ),
                        Some(a) if a.credentials_secret.trim().is_empty() => {
                            problem(format!("{at}.anypoint.credentials_secret"), "must not be empty")
                        }
                        Some(_) => {}
                    }
                    if c.cloudflare.is_some() {
                        problem(
                            format!("{at}.cloudflare"),
                            "only web components deploy to Cloudflare; remove it or change kind to web",
                        );
                    }
                    if c.max_total_mib.is_some() {
                        problem(format!("{at}.max_total_mib"), "applies to web components only");
                    }
                }
            }
            for env in &self.environments {
                if !c.environments.contains_key(&env.name) {
                    problem(
                        format!("{at}.environments.{}", env.name),
                        "missing: every component needs settings for every environment",
                    );
                }
            }
            for (env_name, settings) in &c.environments {
                let env_at = format!("{at}.environments.{env_name}");
                if !env_names.contains(env_name.as_str()) {
                    problem(
                        env_at.clone(),
                        "is not a configured environment (see environments[].name)",
                    );
                    continue;
                }
                let required: &[(&str, &Option<String>)] = match c.kind {
                    ComponentKind::Web => &[("branch", &settings.branch)],
                    ComponentKind::State => &[("environment", &settings.environment), ("target", &settings.target)],
                };
                for (field, value) in required {
                    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                        problem(
                            format!("{env_at}.{field}"),
                            &format!("required for a {} component", c.kind),
                        );
                    }
                }
                let forbidden: &[(&str, &Option<String>)] = match c.kind {
                    ComponentKind::Web => &[("environment", &settings.environment), ("target", &settings.target)],
                    ComponentKind::State => &[("branch", &settings.branch)],
                };
                for (field, value) in forbidden {
                    if value.is_some() {
                        problem(
                            format!("{env_at}.{field}"),
                            &format!("does not apply to a {} component", c.kind),
                        );
                    }
                }
            }
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

/// Parses `90s`, `30m`, `24h`, `7d` (or a bare number of seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let seconds = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3_600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

/// A minimal shape check: something@domain.tld with no spaces.
pub fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Component names become S3 key segments: lowercase, digits and hyphens.
pub fn is_component_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_environment_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// serde_yaml prefixes its messages with the path (`components[0].kind: unknown variant ...`);
/// lift it out so the error names the field like ours do.
fn yaml_error_path(e: &serde_yaml::Error) -> String {
    let text = e.to_string();
    match text.split_once(": ") {
        Some((path, _)) if !path.contains(' ') => path.to_string(),
        _ => "(document)".to_string(),
    }
}

#[cfg(test)]
mod tests;
