//! The requests open in the environments, sorted for the overview: a release's sign-off or
//! failure question is what that release waits on; a redeploy's confirmation, or a question
//! about a redeploy that failed, stands beside its environment and never puts a finished
//! release back in flight.

use chrono::{DateTime, Utc};

use super::view::{PendingKind, PendingView, WaitingOn};
use super::words::{decision_words, in_flight, redeploy_words};
use super::{EnvironmentNow, PendingSignOff};
use crate::release::{Release, ReleaseId};

/// The open requests of an overview, as [`sort`] splits them.
#[derive(Debug, Default)]
pub(super) struct OpenRequests<'a> {
    /// Sign-offs and failure questions of releases in flight, or of releases beyond the
    /// recent list that are asked to sign off or hold their environment.
    pub releases: Vec<&'a PendingSignOff>,
    /// Redeploy confirmations, and failure questions no release in flight stands for.
    pub beside: Vec<&'a PendingSignOff>,
}

/// Splits the requests still open at `now` (a lapsed one waits on nobody); a sign-off of a
/// release that has finished is dropped, as nobody can give it any more.
pub(super) fn sort<'a>(
    pending: &'a [PendingSignOff],
    releases: &[Release],
    environments: &[EnvironmentNow],
    now: DateTime<Utc>,
) -> OpenRequests<'a> {
    let known = |id: &ReleaseId| releases.iter().find(|r| &r.id == id);
    let mut open = OpenRequests::default();
    for s in pending.iter().filter(|s| s.expires_at > now) {
        let flying = known(&s.release_id).is_none_or(|r| in_flight(r.status));
        if s.redeploy.is_some() {
            open.beside.push(s);
        } else if s.failure.is_some() {
            // A failure question keeps its environment's lease: held by the release itself,
            // the question is the release's; held by a redeploy's execution, it is not.
            let holder = environments
                .iter()
                .find(|e| e.state.environment == s.environment)
                .and_then(|e| e.deploying.as_ref());
            let its_own = match holder {
                Some(holder) => holder == &s.release_id,
                None => known(&s.release_id).is_some(),
            };
            if its_own && flying {
                open.releases.push(s);
            } else {
                open.beside.push(s);
            }
        } else if flying {
            open.releases.push(s);
        }
    }
    open
}

/// What a release waits on when `request` is asked of its approvers: their decision about a
/// failed deployment, or their sign-off.
pub(super) fn waiting_on(request: &PendingSignOff, now: DateTime<Utc>) -> WaitingOn {
    match &request.failure {
        Some(failure) => WaitingOn::Decision {
            environment: request.environment.clone(),
            approvers: request.approvers.clone(),
            reason: crate::redact::internals(&failure.reason),
            expires_at: Some(request.expires_at),
        },
        None => WaitingOn::SignOff {
            environment: request.environment.clone(),
            approvers: request.approvers.clone(),
            since: request.created_at,
            expires_at: Some(request.expires_at),
            unreachable: request.mail_failure.clone(),
            on_hold: request.hold.clone().filter(|h| h.in_force(now)),
        },
    }
}

/// A request shown beside its environment, in words.
pub(super) fn pending_view(request: &PendingSignOff) -> PendingView {
    let (kind, asked_of, reason, summary) = match (&request.redeploy, &request.failure) {
        (Some(redeploy), _) => (
            PendingKind::Redeploy,
            vec![redeploy.requested_by.clone()],
            redeploy.reason.clone(),
            redeploy_words(request.number, &request.environment, redeploy),
        ),
        (None, failure) => {
            let reason = failure
                .as_ref()
                .map(|f| crate::redact::internals(&f.reason))
                .unwrap_or_default();
            let what = format!("Deploying release {} to {}", request.number, request.environment);
            let summary = decision_words(&what, &reason, &request.approvers);
            (PendingKind::Decision, request.approvers.clone(), reason, summary)
        }
    };
    PendingView {
        kind,
        release: request.release_id.clone(),
        number: request.number,
        asked_of,
        since: request.created_at,
        expires_at: request.expires_at,
        reason,
        summary,
    }
}
