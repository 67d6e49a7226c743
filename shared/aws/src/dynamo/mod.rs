//! Baton's single DynamoDB table as the [`ReleaseStore`] port.
//!
//! Keys (`pk` / `sk`, plus `gsi1pk` / `gsi1sk` for time-ordered lists):
//!
//! | entity | pk | sk | gsi1pk / gsi1sk |
//! |---|---|---|---|
//! | Package | `PACKAGE#<component>` | `VERSION#<version>` | `PACKAGES` / `<registered_at>#<component>#<version>` |
//! | Component head | `HEAD` | `<component>` | |
//! | Release cursor (the counter), read with the heads in one Query | `HEAD` | `#RELEASE` | |
//! | Release cursor before 2026-12 (read when `HEAD` has none, never written) | `COUNTER` | `RELEASE` | |
//! | Release (with its last changes, `progress.rs`) | `RELEASE#<id>` | `RELEASE` | `RELEASES` / `<number, 12 digits>` |
//! | Release event | `RELEASE#<id>` | `EVENT#<time>#<kind>` | |
//! | A release's notes for an environment | `RELEASE#<id>` | `NOTES#<environment>` | |
//! | Rejected package | `PACKAGE#<component>` | `VERSION#<version>#REFUSED#<etag>#<key hash>` | `REJECTED` / `<rejected_at>#<key>` |
//! | Rejected package, key naming no component or version | `REJECTED#<key>` | `<etag>` | as above |
//! | Sign-in link, API token | see [`access`] | | |
//! | Search index entry ([`search`]) | `SEARCH#<term>` | `<registered_at>#<component>#<version>` | |
//! | Unsolicited mail counter (`mail_quota.rs`) | `QUOTA#<counter>` | `HOUR#<hours since epoch>` | |
//!
//! Subscriptions and notice markers: see `subscriptions.rs`. Drift records (`DRIFT`, `DRIFTLOG#<environment>`): see `drift.rs`.
//!
//! Entities are stored as native DynamoDB attributes (serde_dynamo), so they can be read in the
//! console and used in condition expressions.

mod access;
mod decisions;
mod deployments;
mod drift;
mod history;
mod items;
mod leases;
mod lifecycle;
mod mail_quota;
mod pending;
mod progress;
mod registry;
pub mod search;
pub mod status;
mod store;
mod subscriptions;
mod transact;
mod webhooks;

pub use items::{PK, SK, key, release_key};
pub use store::DynamoStore;
