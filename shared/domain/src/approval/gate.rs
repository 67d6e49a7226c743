//! The deployment gate's reading of an approval record (DESIGN §3.5): a task callback alone
//! proves nothing; what deploys is what the record says was approved, by whom the current
//! configuration allows.

use super::{Approval, ApprovalStatus};
use crate::config::EnvironmentConfig;
use crate::release::{Release, ReleaseId};

/// What the configuration asks of an environment's approvals now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GateRules {
    /// Who may approve (addresses, as configured).
    pub approvers: Vec<String>,
    /// How many distinct approvers must sign off.
    pub required: usize,
    /// Whether an author of a changed package may not sign off on it.
    pub forbid_self_approval: bool,
    /// The `author` addresses of the packages the release changes.
    pub authors: Vec<String>,
}

impl GateRules {
    /// The rules of `environment` as configured now, for `approval` of `release`. The authors
    /// who may not sign off where self-approval is forbidden are those of every package between
    /// what is live in the environment and the release (the approval's notes; the release's own
    /// for requests made before those were kept). An environment no longer configured has no
    /// approvers: nobody may approve or deploy there.
    pub fn of(environment: Option<&EnvironmentConfig>, release: &Release, approval: &Approval) -> GateRules {
        let Some(env) = environment else {
            return GateRules {
                required: 1,
                ..GateRules::default()
            };
        };
        if approval.redeploy.is_some() || approval.failure.is_some() {
            // A redeploy's sign-off is the confirmation of the approver who asked, and a failure
            // question's the answer of one approver: the release was approved for this
            // environment before, by the environment's own rules.
            return GateRules {
                approvers: env.approvers.clone(),
                required: 1,
                forbid_self_approval: false,
                authors: Vec::new(),
            };
        }
        GateRules {
            approvers: env.approvers.clone(),
            required: env.required_approvals.max(1),
            forbid_self_approval: env.forbid_self_approval,
            authors: if approval.notes.is_empty() {
                &release.notes
            } else {
                &approval.notes
            }
            .iter()
            .filter_map(|n| n.metadata.author.clone())
            .collect(),
        }
    }

    /// Whether `address` is one of the configured approvers (addresses compare without case).
    pub fn is_approver(&self, address: &str) -> bool {
        self.approvers.iter().any(|a| a.eq_ignore_ascii_case(address))
    }

    /// Whether `address` may not sign off because they wrote a changed package.
    pub fn is_self_approval(&self, address: &str) -> bool {
        self.forbid_self_approval && self.authors.iter().any(|a| a.eq_ignore_ascii_case(address))
    }
}

/// Why an approval record does not allow a deployment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateRefusal {
    /// The callback named no approval record, or one that does not exist.
    #[error("no approval record backs this request (a callback from outside Baton's approval links)")]
    NoRecord,
    /// The record is another release's or another environment's.
    #[error("the approval named is for {release} in {environment}, not this request")]
    OtherRequest {
        /// Its release.
        release: ReleaseId,
        /// Its environment.
        environment: String,
    },
    /// The record is not approved.
    #[error("the approval record says {0:?}, not approved")]
    NotApproved(ApprovalStatus),
    /// Decided after the request lapsed.
    #[error("the approval was recorded after the request lapsed")]
    Lapsed,
    /// A signer is no longer an approver of the environment.
    #[error("{0} signed off but is no longer an approver of this environment")]
    NoLongerApprover(String),
    /// A signer wrote a changed package and the environment forbids self-approval.
    #[error("{0} signed off on their own change, which this environment does not allow")]
    SelfApproval(String),
    /// The approval was given for another plan than the one about to deploy.
    #[error("the approval was given for another plan than the one about to deploy")]
    OtherPlan,
    /// A redeploy's confirmation offered to a release's own execution, or the reverse, or
    /// another redeploy's confirmation.
    #[error(
        "the approval named is for another deployment of this release (a redeploy's confirmation serves only that redeploy)"
    )]
    OtherExecution,
    /// Too few distinct sign-offs for the current rule.
    #[error("{have} of {need} sign-offs")]
    NotEnough {
        /// Distinct sign-offs recorded.
        have: usize,
        /// Sign-offs required.
        need: usize,
    },
}

impl Approval {
    /// Whether this approval was given for the plan whose hash is `plan_hash` (the plan the
    /// workflow is about to deploy). Requests made before plans were kept cover any.
    pub fn covers_plan(&self, plan_hash: Option<&str>) -> Result<(), GateRefusal> {
        match (&self.plan_hash, plan_hash) {
            (Some(approved), Some(now)) if approved != now => Err(GateRefusal::OtherPlan),
            _ => Ok(()),
        }
    }

