//! The status pages and API (issue 6) against the local stack: JSON shapes after a real
//! journey, the cost of a page with a long history, markup from packages kept inert, and the
//! pages as headless Chromium renders them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use baton_domain::RejectedPackage;
use baton_domain::package::{PackageMetadata, RejectCode, Rejection};
use baton_domain::release::ReleaseStatus;
use baton_e2e::status::{Chromium, is_iso8601_utc, screenshots_dir, shown, visible_text};
use baton_e2e::{Harness, sample_manifest, sample_site};

use serde_json::Value;

const LONG: Duration = Duration::from_secs(90);

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_real_journey_the_api_answers_in_its_documented_shapes() -> Result<()> {
    let h = Harness::start().await?;
    h.status_journey().await?;
    // As a signed-in viewer: the documented shapes with names and links (the public's are
    // checked in access.rs).
    h.read_as("release-manager@example.com").await?;

    // /api/status: every field of the overview.
    let status = h.get_json("/api/status").await?;
    assert_eq!(
        keys(&status),
        vec![
            "delivery",
            "depends_on",
            "environments",
            "generated_at",
            "in_flight",
            "recent_releases",
            "rejected_packages",
            "trends"
        ]
    );
    // The pictures' data: twelve weeks, oldest first, and the stack as configured.
    let weeks = status["trends"]["weeks"].as_array().cloned().unwrap_or_default();
    assert_eq!(weeks.len(), 12, "{status}");
    assert_eq!(
        weeks[11]["deployments"], 1,
        "release 1 went live in PROD this week: {status}"
    );
    assert_eq!(status["trends"]["production"], "PROD");
    assert_eq!(status["depends_on"]["patient-api"][0], "admissions-api");
    assert!(
        is_iso8601_utc(status["generated_at"].as_str().unwrap_or_default()),
        "{status}"
    );
    let envs = status["environments"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        envs.iter().map(|e| e["name"].clone()).collect::<Vec<_>>(),
        ["TEST", "PROD"]
    );
    let (test, prod) = (&envs[0], &envs[1]);
    assert_eq!(
        keys(test),
        vec!["deploying", "display_name", "live", "name", "pending", "previous"]
    );
    assert_eq!(
        test["pending"],
        serde_json::json!([]),
        "no redeploy or failure question waits"
    );
    assert_eq!(test["live"]["release"], "rel-2");
    assert_eq!(test["live"]["number"], 2);
    assert_eq!(test["live"]["approved_by"], "release-manager@example.com");
    assert!(is_iso8601_utc(test["live"]["since"].as_str().unwrap_or_default()));
    assert_eq!(test["previous"]["release"], "rel-1");
    assert_eq!(test["deploying"], Value::Null);
    assert_eq!(prod["live"]["release"], "rel-1");
    let components = prod["live"]["components"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = components.iter().filter_map(|c| c["component"].as_str()).collect();
    assert_eq!(names, ["web", "state"], "configuration order");
    let web = &components[0];
    assert_eq!(web["version"], "1.0.0");
    assert!(
        web["pages_url"].as_str().unwrap_or_default().starts_with("http"),
        "{web}"
    );
    let state = &components[1];
    assert_eq!(state["pages_url"], Value::Null);
    let apps: Vec<&str> = state["cloudhub_applications"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(
        apps.contains(&"patient-api") && apps.contains(&"admissions-api"),
        "{state}"
    );

    // What is on its way, and what it waits on.
    let flights = status["in_flight"].as_array().cloned().unwrap_or_default();
    assert_eq!(flights.len(), 1, "{flights:?}");
    let flight = &flights[0];
    assert_eq!(
        keys(flight),
        vec!["number", "release", "status", "summary", "waiting_on"]
    );
    assert_eq!(flight["release"], "rel-2");
    assert_eq!(flight["status"], "awaiting-approval");
    let waiting = &flight["waiting_on"];
    assert_eq!(waiting["kind"], "sign-off");
    assert_eq!(waiting["environment"], "PROD");
    assert_eq!(
        strings(&waiting["approvers"]),
        ["release-manager@example.com", "cab@example.com"]
    );
    assert!(is_iso8601_utc(waiting["since"].as_str().unwrap_or_default()));
    assert!(is_iso8601_utc(waiting["expires_at"].as_str().unwrap_or_default()));
    assert_eq!(
        flight["summary"],
        "Waiting for sign-off for PROD by release-manager@example.com or cab@example.com"
    );

    // Recent releases, newest first, with their outcome.
    let recent = status["recent_releases"].as_array().cloned().unwrap_or_default();
    assert_eq!(recent.len(), 2);
    let one = &recent[1];
    assert_eq!(
        keys(one),
        vec![
            "changed_at",
            "changes",
            "created_at",
            "id",
            "live_in",
            "number",
            "outcome",
            "status",
            "url",
            "versions"
        ]
    );
    assert_eq!(one["status"], "released");
    // Where it is live now: TEST has moved on to release 2.
    assert_eq!(one["outcome"], "Live in PROD; was live in TEST (now release 2)");
    assert_eq!(one["live_in"], serde_json::json!(["PROD"]));
    assert_eq!(one["url"], "/releases/rel-1");
    assert_eq!(one["versions"]["web"], "1.0.0");
    assert_eq!(recent[1]["changes"][0]["from"], Value::Null);
    assert_eq!(recent[0]["changes"][0]["from"], "1.0.0");
    assert_eq!(recent[0]["outcome"], flight["summary"]);

    // The refused upload, with the reason.
    let rejected = &status["rejected_packages"][0];
    assert_eq!(rejected["object_key"], "packages/web/v1.1/site.zip");
    assert_eq!(rejected["code"], "bad-version");
    assert!(
        rejected["reason"].as_str().unwrap_or_default().contains("SemVer"),
        "{rejected}"
    );
    // A bad key is refused before the object is read, so CI's commit is not known.
    assert_eq!(rejected["commit"], Value::Null);
    assert!(is_iso8601_utc(rejected["rejected_at"].as_str().unwrap_or_default()));

    // Delivery figures: release 1 went to PROD; nothing failed.
    let d = &status["delivery"];
    assert_eq!(d["window_days"], 30);
    assert_eq!(d["production"], "PROD");
    assert_eq!(d["releases"], 2);
    assert_eq!(d["deployments_to_production"], 1);
    // Only production deployments count toward the change failure rate: release 1's.
    assert_eq!(d["deployed_releases"], 1);
    assert_eq!(d["failed_releases"], 0);
    assert_eq!(d["change_failure_rate"], 0.0);
    assert!(d["lead_time"]["median_seconds"].as_i64().is_some(), "{d}");
    assert_eq!(d["lead_time"]["samples"], 2, "web and state of release 1");
    assert_eq!(d["approval_wait"]["samples"], 3, "release 1 TEST, PROD; release 2 TEST");

    // /api/releases pages through with next_before.
    let first = h.get_json("/api/releases?limit=1").await?;
    assert_eq!(keys(&first), vec!["next_before", "releases"]);
    assert_eq!(first["releases"][0]["id"], "rel-2");
    assert_eq!(first["next_before"], 2);
    let second = h.get_json("/api/releases?limit=1&before=2").await?;
    assert_eq!(second["releases"][0]["id"], "rel-1");
    let all = h.get_json("/api/releases").await?;
    assert_eq!(all["releases"].as_array().map(Vec::len), Some(2));
    assert_eq!(all["next_before"], Value::Null);

    // /api/releases/{id}: the whole story.
    let detail = h.get_json("/api/releases/rel-1").await?;
    for field in [
        "id",
        "number",
        "status",
        "outcome",
        "created_at",
        "versions",
        "changes",
        "url",
        "headline",
        "waiting_on",
        "content_hash",
        "previous",
        "triggered_by",
        "packages",
        "notes",
        "environments",
        "deployments",
        "events",
    ] {
        assert!(detail.get(field).is_some(), "release detail lacks {field}: {detail}");
    }
    assert_eq!(detail["headline"], "Live in PROD; was live in TEST (now release 2)");
    assert_eq!(detail["waiting_on"], Value::Null);
    let progress: Vec<(String, String)> = detail["environments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["environment"].as_str().unwrap_or_default().into(),
                p["progress"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(
        progress,
        [("TEST".into(), "live".into()), ("PROD".into(), "live".into())]
    );
    let kinds = strings(&Value::Array(
        detail["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["kind"].clone())
            .collect(),
    ));
    for kind in [
        "created",
        "approval-requested",
        "approved",
        "deploying",
        "live",
        "released",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} event: {kinds:?}");
    }
    let approved = detail["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["kind"] == "approved")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        approved["summary"],
        "Signed off for TEST by release-manager@example.com"
    );
    assert_eq!(approved["comment"], "tested on the preview", "{approved}");
    assert!(!detail.to_string().contains("127.0.0.1"), "no approver IPs: {detail}");
    let deployments = detail["deployments"].as_array().cloned().unwrap_or_default();
    assert_eq!(deployments.len(), 4, "TEST and PROD, web and state: {deployments:?}");
    for d in &deployments {
        assert_eq!(d["status"], "succeeded", "{d}");
        assert!(is_iso8601_utc(d["updated_at"].as_str().unwrap_or_default()));
    }
    assert!(
        detail["notes"][0]["commit"].as_str().is_some_and(|c| !c.is_empty()),
        "{detail}"
    );
    assert_eq!(detail["packages"].as_array().map(Vec::len), Some(2));

    // Bad input: clear 4xx answers.
    for (path, code) in [
        ("/api/releases/rel-999", 404),
        ("/api/releases/nonsense", 404),
        ("/api/releases?limit=0", 400),
        ("/api/releases?before=soon", 400),
        ("/releases/rel-999", 404),
    ] {
        let answer = h.get(path).await?;
        assert_eq!(answer.status, code, "{path}: {}", answer.body);
        if path.starts_with("/api/") {
            let error = answer.json()?;
            assert_eq!(error["status"], code);
            assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        } else {
            assert!(answer.content_type.starts_with("text/html"));
            assert!(answer.body.contains("There is no release rel-999"), "{}", answer.body);
        }
    }

    // The feed: one entry per release, Atom.
    let feed = h.get("/feed.xml").await?;
    assert_eq!(feed.status, 200);
    assert!(
        feed.content_type.starts_with("application/atom+xml"),
        "{}",
        feed.content_type
    );
    assert_eq!(feed.body.matches("<entry>").count(), 2, "{}", feed.body);
    assert!(
        feed.body.contains(&format!("{}/releases/rel-1", h.stack.http_url)),
        "{}",
        feed.body
    );
    Ok(())
}

/// The DynamoDB requests of each status route.
async fn costs(h: &Harness, paths: &[&str]) -> Result<BTreeMap<String, BTreeMap<String, u64>>> {
    let mut out = BTreeMap::new();
    for path in paths {
        let started = Instant::now();
        let requests = h.dynamodb_requests_of(path).await?;
        eprintln!("  GET {path}: {requests:?} in {} ms", started.elapsed().as_millis());
        out.insert(path.to_string(), requests);
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_costs_the_same_few_requests_with_5000_releases_as_with_a_handful() -> Result<()> {
    const TOTAL: u64 = 5_000;
    let h = Harness::start().await?;
    // A real release, waiting for TEST sign-off: its workflow is idle, so the only DynamoDB
    // requests from now on are the ones measured.
    let model = h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut seeded = model.clone();
    seeded.status = ReleaseStatus::Released;
    let rejected = RejectedPackage {
        object_key: String::new(),
        object_tag: String::new(),
        component: Some("web".into()),
        version: Some("next".into()),
        rejection: Rejection::new(RejectCode::BadVersion, "'next' is not a SemVer 2.0 version"),
        metadata: PackageMetadata::default(),
        rejected_at: model.created_at,
    };

    let paths = [
        "/",
        "/api/status",
        "/api/releases",
        "/api/releases?limit=100&before=3",
        "/api/releases/rel-1",
        "/releases/rel-1",
        "/api/releases/rel-4",
        "/feed.xml",
        "/api/packages/web/1.0.0",
    ];
    h.seed_releases(&seeded, 2..=5).await?;
    h.seed_rejections(&rejected, 3).await?;
    eprintln!("with 5 releases:");
    let few = costs(&h, &paths).await?;

    let took = h.seed_releases(&seeded, 6..=TOTAL).await?;
    eprintln!("seeded {} releases in {} ms", TOTAL - 5, took.as_millis());
    h.seed_rejections(&rejected, 500).await?;
    let paths_many = paths.map(|p| p.replace("before=3", "before=2500").replace("rel-4", "rel-2500"));
    let paths_many: Vec<&str> = paths_many.iter().map(String::as_str).collect();
    eprintln!("with {TOTAL} releases:");
    let many = costs(&h, &paths_many).await?;

    for (few_path, many_path) in paths.iter().zip(&paths_many) {
        let (a, b) = (&few[*few_path], &many[*many_path]);
        assert_eq!(a, b, "{few_path} with 5 releases vs {many_path} with {TOTAL}");
        assert!(!b.contains_key("Scan"), "{many_path} scanned: {b:?}");
        let total: u64 = b.values().sum();
        assert!(total <= 6, "{many_path} made {total} requests: {b:?}");
    }
    // Exactly: the overview is five queries (releases, TEST and PROD sign-offs, refused uploads,
    // what is open as changed outside Baton) and one batch read; a list is one query.
    let overview = BTreeMap::from([("BatchGetItem".to_string(), 1), ("Query".to_string(), 5)]);
    assert_eq!(many["/"], overview);
    assert_eq!(many["/api/status"], overview);
    let one_query = BTreeMap::from([("Query".to_string(), 1)]);
    for path in ["/api/releases", "/api/packages/web/1.0.0"] {
        assert_eq!(many[path], one_query, "{path}");
    }
    // A release: its partition, then the environments in one batch read (where it is live now).
    let release = BTreeMap::from([("BatchGetItem".to_string(), 1), ("Query".to_string(), 1)]);
    for path in ["/api/releases/rel-1", "/releases/rel-1"] {
        assert_eq!(many[path], release, "{path}");
    }
    // The feed: its releases, TEST's and PROD's sign-offs (a request whose mails failed is told
    // to subscribers), the releases' notes per environment in one batch read, and the
    // environments with the releases' deployments in another (where each is live now), and
    // what is open as changed outside Baton (told beside the release live there).
    let feed = BTreeMap::from([("BatchGetItem".to_string(), 2), ("Query".to_string(), 4)]);
    assert_eq!(many["/feed.xml"], feed);
    let verdict = h.get_json("/api/packages/web/1.0.0").await?;
    assert_eq!(verdict["verdict"], "registered");
    assert_eq!(verdict["registered"]["release"], "rel-1");
    // And the answers are right: newest first, the page limit held.
    let page = h.get_json("/api/releases?limit=100&before=2500").await?;
    assert_eq!(page["releases"].as_array().map(Vec::len), Some(100));
    assert_eq!(page["releases"][0]["number"], 2499);
    assert_eq!(page["next_before"], 2400);
    let status = h.get_json("/api/status").await?;
    assert_eq!(status["recent_releases"][0]["number"], TOTAL);
    assert_eq!(status["rejected_packages"].as_array().map(Vec::len), Some(10));
    Ok(())
}

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_notes_commits_and_keys_comes_out_inert_in_every_page_and_the_feed() -> Result<()> {
    let chromium = Chromium::find()?;
    let h = Harness::start().await?;
    // Signed in, so the keys and links under test are shown (the public sees them hidden).
    h.read_as("release-manager@example.com").await?;
    let metadata = [
        ("notes", SCRIPT),
        ("commit", IMG),
        ("branch", IMG),
        ("build-url", "javascript:alert(1)"),
    ];
    h.upload(
        "packages/state/1.0.0/manifest.yaml",
        sample_manifest("1.4.2"),
        &metadata,
    )
    .await?;
    h.upload("packages/web/1.0.0/site.zip", sample_site("x"), &metadata)
        .await?;
    let bad_key = format!("packages/web/1.0.0{IMG}/site.zip");
    h.upload(&bad_key, sample_site("y"), &metadata).await?;
    baton_local::demo::wait_for_release(&h.stack, 1, LONG).await?;
    h.approve_from_mail(1, "TEST", SCRIPT).await?;
    h.wait_for_rejections(1).await?;

    // The overview shows the refused key; the release page and the feed the notes and commits.
    let escaped_script = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let escaped_img = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";
    for (path, shown) in [
        ("/", vec![escaped_img]),
        ("/releases/rel-1", vec![escaped_script, escaped_img]),
        ("/feed.xml", vec![escaped_script, escaped_img]),
    ] {
        let answer = h.get(path).await?;
        assert_eq!(answer.status, 200, "{path}");
        let body = &answer.body;
        for raw in ["<script", "<img", "href=\"javascript:", "onerror=alert(1)>"] {
            assert!(!body.contains(raw), "{path} contains {raw}: {body}");
        }
        for text in shown {
            assert!(body.contains(text), "{path} lacks {text}: {body}");
        }
    }
    for path in ["/api/status", "/api/releases/rel-1", "/api/releases"] {
        let answer = h.get(path).await?;
        assert!(answer.content_type.starts_with("application/json"));
        assert!(
            !answer.body.contains('<'),
            "{path} sends markup characters: {}",
            answer.body
        );
    }
    // The data itself is kept exactly.
    let detail = h.get_json("/api/releases/rel-1").await?;
    assert_eq!(detail["notes"][0]["notes"], SCRIPT);
    assert_eq!(detail["notes"][0]["commit"], IMG);
    let status = h.get_json("/api/status").await?;
    assert!(
        status["rejected_packages"][0]["object_key"]
            .as_str()
            .unwrap_or_default()
            .contains(IMG)
    );

    // In a browser: no element came from the markup, and readers see it as text.
    for path in ["/", "/releases/rel-1"] {
        let dom = chromium.dump_dom(&format!("{}{path}", h.stack.http_url)).await?;
        assert!(!dom.contains("<script") && !dom.contains("<img"), "{path}: {dom}");
        let text = visible_text(&dom);
        assert!(text.contains(SCRIPT) || text.contains(IMG), "{path}: {text}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_shows_the_overview_and_a_release_page_in_plain_words() -> Result<()> {
    let chromium = Chromium::find()?;
    let h = Harness::start().await?;
    h.status_journey().await?;
    let base = &h.stack.http_url;

    let overview_dom = chromium.dump_dom(&format!("{base}/")).await?;
    // The pictures: a drawing per environment and three trend charts, each an image with words.
    assert_eq!(overview_dom.matches("<svg").count(), 2 + 3, "{overview_dom}");
    assert_eq!(overview_dom.matches("role=\"img\"").count(), 2 + 3, "{overview_dom}");
    let overview = visible_text(&overview_dom);
    for words in [
        "The stack",
        "The stack in TEST",
        "Browser calls web; web calls patient-api; patient-api calls admissions-api.",
        "Trends, last 12 weeks",
        "Deployments to production",
        "Release status",
        "Live now",
        "TEST Release 2",
        "PROD Release 1",
        // The local stack's page is public: approvers appear as their roles.
        "Signed off by the release manager",
        "Open the site",
        "patient-api",
        "On its way",
        "Waiting for sign-off for PROD by the release manager or CAB since",
        "Recent releases",
        "Release 1",
        // Its badge is where it is live now: TEST has moved on to release 2.
        "Live in PROD Live in PROD; was live in TEST (now release 2)",
        "Deployment frequency",
        "Lead time",
        "Change failure rate",
        "Waiting for sign-off",
        "Refused uploads",
        "'v1.1' is not a SemVer 2.0 version",
    ] {
        assert!(overview.contains(words), "the overview lacks \"{words}\": {overview}");
    }
    let release = visible_text(&chromium.dump_dom(&format!("{base}/releases/rel-1")).await?);
    for words in [
        "Release 1",
        "Live in PROD; was live in TEST (now release 2)",
        "Where it stands",
        "TEST Live in TEST",
        "PROD Live in PROD",
        "What it contains",
        "Release notes",
        "Patient Portal home page",
        "Deployments",
        "Timeline",
        "Signed off for TEST by the release manager",
        "“tested on the preview”",
        "Live in PROD",
    ] {
        assert!(release.contains(words), "the release page lacks \"{words}\": {release}");
    }
    let shots = [
        chromium.screenshot(&format!("{base}/"), "status-overview").await?,
        chromium
            .screenshot(&format!("{base}/releases/rel-2"), "status-release")
            .await?,
        chromium
            .screenshot(&format!("{base}/releases/rel-1"), "status-release-released")
            .await?,
        // A phone: the same page, one column, the pictures scaled to its width.
        chromium
            .screenshot_at(&format!("{base}/"), "status-overview-phone", (390, 4800))
            .await?,
    ];
    for shot in &shots {
        let size = std::fs::metadata(shot)?.len();
        assert!(size > 10_000, "{} is only {size} bytes", shown(shot));
        eprintln!("screenshot: {}", shown(shot));
    }
    // At 390 px (a phone) every column of every table is readable without scrolling sideways:
    // nothing is wider than the window, and no table or cell overflows its box.
    for path in ["/", "/releases/rel-1", "/releases/rel-2"] {
        let phone = chromium
            .screenshot_at(
                &format!("{base}{path}"),
                &format!("status-phone{}", path.replace('/', "-")),
                (390, 1800),
            )
            .await?;
        eprintln!("screenshot: {}", shown(&phone));
        let html = h.get(path).await?.body;
        let widths = chromium.widths(&html, 390).await?;
        assert!(
            widths.document <= 390,
            "{path} is {} px wide at 390: {widths:?}",
            widths.document
        );
        assert_eq!(widths.overflow, 0, "{path} overflows at 390 px: {widths:?}");
        // The page refreshes itself, without script.
        assert!(
            html.contains("<meta http-equiv=\"refresh\" content=\"30\">") || path != "/",
            "{path}"
        );
    }
    assert!(screenshots_dir().ends_with("target/screenshots"));
    Ok(())
}
