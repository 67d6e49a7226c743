//! What to deploy, and the exact request bodies built from it (reference §6.2 create, §6.3 patch).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::error::AnypointError;

/// How a redeploy replaces replicas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UpdateStrategy {
    /// New replicas start before old ones go: no downtime (the platform default).
    #[default]
    Rolling,
    /// Old replicas go first: a gap in service.
    Recreate,
}

impl UpdateStrategy {
    /// The API spelling, `rolling` or `recreate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rolling => "rolling",
            Self::Recreate => "recreate",
        }
    }
}

/// A CloudHub 2.0 deployment to create or update: the client's own input type.
#[derive(Clone, Default, PartialEq)]
pub struct DeploymentSpec {
    /// Application and deployment name: 3–42 of `[A-Za-z0-9-]`, starting with a letter, not ending with `-`.
    pub name: String,
    /// Target id, e.g. `cloudhub-us-east-1` (shared space) or a private space's UUID.
    pub target_id: String,
    /// Number of replicas (at least 1).
    pub replicas: u32,
    /// vCores per replica (classic pricing), e.g. 0.1.
    pub v_cores: f64,
    /// Mule runtime version (`4.9.0`, or a full tag such as `4.9.0:12e-java17`). `None` omits
    /// `runtime`: the platform picks the latest image on create and keeps the current one on patch.
    pub runtime_version: Option<String>,
    /// Release channel (`LTS`, `EDGE`, `LEGACY`); omitted when `None`.
    pub release_channel: Option<String>,
    /// Java version (`8`, `17`); omitted when `None`.
    pub java_version: Option<String>,
    /// How a redeploy replaces replicas.
    pub update_strategy: UpdateStrategy,
    /// Exchange group id of the artifact (the org or business-group id).
    pub group_id: String,
    /// Exchange asset id (Maven artifactId).
    pub artifact_id: String,
    /// Artifact version to run.
    pub version: String,
    /// Application properties (replace the whole map on update).
    pub properties: BTreeMap<String, String>,
    /// Secure application properties; never shown by `Debug`.
    pub secure_properties: BTreeMap<String, String>,
}

impl fmt::Debug for DeploymentSpec {
    // Hand-written so secure property values never reach a log line; only their keys show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeploymentSpec")
            .field("name", &self.name)
            .field("target_id", &self.target_id)
            .field("replicas", &self.replicas)
            .field("v_cores", &self.v_cores)
            .field("runtime_version", &self.runtime_version)
            .field("release_channel", &self.release_channel)
            .field("java_version", &self.java_version)
            .field("update_strategy", &self.update_strategy)
            .field("group_id", &self.group_id)
            .field("artifact_id", &self.artifact_id)
            .field("version", &self.version)
            .field("properties", &self.properties)
            .field(
                "secure_property_keys",
                &self.secure_properties.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Whether `name` satisfies the CloudHub 2.0 application-name rules (§6.1).
pub fn is_valid_application_name(name: &str) -> bool {
    let length_ok = (3..=42).contains(&name.len());
    let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let starts_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    length_ok && chars_ok && starts_ok && !name.ends_with('-')
}

impl DeploymentSpec {
    /// Checks the spec before anything is sent, so obvious mistakes fail fast and permanently.
    pub fn validate(&self) -> Result<(), AnypointError> {
        let invalid = |why: String| Err(AnypointError::InvalidInput(why));
        if !is_valid_application_name(&self.name) {
            return invalid(format!(
                "application name '{}' must be 3-42 letters, digits or dashes, start with a letter and not end with a dash",
                self.name
            ));
        }
        for (field, value) in [
            ("target_id", &self.target_id),
            ("group_id", &self.group_id),
            ("artifact_id", &self.artifact_id),
            ("version", &self.version),
        ] {
            if value.trim().is_empty() {
                return invalid(format!("{field} must not be empty"));
            }
        }
        if self.replicas == 0 {
            return invalid("replicas must be at least 1".to_string());
        }
        if !(self.v_cores.is_finite() && self.v_cores > 0.0) {
            return invalid(format!("v_cores must be a positive number, got {}", self.v_cores));
        }
        Ok(())
    }

    /// The create body (§6.2): name, target, application with `desiredState` STARTED and
    /// `applicationName` equal to the name, as MMP sends them.
    pub fn create_body(&self) -> Result<serde_json::Value, AnypointError> {
        self.validate()?;
        to_json(&CreateBody {
            name: &self.name,
            target: self.target_body(),
            application: self.application_body(true),
        })
    }

    /// The patch body for a redeploy (§6.3): target plus application ref, configuration and vCores.
    /// Like MMP it leaves out `name` and `applicationName`; unlike MMP it also sends
    /// `desiredState: STARTED`, so a redeploy brings a stopped application back up (the field is
    /// part of the documented PATCH shape for start/stop).
    pub fn patch_body(&self) -> Result<serde_json::Value, AnypointError> {
        self.validate()?;
        to_json(&PatchBody {
            target: self.target_body(),
            application: self.application_body(false),
        })
    }

    fn target_body(&self) -> TargetBody<'_> {
        TargetBody {
            provider: "MC",
            target_id: &self.target_id,
            replicas: self.replicas,
            deployment_settings: DeploymentSettingsBody {
                runtime: self.runtime_version.as_deref().map(|version| RuntimeBody {
                    version,
                    release_channel: self.release_channel.as_deref(),
                    java: self.java_version.as_deref(),
                }),
                update_strategy: self.update_strategy.as_str(),
            },
        }
    }

    fn application_body(&self, on_create: bool) -> ApplicationBody<'_> {
        ApplicationBody {
            reference: RefBody {
                group_id: &self.group_id,
                artifact_id: &self.artifact_id,
                version: &self.version,
                packaging: "jar",
            },
            desired_state: "STARTED",
            configuration: ConfigurationBody {
                properties_service: PropertiesServiceBody {
                    application_name: on_create.then_some(self.name.as_str()),
                    properties: &self.properties,
                    secure_properties: &self.secure_properties,
                },
            },
            v_cores: self.v_cores,
        }
    }
}

fn to_json(body: &impl Serialize) -> Result<serde_json::Value, AnypointError> {
    serde_json::to_value(body).map_err(|e| AnypointError::InvalidInput(format!("cannot encode the request body: {e}")))
}

#[derive(Serialize)]
struct CreateBody<'a> {
    name: &'a str,
    target: TargetBody<'a>,
    application: ApplicationBody<'a>,
}

#[derive(Serialize)]
struct PatchBody<'a> {
    target: TargetBody<'a>,
    application: ApplicationBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetBody<'a> {
    provider: &'static str,
    target_id: &'a str,
    replicas: u32,
    deployment_settings: DeploymentSettingsBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentSettingsBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime: Option<RuntimeBody<'a>>,
    update_strategy: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeBody<'a> {
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_channel: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    java: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationBody<'a> {
    #[serde(rename = "ref")]
    reference: RefBody<'a>,
    desired_state: &'static str,
    configuration: ConfigurationBody<'a>,
    #[serde(rename = "vCores")]
    v_cores: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefBody<'a> {
    group_id: &'a str,
    artifact_id: &'a str,
    version: &'a str,
    packaging: &'static str,
}

#[derive(Serialize)]
struct ConfigurationBody<'a> {
    #[serde(rename = "mule.agent.application.properties.service")]
    properties_service: PropertiesServiceBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PropertiesServiceBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    application_name: Option<&'a str>,
    properties: &'a BTreeMap<String, String>,
    secure_properties: &'a BTreeMap<String, String>,
}
