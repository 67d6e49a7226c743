//! Guards the defaults and limits of `baton.yaml` that a configuration may leave out: workflow
//! pacing, deploy waves, a web site's size limit, the secure-properties prefix, approval counts
//! and durations, and the lookups handlers make by name.

use std::time::Duration;

use baton_domain::config::{
    ComponentKind, ConfigError, DEFAULT_SECURE_PROPERTIES_PREFIX, DEFAULT_WEB_MAX_TOTAL_MIB, FieldError,
    STATE_MAX_BYTES, WEB_MAX_FILE_BYTES, WEB_MAX_FILES, WEB_MAX_TOTAL_MIB_CAP, WorkflowConfig, parse_duration,
};
use baton_domain::web::WebLimits;

use crate::common::{LOCAL, local, local_with};

const MIB: u64 = 1024 * 1024;

/// A configuration that sets only what has no default.
const MINIMAL: &str = "\
public_url: https://baton.example.com
mail:
  sender: baton@example.com
components:
  - name: site
    kind: web
    cloudflare:
      account_id: acc
      project: site
      api_token_secret: baton/cloudflare
    environments:
      PROD: { branch: main }
  - name: apis
    kind: state
    anypoint:
      credentials_secret: baton/anypoint
    environments:
      PROD: { environment: Production, target: cloudhub-eu-west-1 }
environments:
  - name: PROD
    approvers: [rm@example.com, cab@example.com]
    approval_ttl: 2h
";

fn minimal() -> baton_domain::BatonConfig {
    baton_domain::BatonConfig::from_yaml(MINIMAL).expect("the minimal configuration is valid")
}

#[test]
fn workflow_pacing_defaults_to_15s_polls_30s_lease_waits_and_a_30_minute_rollout_deadline() {
    let config = minimal();
    assert_eq!(config.workflow.poll_seconds, 15);
    assert_eq!(config.workflow.lease_wait_seconds, 30);
    assert_eq!(config.workflow.rollout_deadline, "30m");
    assert_eq!(config.workflow.rollout_deadline(), Duration::from_secs(30 * 60));
    assert_eq!(config.workflow.lease_wait_timeout, "2h");
    assert_eq!(config.workflow.lease_wait_timeout(), Duration::from_secs(2 * 3_600));
    assert_eq!(WorkflowConfig::default(), config.workflow);
}

#[test]
fn a_workflow_section_that_sets_one_field_keeps_the_defaults_of_the_others() {
    let text = format!("{MINIMAL}workflow:\n  poll_seconds: 5\n");
    let config = baton_domain::BatonConfig::from_yaml(&text).unwrap();
    assert_eq!(config.workflow.poll_seconds, 5);
    assert_eq!(config.workflow.lease_wait_seconds, 30);
    assert_eq!(config.workflow.rollout_deadline(), Duration::from_secs(1_800));

    let text = format!("{MINIMAL}workflow:\n  lease_wait_seconds: 60\n");
    let config = baton_domain::BatonConfig::from_yaml(&text).unwrap();
    assert_eq!(config.workflow.poll_seconds, 15);
    assert_eq!(config.workflow.lease_wait_seconds, 60);
    assert_eq!(config.workflow.rollout_deadline, "30m");
    assert_eq!(config.workflow.lease_wait_timeout, "2h");
}

#[test]
fn the_rollout_deadline_is_read_as_written_and_falls_back_to_30_minutes() {
    assert_eq!(local().workflow.rollout_deadline(), Duration::from_secs(120));
    let unreadable = WorkflowConfig {
        rollout_deadline: "soon".into(),
        ..WorkflowConfig::default()
    };
    assert_eq!(unreadable.rollout_deadline(), Duration::from_secs(1_800));
    let unreadable = WorkflowConfig {
        lease_wait_timeout: "a while".into(),
        ..WorkflowConfig::default()
    };
    assert_eq!(unreadable.lease_wait_timeout(), Duration::from_secs(7_200));
}

#[test]
fn backends_deploy_in_wave_1_and_sites_in_wave_2_unless_a_component_says_otherwise() {
    assert_eq!(ComponentKind::State.default_wave(), 1);
    assert_eq!(ComponentKind::Web.default_wave(), 2);
    let config = minimal();
    assert_eq!(config.component("apis").unwrap().effective_wave(), 1);
    assert_eq!(config.component("site").unwrap().effective_wave(), 2);
    let text = MINIMAL.replace("    kind: web\n", "    kind: web\n    wave: 5\n");
    let config = baton_domain::BatonConfig::from_yaml(&text).unwrap();
    assert_eq!(config.component("site").unwrap().effective_wave(), 5);
}

#[test]
fn component_kinds_are_named_as_in_baton_yaml() {
    assert_eq!(ComponentKind::Web.to_string(), "web");
    assert_eq!(ComponentKind::State.to_string(), "state");
}

#[test]
fn a_web_site_may_hold_200_mib_unless_its_component_says_otherwise_and_never_more_than_400() {
    assert_eq!(DEFAULT_WEB_MAX_TOTAL_MIB, 200);
    assert_eq!(WEB_MAX_TOTAL_MIB_CAP, 400);
    let config = minimal();
    let mut site = config.component("site").unwrap().clone();
    assert_eq!(site.max_total_bytes(), 200 * MIB);
    site.max_total_mib = Some(3);
    assert_eq!(site.max_total_bytes(), 3 * MIB);
    site.max_total_mib = Some(400);
    assert_eq!(site.max_total_bytes(), 400 * MIB);
    // An unvalidated value larger than the cap is held to the cap, without overflowing.
    site.max_total_mib = Some(401);
    assert_eq!(site.max_total_bytes(), 400 * MIB);
    site.max_total_mib = Some(u64::MAX);
    assert_eq!(site.max_total_bytes(), 400 * MIB);
    assert_eq!(local().component("web").unwrap().max_total_bytes(), 200 * MIB);
}

