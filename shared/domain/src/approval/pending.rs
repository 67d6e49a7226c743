//! Which release waits for sign-off in an environment under the `supersede` policy, decided on
//! one item: the environment's pending pointer, taken with a conditional write.
//!
//! Deciding it from a global secondary index of pending approvals raced on AWS: GSI reads are
//! eventually consistent ("all reads from GSIs and streams are eventually consistent",
//! https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html),
//! so two releases asking within the index's lag did not see each other and both stayed
//! pending. A strongly consistent read of one item and a write conditioned on what was read
//! cannot miss a racing request: of two, one write fails and that request reads again.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::BatonError;
use crate::release::ReleaseId;

/// A release's request for sign-off, as the pointer names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingHolder {
    /// The approval.
    pub approval_id: String,
    /// Its release.
    pub release_id: ReleaseId,
    /// The release's number: a newer release has a higher one.
    pub number: u64,
}

/// An environment's pointer: who holds it, and whom they took it from (kept so that a retried
/// request that took it but failed before withdrawing the one it replaced can finish that).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPointer {
    /// The request that waits.
    pub holder: PendingHolder,
    /// The request it replaced, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<PendingHolder>,
}

/// What a request does about an environment's pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// Take the pointer from `replacing` (none: it is free); the replaced request is then
    /// withdrawn if it still waits.
    Take {
        /// The holder read, which the conditional write expects to find.
        replacing: Option<PendingHolder>,
    },
    /// The request holds it already (a retry); `replaced` may still need withdrawing.
    Holding {
        /// Whom it took the pointer from.
        replaced: Option<PendingHolder>,
    },
    /// A newer release waits: this request is withdrawn in its favour.
    Yield {
        /// The newer release's request.
        to: PendingHolder,
    },
}

/// What `mine` does, given the pointer as read (`current`) and whether its holder still waits
/// for a decision. A decided holder (approved, rejected, expired) no longer blocks an older
/// release, as before: only a newer release *waiting* supersedes.
pub fn turn(mine: &PendingHolder, current: Option<&PendingPointer>, holder_waiting: bool) -> Turn {
    let Some(current) = current else {
        return Turn::Take { replacing: None };
    };
    if current.holder.approval_id == mine.approval_id {
        return Turn::Holding {
            replaced: current.replaced.clone(),
        };
    }
    if current.holder.number > mine.number && holder_waiting {
        return Turn::Yield {
            to: current.holder.clone(),
        };
    }
    Turn::Take {
        replacing: Some(current.holder.clone()),
    }
}

/// The store of environments' pending pointers.
#[async_trait]
pub trait PendingPointers: Send + Sync {
    /// The pointer of `environment`, read strongly consistently.
    async fn pending_pointer(&self, environment: &str) -> Result<Option<PendingPointer>, BatonError>;

    /// Makes `mine` the holder, recording `expected` as the one replaced, only if the holder is
    /// still `expected` (`None`: there is no pointer yet). `false` if another request wrote
    /// it first: read it again and decide again.
    async fn take_pending(
        &self,
        environment: &str,
        mine: &PendingHolder,
        expected: Option<&PendingHolder>,
    ) -> Result<bool, BatonError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(id: &str, number: u64) -> PendingHolder {
        PendingHolder {
            approval_id: id.into(),
            release_id: ReleaseId(format!("rel-{number}")),
            number,
        }
    }

    fn pointer(id: &str, number: u64) -> PendingPointer {
        PendingPointer {
            holder: holder(id, number),
            replaced: None,
        }
    }

    #[test]
    fn the_first_request_takes_a_free_pointer() {
        assert_eq!(turn(&holder("a", 1), None, false), Turn::Take { replacing: None });
    }

    #[test]
    fn a_newer_release_takes_the_pointer_from_an_older_one() {
        for waiting in [true, false] {
            assert_eq!(
                turn(&holder("b", 2), Some(&pointer("a", 1)), waiting),
                Turn::Take {
                    replacing: Some(holder("a", 1))
                }
            );
        }
    }

    #[test]
    fn an_older_release_yields_to_a_newer_one_still_waiting_whatever_the_order_of_delivery() {
        assert_eq!(
            turn(&holder("a", 1), Some(&pointer("b", 2)), true),
            Turn::Yield { to: holder("b", 2) }
        );
    }

    #[test]
    fn an_older_release_asks_when_the_newer_one_was_already_decided() {
        assert_eq!(
            turn(&holder("a", 1), Some(&pointer("b", 2)), false),
            Turn::Take {
                replacing: Some(holder("b", 2))
            }
        );
    }

    #[test]
    fn a_retry_finds_its_own_pointer_and_what_it_replaced() {
        let taken = PendingPointer {
            holder: holder("b", 2),
            replaced: Some(holder("a", 1)),
        };
        assert_eq!(
            turn(&holder("b", 2), Some(&taken), true),
            Turn::Holding {
                replaced: Some(holder("a", 1))
            }
        );
    }

    #[test]
    fn a_new_request_of_the_same_release_replaces_the_old_one() {
        assert_eq!(
            turn(&holder("a2", 1), Some(&pointer("a", 1)), true),
            Turn::Take {
                replacing: Some(holder("a", 1))
            }
        );
    }
}
