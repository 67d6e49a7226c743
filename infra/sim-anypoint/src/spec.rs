//! Validation and normalization of deployment bodies (§6.2, §6.3), and the PATCH deep merge.

use serde_json::{Map, Value, json};

use crate::deployment::SECRET_MASK;
use crate::http::{ApiError, lenient_f64};
use crate::state::{AssetKey, World};
use crate::targets::{INSTANCE_TYPES, RUNTIMES, V_CORES, resolve_runtime, shared_space};

const PROPERTIES_SERVICE: &str = "mule.agent.application.properties.service";

/// The facts of a validated spec that the lifecycle needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CheckedSpec {
    pub(crate) target_id: String,
    pub(crate) region_code: &'static str,
    pub(crate) replicas: u32,
    pub(crate) asset: AssetKey,
    pub(crate) started: bool,
    pub(crate) rolling: bool,
    pub(crate) runtime_version: Option<String>,
}

/// Whether `name` follows the CloudHub 2.0 rules (§6.1).
pub(crate) fn valid_name(name: &str) -> bool {
    (3..=42).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !name.ends_with('-')
}

/// Moves a legacy `deploymentSettings.runtimeVersion` into `runtime.version` when the body's
/// `runtime` names no version (anypoint-cli's modify sends `runtimeVersion` next to an empty
/// `runtime: {}`); `runtime.version` wins when both are given.
pub(crate) fn lift_legacy_runtime(body: &mut Map<String, Value>) {
    let Some(settings) = body.get_mut("target").and_then(|t| t.get_mut("deploymentSettings")) else {
        return;
    };
    let Some(settings) = settings.as_object_mut() else {
        return;
    };
    let Some(legacy) = settings.remove("runtimeVersion").filter(|v| !v.is_null()) else {
        return;
    };
    let runtime = settings.entry("runtime").or_insert_with(|| json!({}));
    match runtime.as_object_mut() {
        Some(runtime) if runtime.get("version").is_none_or(Value::is_null) => {
            runtime.insert("version".into(), legacy);
        }
        Some(_) => {}
        None => *runtime = json!({ "version": legacy }),
    }
}

