use std::collections::BTreeSet;

use chrono::Utc;

use super::*;
use crate::manifest::{Manifest, ResolvedApplication};
use crate::reconcile::LiveApplication;

fn desired(env: &str) -> Vec<ResolvedApplication> {
    let text = include_str!("../../../../samples/state/manifest.yaml");
    Manifest::parse(text.as_bytes(), &["TEST", "PROD"])
        .unwrap()
        .resolve(env)
}

/// What CloudHub answers right after Baton deployed `want`, with the runtime as a tag.
fn as_deployed(want: &ResolvedApplication) -> LiveApplication {
    LiveApplication {
        name: want.name.clone(),
        deployment_id: format!("dep-{}", want.name),
        asset_version: Some(want.asset.version.clone()),
        replicas: Some(want.replicas),
        v_cores: Some(want.v_cores),
        runtime_version: Some(format!("{}:40e-java17", want.runtime_version)),
        properties: Some(want.properties.clone()),
        secure_property_names: Some(want.secure_properties.keys().cloned().collect()),
        status: "APPLIED".into(),
    }
}

fn live(env: &str) -> Vec<LiveApplication> {
    desired(env).iter().map(as_deployed).collect()
}

#[test]
fn nothing_differs_right_after_a_deployment_even_with_a_runtime_tag() {
    for env in ["TEST", "PROD"] {
        assert_eq!(cloudhub(env, "state", &desired(env), &live(env)), Vec::new(), "{env}");
    }
}

#[test]
fn scaled_replicas_are_worded_as_people_read_them() {
    let mut now = live("PROD");
    now[0].replicas = Some(3);
    let found = cloudhub("PROD", "state", &desired("PROD"), &now);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].words(),
        "PROD: patient-api runs 3 replicas; Baton deployed 2; changed outside Baton"
    );
}

#[test]
fn version_size_runtime_and_properties_are_each_a_difference() {
    let mut now = live("TEST");
    now[0].asset_version = Some("1.4.3".into());
    now[0].v_cores = Some(0.5);
    now[0].runtime_version = Some("4.8.0:40e-java17".into());
    let mut properties = now[0].properties.clone().unwrap();
    properties.insert("http.port".into(), "9090".into());
    properties.insert("debug".into(), "true".into());
    now[0].properties = Some(properties);
    let words: Vec<String> = cloudhub("TEST", "state", &desired("TEST"), &now)
        .iter()
        .map(Difference::words)
        .collect();
    for expected in [
        "TEST: patient-api runs version 1.4.3; Baton deployed 1.4.2; changed outside Baton",
        "TEST: patient-api runs on 0.5 vCores; Baton deployed 0.1; changed outside Baton",
        "TEST: patient-api runs Mule runtime 4.8.0:40e-java17; Baton deployed 4.9.0; changed outside Baton",
        "TEST: patient-api has property http.port=9090; Baton deployed http.port=8081; changed outside Baton",
        "TEST: patient-api has property debug=true; Baton did not deploy it; changed outside Baton",
    ] {
        assert!(words.iter().any(|w| w == expected), "{expected} not in {words:#?}");
    }
    assert_eq!(words.len(), 5, "{words:#?}");
}

#[test]
fn a_runtime_patch_is_compared_by_its_version_not_by_its_prefix() {
    assert_eq!(runtime_version("4.6.0:40e-java17"), "4.6.0");
    let mut want = desired("TEST");
    want[0].runtime_version = "4.6.1".into();
    let mut now = live("TEST");
    now[0].runtime_version = Some("4.6.10:40e-java17".into());
    let found = cloudhub("TEST", "state", &want, &now);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field, "runtime");
}

#[test]
fn secure_properties_are_compared_by_name_and_never_show_a_value() {
    let mut now = live("TEST");
    now[0].secure_property_names = Some(BTreeSet::from(["api.key".to_string()]));
    let found = cloudhub("TEST", "state", &desired("TEST"), &now);
    let words: Vec<String> = found.iter().map(Difference::words).collect();
    assert_eq!(
        words,
        vec![
            "TEST: patient-api has no secure property db.password; Baton deployed it; changed outside Baton",
            "TEST: patient-api has a secure property api.key; Baton did not deploy it; changed outside Baton",
        ]
    );
    assert!(found.iter().all(|d| ["present", "absent"].contains(&d.live.as_str())));
}

#[test]
fn what_the_platform_does_not_say_is_not_a_difference() {
    let mut now = live("TEST");
    for app in &mut now {
        app.replicas = None;
        app.v_cores = None;
        app.runtime_version = None;
        app.properties = None;
        app.secure_property_names = None;
    }
    assert_eq!(cloudhub("TEST", "state", &desired("TEST"), &now), Vec::new());
}

#[test]
fn a_removed_application_is_drift_and_an_unknown_one_is_not_batons() {
    let mut now = live("TEST");
    now.remove(1);
    let mut stranger = now[0].clone();
    stranger.name = "someone-elses-api".into();
    now.push(stranger);
    let words: Vec<String> = cloudhub("TEST", "state", &desired("TEST"), &now)
        .iter()
        .map(Difference::words)
        .collect();
    assert_eq!(
        words,
        vec!["TEST: admissions-api is not deployed; Baton deployed version 2.1.0; changed outside Baton"]
    );
}

#[test]
fn another_pages_deployment_is_drift() {
    assert_eq!(pages("PROD", "web", "abcdef1234", Some("abcdef1234")), Vec::new());
    let found = pages("PROD", "web", "abcdef1234", Some("99887766aa"));
    assert_eq!(
        found[0].words(),
        "PROD: web serves Pages deployment 99887766; Baton deployed abcdef12; changed outside Baton"
    );
    let none = pages("TEST", "web", "abcdef1234", None);
    assert_eq!(none.len(), 1);
}

#[test]
fn a_difference_keeps_its_key_until_its_value_changes() {
    let mut now = live("PROD");
    now[0].replicas = Some(3);
    let first = cloudhub("PROD", "state", &desired("PROD"), &now);
    let again = cloudhub("PROD", "state", &desired("PROD"), &now);
    assert_eq!(first[0].key(), again[0].key());
    now[0].replicas = Some(4);
    let other = cloudhub("PROD", "state", &desired("PROD"), &now);
    assert_ne!(first[0].key(), other[0].key());
}

#[test]
fn settling_opens_new_differences_and_resolves_only_what_was_checked() {
    let release = ReleaseId::from_number(3);
    let mut now = live("PROD");
    now[0].replicas = Some(3);
    let found = cloudhub("PROD", "state", &desired("PROD"), &now);
    let open: Vec<DriftRecord> = Vec::new();
    let (new, gone) = settle(&found, &open, &["state".to_string()]);
    assert_eq!((new.len(), gone.len()), (1, 0));

    let open = vec![DriftRecord::open(&found[0], &release, Utc::now())];
    let (new, gone) = settle(&found, &open, &["state".to_string()]);
    assert_eq!((new.len(), gone.len()), (0, 0), "a persisting difference is not new");

    let (new, gone) = settle(&[], &open, &["state".to_string()]);
    assert_eq!((new.len(), gone.len()), (0, 1), "a difference gone is resolved");

    let (new, gone) = settle(&[], &open, &["web".to_string()]);
    assert_eq!((new.len(), gone.len()), (0, 0), "an unread component resolves nothing");
}
