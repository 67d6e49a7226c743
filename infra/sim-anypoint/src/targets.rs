//! Deployment targets and runtime versions (T1, T2): the CloudHub 2.0 shared spaces.

use axum::Json;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::http::{ApiError, authorize};
use crate::state::SimState;

/// A shared space: (target id, target name, region code used in public URLs).
pub(crate) struct SharedSpace {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) region_code: &'static str,
}

/// The fixed shared-space targets (§6.1). Region codes are illustrative.
pub(crate) const SHARED_SPACES: &[SharedSpace] = &[
    SharedSpace {
        id: "cloudhub-us-east-1",
        name: "Cloudhub-US-East-1",
        region_code: "usa-e1",
    },
    SharedSpace {
        id: "cloudhub-us-east-2",
        name: "Cloudhub-US-East-2",
        region_code: "usa-e2",
    },
    SharedSpace {
        id: "cloudhub-us-west-1",
        name: "Cloudhub-US-West-1",
        region_code: "usa-w1",
    },
    SharedSpace {
        id: "cloudhub-us-west-2",
        name: "Cloudhub-US-West-2",
        region_code: "usa-w2",
    },
    SharedSpace {
        id: "cloudhub-ca-central-1",
        name: "Cloudhub-CA-Central-1",
        region_code: "can-c1",
    },
    SharedSpace {
        id: "cloudhub-sa-east-1",
        name: "Cloudhub-SA-East-1",
        region_code: "bra-s1",
    },
    SharedSpace {
        id: "cloudhub-ap-southeast-1",
        name: "Cloudhub-AP-Southeast-1",
        region_code: "sgp-s1",
    },
    SharedSpace {
        id: "cloudhub-ap-southeast-2",
        name: "Cloudhub-AP-Southeast-2",
        region_code: "aus-s1",
    },
    SharedSpace {
        id: "cloudhub-ap-northeast-1",
        name: "Cloudhub-AP-Northeast-1",
        region_code: "jpn-e1",
    },
    SharedSpace {
        id: "cloudhub-eu-west-1",
        name: "Cloudhub-EU-West-1",
        region_code: "irl-e1",
    },
    SharedSpace {
        id: "cloudhub-eu-central-1",
        name: "Cloudhub-EU-Central-1",
        region_code: "deu-c1",
    },
    SharedSpace {
        id: "cloudhub-eu-west-2",
        name: "Cloudhub-EU-West-2",
        region_code: "gbr-e1",
    },
];

/// Runtime images offered: (base version, tag, release channel, java). The newest EDGE one is the
/// default when a create omits `runtime`. The platform answers the tag (`4.6.0:40e-java17`) in
/// `runtime.version` and `runtimeVersion` whatever the client sent (anypoint-cli's `describe`
/// splits `runtimeVersion` on `:`).
pub(crate) const RUNTIMES: &[(&str, &str, &str, &str)] = &[
    ("4.9.0", "4.9.0:12e-java17", "EDGE", "17"),
    ("4.8.0", "4.8.0:5e-java17", "EDGE", "17"),
    ("4.6.0", "4.6.0:40e-java17", "LTS", "17"),
    ("4.6.0", "4.6.0:40e-java8", "LTS", "8"),
];

/// The image a requested runtime names: a full tag, or a base version (`4.6.0`) where the java
/// version and release channel, when given, pick among its images. The reference does not say
/// whether a channel or java that no image of that version has is refused; the tolerant reading
/// treats them as preferences (a PATCH that only changes the version keeps the old channel).
pub(crate) fn resolve_runtime(
    version: &str,
    release_channel: Option<&str>,
    java: Option<&str>,
) -> Option<(&'static str, &'static str, &'static str)> {
    let version = version.trim();
    if let Some((_, tag, channel, java)) = RUNTIMES.iter().find(|r| r.1 == version) {
        return Some((tag, channel, java));
    }
    let candidates: Vec<_> = RUNTIMES.iter().filter(|r| r.0 == version).collect();
    let score = |r: &&&(&str, &str, &str, &str)| {
        u8::from(java.is_some_and(|j| j == r.3)) * 2
            + u8::from(release_channel.is_some_and(|c| c.eq_ignore_ascii_case(r.2)))
    };
    // max_by_key keeps the last of equals; reversing keeps the first listed (java 17 before 8).
    candidates
        .iter()
        .rev()
        .max_by_key(score)
        .map(|(_, tag, channel, java)| (*tag, *channel, *java))
}

/// Allowed classic vCores sizes (§6.2). 0.05 appears in a docs example, so it is accepted too.
pub(crate) const V_CORES: &[f64] = &[0.05, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0];

