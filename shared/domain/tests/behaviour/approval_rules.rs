//! Guards the approval links and the deployment gate: which ids are approval ids, who has signed
//! off, what a link answers once used, lapsed or replaced, and when the gate lets a deployment
//! through.

use baton_domain::approval::{
    Approval, ApprovalStatus, GateRefusal, GateRules, LinkProblem, is_approval_id, token_hash,
};
use baton_domain::release::ReleaseId;

use crate::common::{at, from_json, local, release};

/// An approval of release 5 in PROD asked at minute 0, lapsing at minute 60, with a link for
/// each of the two PROD approvers (tokens `t-rm` and `t-cab`) and these sign-offs.
fn approval(status: &str, signed: &[&str], decided_at: Option<i64>) -> Approval {
    from_json(serde_json::json!({
        "id": "0123456789abcdef0123456789abcdef",
        "release_id": "rel-5",
        "number": 5,
        "environment": "PROD",
        "task_token": "task",
        "created_at": at(0),
        "expires_at": at(60),
        "approvers": ["release-manager@example.com", "cab@example.com"],
        "token_hashes": {
            token_hash("t-rm"): "release-manager@example.com",
            token_hash("t-cab"): "cab@example.com",
        },
        "mailed": [],
        "changes": [],
        "status": status,
        "decided_by": signed.last(),
        "decided_at": decided_at.map(at),
        "comment": null,
        "superseded_by": if status == "superseded" { serde_json::json!("rel-6") } else { serde_json::Value::Null },
        "task_notified": false,
        "sign_offs": signed.iter().enumerate().map(|(i, by)| serde_json::json!({ "by": by, "at": at(i as i64 + 1) })).collect::<Vec<_>>(),
    }))
}

#[test]
fn an_approval_id_is_32_lowercase_hex_digits() {
    assert!(is_approval_id("0123456789abcdef0123456789abcdef"));
    assert!(is_approval_id(&"f".repeat(32)));
    for bad in [
        "",
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0",
        "0123456789ABCDEF0123456789abcdef",
        "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef-123456789abcdef",
    ] {
        assert!(!is_approval_id(bad), "{bad:?}");
    }
}

#[test]
fn only_those_who_signed_off_have_signed_off() {
    let a = approval("pending", &["cab@example.com"], None);
    assert!(a.has_signed_off("cab@example.com"));
    assert!(!a.has_signed_off("release-manager@example.com"));
    assert_eq!(a.signed_off_by(), ["cab@example.com"]);
}

#[test]
fn a_link_answers_for_its_approver_until_the_request_is_decided_lapses_or_is_replaced() {
    let pending = approval("pending", &[], None);
    assert_eq!(pending.check("t-cab", at(59)), Ok("cab@example.com"));
    assert_eq!(pending.check("t-rm", at(0)), Ok("release-manager@example.com"));
    assert_eq!(pending.check("t-nobody", at(1)), Err(LinkProblem::Forbidden));
    assert_eq!(pending.check("t-cab", at(60)), Err(LinkProblem::Expired { at: at(60) }));
    let statuses = [
        (LinkProblem::Forbidden, 403),
        (LinkProblem::Expired { at: at(0) }, 410),
        (LinkProblem::Superseded { by: None }, 410),
        (
            LinkProblem::Decided {
                by: "x".into(),
                status: ApprovalStatus::Approved,
                at: None,
            },
            409,
        ),
    ];
    for (problem, code) in statuses {
        assert_eq!(problem.status_code(), code, "{problem:?}");
    }
    assert_eq!(
        approval("superseded", &[], None).check("t-cab", at(1)),
        Err(LinkProblem::Superseded {
            by: Some(ReleaseId::from_number(6))
        })
    );
    assert_eq!(
        approval("approved", &["cab@example.com"], Some(5)).check("t-rm", at(6)),
        Err(LinkProblem::Decided {
            by: "cab@example.com".into(),
            status: ApprovalStatus::Approved,
            at: Some(at(5)),
        })
    );
}

