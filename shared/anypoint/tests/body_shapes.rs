//! The request bodies built from a DeploymentSpec, compared with the reference's JSON (§6.2, §6.3).

use std::collections::BTreeMap;

use baton_anypoint::{AnypointError, DeploymentSpec, UpdateStrategy, is_valid_application_name};
use serde_json::json;

fn orders_api() -> DeploymentSpec {
    DeploymentSpec {
        name: "orders-api".into(),
        target_id: "cloudhub-us-east-1".into(),
        replicas: 1,
        v_cores: 0.1,
        runtime_version: Some("4.9.0".into()),
        release_channel: Some("EDGE".into()),
        java_version: Some("17".into()),
        update_strategy: UpdateStrategy::Rolling,
        group_id: "7c2f9e1a-5b3d-4e8f-9a6b-1c2d3e4f5a6b".into(),
        artifact_id: "orders-api".into(),
        version: "1.4.2".into(),
        properties: BTreeMap::from([("env".into(), "sandbox".into()), ("http.port".into(), "8081".into())]),
        secure_properties: BTreeMap::from([("db.password".into(), "s3cr3t".into())]),
    }
}

#[test]
fn the_create_body_matches_the_reference() -> Result<(), AnypointError> {
    // §6.2, restricted to the fields Baton sets (the optional settings are left to platform defaults).
    let expected = json!({
      "name": "orders-api",
      "target": {
        "provider": "MC",
        "targetId": "cloudhub-us-east-1",
        "replicas": 1,
        "deploymentSettings": {
          "runtime": { "version": "4.9.0", "releaseChannel": "EDGE", "java": "17" },
          "updateStrategy": "rolling"
        }
      },
      "application": {
        "ref": { "groupId": "7c2f9e1a-5b3d-4e8f-9a6b-1c2d3e4f5a6b", "artifactId": "orders-api", "version": "1.4.2", "packaging": "jar" },
        "desiredState": "STARTED",
        "vCores": 0.1,
        "configuration": {
          "mule.agent.application.properties.service": {
            "applicationName": "orders-api",
            "properties": { "env": "sandbox", "http.port": "8081" },
            "secureProperties": { "db.password": "s3cr3t" }
          }
        }
      }
    });
    assert_eq!(orders_api().create_body()?, expected);
    // The number is emitted as the reference writes it, not as 0.10000000000000001.
    assert!(
        serde_json::to_string(&orders_api().create_body()?)
            .unwrap_or_default()
            .contains(r#""vCores":0.1"#)
    );
    Ok(())
}

#[test]
fn the_patch_body_matches_the_reference() -> Result<(), AnypointError> {
    // §6.3's minimal redeploy body, plus what Baton always sends: no name, no applicationName.
    let mut spec = orders_api();
    spec.version = "1.4.3".into();
    spec.release_channel = None;
    spec.java_version = None;
    spec.update_strategy = UpdateStrategy::Recreate;
    spec.secure_properties.clear();
    spec.properties = BTreeMap::from([("env".into(), "sandbox".into())]);
    let expected = json!({
      "target": { "provider": "MC", "targetId": "cloudhub-us-east-1", "replicas": 1,
                  "deploymentSettings": { "runtime": { "version": "4.9.0" }, "updateStrategy": "recreate" } },
      "application": {
        "ref": { "groupId": "7c2f9e1a-5b3d-4e8f-9a6b-1c2d3e4f5a6b", "artifactId": "orders-api", "version": "1.4.3", "packaging": "jar" },
        "desiredState": "STARTED",
        "vCores": 0.1,
        "configuration": { "mule.agent.application.properties.service": { "properties": { "env": "sandbox" }, "secureProperties": {} } }
      }
    });
    assert_eq!(spec.patch_body()?, expected);
    Ok(())
}

#[test]
fn an_omitted_runtime_is_left_out() -> Result<(), AnypointError> {
    let mut spec = orders_api();
    spec.runtime_version = None;
    let body = spec.create_body()?;
    assert_eq!(
        body["target"]["deploymentSettings"],
        json!({ "updateStrategy": "rolling" })
    );
    Ok(())
}

#[test]
fn invalid_specs_are_rejected_before_sending() {
    for name in [
        "ab",
        "9lives",
        "orders-",
        "orders_api",
        "a-name-that-is-far-too-long-for-cloudhub-two",
    ] {
        assert!(!is_valid_application_name(name), "{name}");
        let spec = DeploymentSpec {
            name: name.into(),
            ..orders_api()
        };
        assert!(
            matches!(spec.create_body(), Err(AnypointError::InvalidInput(_))),
            "{name}"
        );
    }
    let zero_replicas = DeploymentSpec {
        replicas: 0,
        ..orders_api()
    };
    assert!(zero_replicas.validate().is_err());
    let no_version = DeploymentSpec {
        version: " ".into(),
        ..orders_api()
    };
    assert!(no_version.validate().is_err());
    let nan_cores = DeploymentSpec {
        v_cores: f64::NAN,
        ..orders_api()
    };
    assert!(nan_cores.validate().is_err());
}

#[test]
fn debug_output_hides_secure_property_values() {
    let shown = format!("{:?}", orders_api());
    assert!(shown.contains("db.password") && !shown.contains("s3cr3t"), "{shown}");
}
