//! Shared fixtures: the shipped local configuration and small builders.

use baton_domain::BatonConfig;
use baton_domain::config::ConfigError;

/// The configuration the local stack ships: two components (web, state), TEST then PROD.
pub const LOCAL: &str = include_str!("../../../../infra/config/baton.local.yaml");

/// The shipped local configuration, parsed.
pub fn local() -> BatonConfig {
    BatonConfig::from_yaml(LOCAL).expect("the shipped local configuration is valid")
}

/// `LOCAL` with `from` replaced by `to` (which must occur).
pub fn local_with(from: &str, to: &str) -> String {
    assert!(
        LOCAL.contains(from),
        "the local configuration no longer contains {from:?}"
    );
    LOCAL.replacen(from, to, 1)
}

/// The problems of an invalid document, as (path, message) pairs.
pub fn problems(text: &str) -> Vec<(String, String)> {
    match BatonConfig::from_yaml(text) {
        Ok(_) => Vec::new(),
        Err(ConfigError { problems }) => problems.into_iter().map(|p| (p.path, p.message)).collect(),
    }
}

/// The paths of the problems of a document (empty when it is valid).
pub fn problem_paths(text: &str) -> Vec<String> {
    problems(text).into_iter().map(|(path, _)| path).collect()
}

/// 2026-03-02 09:00 UTC plus `minutes`.
pub fn at(minutes: i64) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

/// Builds a record from its JSON form (robust to optional fields added later).
pub fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("fixture matches the record's JSON form")
}

/// Release `number` holding web and state at `1.0.<number>`, both changed, with `status`
/// (kebab-case, e.g. `awaiting-approval`), created at `created`.
pub fn release(number: u64, status: &str, created: chrono::DateTime<chrono::Utc>) -> baton_domain::Release {
    let v = format!("1.0.{number}");
    from_json(serde_json::json!({
        "id": format!("rel-{number}"),
        "number": number,
        "snapshot": {
            "state": { "component": "state", "version": v, "sha256": format!("s{number}"), "object_key": format!("packages/state/{v}/manifest.yaml") },
            "web": { "component": "web", "version": v, "sha256": format!("w{number}"), "object_key": format!("packages/web/{v}/site.zip") },
        },
        "content_hash": format!("hash-{number}"),
        "changes": [
            { "component": "state", "from": null, "to": v },
            { "component": "web", "from": "0.9.0", "to": v },
        ],
        "notes": [ { "component": "web", "version": v, "notes": "New admissions form", "commit": "abc123" } ],
        "previous": if number > 1 { serde_json::json!(format!("rel-{}", number - 1)) } else { serde_json::Value::Null },
        "triggered_by": format!("packages/web/{v}/site.zip"),
        "created_at": created,
        "status": status,
    }))
}

/// A timeline event of release `number`.
pub fn event(
    number: u64,
    kind: &str,
    env: Option<&str>,
    minutes: i64,
    actor: &str,
    detail: &str,
) -> baton_domain::ports::ReleaseEvent {
    from_json(serde_json::json!({
        "release_id": format!("rel-{number}"),
        "at": at(minutes),
        "kind": kind,
        "actor": actor,
        "environment": env,
        "detail": detail,
    }))
}

/// A deployment of release `number`'s `component` to `env`, started at `minutes`, last changed
/// `took` minutes later, with `status` (kebab-case).
pub fn deployment(
    number: u64,
    env: &str,
    component: &str,
    status: &str,
    minutes: i64,
    took: i64,
) -> baton_domain::deployment::ComponentDeployment {
    let v = format!("1.0.{number}");
    from_json(serde_json::json!({
        "release_id": format!("rel-{number}"),
        "environment": env,
        "component": component,
        "kind": if component == "web" { "web" } else { "state" },
        "package": { "component": component, "version": v, "sha256": "x", "object_key": "k" },
        "status": status,
        "detail": null,
        "error": null,
        "started_at": at(minutes),
        "updated_at": at(minutes + took),
    }))
}

/// The instant `y-mo-d h:mi` UTC.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// The local configuration with PROD frozen every Monday from 08:00 to 12:00 UTC (so `at(0)`,
/// Monday 09:00, is inside the freeze and `at(180)` is its end).
pub fn local_with_monday_freeze() -> BatonConfig {
    let text = local_with(
        "  - name: PROD\n",
        "  - name: PROD\n    freezes:\n      - { reason: change board, every: Monday 08:00, until: Monday 12:00 }\n",
    );
    BatonConfig::from_yaml(&text).expect("a valid configuration with a freeze")
}