#[test]
fn the_gate_lets_through_only_an_approval_of_this_release_here_in_time_by_enough_current_approvers() {
    let config = local();
    let prod = config.environment("PROD");
    let r = release(5, "awaiting-approval", at(0));
    let id = ReleaseId::from_number(5);
    let approved = approval("approved", &["cab@example.com"], Some(30));
    let rules = GateRules::of(prod, &r, &approved);
    assert_eq!(rules.required, 1);
    assert!(rules.is_approver("CAB@example.com"));
    assert!(!rules.is_approver("dev@example.com"));
    assert_eq!(
        approved.allows_deployment(&id, "PROD", None, &rules),
        Ok(vec!["cab@example.com".to_string()])
    );
    assert!(matches!(
        approved.allows_deployment(&id, "TEST", None, &rules),
        Err(GateRefusal::OtherRequest { .. })
    ));
    assert!(matches!(
        approved.allows_deployment(&ReleaseId::from_number(4), "PROD", None, &rules),
        Err(GateRefusal::OtherRequest { .. })
    ));
    assert_eq!(
        approval("rejected", &["cab@example.com"], Some(30)).allows_deployment(&id, "PROD", None, &rules),
        Err(GateRefusal::NotApproved(ApprovalStatus::Rejected))
    );
    assert_eq!(
        approval("approved", &["cab@example.com"], Some(61)).allows_deployment(&id, "PROD", None, &rules),
        Err(GateRefusal::Lapsed)
    );
    assert_eq!(
        approval("approved", &["cab@example.com"], Some(60)).allows_deployment(&id, "PROD", None, &rules),
        Ok(vec!["cab@example.com".to_string()])
    );
    assert_eq!(
        approval("approved", &["cab@example.com"], None).allows_deployment(&id, "PROD", None, &rules),
        Err(GateRefusal::Lapsed)
    );
    // Two sign-offs needed: one is not enough, the same person twice is one.
    let two = GateRules {
        required: 2,
        ..rules.clone()
    };
    assert_eq!(
        approved.allows_deployment(&id, "PROD", None, &two),
        Err(GateRefusal::NotEnough { have: 1, need: 2 })
    );
    assert_eq!(
        approval("approved", &["cab@example.com", "CAB@example.com"], Some(30))
            .allows_deployment(&id, "PROD", None, &two),
        Err(GateRefusal::NotEnough { have: 1, need: 2 })
    );
    assert_eq!(
        approval(
            "approved",
            &["cab@example.com", "release-manager@example.com"],
            Some(30)
        )
        .allows_deployment(&id, "PROD", None, &two),
        Ok(vec![
            "cab@example.com".to_string(),
            "release-manager@example.com".to_string()
        ])
    );
    // Someone no longer an approver, or the author of a change where that is forbidden.
    assert_eq!(
        approval("approved", &["old@example.com"], Some(30)).allows_deployment(&id, "PROD", None, &rules),
        Err(GateRefusal::NoLongerApprover("old@example.com".into()))
    );
    let strict = GateRules {
        forbid_self_approval: true,
        authors: vec!["Cab@Example.com".into()],
        ..rules.clone()
    };
    assert!(strict.is_self_approval("cab@example.com"));
    assert!(!strict.is_self_approval("release-manager@example.com"));
    assert!(!rules.is_self_approval("cab@example.com"));
    assert_eq!(
        approved.allows_deployment(&id, "PROD", None, &strict),
        Err(GateRefusal::SelfApproval("cab@example.com".into()))
    );
}

#[test]
fn an_approval_covers_only_the_plan_it_was_given_for() {
    let mut a = approval("approved", &["cab@example.com"], Some(30));
    assert_eq!(a.covers_plan(Some("p1")), Ok(()));
    a.plan_hash = Some("p1".into());
    assert_eq!(a.covers_plan(Some("p1")), Ok(()));
    assert_eq!(a.covers_plan(Some("p2")), Err(GateRefusal::OtherPlan));
    assert_eq!(a.covers_plan(None), Ok(()));
}

#[test]
fn without_its_environment_in_the_configuration_the_gate_needs_one_sign_off_from_nobody() {
    let a = approval("approved", &["cab@example.com"], Some(30));
    let rules = GateRules::of(None, &release(5, "deploying", at(0)), &a);
    assert_eq!(rules.required, 1);
    assert!(rules.approvers.is_empty());
    assert_eq!(
        a.allows_deployment(&ReleaseId::from_number(5), "PROD", None, &rules),
        Err(GateRefusal::NoLongerApprover("cab@example.com".into()))
    );
}
