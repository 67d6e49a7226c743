//! A release's page: its progress through the environments from its own events, what it
//! waits on while in flight, and its contents, deployments and timeline in words.

use chrono::{DateTime, Utc};

use super::progress::{changed_in, failure_words, live_in, standing_words};
use super::view::*;
use super::words::{decision_comment, event_summary, in_flight};
use super::{EnvironmentNow, ReleaseRecord};
use crate::approval::schedule::{SCHEDULED, scheduled_time};
use crate::config::BatonConfig;
use crate::ports::ReleaseEvent;
use crate::release::ReleaseStatus;

/// A release's progress in `env` from its own events (the last one about `env` decides).
fn progress(events: &[ReleaseEvent], env: &str) -> (Progress, Option<DateTime<Utc>>) {
    let mut state = (Progress::NotYet, None);
    for e in events.iter().filter(|e| e.environment.as_deref() == Some(env)) {
        let p = match e.kind.as_str() {
            "approval-requested" => Progress::WaitingForSignOff,
            "approved" => Progress::Approved,
            "deploying" => Progress::Deploying,
            "live" => Progress::Live,
            "rejected" => Progress::Rejected,
            // A decision that reached the workflow after its request had closed changed nothing.
            "expired" | crate::approval::delivery::LATE_DECISION => Progress::Expired,
            "superseded" => Progress::Superseded,
            "failed" => Progress::Failed,
            "rolledback" => Progress::RolledBack,
            _ => continue,
        };
        state = (p, Some(e.at));
    }
    state
}

/// Why the approvers of the latest request in `env` could not be mailed, if they could not.
fn unreachable(events: &[ReleaseEvent], env: &str) -> Option<String> {
    let mut found = None;
    for e in events.iter().filter(|e| e.environment.as_deref() == Some(env)) {
        match e.kind.as_str() {
            "approval-requested" => found = None,
            crate::approval::delivery::APPROVERS_UNREACHABLE => {
                found = Some(super::words::unreachable_reason(&e.detail).to_string())
            }
            _ => {}
        }
    }
    found.map(|r| crate::redact::internals(&r))
}

/// The hold on the latest request in `env`, from its events: put, and not lifted or ended
/// since (its end time is on the request, not the timeline).
fn on_hold(events: &[ReleaseEvent], env: &str) -> Option<crate::approval::hold::Hold> {
    let mut found = None;
    for e in events.iter().filter(|e| e.environment.as_deref() == Some(env)) {
        match e.kind.as_str() {
            "held" => {
                found = Some(crate::approval::hold::Hold {
                    by: e.actor.clone(),
                    at: e.at,
                    reason: e.detail.clone(),
                    until: None,
                })
            }
            "approval-requested" | "hold-lifted" | "hold-ended" | "approved" | "rejected" => found = None,
            _ => {}
        }
    }
    found
}

/// What failed, while the latest deployment to `env` waits for an answer to its failure
/// question: asked (`failure-question`), and neither answered nor moved on from since.
fn open_question(events: &[ReleaseEvent], env: &str) -> Option<String> {
    let mut found = None;
    for e in events.iter().filter(|e| e.environment.as_deref() == Some(env)) {
        match e.kind.as_str() {
            "failure-question" => found = Some(question_reason(&e.detail, env)),
            "failure-answered" | "approval-requested" | "deploying" | "live" | "failed" | "rolledback" | "expired" => {
                found = None
            }
            _ => {}
        }
    }
    found
}

/// The reason in the lifecycle's `deploying to <env> failed: <reason>. <env> stays as the
/// failure left it; …` (empty if the detail is not of that form).
fn question_reason(detail: &str, env: &str) -> String {
    let reason = detail
        .strip_prefix(&format!("deploying to {env} failed: "))
        .and_then(|rest| rest.rsplit_once(&format!(". {env} stays as")))
        .map_or("", |(reason, _)| reason);
    crate::redact::internals(reason)
}

