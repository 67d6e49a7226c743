//! Where a change is now, in words and JSON: per environment in lifecycle order, live there
//! (or a newer version is), being deployed, waiting for sign-off, or not there yet, and any
//! freeze in force. Built from the status reads without I/O.
//!
//! Approver addresses never appear (a public status page must not show them): whoever must
//! sign off is "the approvers".

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{IndexEntry, SearchQuery};
use crate::config::BatonConfig;
use crate::local_time::relative;
use crate::ports::status::{EnvironmentNow, PendingSignOff};
use crate::release::ReleaseId;
use crate::version::Version;

/// Who a sign-off waits on, in words: never their addresses.
pub const APPROVERS_WORDS: &str = "the approvers";

/// What is known around the matches: the environments now and their open sign-offs.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    /// The configuration (environments in lifecycle order, freezes, time zone).
    pub config: &'a BatonConfig,
    /// Each environment's state and deployment lease.
    pub environments: &'a [EnvironmentNow],
    /// Open requests in every environment.
    pub pending: &'a [PendingSignOff],
    /// The moment of the answer.
    pub now: DateTime<Utc>,
}

/// A package found, with the first release that carries it (every later release carries it or
/// a newer version of its component), if there is one yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The index entry that found it.
    pub entry: IndexEntry,
    /// The first release holding it.
    pub release: Option<ReleaseId>,
}

/// The answer to a search (`GET /api/search?q=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchAnswer {
    /// The query, trimmed.
    pub query: String,
    /// What was looked for, in words (`ticket ADM-142`, `web 1.4.0`).
    pub searched_for: Vec<String>,
    /// What was typed but not looked for (short or common words, terms past the third).
    pub ignored: Vec<String>,
    /// The packages found, newest first.
    pub results: Vec<SearchResult>,
    /// When nothing matches, or nothing could be looked for: what to try.
    pub message: Option<String>,
}

/// One package found, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchResult {
    /// Component.
    pub component: String,
    /// Version.
    pub version: String,
    /// Its commit.
    pub commit: Option<String>,
    /// The start of its notes.
    pub notes: Option<String>,
    /// When it was registered (UTC).
    pub registered_at: DateTime<Utc>,
    /// The first release that carries it.
    pub release: Option<ReleaseId>,
    /// That release's page.
    pub url: Option<String>,
    /// Where it is, in one line: `in TEST since 10:42 with release 7; waiting for PROD
    /// sign-off by the approvers since 10:50 (release 7); PROD freeze until Mon 08:00`.
    pub summary: String,
    /// Per environment, in lifecycle order.
    pub environments: Vec<EnvironmentAnswer>,
}

/// Where a package is in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Whereabouts {
    /// Live there at this version.
    Live,
    /// A newer version of its component is live there (which carries the change).
    NewerLive,
    /// A release carrying it is being deployed there.
    Deploying,
    /// A release carrying it waits for sign-off there.
    WaitingForSignOff,
    /// That sign-off is on hold.
    OnHold,
    /// Not there yet.
    NotYet,
}

/// A freeze in force in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreezeAnswer {
    /// Why.
    pub reason: String,
    /// When deployments may run again (UTC).
    pub until: DateTime<Utc>,
}

/// One environment of a [`SearchResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentAnswer {
    /// The environment.
    pub environment: String,
    /// Where the package is there.
    pub state: Whereabouts,
    /// The release concerned: live there, being deployed, or asking.
    pub release: Option<ReleaseId>,
    /// Its number.
    pub number: Option<u64>,
    /// The component's version live there, if any.
    pub live_version: Option<String>,
    /// Since when: the environment's live state began, or the sign-off was asked (UTC).
    pub since: Option<DateTime<Utc>>,
    /// A freeze in force there, when the package is not live there.
    pub freeze: Option<FreezeAnswer>,
    /// This environment in words.
    pub words: String,
}

/// `Nothing matches 'x'. Try …`.
pub fn nothing_matches(query: &str) -> String {
    format!(
        "Nothing matches \u{2018}{query}\u{2019}. Try a version such as 1.4.0, a commit, or a ticket id such as ADM-142."
    )
}

fn release_number(id: &ReleaseId) -> Option<u64> {
    id.number_text().parse().ok()
}

