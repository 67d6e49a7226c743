//! The comparisons: field by field, in words people read.

use std::collections::{BTreeMap, BTreeSet};

use super::Difference;
use crate::manifest::ResolvedApplication;
use crate::reconcile::LiveApplication;

/// The version part of a runtime: CloudHub answers with a tag such as `4.6.0:40e-java17` where
/// the manifest says `4.6.0`; the part before `:` is the version Baton deployed.
pub fn runtime_version(runtime: &str) -> &str {
    runtime.split(':').next().unwrap_or(runtime).trim()
}

/// A number of vCores as people write it: `0.1`, `1`.
fn cores(v: f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Collects the differences of one component's environment, each worded with its subject.
struct Found<'a> {
    environment: &'a str,
    component: &'a str,
    all: Vec<Difference>,
}

impl Found<'_> {
    fn add(&mut self, subject: &str, field: &str, live: String, recorded: String, sentence: String) {
        self.all.push(Difference {
            environment: self.environment.to_string(),
            component: self.component.to_string(),
            subject: subject.to_string(),
            field: field.to_string(),
            live,
            recorded,
            sentence,
        });
    }
}

/// What differs between the applications Baton deployed (`desired`: the live release's manifest
/// resolved for the environment) and what CloudHub runs (`live`). A setting the platform did not
/// return is not compared (unknown is not a difference); applications Baton never deployed are
/// not its to report. Secure properties are compared by name only: their values are never read.
pub fn cloudhub(
    environment: &str,
    component: &str,
    desired: &[ResolvedApplication],
    live: &[LiveApplication],
) -> Vec<Difference> {
    let mut found = Found {
        environment,
        component,
        all: Vec::new(),
    };
    for want in desired {
        let name = want.name.as_str();
        let Some(have) = live.iter().find(|l| l.name.eq_ignore_ascii_case(name)) else {
            found.add(
                name,
                "presence",
                "absent".into(),
                want.asset.version.clone(),
                format!("{name} is not deployed; Baton deployed version {}", want.asset.version),
            );
            continue;
        };
        if let Some(version) = have.asset_version.as_deref().filter(|v| *v != want.asset.version) {
            found.add(
                name,
                "version",
                version.into(),
                want.asset.version.clone(),
                format!("{name} runs version {version}; Baton deployed {}", want.asset.version),
            );
        }
        if let Some(replicas) = have.replicas.filter(|r| *r != want.replicas) {
            let noun = if replicas == 1 { "replica" } else { "replicas" };
            found.add(
                name,
                "replicas",
                replicas.to_string(),
                want.replicas.to_string(),
                format!("{name} runs {replicas} {noun}; Baton deployed {}", want.replicas),
            );
        }
        if let Some(v) = have.v_cores.filter(|v| (v - want.v_cores).abs() > 1e-9) {
            found.add(
                name,
                "vCores",
                cores(v),
                cores(want.v_cores),
                format!(
                    "{name} runs on {} vCores; Baton deployed {}",
                    cores(v),
                    cores(want.v_cores)
                ),
            );
        }
        if let Some(runtime) = have
            .runtime_version
            .as_deref()
            .filter(|r| runtime_version(r) != runtime_version(&want.runtime_version))
        {
            found.add(
                name,
                "runtime",
                runtime.into(),
                want.runtime_version.clone(),
                format!(
                    "{name} runs Mule runtime {runtime}; Baton deployed {}",
                    want.runtime_version
                ),
            );
        }
        if let Some(properties) = &have.properties {
            properties_differ(&mut found, name, properties, &want.properties);
        }
        if let Some(names) = &have.secure_property_names {
            secure_names_differ(&mut found, name, names, &want.secure_properties);
        }
    }
    found.all
}

/// Plain properties, by value (they are not secrets: the manifest refuses secret-looking ones).
fn properties_differ(
    found: &mut Found<'_>,
    app: &str,
    live: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) {
    for (key, value) in want {
        let field = format!("property {key}");
        match live.get(key) {
            None => found.add(
                app,
                &field,
                "absent".into(),
                value.clone(),
                format!("{app} has no property {key}; Baton deployed {key}={value}"),
            ),
            Some(now) if now != value => found.add(
                app,
                &field,
                now.clone(),
                value.clone(),
                format!("{app} has property {key}={now}; Baton deployed {key}={value}"),
            ),
            Some(_) => {}
        }
    }
    for (key, now) in live.iter().filter(|(k, _)| !want.contains_key(*k)) {
        found.add(
            app,
            &format!("property {key}"),
            now.clone(),
            "absent".into(),
            format!("{app} has property {key}={now}; Baton did not deploy it"),
        );
    }
}

/// Secure properties by name only: a value is never read, compared or shown.
fn secure_names_differ<V>(found: &mut Found<'_>, app: &str, live: &BTreeSet<String>, want: &BTreeMap<String, V>) {
    for key in want.keys().filter(|k| !live.contains(*k)) {
        found.add(
            app,
            &format!("secure property {key}"),
            "absent".into(),
            "present".into(),
            format!("{app} has no secure property {key}; Baton deployed it"),
        );
    }
    for key in live.iter().filter(|k| !want.contains_key(*k)) {
        found.add(
            app,
            &format!("secure property {key}"),
            "present".into(),
            "absent".into(),
            format!("{app} has a secure property {key}; Baton did not deploy it"),
        );
    }
}

/// What differs between the Pages deployment Baton made live (`recorded`) and the one the
/// environment's branch serves (`serving`).
pub fn pages(environment: &str, component: &str, recorded: &str, serving: Option<&str>) -> Vec<Difference> {
    let short = |id: &str| id.chars().take(8).collect::<String>();
    let sentence = match serving {
        Some(id) if id == recorded => return Vec::new(),
        Some(id) => format!(
            "{component} serves Pages deployment {}; Baton deployed {}",
            short(id),
            short(recorded)
        ),
        None => format!(
            "{component} serves no Pages deployment; Baton deployed {}",
            short(recorded)
        ),
    };
    vec![Difference {
        environment: environment.to_string(),
        component: component.to_string(),
        subject: component.to_string(),
        field: "deployment".into(),
        live: serving.unwrap_or("none").to_string(),
        recorded: recorded.to_string(),
        sentence,
    }]
}
