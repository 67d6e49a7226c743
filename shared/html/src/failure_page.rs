//! The page a failure question's link opens (issue 15, item 2): a deployment failed in an
//! environment that says `on_failure: ask`, and an approver chooses to retry, roll back, or
//! leave it as it is (with a reason). Opening the page decides nothing; only its form's POST
//! does. Then the answer's page, and the page for leaving it without a reason.

use baton_domain::Release;
use baton_domain::approval::Approval;
use baton_domain::approval::guided_failure::FailureChoice;
use chrono_tz::Tz;
use maud::html;

use crate::approval::message_page;
use crate::mail::failure_reason;
use crate::{human_time, page};

/// What the failure question's page shows.
pub struct FailureView<'a> {
    /// The question (an approval record with `failure` set).
    pub approval: &'a Approval,
    /// Its release.
    pub release: &'a Release,
    /// The approver whose link this is.
    pub approver: &'a str,
    /// The link token (posted back with the answer).
    pub token: &'a str,
    /// Base URL of Baton's HTTP API (for the link to the release's timeline).
    pub public_url: &'a str,
    /// The choice the link they followed offers, if it names one: that button is marked.
    pub chosen: Option<FailureChoice>,
    /// The zone the page shows times in (`BatonConfig::zone`).
    pub zone: Tz,
}

/// The choices in the order the mail and the page give them.
const CHOICES: [FailureChoice; 3] = [FailureChoice::Retry, FailureChoice::Rollback, FailureChoice::Leave];

/// The page a GET of a failure question's link shows: what failed, that the environment is
/// kept until someone answers, and one form with the three answers (the followed link's one
/// marked). It decides nothing.
pub fn failure_page(view: &FailureView<'_>) -> String {
    let a = view.approval;
    let title = format!("Release {} failed in {}", a.number, a.environment);
    page(
        &title,
        html! {
            p.muted { "Baton guided failure" }
            h1 { (title) }
            div.banner.bad role="status" {
                p { "What failed: " (failure_reason(a)) }
                p {
                    "Kept as the failure left it; nothing else deploys to " (a.environment) " until you answer. "
                    "If nobody answers by " strong { (human_time(a.expires_at, view.zone)) } ", Baton rolls back."
                }
            }
            div.banner {
                "You are signed in by your personal link as " strong { (view.approver) } ". Opening this page decided nothing."
                @if let Some(choice) = view.chosen {
                    br;
                    "You followed the link to " strong { (choice.words().to_lowercase()) } "; press its button below to record it."
                }
            }
            // Relative, so the form posts back to whatever origin served the page (CSP form-action 'self').
            form.card method="post" action={ "/approvals/" (a.id) } {
                input type="hidden" name="token" value=(view.token);
                label for="comment" { "Reason (needed to leave it as it is)" }
                textarea id="comment" name="comment" maxlength="2000" {}
                p {
                    @for choice in CHOICES {
                        @if view.chosen == Some(choice) {
                            button.approve.chosen type="submit" name="decision" value=(choice.as_str()) autofocus { (choice.words()) }
                        } @else {
                            button type="submit" name="decision" value=(choice.as_str()) { (choice.words()) }
                        }
                    }
                }
            }
            p.muted {
                "Release " (view.release.id) ", content hash " code { (view.release.content_hash) } ". "
                a href={ (view.public_url) "/releases/" (view.release.id) } { "Its timeline and deployments" }
            }
        },
    )
}

/// What Baton does on `choice`, as the answer's page says it.
fn answered_words(approval: &Approval, choice: FailureChoice) -> String {
    let (n, env) = (approval.number, &approval.environment);
    match choice {
        FailureChoice::Retry => format!("Recorded: retry. Baton deploys release {n} to {env} again now."),
        FailureChoice::Rollback => format!("Recorded: roll back. Baton puts back what release {n} changed in {env}."),
        FailureChoice::Leave => format!(
            "Recorded: leave it as it is. Release {n} ends failed in {env}; the environment stays as the failure left it."
        ),
    }
}

/// The page after an approver (`by`) answered a failure question with `choice`.
pub fn failure_answered_page(approval: &Approval, choice: FailureChoice, by: &str) -> String {
    let title = format!(
        "Release {} in {}: {}",
        approval.number,
        approval.environment,
        choice.words().to_lowercase()
    );
    page(
        &title,
        html! {
            div.banner.ok role="status" {
                h1 { (title) }
                p { (answered_words(approval, choice)) }
                p.muted { "Answered by " (by) "; the release's timeline says so." }
            }
        },
    )
}

/// The page (sent with 400) for leaving a failed deployment as it is without a reason.
pub fn failure_reason_needed_page() -> String {
    message_page(
        "A reason is needed",
        "Say why it should stay as it is: leaving a failed deployment in place needs a reason. Nothing was recorded; go back and add one.",
    )
}

#[cfg(test)]
mod tests {
    use baton_domain::ReleaseId;
    use baton_domain::approval::guided_failure::FailureQuestion;
    use baton_domain::release::ReleaseStatus;
    use chrono::{TimeZone, Utc};

