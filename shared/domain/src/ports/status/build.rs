//! Building the overview from its reads: what runs where, what each release in flight waits
//! on, recent releases and refused uploads.

use chrono::{DateTime, Utc};

use super::figures::{DeliveryFigures, FigureInputs};
use super::progress::{LastChanges, environment_words, live_in, standing_words};
use super::requests;
use super::trends::Trends;
use super::view::*;
use super::words::{in_flight, outcome};
use super::{DeploymentKey, EnvironmentNow, LookedUp, Lookup, PendingSignOff, ReleasePage};
use crate::config::BatonConfig;
use crate::deployment::{ComponentDeployment, DeployStatus, EnvironmentState};
use crate::package::RejectedPackage;
use crate::release::{PackageRef, Release, ReleaseId, ReleaseStatus};

/// What the overview reads by key once it has the recent releases: every environment (state and
/// lease), the releases' deployments, and the changed packages of those that reached production
/// (for lead times).
pub fn overview_lookup(config: &BatonConfig, releases: &[Release]) -> Lookup {
    let environments: Vec<String> = config.environment_names().into_iter().map(str::to_string).collect();
    let mut deployments = Vec::new();
    let mut packages = Vec::new();
    for release in releases {
        for env in &environments {
            for component in release.snapshot.keys() {
                deployments.push(DeploymentKey {
                    release: release.id.clone(),
                    environment: env.clone(),
                    component: component.clone(),
                });
            }
        }
        // Only a released release went live in production (the last environment).
        if release.status == ReleaseStatus::Released {
            for change in &release.changes {
                if let Some(p) = release.snapshot.get(&change.component) {
                    packages.push(PackageRef {
                        version: change.to.clone(),
                        ..p.clone()
                    });
                }
            }
        }
    }
    Lookup {
        environments,
        deployments,
        packages,
    }
}

impl ReleaseSummary {
    /// The summary of a release on its own: changed last when it was created, where it is live
    /// not known ([`ReleaseSummary::of_in`] knows both).
    pub fn of(release: &Release) -> ReleaseSummary {
        ReleaseSummary {
            id: release.id.clone(),
            number: release.number,
            status: release.status,
            outcome: outcome(release.status).to_string(),
            created_at: release.created_at,
            changed_at: release.created_at,
            live_in: None,
            versions: release
                .snapshot
                .iter()
                .map(|(c, p)| (c.clone(), p.version.to_string()))
                .collect(),
            changes: release
                .changes
                .iter()
                .map(|c| ChangeView {
                    component: c.component.clone(),
                    from: c.from.as_ref().map(ToString::to_string),
                    to: c.to.to_string(),
                })
                .collect(),
            url: format!("/releases/{}", release.id),
        }
    }
}

impl ReleaseSummary {
    /// The summary of a release of `page`, with its last change (and, on its way, that step in
    /// words), and (given the environments as they are now and the release's deployments)
    /// where it is live now and, once finished, where it stands in words.
    pub fn of_in(
        release: &Release,
        page: &ReleasePage,
        now: Option<(&[EnvironmentNow], &[ComponentDeployment])>,
    ) -> ReleaseSummary {
        let mut summary = ReleaseSummary::of(release);
        let changes = page.changes.get(&release.id);
        summary.changed_at = LastChanges::changed_at(changes, release);
        let (environments, deployments) = now.unwrap_or((&[], &[]));
        if now.is_some() {
            summary.live_in = Some(live_in(&release.id, environments));
        }
        if !in_flight(release.status) {
            if now.is_some() {
                summary.outcome = standing_words(release, environments, deployments);
            }
        } else if let Some(last) = changes.and_then(|c| c.last.as_ref())
            && let Some(env) = &last.environment
        {
            // On its way: its latest step, e.g. `Sign-off for PROD asked of rm@example.com`.
            summary.outcome = environment_words(&release.id, env, Some(last), environments);
        }
        summary
    }
}

