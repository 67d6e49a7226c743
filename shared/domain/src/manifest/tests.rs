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

const PREFIX: &str = "baton/secure-properties/";
/// Baton's own secrets as the local configuration names them.
const FORBIDDEN: [&str; 2] = ["baton/anypoint-connected-app", "baton/cloudflare-api-token"];

/// The sample with patient-api's `db.password` pointing at `secret` instead.
fn naming(secret: &str) -> Manifest {
    let text = SAMPLE.replace(
        "secret: baton/secure-properties/patient-api/db",
        &format!("secret: '{secret}'"),
    );
    Manifest::parse(text.as_bytes(), &ENVS).unwrap()
}

fn refusal(secret: &str) -> Rejection {
    naming(secret)
        .check_secret_namespace(PREFIX, &FORBIDDEN)
        .expect_err(secret)
}

#[test]
fn baton_s_own_connected_app_secret_is_refused_with_the_property_secret_and_prefix() {
    let r = refusal("baton/anypoint-connected-app");
    assert_eq!(r.code, RejectCode::InvalidContent);
    assert!(
        r.reason.starts_with(
            "invalid manifest: applications[0].secureProperties.db.password.secret: 'baton/anypoint-connected-app'"
        ),
        "{}",
        r.reason
    );
    assert!(r.reason.contains("Baton's own credentials"), "{}", r.reason);
    assert!(
        r.reason
            .contains("store the application's secret under 'baton/secure-properties/'"),
        "{}",
        r.reason
    );
}

#[test]
fn a_forbidden_secret_is_refused_even_under_the_prefix_and_in_any_case() {
    let forbidden = ["baton/secure-properties/anypoint"];
    for secret in ["baton/secure-properties/anypoint", "BATON/secure-properties/Anypoint"] {
        let r = naming(secret).check_secret_namespace(PREFIX, &forbidden).unwrap_err();
        assert!(r.reason.contains("Baton's own credentials"), "{secret}: {}", r.reason);
    }
    // Configured as an ARN, the secret is still recognised by its name.
    let arn = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:baton/secure-properties/anypoint-AbCdEf"];
    let r = naming("baton/secure-properties/anypoint")
        .check_secret_namespace(PREFIX, &arn)
        .unwrap_err();
    assert!(r.reason.contains("Baton's own credentials"), "{}", r.reason);
}

#[test]
fn an_arn_is_refused_even_when_it_points_under_the_prefix() {
    for arn in [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:baton/anypoint-connected-app-AbCdEf",
        "arn:aws:secretsmanager:eu-west-1:999999999999:secret:baton/secure-properties/patient-api/db",
        "ARN:aws:secretsmanager:eu-west-1:111122223333:secret:x",
    ] {
        let r = refusal(arn);
        assert!(r.reason.contains("is an ARN"), "{arn}: {}", r.reason);
        assert!(
            r.reason.contains("applications[0].secureProperties.db.password.secret"),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("'baton/secure-properties/'"), "{}", r.reason);
    }
}

#[test]
fn a_name_outside_the_prefix_is_refused() {
    for secret in [
        "other-team/db",
        "baton/secure-properties",
        "baton/secure-propertiesX/db",
        "Baton/secure-properties/db",
    ] {
        let r = refusal(secret);
        assert!(
            r.reason.contains(&format!(
                "'{secret}' is outside this component's secure properties prefix 'baton/secure-properties/'"
            )),
            "{}",
            r.reason
        );
    }
    let r = refusal("baton/secure-properties/");
    assert!(r.reason.contains("is the prefix itself"), "{}", r.reason);
}

#[test]
fn dot_segments_wildcards_and_foreign_characters_are_refused() {
    for (secret, expected) in [
        ("baton/secure-properties/../anypoint-connected-app", "'..' segment"),
        ("baton/secure-properties/./db", "'..' segment"),
        ("baton/secure-properties/*", "wildcard"),
        ("baton/secure-properties/db?", "wildcard"),
        ("baton/secure-properties/db password", "not a Secrets Manager name"),
        ("baton/secure-properties/d\u{e9}b", "not a Secrets Manager name"),
    ] {
        let r = refusal(secret);
        assert!(r.reason.contains(expected), "{secret}: {}", r.reason);
    }
}

#[test]
fn overrides_are_checked_and_named_by_their_environment() {
    let text = SAMPLE.replace(
        "          log.level: WARN\n",
        "          log.level: WARN\n        secureProperties:\n          db.password: { secret: baton/anypoint-connected-app, key: client_secret }\n",
    );
    let m = Manifest::parse(text.as_bytes(), &ENVS).unwrap();
    let r = m.check_secret_namespace(PREFIX, &FORBIDDEN).unwrap_err();
    assert!(
        r.reason
            .contains("applications[0].environments.PROD.secureProperties.db.password.secret"),
        "{}",
        r.reason
    );
}

