//! A project's `deployment_configs`: how a PATCH changes them and how answers show them.
//!
//! Found by running `wrangler pages secret put/list/delete` (4.86) against the simulator:
//! - a PATCH merges `deployment_configs` key by key, down to single variables, and a `null`
//!   removes a key: `secret put` sends only the one variable it sets, and `secret delete` sends
//!   `{"NAME": null}` (RFC 7396 JSON merge patch semantics);
//! - a `secret_text` variable is write-only: Cloudflare answers it as `{"type": "secret_text"}`,
//!   never with its `value`, in every answer (project, project list, deployment).

use serde_json::{Map, Value};

use crate::envelope::ApiError;

/// The variable types the Pages API knows.
const VAR_TYPES: [&str; 2] = ["plain_text", "secret_text"];

/// Checks the `env_vars` of every environment in a `deployment_configs` object from a request:
/// each variable is `null` (delete it) or `{"type": "plain_text"|"secret_text", "value": "<text>"}`.
/// A missing `type` is read as `plain_text` (the tolerant reading: older clients sent `{value}` only).
pub(crate) fn validate(configs: &Value) -> Result<(), ApiError> {
    let Some(environments) = configs.as_object() else {
        return match configs {
            Value::Null => Ok(()),
            _ => Err(ApiError::invalid(
                "deployment_configs must be an object with 'production' and/or 'preview'.",
            )),
        };
    };
    for (env, settings) in environments {
        let Some(vars) = settings.get("env_vars").filter(|vars| !vars.is_null()) else {
            continue;
        };
        let Some(vars) = vars.as_object() else {
            return Err(ApiError::invalid(format!(
                "deployment_configs.{env}.env_vars must be an object of variables."
            )));
        };
        for (name, var) in vars {
            if var.is_null() {
                continue;
            }
            let kind = var.get("type").map_or(Some("plain_text"), Value::as_str);
            let valid =
                kind.is_some_and(|kind| VAR_TYPES.contains(&kind)) && var.get("value").is_some_and(Value::is_string);
            if !valid {
                return Err(ApiError::invalid(format!(
                    "deployment_configs.{env}.env_vars.{name} must be {{\"type\": \"plain_text\" or \"secret_text\", \
                     \"value\": \"<text>\"}}, or null to delete it; got {var}."
                )));
            }
        }
    }
    Ok(())
}

/// Applies `patch` to `target` as a JSON merge patch: objects merge key by key, `null` removes a
/// key, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(existing) = target {
        for (key, change) in changes {
            if change.is_null() {
                existing.remove(key);
            } else {
                merge_patch(existing.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// `env_vars` as answers show them: a `secret_text` variable without its value.
pub(crate) fn redacted_vars(vars: &Value) -> Value {
    let Value::Object(vars) = vars else {
        return vars.clone();
    };
    let shown = vars
        .iter()
        .map(|(name, var)| {
            let shown = match var.get("type").and_then(Value::as_str) {
                Some("secret_text") => serde_json::json!({ "type": "secret_text" }),
                _ => var.clone(),
            };
            (name.clone(), shown)
        })
        .collect();
    Value::Object(shown)
}

/// `deployment_configs` as answers show them: every environment's secrets without their values.
pub(crate) fn redacted_configs(configs: &Value) -> Value {
    let mut shown = configs.clone();
    if let Value::Object(environments) = &mut shown {
        for settings in environments.values_mut() {
            if let Some(vars) = settings.get_mut("env_vars") {
                *vars = redacted_vars(vars);
            }
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_merges_nested_objects_and_null_removes() {
        let mut target = json!({ "production": { "env_vars": { "A": { "value": "1" } }, "flags": [1] } });
        merge_patch(
            &mut target,
            &json!({ "production": { "env_vars": { "B": { "value": "2" }, "A": null }, "flags": [2] } }),
        );
        assert_eq!(
            target,
            json!({ "production": { "env_vars": { "B": { "value": "2" } }, "flags": [2] } })
        );
    }

    #[test]
    fn redaction_drops_only_secret_values() {
        let configs = json!({ "preview": { "env_vars": {
            "S": { "type": "secret_text", "value": "x" }, "P": { "type": "plain_text", "value": "y" } } } });
        assert_eq!(
            redacted_configs(&configs),
            json!({ "preview": { "env_vars": {
                "S": { "type": "secret_text" }, "P": { "type": "plain_text", "value": "y" } } } })
        );
    }
}