impl ReleaseListView {
    /// One page of the release list.
    pub fn of(page: &ReleasePage) -> ReleaseListView {
        ReleaseListView {
            releases: page
                .releases
                .iter()
                .map(|r| ReleaseSummary::of_in(r, page, None))
                .collect(),
            next_before: page.next_before,
        }
    }
}

impl RejectedView {
    /// The view of a refused upload.
    pub fn of(r: &RejectedPackage) -> RejectedView {
        RejectedView {
            object_key: r.object_key.clone(),
            component: r.component.clone(),
            version: r.version.clone(),
            code: r.rejection.code,
            reason: r.rejection.reason.clone(),
            rejected_at: r.rejected_at,
            commit: r.metadata.commit.clone(),
        }
    }
}

fn environment_view(config: &BatonConfig, now: &EnvironmentNow, beside: &[&PendingSignOff]) -> EnvironmentView {
    let EnvironmentState {
        environment,
        current,
        previous,
    } = &now.state;
    // Configuration order first, then anything else the environment runs.
    let order = |name: &str| {
        config
            .components
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(usize::MAX)
    };
    EnvironmentView {
        name: environment.clone(),
        display_name: config.environment_label(environment).to_string(),
        live: current.as_ref().map(|live| {
            let mut components: Vec<ComponentView> = live
                .components
                .iter()
                .map(|(name, c)| ComponentView::of(name, config.component_label(name), c))
                .collect();
            components.sort_by_key(|c| order(&c.component));
            LiveView {
                release: live.release_id.clone(),
                number: live.number,
                since: live.since,
                approved_by: live.approved_by.clone(),
                components,
            }
        }),
        previous: previous.as_ref().map(|p| PreviousView {
            release: p.release_id.clone(),
            number: p.number,
            since: p.since,
        }),
        deploying: now.deploying.clone(),
        pending: {
            let mut here: Vec<&PendingSignOff> = beside
                .iter()
                .copied()
                .filter(|s| &s.environment == environment)
                .collect();
            here.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.number)));
            here.into_iter().map(requests::pending_view).collect()
        },
        // Filled by the status handler from the environment's drift records.
        drift: Vec::new(),
    }
}

/// What an in-flight release waits on, from the environments, its requests (sign-offs and
/// failure questions) and deployments.
fn waiting_on(
    config: &BatonConfig,
    now: DateTime<Utc>,
    release: &ReleaseId,
    status: ReleaseStatus,
    sign_offs: &[&PendingSignOff],
    environments: &[EnvironmentNow],
    looked: &LookedUp,
) -> WaitingOn {
    // The latest environment asking is where it is (an older request may linger unanswered).
    let asking = environments
        .iter()
        .rev()
        .find_map(|e| sign_offs.iter().find(|s| s.environment == e.state.environment));
    if let Some(s) = asking {
        return requests::waiting_on(s, now);
    }
    if let Some(e) = environments.iter().find(|e| e.deploying.as_ref() == Some(release)) {
        return WaitingOn::Deploying {
            environment: e.state.environment.clone(),
        };
    }
    if status == ReleaseStatus::Created {
        return WaitingOn::Starting;
    }
    // The first environment it has not reached yet is the one it waits for.
    let reached = |env: &str| {
        looked
            .deployments
            .iter()
            .any(|d| &d.release_id == release && d.environment == env && d.status == DeployStatus::Succeeded)
    };
    let next = environments
        .iter()
        .find(|e| e.state.current.as_ref().map(|c| &c.release_id) != Some(release) && !reached(&e.state.environment));
    // Nothing deploys to a frozen environment: that is what the release waits for, whether it
    // is signed off there yet (between sign-off and deployment it is still "awaiting approval")
    // or Baton is about to ask.
    let freeze = next.and_then(|e| {
        let freeze = config
            .environment(&e.state.environment)?
            .freeze_at(config.zone(), now)?;
        Some(WaitingOn::Freeze {
            environment: e.state.environment.clone(),
            signed_off: status == ReleaseStatus::AwaitingApproval,
            reason: freeze.reason,
            until: freeze.ends_at,
        })
    });
    if let Some(frozen) = freeze {
        return frozen;
    }
    match next {
        Some(e) => match &e.deploying {
            Some(holder) if holder != release && status == ReleaseStatus::AwaitingApproval => {
                WaitingOn::EnvironmentBusy {
                    environment: e.state.environment.clone(),
                    held_by: Some(holder.clone()),
                }
            }
            _ => WaitingOn::NextStep {
                environment: Some(e.state.environment.clone()),
            },
        },
        None => WaitingOn::NextStep { environment: None },
    }
}