impl SearchAnswer {
    /// The answer to `query`: `found` are the packages every term matched, newest first.
    pub fn build(query: &SearchQuery, found: &[Found], around: &Surroundings) -> SearchAnswer {
        let message = if query.terms.is_empty() {
            Some(format!(
                "Nothing to look for in \u{2018}{}\u{2019}: words shorter than 3 letters and common words are not indexed. Try a version such as 1.4.0, a commit, or a ticket id such as ADM-142.",
                query.text
            ))
        } else if found.is_empty() {
            Some(nothing_matches(&query.text))
        } else {
            None
        };
        SearchAnswer {
            query: query.text.clone(),
            searched_for: query.terms.iter().map(|t| t.described.clone()).collect(),
            ignored: query.ignored.clone(),
            results: found.iter().map(|f| SearchResult::build(f, around)).collect(),
            message,
        }
    }
}

impl SearchResult {
    fn build(found: &Found, around: &Surroundings) -> SearchResult {
        let entry = &found.entry;
        let first = found.release.as_ref().and_then(release_number);
        let environments: Vec<EnvironmentAnswer> = around
            .config
            .environment_names()
            .into_iter()
            .map(|env| environment_answer(env, &entry.component, &entry.version, first, around))
            .collect();
        let mut parts: Vec<String> = Vec::new();
        if found.release.is_none() && environments.iter().all(|e| e.state == Whereabouts::NotYet) {
            parts.push("not in a release yet".to_string());
        }
        parts.extend(environments.iter().map(|e| e.words.clone()));
        SearchResult {
            component: entry.component.clone(),
            version: entry.version.to_string(),
            commit: entry.commit.clone(),
            notes: entry.notes.clone(),
            registered_at: entry.registered_at,
            url: found.release.as_ref().map(|r| format!("/releases/{r}")),
            release: found.release.clone(),
            summary: parts.join("; "),
            environments,
        }
    }
}

/// Where `component` at `version` is in `environment`; `first` is the number of the first
/// release carrying it.
fn environment_answer(
    environment: &str,
    component: &str,
    version: &Version,
    first: Option<u64>,
    around: &Surroundings,
) -> EnvironmentAnswer {
    let zone = around.config.zone();
    let when = |at: DateTime<Utc>| relative(at, around.now, zone);
    let now = around.environments.iter().find(|e| e.state.environment == environment);
    let current = now.and_then(|e| e.state.current.as_ref());
    let live = now.and_then(|e| e.state.live(component));
    let mut answer = EnvironmentAnswer {
        environment: environment.to_string(),
        state: Whereabouts::NotYet,
        release: None,
        number: None,
        live_version: live.map(|l| l.package.version.to_string()),
        since: None,
        freeze: None,
        words: format!("not in {environment} yet"),
    };
    let carries = |number: u64| first.is_some_and(|f| number >= f);
    if let (Some(live), Some(current)) = (live, current)
        && live.package.version >= *version
    {
        answer.release = Some(current.release_id.clone());
        answer.number = Some(current.number);
        if live.package.version == *version {
            answer.state = Whereabouts::Live;
            answer.since = Some(current.since);
            answer.words = format!(
                "in {environment} since {} with release {}",
                when(current.since),
                current.number
            );
        } else {
            answer.state = Whereabouts::NewerLive;
            answer.words = format!(
                "in {environment}, now with {} (release {})",
                live.package.version, current.number
            );
        }
        return answer;
    }
    if let Some(deploying) = now
        .and_then(|e| e.deploying.as_ref())
        .filter(|id| release_number(id).is_some_and(carries))
    {
        answer.state = Whereabouts::Deploying;
        answer.number = release_number(deploying);
        answer.release = Some(deploying.clone());
        answer.words = format!(
            "being deployed to {environment} with release {}",
            deploying.number_text()
        );
    } else if let Some(asking) = around
        .pending
        .iter()
        .filter(|p| p.environment == environment && p.redeploy.is_none() && p.failure.is_none() && carries(p.number))
        .max_by_key(|p| p.number)
    {
        answer.release = Some(asking.release_id.clone());
        answer.number = Some(asking.number);
        answer.since = Some(asking.created_at);
        if asking.hold.as_ref().is_some_and(|h| h.in_force(around.now)) {
            answer.state = Whereabouts::OnHold;
            answer.words = format!("on hold for {environment} sign-off (release {})", asking.number);
        } else {
            answer.state = Whereabouts::WaitingForSignOff;
            answer.words = format!(
                "waiting for {environment} sign-off by {APPROVERS_WORDS} since {} (release {})",
                when(asking.created_at),
                asking.number
            );
        }
    }
    if let Some(freeze) = around
        .config
        .environment(environment)
        .and_then(|e| e.freeze_at(zone, around.now))
    {
        answer.words = format!(
            "{}; {environment} {} freeze until {}",
            answer.words,
            freeze.reason,
            when(freeze.ends_at)
        );
        answer.freeze = Some(FreezeAnswer {
            reason: freeze.reason,
            until: freeze.ends_at,
        });
    }
    answer
}
