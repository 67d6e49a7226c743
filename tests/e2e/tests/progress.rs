//! The feed and the API tell progress (issue 16, items 6 and 9) against the local stack: a
//! release's entry is updated when the release last changed, a feed per environment tells the
//! releases' progress there, and an unknown environment's feed is a clear 404.

use anyhow::{Context, Result, ensure};
use baton_e2e::Harness;
use chrono::{DateTime, Utc};

/// The `<entry>` of `feed` whose `<id>` ends with `id_suffix`, if any.
fn entry<'a>(feed: &'a str, id_suffix: &str) -> Option<&'a str> {
    feed.split("<entry>")
        .skip(1)
        .map(|e| e.split("</entry>").next().unwrap_or(e))
        .find(|e| e.contains(&format!("{id_suffix}</id>")))
}

/// The text of the first `<tag>` in `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> Result<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open).context(format!("no <{tag}> in {xml}"))? + open.len();
    let end = xml[start..]
        .find(&format!("</{tag}>"))
        .context(format!("unclosed <{tag}>"))?;
    Ok(&xml[start..start + end])
}

fn updated(entry: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(element(entry, "updated")?)?.with_timezone(&Utc))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_s_updated_moves_with_the_release_and_each_environment_has_its_own_feed() -> Result<()> {
    let h = Harness::start().await?;
    // Release 1 is made and asked for TEST's sign-off.
    h.release_samples("1.0.0", 1).await?;
    h.approval_links(1, "TEST").await?;

    let feed = h.get("/feed.xml").await?;
    ensure!(feed.status == 200, "{}", feed.body);
    let first = entry(&feed.body, "/releases/rel-1").context(feed.body.clone())?;
    let asked_at = updated(first)?;
    let created = DateTime::parse_from_rfc3339(element(first, "published")?)?.with_timezone(&Utc);
    ensure!(
        asked_at > created,
        "the sign-off request is a change after creation: {first}"
    );
    ensure!(
        element(first, "title")?.starts_with("Release 1: Sign-off for TEST asked of "),
        "{first}"
    );
    // The feed as a whole is updated with its latest entry.
    ensure!(updated(&feed.body)? == asked_at, "{}", feed.body);

    // TEST's feed holds it; PROD's does not yet.
    let test = h.get("/feed/TEST.xml").await?;
    ensure!(test.status == 200 && test.content_type.starts_with("application/atom+xml"));
    let in_test = entry(&test.body, "/releases/rel-1#TEST").context(test.body.clone())?;
    ensure!(
        element(in_test, "title")?.starts_with("Release 1: Sign-off for TEST asked"),
        "{in_test}"
    );
    ensure!(
        test.body.contains("<title>Baton releases in TEST</title>"),
        "{}",
        test.body
    );
    let prod = h.get("/feed/PROD.xml").await?;
    ensure!(prod.status == 200, "{}", prod.body);
    ensure!(
        !prod.body.contains("<entry>"),
        "nothing happened in PROD yet: {}",
        prod.body
    );

    // Signed off and deployed: the entry moves forward and says where it stands now.
    h.approve_from_mail(1, "TEST", "looks good").await?;
    h.wait_live("TEST", 1).await?;
    let prod_links = h.approval_links(1, "PROD").await?;
    // The PROD request carries the TEST evidence: since when, by whom, the TEST site; the
    // personal link stays the mail's first link.
    let prod_mail = h.wait_for_mails("Approve release 1 for PROD?", 1).await?.remove(0);
    ensure!(prod_mail.text.contains("In TEST: live since "), "{}", prod_mail.text);
    ensure!(
        prod_mail
            .text
            .contains("signed off there by release-manager@example.com"),
        "{}",
        prod_mail.text
    );
    ensure!(prod_mail.text.contains("Try it there: http"), "{}", prod_mail.text);
    ensure!(prod_mail.links[0].contains("/approvals/"), "{:?}", prod_mail.links);
    let page = h.open(&prod_links[0].1).await?;
    ensure!(
        page.status == 200 && page.body.contains("In TEST: </strong>live since"),
        "{}",
        page.body
    );
    let feed = h.get("/feed.xml").await?;
    let later = entry(&feed.body, "/releases/rel-1").context(feed.body.clone())?;
    ensure!(updated(later)? > asked_at, "<updated> moved: {later}");
    ensure!(
        element(later, "title")?.starts_with("Release 1: Sign-off for PROD asked of "),
        "{later}"
    );
    let test = h.get("/feed/TEST.xml").await?;
    let in_test = entry(&test.body, "/releases/rel-1#TEST").context(test.body.clone())?;
    ensure!(element(in_test, "title")? == "Release 1: Live in TEST", "{in_test}");
    ensure!(updated(in_test)? > asked_at, "{in_test}");
    let prod = h.get("/feed/PROD.xml").await?;
    let in_prod = entry(&prod.body, "/releases/rel-1#PROD").context(prod.body.clone())?;
    ensure!(
        element(in_prod, "title")?.starts_with("Release 1: Sign-off for PROD asked"),
        "{in_prod}"
    );

    // The API says the same: where it is live now, and when it last changed.
    let status = h.get_json("/api/status").await?;
    let summary = &status["recent_releases"][0];
    ensure!(summary["live_in"] == serde_json::json!(["TEST"]), "{summary}");
    let changed: DateTime<Utc> = summary["changed_at"].as_str().unwrap_or_default().parse()?;
    ensure!(changed == updated(later)?, "{summary} vs {later}");
    let detail = h.get_json("/api/releases/rel-1").await?;
    ensure!(detail["live_in"] == serde_json::json!(["TEST"]), "{detail}");

    // An environment that is not configured: a 404 that names the feeds there are.
    let unknown = h.get("/feed/STAGING.xml").await?;
    ensure!(unknown.status == 404, "{}", unknown.body);
    ensure!(
        unknown.body.contains("no environment") && unknown.body.contains("/feed/TEST.xml"),
        "{}",
        unknown.body
    );
    Ok(())
}

