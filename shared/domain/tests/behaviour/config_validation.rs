//! Guards what validation of `baton.yaml` refuses and accepts, at the edges of each rule: URLs,
//! email addresses, names, pacing bounds, approval counts and lifetimes, site size limits,
//! secure-properties prefixes and the settings each kind of component needs per environment.

use baton_domain::config::{is_component_name, looks_like_email};

use crate::common::{LOCAL, local_with, problem_paths, problems};

/// The problems at `path` (messages), for a document expected to be refused there.
fn messages_at(text: &str, path: &str) -> Vec<String> {
    problems(text)
        .into_iter()
        .filter(|(p, _)| p == path)
        .map(|(_, m)| m)
        .collect()
}

/// Whether `message` is among the problems at `path`.
fn refused_with(text: &str, path: &str, message: &str) -> bool {
    messages_at(text, path).iter().any(|m| m == message)
}

fn accepted(text: &str) {
    let found = problems(text);
    assert!(found.is_empty(), "expected a valid configuration, got {found:?}");
}

#[test]
fn the_shipped_local_configuration_is_accepted() {
    accepted(LOCAL);
}

#[test]
fn the_public_url_must_be_http_or_https() {
    accepted(&local_with(
        "public_url: http://127.0.0.1:3000",
        "public_url: https://baton.example.com",
    ));
    for url in ["ftp://baton.example.com", "baton.example.com", "https:/x"] {
        let text = local_with("public_url: http://127.0.0.1:3000", &format!("public_url: {url}"));
        assert_eq!(
            messages_at(&text, "public_url"),
            ["must be an http:// or https:// URL (the base of approval links)"],
            "{url}"
        );
    }
}

#[test]
fn an_email_address_needs_a_name_an_at_and_a_dotted_domain_without_spaces() {
    for good in ["a@b.co", "release-manager@example.com", "x.y+z@mail.example.org"] {
        assert!(looks_like_email(good), "{good}");
    }
    for bad in [
        "",
        "nobody",
        "@example.com",
        "rm@example",
        "rm@.example.com",
        "rm@example.com.",
        "r m@example.com",
        "rm@example.com ",
        "rm@ex@ample.com",
    ] {
        assert!(!looks_like_email(bad), "{bad:?}");
    }
}

#[test]
fn the_mail_sender_and_every_approver_must_be_email_addresses() {
    let text = local_with("sender: baton@example.com", "sender: baton");
    assert_eq!(
        messages_at(&text, "mail.sender"),
        ["must be an email address verified in SES"]
    );
    let text = local_with(
        "[release-manager@example.com, cab@example.com]",
        "[release-manager@example.com, cab]",
    );
    assert_eq!(problem_paths(&text), ["environments[1].approvers[1]"]);
    assert_eq!(
        messages_at(&text, "environments[1].approvers[1]"),
        ["must be an email address"]
    );
    let text = local_with("approvers: [release-manager@example.com]", "approvers: []");
    assert_eq!(
        messages_at(&text, "environments[0].approvers"),
        ["at least one approver email is needed"]
    );
}

#[test]
fn component_names_are_lowercase_folder_names_of_at_most_32_characters() {
    for good in ["web", "a", "patient-api", "api2", "a-1-b", &"a".repeat(32)] {
        assert!(is_component_name(good), "{good}");
    }
    for bad in [
        "",
        "Web",
        "1web",
        "-web",
        "web_api",
        "web.api",
        "web api",
        "wéb",
        &"a".repeat(33),
    ] {
        assert!(!is_component_name(bad), "{bad:?}");
    }
    let text = local_with("- name: web ", "- name: Web ");
    assert_eq!(
        messages_at(&text, "components[0].name"),
        [
            "must start with a lowercase letter and use only a-z, 0-9 and '-' (at most 32); it is the folder name under packages/"
        ]
    );
}

#[test]
fn component_names_must_be_unique() {
    let text = local_with("- name: state ", "- name: web ");
    assert_eq!(
        messages_at(&text, "components[1].name"),
        ["is used by another component; names must be unique"]
    );
}

#[test]
fn environment_names_start_with_a_letter_and_use_letters_digits_dashes_and_underscores() {
    let renamed = |name: &str| {
        LOCAL
            .replace("- name: TEST", &format!("- name: {name}"))
            .replace("TEST: {", &format!("{name}: {{"))
    };
    for good in ["QA", "eu-west_2", "Prod2", "a", &"E".repeat(32)] {
        accepted(&renamed(good));
    }
    for bad in ["2TEST", "TE.ST", "TE+ST", "_TEST", "'TE ST'", &"E".repeat(33)] {
        assert_eq!(
            messages_at(&renamed(bad), "environments[0].name"),
            ["must start with a letter and use only letters, digits, '-' and '_' (at most 32)"],
            "{bad}"
        );
    }
}