    /// The approvers whose sign-offs allow the execution named `execution` to deploy `release`
    /// to `environment` under `rules`, or why this record does not. A redeploy's confirmation
    /// serves only its own redeploy, and a release's approval only the release's own execution.
    pub fn allows_deployment(
        &self,
        release: &ReleaseId,
        environment: &str,
        execution: Option<&str>,
        rules: &GateRules,
    ) -> Result<Vec<String>, GateRefusal> {
        if self.release_id != *release || self.environment != environment {
            return Err(GateRefusal::OtherRequest {
                release: self.release_id.clone(),
                environment: self.environment.clone(),
            });
        }
        let confirms = self.redeploy.as_ref().map(|r| r.execution.as_str());
        let redeploying = crate::redeploy::is_redeploy_execution(execution);
        if confirms.is_some() != redeploying || (redeploying && confirms != execution) {
            return Err(GateRefusal::OtherExecution);
        }
        if self.status != ApprovalStatus::Approved {
            return Err(GateRefusal::NotApproved(self.status));
        }
        if self.decided_at.is_none_or(|at| at > self.expires_at) {
            return Err(GateRefusal::Lapsed);
        }
        let (signers, disqualified) = self.qualifying_signers(rules);
        let need = rules.required.max(1);
        if signers.len() < need {
            // Say why a sign-off did not count, when one did not.
            return Err(disqualified.unwrap_or(GateRefusal::NotEnough {
                have: signers.len(),
                need,
            }));
        }
        Ok(signers)
    }

    /// The distinct signers whose sign-offs count under `rules` (approvers now, not signing
    /// their own change), and why the first one that does not count does not. The approve
    /// handler counts with this too, so a quorum it sees is the quorum the gate accepts.
    pub fn qualifying_signers(&self, rules: &GateRules) -> (Vec<String>, Option<GateRefusal>) {
        let mut signers: Vec<String> = Vec::new();
        let mut disqualified = None;
        for signer in self.signed_off_by() {
            let refusal = if !rules.is_approver(signer) {
                Some(GateRefusal::NoLongerApprover(signer.to_string()))
            } else if rules.is_self_approval(signer) {
                Some(GateRefusal::SelfApproval(signer.to_string()))
            } else {
                None
            };
            match refusal {
                Some(r) => {
                    disqualified.get_or_insert(r);
                }
                None if !signers.iter().any(|s| s.eq_ignore_ascii_case(signer)) => signers.push(signer.to_string()),
                None => {}
            }
        }
        (signers, disqualified)
    }
}

#[cfg(test)]
mod tests {

    use chrono::{Duration, Utc};

    use super::*;
    use crate::approval::SignOff;

    fn approved(signers: &[&str]) -> Approval {
        let now = Utc::now();
        Approval {
            status: ApprovalStatus::Approved,
            decided_by: signers.last().map(|s| s.to_string()),
            decided_at: Some(now),
            task_notified: true,
            sign_offs: signers
                .iter()
                .map(|s| SignOff {
                    by: s.to_string(),
                    at: now,
                    comment: None,
                    deploy_at: None,
                    choice: None,
                })
                .collect(),
            ..crate::approval::test_approval(now)
        }
    }

    fn rules(required: usize) -> GateRules {
        GateRules {
            approvers: vec!["rm@example.com".into(), "CAB@example.com".into()],
            required,
            forbid_self_approval: false,
            authors: vec![],
        }
    }

    fn here() -> ReleaseId {
        ReleaseId::from_number(7)
    }

    #[test]
    fn an_approved_record_by_current_approvers_allows_the_deployment() {
        let a = approved(&["rm@example.com", "cab@example.com"]);
        assert_eq!(
            a.allows_deployment(&here(), "PROD", None, &rules(2)),
            Ok(vec!["rm@example.com".to_string(), "cab@example.com".to_string()])
        );
    }

    #[test]
    fn a_pending_or_rejected_record_allows_nothing() {
        for status in [
            ApprovalStatus::Pending,
            ApprovalStatus::Rejected,
            ApprovalStatus::Expired,
        ] {
            let mut a = approved(&["rm@example.com"]);
            a.status = status;
            assert_eq!(
                a.allows_deployment(&here(), "PROD", None, &rules(1)),
                Err(GateRefusal::NotApproved(status))
            );
        }
    }

    #[test]
    fn another_requests_approval_allows_nothing_here() {
        let a = approved(&["rm@example.com"]);
        assert!(matches!(
            a.allows_deployment(&ReleaseId::from_number(8), "PROD", None, &rules(1)),
            Err(GateRefusal::OtherRequest { .. })
        ));
        assert!(matches!(
            a.allows_deployment(&here(), "TEST", None, &rules(1)),
            Err(GateRefusal::OtherRequest { .. })
        ));
    }

    #[test]
    fn a_removed_approver_or_too_few_sign_offs_allow_nothing() {
        let a = approved(&["rm@example.com", "gone@example.com"]);
        assert_eq!(
            a.allows_deployment(&here(), "PROD", None, &rules(2)),
            Err(GateRefusal::NoLongerApprover("gone@example.com".into()))
        );
        // One qualifying sign-off still makes one of one.
        assert_eq!(
            a.allows_deployment(&here(), "PROD", None, &rules(1)),
            Ok(vec!["rm@example.com".to_string()])
        );
        let one = approved(&["rm@example.com"]);
        assert_eq!(
            one.allows_deployment(&here(), "PROD", None, &rules(2)),
            Err(GateRefusal::NotEnough { have: 1, need: 2 })
        );
        // The same person twice counts once.
        let twice = approved(&["rm@example.com", "RM@example.com"]);
        assert_eq!(
            twice.allows_deployment(&here(), "PROD", None, &rules(2)),
            Err(GateRefusal::NotEnough { have: 1, need: 2 })
        );
    }

