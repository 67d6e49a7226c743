//! Guided failure (issue 15, item 2): with `on_failure: ask`, a failed deployment pauses, the
//! environment's lease kept, and the approvers are asked by mail what to do: retry, roll back,
//! or leave it as it is (with a reason). The question is an approval record with
//! [`FailureQuestion`] set; the answer is its one sign-off, carrying the [`FailureChoice`]. An
//! unanswered question rolls back when it lapses.

use serde::{Deserialize, Serialize};

/// How long a failure question stays open (at most; never longer than the environment's
/// approval TTL): the lease it keeps is renewed when it is asked and lasts longer than this.
pub const QUESTION_TTL: std::time::Duration = std::time::Duration::from_secs(3_600);

/// The most questions one environment's deployment may ask (retries included) before a further
/// failure rolls back without asking: every loop of the workflow is bounded.
pub const MAX_QUESTIONS: u64 = 3;

/// What the question is about, kept on its approval record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureQuestion {
    /// What failed, in words.
    pub reason: String,
    /// The execution that asks (a release's own, or a redeploy's): whoever ends it closes its
    /// questions, and only those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<String>,
}

/// An approver's answer to a failure question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureChoice {
    /// Deploy the waves again, with the same lease and plan.
    Retry,
    /// Roll back what this deployment changed (what happens when nobody answers).
    Rollback,
    /// Keep the environment as the failure left it; the release ends failed.
    Leave,
}

impl FailureChoice {
    /// The choice a form's `decision` field names.
    pub fn parse(decision: &str) -> Option<FailureChoice> {
        match decision {
            "retry" => Some(FailureChoice::Retry),
            "rollback" => Some(FailureChoice::Rollback),
            "leave" => Some(FailureChoice::Leave),
            _ => None,
        }
    }

    /// The form value and the state machine's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureChoice::Retry => "retry",
            FailureChoice::Rollback => "rollback",
            FailureChoice::Leave => "leave",
        }
    }

    /// In words, for pages, mails and the timeline.
    pub fn words(self) -> &'static str {
        match self {
            FailureChoice::Retry => "Retry",
            FailureChoice::Rollback => "Roll back",
            FailureChoice::Leave => "Leave as it is",
        }
    }

    /// Whether choosing it needs a reason (leaving a failed deployment in place does).
    pub fn needs_reason(self) -> bool {
        self == FailureChoice::Leave
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_read_from_a_form_and_say_themselves() {
        for choice in [FailureChoice::Retry, FailureChoice::Rollback, FailureChoice::Leave] {
            assert_eq!(FailureChoice::parse(choice.as_str()), Some(choice));
        }
        assert_eq!(FailureChoice::parse("approve"), None);
        assert!(FailureChoice::Leave.needs_reason());
        assert!(!FailureChoice::Retry.needs_reason());
        assert_eq!(
            serde_json::to_value(FailureChoice::Rollback).unwrap(),
            serde_json::json!("rollback")
        );
    }
}
