use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};

use super::answer::{Found, SearchAnswer, Surroundings, Whereabouts};
use super::*;
use crate::approval::hold::Hold;
use crate::config::BatonConfig;
use crate::deployment::{EnvironmentState, LiveComponent, LiveRelease};
use crate::ports::status::{EnvironmentNow, PendingSignOff};
use crate::release::{PackageRef, ReleaseId};

fn v(text: &str) -> Version {
    Version::parse(text).unwrap()
}

fn meta(commit: Option<&str>, notes: &str) -> PackageMetadata {
    PackageMetadata {
        commit: commit.map(str::to_string),
        notes: Some(notes.to_string()),
        ..Default::default()
    }
}

fn keys(terms: &[Term]) -> Vec<String> {
    terms.iter().map(Term::key).collect()
}

#[test]
fn a_package_is_found_by_version_commit_ticket_and_words() {
    let terms = package_terms(
        &v("1.4.0"),
        &meta(
            Some("3F2C1D9AB0e4"),
            "Admissions form: clearer errors (adm-142, ADM-142-hotfix, see OPS-7). The form!",
        ),
    );
    assert_eq!(
        keys(&terms),
        [
            "v:1.4.0",
            "c:3f2c1d9",
            "t:ADM-142",
            "t:OPS-7",
            "w:admissions",
            "w:form",
            "w:clearer",
            "w:errors",
            "w:adm",
            "w:hotfix",
            "w:see",
            "w:ops",
        ]
    );
}

#[test]
fn a_commit_that_is_not_hex_of_7_to_64_digits_is_not_indexed() {
    for commit in ["abc123", "not-a-sha", "g3f2c1d9", &"a".repeat(65), ""] {
        let terms = package_terms(&v("1.0.0"), &meta(Some(commit), ""));
        assert_eq!(keys(&terms), ["v:1.0.0"], "{commit}");
    }
}

#[test]
fn a_megabyte_of_notes_is_indexed_in_at_most_one_batch_of_terms() {
    let mut notes = String::new();
    let mut n = 0;
    while notes.len() < 1024 * 1024 {
        notes.push_str(&format!("TICK-{n} word{n} \u{00e9}t\u{00e9}{n} 100% \"quoted\" 'x' "));
        n += 1;
    }
    let started = std::time::Instant::now();
    let terms = package_terms(&v("2.0.0"), &meta(Some(&"ab".repeat(20)), &notes));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(terms.len(), MAX_TERMS_PER_PACKAGE);
    let tickets = terms.iter().filter(|t| t.kind == TermKind::Ticket).count();
    assert_eq!(tickets, MAX_TICKETS_PER_PACKAGE);
    let distinct: BTreeSet<String> = keys(&terms).into_iter().collect();
    assert_eq!(distinct.len(), terms.len(), "terms are distinct");
    for term in &terms {
        assert!(term.key().len() <= 2 + WORD_MAX * 4 + 64, "{}", term.key());
        assert!(!term.text.contains(['%', '"', '\'', ' ']), "{}", term.text);
    }
}

#[test]
fn words_are_lower_case_letters_and_digits_of_any_script_without_stop_words() {
    let terms = package_terms(
        &v("1.0.0"),
        &meta(
            None,
            "The ÜBER-Formular für Aufnahme 2024 and 受付フォーム; x1 ab 100% \"quoted\" <script>",
        ),
    );
    assert_eq!(
        keys(&terms),
        [
            "v:1.0.0",
            "w:über",
            "w:formular",
            "w:für",
            "w:aufnahme",
            "w:受付フォーム",
            "w:quoted",
            "w:script",
        ]
    );
}

#[test]
fn entries_are_deterministic_and_keep_a_short_excerpt_of_the_notes() {
    let package = crate::package::Package {
        component: "web".into(),
        version: v("1.4.0"),
        kind: crate::config::ComponentKind::Web,
        object_key: "packages/web/1.4.0/site.zip".into(),
        s3_version_id: None,
        size: 1,
        sha256: "s".into(),
        metadata: meta(Some("3f2c1d9"), &"ADM-142 ".repeat(100)),
        contents: crate::package::PackageContents::Web { files: 1, bytes: 1 },
        registered_at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    };
    let first = entries(&package);
    assert_eq!(first, entries(&package));
    assert_eq!(
        first.iter().map(|e| e.term.as_str()).collect::<Vec<_>>(),
        ["v:1.4.0", "c:3f2c1d9", "t:ADM-142", "w:adm"]
    );
    assert!(
        first
            .iter()
            .all(|e| e.notes.as_ref().unwrap().chars().count() == NOTES_EXCERPT)
    );
}

