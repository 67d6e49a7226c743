//! What the environment before this one says about a release, for the people asked to sign
//! it off here (issue 16, item 9): live in TEST since when, signed off there by whom, and the
//! TEST site to look at. Read from that environment's state: one item.

use chrono::{DateTime, Utc};

use crate::config::BatonConfig;
use crate::deployment::{EnvironmentState, PlatformDetail};
use crate::release::ReleaseId;

/// A release's record in the environment before the one it is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// That environment, e.g. `TEST`.
    pub environment: String,
    /// Live there since.
    pub since: DateTime<Utc>,
    /// Who signed it off there.
    pub approved_by: Option<String>,
    /// The Pages URL of its site there (the first web component's), to try it.
    pub site_url: Option<String>,
}

/// The environment before `environment` in lifecycle order, if any.
pub fn previous_environment<'a>(config: &'a BatonConfig, environment: &str) -> Option<&'a str> {
    let at = config.environments.iter().position(|e| e.name == environment)?;
    at.checked_sub(1).map(|i| config.environments[i].name.as_str())
}

impl Evidence {
    /// What `state` (the previous environment's) says of `release`: nothing unless it is
    /// live there now (a release replaced there has no current evidence to show).
    pub fn of(release: &ReleaseId, state: &EnvironmentState) -> Option<Evidence> {
        let live = state.current.as_ref().filter(|c| &c.release_id == release)?;
        let site_url = live.components.values().find_map(|c| match &c.detail {
            Some(PlatformDetail::Pages { url, .. }) => Some(url.clone()),
            _ => None,
        });
        Some(Evidence {
            environment: state.environment.clone(),
            since: live.since,
            approved_by: live.approved_by.clone(),
            site_url,
        })
    }
}
