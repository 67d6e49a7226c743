//! `_headers` and `_redirects`: parsing (with the Pages limits) and URL pattern matching.
//!
//! Patterns support Pages' `*` splat (any characters, `:splat` in the target) and `:name` placeholders
//! (one path segment). `_headers` blocks are a URL line followed by indented `Name: value` lines, and
//! `! Name` to detach a header; `_redirects` lines are `from to [status]`.

use std::collections::BTreeMap;

/// At most this many `_headers` rules are honoured.
const MAX_HEADER_RULES: usize = 100;
/// At most this many `_redirects` rules (2 000 static + 100 dynamic) are honoured.
const MAX_REDIRECT_RULES: usize = 2_100;
/// The longest `_redirects` line, and the longest `_headers` line.
const MAX_REDIRECT_LINE: usize = 1_000;
const MAX_HEADER_LINE: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Splat,
    Placeholder(String),
}

/// A URL path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    pub(crate) fn parse(text: &str) -> Pattern {
        let mut tokens = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let at_segment_start = i > 0 && chars[i - 1] == '/';
            if c == '*' || (c == ':' && at_segment_start && chars.get(i + 1).is_some_and(|n| is_name_char(*n))) {
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                if c == '*' {
                    tokens.push(Token::Splat);
                    i += 1;
                } else {
                    let name: String = chars[i + 1..].iter().take_while(|n| is_name_char(**n)).collect();
                    i += 1 + name.chars().count();
                    tokens.push(Token::Placeholder(name));
                }
                continue;
            }
            literal.push(c);
            i += 1;
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Pattern { tokens }
    }

    /// The captures (`splat` and placeholder names) when `path` matches.
    pub(crate) fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let mut captures = BTreeMap::new();
        match_tokens(&self.tokens, path, &mut captures).then_some(captures)
    }

    fn is_static(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Literal(_)))
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn match_tokens(tokens: &[Token], path: &str, captures: &mut BTreeMap<String, String>) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return path.is_empty();
    };
    match first {
        Token::Literal(literal) => path
            .strip_prefix(literal.as_str())
            .is_some_and(|remaining| match_tokens(rest, remaining, captures)),
        Token::Splat | Token::Placeholder(_) => {
            let limit = match first {
                Token::Placeholder(_) => path.find('/').unwrap_or(path.len()),
                _ => path.len(),
            };
            let minimum = usize::from(matches!(first, Token::Placeholder(_)));
            // Longest match first, as Pages' splat is greedy.
            for end in (minimum..=limit).rev().filter(|end| path.is_char_boundary(*end)) {
                if match_tokens(rest, &path[end..], captures) {
                    let name = match first {
                        Token::Placeholder(name) => name.clone(),
                        _ => "splat".to_string(),
                    };
                    captures.insert(name, path[..end].to_string());
                    return true;
                }
            }
            false
        }
    }
}

/// One `_headers` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderRule {
    pattern: Pattern,
    set: Vec<(String, String)>,
    detach: Vec<String>,
}

/// One `_redirects` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedirectRule {
    from: Pattern,
    to: String,
    /// 301, 302, 303, 307, 308; 200 rewrites, 404 serves `to` as not found.
    pub status: u16,
}

/// The URL path of a pattern line: absolute URLs (`https://:project.pages.dev/*`) keep only their path.
fn pattern_path(text: &str) -> Option<&str> {
    match text.split_once("://") {
        Some((_, rest)) => Some(rest.find('/').map_or("/", |slash| &rest[slash..])),
        None => text.starts_with('/').then_some(text),
    }
}

/// Parses `_headers`; problems become warnings (Pages skips bad lines rather than failing the deploy).
pub(crate) fn parse_headers(text: &str) -> (Vec<HeaderRule>, Vec<String>) {
    let mut rules: Vec<HeaderRule> = Vec::new();
    let mut warnings = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.len() > MAX_HEADER_LINE {
            warnings.push(format!(
                "_headers line {number} is longer than {MAX_HEADER_LINE} characters; ignored"
            ));
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            let Some(path) = pattern_path(trimmed) else {
                warnings.push(format!(
                    "_headers line {number}: '{trimmed}' is not a URL pattern; ignored"
                ));
                continue;
            };
            rules.push(HeaderRule {
                pattern: Pattern::parse(path),
                set: Vec::new(),
                detach: Vec::new(),
            });
            continue;
        }
        let Some(rule) = rules.last_mut() else {
            warnings.push(format!(
                "_headers line {number}: a header before any URL pattern; ignored"
            ));
            continue;
        };
        if let Some(name) = trimmed.strip_prefix('!') {
            rule.detach.push(name.trim().to_ascii_lowercase());
        } else if let Some((name, value)) = trimmed.split_once(':').filter(|(n, _)| is_header_name(n.trim())) {
            rule.set
                .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        } else {
            warnings.push(format!(
                "_headers line {number}: '{trimmed}' is not 'Name: value'; ignored"
            ));
        }
    }
    if rules.len() > MAX_HEADER_RULES {
        warnings.push(format!(
            "_headers has {} rules; only the first {MAX_HEADER_RULES} apply",
            rules.len()
        ));
        rules.truncate(MAX_HEADER_RULES);
    }
    (rules, warnings)
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses `_redirects`; problems become warnings.
pub(crate) fn parse_redirects(text: &str) -> (Vec<RedirectRule>, Vec<String>) {
    let mut rules = Vec::new();
    let mut warnings = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut warn = |why: &str| warnings.push(format!("_redirects line {number}: {why}; ignored"));
        if trimmed.len() > MAX_REDIRECT_LINE {
            warn("longer than 1000 characters");
            continue;
        }
        let parts: Vec<&str> = trimmed.split_whitespace().collect();
        let (from, to, status) = match parts.as_slice() {
            [from, to] => (*from, *to, Some(302)),
            [from, to, status] => (*from, *to, status.parse::<u16>().ok()),
            _ => {
                warn("expected 'from to [status]'");
                continue;
            }
        };
        let Some(status) = status.filter(|s| [200, 301, 302, 303, 307, 308, 404].contains(s)) else {
            warn("the status must be one of 200, 301, 302, 303, 307, 308, 404");
            continue;
        };
        if !from.starts_with('/') {
            warn("'from' must be a path starting with '/' (domain-level redirects need a custom domain)");
            continue;
        }
        rules.push(RedirectRule {
            from: Pattern::parse(from),
            to: to.to_string(),
            status,
        });
    }
    if rules.len() > MAX_REDIRECT_RULES {
        warnings.push(format!(
            "_redirects has {} rules; only the first {MAX_REDIRECT_RULES} apply",
            rules.len()
        ));
        rules.truncate(MAX_REDIRECT_RULES);
    }
    (rules, warnings)
}

