//! `baton status`, `baton releases`, `baton release N`: the status page's answers in a
//! terminal, in the same words (the API's own `summary`, `outcome` and `headline` texts), or
//! its JSON as it came with `--json`.

use std::fmt::Write;

use serde_json::Value;

use crate::cli::{ReleaseArgs, ReleasesArgs};
use crate::error::CliError;
use crate::target::{Answer, Api};

/// GETs `path`, answering a 404 with Baton's own message.
async fn found(api: &Api, path: &str) -> Result<Value, CliError> {
    match api.get(path).await? {
        Answer::Found(json) => Ok(json),
        Answer::NotFound(message) => Err(CliError::NotFound(message)),
    }
}

fn print(json: bool, answer: &Value, words: impl FnOnce(&Value) -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(answer).unwrap_or_else(|_| answer.to_string())
        );
    } else {
        print!("{}", words(answer));
    }
}

/// `baton status`.
pub async fn status(api: &Api, json: bool) -> Result<(), CliError> {
    let answer = found(api, "/api/status").await?;
    print(json, &answer, |a| overview(api, a));
    Ok(())
}

/// `baton releases`.
pub async fn releases(api: &Api, args: &ReleasesArgs) -> Result<(), CliError> {
    let mut path = format!("/api/releases?limit={}", args.limit);
    if let Some(before) = args.before {
        let _ = write!(path, "&before={before}");
    }
    let answer = found(api, &path).await?;
    print(args.read.json, &answer, |a| {
        let mut out = String::new();
        let list = a["releases"].as_array().map(Vec::as_slice).unwrap_or_default();
        if list.is_empty() {
            out.push_str("No release yet. A release is made when every component has a package.\n");
        }
        for release in list {
            out.push_str(&summary_line(release));
        }
        if let Some(next) = a["next_before"].as_u64() {
            let _ = writeln!(out, "\nOlder releases: baton releases --before {next}");
        }
        out
    });
    Ok(())
}

/// `baton release N`.
pub async fn release(api: &Api, args: &ReleaseArgs) -> Result<(), CliError> {
    let id = release_id(&args.release)?;
    let answer = found(api, &format!("/api/releases/{id}")).await?;
    print(args.read.json, &answer, |a| detail(api, a));
    Ok(())
}

