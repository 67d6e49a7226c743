//! `baton.yaml`: components, environments and where things go. Validated at load; every
//! problem is reported with the path of the field that is wrong.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits a web package must respect unless a component sets its own total.
pub const DEFAULT_WEB_MAX_TOTAL_MIB: u64 = 200;
/// The most `max_total_mib` may be. Ingest spools a package to the function's `/tmp` (the
/// template gives it 512 MB of `EphemeralStorage`) and deploy-pages holds the zip in memory
/// (1024 MB, beside its upload batches): 400 MiB fits both with room to spare.
pub const WEB_MAX_TOTAL_MIB_CAP: u64 = 400;
/// Largest single file in a web package (Cloudflare Pages refuses bigger assets).
pub const WEB_MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// Most files in a web package (Cloudflare Pages' per-deployment limit).
pub const WEB_MAX_FILES: usize = 20_000;
/// Largest state manifest accepted.
pub const STATE_MAX_BYTES: u64 = 1024 * 1024;
/// Where a state component's manifests may point their secure properties unless it sets its own
/// prefix; the template's `SecurePropertiesSecretPrefix` has the same default.
pub const DEFAULT_SECURE_PROPERTIES_PREFIX: &str = "baton/secure-properties/";

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
    /// The IANA time zone (e.g. `Europe/London`) pages and mails show times in, and freeze
    /// windows and scheduled deployments are written in. JSON stays UTC. Default `UTC`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Who may read the status pages and API (default: `public`, with people's addresses and
    /// internal links hidden).
    #[serde(default)]
    pub access: crate::access::AccessConfig,
    /// Who else is told what happens to releases (webhooks).
    #[serde(default, skip_serializing_if = "notifications::NotificationsConfig::is_empty")]
    pub notifications: notifications::NotificationsConfig,
    /// How a new release waits for newer packages before anyone is asked (default: 30 s).
    #[serde(default)]
    pub release: release::ReleaseConfig,
    /// How the parts of the product call each other, for the status page's drawing.
    #[serde(default)]
    pub stack: stack::StackConfig,
}

fn default_timezone() -> String {
    "UTC".to_string()
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
    /// How long a release waits for an environment another release is deploying to before it
    /// gives up there (nothing deployed), e.g. `2h`.
    #[serde(default = "default_lease_wait_timeout")]
    pub lease_wait_timeout: String,
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
fn default_lease_wait_timeout() -> String {
    "2h".to_string()
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        WorkflowConfig {
            poll_seconds: default_poll_seconds(),
            lease_wait_seconds: default_lease_wait_seconds(),
            rollout_deadline: default_rollout_deadline(),
            lease_wait_timeout: default_lease_wait_timeout(),
        }
    }
}

impl WorkflowConfig {
    /// The rollout deadline. Valid after [`BatonConfig::from_yaml`].
    pub fn rollout_deadline(&self) -> Duration {
        parse_duration(&self.rollout_deadline).unwrap_or(Duration::from_secs(1_800))
    }

    /// The lease wait timeout. Valid after [`BatonConfig::from_yaml`].
    pub fn lease_wait_timeout(&self) -> Duration {
        parse_duration(&self.lease_wait_timeout).unwrap_or(Duration::from_secs(7_200))
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
    /// What people read for it, e.g. `Patient Portal` (see [`display`]); the name if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
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
        // Saturating: a validated value is at most WEB_MAX_TOTAL_MIB_CAP, but this must not
        // overflow for one that was not.
        self.max_total_mib
            .unwrap_or(DEFAULT_WEB_MAX_TOTAL_MIB)
            .min(WEB_MAX_TOTAL_MIB_CAP)
            .saturating_mul(1024 * 1024)
    }