fn parse(q: &str) -> Result<SearchQuery, QueryProblem> {
    SearchQuery::parse(q, &["web", "state"])
}

fn query_keys(q: &str) -> Vec<Vec<String>> {
    parse(q).unwrap().terms.into_iter().map(|t| t.keys).collect()
}

#[test]
fn a_query_is_read_as_version_ticket_commit_or_word() {
    assert_eq!(query_keys("  1.4.0 "), [["v:1.4.0"]]);
    assert_eq!(query_keys("v1.4.0-rc.1"), [["v:1.4.0-rc.1"]]);
    assert_eq!(query_keys("adm-142"), [["t:ADM-142"]]);
    assert_eq!(query_keys("3F2C1D9ab"), [["c:3f2c1d9"]]);
    // Hex of letters only may be a commit or a word: both are read.
    assert_eq!(query_keys("deadbeef"), [vec!["c:deadbee", "w:deadbeef"]]);
    assert_eq!(query_keys("Admissions"), [["w:admissions"]]);
    assert_eq!(query_keys("\"Admissions\"%"), [["w:admissions"]]);
    assert_eq!(query_keys("e-mail form's"), [["w:mail"], ["w:form"]]);
}

#[test]
fn a_component_and_version_are_one_term_that_keeps_that_component() {
    for q in ["web 1.4.0", "web@1.4.0", "web:1.4.0", "web/1.4.0"] {
        let query = parse(q).unwrap();
        assert_eq!(query.terms.len(), 1, "{q}");
        assert_eq!(query.terms[0].keys, ["v:1.4.0"], "{q}");
        assert_eq!(query.terms[0].keep, Keep::Component("web".into()), "{q}");
        assert_eq!(query.terms[0].described, "web 1.4.0", "{q}");
    }
}

#[test]
fn at_most_three_terms_are_used_and_short_or_common_words_are_ignored() {
    let query = parse("the form ADM-142 1.4.0 admissions extra").unwrap();
    assert_eq!(
        query.terms.iter().map(|t| t.keys[0].as_str()).collect::<Vec<_>>(),
        ["w:form", "t:ADM-142", "v:1.4.0"]
    );
    assert_eq!(query.ignored, ["the", "admissions", "extra"]);
    let nothing = parse("a an of").unwrap();
    assert!(nothing.terms.is_empty());
    // A term typed twice is read once.
    assert_eq!(query_keys("form FORM form"), [["w:form"]]);
}

#[test]
fn empty_long_or_control_character_queries_are_refused_saying_what_to_do() {
    for bad in ["", "   ", "\t"] {
        assert!(parse(bad).unwrap_err().0.contains("Type what to look for"), "{bad:?}");
    }
    let long = "x".repeat(QUERY_MAX + 1);
    assert!(parse(&long).unwrap_err().0.contains("at most 100"));
    assert!(parse(&"é".repeat(QUERY_MAX)).is_ok(), "characters, not bytes");
    for bad in ["ADM-142\n1.4.0", "a\u{0}b", "x\u{1b}[31m"] {
        assert!(parse(bad).unwrap_err().0.contains("control characters"), "{bad:?}");
    }
}

