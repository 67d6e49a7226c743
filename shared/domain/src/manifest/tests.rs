use super::*;

const SAMPLE: &str = include_str!("../../../../samples/state/manifest.yaml");
const ENVS: [&str; 2] = ["TEST", "PROD"];

fn reason(text: &str) -> String {
    Manifest::parse(text.as_bytes(), &ENVS).unwrap_err().reason
}

#[test]
fn the_sample_manifest_is_valid_and_resolves_per_environment() {
    let m = Manifest::parse(SAMPLE.as_bytes(), &ENVS).unwrap();
    assert_eq!(m.applications.len(), 2);
    let test = m.resolve("TEST");
    let prod = m.resolve("PROD");
    assert_eq!((test[0].replicas, test[0].v_cores), (1, 0.1));
    assert_eq!((prod[0].replicas, prod[0].v_cores), (2, 0.2));
    assert_eq!(prod[0].properties.get("log.level").map(String::as_str), Some("WARN"));
    assert_eq!(prod[0].properties.get("http.port").map(String::as_str), Some("8081"));
    assert_eq!(test[0].properties.get("log.level"), None);
    assert_eq!(
        prod[0].secure_properties["db.password"].secret,
        "baton/secure-properties/patient-api/db"
    );
    let PackageContents::State { applications } = m.contents() else {
        panic!("state contents")
    };
    assert_eq!(applications["patient-api"], "1.4.2");
}

#[test]
fn json_manifests_are_accepted_too() {
    let json = r#"{"schemaVersion":1,"applications":[{"name":"patient-api","asset":{"groupId":"g","artifactId":"patient-api","version":"1.0.0"},"runtimeVersion":"4.9.0"}]}"#;
    let m = Manifest::parse(json.as_bytes(), &ENVS).unwrap();
    assert_eq!(m.applications[0].replicas, 1);
}

#[test]
fn each_invalid_manifest_names_the_path() {
    let cases = [
        (SAMPLE.replace("schemaVersion: 1", "schemaVersion: 2"), "schemaVersion: is 2"),
        (SAMPLE.replace("schemaVersion: 1\n", ""), "schemaVersion: is missing"),
        (SAMPLE.replace("name: admissions-api", "name: patient-api"), "applications[1].name: 'patient-api' appears twice"),
        (SAMPLE.replace("name: admissions-api", "name: 9lives"), "applications[1].name"),
        (SAMPLE.replace("artifactId: admissions-api", "artifactId: ''"), "applications[1].asset.artifactId"),
        (SAMPLE.replace("version: 2.1.0", "version: latest"), "applications[1].asset.version"),
        (SAMPLE.replace("      artifactId: patient-api\n", ""), "applications[0].asset: missing field `artifactId`"),
        (SAMPLE.replace("vCores: 0.2", "vCores: 0.3"), "applications[0].environments.PROD.vCores"),
        (SAMPLE.replace("replicas: 2\n        vCores", "replicas: 20\n        vCores"), "applications[0].environments.PROD.replicas"),
        (SAMPLE.replace("      PROD:\n        replicas: 2\n        vCores", "      STAGING:\n        replicas: 2\n        vCores"), "applications[0].environments.STAGING: is not a configured environment"),
        (SAMPLE.replace("runtimeVersion: 4.9.0\n    replicas: 1\n    vCores: 0.1\n    properties:\n      http.port: 8081\n    environments", "runtimeVersion: three\n    replicas: 1\n    vCores: 0.1\n    properties:\n      http.port: 8081\n    environments"), "applications[1].runtimeVersion"),
        (SAMPLE.replace("http.port: 8081\n      admissions", "db.password: hunter2\n      admissions"), "applications[0].properties.db.password: looks like a secret"),
        (SAMPLE.replace("db.password:                      # never the value itself: a Secrets Manager reference\n        secret: baton/secure-properties/patient-api/db\n        key: password", "db.password: hunter2"), "applications[0].secureProperties"),
        (SAMPLE.replace("    replicas: 1\n    vCores: 0.1\n    properties:\n      http.port: 8081\n      admissions", "    colour: blue\n    replicas: 1\n    vCores: 0.1\n    properties:\n      http.port: 8081\n      admissions"), "unknown field `colour`"),
        ("schemaVersion: 1\napplications: []\n".to_string(), "applications: is empty"),
        ("{not yaml".to_string(), "not valid YAML"),
    ];
    for (text, expected) in cases {
        let got = reason(&text);
        assert!(got.contains(expected), "expected '{expected}' in '{got}'");
        assert!(got.starts_with("invalid manifest: "), "{got}");
    }
}

#[test]
fn an_empty_manifest_is_its_own_reason() {
    let err = Manifest::parse(b"", &ENVS).unwrap_err();
    assert_eq!(err.code, RejectCode::Empty);
}