    #[test]
    fn a_decision_after_the_request_lapsed_allows_nothing() {
        let mut a = approved(&["rm@example.com"]);
        a.decided_at = Some(a.expires_at + Duration::seconds(1));
        assert_eq!(
            a.allows_deployment(&here(), "PROD", None, &rules(1)),
            Err(GateRefusal::Lapsed)
        );
        a.decided_at = None;
        assert_eq!(
            a.allows_deployment(&here(), "PROD", None, &rules(1)),
            Err(GateRefusal::Lapsed)
        );
    }

    #[test]
    fn an_author_may_not_sign_off_where_self_approval_is_forbidden() {
        let a = approved(&["rm@example.com"]);
        let mut r = rules(1);
        r.authors = vec!["RM@example.com".into()];
        assert!(
            a.allows_deployment(&here(), "PROD", None, &r).is_ok(),
            "allowed unless forbidden"
        );
        r.forbid_self_approval = true;
        assert_eq!(
            a.allows_deployment(&here(), "PROD", None, &r),
            Err(GateRefusal::SelfApproval("rm@example.com".into()))
        );
    }

    #[test]
    fn a_redeploys_confirmation_serves_only_that_redeploy() {
        let release_approval = approved(&["rm@example.com"]);
        let mut confirmation = approved(&["rm@example.com"]);
        confirmation.redeploy = Some(crate::redeploy::Redeploy {
            execution: "redeploy-7-prod-aaaa".into(),
            environment: "PROD".into(),
            requested_by: "rm@example.com".into(),
            reason: "login broken".into(),
            replacing: Some(8),
        });
        let mine = Some("redeploy-7-prod-aaaa");
        assert!(confirmation.allows_deployment(&here(), "PROD", mine, &rules(1)).is_ok());
        for (approval, execution) in [
            (&confirmation, None),
            (&confirmation, Some("rel-7")),
            (&confirmation, Some("redeploy-7-prod-bbbb")),
            (&release_approval, mine),
        ] {
            assert_eq!(
                approval.allows_deployment(&here(), "PROD", execution, &rules(1)),
                Err(GateRefusal::OtherExecution),
                "{execution:?}"
            );
        }
    }

    #[test]
    fn a_redeploy_needs_one_confirmation_from_a_current_approver() {
        let env = crate::config::EnvironmentConfig {
            name: "PROD".into(),
            display_name: None,
            approvers: vec!["rm@example.com".into(), "cab@example.com".into()],
            approval_ttl: "24h".into(),
            on_newer_release: Default::default(),
            required_approvals: 2,
            forbid_self_approval: true,
            freezes: vec![],
            on_failure: Default::default(),
        };
        let release = crate::Release {
            id: here(),
            number: 7,
            snapshot: Default::default(),
            content_hash: "h".into(),
            changes: vec![],
            notes: vec![],
            previous: None,
            triggered_by: "ci".into(),
            created_at: Utc::now(),
            status: crate::release::ReleaseStatus::Released,
        };
        let mut confirmation = approved(&["rm@example.com"]);
        confirmation.redeploy = Some(crate::redeploy::Redeploy {
            execution: "redeploy-7-prod-aaaa".into(),
            environment: "PROD".into(),
            requested_by: "rm@example.com".into(),
            reason: "login broken".into(),
            replacing: None,
        });
        let rules = GateRules::of(Some(&env), &release, &confirmation);
        assert_eq!(rules.required, 1);
        assert!(rules.is_approver("RM@example.com") && !rules.is_approver("dev@example.com"));
        let release_rules = GateRules::of(Some(&env), &release, &approved(&["rm@example.com"]));
        assert_eq!(release_rules.required, 2);
    }

    #[test]
    fn a_record_from_before_sign_offs_counts_its_decider() {
        let mut a = approved(&[]);
        a.decided_by = Some("rm@example.com".into());
        assert_eq!(
            a.allows_deployment(&here(), "PROD", None, &rules(1)),
            Ok(vec!["rm@example.com".to_string()])
        );
    }

    #[test]
    fn an_approval_covers_only_the_plan_it_was_given_for() {
        let mut a = approved(&["rm@example.com"]);
        assert_eq!(
            a.covers_plan(Some("h1")),
            Ok(()),
            "a request from before plans covers any"
        );
        a.plan_hash = Some("h1".into());
        assert_eq!(a.covers_plan(Some("h1")), Ok(()));
        assert_eq!(a.covers_plan(Some("h2")), Err(GateRefusal::OtherPlan));
    }
}