/// `12` or `rel-12` as `rel-12`.
pub(crate) fn release_id(text: &str) -> Result<String, CliError> {
    let digits = text.strip_prefix("rel-").unwrap_or(text);
    let number = digits.trim_start_matches('0');
    if !number.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(format!("rel-{number}"))
    } else {
        Err(CliError::Usage(format!(
            "'{text}' is not a release: give its number (12) or id (rel-12)"
        )))
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// An RFC 3339 time as `2026-11-30 10:42 UTC`.
fn time(value: &Value) -> String {
    value
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// `web 1.0.0 -> 1.1.0, state 1.0.0` for a release's changes, or its versions.
fn changes(release: &Value) -> String {
    let changed: Vec<String> = items(&release["changes"])
        .iter()
        .map(|c| match c["from"].as_str() {
            Some(from) => format!("{} {from} -> {}", text(&c["component"]), text(&c["to"])),
            None => format!("{} {} (new)", text(&c["component"]), text(&c["to"])),
        })
        .collect();
    if changed.is_empty() {
        "no version changes".into()
    } else {
        changed.join(", ")
    }
}

fn summary_line(release: &Value) -> String {
    format!(
        "Release {:<4} {}  {}\n             {}\n",
        release["number"],
        time(&release["created_at"]),
        text(&release["outcome"]),
        changes(release)
    )
}

fn overview(api: &Api, view: &Value) -> String {
    let mut out = String::from("Live now\n");
    for env in items(&view["environments"]) {
        let name = text(&env["name"]);
        match env["live"].as_object() {
            Some(_) => {
                let live = &env["live"];
                let _ = write!(
                    out,
                    "  {name}: release {}, live since {}",
                    live["number"],
                    time(&live["since"])
                );
                if let Some(by) = live["approved_by"].as_str() {
                    let _ = write!(out, ", signed off by {by}");
                }
                out.push('\n');
                for c in items(&live["components"]) {
                    let _ = write!(out, "    {} {}", text(&c["component"]), text(&c["version"]));
                    if let Some(url) = c["pages_url"].as_str() {
                        let _ = write!(out, "  {url}");
                    }
                    out.push('\n');
                }
            }
            None => {
                let _ = writeln!(out, "  {name}: nothing deployed yet");
            }
        }
        if let Some(deploying) = env["deploying"].as_str() {
            let _ = writeln!(
                out,
                "    release {} is deploying here now",
                deploying.trim_start_matches("rel-")
            );
        }
    }
    out.push_str("\nOn its way\n");
    let flights = items(&view["in_flight"]);
    if flights.is_empty() {
        out.push_str("  No release is waiting or deploying.\n");
    }
    for f in flights {
        let _ = writeln!(out, "  Release {}: {}", f["number"], text(&f["summary"]));
    }
    out.push_str("\nRecent releases\n");
    for r in items(&view["recent_releases"]) {
        out.push_str("  ");
        out.push_str(&summary_line(r).replace("\n             ", "\n               "));
    }
    let refused = items(&view["rejected_packages"]);
    if !refused.is_empty() {
        out.push_str("\nRefused uploads\n");
        for r in refused {
            let _ = writeln!(
                out,
                "  {}  {}\n    {}",
                time(&r["rejected_at"]),
                text(&r["object_key"]),
                text(&r["reason"])
            );
        }
    }
    let _ = writeln!(out, "\nThe page: {}", api.url("/"));
    out
}

fn detail(api: &Api, d: &Value) -> String {
    let mut out = format!("Release {}: {}\n", d["number"], text(&d["headline"]));
    let _ = writeln!(out, "  created {}; {}", time(&d["created_at"]), changes(d));
    out.push_str("\nWhere it stands\n");
    for env in items(&d["environments"]) {
        let _ = writeln!(out, "  {}: {}", text(&env["environment"]), text(&env["summary"]));
    }
    out.push_str("\nPackages\n");
    for p in items(&d["packages"]) {
        let _ = writeln!(
            out,
            "  {} {}  sha256 {}",
            text(&p["component"]),
            text(&p["version"]),
            text(&p["sha256"])
        );
    }
    let notes = items(&d["notes"]);
    if !notes.is_empty() {
        out.push_str("\nNotes\n");
        for n in notes {
            let _ = write!(out, "  {} {}:", text(&n["component"]), text(&n["version"]));
            match n["notes"].as_str() {
                Some(notes) => {
                    for line in notes.lines() {
                        let _ = write!(out, "\n    {line}");
                    }
                }
                None => out.push_str(" (no notes)"),
            }
            if let Some(commit) = n["commit"].as_str() {
                let _ = write!(out, "\n    commit {commit}");
            }
            out.push('\n');
        }
    }
    out.push_str("\nTimeline\n");
    for e in items(&d["events"]) {
        let env = e["environment"].as_str().map(|e| format!(" [{e}]")).unwrap_or_default();
        let _ = writeln!(out, "  {}{env} {}", time(&e["at"]), text(&e["summary"]));
        if let Some(comment) = e["comment"].as_str() {
            let _ = writeln!(out, "    \"{comment}\"");
        }
    }
    let _ = writeln!(out, "\nThe page: {}", api.url(text(&d["url"])));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_named_by_number_or_id() {
        assert_eq!(release_id("12").unwrap(), "rel-12");
        assert_eq!(release_id("rel-7").unwrap(), "rel-7");
        assert_eq!(release_id("007").unwrap(), "rel-7");
        for bad in ["", "rel-", "twelve", "1/2", "1234567890123", "0", "rel-00"] {
            assert!(matches!(release_id(bad), Err(CliError::Usage(_))), "{bad}");
        }
    }

    #[test]
    fn changes_read_as_from_to() {
        let release = serde_json::json!({"changes": [
            {"component": "web", "from": "1.0.0", "to": "1.1.0"},
            {"component": "state", "from": null, "to": "2.0.0"}
        ]});
        assert_eq!(changes(&release), "web 1.0.0 -> 1.1.0, state 2.0.0 (new)");
        assert_eq!(changes(&serde_json::json!({})), "no version changes");
    }
}
