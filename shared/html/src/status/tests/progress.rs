//! Issue 16: pages that refresh themselves without script, tables that stack on a phone, the
//! badge of a release that is no longer live everywhere, and feed entries updated when their
//! release last changed.

use baton_domain::ports::status::{ReleaseSummary, StatusView};
use baton_domain::release::ReleaseStatus;
use chrono::Duration;

use super::{detail, now, view};
use crate::status::{
    DeployAgain, Feed, FeedEntry, RedeployTarget, error_page, feed_of, overview_page, release_page_with,
};

const REFRESH: &str = "<meta http-equiv=\"refresh\" content=\"30\">";

#[test]
fn the_overview_and_a_release_page_refresh_every_30_seconds_without_script() {
    let overview = overview_page(&view("x"), chrono_tz::UTC);
    assert!(overview.contains(REFRESH), "{overview}");
    assert!(!overview.contains("<script"), "no script: the CSP forbids it");
    let page = release_page_with(&detail(4), &DeployAgain::default(), now(), chrono_tz::UTC);
    assert!(page.contains(REFRESH), "{page}");
    // A page with a form to fill in does not reload under the reader's typing, nor does an
    // answer to a form.
    let again = DeployAgain {
        public_url: "https://baton.example.com".into(),
        targets: vec![RedeployTarget {
            environment: "TEST".into(),
            live: Some(3),
        }],
    };
    let form = release_page_with(&detail(4), &again, now(), chrono_tz::UTC);
    assert!(!form.contains("http-equiv"), "{form}");
    assert!(!error_page("Not found", "nothing here").contains("http-equiv"));
}

#[test]
fn on_a_phone_every_table_cell_says_which_column_it_is() {
    let overview = overview_page(&view("x"), chrono_tz::UTC);
    for label in ["Created", "What changed", "Where it stands"] {
        assert!(overview.contains(&format!("data-label=\"{label}\"")), "{label}");
    }
    assert!(crate::layout::CSS.contains("td[data-label]::before{content:attr(data-label)"));
    assert!(crate::layout::CSS.contains("@media (max-width:30rem)"));
}

fn released(v: &mut StatusView, live_in: &[&str], outcome: &str) {
    let r = &mut v.recent_releases[0];
    r.status = ReleaseStatus::Released;
    r.live_in = Some(live_in.iter().map(|e| e.to_string()).collect());
    r.outcome = outcome.into();
}

#[test]
fn a_released_release_no_longer_live_everywhere_says_where_it_is_live_now() {
    let mut v = view("x");
    released(&mut v, &["PROD"], "Live in PROD; was live in TEST (now release 8)");
    let page = overview_page(&v, chrono_tz::UTC);
    assert!(page.contains(">Live in PROD</span>"), "{page}");
    assert!(page.contains("was live in TEST (now release 8)"), "{page}");
    assert!(!page.contains("Live everywhere"), "{page}");

    released(&mut v, &[], "Was live in TEST (now release 9) and PROD (now release 8)");
    let page = overview_page(&v, chrono_tz::UTC);
    assert!(page.contains(">No longer live</span>"), "{page}");

    released(&mut v, &["TEST", "PROD"], "Live in every environment");
    let page = overview_page(&v, chrono_tz::UTC);
    assert!(page.contains(">Live everywhere</span>"), "{page}");
}

#[test]
fn a_feed_entry_is_updated_when_its_release_last_changed() {
    let release = baton_domain::Release {
        id: baton_domain::ReleaseId::from_number(4),
        number: 4,
        snapshot: Default::default(),
        content_hash: "h".into(),
        changes: vec![],
        notes: vec![],
        previous: None,
        triggered_by: "k".into(),
        created_at: now(),
        status: ReleaseStatus::AwaitingApproval,
    };
    let mut summary = ReleaseSummary::of(&release);
    summary.outcome = "Live in TEST".into();
    let changed = now() + Duration::minutes(42);
    let environments = ["TEST".to_string()];
    let xml = feed_of(&Feed {
        entries: vec![FeedEntry {
            release: &release,
            summary,
            updated: changed,
        }],
        environment_notes: &[],
        environments: &environments,
        environment: Some("TEST"),
        base_url: "https://baton.example.com",
        now: now() + Duration::hours(5),
        warnings: &[],
    });
    // The entry's and the feed's: the release's last change, not its creation nor now.
    let stamp = changed.to_rfc3339();
    assert_eq!(xml.matches(&format!("<updated>{stamp}</updated>")).count(), 2, "{xml}");
    assert!(xml.contains(&format!("<published>{}</published>", now().to_rfc3339())));
    assert!(
        xml.contains("<id>https://baton.example.com/releases/rel-4#TEST</id>"),
        "{xml}"
    );
    assert!(
        xml.contains("href=\"https://baton.example.com/feed/TEST.xml\""),
        "{xml}"
    );
    assert!(xml.contains("<title>Release 4: Live in TEST</title>"), "{xml}");
}

#[test]
fn the_prod_request_carries_the_test_evidence_and_the_answers_link_to_the_release() {
    use baton_domain::approval::evidence::Evidence;
    let e = Evidence {
        environment: "TEST".into(),
        since: now(),
        approved_by: Some("rm@example.com".into()),
        site_url: Some("https://abc.preview.pages.dev".into()),
    };
    let text = crate::approval::evidence_text(&e, chrono_tz::UTC);
    assert!(text.starts_with("In TEST: live since "), "{text}");
    assert!(text.contains("signed off there by rm@example.com"), "{text}");
    assert!(text.ends_with("Try it there: https://abc.preview.pages.dev"), "{text}");
    let banner = crate::approval::evidence(&e, chrono_tz::UTC).into_string();
    assert!(banner.contains("href=\"https://abc.preview.pages.dev\""), "{banner}");
    // A site URL that is not a web URL is never a link.
    let odd = Evidence {
        site_url: Some("javascript:alert(1)".into()),
        ..e
    };
    assert!(
        !crate::approval::evidence(&odd, chrono_tz::UTC)
            .into_string()
            .contains("href")
    );
}
