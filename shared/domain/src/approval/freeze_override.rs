//! Deploying during a freeze: a signed-off release that finds its environment frozen waits for
//! the freeze to end, and each approver gets a personal link to deploy it now anyway, with a
//! reason (DESIGN §3.6). The wait is a Step Functions task: its token, kept on the approval,
//! is answered by an override, or times out when the freeze ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Approval, ApprovalStatus};

/// The workflow waiting on a freeze for this approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeWait {
    /// The waiting task's token (answered by an override).
    pub task_token: String,
    /// When the freeze ends (the task times out then).
    pub until: DateTime<Utc>,
    /// The freeze's reason.
    pub reason: String,
}

/// An approver's decision to deploy during a freeze.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeOverride {
    /// The approver.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, in their words.
    pub reason: String,
    /// The end of the freeze it lets the release through: a freeze lasting longer (changed
    /// since) is not covered.
    pub until: DateTime<Utc>,
}

impl FreezeOverride {
    /// Whether it lets the release through a freeze (chain) ending at `ends_at`.
    pub fn covers(&self, ends_at: DateTime<Utc>) -> bool {
        ends_at <= self.until
    }
}

/// The timeline kind of an override.
pub const FREEZE_OVERRIDE: &str = "freeze-override";

impl Approval {
    /// The freeze this approved request waits on at `now`, if one may still be overridden.
    pub fn overridable_freeze(&self, now: DateTime<Utc>) -> Option<&FreezeWait> {
        self.freeze_wait.as_ref().filter(|w| {
            self.status == ApprovalStatus::Approved
                && !self.freeze_override.as_ref().is_some_and(|o| o.covers(w.until))
                && now < w.until
        })
    }
}
