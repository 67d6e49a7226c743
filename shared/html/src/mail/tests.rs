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
    Approval::pending(baton_domain::approval::NewRequest {
        id: "a1".into(),
        release_id: ReleaseId::from_number(7),
        number: 7,
        environment: "PROD".into(),
        task_token: "t".into(),
        created_at: expires_at - chrono::Duration::hours(24),
        expires_at,
        approvers: vec!["cab@example.com".into()],
    })
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

/// Release 5's confirmation of a rollback in PROD, asked by rm@example.com while 7 is live.
fn rollback(expires_at: DateTime<Utc>) -> Approval {
    let mut a = approval(expires_at);
    a.release_id = ReleaseId::from_number(5);
    a.number = 5;
    a.approvers = vec!["rm@example.com".into()];
    a.changes = vec![baton_domain::approval::EnvironmentChange {
        component: "web".into(),
        live: Some(baton_domain::Version::parse("1.0.7").unwrap()),
        next: baton_domain::Version::parse("1.0.5").unwrap(),
    }];
    a.plan = baton_domain::plan::EnvironmentPlan(
        [("web".to_string(), vec!["site files: 1.0.7 -> 1.0.5".to_string()])].into(),
    );
    a.redeploy = Some(baton_domain::redeploy::Redeploy {
        execution: "redeploy-5-prod-0123456789abcdef".into(),
        environment: "PROD".into(),
        requested_by: "rm@example.com".into(),
        reason: "login <broken> since 7, see https://tickets.example.com/42".into(),
        replacing: Some(7),
    });
    a
}

#[test]
fn a_redeploy_mail_asks_its_requester_to_confirm() {
    let link = "https://baton.example.com/approvals/a1?token=x";
    let mail = approval_request(
        &rollback(summer()),
        &release(),
        "rm@example.com",
        link,
        chrono_tz::Europe::London,
    );
    assert_eq!(mail.to, "rm@example.com");
    assert_eq!(mail.subject, "Confirm: Roll PROD back to release 5?");
    for part in [&mail.subject, &mail.text, &mail.html] {
        assert!(!part.contains("Approve release"), "{part}");
    }
    // Who asked, why, that nothing changes yet, what changes, the plan and the expiry.
    for says in [
        "rm@example.com asked Baton to roll PROD back to release 5.",
        "Nothing changes in PROD until you confirm through your link:",
        "Reason: login <broken> since 7, see https://tickets.example.com/42",
        "web: 1.0.7 -> 1.0.5",
        "web: site files: 1.0.7 -> 1.0.5",
        "expires Sat 4 Jul 2026, 13:00 BST.",
    ] {
        assert!(mail.text.contains(says), "{says}: {}", mail.text);
    }
    // The personal link is the first link, before any the requester wrote.
    let first = mail.text.split_whitespace().find(|w| w.starts_with("https://"));
    assert_eq!(first, Some(link), "{}", mail.text);
    assert!(mail.html.contains(&format!("href=\"{link}\"")), "{}", mail.html);
    assert!(mail.html.contains("login &lt;broken&gt; since 7"), "{}", mail.html);
    assert!(mail.html.contains("site files: 1.0.7 -&gt; 1.0.5"), "{}", mail.html);
    assert!(
        mail.html.contains("expires Sat 4 Jul 2026, 13:00 BST."),
        "{}",
        mail.html
    );
}

#[test]
fn a_redeploy_mail_words_a_retry_and_a_deploy_again() {
    let link = "https://baton.example.com/approvals/a1?token=x";
    let mut retry = rollback(winter());
    if let Some(r) = retry.redeploy.as_mut() {
        r.replacing = None;
    }
    let mail = approval_request(&retry, &release(), "rm@example.com", link, Tz::UTC);
    assert_eq!(mail.subject, "Confirm: Retry release 5 in PROD?");
    assert!(
        mail.text.contains("asked Baton to retry release 5 in PROD."),
        "{}",
        mail.text
    );
    let mut again = rollback(winter());
    if let Some(r) = again.redeploy.as_mut() {
        r.replacing = Some(5);
    }
    let mail = approval_request(&again, &release(), "rm@example.com", link, Tz::UTC);
    assert_eq!(mail.subject, "Confirm: Deploy release 5 to PROD again?");
    // A normal request is still an approval.
    let mail = approval_request(&approval(winter()), &release(), "cab@example.com", link, Tz::UTC);
    assert!(
        mail.subject.starts_with("Approve release 7 for PROD?"),
        "{}",
        mail.subject
    );
}