#[test]
fn a_name_under_the_prefix_is_allowed() {
    let sample = Manifest::parse(SAMPLE.as_bytes(), &ENVS).unwrap();
    assert_eq!(sample.check_secret_namespace(PREFIX, &FORBIDDEN), Ok(()));
    for secret in [
        "baton/secure-properties/patient-api/db",
        "baton/secure-properties/a.b_c+d=e@f-g",
    ] {
        assert_eq!(
            naming(secret).check_secret_namespace(PREFIX, &FORBIDDEN),
            Ok(()),
            "{secret}"
        );
        assert_eq!(check_secret_name(secret, PREFIX, &FORBIDDEN), Ok(()), "{secret}");
    }
    // Another component's prefix is another namespace.
    let r = naming("baton/secure-properties/patient-api/db")
        .check_secret_namespace("baton/secure-properties/billing/", &FORBIDDEN)
        .unwrap_err();
    assert!(r.reason.contains("'baton/secure-properties/billing/'"), "{}", r.reason);
}

#[test]
fn anchors_aliases_and_tags_are_refused_before_anything_expands() {
    // A "billion laughs": nine levels of nine aliases would be 9^9 strings once expanded.
    let mut bomb = String::from("schemaVersion: 1\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let prev = level - 1;
        let aliases = vec![format!("*l{prev}"); 9].join(", ");
        bomb.push_str(&format!("lol{level}: &l{level} [{aliases}]\n"));
    }
    bomb.push_str("applications: *l8\n");
    let cases = [
        (bomb, "uses an anchor (&name) at line 2"),
        (
            SAMPLE.replace("runtimeVersion: 4.9.0", "runtimeVersion: !!str 4.9.0"),
            "uses a tag (!name)",
        ),
        (
            SAMPLE.replace("  - name: patient-api", "  - &app\n    name: patient-api"),
            "uses an anchor (&name)",
        ),
    ];
    for (text, expected) in cases {
        let got = reason(&text);
        assert!(got.contains(expected), "expected '{expected}' in '{got}'");
        assert!(got.contains("write every value out in full"), "{got}");
    }
}

#[test]
fn a_manifest_over_one_mib_is_refused_unread() {
    let mut text = SAMPLE.to_string();
    text.push_str(&format!("# {}\n", "x".repeat(1024 * 1024)));
    let err = Manifest::parse(text.as_bytes(), &ENVS).unwrap_err();
    assert_eq!(err.code, RejectCode::TooLarge);
    assert!(err.reason.contains("at most 1048576 bytes (1 MiB)"), "{}", err.reason);
}

#[test]
fn sizing_defaults_to_one_replica_of_the_smallest_vcores() {
    let json = r#"{"schemaVersion":1,"applications":[{"name":"patient-api","asset":{"groupId":"g","artifactId":"patient-api","version":"1.0.0"},"runtimeVersion":"4.9.0"}]}"#;
    let m = Manifest::parse(json.as_bytes(), &ENVS).unwrap();
    assert_eq!((m.applications[0].replicas, m.applications[0].v_cores), (1, 0.1));
}

#[test]
fn a_manifest_of_exactly_one_mib_is_read() {
    let mut text = SAMPLE.to_string();
    let room = STATE_MAX_BYTES as usize - text.len() - 3;
    text.push_str(&format!("# {}\n", "x".repeat(room)));
    assert_eq!(text.len() as u64, STATE_MAX_BYTES);
    assert!(Manifest::parse(text.as_bytes(), &ENVS).is_ok());
}

#[test]
fn each_way_an_exchange_coordinate_can_be_wrong_is_refused() {
    for bad in ["''", "'patient api'", "org/patient-api", "'  '"] {
        let text = SAMPLE.replace("artifactId: admissions-api", &format!("artifactId: {bad}"));
        let got = reason(&text);
        assert!(
            got.contains("applications[1].asset.artifactId: must be a non-empty Exchange coordinate"),
            "{bad}: {got}"
        );
    }
}

#[test]
fn a_runtime_must_be_a_three_part_mule_4_version() {
    let with_runtime =
        |runtime: &str| SAMPLE.replacen("runtimeVersion: 4.9.0", &format!("runtimeVersion: '{runtime}'"), 1);
    for good in ["4.9.0", "4.6.0:40e-java17", "4.10.12"] {
        assert!(Manifest::parse(with_runtime(good).as_bytes(), &ENVS).is_ok(), "{good}");
    }
    for bad in ["4.9", "4.9.0.1", "4..0", "4.x.0", "5.0.0", "3.9.0", ""] {
        let got = reason(&with_runtime(bad));
        assert!(
            got.contains("applications[0].runtimeVersion") && got.contains("is not a Mule 4 runtime version"),
            "{bad}: {got}"
        );
    }
}

#[test]
fn a_secure_property_must_name_a_secret() {
    for blank in ["", "   "] {
        let text = SAMPLE.replace(
            "secret: baton/secure-properties/patient-api/db",
            &format!("secret: '{blank}'"),
        );
        let got = reason(&text);
        assert!(
            got.contains("applications[0].secureProperties.db.password.secret: must name a Secrets Manager secret"),
            "{got}"
        );
    }
}
