//! Cloudflare Pages Direct Upload API client: what `wrangler pages deploy` does, in Rust.
//!
//! ```no_run
//! # async fn demo(zip: Vec<u8>) -> Result<(), baton_cloudflare::PagesError> {
//! use baton_cloudflare::{DeployOptions, PagesClient, SiteFiles, DEFAULT_BASE_URL};
//! let client = PagesClient::new(DEFAULT_BASE_URL, "api-token", "023e105f4ecef8ad9ca31a8372d0c353")?;
//! let site = SiteFiles::from_zip(&zip)?;
//! let result = client.deploy(&DeployOptions::new("my-site").branch("main"), site).await?;
//! println!("{} ({} assets uploaded)", result.url, result.uploaded_files);
//! # Ok(()) }
//! ```
//!
//! The deploy follows the reference notes (`shared/reference/cloudflare-pages.md`):
//! - asset keys are `BLAKE3(base64(content) + extension)` cut to 32 hex ([`asset_hash`]);
//! - the upload JWT is fetched from the upload-token endpoint and fetched again when its `exp` is near or
//!   when an asset call is refused (8000013, or an old-style 401/403);
//! - check-missing, then uploads batched by [`UploadLimits`] (40 MiB raw and 2 000 files per request,
//!   3 requests at once), then upsert-hashes (failure is a warning);
//! - create-deployment as multipart (`manifest`, `branch`, `commit_*`, `_headers`, `_redirects`), then
//!   polling until `deploy`/`success`; a failure returns [`PagesError::DeploymentFailed`] with the logs.
//!
//! Retries: transient errors ([`PagesError::is_transient`]: 429, 5xx, 524, code 8000000, timeouts,
//! connection errors) are retried with exponential backoff, honouring `Retry-After`, up to
//! [`RetryPolicy::max_attempts`] (5) for reads and asset calls, 3 for calls that create something
//! (deployment, project, retry), 2 for upsert-hashes. Permanent errors (authentication, not found,
//! validation) fail at once. Every HTTP request is counted ([`PagesClient::requests_made`]).
//!
//! Neither the API token nor the upload JWT is ever logged or shown by `Debug`.

mod bucket;
mod client;
mod content_type;
mod deploy;
mod envelope;
mod error;
mod hash;
mod http;
mod jwt;
mod live;
mod model;
pub mod port;
mod site;
mod upload;

pub use bucket::UploadLimits;
pub use client::{ClientSettings, DEFAULT_BASE_URL, PagesClient};
pub use content_type::{FALLBACK_CONTENT_TYPE, content_type};
pub use deploy::{DeployOptions, DeploymentResult};
pub use error::{
    ApiMessage, CODE_AUTHENTICATION_ERROR, CODE_PROJECT_NOT_FOUND, CODE_RATE_LIMITED, CODE_RATE_LIMITED_LEGACY,
    CODE_UNKNOWN_ERROR, CODE_UPLOAD_UNAUTHORIZED, PagesError, TransportKind,
};
pub use hash::{asset_hash, extension};
pub use http::RetryPolicy;
pub use jwt::{DEFAULT_MAX_FILE_COUNT, UploadJwt};
pub use model::{
    Deployment, DeploymentLogs, DeploymentPage, DeploymentTrigger, Environment, LogLine, Project, ResultInfo, Stage,
    StageStatus, TriggerMetadata,
};
pub use site::{MAX_ASSET_BYTES, SiteFile, SiteFiles};