impl StatusView {
    /// The overview from its reads: the recent releases (newest first), the pending sign-offs of
    /// every environment, recent rejections and what [`overview_lookup`] found.
    pub fn build(
        config: &BatonConfig,
        page: &ReleasePage,
        pending: &[PendingSignOff],
        rejected: &[RejectedPackage],
        looked: &LookedUp,
        now: DateTime<Utc>,
    ) -> StatusView {
        // A lapsed request, or one whose release has finished, waits on nobody; a redeploy's
        // stands beside its environment.
        let open = requests::sort(pending, &page.releases, &looked.environments, now);
        let live_sign_offs = open.releases;
        let mut flying: Vec<(ReleaseId, u64, ReleaseStatus)> = page
            .releases
            .iter()
            .filter(|r| in_flight(r.status))
            .map(|r| (r.id.clone(), r.number, r.status))
            .collect();
        // Older releases beyond the recent list still show if someone is asked to sign them off,
        // or to decide about their failed deployment.
        for s in &live_sign_offs {
            if !flying.iter().any(|(id, ..)| id == &s.release_id) {
                let status = match s.failure {
                    Some(_) => ReleaseStatus::Deploying,
                    None => ReleaseStatus::AwaitingApproval,
                };
                flying.push((s.release_id.clone(), s.number, status));
            }
        }
        flying.sort_by_key(|f| std::cmp::Reverse(f.1));
        let in_flight: Vec<InFlightView> = flying
            .into_iter()
            .map(|(id, number, status)| {
                let mine: Vec<&PendingSignOff> =
                    live_sign_offs.iter().copied().filter(|s| s.release_id == id).collect();
                let waiting_on = match waiting_on(config, now, &id, status, &mine, &looked.environments, looked) {
                    WaitingOn::Starting => match page.releases.iter().find(|r| r.id == id) {
                        Some(release) => super::words::starting(config, release, now),
                        None => WaitingOn::Starting,
                    },
                    other => other,
                };
                InFlightView {
                    summary: waiting_on.summary(),
                    release: id,
                    number,
                    status,
                    waiting_on,
                }
            })
            .collect();
        let recent_releases = page
            .releases
            .iter()
            .map(|r| {
                let mut summary = ReleaseSummary::of_in(r, page, Some((&looked.environments, &looked.deployments)));
                if let Some(f) = in_flight.iter().find(|f| f.release == r.id) {
                    summary.outcome = f.summary.clone();
                }
                summary
            })
            .collect();
        let environments: Vec<String> = looked
            .environments
            .iter()
            .map(|e| e.state.environment.clone())
            .collect();
        let inputs = FigureInputs {
            environments: &environments,
            releases: &page.releases,
            more_exist: page.next_before.is_some(),
            deployments: &looked.deployments,
            packages: &looked.packages,
            now,
        };
        let delivery = DeliveryFigures::compute(&inputs);
        StatusView {
            generated_at: now,
            environments: looked
                .environments
                .iter()
                .map(|e| environment_view(config, e, &open.beside))
                .collect(),
            in_flight,
            recent_releases,
            rejected_packages: rejected.iter().map(RejectedView::of).collect(),
            delivery,
            trends: Trends::compute(&inputs),
            depends_on: config.stack.depends_on.clone(),
        }
    }
}
