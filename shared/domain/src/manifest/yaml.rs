//! Reading Baton's YAML documents (`baton.yaml`, state manifests) with serde-saphyr.
//!
//! serde_yaml is archived; serde-saphyr is maintained, never panics on input, and budgets what a
//! document may make its parser do. Manifests come from CI, so they get more: [`screen`] walks the
//! parser's event stream before anything is deserialized and refuses anchors, aliases and tags,
//! which is where a "billion laughs" document would start expanding.

use serde::de::DeserializeOwned;
use serde_saphyr::granit_parser::{Event, Parser};

/// Why a document was not read: the field it is about (`components[1].kind`), when there is
/// one, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// The field's path, serde_yaml's way: `applications[0].asset`; `None` for the document.
    pub path: Option<String>,
    /// What is wrong, with the line and column when the parser knows them.
    pub message: String,
}

/// What [`screen`] refuses, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Screened {
    /// Not YAML at all (a syntax error), as the parser words it.
    Syntax(String),
    /// An anchor, alias or tag: what it is, and its line (1-based).
    Refused {
        /// `an anchor (&name)`, `an alias (*name)` or `a tag (!name)`.
        what: &'static str,
        /// Where.
        line: usize,
    },
}

/// Walks the document's events and stops at the first anchor, alias or tag. The parser only
/// records an anchor's id here; nothing is copied or expanded, so a document of any shape costs
/// one pass over its text.
pub(crate) fn screen(text: &str) -> Result<(), Screened> {
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| Screened::Syntax(e.to_string()))?;
        let what = match event {
            Event::Alias(_) | Event::UnresolvedAlias(_) => Some("an alias (*name)"),
            Event::Anchor(..) => Some("an anchor (&name)"),
            Event::Scalar(_, _, anchor, tag)
            | Event::SequenceStart(_, anchor, tag)
            | Event::MappingStart(_, anchor, tag) => {
                if anchor != 0 {
                    Some("an anchor (&name)")
                } else if tag.is_some() {
                    Some("a tag (!name)")
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(what) = what {
            return Err(Screened::Refused {
                what,
                line: span.start.line(),
            });
        }
    }
    Ok(())
}

/// What any of Baton's documents may make the parser do. A real `baton.yaml` or manifest is a
/// few hundred events with a handful of anchors; serde-saphyr's defaults (a million events,
/// 50,000 aliases) would let a hostile document keep a function busy for seconds first.
fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 100_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_recorded_anchor_events = 10_000;
    budget
}

/// Deserializes one document into `T`, naming the field of the first error. The [`budget`]
/// still holds for documents [`screen`] did not see, such as `baton.yaml`.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget());
    // Errors are read by people in one line (a rejection, a log): no source snippet.
    options.with_snippet = false;
    let mut path = None;
    let parsed = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        let mut track = serde_path_to_error::Track::new();
        let result = T::deserialize(serde_path_to_error::Deserializer::new(de, &mut track));
        if result.is_err() {
            path = Some(track.path());
        }
        result
    });
    parsed.map_err(|e| {
        // An unknown field is an error of the mapping that holds it, as serde_yaml said.
        let unknown_field = matches!(e.without_snippet(), serde_saphyr::Error::SerdeUnknownField { .. });
        YamlError {
            path: path.and_then(|p| path_text(&p, unknown_field)),
            message: one_line(&e.to_string()),
        }
    })
}

/// `components[1].kind`; without its last segment when `parent`; `None` for the document.
fn path_text(path: &serde_path_to_error::Path, parent: bool) -> Option<String> {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let shown = if parent {
        &segments[..segments.len().saturating_sub(1)]
    } else {
        &segments[..]
    };
    let mut text = String::new();
    for segment in shown {
        match segment {
            Segment::Seq { index } => text.push_str(&format!("[{index}]")),
            other => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(&other.to_string());
            }
        }
    }
    (!text.is_empty()).then_some(text)
}

/// The message on one line: the parser's may span several.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_aliases_and_tags_are_refused_with_their_line() {
        let cases = [
            ("a: &x 1\nb: 2\n", "an anchor (&name)", 1),
            ("a: 1\nb: &x [1, 2]\nc: *x\n", "an anchor (&name)", 2),
            ("a: 1\nb: !!str 2\n", "a tag (!name)", 2),
            ("a: 1\n\nb: !custom {x: 1}\n", "a tag (!name)", 3),
        ];
        for (text, expected, line) in cases {
            assert_eq!(screen(text), Err(Screened::Refused { what: expected, line }), "{text}");
        }
        assert_eq!(screen("a: 1\nb: [x, y]\nc: {d: e}\n"), Ok(()));
        assert!(matches!(screen("{not yaml"), Err(Screened::Syntax(_))));
    }

    #[test]
    fn the_budget_is_tighter_than_the_parser_s_own() {
        // n anchors each used once: serde-saphyr's defaults (50,000 of each, and a ratio of
        // aliases to anchors) take 1,500; Baton's budget stops at 1,000.
        let document = |n: usize| {
            let anchors: String = (0..n).map(|i| format!("a{i}: &a{i} {i}\n")).collect();
            let aliases: Vec<String> = (0..n).map(|i| format!("*a{i}")).collect();
            format!("{anchors}b: [{}]\n", aliases.join(","))
        };
        let err = from_str::<serde_json::Value>(&document(1_500)).unwrap_err();
        assert!(err.message.contains("budget breached"), "{err:?}");
        assert!(from_str::<serde_json::Value>(&document(20)).is_ok());
    }

    #[test]
    fn a_billion_laughs_is_refused_at_its_first_anchor() {
        let mut text =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            text.push_str(&format!(
                "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        assert_eq!(
            screen(&text),
            Err(Screened::Refused {
                what: "an anchor (&name)",
                line: 1
            })
        );
        // Unscreened (baton.yaml), the crate's own budget stops it before it expands.
        let err = from_str::<serde_json::Value>(&text).unwrap_err();
        assert!(!err.message.is_empty());
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        size: u32,
    }

    #[test]
    fn errors_name_the_field_as_serde_yaml_did() {
        let err = from_str::<Doc>("items:\n  - name: a\n    size: 1\n  - name: b\n").unwrap_err();
        assert_eq!(err.path.as_deref(), Some("items[1]"), "{err:?}");
        assert!(err.message.contains("missing field `size`"), "{err:?}");
        let err = from_str::<Doc>("items:\n  - name: a\n    size: big\n").unwrap_err();
        assert_eq!(err.path.as_deref(), Some("items[0].size"), "{err:?}");
        let err = from_str::<Doc>("items: []\ncolour: blue\n").unwrap_err();
        assert_eq!(err.path, None, "{err:?}");
        assert!(err.message.contains("unknown field `colour`"), "{err:?}");
        let err = from_str::<Doc>("items:\n  - {name: a, size: 1, colour: blue}\n").unwrap_err();
        assert_eq!(err.path.as_deref(), Some("items[0]"), "{err:?}");
    }
}
