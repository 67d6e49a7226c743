//! Approvals: a release manager's yes or no for one release in one environment, asked by
//! email with a personal link per approver. Only each token's SHA-256 is kept.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::release::ReleaseId;
use crate::version::Version;

pub mod delivery;
pub mod evidence;
pub mod freeze_override;
mod gate;
pub mod guided_failure;
pub mod hold;
pub mod pending;
pub mod schedule;

pub use gate::{GateRefusal, GateRules};

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalStatus {
    /// Waiting for a decision.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
    /// Nobody decided in time.
    Expired,
    /// A newer release replaced it.
    Superseded,
}

/// One component's change in the environment, as the approver sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentChange {
    /// Component.
    pub component: String,
    /// What runs there now, if anything.
    pub live: Option<Version>,
    /// What the release brings.
    pub next: Version,
}

/// One approver's sign-off on a request that needs several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    /// The approver.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Their comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When they want the deployment to start, if not at once (see [`schedule`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_at: Option<DateTime<Utc>>,
    /// Their answer, when the request is a failure question (see [`guided_failure`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<guided_failure::FailureChoice>,
}

/// An approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Id (in links): derived from the task token, so a retried request finds its approval.
    pub id: String,
    /// The release.
    pub release_id: ReleaseId,
    /// Its number.
    pub number: u64,
    /// The environment.
    pub environment: String,
    /// The Step Functions task token to answer.
    pub task_token: String,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// When it lapses. Stored as `valid_until`: `expires_at` is the table's TTL attribute,
    /// which DynamoDB reads as a Number of epoch seconds and deletes the item after; an approval
    /// is the audit record of a decision and is kept. Records written before read as well.
    #[serde(rename = "valid_until", alias = "expires_at")]
    pub expires_at: DateTime<Utc>,
    /// Who may decide.
    pub approvers: Vec<String>,
    /// SHA-256 (hex) of each approver's token, to the approver.
    pub token_hashes: BTreeMap<String, String>,
    /// Approvers whose mail went out.
    pub mailed: Vec<String>,
    /// What changes in the environment.
    pub changes: Vec<EnvironmentChange>,
    /// The notes of every package between what is live in the environment and what the
    /// release brings, oldest first per component (empty on requests made before they were
    /// kept: the release's own notes stand in).
    #[serde(default)]
    pub notes: Vec<crate::release::ReleaseNote>,
    /// The plan the approver signs: what deploying would change there, per component.
    #[serde(default)]
    pub plan: crate::plan::EnvironmentPlan,
    /// Its hash: the gate deploys only the plan that was approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_hash: Option<String>,
    /// What was changed outside Baton in the environment when the request was made
    /// (`outside Baton since ...: ...`): deploying overwrites it, so the approver is told.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
    /// The workflow waiting on a freeze after this approval, if it is (see [`freeze_override`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_wait: Option<freeze_override::FreezeWait>,
    /// An approver's decision to deploy during that freeze, if one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_override: Option<freeze_override::FreezeOverride>,
    /// A hold on it, if an approver put one (see [`hold`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<hold::Hold>,
    /// Set when this is the confirmation of a redeploy (see [`crate::redeploy`]): asked of the
    /// one approver who requested it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeploy: Option<crate::redeploy::Redeploy>,
    /// Set when this is a failure question (see [`guided_failure`]): the deployment failed and
    /// waits for an approver to say retry, roll back or leave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<guided_failure::FailureQuestion>,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// Who decided (or the newer release that superseded it).
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The approver's comment.
    pub comment: Option<String>,
    /// The release that superseded this one.
    pub superseded_by: Option<ReleaseId>,
    /// Whether Step Functions has been told the decision.
    pub task_notified: bool,
    /// Sign-offs given so far, in order; the request is approved when enough distinct
    /// approvers have signed off (the last one's sign-off decides it).
    #[serde(default)]
    pub sign_offs: Vec<SignOff>,
    /// Why the approvers could not be mailed, once the mailer's retries were spent: the request
    /// stays open (a later mail may reach them) and the status page says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_failure: Option<String>,
}