/// The first redirect that matches `path`, with its target filled in (`:splat`, `:name`). A static rule
/// also matches the path with or without a trailing slash.
pub(crate) fn find_redirect<'a>(rules: &'a [RedirectRule], path: &str) -> Option<(&'a RedirectRule, String)> {
    let toggled = match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => format!("{path}/"),
    };
    rules.iter().find_map(|rule| {
        let captures = rule
            .from
            .matches(path)
            .or_else(|| rule.from.is_static().then(|| rule.from.matches(&toggled)).flatten())?;
        let mut names: Vec<&String> = captures.keys().collect();
        names.sort_by_key(|name| std::cmp::Reverse(name.len()));
        let mut target = rule.to.clone();
        for name in names {
            target = target.replace(&format!(":{name}"), &captures[name]);
        }
        Some((rule, target))
    })
}

/// The headers `_headers` adds for `path`, after its detaches: every matching rule applies, in order; a
/// header set by several rules is joined with `, `.
pub(crate) fn headers_for(rules: &[HeaderRule], path: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut set: Vec<(String, String)> = Vec::new();
    let mut detach = Vec::new();
    for rule in rules {
        let Some(captures) = rule.pattern.matches(path) else {
            continue;
        };
        for (name, value) in &rule.set {
            let mut value = value.clone();
            for (capture, captured) in &captures {
                value = value.replace(&format!(":{capture}"), captured);
            }
            match set.iter_mut().find(|(existing, _)| existing == name) {
                Some((_, existing)) => {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
                None => set.push((name.clone(), value)),
            }
        }
        detach.extend(rule.detach.iter().cloned());
    }
    (set, detach)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_splats_and_placeholders() {
        let all = Pattern::parse("/*");
        assert!(all.matches("/").is_some() && all.matches("/a/b").is_some());
        let blog = Pattern::parse("/blog/:year/:slug");
        let captures = blog.matches("/blog/2026/hello").unwrap();
        assert_eq!(captures["year"], "2026");
        assert!(blog.matches("/blog/2026/a/b").is_none());
        assert!(Pattern::parse("/exact").matches("/exact/more").is_none());
    }

    #[test]
    fn redirects_fill_in_their_targets() {
        let (rules, warnings) =
            parse_redirects("# c\n/old /new 301\n/docs/* /guide/:splat\n/bad\n/x /y 299\n/spa/* /index.html 200\n");
        assert_eq!(rules.len(), 3);
        assert_eq!(warnings.len(), 2);
        let (rule, to) = find_redirect(&rules, "/old/").unwrap();
        assert_eq!((rule.status, to.as_str()), (301, "/new"));
        let (rule, to) = find_redirect(&rules, "/docs/a/b").unwrap();
        assert_eq!((rule.status, to.as_str()), (302, "/guide/a/b"));
        assert_eq!(find_redirect(&rules, "/spa/x").map(|(r, _)| r.status), Some(200));
        assert!(find_redirect(&rules, "/none").is_none());
    }

    #[test]
    fn headers_merge_and_detach() {
        let text = "/*\n  X-Frame-Options: DENY\n  X-Robots-Tag: noindex\nhttps://:project.pages.dev/assets/*\n  Cache-Control: max-age=31536000\n  X-Robots-Tag: nofollow\n  ! X-Frame-Options\n";
        let (rules, warnings) = parse_headers(text);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (set, detach) = headers_for(&rules, "/assets/app.js");
        assert!(set.contains(&("x-robots-tag".into(), "noindex, nofollow".into())));
        assert!(set.contains(&("cache-control".into(), "max-age=31536000".into())));
        assert_eq!(detach, vec!["x-frame-options".to_string()]);
        let (set, _) = headers_for(&rules, "/");
        assert_eq!(set.len(), 2);
    }
}
