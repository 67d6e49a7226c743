//! Deployment responses (§6.4 detail, §6.5 list items), parsed tolerantly: unknown status words
//! are kept, counts and sizes may be numbers or strings, and missing fields take defaults.

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::lenient;

/// Declares a status enum that parses case-insensitively and keeps unknown words in `Other`.
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A word this client does not know (or an empty string when the field was absent).
            Other(String),
        }

        impl $name {
            /// Parses the API word, case-insensitively.
            pub fn parse(word: &str) -> Self {
                $(if word.eq_ignore_ascii_case($text) { return Self::$variant; })+
                Self::Other(word.to_string())
            }

            /// The API word.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(word) => word,
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(Self::parse(&lenient::string(deserializer)?))
            }
        }
    };
}

status_enum! {
    /// The deployment's (spec application) state, `status` in the API.
    DeploymentStatus {
        /// Transitioning to the desired spec.
        Applying => "APPLYING",
        /// The desired spec is applied.
        Applied => "APPLIED",
        /// The desired spec failed.
        Failed => "FAILED",
        /// The deployment was deleted.
        Deleted => "DELETED",
        /// State unknown (on-prem targets).
        Unknown => "UNKNOWN",
        /// Legacy word MMP also counts as success.
        Started => "STARTED",
    }
}

status_enum! {
    /// Whether the application serves traffic, `application.status` in the API.
    ApplicationStatus {
        /// At least one replica serves traffic.
        Running => "RUNNING",
        /// No replica serves traffic.
        NotRunning => "NOT_RUNNING",
    }
}

status_enum! {
    /// A replica's state, `replicas[].state` in the API.
    ReplicaState {
        /// Scheduled, not started (also shown in a crash loop, reason `CrashLoopBackoff`).
        Pending => "PENDING",
        /// Starting up.
        Starting => "STARTING",
        /// Running.
        Started => "STARTED",
        /// Stopping.
        Stopping => "STOPPING",
        /// Stopped.
        Stopped => "STOPPED",
        /// Being deleted.
        Deleting => "DELETING",
        /// Deleted.
        Deleted => "DELETED",
        /// Failed.
        Failed => "FAILED",
        /// Restarting after a failure.
        Recovering => "RECOVERING",
        /// Terminated.
        Terminated => "TERMINATED",
    }
}

/// One replica of a deployment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replica {
    /// Replica id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    /// Replica state.
    #[serde(default)]
    pub state: ReplicaState,
    /// Node or zone it runs in.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub deployment_location: Option<String>,
    /// The spec version (not the artifact version) this replica runs.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub current_deployment_version: Option<String>,
    /// Error detail, e.g. `CrashLoopBackoff`; `None` when empty.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub reason: Option<String>,
}

/// The artifact an application runs (`application.ref`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRef {
    /// Exchange group id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub group_id: String,
    /// Exchange asset id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub artifact_id: String,
    /// Artifact version.
    #[serde(default, deserialize_with = "lenient::string")]
    pub version: String,
    /// Packaging, `jar`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub packaging: Option<String>,
}

/// The `application` object of a deployment detail.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationDetail {
    /// Whether it serves traffic.
    #[serde(default)]
    pub status: ApplicationStatus,
    /// `STARTED` or `STOPPED`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub desired_state: Option<String>,
    /// The artifact of the desired spec.
    #[serde(default, rename = "ref")]
    pub reference: Option<ArtifactRef>,
    /// vCores per replica (number or string in the wild).
    #[serde(default, rename = "vCores", deserialize_with = "lenient::opt_f64")]
    pub v_cores: Option<f64>,
    /// `configuration`: the properties service among others, read tolerantly (see
    /// [`ApplicationDetail::properties`]).
    #[serde(default)]
    pub configuration: Option<serde_json::Value>,
}

/// The key of the application properties in a deployment's `configuration`.
const PROPERTIES_SERVICE: &str = "mule.agent.application.properties.service";

