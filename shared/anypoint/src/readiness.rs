//! The §9 readiness rule: is a deployment done, still going, or failed? Pure: no I/O.

use crate::status::{ApplicationStatus, DeploymentDetail, DeploymentStatus, ReplicaState};

/// Where a deployment stands relative to what we asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Everything asked for is running: status APPLIED, application RUNNING, every replica
    /// STARTED at the desired spec version, and the ref at the wanted artifact version.
    Applied,
    /// Not there yet; `waiting_for` lists the unmet conditions (for logs).
    InProgress {
        /// Human-readable list of unmet conditions.
        waiting_for: String,
    },
    /// It will not get there: status FAILED (with the replicas' reasons), deleted, or superseded.
    Failed {
        /// Why, naming the replicas' states and reasons.
        reason: String,
    },
}

/// The readiness of `detail` for the artifact version `desired_asset_version`.
pub fn readiness(detail: &DeploymentDetail, desired_asset_version: &str) -> Readiness {
    readiness_for_spec(detail, desired_asset_version, None)
}

/// Like [`readiness`], also requiring the deployment to be at the spec version `expected_spec`
/// (the `desiredVersion` our POST/PATCH answered with), which rules out reading a stale APPLIED
/// left over from before a PATCH, and reports a redeploy by someone else as a failure.
pub fn readiness_for_spec(
    detail: &DeploymentDetail,
    desired_asset_version: &str,
    expected_spec: Option<&str>,
) -> Readiness {
    if let (Some(expected), Some(desired)) = (expected_spec, detail.desired_version.as_deref())
        && expected != desired
    {
        return Readiness::Failed {
            reason: format!(
                "superseded: the deployment now wants spec {desired}, not {expected} (redeployed by someone else)"
            ),
        };
    }
    // Substring match so that CH1/hybrid words such as DEPLOYMENT_FAILED also count (§6.4).
    if detail.status == DeploymentStatus::Failed || detail.status.as_str().to_ascii_uppercase().contains("FAIL") {
        return Readiness::Failed {
            reason: failure_reason(detail),
        };
    }
    if detail.status == DeploymentStatus::Deleted {
        return Readiness::Failed {
            reason: "the deployment was deleted".to_string(),
        };
    }

    let mut unmet: Vec<String> = Vec::new();
    // MMP counts the legacy STARTED as success too; accepted as the tolerant reading.
    if !matches!(detail.status, DeploymentStatus::Applied | DeploymentStatus::Started) {
        unmet.push(format!("status is {}", word(detail.status.as_str())));
    }
    match detail.application.reference.as_ref() {
        Some(reference) if reference.version == desired_asset_version => {}
        Some(reference) => unmet.push(format!(
            "ref version is {}, want {desired_asset_version}",
            reference.version
        )),
        None => unmet.push("application.ref is missing".to_string()),
    }
    let desired_spec = detail.desired_version.as_deref();
    if let (Some(desired), Some(last)) = (desired_spec, detail.last_successful_version.as_deref())
        && desired != last
    {
        unmet.push("the desired spec is not the last successful one yet".to_string());
    } else if desired_spec.is_some() && detail.last_successful_version.is_none() {
        unmet.push("no spec has succeeded yet".to_string());
    }

    let stopping = detail
        .application
        .desired_state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("STOPPED"));
    if stopping {
        if detail.application.status != ApplicationStatus::NotRunning {
            unmet.push(format!(
                "application is {}, want NOT_RUNNING",
                word(detail.application.status.as_str())
            ));
        }
    } else {
        if detail.application.status != ApplicationStatus::Running {
            unmet.push(format!(
                "application is {}, want RUNNING",
                word(detail.application.status.as_str())
            ));
        }
        if detail.replicas.is_empty() {
            unmet.push("no replicas reported".to_string());
        }
        for replica in &detail.replicas {
            let at_desired = match (desired_spec, replica.current_deployment_version.as_deref()) {
                (Some(desired), Some(current)) => desired == current,
                // Without a spec id on either side there is nothing to compare; the state decides.
                (None, _) => true,
                (Some(_), None) => false,
            };
            if replica.state != ReplicaState::Started || !at_desired {
                unmet.push(describe_replica(replica, desired_spec));
            }
        }
    }

    if unmet.is_empty() {
        Readiness::Applied
    } else {
        Readiness::InProgress {
            waiting_for: unmet.join("; "),
        }
    }
}

/// "deployment FAILED: replica r1 PENDING (CrashLoopBackoff); …", naming the replicas that are not
/// healthy at the desired spec (old replicas still serving the previous spec are mentioned too).
fn failure_reason(detail: &DeploymentDetail) -> String {
    let desired = detail.desired_version.as_deref();
    let mut problems: Vec<String> = Vec::new();
    let mut still_serving = 0usize;
    for replica in &detail.replicas {
        let at_desired = desired.is_none() || replica.current_deployment_version.as_deref() == desired;
        if replica.state == ReplicaState::Started && replica.reason.is_none() {
            if !at_desired {
                still_serving += 1;
            }
            continue;
        }
        problems.push(describe_replica(replica, desired));
    }
    let mut reason = format!("deployment {}", word(detail.status.as_str()));
    if problems.is_empty() {
        reason.push_str(": no replica reported a reason");
    } else {
        reason.push_str(": ");
        reason.push_str(&problems.join("; "));
    }
    if still_serving > 0 {
        reason.push_str(&format!(
            "; {still_serving} replica(s) of the previous version still serving"
        ));
    }
    reason
}

fn describe_replica(replica: &crate::status::Replica, desired_spec: Option<&str>) -> String {
    let id = if replica.id.is_empty() {
        "<unnamed>"
    } else {
        &replica.id
    };
    let mut text = format!("replica {id} {}", word(replica.state.as_str()));
    if let Some(reason) = &replica.reason {
        text.push_str(&format!(" ({reason})"));
    }
    if let (Some(desired), Some(current)) = (desired_spec, replica.current_deployment_version.as_deref())
        && desired != current
    {
        text.push_str(&format!(" at spec {current}"));
    }
    text
}

fn word(text: &str) -> &str {
    if text.is_empty() { "<absent>" } else { text }
}
