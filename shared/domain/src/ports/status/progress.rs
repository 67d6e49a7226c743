//! Where a release stands now and when it last changed (issue 16, items 6 and 9): the badge
//! says where a release is live *now*, from the environments' states, not where it once was;
//! a failure reads "rolled back" only when something was changed and put back; and each
//! release carries its last change, so the feed's `<updated>` moves with it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::EnvironmentNow;
use super::words::{event_summary, outcome};
use crate::deployment::{ComponentDeployment, DeployStatus};
use crate::ports::ReleaseEvent;
use crate::release::{Release, ReleaseId, ReleaseStatus};

/// A release's last changes, kept on its record as each timeline event is written (only ever
/// moving forward), so lists read them without reading any timeline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastChanges {
    /// Its last change anywhere, if any was recorded after its creation.
    pub last: Option<ReleaseEvent>,
    /// Its last change per environment.
    pub environments: BTreeMap<String, ReleaseEvent>,
}

impl LastChanges {
    /// When `release` last changed: its last recorded event, or its creation.
    pub fn changed_at(changes: Option<&LastChanges>, release: &Release) -> DateTime<Utc> {
        changes
            .and_then(|c| c.last.as_ref())
            .map_or(release.created_at, |e| e.at.max(release.created_at))
    }
}

/// The environments (in the order given, lifecycle order) where `release` is live now.
pub fn live_in(release: &ReleaseId, environments: &[EnvironmentNow]) -> Vec<String> {
    environments
        .iter()
        .filter(|e| e.state.current.as_ref().is_some_and(|c| &c.release_id == release))
        .map(|e| e.state.environment.clone())
        .collect()
}

/// Whether `release` changed anything in `env`: a component of it went live there (and may
/// have been put back since). A deployment that only failed changed nothing: Pages keeps the
/// previous site live, and a rollback marks what it put back as rolled back.
pub fn changed_in(release: &ReleaseId, env: &str, deployments: &[ComponentDeployment]) -> bool {
    deployments.iter().any(|d| {
        &d.release_id == release
            && d.environment == env
            && matches!(d.status, DeployStatus::Succeeded | DeployStatus::RolledBack)
    })
}

/// The last environment (in `order`) where a deployment of `release` failed or was put back.
fn failed_in<'a>(release: &ReleaseId, order: &'a [String], deployments: &[ComponentDeployment]) -> Option<&'a str> {
    order.iter().rev().map(String::as_str).find(|env| {
        deployments.iter().any(|d| {
            &d.release_id == release
                && d.environment == *env
                && matches!(d.status, DeployStatus::Failed | DeployStatus::RolledBack)
        })
    })
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lowercased(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What a failed release did where it failed, in words without a capital: `rolled back in
/// PROD` when something was changed and put back, `failed before any change in PROD` when
/// nothing was changed, `deployment to PROD failed` when it was changed and not put back.
pub fn failure_words(status: ReleaseStatus, env: Option<&str>, changed: bool) -> String {
    let in_env = env.map(|e| format!(" in {e}")).unwrap_or_default();
    match (status, changed) {
        (_, false) => format!("failed before any change{in_env}"),
        (ReleaseStatus::RolledBack, true) => format!("rolled back{in_env}"),
        (_, true) => match env {
            Some(e) => format!("deployment to {e} failed"),
            None => "deployment failed".to_string(),
        },
    }
}

/// Where a finished release stands now, in a sentence: where it is live, where it was live
/// and what replaced it there, and how it ended. `environments` are every environment in
/// lifecycle order as they are now; `deployments` are the release's deployment records.
pub fn standing_words(
    release: &Release,
    environments: &[EnvironmentNow],
    deployments: &[ComponentDeployment],
) -> String {
    let order: Vec<String> = environments.iter().map(|e| e.state.environment.clone()).collect();
    let live = live_in(&release.id, environments);
    let mut parts = Vec::new();
    if !live.is_empty() {
        if live.len() == order.len() && order.len() > 1 {
            parts.push("live in every environment".to_string());
        } else {
            parts.push(format!("live in {}", and_list(&live)));
        }
    }
    // Where it went live and has since been replaced.
    let was: Vec<String> = environments
        .iter()
        .filter(|e| !live.contains(&e.state.environment))
        .filter(|e| {
            // Went live there: its deployments there succeeded, none failed (a failure there
            // is told as such below).
            let env = e.state.environment.as_str();
            let mine = || {
                deployments
                    .iter()
                    .filter(|d| d.release_id == release.id && d.environment == env)
            };
            (mine().any(|d| d.status == DeployStatus::Succeeded) && mine().all(|d| d.status == DeployStatus::Succeeded))
                || (release.status == ReleaseStatus::Released
                    && !deployments.iter().any(|d| d.release_id == release.id))
        })
        .map(|e| match &e.state.current {
            Some(now) => format!("{} (now release {})", e.state.environment, now.number),
            None => e.state.environment.clone(),
        })
        .collect();
    if !was.is_empty() {
        parts.push(format!("was live in {}", and_list(&was)));
    }
    match release.status {
        ReleaseStatus::Released if !parts.is_empty() => {}
        ReleaseStatus::Failed | ReleaseStatus::RolledBack => {
            let env = failed_in(&release.id, &order, deployments);
            let changed = env.is_some_and(|e| changed_in(&release.id, e, deployments));
            parts.push(failure_words(release.status, env, changed));
        }
        status => parts.push(lowercased(outcome(status))),
    }
    capitalised(&parts.join("; "))
}

/// Where a release stands in one environment, in a sentence: live there now, live there
/// before and replaced (by which release), or its last step there in words (`last`, the
/// release's last event there).
pub fn environment_words(
    release: &ReleaseId,
    env: &str,
    last: Option<&ReleaseEvent>,
    environments: &[EnvironmentNow],
) -> String {
    let current = environments
        .iter()
        .find(|e| e.state.environment == env)
        .and_then(|e| e.state.current.as_ref());
    match (current, last) {
        (Some(now), _) if &now.release_id == release => format!("Live in {env}"),
        (Some(now), Some(event)) if event.kind == "live" => {
            format!("Was live in {env} (now release {})", now.number)
        }
        (_, Some(event)) => crate::redact::internals(&event_summary(event)),
        (_, None) => format!("Not in {env} yet"),
    }
}
