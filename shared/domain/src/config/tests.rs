use super::*;

const LOCAL: &str = include_str!("../../../../infra/config/baton.local.yaml");

fn paths(err: ConfigError) -> Vec<String> {
    err.problems.into_iter().map(|p| p.path).collect()
}

#[test]
fn the_shipped_local_configuration_is_valid() {
    let config = BatonConfig::from_yaml(LOCAL).unwrap();
    assert_eq!(config.environment_names(), ["TEST", "PROD"]);
    let web = config.component("web").unwrap();
    assert_eq!(web.kind, ComponentKind::Web);
    assert_eq!(web.effective_wave(), 2);
    assert_eq!(config.component("state").unwrap().effective_wave(), 1);
    assert_eq!(
        config.environment("TEST").unwrap().approval_ttl(),
        Duration::from_secs(86_400)
    );
}

#[test]
fn unknown_fields_and_kinds_name_their_path() {
    let text = LOCAL.replace("kind: state ", "kind: mule ");
    let err = BatonConfig::from_yaml(&text).unwrap_err();
    assert_eq!(paths(err.clone()), ["components[1].kind"], "{err}");
    assert!(err.to_string().contains("unknown variant"), "{err}");

    let text = LOCAL.replace("    wave: 1\n", "    wave: 1\n    colour: blue\n");
    let err = BatonConfig::from_yaml(&text).unwrap_err();
    assert_eq!(paths(err.clone()), ["components[1]"], "{err}");
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn every_semantic_problem_is_reported_with_its_field() {
    let text = LOCAL
        .replace("TEST: { branch: test }", "QA: { branch: test }")
        .replace("sender: baton@example.com", "sender: nobody")
        .replace("approval_ttl: 72h", "approval_ttl: soon")
        .replace("target: cloudhub-eu-west-1 }\n      PROD", "target: '' }\n      PROD")
        .replace(
            "approvers: [release-manager@example.com, cab@example.com]",
            "approvers: [release-manager@example.com, cab]",
        );
    let err = BatonConfig::from_yaml(&text).unwrap_err();
    let mut got = paths(err.clone());
    got.sort();
    assert_eq!(
        got,
        [
            "components[0].environments.QA",
            "components[0].environments.TEST",
            "components[1].environments.TEST.target",
            "environments[1].approval_ttl",
            "environments[1].approvers[1]",
            "mail.sender",
        ],
        "{err}"
    );
}

#[test]
fn duplicate_names_and_kind_mismatches_are_refused() {
    let text = LOCAL
        .replace("- name: state", "- name: web")
        .replace("kind: state ", "kind: web ");
    let err = BatonConfig::from_yaml(&text).unwrap_err();
    let got = paths(err.clone());
    assert!(got.contains(&"components[1].name".to_string()), "{err}");
    assert!(got.contains(&"components[1].cloudflare".to_string()), "{err}");
    assert!(got.contains(&"components[1].anypoint".to_string()), "{err}");
    assert!(
        got.contains(&"components[1].environments.TEST.branch".to_string()),
        "{err}"
    );
}

#[test]
fn durations_parse_in_the_documented_units() {
    assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1_800)));
    assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
    assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
    assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
    assert_eq!(parse_duration("1w"), None);
    assert_eq!(parse_duration("h"), None);
}

#[test]
fn secure_properties_prefix_defaults_and_a_bad_one_names_its_field() {
    let config = BatonConfig::from_yaml(LOCAL).unwrap();
    let state = config.component("state").unwrap();
    assert_eq!(state.secure_properties_prefix(), DEFAULT_SECURE_PROPERTIES_PREFIX);
    let without = LOCAL.replace("      secure_properties_prefix: baton/secure-properties/\n", "");
    assert_ne!(without, LOCAL, "the local configuration sets the prefix");
    let config = BatonConfig::from_yaml(&without).unwrap();
    assert_eq!(
        config.component("state").unwrap().secure_properties_prefix(),
        "baton/secure-properties/",
        "the default"
    );

    for bad in [
        "baton/secure-properties",
        "''",
        "/",
        "/baton/",
        "'*'",
        "baton/*/",
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:baton/",
        "baton/../",
        "baton//x/",
        "baton secure/",
    ] {
        let text = LOCAL.replace(
            "secure_properties_prefix: baton/secure-properties/",
            &format!("secure_properties_prefix: {bad}"),
        );
        let err = BatonConfig::from_yaml(&text).unwrap_err();
        assert_eq!(
            paths(err.clone()),
            ["components[1].anypoint.secure_properties_prefix"],
            "{bad}: {err}"
        );
    }
}

#[test]
fn platform_secrets_are_every_secret_baton_uses_itself() {
    let config = BatonConfig::from_yaml(LOCAL).unwrap();
    assert_eq!(
        config.platform_secrets(),
        ["baton/cloudflare-api-token", "baton/anypoint-connected-app"]
    );
}

#[test]
fn approval_rules_default_to_one_sign_off_and_impossible_ones_name_their_field() {
    let config = BatonConfig::from_yaml(LOCAL).unwrap();
    let prod = config.environment("PROD").unwrap();
    assert_eq!(prod.required_approvals, 1);
    assert!(!prod.forbid_self_approval);

    let two = LOCAL.replacen(
        "    approval_ttl: 72h\n",
        "    approval_ttl: 72h\n    required_approvals: 2\n    forbid_self_approval: true\n",
        1,
    );
    let config = BatonConfig::from_yaml(&two).unwrap();
    let prod = config.environment("PROD").unwrap();
    assert_eq!((prod.required_approvals, prod.forbid_self_approval), (2, true));

    // More sign-offs than distinct approvers, or none: a release could never be approved.
    for required in ["3", "0"] {
        let text = LOCAL.replacen(
            "    approval_ttl: 72h\n",
            &format!("    approval_ttl: 72h\n    required_approvals: {required}\n"),
            1,
        );
        let err = BatonConfig::from_yaml(&text).unwrap_err();
        assert_eq!(paths(err.clone()), ["environments[1].required_approvals"], "{err}");
    }
}

#[test]
fn max_total_mib_is_capped_by_what_a_function_can_hold() {
    let text = LOCAL.replace("max_total_mib: 200", "max_total_mib: 4000");
    let err = BatonConfig::from_yaml(&text).unwrap_err();
    assert_eq!(paths(err.clone()), ["components[0].max_total_mib"], "{err}");
    assert!(err.to_string().contains("at most 400"), "{err}");
    let text = LOCAL.replace("max_total_mib: 200", "max_total_mib: 400");
    assert_eq!(
        BatonConfig::from_yaml(&text).unwrap().components[0].max_total_bytes(),
        400 * 1024 * 1024
    );
}

#[test]
fn an_approver_is_found_without_case_or_spaces_in_its_configured_spelling() {
    let config = BatonConfig::from_yaml(LOCAL).unwrap();
    let prod = config.environment("PROD").unwrap();
    assert_eq!(prod.approver(" CAB@Example.com "), Some("cab@example.com"));
    assert_eq!(prod.approver("dev@example.com"), None);
    assert_eq!(prod.approver(""), None);
}
