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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, h, 0, 0).unwrap()
    }

    fn approval(status: ApprovalStatus) -> Approval {
        Approval {
            status,
            expires_at: at(20),
            ..crate::approval::test_approval(at(8))
        }
    }

    fn wait(until: DateTime<Utc>) -> FreezeWait {
        FreezeWait {
            task_token: "token".into(),
            until,
            reason: "weekend".into(),
        }
    }

    fn decision(until: DateTime<Utc>) -> FreezeOverride {
        FreezeOverride {
            by: "rm@example.com".into(),
            at: at(9),
            reason: "hotfix".into(),
            until,
        }
    }

    #[test]
    fn an_override_covers_the_freeze_it_saw_and_no_longer_one() {
        let o = decision(at(16));
        assert!(o.covers(at(12)));
        assert!(o.covers(at(16)));
        assert!(!o.covers(at(16) + Duration::seconds(1)));
    }

    #[test]
    fn only_an_approved_request_waiting_on_a_freeze_not_yet_overridden_may_be_let_through() {
        let mut a = approval(ApprovalStatus::Approved);
        assert_eq!(a.overridable_freeze(at(10)), None, "no wait, nothing to override");
        a.freeze_wait = Some(wait(at(16)));
        assert_eq!(a.overridable_freeze(at(10)), Some(&wait(at(16))));
        // Not once the freeze has ended.
        assert_eq!(a.overridable_freeze(at(16)), None);
        assert_eq!(a.overridable_freeze(at(15)), Some(&wait(at(16))));
        // Not a request that is not approved.
        let mut pending = approval(ApprovalStatus::Pending);
        pending.freeze_wait = Some(wait(at(16)));
        assert_eq!(pending.overridable_freeze(at(10)), None);
        // Not once overridden for this freeze; again for a longer one.
        a.freeze_override = Some(decision(at(16)));
        assert_eq!(a.overridable_freeze(at(10)), None);
        a.freeze_wait = Some(wait(at(18)));
        assert_eq!(a.overridable_freeze(at(10)), Some(&wait(at(18))));
    }
}
