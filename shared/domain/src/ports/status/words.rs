//! Plain language for business readers: statuses, waits and timeline lines in words. Times
//! are left to the renderer (it knows the reader's "now" and shows the exact time on hover).

use serde_json::Value;

use super::view::WaitingOn;
use crate::ports::ReleaseEvent;
use crate::release::ReleaseStatus;

/// A release's status in words.
pub fn outcome(status: ReleaseStatus) -> &'static str {
    match status {
        ReleaseStatus::Created => "Starting",
        ReleaseStatus::AwaitingApproval => "Waiting for sign-off",
        ReleaseStatus::Deploying => "Deploying",
        ReleaseStatus::Released => "Live in every environment",
        ReleaseStatus::Rejected => "Rejected",
        ReleaseStatus::Expired => "Expired: nobody signed off in time",
        ReleaseStatus::Superseded => "Replaced by a newer release",
        ReleaseStatus::Failed => "Deployment failed",
        ReleaseStatus::RolledBack => "Deployment failed and was rolled back",
        ReleaseStatus::Blocked => "Blocked before sign-off: nothing was changed",
        ReleaseStatus::Stopped => "Stopped before it finished: nothing more will happen to it",
    }
}

/// What a starting release waits on: its settle window while that lasts (`Collecting`).
pub fn starting(
    config: &crate::BatonConfig,
    release: &crate::Release,
    now: chrono::DateTime<chrono::Utc>,
) -> WaitingOn {
    match config.release.collecting_until(release.created_at, now) {
        Some(until) if release.status == ReleaseStatus::Created => WaitingOn::Collecting { until },
        _ => WaitingOn::Starting,
    }
}

/// Whether a release with this status is still on its way.
pub fn in_flight(status: ReleaseStatus) -> bool {
    matches!(
        status,
        ReleaseStatus::Created | ReleaseStatus::AwaitingApproval | ReleaseStatus::Deploying
    )
}

impl WaitingOn {
    /// What the release waits on, in a sentence without times.
    pub fn summary(&self) -> String {
        match self {
            WaitingOn::SignOff {
                environment,
                on_hold: Some(hold),
                ..
            } => format!("On hold for {environment} by {}: {}", hold.by, hold.reason),
            WaitingOn::SignOff {
                environment,
                approvers,
                unreachable: Some(reason),
                ..
            } => format!(
                "Waiting for sign-off for {environment} by {}, but Baton {}: {reason}",
                or_list(approvers),
                crate::approval::delivery::UNREACHABLE_WORDS
            ),
            WaitingOn::SignOff {
                environment, approvers, ..
            } => format!("Waiting for sign-off for {environment} by {}", or_list(approvers)),
            WaitingOn::Deploying { environment } => format!("Deploying to {environment}"),
            WaitingOn::EnvironmentBusy {
                environment,
                held_by: Some(other),
            } => format!("Waiting for {environment} to be free ({other} is deploying there)"),
            WaitingOn::EnvironmentBusy { environment, .. } => format!("Waiting for {environment} to be free"),
            WaitingOn::Scheduled { environment, .. } => {
                format!("Signed off for {environment}; scheduled to deploy there at the time chosen")
            }
            WaitingOn::Freeze {
                environment,
                signed_off: true,
                reason,
                ..
            } => format!("Signed off for {environment}; waits for the {reason} freeze there to end"),
            WaitingOn::Freeze {
                environment, reason, ..
            } => format!("Waiting for the {reason} freeze of {environment} to end"),
            WaitingOn::Decision {
                environment,
                approvers,
                reason,
                ..
            } => decision_words(&format!("Deploying to {environment}"), reason, approvers),
            WaitingOn::Starting => "Starting its workflow".to_string(),
            WaitingOn::Collecting { .. } => "Collecting packages".to_string(),
            WaitingOn::NextStep {
                environment: Some(environment),
            } => format!("Moving on to {environment}"),
            WaitingOn::NextStep { environment: None } => "Moving on to its next step".to_string(),
        }
    }
}

/// `<what> failed: <reason>. Waits for <approvers> to choose: retry, roll back or leave it`:
/// a failure question in a sentence without times (the renderer adds until when, and that
/// it then rolls back).
pub(super) fn decision_words(what: &str, reason: &str, approvers: &[String]) -> String {
    let reason = reason.trim().trim_end_matches('.').trim_end();
    let failed = if reason.is_empty() {
        format!("{what} failed")
    } else {
        format!("{what} failed: {reason}")
    };
    format!(
        "{failed}. Waits for {} to choose: retry, roll back or leave it",
        or_list(approvers)
    )
}

