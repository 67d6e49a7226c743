//! `GET /feed.xml` and `GET /feed/{env}.xml`: Atom feeds (RFC 4287) of recent releases and of
//! their progress in one environment, so people can subscribe. An entry's `<updated>` is its
//! release's last change, so readers see it move.
//! Written with maud: element text and attributes are escaped exactly as XML needs
//! (`&`, `<`, `>`, `"`), and every element is closed explicitly so the output is well-formed
//! XML. Summaries are `type="text"`, so readers never interpret them as markup.

use baton_domain::ports::status::ReleaseSummary;
use baton_domain::release::ReleaseNote;
use baton_domain::{Release, ReleaseId};
use chrono::{DateTime, Utc};
use maud::{PreEscaped, html};

/// Characters XML 1.0 forbids (most control characters); metadata could carry them.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && *c != '\u{FFFE}' && *c != '\u{FFFF}'))
        .collect()
}

/// What an entry says: outcome, versions, notes and commits; then, per environment asked so
/// far, the notes of every package since what was live there.
fn entry_text(release: &Release, summary: &ReleaseSummary, since_live: &[(&str, &[ReleaseNote])]) -> String {
    let mut text = format!("{}.", summary.outcome);
    let versions: Vec<String> = summary.versions.iter().map(|(c, v)| format!("{c} {v}")).collect();
    text.push_str(&format!(" Contains {}.", versions.join(", ")));
    for note in &release.notes {
        text.push_str(&format!(
            "\n{} {}: {}",
            note.component,
            note.version,
            note.metadata.notes.as_deref().unwrap_or("no notes")
        ));
        if let Some(commit) = &note.metadata.commit {
            text.push_str(&format!(" (commit {commit})"));
        }
    }
    for (environment, notes) in since_live.iter().filter(|(_, n)| !n.is_empty()) {
        text.push_str(&format!("\nSince what was live in {environment}:"));
        for note in notes.iter() {
            text.push_str(&format!(
                "\n  {} {}: {}",
                note.component,
                note.version,
                note.metadata.notes.as_deref().unwrap_or("no notes")
            ));
        }
    }
    xml_text(&text)
}

/// One entry of a feed: a release, where it stands (in its summary's `outcome`) and when that
/// last changed (its `<updated>`).
pub struct FeedEntry<'a> {
    /// The release.
    pub release: &'a Release,
    /// Its summary; `outcome` is what the entry's title and text say of where it stands.
    pub summary: ReleaseSummary,
    /// When it last changed (in the feed's environment, for an environment's feed).
    pub updated: DateTime<Utc>,
}

/// What a feed is made of.
pub struct Feed<'a> {
    /// Its entries, newest release first.
    pub entries: Vec<FeedEntry<'a>>,
    /// Per release and environment, the notes of every package since what was live there.
    pub environment_notes: &'a [(ReleaseId, String, Vec<ReleaseNote>)],
    /// The environments whose notes an entry tells, in lifecycle order.
    pub environments: &'a [String],
    /// For an environment's feed (`/feed/{env}.xml`): that environment.
    pub environment: Option<&'a str>,
    /// Baton's public URL (no trailing slash).
    pub base_url: &'a str,
    /// Now: the feed's `<updated>` when it has no entry.
    pub now: DateTime<Utc>,
    /// Per release, sentences a subscriber must read beside its outcome (e.g. Baton could not
    /// reach the approvers its sign-off waits on).
    pub warnings: &'a [(ReleaseId, String)],
}

/// The feed of `releases` (newest first), each entry updated when the release was created.
/// `base_url` is Baton's public URL (no trailing slash).
pub fn feed(
    releases: &[Release],
    environment_notes: &[(ReleaseId, String, Vec<ReleaseNote>)],
    environments: &[String],
    base_url: &str,
    now: DateTime<Utc>,
) -> String {
    feed_with(releases, environment_notes, environments, base_url, now, &[])
}

/// [`feed`] with `warnings`: per release, sentences a subscriber must read beside its outcome.
pub fn feed_with(
    releases: &[Release],
    environment_notes: &[(ReleaseId, String, Vec<ReleaseNote>)],
    environments: &[String],
    base_url: &str,
    now: DateTime<Utc>,
    warnings: &[(ReleaseId, String)],
) -> String {
    feed_of(&Feed {
        entries: releases
            .iter()
            .map(|release| FeedEntry {
                release,
                summary: ReleaseSummary::of(release),
                updated: release.created_at,
            })
            .collect(),
        environment_notes,
        environments,
        environment: None,
        base_url,
        now,
        warnings,
    })
}

/// The Atom document of `feed`: its `<updated>` is its latest entry's.
pub fn feed_of(feed: &Feed) -> String {
    let warned = |release: &Release| -> Vec<&str> {
        feed.warnings
            .iter()
            .filter(|(r, _)| *r == release.id)
            .map(|(_, w)| w.as_str())
            .collect()
    };
    // Per release, its environments' notes in lifecycle order.
    let since_live = |release: &Release| -> Vec<(&str, &[ReleaseNote])> {
        feed.environments
            .iter()
            .filter_map(|env| {
                feed.environment_notes
                    .iter()
                    .find(|(r, e, _)| *r == release.id && e == env)
                    .map(|(_, e, n)| (e.as_str(), n.as_slice()))
            })
            .collect()
    };
    let base_url = feed.base_url;
    let updated = feed.entries.iter().map(|e| e.updated).max().unwrap_or(feed.now);
    let (self_url, title, subtitle) = match feed.environment {
        Some(env) => (
            format!("{base_url}/feed/{env}.xml"),
            format!("Baton releases in {env}"),
            format!("Every release's progress in {env}: signed off, deployed, live, replaced."),
        ),
        None => (
            format!("{base_url}/feed.xml"),
            "Baton releases".to_string(),
            "Every release: what it contains and where it stands.".to_string(),
        ),
    };
    let markup = html! {
        (PreEscaped("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"))
        feed xmlns="http://www.w3.org/2005/Atom" {
            title { (title) }
            subtitle { (subtitle) }
            id { (self_url) }
            link rel="self" type="application/atom+xml" href=(self_url) {}
            link rel="alternate" type="text/html" href={ (base_url) "/" } {}
            updated { (updated.to_rfc3339()) }
            author { name { "Baton" } }
            @for entry in &feed.entries {
                @let release = entry.release;
                @let summary = &entry.summary;
                @let url = format!("{base_url}{}", summary.url);
                @let id = match feed.environment {
                    Some(env) => format!("{url}#{env}"),
                    None => url.clone(),
                };
                entry {
                    @let warnings = warned(release);
                    title { "Release " (release.number) ": " (xml_text(&summary.outcome)) @for w in &warnings { " (" (xml_text(w)) ")" } }
                    id { (id) }
                    link rel="alternate" type="text/html" href=(url) {}
                    published { (release.created_at.to_rfc3339()) }
                    updated { (entry.updated.to_rfc3339()) }
                    summary type="text" {
                        @for w in &warnings { (xml_text(w)) "\n" }
                        (entry_text(release, summary, &since_live(release)))
                    }
                }
            }
        }
    };
    markup.into_string()
}
