//! "Is it live?" search (issue 16, item 7): the terms a package is found by, and what a
//! question typed into the search box asks for.
//!
//! At ingest every registered package gets one index entry per term ([`entries`]): its
//! version, its commit, the ticket ids in its notes (`ADM-142`) and the words of its notes. A
//! search reads one short, newest-first list per term it asks about ([`SearchQuery`]), so its
//! cost never depends on how many releases exist. Terms are namespaced by kind (`v:1.4.0`,
//! `c:3f2c1d9`, `t:ADM-142`, `w:admissions`) so a word never collides with a version.
//!
//! What the answer says about a match is in [`answer`].

pub mod answer;
mod query;

pub use query::{Keep, QueryProblem, QueryTerm, SearchQuery, matches, probes};

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::package::{Package, PackageMetadata};
use crate::version::Version;

/// Most terms indexed per package: one DynamoDB BatchWriteItem holds 25 puts, so registering a
/// package costs exactly one more request, however long its notes are. The version, the commit
/// and the ticket ids come first; the words of the notes fill the rest, in the order written
/// (a note's first words are usually its summary).
pub const MAX_TERMS_PER_PACKAGE: usize = 25;
/// Most ticket ids indexed per package: the rest of the terms are left to words.
pub const MAX_TICKETS_PER_PACKAGE: usize = 10;
/// Shortest commit prefix people use (`git log --oneline`): what a commit is indexed under.
pub const COMMIT_PREFIX: usize = 7;
/// Longest commit (a SHA-256 object name): longer hex is not a commit.
pub const COMMIT_MAX: usize = 64;
/// Shortest word indexed or searched for.
pub const WORD_MIN: usize = 3;
/// Longest word indexed or searched for: longer runs of letters are not words people type.
pub const WORD_MAX: usize = 40;
/// Longest query accepted, in characters.
pub const QUERY_MAX: usize = 100;
/// Most terms of a query used (they are ANDed): each costs one read.
pub const QUERY_TERMS_MAX: usize = 3;
/// How many index entries one term's read returns, newest first.
pub const HITS_PER_TERM: usize = 20;
/// How many matching packages an answer describes, newest first.
pub const MAX_RESULTS: usize = 3;
/// How much of a package's notes an index entry keeps, to show beside the answer.
pub const NOTES_EXCERPT: usize = 160;

/// Words too common to find anything by: neither indexed nor searched for.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "into", "this", "that", "these", "those", "are", "was", "were", "has", "have",
    "had", "not", "but", "all", "any", "can", "will", "its", "our", "your", "you", "they", "them", "their", "there",
    "then", "than", "when", "what", "which", "who", "why", "how", "also", "more", "now", "new", "via", "per", "out",
    "off", "onto", "over", "under", "fix", "fixes", "fixed",
];

/// What a term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TermKind {
    /// A package version (`1.4.0`).
    Version,
    /// A commit, by its first [`COMMIT_PREFIX`] hex digits.
    Commit,
    /// A ticket id from the notes (`ADM-142`), upper-case.
    Ticket,
    /// A word of the notes, lower-case.
    Word,
}

impl TermKind {
    fn tag(self) -> &'static str {
        match self {
            TermKind::Version => "v",
            TermKind::Commit => "c",
            TermKind::Ticket => "t",
            TermKind::Word => "w",
        }
    }

    /// The kind in words, as the answer names what was looked for.
    pub fn words(self) -> &'static str {
        match self {
            TermKind::Version => "version",
            TermKind::Commit => "commit",
            TermKind::Ticket => "ticket",
            TermKind::Word => "word",
        }
    }
}

/// One indexed term: its kind and normalised text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    /// What it is.
    pub kind: TermKind,
    /// Its normalised text (`1.4.0`, `3f2c1d9`, `ADM-142`, `admissions`).
    pub text: String,
}

impl Term {
    fn new(kind: TermKind, text: impl Into<String>) -> Term {
        Term {
            kind,
            text: text.into(),
        }
    }

    /// The key the index stores it under: `v:1.4.0`, `c:3f2c1d9`, `t:ADM-142`, `w:admissions`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.tag(), self.text)
    }
}

/// One index entry: a term and the package it finds. Written at ingest, read by search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The term's key ([`Term::key`]).
    pub term: String,
    /// The package's component.
    pub component: String,
    /// Its version.
    pub version: Version,
    /// Its commit, whole (a commit prefix search keeps the entries it starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The start of its notes, to show beside the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// When it was registered: the index lists the newest first.
    pub registered_at: DateTime<Utc>,
}

impl IndexEntry {
    /// The package this entry finds.
    pub fn package(&self) -> (&str, &Version) {
        (&self.component, &self.version)
    }
}