/// `display_name` on components and environments: what business users read on the overview
/// and a release's page, while the JSON keeps the ids and adds the names beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn display_names_are_what_business_users_read() -> Result<()> {
    let options = baton_e2e::config_with(|text| {
        text.replace(
            "    kind: web                     #",
            "    display_name: Patient Portal\n    kind: web                     #",
        )
        .replace(
            "    kind: state                   #",
            "    display_name: Patient & Admissions APIs\n    kind: state                   #",
        )
        .replace("  - name: TEST\n", "  - name: TEST\n    display_name: Test (preview)\n")
    });
    let h = Harness::start_with(options).await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "").await?;
    h.wait_live("TEST", 1).await?;

    let overview = h.get("/").await?.body;
    for name in ["Patient Portal", "Patient &amp; Admissions APIs", "Test (preview)"] {
        ensure!(overview.contains(name), "the overview lacks {name}: {overview}");
    }
    let page = h.get("/releases/rel-1").await?.body;
    for name in ["Patient Portal", "Patient &amp; Admissions APIs", "Test (preview)"] {
        ensure!(page.contains(name), "the release page lacks {name}: {page}");
    }
    let status = h.get_json("/api/status").await?;
    let test = &status["environments"][0];
    ensure!(
        test["name"] == "TEST" && test["display_name"] == "Test (preview)",
        "{test}"
    );
    let detail = h.get_json("/api/releases/rel-1").await?;
    let web = detail["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["component"] == "web"))
        .context("web in the release")?;
    ensure!(web["display_name"] == "Patient Portal", "{web}");
    ensure!(
        detail["environments"][0]["display_name"] == "Test (preview)",
        "{detail}"
    );
    Ok(())
}
