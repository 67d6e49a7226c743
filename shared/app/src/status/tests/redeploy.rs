//! A release's page offers to deploy it again where it was deployed (issue 15, item 1).

use super::*;

/// Release `number` live since the epoch.
pub(super) fn live_release(number: u64) -> baton_domain::deployment::LiveRelease {
    baton_domain::deployment::LiveRelease {
        release_id: ReleaseId::from_number(number),
        number,
        components: Default::default(),
        since: DateTime::UNIX_EPOCH,
        approved_by: None,
        fence: None,
        execution: None,
    }
}

fn deploying(number: u64, env: &str) -> ReleaseEvent {
    ReleaseEvent {
        release_id: ReleaseId::from_number(number),
        at: DateTime::UNIX_EPOCH,
        kind: "deploying".into(),
        actor: "baton".into(),
        environment: Some(env.into()),
        detail: String::new(),
    }
}

/// Releases 1 to 7; release 5 was deployed to `deployed`; `live` is what runs where.
fn store(deployed: &[&str], live: &[(&str, u64)]) -> Memory {
    Memory {
        events: deployed.iter().map(|env| deploying(5, env)).collect(),
        live: live.iter().map(|(env, n)| (env.to_string(), *n)).collect(),
        ..with_releases(7)
    }
}

#[tokio::test]
async fn a_release_page_offers_each_environment_it_was_deployed_to() {
    let status = handler(store(&["TEST", "PROD"], &[("TEST", 5), ("PROD", 7)]));
    let (code, page) = get(&status, "/releases/rel-5").await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains(">Deploy again</h2>"), "{page}");
    assert_eq!(
        page.matches(r#"method="post" action="http://127.0.0.1:3000/redeploys""#)
            .count(),
        2,
        "{page}"
    );
    for says in [
        r#"<input type="hidden" name="release" value="rel-5">"#,
        r#"<input type="hidden" name="environment" value="TEST">"#,
        r#"<input type="hidden" name="environment" value="PROD">"#,
        "Your address (an approver of PROD)",
        r#"type="email" name="email" required"#,
        r#"name="reason" required maxlength="500""#,
        ">Deploy release 5 to TEST again</button>",
        ">Roll PROD back to release 5</button>",
        "Baton mails you a confirmation link if you are an approver of PROD; nothing changes until you confirm.",
    ] {
        assert!(page.contains(says), "{says}: {page}");
    }
    // Lifecycle order, and one more read: the environments' state, in one batch.
    assert!(page.find("value=\"TEST\"") < page.find("value=\"PROD\""), "{page}");
    assert_eq!(*status.store.calls.lock().unwrap(), vec!["release_record", "look_up"]);
}

#[tokio::test]
async fn only_environments_it_was_deployed_to_are_offered() {
    let status = handler(store(&["TEST"], &[]));
    let (_, page) = get(&status, "/releases/rel-5").await;
    assert!(page.contains(">Retry release 5 in TEST</button>"), "{page}");
    assert!(!page.contains("value=\"PROD\""), "{page}");
    assert!(!page.contains("approver of PROD"), "{page}");
}

#[tokio::test]
async fn a_release_never_deployed_offers_nothing_and_reads_only_the_environments_more() {
    // Release 5 was only approved for TEST (the store's own event), never deployed.
    let status = handler(with_releases(5));
    let (code, page) = get(&status, "/releases/rel-5").await;
    assert_eq!(code, 200);
    assert!(!page.contains("Deploy again"), "{page}");
    assert!(!page.contains("/redeploys"), "{page}");
    // The environments are read once, for where the release is live now.
    assert_eq!(*status.store.calls.lock().unwrap(), vec!["release_record", "look_up"]);
}

#[tokio::test]
async fn the_json_of_a_release_reads_the_environments_once_for_where_it_is_live() {
    let status = handler(store(&["TEST", "PROD"], &[("PROD", 7)]));
    let (code, body) = get(&status, "/api/releases/rel-5").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(*status.store.calls.lock().unwrap(), vec!["release_record", "look_up"]);
}