#[test]
fn cloudflare_pages_limits_are_25_mib_per_file_and_20000_files() {
    assert_eq!(WEB_MAX_FILE_BYTES, 26_214_400);
    assert_eq!(WEB_MAX_FILES, 20_000);
    assert_eq!(STATE_MAX_BYTES, 1_048_576);
    let limits = WebLimits::with_total(7 * MIB);
    assert_eq!(limits.max_file_bytes, 26_214_400);
    assert_eq!(limits.max_files, 20_000);
    assert_eq!(limits.max_total_bytes, 7 * MIB);
}

#[test]
fn secure_properties_live_under_baton_secure_properties_unless_a_component_sets_a_prefix() {
    assert_eq!(DEFAULT_SECURE_PROPERTIES_PREFIX, "baton/secure-properties/");
    let config = minimal();
    assert_eq!(
        config
            .component("apis")
            .unwrap()
            .anypoint
            .as_ref()
            .unwrap()
            .secure_properties_prefix,
        "baton/secure-properties/"
    );
    assert_eq!(
        config.component("apis").unwrap().secure_properties_prefix(),
        "baton/secure-properties/"
    );
    // A component without Anypoint settings still gets the closed default, not "anything".
    assert_eq!(
        config.component("site").unwrap().secure_properties_prefix(),
        "baton/secure-properties/"
    );
    let text = local_with(
        "secure_properties_prefix: baton/secure-properties/",
        "secure_properties_prefix: team-a/",
    );
    let config = baton_domain::BatonConfig::from_yaml(&text).unwrap();
    assert_eq!(config.component("state").unwrap().secure_properties_prefix(), "team-a/");
}

#[test]
fn one_sign_off_is_enough_unless_an_environment_asks_for_more() {
    let config = minimal();
    let prod = config.environment("PROD").unwrap();
    assert_eq!(prod.required_approvals, 1);
    assert!(!prod.forbid_self_approval);
    let text = MINIMAL.replace(
        "    approval_ttl: 2h\n",
        "    approval_ttl: 2h\n    required_approvals: 2\n",
    );
    let config = baton_domain::BatonConfig::from_yaml(&text).unwrap();
    assert_eq!(config.environment("PROD").unwrap().required_approvals, 2);
}

#[test]
fn approval_requests_stay_open_as_long_as_configured_and_a_day_when_unreadable() {
    let config = local();
    assert_eq!(
        config.environment("TEST").unwrap().approval_ttl(),
        Duration::from_secs(24 * 3_600)
    );
    assert_eq!(
        config.environment("PROD").unwrap().approval_ttl(),
        Duration::from_secs(72 * 3_600)
    );
    assert_eq!(
        minimal().environment("PROD").unwrap().approval_ttl(),
        Duration::from_secs(2 * 3_600)
    );
    let mut unreadable = config.environment("TEST").unwrap().clone();
    unreadable.approval_ttl = "whenever".into();
    assert_eq!(unreadable.approval_ttl(), Duration::from_secs(86_400));
}

#[test]
fn durations_are_read_in_seconds_minutes_hours_and_days() {
    let cases = [
        ("90s", Some(90)),
        ("30m", Some(1_800)),
        ("24h", Some(86_400)),
        ("7d", Some(604_800)),
        ("45", Some(45)),
        (" 5m ", Some(300)),
        ("0s", Some(0)),
        ("", None),
        ("m", None),
        ("5x", None),
        ("5 m", None),
        ("-5m", None),
        ("1.5h", None),
        ("99999999999999999999d", None),
        ("999999999999999999m", None),
        ("999999999999999999h", None),
        ("999999999999999999d", None),
    ];
    for (text, seconds) in cases {
        assert_eq!(parse_duration(text), seconds.map(Duration::from_secs), "{text:?}");
    }
}

#[test]
fn components_and_environments_are_found_by_exact_name_in_configuration_order() {
    let config = local();
    assert_eq!(config.component("web").unwrap().name, "web");
    assert_eq!(config.component("state").unwrap().kind, ComponentKind::State);
    assert!(config.component("mobile").is_none());
    assert!(config.component("Web").is_none());
    assert_eq!(config.environment("PROD").unwrap().name, "PROD");
    assert_eq!(
        config.environment("TEST").unwrap().approvers,
        ["release-manager@example.com"]
    );
    assert!(config.environment("STAGING").is_none());
    assert_eq!(config.environment_names(), ["TEST", "PROD"]);
}

#[test]
fn baton_s_own_secrets_are_listed_so_no_manifest_can_name_them() {
    assert_eq!(
        local().platform_secrets(),
        ["baton/cloudflare-api-token", "baton/anypoint-connected-app"]
    );
    assert_eq!(minimal().platform_secrets(), ["baton/cloudflare", "baton/anypoint"]);
}

#[test]
fn a_refused_configuration_names_every_problem_with_its_field() {
    let err = ConfigError {
        problems: vec![
            FieldError {
                path: "mail.sender".into(),
                message: "must be an email address verified in SES".into(),
            },
            FieldError {
                path: "environments".into(),
                message: "at least one environment is needed".into(),
            },
        ],
    };
    assert_eq!(
        err.to_string(),
        "baton.yaml is invalid: mail.sender: must be an email address verified in SES; environments: at least one environment is needed"
    );
    assert!(LOCAL.contains("public_url"));
}
