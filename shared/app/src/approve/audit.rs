//! The timeline entry of an approver's decision: who, how, from where, what they saw.

use baton_domain::approval::Approval;
use baton_domain::ports::ReleaseEvent;
use chrono::Utc;

use crate::http::HttpRequest;

/// The timeline entry of a decision or sign-off: who, how, from where, what they saw.
pub(super) fn audit_event(
    request: &HttpRequest,
    approval: &Approval,
    kind: &str,
    approver: &str,
    comment: Option<&str>,
) -> ReleaseEvent {
    let verb = kind;
    let detail = format!(
        "{verb} via the email link{} (from {}, {}; saw {})",
        comment.map(|c| format!(": \u{201c}{c}\u{201d}")).unwrap_or_default(),
        if request.source_ip.is_empty() {
            "unknown address"
        } else {
            request.source_ip.as_str()
        },
        if request.user_agent.is_empty() {
            "unknown browser"
        } else {
            request.user_agent.as_str()
        },
        approval
            .changes
            .iter()
            .map(|c| format!("{} {}", c.component, c.next))
            .collect::<Vec<_>>()
            .join(", "),
    );
    ReleaseEvent {
        release_id: approval.release_id.clone(),
        at: Utc::now(),
        kind: kind.into(),
        actor: approver.into(),
        environment: Some(approval.environment.clone()),
        detail,
    }
}