fn progress_words(p: Progress, env: &str) -> String {
    match p {
        Progress::NotYet => format!("Not in {env} yet"),
        Progress::WaitingForSignOff => format!("Waiting for sign-off for {env}"),
        Progress::Approved => format!("Signed off; waiting for {env} to be free"),
        Progress::Deploying => format!("Deploying to {env}"),
        Progress::Live => format!("Live in {env}"),
        Progress::Rejected => format!("Rejected for {env}"),
        Progress::Expired => format!("Nobody signed off for {env} in time"),
        Progress::Superseded => format!("Replaced by a newer release before {env}"),
        Progress::Failed => format!("Deployment to {env} failed"),
        Progress::RolledBack => format!("Deployment to {env} failed and was rolled back"),
    }
}

impl ReleaseDetail {
    /// One release in full, from its own records, as it stands at `now` (a signed-off release
    /// waits for a freeze in force then).
    pub fn build(config: &BatonConfig, record: &ReleaseRecord, now: DateTime<Utc>) -> ReleaseDetail {
        let release = &record.release;
        let mut events = record.events.clone();
        events.sort_by_key(|e| e.at);
        let environments: Vec<ProgressView> = config
            .environments
            .iter()
            .map(|env| {
                let (progress, since) = progress(&events, &env.name);
                let summary = match progress {
                    // "Rolled back" only when something was changed there and put back.
                    Progress::RolledBack | Progress::Failed => {
                        let changed = changed_in(&release.id, &env.name, &record.deployments);
                        let status = match progress {
                            Progress::RolledBack => ReleaseStatus::RolledBack,
                            _ => ReleaseStatus::Failed,
                        };
                        sentence(&failure_words(status, Some(&env.name), changed))
                    }
                    _ => progress_words(progress, &env.name),
                };
                ProgressView {
                    environment: env.name.clone(),
                    display_name: config.environment_label(&env.name).to_string(),
                    progress,
                    since,
                    summary,
                }
            })
            .collect();
        // While in flight, the furthest environment with something happening is where it is.
        let current = environments.iter().rev().find(|p| p.progress != Progress::NotYet);
        let waiting_on = in_flight(release.status).then(|| match current {
            Some(p) if p.progress == Progress::WaitingForSignOff => WaitingOn::SignOff {
                environment: p.environment.clone(),
                approvers: config
                    .environment(&p.environment)
                    .map(|e| e.approvers.clone())
                    .unwrap_or_default(),
                since: p.since.unwrap_or(release.created_at),
                expires_at: None,
                unreachable: unreachable(&events, &p.environment),
                on_hold: on_hold(&events, &p.environment),
            },
            Some(p) if p.progress == Progress::Approved => {
                let scheduled = events
                    .iter()
                    .rev()
                    .find(|e| e.kind == SCHEDULED && e.environment.as_deref() == Some(p.environment.as_str()))
                    .and_then(|e| scheduled_time(&e.detail))
                    .filter(|at| *at > now);
                let frozen = config
                    .environment(&p.environment)
                    .and_then(|e| e.freeze_at(config.zone(), now));
                match (scheduled, frozen) {
                    (Some(at), _) => WaitingOn::Scheduled {
                        environment: p.environment.clone(),
                        at,
                    },
                    (None, Some(freeze)) => WaitingOn::Freeze {
                        environment: p.environment.clone(),
                        signed_off: true,
                        reason: freeze.reason,
                        until: freeze.ends_at,
                    },
                    (None, None) => WaitingOn::EnvironmentBusy {
                        environment: p.environment.clone(),
                        held_by: None,
                    },
                }
            }
            Some(p) if p.progress == Progress::Deploying => match open_question(&events, &p.environment) {
                Some(reason) => WaitingOn::Decision {
                    environment: p.environment.clone(),
                    approvers: config
                        .environment(&p.environment)
                        .map(|e| e.approvers.clone())
                        .unwrap_or_default(),
                    reason,
                    expires_at: None,
                },
                None => WaitingOn::Deploying {
                    environment: p.environment.clone(),
                },
            },
            Some(p) if p.progress == Progress::Live => WaitingOn::NextStep {
                environment: config
                    .environments
                    .iter()
                    .skip_while(|e| e.name != p.environment)
                    .nth(1)
                    .map(|e| e.name.clone()),
            },
            _ if release.status == ReleaseStatus::Created => super::words::starting(config, release, now),
            _ => WaitingOn::NextStep {
                environment: config.environments.first().map(|e| e.name.clone()),
            },
        });
        let mut summary = ReleaseSummary::of(release);
        summary.changed_at = events
            .last()
            .map_or(release.created_at, |e| e.at.max(release.created_at));
        let headline = match &waiting_on {
            Some(w) => w.summary(),
            None => summary.outcome.clone(),
        };
        summary.outcome = headline.clone();
        let order = |name: &str| {
            config
                .components
                .iter()
                .position(|c| c.name == name)
                .unwrap_or(usize::MAX)
        };
        let mut packages: Vec<PackageView> = release
            .snapshot
            .values()
            .map(|p| PackageView {
                component: p.component.clone(),
                display_name: config.component_label(&p.component).to_string(),
                version: p.version.to_string(),
                sha256: p.sha256.clone(),
                object_key: p.object_key.clone(),
            })
            .collect();
        packages.sort_by_key(|p| order(&p.component));
        let env_order = |name: &str| {
            config
                .environments
                .iter()
                .position(|e| e.name == name)
                .unwrap_or(usize::MAX)
        };
        let mut deployments: Vec<DeploymentView> = record
            .deployments
            .iter()
            .map(|d| {
                let (pages_url, cloudhub_applications) = platform_links(d.detail.as_ref());
                DeploymentView {
                    environment: d.environment.clone(),
                    component: d.component.clone(),
                    kind: d.kind,
                    version: d.package.version.to_string(),
                    status: d.status,
                    started_at: d.started_at,
                    updated_at: d.updated_at,
                    // Errors from the platforms or AWS may name ARNs and accounts: words only.
                    error: d.error.as_deref().map(crate::redact::internals),
                    pages_url,
                    cloudhub_applications,
                }
            })
            .collect();
        deployments.sort_by_key(|d| (env_order(&d.environment), order(&d.component)));
        ReleaseDetail {
            summary,
            headline,
            waiting_on,
            content_hash: release.content_hash.clone(),
            previous: release.previous.clone(),
            triggered_by: release.triggered_by.clone(),
            packages,
            notes: release.notes.iter().map(NoteView::of).collect(),
            environment_notes: {
                let mut by_env: Vec<EnvironmentNotesView> = record
                    .environment_notes
                    .iter()
                    .map(|(environment, notes)| EnvironmentNotesView {
                        environment: environment.clone(),
                        notes: notes.iter().map(NoteView::of).collect(),
                    })
                    .collect();
                by_env.sort_by_key(|e| env_order(&e.environment));
                by_env
            },
            environments,
            deployments,
            events: events
                .iter()
                .map(|e| EventView {
                    at: e.at,
                    kind: e.kind.clone(),
                    actor: e.actor.clone(),
                    environment: e.environment.clone(),
                    summary: crate::redact::internals(&event_summary(e)),
                    comment: decision_comment(e),
                })
                .collect(),
        }
    }
}

/// The text with its first letter capitalised.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl ReleaseDetail {
    /// The page told with the environments as they are now (every environment, in lifecycle
    /// order): where the release is live, and, once it is finished, a headline that says so
    /// rather than where it once was.
    pub fn live_now(mut self, record: &ReleaseRecord, environments: &[EnvironmentNow]) -> ReleaseDetail {
        self.summary.live_in = Some(live_in(&record.release.id, environments));
        if self.waiting_on.is_none() {
            self.headline = standing_words(&record.release, environments, &record.deployments);
            self.summary.outcome = self.headline.clone();
        }
        self
    }
}

impl NoteView {
    /// The view of one package's notes.
    pub fn of(n: &crate::release::ReleaseNote) -> NoteView {
        NoteView {
            component: n.component.clone(),
            version: n.version.to_string(),
            notes: n.metadata.notes.clone(),
            commit: n.metadata.commit.clone(),
            branch: n.metadata.branch.clone(),
            build_url: n.metadata.build_url.clone(),
        }
    }
}
