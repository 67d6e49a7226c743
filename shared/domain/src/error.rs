//! The error every port and handler returns, classified the way retries need it.

use std::fmt;

/// How a failure should be treated by whoever called us (the SQS event source, Step
/// Functions, an HTTP client). The names Step Functions matches on come from
/// [`ErrorKind::error_type`], never from Rust type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Worth retrying: throttling, 5xx, timeouts, an optimistic-lock conflict.
    Transient,
    /// The input is wrong; retrying the same input cannot succeed.
    Invalid,
    /// A person rejected the release.
    Rejected,
    /// A newer release replaced this one.
    Superseded,
    /// A deployment ran and failed.
    DeployFailed,
    /// No approval record allows the deployment (a forged or stale callback): nothing deployed.
    Unapproved,
    /// A pre-flight check failed: nobody is asked to approve what could not deploy.
    Blocked,
    /// What deploying would change is not what was approved (the platform changed since):
    /// nothing deployed, the approval is asked again.
    PlanChanged,
    /// A deployer no longer holds its environment's lease (it ran out, another release took
    /// it): it stops and changes nothing more there.
    LeaseLost,
    /// An approver decided to deploy during the freeze the workflow was about to wait on: it
    /// goes on at once instead of waiting.
    Overridden,
    /// Something that should not happen: a bug or a broken invariant.
    Internal,
}

impl ErrorKind {
    /// The `errorType` a Lambda reports and a state machine's Retry/Catch matches.
    pub fn error_type(self) -> &'static str {
        match self {
            ErrorKind::Transient => "Baton.Transient",
            ErrorKind::Invalid => "Baton.Invalid",
            ErrorKind::Rejected => "Baton.Rejected",
            ErrorKind::Superseded => "Baton.Superseded",
            ErrorKind::DeployFailed => "Baton.DeployFailed",
            ErrorKind::Unapproved => "Baton.Unapproved",
            ErrorKind::Blocked => "Baton.Blocked",
            ErrorKind::PlanChanged => "Baton.PlanChanged",
            ErrorKind::LeaseLost => "Baton.LeaseLost",
            ErrorKind::Overridden => "Baton.Overridden",
            ErrorKind::Internal => "Baton.Internal",
        }
    }
}

/// A classified failure with a message for people: what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BatonError {
    /// How callers should treat it.
    pub kind: ErrorKind,
    /// What went wrong, in words an operator can act on.
    pub message: String,
}

impl fmt::Display for BatonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.error_type(), self.message)
    }
}

impl BatonError {
    /// A failure worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Transient,
            message: message.into(),
        }
    }
    /// Input that cannot succeed as it is.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            message: message.into(),
        }
    }
    /// A broken invariant.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
    /// A step of `holder` refused because it no longer holds `environment`'s lease (it ran out
    /// or another release took it): the step stops and changes nothing more there.
    pub fn lease_lost(environment: &str, holder: &crate::ReleaseId) -> Self {
        Self {
            kind: ErrorKind::LeaseLost,
            message: format!(
                "{holder} no longer holds the {environment} lease (it ran out or another release took it); it stopped and changed nothing more in {environment}"
            ),
        }
    }
    /// Whether a retry of the same request may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind == ErrorKind::Transient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ErrorKind; 11] = [
        ErrorKind::Transient,
        ErrorKind::Invalid,
        ErrorKind::Rejected,
        ErrorKind::Superseded,
        ErrorKind::DeployFailed,
        ErrorKind::Unapproved,
        ErrorKind::Blocked,
        ErrorKind::PlanChanged,
        ErrorKind::LeaseLost,
        ErrorKind::Overridden,
        ErrorKind::Internal,
    ];

    /// Every string under `key` anywhere in `value`.
    fn strings_under<'a>(value: &'a serde_json::Value, key: &str, into: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        serde_json::Value::String(s) if k == key => into.push(s),
                        serde_json::Value::Array(items) if k == key => {
                            into.extend(items.iter().filter_map(|i| i.as_str()));
                        }
                        _ => strings_under(v, key, into),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| strings_under(i, key, into)),
            _ => {}
        }
    }

    #[test]
    fn every_error_type_the_state_machine_matches_is_one_a_kind_or_a_fail_state_raises() {
        let asl: serde_json::Value =
            serde_json::from_str(include_str!("../../../infra/statemachine/release.asl.json")).unwrap();
        let (mut matched, mut raised) = (Vec::new(), Vec::new());
        strings_under(&asl, "ErrorEquals", &mut matched);
        strings_under(&asl, "Error", &mut raised);
        let reported: Vec<&str> = ALL.iter().map(|k| k.error_type()).collect();
        let baton: Vec<&&str> = matched.iter().filter(|m| m.starts_with("Baton.")).collect();
        assert!(baton.len() >= 10, "{matched:?}");
        for name in baton {
            assert!(
                reported.contains(name) || raised.contains(name),
                "the state machine matches {name}, which no ErrorKind reports and no Fail state raises"
            );
        }
        assert!(matched.contains(&"Baton.Transient") && matched.contains(&"Baton.LeaseLost"));
        // Each kind has its own name, of the form Step Functions matches: `Baton.<Kind>`.
        for (kind, name) in ALL.iter().zip(&reported) {
            assert_eq!(format!("Baton.{kind:?}"), *name);
        }
    }

    #[test]
    fn an_error_reads_as_its_type_and_message_and_only_transient_ones_are_retried() {
        let e = BatonError::transient("Cloudflare answered 503");
        assert_eq!(e.to_string(), "Baton.Transient: Cloudflare answered 503");
        assert!(e.is_transient());
        assert!(!BatonError::invalid("x").is_transient());
        assert!(!BatonError::internal("x").is_transient());
        assert_eq!(BatonError::invalid("bad").to_string(), "Baton.Invalid: bad");
        assert_eq!(BatonError::internal("bug").kind, ErrorKind::Internal);
        let lost = BatonError::lease_lost("PROD", &crate::ReleaseId::from_number(7));
        assert_eq!(lost.kind, ErrorKind::LeaseLost);
        assert_eq!(
            lost.message,
            "rel-7 no longer holds the PROD lease (it ran out or another release took it); it stopped and changed nothing more in PROD"
        );
    }
}