#[test]
fn environment_names_must_be_unique() {
    let text = LOCAL.replace("- name: PROD", "- name: TEST");
    assert!(
        messages_at(&text, "environments[1].name")
            .contains(&"is used by another environment; names must be unique".to_string()),
        "{:?}",
        problems(&text)
    );
}

#[test]
fn at_least_one_environment_and_one_component_are_needed() {
    let start = LOCAL
        .find("environments:                     # lifecycle order")
        .unwrap();
    let end = LOCAL.find("workflow:").unwrap();
    let no_environments = format!("{}environments: []\n{}", &LOCAL[..start], &LOCAL[end..]);
    assert_eq!(
        messages_at(&no_environments, "environments"),
        ["at least one environment is needed (e.g. TEST, then PROD)"]
    );
    let start = LOCAL.find("components:").unwrap();
    let end = LOCAL
        .find("environments:                     # lifecycle order")
        .unwrap();
    let no_components = format!("{}components: []\n{}", &LOCAL[..start], &LOCAL[end..]);
    assert_eq!(problem_paths(&no_components), ["components"]);
}

#[test]
fn polling_and_lease_waits_are_between_1_and_3600_seconds() {
    for (seconds, ok) in [(0, false), (1, true), (3_600, true), (3_601, false)] {
        let text = local_with("poll_seconds: 1 ", &format!("poll_seconds: {seconds} "));
        let expected: &[&str] = if ok { &[] } else { &["must be between 1 and 3600"] };
        assert_eq!(messages_at(&text, "workflow.poll_seconds"), expected, "poll {seconds}");
        let text = local_with("lease_wait_seconds: 1 ", &format!("lease_wait_seconds: {seconds} "));
        assert_eq!(
            messages_at(&text, "workflow.lease_wait_seconds"),
            expected,
            "lease {seconds}"
        );
        if ok {
            accepted(&text);
        }
    }
}

#[test]
fn a_rollout_deadline_is_at_least_10_seconds() {
    for (deadline, ok) in [
        ("10s", true),
        ("9s", false),
        ("30m", true),
        ("0s", false),
        ("later", false),
    ] {
        let text = local_with("rollout_deadline: 2m ", &format!("rollout_deadline: {deadline} "));
        let expected: &[&str] = if ok {
            &[]
        } else {
            &["must be a duration of at least 10s, like 30m"]
        };
        assert_eq!(messages_at(&text, "workflow.rollout_deadline"), expected, "{deadline}");
    }
}

#[test]
fn a_lease_wait_timeout_is_at_least_1_second() {
    for (timeout, ok) in [("1s", true), ("0s", false), ("2h", true), ("soon", false)] {
        let text = local_with("lease_wait_timeout: 3m ", &format!("lease_wait_timeout: {timeout} "));
        let expected: &[&str] = if ok {
            &[]
        } else {
            &["must be a duration of at least 1s, like 2h"]
        };
        assert_eq!(messages_at(&text, "workflow.lease_wait_timeout"), expected, "{timeout}");
    }
}

#[test]
fn required_approvals_run_from_1_to_the_number_of_distinct_approvers() {
    let with = |n: usize| {
        local_with(
            "    on_newer_release: supersede\n    # required_approvals: 2",
            &format!("    on_newer_release: supersede\n    required_approvals: {n}"),
        )
    };
    accepted(&with(1));
    accepted(&with(2));
    let refused = "must be from 1 to the number of distinct approvers (2); a release could never be approved otherwise";
    assert_eq!(messages_at(&with(0), "environments[1].required_approvals"), [refused]);
    assert_eq!(messages_at(&with(3), "environments[1].required_approvals"), [refused]);
    // The same person twice, in another case, is one approver.
    let twice = with(2).replace("cab@example.com]", "Release-Manager@Example.com]");
    assert_eq!(
        messages_at(&twice, "environments[1].required_approvals"),
        ["must be from 1 to the number of distinct approvers (1); a release could never be approved otherwise"]
    );
}

#[test]
fn an_approval_request_lives_between_1_second_and_365_days() {
    for (ttl, ok) in [
        ("1s", true),
        ("365d", true),
        ("8760h", true),
        ("31536000", true),
        ("0s", false),
        ("366d", false),
        ("31536001", false),
        ("soon", false),
    ] {
        // (A year asked four times breaks the workflow's own limit, a separate problem.)
        let text = local_with("approval_ttl: 72h", &format!("approval_ttl: {ttl}"));
        let rule = "must be a duration between 1s and 365d, written like 90s, 30m, 24h or 7d";
        assert_eq!(refused_with(&text, "environments[1].approval_ttl", rule), !ok, "{ttl}");
    }
    accepted(&local_with("approval_ttl: 72h", "approval_ttl: 1s"));
}

