//! Guards the verdict on one component version (`GET /api/packages/{component}/{version}`, what
//! `baton push --wait` waits for): registered or refused, what the registration led to in words,
//! why each refused upload was refused, and that the author's address is never shown.

use baton_domain::ports::PackageOutcome;
use baton_domain::ports::status::{PackageRecord, PackageVerdictView, RegisteredPackage};
use baton_domain::{Package, PackageMetadata, RejectedPackage, ReleaseId};

use crate::common::{at, from_json};

const AUTHOR: &str = "dev@example.com";

/// CI's metadata as `baton push` sends it, author included.
fn metadata_json() -> serde_json::Value {
    serde_json::json!({
        "commit": "abc123",
        "branch": "main",
        "build_url": "https://ci.example.com/builds/7",
        "notes": "New admissions form",
        "author": AUTHOR,
    })
}

/// What a public route may show of `metadata_json()`: everything but the author.
fn public_metadata() -> PackageMetadata {
    PackageMetadata {
        commit: Some("abc123".into()),
        branch: Some("main".into()),
        build_url: Some("https://ci.example.com/builds/7".into()),
        notes: Some("New admissions form".into()),
        author: None,
    }
}

/// web 1.4.0, registered at `at(2)`, that led to `release` or `outcome`.
fn registered(release: Option<u64>, outcome: Option<PackageOutcome>) -> RegisteredPackage {
    let package: Package = from_json(serde_json::json!({
        "component": "web",
        "version": "1.4.0",
        "kind": "web",
        "object_key": "packages/web/1.4.0/site.zip",
        "size": 2048,
        "sha256": "9f86d081884c7d65",
        "metadata": metadata_json(),
        "contents": { "kind": "web", "files": 3, "bytes": 4096 },
        "registered_at": at(2),
    }));
    RegisteredPackage {
        package,
        release: release.map(ReleaseId::from_number),
        outcome,
    }
}

/// An upload of web 1.4.0 with ETag `etag`, refused at `at(minutes)` with `code` and `reason`.
fn refused(etag: &str, minutes: i64, code: &str, reason: &str) -> RejectedPackage {
    from_json(serde_json::json!({
        "object_key": "packages/web/1.4.0/site.zip",
        "object_tag": etag,
        "component": "web",
        "version": "1.4.0",
        "rejection": { "code": code, "reason": reason },
        "metadata": metadata_json(),
        "rejected_at": at(minutes),
    }))
}

/// The verdict on web 1.4.0 with `record`, which must not be empty.
fn verdict(record: &PackageRecord) -> PackageVerdictView {
    PackageVerdictView::of("web", "1.4.0", record).expect("something is recorded")
}

/// The state and summary a registered package with `release` and `outcome` shows.
fn state_and_summary(release: Option<u64>, outcome: Option<PackageOutcome>) -> (&'static str, String) {
    let view = verdict(&PackageRecord {
        registered: Some(registered(release, outcome)),
        refused: Vec::new(),
    });
    let r = view.registered.expect("registered");
    (r.state, r.summary)
}

#[test]
fn a_version_nothing_was_recorded_under_has_no_verdict() {
    let record = PackageRecord::default();
    assert!(record.is_empty());
    assert_eq!(PackageVerdictView::of("web", "1.4.0", &record), None);
}

#[test]
fn a_registered_package_that_made_a_release_names_it_and_links_its_page() {
    let record = PackageRecord {
        registered: Some(registered(Some(4), None)),
        refused: Vec::new(),
    };
    assert!(!record.is_empty());
    let view = verdict(&record);
    assert_eq!(view.component, "web");
    assert_eq!(view.version, "1.4.0");
    assert_eq!(view.verdict, "registered");
    assert!(view.refused.is_empty());
    let r = view.registered.expect("registered");
    assert_eq!(r.sha256, "9f86d081884c7d65");
    assert_eq!(r.size, 2048);
    assert_eq!(r.object_key, "packages/web/1.4.0/site.zip");
    assert_eq!(r.registered_at, at(2));
    assert_eq!(r.metadata, public_metadata());
    assert_eq!(r.state, "released");
    assert_eq!(r.release, Some(ReleaseId::from_number(4)));
    assert_eq!(r.release_url.as_deref(), Some("/releases/rel-4"));
    assert_eq!(r.summary, "Registered; it made release 4.");
}

