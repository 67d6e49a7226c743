//! The §9 readiness rule on hand-written deployment details, and tolerant parsing of them.

use baton_anypoint::{DeploymentDetail, DeploymentStatus, Readiness, readiness, readiness_for_spec};
use serde_json::{Value, json};

const SPEC_A: &str = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
const SPEC_B: &str = "c8f2d3e4-5a6b-4c7d-9e8f-0a1b2c3d4e5f";

/// The reference's §6.4 example: APPLIED, RUNNING, one STARTED replica at the desired spec, ref 1.4.3.
fn applied() -> Value {
    json!({
      "id": "5d0c8a7e-2f4b-4c1a-9e3d-8b7a6c5d4e3f",
      "name": "orders-api",
      "creationDate": 1736500000000i64,
      "lastModifiedDate": 1736503600000i64,
      "desiredVersion": SPEC_A,
      "lastSuccessfulVersion": SPEC_A,
      "status": "APPLIED",
      "replicas": [ { "id": "orders-api-6f9c7d5b8-x2k4p", "state": "STARTED", "deploymentLocation": "node-or-zone-id",
                      "currentDeploymentVersion": SPEC_A, "reason": "" } ],
      "application": {
        "status": "RUNNING", "desiredState": "STARTED",
        "ref": { "groupId": "7c2f9e1a-5b3d-4e8f-9a6b-1c2d3e4f5a6b", "artifactId": "orders-api", "version": "1.4.3", "packaging": "jar" },
        "vCores": 0.1
      },
      "target": { "provider": "MC", "targetId": "cloudhub-us-east-1", "replicas": 1,
                  "deploymentSettings": { "runtime": { "version": "4.9.0:12e-java17" },
                                          "http": { "inbound": { "publicUrl": "https://orders-api-ab12cd.s1.usa-e1.cloudhub.io" } } } }
    })
}

fn parse(value: Value) -> DeploymentDetail {
    match serde_json::from_value(value) {
        Ok(detail) => detail,
        Err(error) => panic!("detail did not parse: {error}"),
    }
}

fn is_in_progress(readiness: &Readiness) -> bool {
    matches!(readiness, Readiness::InProgress { .. })
}

#[test]
fn the_reference_example_is_applied() {
    let detail = parse(applied());
    assert_eq!(readiness(&detail, "1.4.3"), Readiness::Applied);
    assert_eq!(readiness_for_spec(&detail, "1.4.3", Some(SPEC_A)), Readiness::Applied);
    assert_eq!(detail.target.runtime_version(), Some("4.9.0:12e-java17"));
    assert_eq!(
        detail.target.public_url(),
        Some("https://orders-api-ab12cd.s1.usa-e1.cloudhub.io")
    );
    assert_eq!(detail.replicas[0].reason, None, "an empty reason is no reason");
}

#[test]
fn applying_or_a_different_ref_version_is_in_progress() {
    let mut value = applied();
    value["status"] = json!("APPLYING");
    assert!(is_in_progress(&readiness(&parse(value), "1.4.3")));
    // A stale APPLIED from before the PATCH still shows the old artifact.
    assert!(is_in_progress(&readiness(&parse(applied()), "1.4.4")));
}

#[test]
fn every_replica_must_be_started_at_the_desired_spec() {
    let mut value = applied();
    value["desiredVersion"] = json!(SPEC_B);
    value["lastSuccessfulVersion"] = json!(SPEC_B);
    value["replicas"] = json!([
        { "id": "r-new", "state": "STARTED", "currentDeploymentVersion": SPEC_B },
        { "id": "r-old", "state": "STARTED", "currentDeploymentVersion": SPEC_A }
    ]);
    let Readiness::InProgress { waiting_for } = readiness(&parse(value.clone()), "1.4.3") else {
        panic!("a replica at the old spec must hold readiness back");
    };
    assert!(waiting_for.contains("r-old"), "{waiting_for}");

    value["replicas"] = json!([{ "id": "r-new", "state": "STARTING", "currentDeploymentVersion": SPEC_B }]);
    assert!(is_in_progress(&readiness(&parse(value.clone()), "1.4.3")));
    value["replicas"] = json!([]);
    assert!(
        is_in_progress(&readiness(&parse(value), "1.4.3")),
        "no replicas is not running"
    );
}

#[test]
fn application_not_running_or_spec_not_yet_successful_is_in_progress() {
    let mut value = applied();
    value["application"]["status"] = json!("NOT_RUNNING");
    assert!(is_in_progress(&readiness(&parse(value), "1.4.3")));
    let mut value = applied();
    value["lastSuccessfulVersion"] = Value::Null;
    assert!(is_in_progress(&readiness(&parse(value), "1.4.3")));
}

#[test]
fn failed_names_the_replica_reasons() {
    let mut value = applied();
    value["status"] = json!("FAILED");
    value["desiredVersion"] = json!(SPEC_B);
    value["application"]["ref"]["version"] = json!("1.5.0");
    value["replicas"] = json!([
        { "id": "orders-api-old", "state": "STARTED", "currentDeploymentVersion": SPEC_A, "reason": "" },
        { "id": "orders-api-new", "state": "PENDING", "currentDeploymentVersion": SPEC_B, "reason": "CrashLoopBackoff" }
    ]);
    let Readiness::Failed { reason } = readiness(&parse(value), "1.5.0") else {
        panic!("FAILED must be Failed");
    };
    assert!(
        reason.contains("replica orders-api-new PENDING (CrashLoopBackoff)"),
        "{reason}"
    );
    assert!(reason.contains("previous version still serving"), "{reason}");
    assert!(
        !reason.contains("orders-api-old STARTED"),
        "healthy replicas are not problems: {reason}"
    );
}

#[test]
fn superseded_and_deleted_are_failures() {
    let detail = parse(applied());
    assert!(
        matches!(readiness_for_spec(&detail, "1.4.3", Some(SPEC_B)), Readiness::Failed { reason } if reason.contains("superseded"))
    );
    let mut value = applied();
    value["status"] = json!("DELETED");
    assert!(matches!(readiness(&parse(value), "1.4.3"), Readiness::Failed { .. }));
}

#[test]
fn a_stopped_application_is_applied_when_not_running() {
    let mut value = applied();
    value["application"]["desiredState"] = json!("STOPPED");
    value["application"]["status"] = json!("NOT_RUNNING");
    value["replicas"] = json!([]);
    assert_eq!(readiness(&parse(value), "1.4.3"), Readiness::Applied);
}

#[test]
fn counts_as_strings_nulls_and_unknown_words_parse() {
    let mut value = applied();
    value["target"]["replicas"] = json!("2");
    value["application"]["vCores"] = json!("0.2");
    value["application"]["status"] = json!("running");
    value["status"] = json!("SOMETHING_NEW");
    value["replicas"][0]["reason"] = Value::Null;
    value["creationDate"] = json!("1736500000000");
    let detail = parse(value);
    assert_eq!(detail.target.replicas, Some(2));
    assert_eq!(detail.application.v_cores, Some(0.2));
    assert_eq!(detail.creation_date, Some(1736500000000));
    assert_eq!(detail.status, DeploymentStatus::Other("SOMETHING_NEW".into()));
    assert!(
        is_in_progress(&readiness(&detail, "1.4.3")),
        "an unknown status is not success"
    );
    let sparse = parse(json!({ "id": "x", "application": null, "target": null, "replicas": null }));
    assert!(is_in_progress(&readiness(&sparse, "1.0.0")));
}
