//! Anypoint Platform client: connected-app auth, Exchange check, CloudHub 2.0 Application Manager deployments.
//!
//! Written against the research notes in `shared/reference/anypoint-cloudhub.md` (section numbers
//! in comments refer to it). Where sources disagree the tolerant reading is taken: any 2xx is a
//! success, counts and sizes may be numbers or strings, unknown status words are kept.
//!
//! ```no_run
//! # async fn demo() -> Result<(), baton_anypoint::AnypointError> {
//! use baton_anypoint::{AnypointClient, DEFAULT_BASE_URL, Readiness, readiness};
//! let client = AnypointClient::new(DEFAULT_BASE_URL, "client-id", "client-secret")?;
//! let scope = client.scope("Sandbox").await?;
//! let detail = client.get_deployment(&scope, "deployment-id").await?;
//! if readiness(&detail, "1.4.2") == Readiness::Applied { /* done */ }
//! # Ok(()) }
//! ```

mod accounts;
mod auth;
mod client;
mod deployments;
mod error;
mod exchange;
mod lenient;
mod path;
pub mod port;
mod readiness;
mod retry;
mod spec;
mod status;
mod targets;

pub use accounts::{Environment, EnvironmentScope};
pub use client::{AnypointClient, DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT};
pub use deployments::{WaitOptions, WaitOutcome};
pub use error::AnypointError;
pub use exchange::{AssetFile, AssetVersion, AssetVersionCheck};
pub use readiness::{Readiness, readiness, readiness_for_spec};
pub use retry::RetryPolicy;
pub use spec::{DeploymentSpec, UpdateStrategy, is_valid_application_name};
pub use status::{
    ApplicationDetail, ApplicationStatus, ApplicationSummary, ArtifactRef, DeploymentDetail, DeploymentSettings,
    DeploymentStatus, DeploymentSummary, HttpInbound, HttpSettings, Replica, ReplicaState, RuntimeSettings,
    TargetDetail,
};
pub use targets::Target;
