//! What a question typed into the search box asks for ([`SearchQuery`]), and which packages
//! answer all of its terms ([`probes`], [`matches`]).

use super::{
    COMMIT_PREFIX, HITS_PER_TERM, IndexEntry, MAX_RESULTS, QUERY_MAX, QUERY_TERMS_MAX, Term, TermKind, is_commit,
    ticket, word,
};
use crate::version::Version;

/// Why a query cannot be searched for: a sentence saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryProblem(pub String);

/// What to keep of one term's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    /// Every entry.
    All,
    /// Entries of this component (`web 1.4.0`, `web@1.4.0`).
    Component(String),
    /// Entries whose commit starts with this, lower-case (a prefix longer than 7 digits).
    CommitStartingWith(String),
}

/// One term of a query: the index keys it reads (their entries together) and what it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// What the reader typed for it, as the answer repeats it.
    pub typed: String,
    /// What it looks for, in words: `ticket ADM-142`, `web 1.4.0`, `commit 3f2c1d9`.
    pub described: String,
    /// The index keys read: one, or two for hex made of letters only (`deadbee` is a commit
    /// prefix or a word).
    pub keys: Vec<String>,
    /// What to keep of their entries.
    pub keep: Keep,
}

impl QueryTerm {
    /// Whether `entry` (read under one of [`Self::keys`]) answers this term.
    pub fn keeps(&self, entry: &IndexEntry) -> bool {
        match &self.keep {
            Keep::All => true,
            Keep::Component(c) => &entry.component == c,
            Keep::CommitStartingWith(prefix) => {
                !entry.term.starts_with("c:")
                    || entry
                        .commit
                        .as_deref()
                        .is_some_and(|c| c.trim().to_ascii_lowercase().starts_with(prefix))
            }
        }
    }
}

/// A query, read: the text as typed (trimmed) and the terms it searches for, ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The query, trimmed.
    pub text: String,
    /// At most [`QUERY_TERMS_MAX`] terms.
    pub terms: Vec<QueryTerm>,
    /// What was typed but not searched for (short or common words, terms past the third).
    pub ignored: Vec<String>,
}

impl SearchQuery {
    /// Reads `q`. `components` are the configured component names, so `web 1.4.0` is one term
    /// (that component's version) rather than two. Empty, too long, or with control characters:
    /// a problem saying what to type instead.
    pub fn parse(q: &str, components: &[&str]) -> Result<SearchQuery, QueryProblem> {
        let text = q.trim();
        if text.is_empty() {
            return Err(QueryProblem(
                "Type what to look for in q: a version such as 1.4.0, a commit, a ticket id such as ADM-142, or a word from the notes.".into(),
            ));
        }
        if text.chars().count() > QUERY_MAX {
            return Err(QueryProblem(format!(
                "The search is {} characters long; it may be at most {QUERY_MAX}. Search for one version, commit, ticket id or a few words.",
                text.chars().count()
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(QueryProblem(
                "The search holds control characters (such as a new line or a tab). Type it on one line.".into(),
            ));
        }
        let tokens: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|t| !t.is_empty())
            // `e-mail`, `form's`: a token that is nothing else is searched for as its words.
            .flat_map(|t| {
                let whole = components.contains(&t)
                    || t.chars().all(char::is_alphanumeric)
                    || read_token(t, components).is_some();
                let parts: Vec<&str> = if whole {
                    vec![t]
                } else {
                    t.split(|c: char| !c.is_alphanumeric())
                        .filter(|p| !p.is_empty())
                        .collect()
                };
                parts
            })
            .collect();
        let mut terms: Vec<QueryTerm> = Vec::new();
        let mut ignored = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let token = tokens[i];
            // `web 1.4.0`: a component name before a version is that component's version.
            let qualified = components
                .contains(&token)
                .then(|| tokens.get(i + 1).and_then(|next| version(next)))
                .flatten();
            let (term, used) = match qualified {
                Some(v) => (Some(version_term(&format!("{token} {v}"), token, &v)), 2),
                None => (read_token(token, components), 1),
            };
            let typed = tokens[i..i + used].join(" ");
            match term {
                Some(term)
                    if terms.len() < QUERY_TERMS_MAX
                        && !terms.iter().any(|t| t.keys == term.keys && t.keep == term.keep) =>
                {
                    terms.push(term)
                }
                Some(term) if terms.iter().any(|t| t.keys == term.keys && t.keep == term.keep) => {}
                _ => ignored.push(typed),
            }
            i += used;
        }
        Ok(SearchQuery {
            text: text.to_string(),
            terms,
            ignored,
        })
    }
}

/// `1.4.0` (or `v1.4.0`) as a version.
fn version(token: &str) -> Option<Version> {
    let bare = token.strip_prefix(['v', 'V']).unwrap_or(token);
    bare.contains('.').then(|| Version::parse(bare).ok()).flatten()
}

fn version_term(typed: &str, component: &str, version: &Version) -> QueryTerm {
    QueryTerm {
        typed: typed.to_string(),
        described: format!("{component} {version}"),
        keys: vec![Term::new(TermKind::Version, version.to_string()).key()],
        keep: Keep::Component(component.to_string()),
    }
}

/// One token of a query as a term, if it can be searched for.
fn read_token(token: &str, components: &[&str]) -> Option<QueryTerm> {
    if let Some((component, v)) = token.split_once(['@', ':', '/'])
        && components.contains(&component)
        && let Some(v) = version(v)
    {
        return Some(version_term(token, component, &v));
    }
    if let Some(v) = version(token) {
        return Some(QueryTerm {
            typed: token.to_string(),
            described: format!("version {v}"),
            keys: vec![Term::new(TermKind::Version, v.to_string()).key()],
            keep: Keep::All,
        });
    }
    if let Some(t) = ticket(token) {
        return Some(QueryTerm {
            typed: token.to_string(),
            described: format!("ticket {t}"),
            keys: vec![Term::new(TermKind::Ticket, t).key()],
            keep: Keep::All,
        });
    }
    if is_commit(token) {
        let lower = token.to_ascii_lowercase();
        let mut keys = vec![Term::new(TermKind::Commit, &lower[..COMMIT_PREFIX]).key()];
        // Hex of letters only may as well be a word (`deadbeef`, `defaced`).
        if let Some(w) = lower
            .bytes()
            .all(|b| b.is_ascii_alphabetic())
            .then(|| word(&lower))
            .flatten()
        {
            keys.push(Term::new(TermKind::Word, w).key());
        }
        return Some(QueryTerm {
            typed: token.to_string(),
            described: format!("commit {lower}"),
            keys,
            keep: Keep::CommitStartingWith(lower),
        });
    }
    word(token).map(|w| QueryTerm {
        typed: token.to_string(),
        described: format!("\u{201c}{w}\u{201d}"),
        keys: vec![Term::new(TermKind::Word, w).key()],
        keep: Keep::All,
    })
}

impl SearchQuery {
    /// The term read first: the most specific (a version, commit or ticket before a word, then
    /// the first typed). Its newest [`HITS_PER_TERM`] entries are the candidates; the other
    /// terms are checked for them by key ([`probes`]), so an AND never misses a package because
    /// a common word lists many newer ones.
    pub fn lead(&self) -> Option<&QueryTerm> {
        self.lead_index().map(|i| &self.terms[i])
    }

