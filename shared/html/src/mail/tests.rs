//! Mails and approval pages show their times in the configured zone.

use baton_domain::ReleaseId;
use baton_domain::approval::{ApprovalStatus, LinkProblem};
use baton_domain::release::ReleaseStatus;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;
use crate::approval::{ApprovalView, approval_page, problem_page};

/// Expires 27 November 2026 at 14:00 UTC (GMT in London) or 4 July 2026 at 12:00 UTC.
fn approval(expires_at: DateTime<Utc>) -> Approval {
    Approval {
        id: "a1".into(),
        release_id: ReleaseId::from_number(7),
        number: 7,
        environment: "PROD".into(),
        task_token: "t".into(),
        created_at: expires_at - chrono::Duration::hours(24),
        expires_at,
        approvers: vec!["cab@example.com".into()],
        token_hashes: Default::default(),
        mailed: vec![],
        changes: vec![],
        notes: vec![],
        plan: Default::default(),
        plan_hash: None,
        hold: None,
        freeze_wait: None,
        freeze_override: None,
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

fn release() -> Release {
    Release {
        id: ReleaseId::from_number(7),
        number: 7,
        snapshot: Default::default(),
        content_hash: "h".into(),
        changes: vec![],
        notes: vec![],
        previous: None,
        triggered_by: "packages/web/1.0.0/site.zip".into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap(),
        status: ReleaseStatus::AwaitingApproval,
    }
}

fn winter() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 14, 0, 0).unwrap()
}

fn summer() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 4, 12, 0, 0).unwrap()
}

#[test]
fn an_approval_mail_gives_its_expiry_in_the_configured_zone() {
    let london = chrono_tz::Europe::London;
    let link = "https://baton.example.com/approvals/a1?token=x";
    let mail = approval_request(&approval(summer()), &release(), "cab@example.com", link, london);
    let expires = "Sat 4 Jul 2026, 13:00 BST";
    assert!(
        mail.subject.ends_with(&format!("(expires {expires})")),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains(&format!("expires {expires}.")), "{}", mail.text);
    assert!(mail.html.contains(&format!("expires {expires}.")), "{}", mail.html);
    for part in [&mail.subject, &mail.text, &mail.html] {
        assert!(!part.contains("UTC"), "{part}");
    }
    let mail = approval_request(&approval(winter()), &release(), "cab@example.com", link, london);
    assert!(mail.subject.contains("Fri 27 Nov 2026, 14:00 GMT"), "{}", mail.subject);
    let mail = approval_request(&approval(winter()), &release(), "cab@example.com", link, Tz::UTC);
    assert!(
        mail.text.contains("expires Fri 27 Nov 2026, 14:00 UTC."),
        "{}",
        mail.text
    );
}

#[test]
fn the_approval_page_gives_its_expiry_in_the_configured_zone() {
    let (approval, release) = (approval(winter()), release());
    let view = |zone| ApprovalView {
        approval: &approval,
        release: &release,
        approver: "cab@example.com",
        token: "x",
        public_url: "https://baton.example.com",
        required: 1,
        zone,
    };
    let page = approval_page(&view(chrono_tz::America::New_York));
    assert!(page.contains("Fri 27 Nov 2026, 09:00 EST"), "{page}");
    let page = approval_page(&view(Tz::UTC));
    assert!(page.contains("Fri 27 Nov 2026, 14:00 UTC"), "{page}");
}

#[test]
fn a_closed_link_says_when_in_the_configured_zone() {
    let new_york = chrono_tz::America::New_York;
    let approval = approval(summer());
    let page = problem_page(&LinkProblem::Expired { at: summer() }, Some(&approval), "", new_york);
    assert!(page.contains("It lapsed Sat 4 Jul 2026, 08:00 EDT."), "{page}");
    let decided = LinkProblem::Decided {
        by: "cab@example.com".into(),
        status: ApprovalStatus::Approved,
        at: Some(winter()),
    };
    let page = problem_page(&decided, Some(&approval), "", new_york);
    assert!(page.contains("decided Fri 27 Nov 2026, 09:00 EST by"), "{page}");
}
