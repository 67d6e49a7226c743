//! `GET /feed.xml`: an Atom feed (RFC 4287) of recent releases, so people can subscribe.
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

/// The feed of `releases` (newest first). `base_url` is Baton's public URL (no trailing slash).
pub fn feed(
    releases: &[Release],
    environment_notes: &[(ReleaseId, String, Vec<ReleaseNote>)],
    environments: &[String],
    base_url: &str,
    now: DateTime<Utc>,
) -> String {
    feed_with(releases, environment_notes, environments, base_url, now, &[])
}

/// [`feed`] with `warnings`: per release, sentences a subscriber must read beside its outcome
/// (e.g. Baton could not reach the approvers its sign-off waits on).
pub fn feed_with(
    releases: &[Release],
    environment_notes: &[(ReleaseId, String, Vec<ReleaseNote>)],
    environments: &[String],
    base_url: &str,
    now: DateTime<Utc>,
    warnings: &[(ReleaseId, String)],
) -> String {
    let warned = |release: &Release| -> Vec<&str> {
        warnings
            .iter()
            .filter(|(r, _)| *r == release.id)
            .map(|(_, w)| w.as_str())
            .collect()
    };
    // Per release, its environments' notes in lifecycle order.
    let since_live = |release: &Release| -> Vec<(&str, &[ReleaseNote])> {
        environments
            .iter()
            .filter_map(|env| {
                environment_notes
                    .iter()
                    .find(|(r, e, _)| *r == release.id && e == env)
                    .map(|(_, e, n)| (e.as_str(), n.as_slice()))
            })
            .collect()
    };
    let updated = releases.first().map_or(now, |r| r.created_at);
    let self_url = format!("{base_url}/feed.xml");
    let markup = html! {
        (PreEscaped("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"))
        feed xmlns="http://www.w3.org/2005/Atom" {
            title { "Baton releases" }
            subtitle { "Every release: what it contains and where it stands." }
            id { (self_url) }
            link rel="self" type="application/atom+xml" href=(self_url) {}
            link rel="alternate" type="text/html" href={ (base_url) "/" } {}
            updated { (updated.to_rfc3339()) }
            author { name { "Baton" } }
            @for release in releases {
                @let summary = ReleaseSummary::of(release);
                @let url = format!("{base_url}{}", summary.url);
                entry {
                    @let warnings = warned(release);
                    title { "Release " (release.number) ": " (summary.outcome) @for w in &warnings { " (" (xml_text(w)) ")" } }
                    id { (url) }
                    link rel="alternate" type="text/html" href=(url) {}
                    published { (release.created_at.to_rfc3339()) }
                    updated { (release.created_at.to_rfc3339()) }
                    summary type="text" {
                        @for w in &warnings { (xml_text(w)) "\n" }
                        (entry_text(release, &summary, &since_live(release)))
                    }
                }
            }
        }
    };
    markup.into_string()
}
