use std::sync::{Arc, Mutex};

use baton_domain::deployment::EnvironmentState;
use baton_domain::package::{PackageMetadata, RejectCode, Rejection};
use baton_domain::ports::ReleaseEvent;
use baton_domain::ports::status::{EnvironmentNow, LookedUp, Lookup, PendingSignOff, ReleasePage, ReleaseRecord};
use baton_domain::release::{PackageRef, ReleaseNote, ReleaseStatus};
use baton_domain::{RejectedPackage, Release, Version};
use chrono::DateTime;

use super::*;

const MARKUP: &str = r#"<script>alert(1)</script> "><img src=x onerror=alert(1)>"#;

struct FixedConfig(Arc<BatonConfig>);

#[async_trait]
impl ConfigSource for FixedConfig {
    async fn config(&self) -> Result<Arc<BatonConfig>, BatonError> {
        Ok(self.0.clone())
    }
}

/// An in-memory store that records which reads were made.
#[derive(Default)]
struct Memory {
    releases: Vec<Release>,
    fail: bool,
    calls: Mutex<Vec<String>>,
    /// Events every release has after its own "approved" in TEST.
    events: Vec<ReleaseEvent>,
    /// The release live in each environment named.
    live: Vec<(String, u64)>,
}

impl Memory {
    fn note(&self, call: &str) -> Result<(), BatonError> {
        self.calls.lock().unwrap().push(call.to_string());
        if self.fail {
            Err(BatonError::transient("table baton-Table: ThrottlingException"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl StatusReads for Memory {
    async fn releases(&self, limit: usize, before: Option<u64>) -> Result<ReleasePage, BatonError> {
        self.note("releases")?;
        let mut releases: Vec<Release> = self
            .releases
            .iter()
            .filter(|r| before.is_none_or(|b| r.number < b))
            .cloned()
            .collect();
        releases.sort_by_key(|r| std::cmp::Reverse(r.number));
        let more = releases.len() > limit;
        releases.truncate(limit);
        let next_before = releases.last().filter(|_| more).map(|r| r.number);
        Ok(ReleasePage {
            releases,
            next_before,
            ..Default::default()
        })
    }
    async fn release_record(&self, id: &ReleaseId) -> Result<Option<ReleaseRecord>, BatonError> {
        self.note("release_record")?;
        Ok(self.releases.iter().find(|r| &r.id == id).map(|r| ReleaseRecord {
            release: r.clone(),
            events: [ReleaseEvent {
                release_id: r.id.clone(),
                at: r.created_at,
                kind: "approved".into(),
                actor: "release-manager@example.com".into(),
                environment: Some("TEST".into()),
                detail: json!({ "comment": MARKUP, "ip": "10.1.2.3" }).to_string(),
            }]
            .into_iter()
            .chain(self.events.iter().cloned())
            .collect(),
            deployments: vec![],
            environment_notes: vec![],
        }))
    }
    async fn pending_sign_offs(&self, environment: &str, _limit: usize) -> Result<Vec<PendingSignOff>, BatonError> {
        self.note(&format!("pending {environment}"))?;
        Ok(vec![])
    }
    async fn rejected_packages(&self, _limit: usize) -> Result<Vec<RejectedPackage>, BatonError> {
        self.note("rejected")?;
        Ok(vec![RejectedPackage {
            object_key: format!("packages/web/{MARKUP}/site.zip"),
            object_tag: "etag".into(),
            component: Some("web".into()),
            version: Some(MARKUP.into()),
            rejection: Rejection::new(
                RejectCode::BadVersion,
                format!("'{MARKUP}' is not a SemVer 2.0 version"),
            ),
            metadata: PackageMetadata::default(),
            rejected_at: DateTime::UNIX_EPOCH,
        }])
    }
    async fn look_up(&self, lookup: &Lookup) -> Result<LookedUp, BatonError> {
        self.note("look_up")?;
        Ok(LookedUp {
            environments: lookup
                .environments
                .iter()
                .map(|e| EnvironmentNow {
                    state: EnvironmentState {
                        environment: e.clone(),
                        current: self
                            .live
                            .iter()
                            .find(|(env, _)| env == e)
                            .map(|(_, n)| redeploy::live_release(*n)),
                        previous: None,
                    },
                    deploying: None,
                })
                .collect(),
            ..Default::default()
        })
    }
    async fn environment_notes(
        &self,
        _releases: &[ReleaseId],
        _environments: &[String],
    ) -> Result<Vec<(ReleaseId, String, Vec<baton_domain::release::ReleaseNote>)>, BatonError> {
        self.note("environment_notes")?;
        Ok(vec![])
    }
    async fn package_record(
        &self,
        component: &str,
        version: &str,
    ) -> Result<baton_domain::ports::status::PackageRecord, BatonError> {
        self.note(&format!("package {component} {version}"))?;
        let mut record = baton_domain::ports::status::PackageRecord::default();
        if version == "9.9.9" {
            record.refused.push(RejectedPackage {
                object_key: format!("packages/{component}/{version}/site.zip"),
                object_tag: "0123abcd".into(),
                component: Some(component.into()),
                version: Some(version.into()),
                rejection: Rejection::new(RejectCode::InvalidContent, "the zip has no index.html at its root"),
                metadata: PackageMetadata::default(),
                rejected_at: DateTime::UNIX_EPOCH,
            });
        }
        Ok(record)
    }
}

fn config() -> BatonConfig {
    BatonConfig::from_yaml(include_str!("../../../../infra/config/baton.local.yaml")).unwrap()
}

fn release(number: u64) -> Release {
    let version = Version::parse(&format!("1.0.{number}")).unwrap();
    let package = PackageRef {
        component: "web".into(),
        version: version.clone(),
        sha256: "s".into(),
        object_key: "packages/web/x/site.zip".into(),
        s3_version_id: None,
    };
    Release {
        id: ReleaseId::from_number(number),
        number,
        snapshot: [("web".to_string(), package)].into_iter().collect(),
        content_hash: "h".into(),
        changes: vec![],
        notes: vec![ReleaseNote {
            component: "web".into(),
            version,
            metadata: PackageMetadata {
                commit: Some(MARKUP.into()),
                notes: Some(MARKUP.into()),
                build_url: Some("javascript:alert(1)".into()),
                ..Default::default()
            },
        }],
        previous: None,
        triggered_by: "packages/web/x/site.zip".into(),
        created_at: DateTime::UNIX_EPOCH,
        status: ReleaseStatus::Released,
    }
}

fn handler(store: Memory) -> Status<FixedConfig, Memory, super::access::fixed::AsViewer> {
    Status::new(
        FixedConfig(Arc::new(config())),
        store,
        super::access::fixed::AsViewer("viewer@example.com"),
    )
}

fn with_releases(n: u64) -> Memory {
    Memory {
        releases: (1..=n).map(release).collect(),
        ..Default::default()
    }
}

async fn get(
    status: &Status<FixedConfig, Memory, super::access::fixed::AsViewer>,
    path_and_query: &str,
) -> (u16, String) {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let query: serde_json::Map<String, Value> = crate::http::form_fields(query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let answer = status
        .invoke(json!({
            "rawPath": path, "queryStringParameters": query,
            "requestContext": { "http": { "method": "GET" } }
        }))
        .await
        .unwrap();
    (
        answer["statusCode"].as_u64().unwrap() as u16,
        answer["body"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn the_overview_makes_a_fixed_set_of_reads() {
    let status = handler(with_releases(40));
    let (code, body) = get(&status, "/").await;
    assert_eq!(code, 200);
    assert!(body.contains("Release status"));
    let mut calls = status.store.calls.lock().unwrap().clone();
    calls.sort();
    assert_eq!(
        calls,
        vec!["look_up", "pending PROD", "pending TEST", "rejected", "releases"]
    );
}

#[tokio::test]
async fn releases_page_through_with_next_before() {
    let status = handler(with_releases(5));
    let (code, body) = get(&status, "/api/releases?limit=2").await;
    assert_eq!(code, 200);
    let page: Value = serde_json::from_str(&body).unwrap();
    let numbers: Vec<u64> = page["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![5, 4]);
    assert_eq!(page["next_before"], 4);
    let (_, body) = get(&status, "/api/releases?limit=2&before=rel-2").await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["releases"][0]["id"], "rel-1");
    assert_eq!(page["next_before"], Value::Null);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let status = handler(with_releases(2));
    for (path, code, says) in [
        (
            "/api/releases?limit=0",
            400,
            "limit must be a whole number from 1 to 100",
        ),
        ("/api/releases?limit=abc", 400, "limit must be"),
        ("/api/releases?limit=101", 400, "limit must be"),
        ("/api/releases?before=-3", 400, "before must be a release number"),
        ("/api/releases?before=rel-x", 400, "before must be"),
        ("/api/releases/rel-99", 404, "There is no release rel-99"),
        ("/api/releases/drop%20table", 404, "is not a release id"),
        ("/releases/rel-007", 404, "is not a release id"),
        ("/releases/rel-99", 404, "There is no release rel-99"),
        ("/nothing/here", 404, "There is no page here"),
    ] {
        let (got, body) = get(&status, path).await;
        assert_eq!(got, code, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    let (_, body) = get(&status, "/api/releases/rel-99").await;
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"], "not-found");
    let answer = status
        .invoke(json!({ "rawPath": "/", "requestContext": { "http": { "method": "POST" } } }))
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 405);
}

#[tokio::test]
async fn a_failing_read_is_a_503_without_internals() {
    let status = handler(Memory {
        fail: true,
        ..Default::default()
    });
    for path in ["/", "/api/status", "/releases/rel-1"] {
        let (code, body) = get(&status, path).await;
        assert_eq!(code, 503, "{path}");
        assert!(!body.contains("ThrottlingException"), "{body}");
    }
}

#[tokio::test]
async fn markup_from_packages_comes_out_inert_everywhere() {
    let status = handler(with_releases(1));
    for path in [
        "/",
        "/releases/rel-1",
        "/feed.xml",
        "/api/status",
        "/api/releases/rel-1",
    ] {
        let (code, body) = get(&status, path).await;
        assert_eq!(code, 200, "{path}");
        assert!(!body.contains("<script>alert"), "{path}: {body}");
        assert!(!body.contains("<img src=x"), "{path}: {body}");
        assert!(!body.contains("href=\"javascript:"), "{path}: {body}");
        assert!(
            !body.contains("10.1.2.3"),
            "{path}: the approver's IP stays in the audit record"
        );
    }
    // JSON keeps the data exactly, as data.
    let (_, body) = get(&status, "/api/releases/rel-1").await;
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["notes"][0]["notes"], MARKUP);
    assert_eq!(detail["events"][0]["comment"], MARKUP);
    let (_, page) = get(&status, "/releases/rel-1").await;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    let (_, feed) = get(&status, "/feed.xml").await;
    assert!(feed.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), "{feed}");
    assert!(feed.contains("&lt;script&gt;"), "{feed}");
}

#[tokio::test]
async fn a_package_verdict_is_one_read_and_names_the_refused_upload() {
    let status = handler(Memory::default());
    let (code, body) = get(&status, "/api/packages/web/9.9.9").await;
    assert_eq!(code, 200, "{body}");
    let verdict: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(verdict["verdict"], "refused");
    assert_eq!(verdict["refused"][0]["etag"], "0123abcd");
    assert_eq!(verdict["refused"][0]["code"], "invalid-content");
    assert_eq!(*status.store.calls.lock().unwrap(), vec!["package web 9.9.9"]);

    let (code, body) = get(&status, "/api/packages/web/1.0.0").await;
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("no upload of web 1.0.0"), "{body}");
}

#[tokio::test]
async fn package_lookups_check_their_identifiers_before_reading() {
    let status = handler(Memory::default());
    let long = "1.0.0-".to_string() + &"a".repeat(3000);
    for (path, code) in [
        ("/api/packages/Web/1.0.0".to_string(), 400),
        ("/api/packages/web/v1.0".to_string(), 400),
        (format!("/api/packages/web/{long}"), 400),
        ("/api/packages/web".to_string(), 404),
        ("/api/packages/web/1.0.0/site.zip".to_string(), 404),
    ] {
        let (answer, body) = get(&status, &path).await;
        assert_eq!(answer, code, "{path}: {body}");
        assert!(body.len() < 400, "the answer does not echo the input: {body}");
    }
    assert!(status.store.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn pages_show_the_configured_zone_and_json_stays_utc() {
    let (_, page) = get(&handler(with_releases(1)), "/releases/rel-1").await;
    assert!(page.contains("title=\"Thu 1 Jan 1970, 00:00:00 UTC\""), "{page}");
    assert!(page.contains("Times are in UTC;"), "{page}");

    let mut tokyo = config();
    tokyo.timezone = "Asia/Tokyo".into();
    let status = Status::new(
        FixedConfig(Arc::new(tokyo)),
        with_releases(1),
        super::access::fixed::AsViewer("viewer@example.com"),
    );
    for path in ["/", "/releases/rel-1"] {
        let (_, page) = get(&status, path).await;
        assert!(page.contains("</time> JST"), "{path}: {page}");
        assert!(page.contains("Times are in Tokyo time (Asia/Tokyo);"), "{path}: {page}");
    }
    let (_, page) = get(&status, "/releases/rel-1").await;
    assert!(page.contains("title=\"Thu 1 Jan 1970, 09:00:00 JST\""), "{page}");
    assert!(page.contains("datetime=\"1970-01-01T00:00:00+00:00\""), "{page}");
    let (_, body) = get(&status, "/api/releases/rel-1").await;
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["created_at"], "1970-01-01T00:00:00Z", "{body}");
    assert!(!body.contains("JST"), "{body}");
    let (_, feed) = get(&status, "/feed.xml").await;
    assert!(
        feed.contains("<published>1970-01-01T00:00:00+00:00</published>"),
        "{feed}"
    );
}

mod redeploy;
mod search;