#[test]
fn a_site_limit_is_from_1_to_400_mib() {
    for (mib, ok) in [(1, true), (200, true), (400, true)] {
        let text = local_with("max_total_mib: 200", &format!("max_total_mib: {mib}"));
        assert_eq!(ok, problems(&text).is_empty(), "{mib}");
    }
    let text = local_with("max_total_mib: 200", "max_total_mib: 0");
    assert_eq!(
        messages_at(&text, "components[0].max_total_mib"),
        ["must be at least 1"]
    );
    let text = local_with("max_total_mib: 200", "max_total_mib: 401");
    assert_eq!(
        messages_at(&text, "components[0].max_total_mib"),
        [
            "is 401; at most 400 (MiB), what the ingest and deploy-pages functions can hold: make the site smaller or lower the value"
        ]
    );
    // The limit is about web sites only.
    let text = local_with("    wave: 1\n", "    wave: 1\n    max_total_mib: 10\n");
    assert_eq!(
        messages_at(&text, "components[1].max_total_mib"),
        ["applies to web components only"]
    );
}

#[test]
fn each_kind_of_component_needs_its_own_platform_and_not_the_other() {
    let start = LOCAL.find("    cloudflare:").unwrap();
    let end = LOCAL.find("    environments:\n      TEST: { branch").unwrap();
    let web_without_cloudflare = format!("{}{}", &LOCAL[..start], &LOCAL[end..]);
    assert_eq!(
        messages_at(&web_without_cloudflare, "components[0].cloudflare"),
        ["a web component needs its Cloudflare Pages project (account_id, project, api_token_secret)"]
    );
    let text = local_with("project: baton-demo", "project: ' '");
    assert_eq!(
        messages_at(&text, "components[0].cloudflare.project"),
        ["must not be empty"]
    );
    let text = local_with("account_id: 023e105f4ecef8ad9ca31a8372d0c353", "account_id: ''");
    assert_eq!(problem_paths(&text), ["components[0].cloudflare.account_id"]);
    let text = local_with("api_token_secret: baton/cloudflare-api-token", "api_token_secret: ''");
    assert_eq!(problem_paths(&text), ["components[0].cloudflare.api_token_secret"]);
    let text = local_with(
        "credentials_secret: baton/anypoint-connected-app",
        "credentials_secret: ''",
    );
    assert_eq!(
        messages_at(&text, "components[1].anypoint.credentials_secret"),
        ["must not be empty"]
    );

    let web_with_anypoint = local_with(
        "    max_total_mib: 200\n",
        "    max_total_mib: 200\n    anypoint: { credentials_secret: x }\n",
    );
    assert_eq!(
        messages_at(&web_with_anypoint, "components[0].anypoint"),
        ["only state components deploy to Anypoint; remove it or change kind to state"]
    );
    let state_with_cloudflare = local_with(
        "    wave: 1\n",
        "    wave: 1\n    cloudflare: { account_id: a, project: p, api_token_secret: s }\n",
    );
    assert_eq!(
        messages_at(&state_with_cloudflare, "components[1].cloudflare"),
        ["only web components deploy to Cloudflare; remove it or change kind to web"]
    );
}

#[test]
fn every_component_has_settings_for_every_environment_and_no_other() {
    let text = local_with("      PROD: { branch: main }", "");
    assert_eq!(
        messages_at(&text, "components[0].environments.PROD"),
        ["missing: every component needs settings for every environment"]
    );
    let text = local_with(
        "      PROD: { branch: main }",
        "      PROD: { branch: main }\n      QA: { branch: qa }",
    );
    assert_eq!(
        messages_at(&text, "components[0].environments.QA"),
        ["is not a configured environment (see environments[].name)"]
    );
}

#[test]
fn a_web_component_names_a_branch_and_a_state_component_an_environment_and_target() {
    let text = local_with("TEST: { branch: test }", "TEST: { branch: ' ' }");
    assert_eq!(
        messages_at(&text, "components[0].environments.TEST.branch"),
        ["required for a web component"]
    );
    let text = local_with("TEST: { branch: test }", "TEST: { branch: test, target: t }");
    assert_eq!(
        messages_at(&text, "components[0].environments.TEST.target"),
        ["does not apply to a web component"]
    );
    let text = local_with("TEST: { branch: test }", "TEST: { branch: test, environment: Sandbox }");
    assert_eq!(problem_paths(&text), ["components[0].environments.TEST.environment"]);
    let text = local_with(
        "TEST: { environment: Sandbox, target: cloudhub-eu-west-1 }",
        "TEST: { target: cloudhub-eu-west-1 }",
    );
    assert_eq!(
        messages_at(&text, "components[1].environments.TEST.environment"),
        ["required for a state component"]
    );
    let text = local_with(
        "TEST: { environment: Sandbox, target: cloudhub-eu-west-1 }",
        "TEST: { environment: Sandbox, target: cloudhub-eu-west-1, branch: b }",
    );
    assert_eq!(
        messages_at(&text, "components[1].environments.TEST.branch"),
        ["does not apply to a state component"]
    );
}