/// `Roll PROD back to release 5 — waits for rm@example.com to confirm`: a redeploy's
/// confirmation in a sentence without times.
pub(super) fn redeploy_words(number: u64, environment: &str, redeploy: &crate::redeploy::Redeploy) -> String {
    format!(
        "{} \u{2014} waits for {} to confirm",
        crate::redeploy::action_words(number, environment, redeploy.replacing),
        redeploy.requested_by
    )
}

/// `a`, `a or b`, `a, b or c`: any one of them may sign off.
fn or_list(people: &[String]) -> String {
    match people {
        [] => "an approver".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A decision's comment, from the audit detail the approve handler writes. That detail also
/// holds the approver's IP address and browser, which are for auditors, not for the status
/// page, so only the comment is taken. Two forms exist: the sentence
/// `approved via the email link: “<comment>” (from <ip>, <browser>; saw <versions>)` and, in
/// older records, JSON with a `comment` field.
pub fn decision_comment(event: &ReleaseEvent) -> Option<String> {
    if event.kind != "approved" && event.kind != "rejected" {
        return None;
    }
    let comment = match serde_json::from_str::<Value>(&event.detail) {
        Ok(json) => json.get("comment")?.as_str()?.to_string(),
        Err(_) => {
            let quoted = event.detail.split_once(" via the email link: \u{201c}")?.1;
            // The last closing quote before the audit part: a comment may hold quotes itself.
            let end = quoted.rfind("\u{201d} (from ")?;
            quoted[..end].to_string()
        }
    };
    Some(comment.trim().to_string()).filter(|c| !c.is_empty())
}

/// A timeline line in words.
pub fn event_summary(event: &ReleaseEvent) -> String {
    let env = event.environment.as_deref().unwrap_or("an environment");
    // Final outcomes carry `<Outcome> in <env>: <reason>`; readers want the reason.
    let reason = event
        .detail
        .split_once(": ")
        .map(|(_, r)| r.trim())
        .filter(|r| !r.is_empty());
    match event.kind.as_str() {
        "created" => sentence(&event.detail),
        "approval-requested" => match approvers_asked(&event.detail) {
            Some(who) => format!("Sign-off for {env} asked of {who}"),
            None => format!("Sign-off for {env} asked"),
        },
        "approved" => format!("Signed off for {env} by {}", event.actor),
        crate::approval::delivery::APPROVERS_UNREACHABLE => format!(
            "Sign-off for {env} asked, but Baton {}: {}",
            crate::approval::delivery::UNREACHABLE_WORDS,
            unreachable_reason(&event.detail)
        ),
        crate::approval::delivery::LATE_DECISION => format!(
            "{}'s decision for {env} came after the request closed: it was recorded but changed nothing",
            event.actor
        ),
        "rejected" => format!("Rejected for {env} by {}", event.actor),
        "held" => format!("Put on hold for {env} by {}: {}", event.actor, event.detail),
        "hold-lifted" => format!("Hold for {env} lifted by {}", event.actor),
        "hold-ended" => format!("The hold for {env} ended at its time"),
        crate::approval::freeze_override::FREEZE_OVERRIDE => {
            format!(
                "Let through the freeze of {env} by {}: {}",
                event.actor,
                sentence(&event.detail)
            )
        }
        "deploying" => format!("Deploying to {env}"),
        "live" => format!("Live in {env}"),
        "released" => "Live in every environment".to_string(),
        "expired" => format!("Nobody signed off for {env} in time"),
        "superseded" => sentence(&event.detail),
        "rolledback" => match reason {
            Some(r) => format!("Deployment to {env} failed and was rolled back: {r}"),
            None => format!("Deployment to {env} failed and was rolled back"),
        },
        "failed" => match reason {
            Some(r) => format!("Deployment to {env} failed: {r}"),
            None => format!("Deployment to {env} failed"),
        },
        "blocked" => match reason {
            Some(r) => format!("Blocked before sign-off for {env}, nothing changed: {r}"),
            None => format!("Blocked before sign-off for {env}, nothing changed"),
        },
        _ => sentence(&event.detail),
    }
}

/// The reason in notify's `could not reach the approvers: <reason>`.
pub fn unreachable_reason(detail: &str) -> &str {
    detail
        .strip_prefix(crate::approval::delivery::UNREACHABLE_WORDS)
        .and_then(|r| r.strip_prefix(": "))
        .unwrap_or(detail)
}

/// The approvers in notify's `sign-off asked of a, b until <time>`.
fn approvers_asked(detail: &str) -> Option<&str> {
    let rest = detail.strip_prefix("sign-off asked of ")?;
    Some(rest.split_once(" until ").map_or(rest, |(who, _)| who)).filter(|w| !w.is_empty())
}

/// The text with its first letter capitalised.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