#[test]
fn a_redeploy_page_asks_to_confirm_or_cancel() {
    let (rollback, release) = (rollback(winter()), release());
    let view = ApprovalView {
        approval: &rollback,
        release: &release,
        approver: "rm@example.com",
        token: "x",
        public_url: "https://baton.example.com",
        required: 1,
        zone: Tz::UTC,
    };
    let page = approval_page(&view);
    assert!(page.contains("<h1>Roll PROD back to release 5?</h1>"), "{page}");
    assert!(page.contains("<title>Roll PROD back to release 5?"), "{page}");
    assert!(
        page.contains("Asked by rm@example.com: login &lt;broken&gt; since 7"),
        "{page}"
    );
    assert!(
        page.contains(r#"name="decision" value="approve">Confirm</button>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="decision" value="reject">Cancel</button>"#),
        "{page}"
    );
    assert!(!page.contains("Approve"), "{page}");
    assert!(page.contains("Fri 27 Nov 2026, 14:00 UTC"), "{page}");

    let normal = approval(winter());
    let page = approval_page(&ApprovalView {
        approval: &normal,
        ..view
    });
    assert!(page.contains("<h1>Approve release 7 for PROD?</h1>"), "{page}");
    assert!(page.contains(">Approve for PROD</button>"), "{page}");
    assert!(page.contains(">Reject</button>"), "{page}");
    assert!(!page.contains("Asked by"), "{page}");
}

#[test]
fn a_failure_mail_may_carry_a_retry_link_to_the_release_pages_form() {
    let release = release();
    let link = "https://baton.example.org/releases/rel-7#again";
    let mail = deployment_failed_with_retry(&release, "PROD", "rm@example.com", "failed", "boom", Some(link));
    assert!(
        mail.text.contains(&format!("Retry this release: {link}")),
        "{}",
        mail.text
    );
    assert!(mail.html.contains(&format!("href=\"{link}\"")), "{}", mail.html);
    let plain = deployment_failed(&release, "PROD", "rm@example.com", "failed", "boom");
    assert!(!plain.text.contains("Retry"), "{}", plain.text);
}

/// Release 7's failure question in PROD, what failed being `reason`.
fn failure(reason: &str) -> Approval {
    let mut a = approval(winter());
    a.failure = Some(baton_domain::approval::guided_failure::FailureQuestion {
        reason: reason.into(),
        execution: None,
    });
    a
}

const FAILURE_LINKS: FailureLinks<'static> = FailureLinks {
    retry: "https://baton.example.com/approvals/a1?token=x&choice=retry",
    rollback: "https://baton.example.com/approvals/a1?token=x&choice=rollback",
    leave: "https://baton.example.com/approvals/a1?token=x&choice=leave",
};

#[test]
fn a_failure_question_asks_retry_roll_back_or_leave_with_its_links_in_that_order() {
    let mail = failure_question(
        &failure("wave 2 timed out, see https://status.example.com/x"),
        &release(),
        "cab@example.com",
        &FAILURE_LINKS,
        chrono_tz::Europe::London,
    );
    assert_eq!(mail.subject, "Release 7 failed in PROD: retry, roll back or leave it?");
    assert_eq!(mail.to, "cab@example.com");
    for line in [
        format!("Retry: {}", FAILURE_LINKS.retry),
        format!("Roll back: {}", FAILURE_LINKS.rollback),
        format!("Leave as it is: {}", FAILURE_LINKS.leave),
    ] {
        assert!(mail.text.lines().any(|l| l == line), "{line} missing: {}", mail.text);
    }
    // A parser taking every http(s) word finds the three links first, even when what failed
    // quotes a URL of its own.
    let links: Vec<&str> = mail
        .text
        .split_whitespace()
        .filter(|w| w.starts_with("https://"))
        .collect();
    assert_eq!(
        links[..3],
        [FAILURE_LINKS.retry, FAILURE_LINKS.rollback, FAILURE_LINKS.leave],
        "{}",
        mail.text
    );
    assert!(mail.text.contains("What failed: wave 2 timed out"), "{}", mail.text);
    assert!(
        mail.text.contains("PROD is kept as the failure left it"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("no other release can deploy there"), "{}", mail.text);
    let hrefs: Vec<usize> = [FAILURE_LINKS.retry, FAILURE_LINKS.rollback, FAILURE_LINKS.leave]
        .iter()
        .map(|l| {
            let href = format!("href=\"{}\"", l.replace('&', "&amp;"));
            mail.html
                .find(&href)
                .unwrap_or_else(|| panic!("{href} missing: {}", mail.html))
        })
        .collect();
    assert!(hrefs.windows(2).all(|w| w[0] < w[1]), "{}", mail.html);
    assert!(
        mail.html.contains(">Retry</a>") && mail.html.contains(">Roll back</a>"),
        "{}",
        mail.html
    );
    assert!(mail.html.contains(">Leave as it is</a>"), "{}", mail.html);
}

#[test]
fn a_failure_question_says_when_it_rolls_back_in_the_configured_zone() {
    let q = failure("boom");
    let mail = failure_question(
        &q,
        &release(),
        "cab@example.com",
        &FAILURE_LINKS,
        chrono_tz::America::New_York,
    );
    let sentence = "If nobody answers by Fri 27 Nov 2026, 09:00 EST, Baton rolls back.";
    assert!(mail.text.contains(sentence), "{}", mail.text);
    assert!(mail.html.contains(sentence), "{}", mail.html);
}

#[test]
fn a_failure_questions_reason_is_escaped_in_html() {
    let q = failure("<img src=x onerror=alert(1)> & co");
    let mail = failure_question(&q, &release(), "cab@example.com", &FAILURE_LINKS, Tz::UTC);
    assert!(!mail.html.contains("<img"), "{}", mail.html);
    assert!(
        mail.html
            .contains("What failed: &lt;img src=x onerror=alert(1)&gt; &amp; co"),
        "{}",
        mail.html
    );
    assert!(
        mail.text.contains("What failed: <img src=x onerror=alert(1)> & co"),
        "{}",
        mail.text
    );
}
