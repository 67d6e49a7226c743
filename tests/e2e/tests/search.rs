//! "Is it live?" search (issue 16, item 7) against the local stack: a business user finds
//! ADM-142 by ticket, version, commit prefix or word, the answer follows the release through
//! TEST, bad queries are refused, and a search costs the same few DynamoDB requests with 5,000
//! releases as with 5.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use baton_aws::dynamo::search::search_item;
use baton_domain::Version;
use baton_domain::release::ReleaseStatus;
use baton_domain::search::{IndexEntry, Term, TermKind};
use baton_e2e::status::visible_text;
use baton_e2e::{Harness, Item, sample_site, text};
use serde_json::Value;

const NOTES: &str = "Admissions form: clearer errors for \"100%\" of cases (adm-142)";
const COMMIT: &str = "c0ffee1d2e3f4a5b6c7d";

fn summaries(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} {}: {}",
                r["component"].as_str().unwrap_or(""),
                r["version"].as_str().unwrap_or(""),
                r["summary"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// `/api/search?q=<text>`, every byte but letters and digits percent-encoded.
fn q(text: &str) -> String {
    let encoded: String = text
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/api/search?q={encoded}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_user_finds_adm_142_and_follows_it_to_test() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    let metadata = [("commit", COMMIT), ("branch", "main"), ("notes", NOTES)];
    let site = sample_site("1.1.0");
    h.upload("packages/web/1.1.0/site.zip", site.clone(), &metadata).await?;
    baton_local::demo::wait_for_release(&h.stack, 2, Duration::from_secs(90)).await?;
    h.approval_links(2, "TEST").await?;

    // Found by ticket (any case), by version, by commit prefix, by a word; the same package.
    for query in [
        "ADM-142",
        "adm-142",
        "web 1.1.0",
        "web@1.1.0",
        "1.1.0",
        "c0ffee1d2",
        "c0ffee1",
        "clearer",
        "Admissions ADM-142",
    ] {
        let answer = h.get_json(&q(query)).await?;
        let results = answer["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), 1, "{query}: {answer}");
        assert_eq!(
            (results[0]["component"].as_str(), results[0]["version"].as_str()),
            (Some("web"), Some("1.1.0")),
            "{query}"
        );
        assert_eq!(results[0]["release"], "rel-2", "{query}");
        assert_eq!(results[0]["commit"], COMMIT, "{query}");
    }
    // Indexed under 9 terms (version, commit prefix, ticket, 6 words). The same upload
    // delivered again (a new S3 version of the same bytes: a duplicate) writes the same keys.
    let web_entries = || async {
        let mut keys: Vec<String> = h
            .entities("search-entry")
            .await?
            .iter()
            .filter(|i| text(i, "component") == "web" && text(i, "version") == "1.1.0")
            .map(|i| text(i, "pk"))
            .collect();
        keys.sort();
        anyhow::Ok(keys)
    };
    let indexed = web_entries().await?;
    assert_eq!(indexed.len(), 9, "{indexed:?}");
    assert!(indexed.contains(&"SEARCH#t:ADM-142".to_string()), "{indexed:?}");
    h.upload("packages/web/1.1.0/site.zip", site, &metadata).await?;
    h.drained().await?;
    assert_eq!(web_entries().await?, indexed);
    assert!(
        h.rejections().await?.is_empty(),
        "the repeat is a duplicate, not a conflict"
    );

    // Waiting for TEST sign-off: who is asked is "the approvers", never an address.
    let answer = h.get_json(&q("ADM-142")).await?;
    let summary = summaries(&answer).join("\n");
    assert!(
        summary.contains("waiting for TEST sign-off by the approvers since "),
        "{summary}"
    );
    assert!(summary.contains("(release 2); not in PROD yet"), "{summary}");
    assert_eq!(answer["results"][0]["environments"][0]["state"], "waiting-for-sign-off");
    assert!(!answer.to_string().contains('@'), "no address in {answer}");

    // A prefix of another commit, another ticket, a version of another component: nothing.
    for query in ["c0ffee1ff", "ADM-143", "state 1.1.0", "zzzunknown"] {
        let answer = h.get_json(&q(query)).await?;
        assert_eq!(answer["results"], serde_json::json!([]), "{query}");
        assert!(
            answer["message"].as_str().unwrap_or("").starts_with("Nothing matches"),
            "{query}: {answer}"
        );
    }

    // Deployed to TEST: the answer says so, with the release, and PROD waits for sign-off.
    h.approve_from_mail(2, "TEST", "tested").await?;
    h.wait_live("TEST", 2).await?;
    h.approval_links(2, "PROD").await?;
    let answer = h.get_json(&q("ADM-142")).await?;
    let summary = summaries(&answer).join("\n");
    assert!(summary.contains("web 1.1.0: in TEST since "), "{summary}");
    assert!(
        summary.contains(" with release 2; waiting for PROD sign-off by the approvers since "),
        "{summary}"
    );
    assert_eq!(answer["results"][0]["environments"][0]["state"], "live");
    // The older web 1.0.0 is carried by what runs in TEST now.
    let older = h.get_json(&q("web 1.0.0")).await?;
    assert!(
        summaries(&older)[0].contains("in TEST, now with 1.1.0 (release 2)"),
        "{older}"
    );

    // The page a business user reads: the box on the overview leads to it.
    let overview = h.get("/").await?;
    assert!(overview.body.contains(r#"action="/search""#));
    let page = h.get("/search?q=ADM-142").await?;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    let text = visible_text(&page.body);
    assert!(text.contains("web 1.1.0"), "{text}");
    assert!(text.contains("with release 2"), "{text}");
    assert!(text.contains("Admissions form: clearer errors"), "{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_refused_and_markup_stays_inert() -> Result<()> {
    let h = Harness::start().await?;
    let long = "x".repeat(101);
    for (query, says) in [
        ("", "Type what to look for"),
        ("   ", "Type what to look for"),
        ("ADM-142\n1.4.0", "control characters"),
        (long.as_str(), "at most 100"),
    ] {
        let answer = h.get(&q(query)).await?;
        assert_eq!(answer.status, 400, "{query:?}: {}", answer.body);
        assert!(
            answer.json()?["message"].as_str().unwrap_or("").contains(says),
            "{}",
            answer.body
        );
        let page = h.get(&q(query).replacen("/api/search", "/search", 1)).await?;
        assert_eq!(page.status, 400, "{query:?}");
        assert!(page.body.contains(says), "{}", page.body);
    }
    let page = h.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27").await?;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    let json = h.get("/api/search?q=%3Cimg%20src%3Dx%3E").await?;
    assert_eq!(json.status, 200);
    assert!(!json.body.contains('<'), "{}", json.body);
    Ok(())
}

/// Index entries of seeded package `web 2.0.<n>`: its ticket `ADM-<n>`, the word
/// `admissions` (every seeded package shares it) and its version, as ingest writes them.
fn seeded_entries(n: u64, base: chrono::DateTime<chrono::Utc>) -> Result<Vec<Item>> {
    let version = Version::parse(&format!("2.0.{n}")).map_err(|e| anyhow!("{e}"))?;
    [
        Term {
            kind: TermKind::Ticket,
            text: format!("ADM-{n}"),
        },
        Term {
            kind: TermKind::Word,
            text: "admissions".into(),
        },
        Term {
            kind: TermKind::Version,
            text: version.to_string(),
        },
    ]
    .into_iter()
    .map(|term| {
        search_item(&IndexEntry {
            term: term.key(),
            component: "web".into(),
            version: version.clone(),
            commit: Some(format!("{n:07x}")),
            notes: Some(format!("Admissions form, ADM-{n}")),
            registered_at: base - chrono::Duration::minutes(10_000 - n as i64),
        })
        .map_err(|e| anyhow!("{e}"))
    })
    .collect()
}

async fn seed(h: &Harness, numbers: std::ops::RangeInclusive<u64>, base: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let mut items = Vec::new();
    for n in numbers {
        items.extend(seeded_entries(n, base)?);
    }
    h.write_items(items, 4).await
}

async fn costs(h: &Harness, queries: &[&str]) -> Result<BTreeMap<String, BTreeMap<String, u64>>> {
    let mut out = BTreeMap::new();
    for query in queries {
        let started = Instant::now();
        let requests = h.dynamodb_requests_of(&q(query)).await?;
        eprintln!(
            "  search {query:?}: {requests:?} in {} ms",
            started.elapsed().as_millis()
        );
        out.insert(query.to_string(), requests);
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_costs_the_same_few_requests_with_5000_releases_as_with_5() -> Result<()> {
    const TOTAL: u64 = 5_000;
    let h = Harness::start().await?;
    // A real release waiting for TEST sign-off: its workflow is idle, so the only DynamoDB
    // requests from now on are the ones measured.
    let model = h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut seeded = model.clone();
    seeded.status = ReleaseStatus::Released;
    let base = model.created_at;

    let queries = ["ADM-3", "admissions", "web 2.0.3", "admissions ADM-3", "zzzunknown"];
    h.seed_releases(&seeded, 2..=5).await?;
    seed(&h, 1..=5, base).await?;
    eprintln!("with 5 releases:");
    let few = costs(&h, &queries).await?;

    let took = h.seed_releases(&seeded, 6..=TOTAL).await?;
    let started = Instant::now();
    seed(&h, 6..=TOTAL, base).await?;
    eprintln!(
        "seeded {} releases in {} ms and {} index entries in {} ms",
        TOTAL - 5,
        took.as_millis(),
        (TOTAL - 5) * 3,
        started.elapsed().as_millis()
    );
    eprintln!("with {TOTAL} releases:");
    let many = costs(&h, &queries).await?;

    for query in queries {
        assert_eq!(few[query], many[query], "{query}: 5 releases vs {TOTAL}");
        assert!(!many[query].contains_key("Scan"), "{query} scanned: {:?}", many[query]);
    }
    // Exactly: the most specific term is one Query; a match adds TEST's and PROD's sign-offs (two Queries),
    // the environments (one BatchGetItem) and the matched packages (one BatchGetItem).
    let one_term = BTreeMap::from([("BatchGetItem".to_string(), 2), ("Query".to_string(), 3)]);
    assert_eq!(many["ADM-3"], one_term);
    assert_eq!(many["admissions"], one_term);
    assert_eq!(many["web 2.0.3"], one_term);
    // A second term is checked for the first one's candidates by key: one more batch read.
    let two_terms = BTreeMap::from([("BatchGetItem".to_string(), 3), ("Query".to_string(), 3)]);
    assert_eq!(many["admissions ADM-3"], two_terms);
    assert_eq!(many["zzzunknown"], BTreeMap::from([("Query".to_string(), 1)]));

    // And the answers are right: the newest first (the real state 1.0.0 of release 1 mentions
    // the Admissions API and was registered after every seeded package), the one asked for found.
    let newest = h.get_json(&q("admissions")).await?;
    let packages: Vec<String> = newest["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} {}",
                r["component"].as_str().unwrap_or(""),
                r["version"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(packages, ["state 1.0.0", "web 2.0.5000", "web 2.0.4999"]);
    let one = h.get_json(&q("ADM-4242")).await?;
    assert_eq!(one["results"][0]["version"], "2.0.4242");
    let both = h.get_json(&q("admissions ADM-3")).await?;
    assert_eq!(both["results"][0]["version"], "2.0.3", "{both}");
    Ok(())
}