impl ApplicationDetail {
    fn properties_service(&self, field: &str) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.configuration
            .as_ref()?
            .get(PROPERTIES_SERVICE)?
            .get(field)?
            .as_object()
    }

    /// The plain properties the deployment runs with, when the platform returns them. Values
    /// may come back as numbers or booleans; they are compared as the text CloudHub stores.
    pub fn properties(&self) -> Option<std::collections::BTreeMap<String, String>> {
        self.properties_service("properties").map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
    }

    /// The names of its secure properties (their values are never returned).
    pub fn secure_property_names(&self) -> Option<std::collections::BTreeSet<String>> {
        self.properties_service("secureProperties")
            .map(|map| map.keys().cloned().collect())
    }
}

/// `target.deploymentSettings.runtime`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeSettings {
    /// Runtime version or tag.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub version: Option<String>,
    /// Release channel.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub release_channel: Option<String>,
    /// Java version.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub java: Option<String>,
}

/// `target.deploymentSettings.http.inbound`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpInbound {
    /// Public URL of the application.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub public_url: Option<String>,
}

/// `target.deploymentSettings.http`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HttpSettings {
    /// Inbound HTTP settings.
    #[serde(default)]
    pub inbound: Option<HttpInbound>,
}

/// `target.deploymentSettings` (the fields Baton reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSettings {
    /// Runtime settings.
    #[serde(default)]
    pub runtime: Option<RuntimeSettings>,
    /// Legacy runtime version field.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub runtime_version: Option<String>,
    /// `rolling` or `recreate`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub update_strategy: Option<String>,
    /// HTTP settings (public URL).
    #[serde(default)]
    pub http: Option<HttpSettings>,
}

/// The `target` object of a deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetDetail {
    /// `MC` for CloudHub 2.0 and RTF.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub provider: Option<String>,
    /// Target id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub target_id: Option<String>,
    /// Replica count asked for (number or string in the wild).
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub replicas: Option<u32>,
    /// Deployment settings (absent on list items).
    #[serde(default)]
    pub deployment_settings: Option<DeploymentSettings>,
}

impl TargetDetail {
    /// The runtime version: `runtime.version`, else the legacy `runtimeVersion`.
    pub fn runtime_version(&self) -> Option<&str> {
        let settings = self.deployment_settings.as_ref()?;
        settings
            .runtime
            .as_ref()
            .and_then(|r| r.version.as_deref())
            .or(settings.runtime_version.as_deref())
    }

    /// The application's public URL, when the platform reports one.
    pub fn public_url(&self) -> Option<&str> {
        self.deployment_settings
            .as_ref()?
            .http
            .as_ref()?
            .inbound
            .as_ref()?
            .public_url
            .as_deref()
    }
}

/// `GET .../deployments/{id}`: the full deployment (§6.4).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentDetail {
    /// Deployment id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    /// Deployment (application) name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Creation time, epoch milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub creation_date: Option<i64>,
    /// Last modification time, epoch milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub last_modified_date: Option<i64>,
    /// Deployment state.
    #[serde(default)]
    pub status: DeploymentStatus,
    /// Id of the spec version being applied (changes on every POST/PATCH; not the artifact version).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub desired_version: Option<String>,
    /// Id of the last spec version applied successfully; `None` before the first success.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub last_successful_version: Option<String>,
    /// Replicas.
    #[serde(default, deserialize_with = "lenient::vec")]
    pub replicas: Vec<Replica>,
    /// Application part.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub application: ApplicationDetail,
    /// Target part.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub target: TargetDetail,
}

/// `application` of a list item: only its status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApplicationSummary {
    /// Whether it serves traffic.
    #[serde(default)]
    pub status: ApplicationStatus,
}

/// An item of `GET .../deployments` (§6.5). Slim: no ref, replicas, vCores or settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSummary {
    /// Deployment id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    /// Deployment (application) name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Creation time, epoch milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub creation_date: Option<i64>,
    /// Last modification time, epoch milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub last_modified_date: Option<i64>,
    /// Provider and target id.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub target: TargetDetail,
    /// Deployment state.
    #[serde(default)]
    pub status: DeploymentStatus,
    /// Application status.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub application: ApplicationSummary,
    /// Runtime version of the desired spec.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub current_runtime_version: Option<String>,
    /// Runtime version of the last successful spec.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub last_successful_runtime_version: Option<String>,
}