#[test]
fn a_secure_properties_prefix_is_a_plain_secret_name_prefix_ending_in_a_slash() {
    let with = |prefix: &str| {
        local_with(
            "secure_properties_prefix: baton/secure-properties/",
            &format!("secure_properties_prefix: '{prefix}'"),
        )
    };
    let path = "components[1].anypoint.secure_properties_prefix";
    for good in ["a/", "team-a/", "baton/secure-properties/", "x_y+z=1.2@3/apps/"] {
        assert_eq!(messages_at(&with(good), path), Vec::<String>::new(), "{good}");
    }
    let shape = "must be a Secrets Manager name prefix ending in '/', such as baton/secure-properties/";
    let characters = "may use only letters, digits and /_+=.@- (a secret name prefix, not an ARN or a pattern), such as baton/secure-properties/";
    let segments = "must not contain empty, '.' or '..' segments; use a plain prefix such as baton/secure-properties/";
    for (bad, why) in [
        ("baton", shape),
        ("baton/secure-properties", shape),
        ("/baton/", shape),
        ("/", shape),
        ("", shape),
        ("arn:aws:secretsmanager:x/", characters),
        ("baton/*/", characters),
        ("baton/?/", characters),
        ("baton props/", characters),
        ("a//b/", segments),
        ("a/./", segments),
        ("a/../", segments),
        ("../", segments),
    ] {
        assert_eq!(messages_at(&with(bad), path), [why], "{bad:?}");
    }
}

#[test]
fn the_time_zone_is_an_iana_name_and_defaults_to_utc() {
    assert_eq!(crate::common::local().zone(), chrono_tz::UTC);
    let london = local_with("public_url:", "timezone: Europe/London\npublic_url:");
    accepted(&london);
    let config = baton_domain::BatonConfig::from_yaml(&london).expect("valid");
    assert_eq!(config.zone(), chrono_tz::Europe::London);
    for bad in ["Europe/Lndon", "BST", "+01:00", ""] {
        let text = local_with("public_url:", &format!("timezone: \"{bad}\"\npublic_url:"));
        assert_eq!(
            messages_at(&text, "timezone"),
            ["must be an IANA time zone name, like Europe/London, America/New_York or UTC"],
            "{bad}"
        );
    }
}

#[test]
fn freeze_windows_are_read_in_the_configured_zone_and_refused_naming_their_field() {
    let with_freezes = |freezes: &str| {
        local_with("  - name: PROD\n", &format!("  - name: PROD\n    freezes:\n{freezes}")).replacen(
            "public_url:",
            "timezone: Europe/London\npublic_url:",
            1,
        )
    };
    let weekend = with_freezes(
        "      - { reason: weekend, every: Friday 16:00, until: Monday 08:00 }\n      - { reason: year-end, start: 2026-12-24 00:00, end: 2026-12-27 08:00 }\n",
    );
    accepted(&weekend);
    let config = baton_domain::BatonConfig::from_yaml(&weekend).expect("valid");
    let prod = config.environment("PROD").expect("PROD");
    // Saturday 4 July 2026, British Summer Time: the freeze ends Monday 08:00 BST, 07:00 UTC.
    let freeze = prod
        .freeze_at(config.zone(), crate::common::utc(2026, 7, 4, 12, 0))
        .expect("frozen on a Saturday");
    assert_eq!(freeze.reason, "weekend");
    assert_eq!(freeze.ends_at, crate::common::utc(2026, 7, 6, 7, 0));
    assert_eq!(
        prod.freeze_at(config.zone(), crate::common::utc(2026, 7, 6, 7, 0)),
        None
    );
    let test = config.environment("TEST").expect("TEST");
    assert_eq!(
        test.freeze_at(config.zone(), crate::common::utc(2026, 7, 4, 12, 0)),
        None
    );

    let unreadable = with_freezes("      - { reason: weekend, every: Friday 16:00, until: 8am }\n");
    assert_eq!(
        messages_at(&unreadable, "environments[1].freezes[0].until"),
        ["must be a weekday and a time, like Monday 08:00"]
    );
    let misspelt = with_freezes("      - { reason: weekend, every: Friday 16:00, untill: Monday 08:00 }\n");
    assert!(
        problem_paths(&misspelt)
            .iter()
            .any(|p| p.starts_with("environments[1].freezes[0]")),
        "{:?}",
        problems(&misspelt)
    );
}