/// Deep-merges a PATCH body into the stored spec: objects merge key by key, anything else
/// replaces, `null` removes. `properties`/`secureProperties` maps replace the old map whole (the
/// docs imply replacement, §6.3); a masked secure value sent back keeps the stored secret.
pub(crate) fn merge(stored: &mut Value, patch: &Value) {
    let (Some(stored_map), Some(patch_map)) = (stored.as_object_mut(), patch.as_object()) else {
        *stored = patch.clone();
        return;
    };
    for (key, value) in patch_map {
        match (key.as_str(), value) {
            (_, Value::Null) => {
                stored_map.remove(key);
            }
            ("secureProperties", Value::Object(new)) => {
                let old = stored_map
                    .get(key)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let merged: Map<String, Value> = new
                    .iter()
                    .map(|(k, v)| match (v.as_str(), old.get(k)) {
                        (Some(SECRET_MASK), Some(previous)) => (k.clone(), previous.clone()),
                        _ => (k.clone(), v.clone()),
                    })
                    .collect();
                stored_map.insert(key.clone(), Value::Object(merged));
            }
            ("properties", _) => {
                stored_map.insert(key.clone(), value.clone());
            }
            (_, Value::Object(_)) if stored_map.get(key).is_some_and(Value::is_object) => {
                if let Some(slot) = stored_map.get_mut(key) {
                    merge(slot, value);
                }
            }
            _ => {
                stored_map.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Validates `spec` (`{"target":…, "application":…}`) and rewrites it into canonical form:
/// counts and sizes become numbers, defaults are filled in, server-computed fields are dropped.
pub(crate) fn check_and_normalize(name: &str, spec: &mut Value, world: &World) -> Result<CheckedSpec, ApiError> {
    let bad = |message: String| Err(ApiError::bad_request(message));
    // A null field is an unset one (anypoint-cli sends `pathRewrite: null`, `enabled: null`):
    // dropping them keeps a spec equal to itself whichever way a client spells "unset".
    drop_nulls(spec);
    let Some(target) = spec.get_mut("target").and_then(Value::as_object_mut) else {
        return bad("target is required".to_string());
    };
    match target.get("provider").and_then(Value::as_str) {
        Some(provider) if provider.eq_ignore_ascii_case("MC") => {
            target.insert("provider".into(), json!("MC"));
        }
        Some(other) => return bad(format!("Invalid target.provider '{other}': only MC is supported")),
        None => return bad("target.provider is required".to_string()),
    }
    let target_id = target
        .get("targetId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(space) = shared_space(&target_id) else {
        return bad(format!(
            "Invalid target.targetId '{target_id}': no such deployment target"
        ));
    };
    let replicas = match target.get("replicas") {
        None | Some(Value::Null) => 1.0,
        Some(value) => match lenient_f64(value) {
            Some(n) => n,
            None => return bad(format!("Invalid target.replicas {value}")),
        },
    };
    if replicas.fract() != 0.0 || !(1.0..=32.0).contains(&replicas) {
        return bad(format!(
            "Invalid target.replicas {replicas}: must be a whole number from 1 to 32"
        ));
    }
    let replicas = replicas as u32;
    target.insert("replicas".into(), json!(replicas));

    let settings = target.entry("deploymentSettings").or_insert_with(|| json!({}));
    let Some(settings) = settings.as_object_mut() else {
        return bad("target.deploymentSettings must be an object".to_string());
    };
    // The stored `runtimeVersion` is the platform's echo of the tag; `runtime.version` says what
    // is wanted (a PATCH may have changed it), so the echo is recomputed below.
    let legacy = settings.remove("runtimeVersion").filter(|v| !v.is_null());
    let runtime = settings.entry("runtime").or_insert_with(|| json!({}));
    if !runtime.is_object() {
        return bad("target.deploymentSettings.runtime must be an object".to_string());
    }
    if runtime.get("version").is_none_or(Value::is_null)
        && let Some(legacy) = legacy
    {
        runtime["version"] = legacy;
    }
    let text = |key: &str| runtime.get(key).and_then(Value::as_str).map(str::to_string);
    let (tag, channel, java) = match text("version") {
        // Omitting the runtime on create picks the latest image (§6.2).
        None if runtime.get("version").is_none_or(Value::is_null) => {
            let (_, tag, channel, java) = RUNTIMES[0];
            (tag, channel, java)
        }
        Some(version) if !version.trim().is_empty() => {
            match resolve_runtime(&version, text("releaseChannel").as_deref(), text("java").as_deref()) {
                Some(found) => found,
                None => {
                    let offered: Vec<&str> = RUNTIMES.iter().map(|r| r.1).collect();
                    return bad(format!(
                        "Invalid target.deploymentSettings.runtime.version '{version}': \
                         use a version or tag this target offers: {offered:?}"
                    ));
                }
            }
        }
        _ => return bad("target.deploymentSettings.runtime.version must be a non-empty string".to_string()),
    };
    *runtime = json!({ "version": tag, "releaseChannel": channel, "java": java });
    settings.insert("runtimeVersion".into(), json!(tag));
    let runtime_version = tag.to_string();
    let strategy = settings
        .get("updateStrategy")
        .and_then(Value::as_str)
        .unwrap_or("rolling")
        .to_ascii_lowercase();
    if strategy != "rolling" && strategy != "recreate" {
        return bad(format!(
            "Invalid updateStrategy '{strategy}': must be rolling or recreate"
        ));
    }
    settings.insert("updateStrategy".into(), json!(strategy));
    let path_rewrite = settings.get("http").and_then(|h| h.pointer("/inbound/pathRewrite"));
    if path_rewrite.is_some_and(|v| !v.is_null()) {
        return bad("pathRewrite is not supported on shared spaces".to_string());
    }
    let instance_type = settings.get("instanceType").and_then(Value::as_str).map(str::to_string);
    if let Some(http) = settings
        .get_mut("http")
        .and_then(|h| h.get_mut("inbound"))
        .and_then(Value::as_object_mut)
    {
        for computed in ["internalUrl", "uniqueId"] {
            http.remove(computed);
        }
        // `publicUrl` holds the client's own endpoints (comma-separated) next to the generated
        // `*.cloudhub.io` one; a GET-modify-PATCH client echoes the generated one back, which is
        // not a setting, so only the client's endpoints are kept.
        let custom: Vec<&str> = http
            .get("publicUrl")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty() && !u.contains("cloudhub.io"))
            .collect();
        let custom = if custom.is_empty() {
            Value::Null
        } else {
            json!(custom.join(","))
        };
        http.insert("publicUrl".into(), custom);
    }

    let Some(application) = spec.get_mut("application").and_then(Value::as_object_mut) else {
        return bad("application is required".to_string());
    };
    for computed in ["status", "objectStoreV2Enabled"] {
        application.remove(computed);
    }
    let Some(reference) = application.get_mut("ref").and_then(Value::as_object_mut) else {
        return bad("application.ref is required".to_string());
    };
    let field = |key: &str| {
        reference
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let (group_id, artifact_id, version) = (field("groupId"), field("artifactId"), field("version"));
    if group_id.is_empty() || artifact_id.is_empty() || version.is_empty() {
        return bad("application.ref needs groupId, artifactId and version".to_string());
    }
    match reference.get("packaging").and_then(Value::as_str) {
        None | Some("jar") => {
            reference.insert("packaging".into(), json!("jar"));
        }
        Some(other) => return bad(format!("Invalid packaging '{other}': only jar is supported")),
    }
    let asset: AssetKey = (group_id, artifact_id, version);
    if world.visible_asset(&asset).is_none() {
        // Real behaviour unverified (§11 q5): a 404 naming the missing asset is the reading chosen.
        return Err(ApiError::not_found(format!(
            "The asset {}:{}:{} was not found in Exchange",
            asset.0, asset.1, asset.2
        )));
    }

    let desired_state = application
        .get("desiredState")
        .and_then(Value::as_str)
        .unwrap_or("STARTED")
        .to_uppercase();
    if desired_state != "STARTED" && desired_state != "STOPPED" {
        return bad(format!(
            "Invalid desiredState '{desired_state}': must be STARTED or STOPPED"
        ));
    }
    application.insert("desiredState".into(), json!(desired_state));

    match (application.get("vCores").filter(|v| !v.is_null()), instance_type) {
        (Some(_), Some(_)) => return bad("instanceType and vCores can't be used in the same deployment".to_string()),
        (Some(value), None) => {
            let size = lenient_f64(value).filter(|v| V_CORES.iter().any(|allowed| (allowed - v).abs() < 1e-9));
            let Some(size) = size else {
                return bad(format!("Invalid vCores value {value}: allowed values are {V_CORES:?}"));
            };
            application.insert("vCores".into(), json!(size));
        }
        (None, Some(instance)) if !INSTANCE_TYPES.contains(&instance.as_str()) => {
            return bad(format!(
                "Invalid instanceType '{instance}' for this pricing model: use one of {INSTANCE_TYPES:?}"
            ));
        }
        (None, Some(_)) => {}
        // Neither given: the smallest classic size (tolerant; the real default depends on the org's pricing).
        (None, None) => {
            application.insert("vCores".into(), json!(0.1));
        }
    }

    let configuration = application.entry("configuration").or_insert_with(|| json!({}));
    let service = configuration
        .as_object_mut()
        .map(|c| c.entry(PROPERTIES_SERVICE).or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut);
    let Some(service) = service else {
        return bad("application.configuration must be an object".to_string());
    };
    service.entry("applicationName").or_insert_with(|| json!(name));
    for map_key in ["properties", "secureProperties"] {
        let entry = service.entry(map_key).or_insert_with(|| json!({}));
        let Some(map) = entry.as_object_mut() else {
            return bad(format!("{map_key} must be an object of strings"));
        };
        for value in map.values_mut() {
            match value {
                Value::String(_) => {}
                Value::Number(_) | Value::Bool(_) => *value = json!(value.to_string()),
                _ => return bad(format!("{map_key} values must be strings")),
            }
        }
    }

    Ok(CheckedSpec {
        target_id,
        region_code: space.region_code,
        replicas,
        asset,
        started: desired_state == "STARTED",
        rolling: strategy == "rolling",
        runtime_version: Some(runtime_version),
    })
}

/// Removes every null member of every object in `value`.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        assert!(valid_name("orders-api"));
        for bad in ["ab", "1orders", "orders-", "orders_api", &"a".repeat(43)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn patch_merges_objects_and_replaces_property_maps() {
        let mut stored = json!({"target": {"replicas": 1, "targetId": "t"},
            "application": {"configuration": {PROPERTIES_SERVICE: {"properties": {"a": "1", "b": "2"},
            "secureProperties": {"s": "secret"}}}}});
        let patch = json!({"target": {"replicas": 2},
            "application": {"configuration": {PROPERTIES_SERVICE: {"properties": {"c": "3"},
            "secureProperties": {"s": SECRET_MASK, "t": "new"}}}}});
        merge(&mut stored, &patch);
        assert_eq!(stored["target"], json!({"replicas": 2, "targetId": "t"}));
        let service = &stored["application"]["configuration"][PROPERTIES_SERVICE];
        assert_eq!(service["properties"], json!({"c": "3"}));
        assert_eq!(service["secureProperties"], json!({"s": "secret", "t": "new"}));
    }
}