    fn lead_index(&self) -> Option<usize> {
        (0..self.terms.len()).min_by_key(|i| self.terms[*i].keys.first().is_some_and(|k| k.starts_with("w:")))
    }

    /// The terms other than the lead.
    fn others(&self) -> impl Iterator<Item = &QueryTerm> {
        let lead = self.lead_index();
        self.terms
            .iter()
            .enumerate()
            .filter(move |(i, _)| Some(*i) != lead)
            .map(|(_, t)| t)
    }
}

/// The lead term's entries that it keeps, one per package, newest first, at most
/// [`HITS_PER_TERM`].
fn candidates(query: &SearchQuery, lead_hits: &[IndexEntry]) -> Vec<IndexEntry> {
    let Some(lead) = query.lead() else {
        return Vec::new();
    };
    let mut kept: Vec<IndexEntry> = Vec::new();
    for entry in lead_hits.iter().filter(|e| lead.keeps(e)) {
        if !kept.iter().any(|k| k.package() == entry.package()) {
            kept.push(entry.clone());
        }
    }
    kept.sort_by(|a, b| {
        b.registered_at
            .cmp(&a.registered_at)
            .then_with(|| a.component.cmp(&b.component))
            .then_with(|| b.version.cmp(&a.version))
    });
    kept.truncate(HITS_PER_TERM);
    kept
}

/// The entries to look up by key to check the other terms for the lead term's candidates: each
/// candidate under each key of each other term (at most 2 × 2 × [`HITS_PER_TERM`], one batch
/// read). An entry's key is its term and package, so a probe finds exactly that entry.
pub fn probes(query: &SearchQuery, lead_hits: &[IndexEntry]) -> Vec<IndexEntry> {
    let candidates = candidates(query, lead_hits);
    query
        .others()
        .flat_map(|term| term.keys.iter())
        .flat_map(|key| {
            candidates.iter().map(move |c| IndexEntry {
                term: key.clone(),
                ..c.clone()
            })
        })
        .collect()
}

/// The packages every term found (an AND), newest first, at most [`MAX_RESULTS`]: the lead
/// term's candidates (from `lead_hits`) that each other term has an entry for among `found`
/// (what the [`probes`] found) and keeps.
pub fn matches(query: &SearchQuery, lead_hits: &[IndexEntry], found: &[IndexEntry]) -> Vec<IndexEntry> {
    let mut matched: Vec<IndexEntry> = candidates(query, lead_hits)
        .into_iter()
        .filter(|candidate| {
            query.others().all(|term| {
                term.keeps(candidate)
                    && found
                        .iter()
                        .any(|f| term.keys.contains(&f.term) && f.package() == candidate.package() && term.keeps(f))
            })
        })
        .collect();
    matched.truncate(MAX_RESULTS);
    matched
}
