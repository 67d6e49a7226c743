//! Redeploys on demand: a release already approved for an environment deployed there again,
//! a rollback when a newer release is live there (issue 15, item 1).
//!
//! A redeploy is an execution of the release state machine of its own, named
//! `redeploy-...`, for one environment. It goes through the same lease, pre-flight, plan and
//! gates as a release; its sign-off is the confirmation of the approver who asked for it
//! (one personal link, to them only). It never changes the release's own status: the
//! environment's state and both releases' timelines tell what happened.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ReleaseId;
use crate::ports::ReleaseEvent;

/// Every redeploy execution's name begins with this; a release's own execution is named after
/// the release (`rel-N`).
pub const EXECUTION_PREFIX: &str = "redeploy-";

/// How long a confirmation link lives: a rollback is wanted now, not next week.
pub const CONFIRMATION_TTL: std::time::Duration = std::time::Duration::from_secs(3_600);

/// Longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Requests for one release, environment and person within this many seconds are one request
/// (a double-clicked form starts one redeploy).
const SAME_REQUEST_SECONDS: i64 = 600;

/// What a redeploy is: kept on its confirmation (the approval record) and passed by the state
/// machine to the steps that need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redeploy {
    /// The execution doing it (`redeploy-...`).
    pub execution: String,
    /// The environment.
    pub environment: String,
    /// Who asked (an approver of the environment when they asked).
    pub requested_by: String,
    /// Why, in their words.
    pub reason: String,
    /// The release live in the environment when it was asked, if any (a rollback's "from").
    #[serde(default)]
    pub replacing: Option<u64>,
}

/// Whether `execution` is a redeploy's.
pub fn is_redeploy_execution(execution: Option<&str>) -> bool {
    execution.is_some_and(|e| e.starts_with(EXECUTION_PREFIX))
}

/// Who holds an environment's lease for a deployment: the release for its own execution, the
/// execution for a redeploy (two redeploys of one release are two holders, so they never
/// overlap in one environment).
pub fn lease_holder(release: &ReleaseId, execution: Option<&str>) -> ReleaseId {
    match execution {
        Some(e) if is_redeploy_execution(Some(e)) => ReleaseId(e.to_string()),
        _ => release.clone(),
    }
}

/// The execution name of a request: the same release, environment, person and reason within
/// ten minutes give the same name (Step Functions then starts nothing new). At most 80
/// characters of `[A-Za-z0-9-]`, as Step Functions allows.
pub fn execution_name(number: u64, environment: &str, requested_by: &str, reason: &str, at: DateTime<Utc>) -> String {
    let env: String = environment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(20)
        .collect();
    let bucket = at.timestamp().div_euclid(SAME_REQUEST_SECONDS);
    let material = format!(
        "{number}\0{environment}\0{}\0{reason}\0{bucket}",
        requested_by.trim().to_ascii_lowercase()
    );
    let hash = crate::sha256_hex(material.as_bytes());
    format!("{EXECUTION_PREFIX}{number}-{env}-{}", &hash[..16])
}

/// Whether a release may be deployed to `environment` again: only where it passed the gate
/// before (approved and deployed, live or not since). A redeploy never takes a release into an
/// environment it was never approved for.
pub fn eligible(events: &[ReleaseEvent], environment: &str) -> bool {
    events
        .iter()
        .any(|e| e.kind == "deploying" && e.environment.as_deref() == Some(environment))
}

/// What a redeploy of release `number` to `environment` does, in words for a button or a
/// subject, given the release live there now.
pub fn action_words(number: u64, environment: &str, live: Option<u64>) -> String {
    match live {
        Some(live) if live > number => format!("Roll {environment} back to release {number}"),
        Some(live) if live == number => format!("Deploy release {number} to {environment} again"),
        _ => format!("Retry release {number} in {environment}"),
    }
}

/// What is wrong with a request's reason, if anything.
pub fn reason_problem(reason: &str) -> Option<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Some("say why (the reason is recorded on both releases' timelines)".into());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Some(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters; shorten it"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, env: &str) -> ReleaseEvent {
        ReleaseEvent {
            release_id: ReleaseId::from_number(5),
            at: Utc::now(),
            kind: kind.into(),
            actor: "baton".into(),
            environment: Some(env.into()),
            detail: String::new(),
        }
    }

    #[test]
    fn only_an_environment_the_release_was_deployed_to_is_eligible() {
        let events = vec![event("approval-requested", "PROD"), event("deploying", "TEST")];
        assert!(eligible(&events, "TEST"));
        assert!(!eligible(&events, "PROD"));
        assert!(!eligible(&[], "TEST"));
    }

    #[test]
    fn names_are_stable_within_ten_minutes_and_valid_for_step_functions() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T10:01:00Z").unwrap().to_utc();
        let a = execution_name(5, "PROD", "RM@example.com", "bad build", at);
        let b = execution_name(
            5,
            "PROD",
            "rm@example.com ",
            "bad build",
            at + chrono::Duration::minutes(5),
        );
        assert_eq!(a, b);
        assert_ne!(a, execution_name(5, "PROD", "rm@example.com", "other", at));
        assert_ne!(a, execution_name(5, "TEST", "rm@example.com", "bad build", at));
        assert_ne!(
            a,
            execution_name(
                5,
                "PROD",
                "rm@example.com",
                "bad build",
                at + chrono::Duration::minutes(11)
            )
        );
        let long = execution_name(u64::MAX, &"Ä very long environment name".repeat(4), "x", "y", at);
        assert!(long.len() <= 80, "{long}");
        assert!(long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{long}");
        assert!(is_redeploy_execution(Some(&long)));
        assert!(!is_redeploy_execution(Some("rel-5")));
        assert!(!is_redeploy_execution(None));
    }

    #[test]
    fn a_redeploy_holds_the_lease_as_its_execution() {
        let release = ReleaseId::from_number(5);
        assert_eq!(lease_holder(&release, None), release);
        assert_eq!(lease_holder(&release, Some("rel-5")), release);
        assert_eq!(
            lease_holder(&release, Some("redeploy-5-prod-0123")),
            ReleaseId("redeploy-5-prod-0123".into())
        );
    }

    #[test]
    fn words_say_rollback_again_or_retry() {
        assert_eq!(action_words(5, "PROD", Some(7)), "Roll PROD back to release 5");
        assert_eq!(action_words(7, "TEST", Some(7)), "Deploy release 7 to TEST again");
        assert_eq!(action_words(8, "PROD", Some(7)), "Retry release 8 in PROD");
        assert_eq!(action_words(8, "PROD", None), "Retry release 8 in PROD");
    }

    #[test]
    fn a_reason_is_required_and_bounded() {
        assert!(reason_problem("  ").is_some());
        assert!(reason_problem(&"x".repeat(MAX_REASON_CHARS + 1)).is_some());
        assert!(reason_problem("login broken since 7").is_none());
    }
}