/// Why a link cannot be used, each with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkProblem {
    /// Wrong or tampered token (403).
    Forbidden,
    /// Lapsed (410).
    Expired {
        /// When.
        at: DateTime<Utc>,
    },
    /// Decided already (409).
    Decided {
        /// By whom.
        by: String,
        /// Approved or rejected.
        status: ApprovalStatus,
        /// When.
        at: Option<DateTime<Utc>>,
    },
    /// A newer release replaced it (410).
    Superseded {
        /// The newer release.
        by: Option<ReleaseId>,
    },
}

impl LinkProblem {
    /// The HTTP status for this problem.
    pub fn status_code(&self) -> u16 {
        match self {
            LinkProblem::Forbidden => 403,
            LinkProblem::Expired { .. } | LinkProblem::Superseded { .. } => 410,
            LinkProblem::Decided { .. } => 409,
        }
    }
}

/// Length of an approval id: 32 hex digits (128 bits of the task token's SHA-256).
pub const APPROVAL_ID_LEN: usize = 32;

/// Whether `text` has the form of an approval id, checked before any lookup: ids come from
/// URLs and callbacks, and a store may answer an overlong key with an error, not "not found".
pub fn is_approval_id(text: &str) -> bool {
    text.len() == APPROVAL_ID_LEN && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// SHA-256 (hex) of a link token.
pub fn token_hash(token: &str) -> String {
    crate::sha256_hex(token.as_bytes())
}

/// A link token from 32 random bytes: 256 bits, base64url without padding.
pub fn token_from_bytes(bytes: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two strings (or byte strings) in time independent of where they differ.
pub(crate) fn constant_time_eq(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> bool {
    let (a, b) = (a.as_ref(), b.as_ref());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Approval {
    /// The approver a token belongs to, if any.
    pub fn approver_for(&self, token: &str) -> Option<&str> {
        let hash = token_hash(token);
        // Compare against every entry, so timing says nothing about which one matched.
        let mut found = None;
        for (stored, approver) in &self.token_hashes {
            if constant_time_eq(stored, &hash) {
                found = Some(approver.as_str());
            }
        }
        found
    }

    /// Who signed off, in order: the sign-offs, or the one decider of an approval recorded
    /// before sign-offs were kept.
    pub fn signed_off_by(&self) -> Vec<&str> {
        if self.sign_offs.is_empty() && self.status == ApprovalStatus::Approved {
            return self.decided_by.as_deref().into_iter().collect();
        }
        self.sign_offs.iter().map(|s| s.by.as_str()).collect()
    }

    /// Whether `approver` has signed off already.
    pub fn has_signed_off(&self, approver: &str) -> bool {
        self.sign_offs.iter().any(|s| s.by == approver)
    }

    /// Checks a link: the approver it belongs to if the approval can still be decided.
    pub fn check(&self, token: &str, now: DateTime<Utc>) -> Result<&str, LinkProblem> {
        let approver = self.approver_for(token).ok_or(LinkProblem::Forbidden)?;
        match self.status {
            ApprovalStatus::Superseded => Err(LinkProblem::Superseded {
                by: self.superseded_by.clone(),
            }),
            ApprovalStatus::Expired => Err(LinkProblem::Expired { at: self.expires_at }),
            ApprovalStatus::Approved | ApprovalStatus::Rejected => Err(LinkProblem::Decided {
                by: self.decided_by.clone().unwrap_or_default(),
                status: self.status,
                at: self.decided_at,
            }),
            ApprovalStatus::Pending if now >= self.expires_at => Err(LinkProblem::Expired { at: self.expires_at }),
            ApprovalStatus::Pending => Ok(approver),
        }
    }
}

/// What a new request is asked about: everything else of a fresh [`Approval`] starts empty.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Its id (from the waiting task's token).
    pub id: String,
    /// The release.
    pub release_id: ReleaseId,
    /// Its number.
    pub number: u64,
    /// The environment.
    pub environment: String,
    /// The waiting task's token.
    pub task_token: String,
    /// When it is asked.
    pub created_at: DateTime<Utc>,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
    /// Who is asked.
    pub approvers: Vec<String>,
}

impl Approval {
    /// A pending request, nobody mailed, nothing decided, no plan, hold or freeze yet: the
    /// caller sets what its kind of request carries (a plan, a redeploy, a failure question).
    pub fn pending(new: NewRequest) -> Approval {
        Approval {
            id: new.id,
            release_id: new.release_id,
            number: new.number,
            environment: new.environment,
            task_token: new.task_token,
            created_at: new.created_at,
            expires_at: new.expires_at,
            approvers: new.approvers,
            token_hashes: BTreeMap::new(),
            mailed: vec![],
            changes: vec![],
            notes: vec![],
            plan: Default::default(),
            plan_hash: None,
            drift: vec![],
            hold: None,
            freeze_wait: None,
            freeze_override: None,
            redeploy: None,
            failure: None,
            status: ApprovalStatus::Pending,
            decided_by: None,
            decided_at: None,
            comment: None,
            superseded_by: None,
            task_notified: false,
            sign_offs: vec![],
            mail_failure: None,
        }
    }
}

/// The request the domain's unit tests start from; each test changes what it is about.
#[cfg(test)]
pub(crate) fn test_approval(created_at: DateTime<Utc>) -> Approval {
    Approval::pending(NewRequest {
        id: "a1".into(),
        release_id: ReleaseId::from_number(7),
        number: 7,
        environment: "PROD".into(),
        task_token: "tt".into(),
        created_at,
        expires_at: created_at + chrono::Duration::hours(1),
        approvers: vec!["rm@example.com".into(), "cab@example.com".into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval() -> Approval {
        Approval {
            token_hashes: BTreeMap::from([
                (token_hash("secret-1"), "rm@example.com".into()),
                (token_hash("secret-2"), "cab@example.com".into()),
            ]),
            ..test_approval(Utc::now())
        }
    }

    #[test]
    fn a_token_identifies_its_approver_and_nothing_else_does() {
        let a = approval();
        assert_eq!(a.check("secret-2", Utc::now()), Ok("cab@example.com"));
        assert_eq!(a.check("secret-3", Utc::now()), Err(LinkProblem::Forbidden));
        assert_eq!(a.check("", Utc::now()), Err(LinkProblem::Forbidden));
    }

    #[test]
    fn lapsed_decided_and_superseded_links_say_so_with_their_status() {
        let a = approval();
        let later = a.expires_at + chrono::Duration::seconds(1);
        assert_eq!(a.check("secret-1", later).map_err(|p| p.status_code()), Err(410));
        let mut decided = approval();
        decided.status = ApprovalStatus::Approved;
        decided.decided_by = Some("cab@example.com".into());
        let problem = decided.check("secret-1", Utc::now()).unwrap_err();
        assert_eq!(problem.status_code(), 409);
        assert!(matches!(problem, LinkProblem::Decided { by, .. } if by == "cab@example.com"));
        let mut old = approval();
        old.status = ApprovalStatus::Superseded;
        old.superseded_by = Some(ReleaseId::from_number(5));
        assert_eq!(
            old.check("secret-1", Utc::now()),
            Err(LinkProblem::Superseded {
                by: Some(ReleaseId::from_number(5))
            })
        );
        // A wrong token learns nothing about the approval's state.
        assert_eq!(old.check("nope", Utc::now()), Err(LinkProblem::Forbidden));
    }

    #[test]
    fn tokens_are_256_bit_base64url() {
        let t = token_from_bytes(&[0xfb; 32]);
        assert_eq!(t.len(), 43);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