fn entry(term: &str, component: &str, version: &str, minutes: i64, commit: &str) -> IndexEntry {
    IndexEntry {
        term: term.into(),
        component: component.into(),
        version: v(version),
        commit: Some(commit.into()),
        notes: Some("Admissions form (ADM-142)".into()),
        registered_at: t0() + Duration::minutes(minutes),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

#[test]
fn terms_are_anded_and_the_newest_packages_come_first() {
    let query = parse("ADM-142 form").unwrap();
    let ticket = vec![
        entry("t:ADM-142", "web", "1.4.0", 10, "aaaaaaa1"),
        entry("t:ADM-142", "state", "2.0.0", 20, "bbbbbbb1"),
        entry("t:ADM-142", "web", "1.3.0", 5, "ccccccc1"),
    ];
    let word = vec![
        entry("w:form", "web", "1.3.0", 5, "ccccccc1"),
        entry("w:form", "state", "2.0.0", 20, "bbbbbbb1"),
    ];
    // The ticket leads (more specific than a word); the word is checked for its candidates.
    assert_eq!(query.lead().unwrap().keys, ["t:ADM-142"]);
    assert_eq!(parse("form ADM-142").unwrap().lead().unwrap().keys, ["t:ADM-142"]);
    let wanted = probes(&query, &ticket);
    assert_eq!(wanted.len(), 3);
    assert!(wanted.iter().all(|w| w.term == "w:form"));
    let found = matches(&query, &ticket, &word);
    assert_eq!(
        found
            .iter()
            .map(|e| (e.component.as_str(), e.version.to_string()))
            .collect::<Vec<_>>(),
        [("state", "2.0.0".to_string()), ("web", "1.3.0".to_string())]
    );
}

#[test]
fn a_qualified_version_and_a_long_commit_prefix_keep_only_their_packages() {
    let web = matches(
        &parse("web 1.4.0").unwrap(),
        &[
            entry("v:1.4.0", "state", "1.4.0", 30, "aaaaaaa"),
            entry("v:1.4.0", "web", "1.4.0", 10, "aaaaaaa"),
        ],
        &[],
    );
    assert_eq!(web.len(), 1);
    assert_eq!(web[0].component, "web");
    // Two commits share a 7-digit prefix: the longer prefix typed tells them apart.
    let commit = matches(
        &parse("3f2c1d9ab").unwrap(),
        &[
            entry("c:3f2c1d9", "web", "1.5.0", 30, "3f2c1d9ff"),
            entry("c:3f2c1d9", "web", "1.4.0", 10, "3F2C1D9AB00"),
        ],
        &[],
    );
    // As a second term, the commit prefix is checked on the entry the probe found.
    let query = parse("ADM-142 3f2c1d9ab").unwrap();
    let lead = [entry("t:ADM-142", "web", "1.5.0", 30, "3f2c1d9ff")];
    let probed = probes(&query, &lead);
    assert_eq!(probed[0].term, "c:3f2c1d9");
    assert!(matches(&query, &lead, &probed).is_empty());
    assert_eq!(
        commit.iter().map(|e| e.version.to_string()).collect::<Vec<_>>(),
        ["1.4.0"]
    );
}

#[test]
fn no_terms_or_missing_hits_match_nothing() {
    assert!(matches(&parse("the").unwrap(), &[], &[]).is_empty());
    assert!(probes(&parse("the").unwrap(), &[]).is_empty());
    let lead = [entry("t:ADM-142", "web", "1.0.0", 0, "a")];
    assert!(matches(&parse("form ADM-142").unwrap(), &lead, &[]).is_empty());
}

// --- the answer in words ---

fn config() -> BatonConfig {
    let yaml = include_str!("../../../../infra/config/baton.local.yaml");
    BatonConfig::from_yaml(yaml).unwrap()
}

fn frozen_config() -> BatonConfig {
    let mut config = config();
    let prod = config.environments.iter_mut().find(|e| e.name == "PROD").unwrap();
    prod.freezes = vec![crate::freeze::FreezeConfig {
        reason: "weekend".into(),
        start: None,
        end: None,
        every: Some("Friday 16:00".into()),
        until: Some("Monday 08:00".into()),
    }];
    config
}

fn live(env: &str, number: u64, web: &str, since: DateTime<Utc>) -> EnvironmentNow {
    EnvironmentNow {
        state: EnvironmentState {
            environment: env.into(),
            current: Some(LiveRelease {
                release_id: ReleaseId::from_number(number),
                number,
                components: BTreeMap::from([(
                    "web".to_string(),
                    LiveComponent {
                        package: PackageRef {
                            component: "web".into(),
                            version: v(web),
                            sha256: "s".into(),
                            object_key: "k".into(),
                            s3_version_id: None,
                        },
                        detail: None,
                    },
                )]),
                since,
                approved_by: Some("rm@example.com".into()),
                fence: None,
                execution: None,
            }),
            previous: None,
        },
        deploying: None,
    }
}

fn empty(env: &str) -> EnvironmentNow {
    EnvironmentNow {
        state: EnvironmentState {
            environment: env.into(),
            current: None,
            previous: None,
        },
        deploying: None,
    }
}

fn pending(env: &str, number: u64, asked: DateTime<Utc>) -> PendingSignOff {
    PendingSignOff {
        release_id: ReleaseId::from_number(number),
        number,
        environment: env.into(),
        approvers: vec!["secret-approver@example.com".into()],
        created_at: asked,
        expires_at: asked + Duration::hours(24),
        mail_failure: None,
        hold: None,
        redeploy: None,
        failure: None,
    }
}

fn found(version: &str, release: Option<u64>) -> Found {
    Found {
        entry: entry("t:ADM-142", "web", version, 0, "3f2c1d9"),
        release: release.map(ReleaseId::from_number),
    }
}

fn answer(
    config: &BatonConfig,
    envs: &[EnvironmentNow],
    pending: &[PendingSignOff],
    f: Found,
    now: DateTime<Utc>,
) -> SearchAnswer {
    let around = Surroundings {
        config,
        environments: envs,
        pending,
        now,
    };
    SearchAnswer::build(&parse("ADM-142").unwrap(), &[f], &around)
}

#[test]
fn live_in_test_and_waiting_for_prod_sign_off_during_a_freeze() {
    // Saturday 7 Mar 2026, 11:00 UTC: the weekend freeze of PROD holds until Monday 08:00.
    let now = Utc.with_ymd_and_hms(2026, 3, 7, 11, 0, 0).unwrap();
    let envs = [
        live("TEST", 7, "1.4.0", Utc.with_ymd_and_hms(2026, 3, 7, 10, 42, 0).unwrap()),
        empty("PROD"),
    ];
    let asks = [pending("PROD", 7, Utc.with_ymd_and_hms(2026, 3, 7, 10, 50, 0).unwrap())];
    let a = answer(&frozen_config(), &envs, &asks, found("1.4.0", Some(7)), now);
    let r = &a.results[0];
    assert_eq!(
        r.summary,
        "in TEST since 10:42 with release 7; waiting for PROD sign-off by the approvers since 10:50 (release 7); PROD weekend freeze until Mon 08:00"
    );
    assert_eq!(r.environments[0].state, Whereabouts::Live);
    assert_eq!(r.environments[1].state, Whereabouts::WaitingForSignOff);
    assert_eq!(r.environments[1].freeze.as_ref().unwrap().reason, "weekend");
    assert_eq!(r.url.as_deref(), Some("/releases/rel-7"));
    assert_eq!(a.message, None);
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains("secret-approver"), "{json}");
    assert!(!json.contains("rm@example.com"), "{json}");
}

#[test]
fn a_newer_version_live_carries_the_change() {
    let now = t0() + Duration::hours(3);
    let envs = [live("TEST", 9, "1.5.0", t0()), live("PROD", 6, "1.3.0", t0())];
    let a = answer(&config(), &envs, &[], found("1.4.0", Some(7)), now);
    assert_eq!(
        a.results[0].summary,
        "in TEST, now with 1.5.0 (release 9); not in PROD yet"
    );
    assert_eq!(a.results[0].environments[1].live_version.as_deref(), Some("1.3.0"));
}

#[test]
fn an_older_sign_off_a_redeploy_or_a_hold_is_said_as_such() {
    let now = t0() + Duration::hours(1);
    let envs = [empty("TEST"), empty("PROD")];
    // Release 6 does not carry 1.4.0 (release 7 is the first that does); a redeploy's
    // confirmation is not a sign-off of the change.
    let mut redeploy = pending("PROD", 8, t0());
    redeploy.redeploy = Some(
        serde_json::from_value(serde_json::json!({
            "execution": "redeploy-8-prod-0", "environment": "PROD",
            "requestedBy": "rm@example.com", "reason": "r", "replacing": 9
        }))
        .unwrap(),
    );
    let mut held = pending("TEST", 8, t0());
    held.hold = Some(Hold {
        by: "secret-approver@example.com".into(),
        at: t0(),
        reason: "waiting for QA".into(),
        until: None,
    });
    let a = answer(
        &config(),
        &envs,
        &[pending("TEST", 6, t0()), held, redeploy],
        found("1.4.0", Some(7)),
        now,
    );
    assert_eq!(
        a.results[0].summary,
        "on hold for TEST sign-off (release 8); not in PROD yet"
    );
    assert!(!serde_json::to_string(&a).unwrap().contains("secret-approver"));
}

#[test]
fn a_package_in_no_release_and_one_being_deployed() {
    let now = t0();
    let a = answer(
        &config(),
        &[empty("TEST"), empty("PROD")],
        &[],
        found("1.4.0", None),
        now,
    );
    assert_eq!(
        a.results[0].summary,
        "not in a release yet; not in TEST yet; not in PROD yet"
    );
    assert_eq!(a.results[0].environments[0].state, Whereabouts::NotYet);
    let mut test = empty("TEST");
    test.deploying = Some(ReleaseId::from_number(7));
    let a = answer(&config(), &[test, empty("PROD")], &[], found("1.4.0", Some(7)), now);
    assert_eq!(
        a.results[0].summary,
        "being deployed to TEST with release 7; not in PROD yet"
    );
}

#[test]
fn nothing_found_or_nothing_to_look_for_says_what_to_try() {
    let config = config();
    let around = Surroundings {
        config: &config,
        environments: &[],
        pending: &[],
        now: t0(),
    };
    let none = SearchAnswer::build(&parse("XYZ-9").unwrap(), &[], &around);
    assert_eq!(
        none.message.as_deref(),
        Some(
            "Nothing matches \u{2018}XYZ-9\u{2019}. Try a version such as 1.4.0, a commit, or a ticket id such as ADM-142."
        )
    );
    assert!(none.results.is_empty());
    let empty = SearchAnswer::build(&parse("of").unwrap(), &[], &around);
    assert!(empty.message.unwrap().contains("not indexed"));
}