    /// The Secrets Manager name prefix this component's manifests may name in `secureProperties`.
    /// A component without Anypoint settings (never the case for a validated state component)
    /// gets the default, so the check stays closed rather than open.
    pub fn secure_properties_prefix(&self) -> &str {
        self.anypoint.as_ref().map_or(DEFAULT_SECURE_PROPERTIES_PREFIX, |a| {
            a.secure_properties_prefix.as_str()
        })
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
    /// The Secrets Manager name prefix, ending in `/`, under which this component's manifests
    /// may name the secrets behind `secureProperties`; anything else is refused at ingest and
    /// again at deploy. It must lie under the stack's `SecurePropertiesSecretPrefix`, the only
    /// such secrets deploy-cloudhub's role may read.
    #[serde(default = "default_secure_properties_prefix")]
    pub secure_properties_prefix: String,
}

fn default_secure_properties_prefix() -> String {
    DEFAULT_SECURE_PROPERTIES_PREFIX.to_string()
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

/// What a failed deployment does in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Roll back what the deployment changed, at once (the failure mail offers a retry).
    #[default]
    Rollback,
    /// Pause, keeping the environment, and ask the approvers: retry, roll back, or leave it.
    Ask,
}

/// One environment of the lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Name, e.g. `TEST` or `PROD`.
    pub name: String,
    /// What people read for it, e.g. `Test (patients' preview)` (see [`display`]); the name if
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Who may approve; each gets a personal link.
    pub approvers: Vec<String>,
    /// How long an approval request stays open, e.g. `24h`, `30m`, `90s`.
    pub approval_ttl: String,
    /// What a newer release does to an older pending one.
    #[serde(default)]
    pub on_newer_release: SupersedePolicy,
    /// How many distinct approvers must sign off (N of the M approvers; default 1).
    #[serde(default = "one")]
    pub required_approvals: usize,
    /// Whether an approver may not sign off on a release that changes a package they are the
    /// `author` of (CI's `author` metadata).
    #[serde(default)]
    pub forbid_self_approval: bool,
    /// Times this environment takes no deployments, in the configured time zone: once
    /// (`start`, `end`) or recurring (`every`, `until`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freezes: Vec<crate::freeze::FreezeConfig>,
    /// What a failed deployment does: `rollback` (default) or `ask` the approvers.
    #[serde(default)]
    pub on_failure: OnFailure,
}

fn one() -> usize {
    1
}

impl EnvironmentConfig {
    /// The freeze windows, parsed, with their reasons. Complete after
    /// [`BatonConfig::from_yaml`] (which refuses a window it cannot read).
    pub fn freeze_windows(&self) -> Vec<(crate::freeze::FreezeWindow, &str)> {
        self.freezes
            .iter()
            .filter_map(|f| f.window().ok().map(|w| (w, f.reason.as_str())))
            .collect()
    }

    /// The freeze in force at `at` in this environment, read in `zone`, if any.
    pub fn freeze_at(
        &self,
        zone: chrono_tz::Tz,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<crate::freeze::ActiveFreeze> {
        let windows = self.freeze_windows();
        crate::freeze::freeze_at(windows.iter().map(|(w, r)| (w, *r)), zone, at)
    }

    /// The configured spelling of `address` if it is one of the approvers (addresses compare
    /// without case and surrounding spaces).
    pub fn approver(&self, address: &str) -> Option<&str> {
        let address = address.trim();
        self.approvers
            .iter()
            .find(|a| a.eq_ignore_ascii_case(address))
            .map(String::as_str)
    }

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
    /// The configured time zone. Valid after [`BatonConfig::from_yaml`] (UTC otherwise).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// Parses and validates a `baton.yaml` document.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let config: BatonConfig = crate::manifest::yaml::from_str(text).map_err(|e| ConfigError {
            problems: vec![FieldError {
                path: e.path.unwrap_or_else(|| "(document)".to_string()),
                message: e.message,
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

    /// Every secret the configuration names for Baton's own use (Cloudflare API tokens, Anypoint
    /// connected apps). A manifest may never hand one of them to an application, even when a
    /// component's `secure_properties_prefix` happens to cover it.
    pub fn platform_secrets(&self) -> Vec<&str> {
        let mut secrets = Vec::new();
        for c in &self.components {
            if let Some(cf) = &c.cloudflare {
                secrets.push(cf.api_token_secret.as_str());
            }
            if let Some(a) = &c.anypoint {
                secrets.push(a.credentials_secret.as_str());
            }
        }
        secrets
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

/// Why `prefix` cannot be a `secure_properties_prefix`, or `None` when it can. The characters are
/// those of Secrets Manager names (and of the template's `SecurePropertiesSecretPrefix`), which
/// also keeps out ARNs (`:`) and IAM wildcards (`*`, `?`).
fn secure_properties_prefix_problem(prefix: &str) -> Option<&'static str> {
    if !prefix.ends_with('/') || prefix.starts_with('/') || prefix.len() < 2 {
        return Some("must be a Secrets Manager name prefix ending in '/', such as baton/secure-properties/");
    }
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
    {
        return Some(
            "may use only letters, digits and /_+=.@- (a secret name prefix, not an ARN or a pattern), such as baton/secure-properties/",
        );
    }
    if prefix
        .trim_end_matches('/')
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Some(
            "must not contain empty, '.' or '..' segments; use a plain prefix such as baton/secure-properties/",
        );
    }
    None
}

fn is_environment_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub mod display;
pub mod limits;
pub mod notifications;
pub mod release;
pub mod stack;
mod validate;

#[cfg(test)]
mod tests;