#[test]
fn a_registered_package_without_a_release_says_why_in_words() {
    assert_eq!(
        state_and_summary(
            None,
            Some(PackageOutcome::Waiting {
                missing: vec!["state".into(), "api".into()]
            })
        ),
        (
            "waiting",
            "Registered; no release yet: waiting for the first package of state, api.".to_string()
        )
    );
    assert_eq!(
        state_and_summary(
            None,
            Some(PackageOutcome::Superseded {
                release: Some(ReleaseId::from_number(7))
            })
        ),
        (
            "superseded",
            "Registered; no release for it: release 7 already holds a newer version.".to_string()
        )
    );
    assert_eq!(
        state_and_summary(None, Some(PackageOutcome::Superseded { release: None })),
        (
            "superseded",
            "Registered; no release for it: a newer version is already registered.".to_string()
        )
    );
    assert_eq!(
        state_and_summary(None, None),
        (
            "processing",
            "Registered; Baton is deciding whether it makes a release.".to_string()
        )
    );
    // None of these links a release page.
    let view = verdict(&PackageRecord {
        registered: Some(registered(None, None)),
        refused: Vec::new(),
    });
    let r = view.registered.unwrap();
    assert_eq!((r.release, r.release_url), (None, None));
}

#[test]
fn a_release_made_later_wins_over_an_earlier_decision_not_to_make_one() {
    assert_eq!(
        state_and_summary(
            Some(9),
            Some(PackageOutcome::Waiting {
                missing: vec!["state".into()]
            })
        ),
        ("released", "Registered; it made release 9.".to_string())
    );
}

#[test]
fn a_refused_version_lists_each_refused_upload_with_its_etag_rule_and_reason_newest_first() {
    let record = PackageRecord {
        registered: None,
        refused: vec![
            refused(
                "etag-2",
                9,
                "invalid-content",
                "site.zip holds no index.html at its root",
            ),
            refused("etag-1", 3, "empty", "The object is empty"),
        ],
    };
    assert!(!record.is_empty());
    let view = verdict(&record);
    assert_eq!(view.verdict, "refused");
    assert_eq!(view.registered, None);
    let shown: Vec<(&str, &str, String, &str, _)> = view
        .refused
        .iter()
        .map(|r| {
            (
                r.object_key.as_str(),
                r.etag.as_str(),
                serde_json::to_value(r.code).unwrap().as_str().unwrap().to_string(),
                r.reason.as_str(),
                r.rejected_at,
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "packages/web/1.4.0/site.zip",
                "etag-2",
                "invalid-content".to_string(),
                "site.zip holds no index.html at its root",
                at(9)
            ),
            (
                "packages/web/1.4.0/site.zip",
                "etag-1",
                "empty".to_string(),
                "The object is empty",
                at(3)
            ),
        ]
    );
    for r in &view.refused {
        assert_eq!(r.metadata, public_metadata());
    }
}

#[test]
fn a_version_registered_after_refused_uploads_is_registered_and_still_lists_them() {
    let view = verdict(&PackageRecord {
        registered: Some(registered(Some(4), None)),
        refused: vec![refused("etag-1", 1, "empty", "The object is empty")],
    });
    assert_eq!(view.verdict, "registered");
    assert_eq!(view.registered.unwrap().state, "released");
    assert_eq!(view.refused.len(), 1);
    assert_eq!(view.refused[0].etag, "etag-1");
}

#[test]
fn the_author_s_address_is_never_shown_in_a_verdict() {
    let view = verdict(&PackageRecord {
        registered: Some(registered(Some(4), None)),
        refused: vec![refused("etag-1", 1, "empty", "The object is empty")],
    });
    assert_eq!(view.registered.as_ref().unwrap().metadata.author, None);
    assert_eq!(view.refused[0].metadata.author, None);
    // What CI said besides the author is shown.
    assert_eq!(view.registered.as_ref().unwrap().metadata, public_metadata());
    assert_eq!(view.refused[0].metadata, public_metadata());
    let json = serde_json::to_string(&view).unwrap();
    assert!(!json.contains(AUTHOR), "{json}");
    assert!(json.contains("abc123"), "{json}");
}