    use super::*;

    fn question(reason: &str) -> Approval {
        let expires_at = Utc.with_ymd_and_hms(2026, 11, 27, 14, 0, 0).unwrap();
        Approval {
            failure: Some(FailureQuestion {
                reason: reason.into(),
                execution: None,
            }),
            ..Approval::pending(baton_domain::approval::NewRequest {
                id: "q1".into(),
                release_id: ReleaseId::from_number(7),
                number: 7,
                environment: "PROD".into(),
                task_token: "t".into(),
                created_at: expires_at - chrono::Duration::hours(1),
                expires_at,
                approvers: vec!["cab@example.com".into()],
            })
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
            status: ReleaseStatus::Deploying,
        }
    }

    fn render(approval: &Approval, chosen: Option<FailureChoice>) -> String {
        failure_page(&FailureView {
            approval,
            release: &release(),
            approver: "cab@example.com",
            token: "tok\"en",
            public_url: "https://baton.example.com",
            chosen,
            zone: chrono_tz::Europe::London,
        })
    }

    #[test]
    fn the_page_says_what_failed_and_offers_three_answers_in_one_form() {
        let page = render(&question("wave 2 timed out"), None);
        assert!(page.contains("<h1>Release 7 failed in PROD</h1>"), "{page}");
        assert!(page.contains("What failed: wave 2 timed out"), "{page}");
        assert!(
            page.contains("Kept as the failure left it; nothing else deploys to PROD until you answer."),
            "{page}"
        );
        assert!(
            page.contains("If nobody answers by <strong>Fri 27 Nov 2026, 14:00 GMT</strong>, Baton rolls back."),
            "{page}"
        );
        assert!(page.contains("Opening this page decided nothing."), "{page}");
        assert_eq!(page.matches("<form").count(), 1, "{page}");
        assert!(
            page.contains(r#"<form class="card" method="post" action="/approvals/q1">"#),
            "{page}"
        );
        assert!(
            page.contains(r#"<input type="hidden" name="token" value="tok&quot;en">"#),
            "{page}"
        );
        assert!(page.contains(r#"<textarea id="comment" name="comment""#), "{page}");
        assert!(page.contains("Reason (needed to leave it as it is)"), "{page}");
        let buttons: Vec<usize> = [
            r#"name="decision" value="retry">Retry</button>"#,
            r#"name="decision" value="rollback">Roll back</button>"#,
            r#"name="decision" value="leave">Leave as it is</button>"#,
        ]
        .iter()
        .map(|b| page.find(b).unwrap_or_else(|| panic!("{b} missing: {page}")))
        .collect();
        assert!(buttons.windows(2).all(|w| w[0] < w[1]), "{page}");
        assert!(!page.contains("autofocus"), "{page}");
        assert!(!page.contains("You followed"), "{page}");
    }

    #[test]
    fn the_followed_links_answer_is_marked() {
        let page = render(&question("boom"), Some(FailureChoice::Rollback));
        assert!(
            page.contains(
                r#"<button class="approve chosen" type="submit" name="decision" value="rollback" autofocus>Roll back</button>"#
            ),
            "{page}"
        );
        assert_eq!(page.matches("autofocus").count(), 1, "{page}");
        assert!(
            page.contains(r#"name="decision" value="retry">Retry</button>"#),
            "{page}"
        );
        assert!(
            page.contains("You followed the link to <strong>roll back</strong>"),
            "{page}"
        );
        assert!(page.contains("Opening this page decided nothing."), "{page}");
    }

    #[test]
    fn what_failed_is_escaped() {
        let page = render(&question("<script>alert(1)</script> & \"x\""), None);
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"),
            "{page}"
        );
        let mut odd = question("x");
        odd.environment = "<b>PROD</b>".into();
        let page = failure_answered_page(&odd, FailureChoice::Retry, "<i>cab</i>");
        assert!(!page.contains("<b>") && !page.contains("<i>"), "{page}");
    }

    #[test]
    fn each_answer_says_what_baton_does_now() {
        let q = question("boom");
        let cases = [
            (
                FailureChoice::Retry,
                "Recorded: retry. Baton deploys release 7 to PROD again now.",
            ),
            (
                FailureChoice::Rollback,
                "Recorded: roll back. Baton puts back what release 7 changed in PROD.",
            ),
            (
                FailureChoice::Leave,
                "Recorded: leave it as it is. Release 7 ends failed in PROD; the environment stays as the failure left it.",
            ),
        ];
        for (choice, words) in cases {
            let page = failure_answered_page(&q, choice, "cab@example.com");
            assert!(page.contains(r#"class="banner ok""#), "{page}");
            assert!(page.contains(words), "{page}");
            assert!(page.contains("cab@example.com"), "{page}");
        }
    }

    #[test]
    fn leaving_without_a_reason_records_nothing() {
        let page = failure_reason_needed_page();
        assert!(page.contains("Say why it should stay as it is: leaving a failed deployment in place needs a reason. Nothing was recorded; go back and add one."), "{page}");
        assert!(page.contains(r#"class="banner bad""#), "{page}");
    }
}
