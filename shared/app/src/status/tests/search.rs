//! `GET /api/search` and `GET /search` over the in-memory store: bad input is refused before
//! any read, and a search reads only its terms' lists when nothing matches.

use baton_domain::ports::search::SearchReads;
use baton_domain::search::IndexEntry;

use super::*;

#[async_trait]
impl SearchReads for Memory {
    async fn entries(&self, term: &str, _limit: usize) -> Result<Vec<IndexEntry>, BatonError> {
        self.note(&format!("search {term}"))?;
        Ok(Vec::new())
    }
    async fn present(&self, _wanted: &[IndexEntry]) -> Result<Vec<IndexEntry>, BatonError> {
        self.note("present")?;
        Ok(Vec::new())
    }
    async fn first_releases(
        &self,
        _packages: &[(String, Version)],
    ) -> Result<Vec<((String, Version), Option<ReleaseId>)>, BatonError> {
        self.note("first_releases")?;
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_bad_query_is_refused_with_what_to_do_and_reads_nothing() {
    let status = handler(with_releases(3));
    let long = format!("/api/search?q={}", "x".repeat(101));
    for (path, says) in [
        ("/api/search", "Type what to look for"),
        ("/api/search?q=%20%20", "Type what to look for"),
        ("/api/search?q=ADM-142%0A1.4.0", "control characters"),
        (long.as_str(), "at most 100"),
    ] {
        let (code, body) = get(&status, path).await;
        assert_eq!(code, 400, "{path}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["error"], "bad-request", "{path}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{path}: {body}");
    }
    let (code, page) = get(&status, "/search?q=").await;
    assert_eq!(code, 400);
    assert!(page.contains("Type what to look for"), "{page}");
    assert!(status.store.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn nothing_matching_is_a_200_with_what_to_try_after_one_read() {
    let status = handler(with_releases(3));
    let (code, body) = get(&status, "/api/search?q=ADM-999%20web%401.4.0").await;
    assert_eq!(code, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["results"], json!([]));
    assert_eq!(answer["searched_for"], json!(["ticket ADM-999", "web 1.4.0"]));
    assert!(
        answer["message"].as_str().unwrap().starts_with("Nothing matches"),
        "{body}"
    );
    assert_eq!(*status.store.calls.lock().unwrap(), ["search t:ADM-999"]);
}

#[tokio::test]
async fn markup_in_a_query_comes_back_inert() {
    let status = handler(with_releases(1));
    let (code, page) = get(&status, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(code, 200);
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");
    let (_, body) = get(&status, "/api/search?q=%3Cscript%3E").await;
    assert!(!body.contains('<'), "{body}");
}

#[tokio::test]
async fn the_overview_carries_the_search_box() {
    let status = handler(with_releases(1));
    let (_, page) = get(&status, "/").await;
    assert!(page.contains(r#"action="/search""#), "{page}");
    assert!(page.contains(r#"name="q""#), "{page}");
}