/// Usage-based instance types (`mule.<size>`).
pub(crate) const INSTANCE_TYPES: &[&str] = &[
    "mule.micro",
    "mule.small",
    "mule.medium",
    "mule.large",
    "mule.xlarge",
    "mule.2xlarge",
    "mule.4xlarge",
];

pub(crate) fn shared_space(target_id: &str) -> Option<&'static SharedSpace> {
    SHARED_SPACES.iter().find(|s| s.id == target_id)
}

/// The target item. The `runtimes` list is how a deploy tool can look up image tags; its exact
/// shape on the real platform is unverified [INFERRED].
fn target_json(space: &SharedSpace) -> Value {
    let versions: Vec<Value> = RUNTIMES
        .iter()
        .map(|(base, tag, channel, java)| {
            json!({ "baseVersion": base, "tag": tag, "releaseChannel": channel, "javaVersion": java })
        })
        .collect();
    json!({
        "id": space.id,
        "name": space.name,
        "type": "shared-space",
        "status": "Active",
        "region": space.id.trim_start_matches("cloudhub-"),
        "runtimes": [ { "type": "mule", "versions": versions } ],
    })
}

fn check_org(state: &SimState, headers: &HeaderMap, org_id: &str) -> Result<(), ApiError> {
    let world = state.world();
    authorize(&world, headers)?;
    if org_id != world.config.org_id {
        return Err(ApiError::spring(
            axum::http::StatusCode::FORBIDDEN,
            format!("No access to organization {org_id}"),
        ));
    }
    Ok(())
}

/// `GET /runtimefabric/api/organizations/{orgId}/targets`: a JSON array.
pub(crate) async fn list_targets(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(org_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_org(&state, &headers, &org_id)?;
    Ok(Json(Value::Array(SHARED_SPACES.iter().map(target_json).collect())))
}

/// `GET /runtimefabric/api/organizations/{orgId}/targets/{targetId}`.
pub(crate) async fn get_target(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, target_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_org(&state, &headers, &org_id)?;
    let space = shared_space(&target_id).ok_or_else(|| ApiError::not_found(format!("Target {target_id} not found")))?;
    Ok(Json(target_json(space)))
}

/// `GET /amc/atlas/api/v1/organizations/{orgId}/providers/{provider}/targets?environmentId=…`: the
/// deployment targets of a provider, as `runtime-mgr rtf list` reads them (`id`, `name`,
/// `version`, `isAvailableForDeployments`, `provider`). Only `MC` has targets here (the shared
/// spaces); another provider has none, which is what an org without it sees.
pub(crate) async fn atlas_targets(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, provider)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_org(&state, &headers, &org_id)?;
    if let Some(env_id) = query.get("environmentId")
        && state.world().environment_name(env_id).is_none()
    {
        return Err(ApiError::not_found(format!("Environment {env_id} not found")));
    }
    if !provider.eq_ignore_ascii_case("MC") {
        return Ok(Json(json!([])));
    }
    let targets = SHARED_SPACES
        .iter()
        .map(|space| {
            let mut target = target_json(space);
            target["provider"] = json!("MC");
            target["version"] = json!(null);
            target["isAvailableForDeployments"] = json!(true);
            target
        })
        .collect();
    Ok(Json(Value::Array(targets)))
}

/// `GET …/targets/{targetId}/environments/{envId}/domains`: wildcard domain templates.
pub(crate) async fn target_domains(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((org_id, target_id, env_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_org(&state, &headers, &org_id)?;
    let space = shared_space(&target_id).ok_or_else(|| ApiError::not_found(format!("Target {target_id} not found")))?;
    if state.world().environment_name(&env_id).is_none() {
        return Err(ApiError::not_found(format!("Environment {env_id} not found")));
    }
    Ok(Json(json!([format!("*.sim-1.{}.cloudhub.io", space.region_code)])))
}

#[cfg(test)]
mod tests {
    use super::resolve_runtime;

    #[test]
    fn runtime_versions_resolve_to_the_tags_the_platform_answers() {
        assert_eq!(
            resolve_runtime("4.6.0", None, None),
            Some(("4.6.0:40e-java17", "LTS", "17"))
        );
        assert_eq!(
            resolve_runtime("4.6.0", None, Some("8")),
            Some(("4.6.0:40e-java8", "LTS", "8"))
        );
        assert_eq!(
            resolve_runtime("4.6.0:40e-java8", Some("EDGE"), Some("17")).map(|r| r.0),
            Some("4.6.0:40e-java8")
        );
        // A kept channel of another version is only a preference.
        assert_eq!(
            resolve_runtime("4.9.0", Some("LTS"), Some("17")).map(|r| r.0),
            Some("4.9.0:12e-java17")
        );
        assert_eq!(resolve_runtime("3.9.0", None, None), None);
        assert_eq!(resolve_runtime("4.6", None, None), None);
    }
}