/// The index entries of a registered package: one per term of [`package_terms`], at most
/// [`MAX_TERMS_PER_PACKAGE`]. Deterministic, so writing them again changes nothing.
pub fn entries(package: &Package) -> Vec<IndexEntry> {
    let notes = package
        .metadata
        .notes
        .as_deref()
        .map(|n| n.chars().take(NOTES_EXCERPT).collect::<String>())
        .filter(|n| !n.trim().is_empty());
    package_terms(&package.version, &package.metadata)
        .into_iter()
        .map(|term| IndexEntry {
            term: term.key(),
            component: package.component.clone(),
            version: package.version.clone(),
            commit: package.metadata.commit.clone(),
            notes: notes.clone(),
            registered_at: package.registered_at,
        })
        .collect()
}

/// The distinct terms a package is found by, at most [`MAX_TERMS_PER_PACKAGE`]: its version,
/// its commit (if it is hex of 7 to 64 digits), up to [`MAX_TICKETS_PER_PACKAGE`] ticket ids of
/// its notes, then words of its notes. The component-qualified forms (`web 1.4.0`,
/// `web@1.4.0`) are not indexed apart: a search for them reads the version's entries and keeps
/// that component's. Linear in the notes, whatever their size.
pub fn package_terms(version: &Version, metadata: &PackageMetadata) -> Vec<Term> {
    let mut terms = vec![Term::new(TermKind::Version, version.to_string())];
    if let Some(commit) = metadata.commit.as_deref().and_then(commit_prefix) {
        terms.push(Term::new(TermKind::Commit, commit));
    }
    let notes = metadata.notes.as_deref().unwrap_or_default();
    let mut seen: BTreeSet<Term> = terms.iter().cloned().collect();
    let mut push = |terms: &mut Vec<Term>, term: Term| {
        if terms.len() < MAX_TERMS_PER_PACKAGE && seen.insert(term.clone()) {
            terms.push(term);
        }
    };
    for ticket in tickets(notes).take(MAX_TICKETS_PER_PACKAGE * 4) {
        if terms.iter().filter(|t| t.kind == TermKind::Ticket).count() >= MAX_TICKETS_PER_PACKAGE {
            break;
        }
        push(&mut terms, Term::new(TermKind::Ticket, ticket));
    }
    for word in words(notes) {
        if terms.len() >= MAX_TERMS_PER_PACKAGE {
            break;
        }
        push(&mut terms, Term::new(TermKind::Word, word));
    }
    terms
}

/// The first [`COMMIT_PREFIX`] digits of a commit, lower-case, if it is hex of 7 to 64 digits.
fn commit_prefix(commit: &str) -> Option<String> {
    let commit = commit.trim();
    is_commit(commit).then(|| commit[..COMMIT_PREFIX].to_ascii_lowercase())
}

pub(crate) fn is_commit(text: &str) -> bool {
    (COMMIT_PREFIX..=COMMIT_MAX).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `ADM-142` if `text` is a ticket id (`[A-Z][A-Z0-9]+-[0-9]+`, any case), upper-case.
pub(crate) fn ticket(text: &str) -> Option<String> {
    let (project, number) = text.split_once('-')?;
    let mut chars = project.chars();
    let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let ok = first_is_letter
        && project.len() >= 2
        && project.len() <= 20
        && project.bytes().all(|b| b.is_ascii_alphanumeric())
        && !number.is_empty()
        && number.len() <= 12
        && number.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.to_ascii_uppercase())
}

/// The ticket ids in `notes`, in order (repeats included): a pair of neighbouring parts of a
/// hyphenated run of letters and digits (`ADM-142`, also in `ADM-142-hotfix`).
fn tickets(notes: &str) -> impl Iterator<Item = String> + '_ {
    notes
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|run| run.contains('-'))
        .flat_map(|run| {
            let parts: Vec<&str> = run.split('-').collect();
            parts
                .windows(2)
                .filter_map(|pair| ticket(&format!("{}-{}", pair[0], pair[1])))
                .collect::<Vec<_>>()
        })
}

/// A word as indexed and searched for: lower-case letters and digits, [`WORD_MIN`] to
/// [`WORD_MAX`] characters, not only digits, not a stop word.
pub(crate) fn word(run: &str) -> Option<String> {
    let lower = run.to_lowercase();
    let length = lower.chars().count();
    let ok = (WORD_MIN..=WORD_MAX).contains(&length)
        && lower.chars().all(char::is_alphanumeric)
        && !lower.chars().all(|c| c.is_ascii_digit())
        && !STOP_WORDS.contains(&lower.as_str());
    ok.then_some(lower)
}

/// The words of `notes`, in order (repeats included).
fn words(notes: &str) -> impl Iterator<Item = String> + '_ {
    notes.split(|c: char| !c.is_alphanumeric()).filter_map(word)
}

#[cfg(test)]
mod tests;
