//! Guards `display_name` (issue 16, item 8): what business readers see for components and
//! environments, validated with errors naming the field, while ids stay in the JSON.

use baton_domain::BatonConfig;
use baton_domain::ports::status::{EnvironmentNow, LookedUp, ReleasePage, StatusView};

use crate::common::{at, from_json, local_with, problems};

const WEB: &str = "  - name: web                     # packages/web/<version>/site.zip\n";

fn named(display: &str) -> String {
    let text = local_with(WEB, &format!("  - name: web\n    display_name: {display}\n"));
    text.replacen(
        "  - name: PROD\n",
        "  - name: PROD\n    display_name: Live (patients)\n",
        1,
    )
}

#[test]
fn display_names_are_what_people_read_and_the_ids_stay() {
    let config = BatonConfig::from_yaml(&named("Patient Portal")).expect("valid");
    assert_eq!(config.component_label("web"), "Patient Portal");
    assert_eq!(config.component_label("state"), "state", "none set: the name itself");
    assert_eq!(config.environment_label("PROD"), "Live (patients)");
    assert_eq!(config.environment_label("TEST"), "TEST");

    let env = |name: &str| EnvironmentNow {
        state: from_json(serde_json::json!({
            "environment": name,
            "current": {
                "release_id": "rel-1", "number": 1, "since": at(0), "approved_by": null,
                "components": { "web": { "package": { "component": "web", "version": "1.0.0", "sha256": "s", "object_key": "k" }, "detail": null } },
            },
            "previous": null,
        })),
        deploying: None,
    };
    let view = StatusView::build(
        &config,
        &ReleasePage::default(),
        &[],
        &[],
        &LookedUp {
            environments: vec![env("TEST"), env("PROD")],
            ..Default::default()
        },
        at(10),
    );
    let json = serde_json::to_value(&view).expect("serialisable");
    let prod = &json["environments"][1];
    assert_eq!(
        (prod["name"].as_str(), prod["display_name"].as_str()),
        (Some("PROD"), Some("Live (patients)"))
    );
    let web = &prod["live"]["components"][0];
    assert_eq!(
        (web["component"].as_str(), web["display_name"].as_str()),
        (Some("web"), Some("Patient Portal"))
    );
    assert_eq!(json["environments"][0]["display_name"], "TEST");
}

#[test]
fn a_display_name_must_be_one_short_line_of_text() {
    for (display, says) in [
        ("\"  \"", "must not be empty"),
        (&format!("\"{}\"", "x".repeat(61)), "at most 60 characters"),
        ("\"Patient\\tPortal\"", "without control characters"),
    ] {
        let found = problems(&named(display));
        assert!(
            found
                .iter()
                .any(|(path, message)| path == "components[0].display_name" && message.contains(says)),
            "{display}: {found:?}"
        );
    }
    // 60 characters, with an ampersand: fine.
    let ok = format!("\"Patient & Admissions APIs{}\"", "x".repeat(60 - 25));
    assert_eq!(problems(&named(&ok)), vec![]);
}
