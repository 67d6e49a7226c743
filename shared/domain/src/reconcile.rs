//! Reconciling CloudHub 2.0 to a manifest: what to create, update, leave alone, and report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::manifest::ResolvedApplication;

/// An application as CloudHub runs it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveApplication {
    /// Application (deployment) name.
    pub name: String,
    /// CloudHub's deployment id.
    pub deployment_id: String,
    /// Exchange asset version it runs (or is being moved to).
    pub asset_version: Option<String>,
    /// Replicas.
    pub replicas: Option<u32>,
    /// vCores.
    pub v_cores: Option<f64>,
    /// Runtime version.
    pub runtime_version: Option<String>,
    /// Plain properties, when the platform returns them.
    pub properties: Option<BTreeMap<String, String>>,
    /// Names of the secure properties, when the platform returns them (never their values).
    #[serde(default)]
    pub secure_property_names: Option<std::collections::BTreeSet<String>>,
    /// Deployment status (`APPLIED`, `APPLYING`, `FAILED`, ...).
    pub status: String,
}

/// What to do with one application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum AppAction {
    /// Not running yet: create it.
    Create {
        /// Desired state.
        desired: Box<ResolvedApplication>,
    },
    /// Running with other settings: patch it.
    Update {
        /// Desired state.
        desired: Box<ResolvedApplication>,
        /// CloudHub's deployment id.
        deployment_id: String,
        /// What differs, in words (`asset 1.4.2 -> 1.5.0`, `replicas 1 -> 2`).
        changes: Vec<String>,
    },
    /// Already as desired.
    Unchanged {
        /// Name.
        name: String,
        /// Asset version.
        version: String,
        /// CloudHub's deployment id.
        #[serde(default)]
        deployment_id: String,
    },
    /// Running but not in the manifest: reported, never deleted.
    Orphaned {
        /// Name.
        name: String,
    },
}

impl AppAction {
    /// The application's name.
    pub fn name(&self) -> &str {
        match self {
            AppAction::Create { desired } | AppAction::Update { desired, .. } => &desired.name,
            AppAction::Unchanged { name, .. } | AppAction::Orphaned { name } => name,
        }
    }

    /// Whether the action changes CloudHub.
    pub fn changes_anything(&self) -> bool {
        matches!(self, AppAction::Create { .. } | AppAction::Update { .. })
    }
}

/// The reconciliation plan for one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcilePlan {
    /// One action per application, manifest order first, then orphans by name.
    pub actions: Vec<AppAction>,
}

impl ReconcilePlan {
    /// The applications the plan changes.
    pub fn changed(&self) -> impl Iterator<Item = &AppAction> {
        self.actions.iter().filter(|a| a.changes_anything())
    }

    /// A one-line summary per application, for people.
    pub fn summary(&self) -> BTreeMap<String, String> {
        self.actions
            .iter()
            .map(|a| {
                let text = match a {
                    AppAction::Create { desired } => format!("create at {}", desired.asset.version),
                    AppAction::Update { changes, .. } => format!("update: {}", changes.join(", ")),
                    AppAction::Unchanged { version, .. } => format!("unchanged at {version}"),
                    AppAction::Orphaned { .. } => "orphaned: running but not in the manifest (left alone)".to_string(),
                };
                (a.name().to_string(), text)
            })
            .collect()
    }
}

impl ReconcilePlan {
    /// The plan with every application whose secure properties now come from other secret
    /// versions than those `recorded` at its last deployment marked as an update. CloudHub never
    /// returns secure values, so this record is the only way to see a rotated secret. An
    /// application without a record (never deployed by Baton with fingerprints) is left as it is.
    pub fn with_secure_fingerprints(
        mut self,
        desired: &[ResolvedApplication],
        now: &BTreeMap<String, String>,
        recorded: &BTreeMap<String, String>,
    ) -> ReconcilePlan {
        for action in &mut self.actions {
            let name = action.name().to_string();
            let (Some(now), Some(before)) = (now.get(&name), recorded.get(&name)) else {
                continue;
            };
            if now == before {
                continue;
            }
            let change = "secure properties changed (a secret has a new version)".to_string();
            match action {
                AppAction::Update { changes, .. } => changes.push(change),
                AppAction::Unchanged { deployment_id, .. } => {
                    let Some(want) = desired.iter().find(|d| d.name == name) else {
                        continue;
                    };
                    *action = AppAction::Update {
                        desired: Box::new(want.clone()),
                        deployment_id: std::mem::take(deployment_id),
                        changes: vec![change],
                    };
                }
                _ => {}
            }
        }
        self
    }
}

/// Field by field: `property log.level added (WARN)`, `property http.port changed (8081 -> 8082)`,
/// `property x removed`. Plain properties are not secrets (the manifest refuses secret-looking
/// ones), so their values are shown.
fn property_changes(live: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> Vec<String> {
    let mut changes = Vec::new();
    for (key, value) in want {
        match live.get(key) {
            None => changes.push(format!("property {key} added ({value})")),
            Some(old) if old != value => changes.push(format!("property {key} changed ({old} -> {value})")),
            Some(_) => {}
        }
    }
    for key in live.keys().filter(|k| !want.contains_key(*k)) {
        changes.push(format!("property {key} removed"));
    }
    changes
}

/// Diffs the manifest, resolved for an environment, against what runs there. A failed
/// deployment counts as a difference, so a retry re-applies it.
pub fn plan(desired: &[ResolvedApplication], live: &[LiveApplication]) -> ReconcilePlan {
    let mut actions = Vec::new();
    for want in desired {
        let Some(have) = live.iter().find(|l| l.name.eq_ignore_ascii_case(&want.name)) else {
            actions.push(AppAction::Create {
                desired: Box::new(want.clone()),
            });
            continue;
        };
        let mut changes = Vec::new();
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
        if have.asset_version.as_deref() != Some(want.asset.version.as_str()) {
            changes.push(format!(
                "asset {} -> {}",
                shown(&have.asset_version),
                want.asset.version
            ));
        }
        if have.replicas.is_some_and(|r| r != want.replicas) {
            changes.push(format!(
                "replicas {} -> {}",
                have.replicas.unwrap_or_default(),
                want.replicas
            ));
        }
        if have.v_cores.is_some_and(|v| (v - want.v_cores).abs() > 1e-9) {
            changes.push(format!(
                "vCores {} -> {}",
                have.v_cores.unwrap_or_default(),
                want.v_cores
            ));
        }
        if let Some(runtime) = &have.runtime_version
            && !same_runtime(runtime, &want.runtime_version)
        {
            changes.push(format!("runtime {runtime} -> {}", want.runtime_version));
        }
        if let Some(properties) = &have.properties {
            changes.extend(property_changes(properties, &want.properties));
        }
        if let Some(names) = &have.secure_property_names {
            for name in want.secure_properties.keys().filter(|n| !names.contains(*n)) {
                changes.push(format!("secure property {name} added"));
            }
            for name in names.iter().filter(|n| !want.secure_properties.contains_key(*n)) {
                changes.push(format!("secure property {name} removed"));
            }
        }
        if have.status == "FAILED" && changes.is_empty() {
            changes.push("last deployment failed; re-applying".to_string());
        }
        if changes.is_empty() {
            actions.push(AppAction::Unchanged {
                name: want.name.clone(),
                version: want.asset.version.clone(),
                deployment_id: have.deployment_id.clone(),
            });
        } else {
            actions.push(AppAction::Update {
                desired: Box::new(want.clone()),
                deployment_id: have.deployment_id.clone(),
                changes,
            });
        }
    }
    let mut orphans: Vec<&LiveApplication> = live
        .iter()
        .filter(|l| !desired.iter().any(|d| d.name.eq_ignore_ascii_case(&l.name)))
        .collect();
    orphans.sort_by(|a, b| a.name.cmp(&b.name));
    actions.extend(
        orphans
            .into_iter()
            .map(|o| AppAction::Orphaned { name: o.name.clone() }),
    );
    ReconcilePlan { actions }
}

/// Whether the runtime the platform reports (`live`, an image tag such as `4.6.0:40e-java17`)
/// is the one the manifest names (`wanted`: a version such as `4.6.0`, or a full tag). A version
/// matches any tag of that version; a tag matches only itself. Compared by the part before `:`,
/// not by prefix, so `4.6.1` does not match `4.6.10:2e-java17`.
fn same_runtime(live: &str, wanted: &str) -> bool {
    if wanted.contains(':') {
        return live == wanted;
    }
    live.split(':').next() == Some(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn desired() -> Vec<ResolvedApplication> {
        let text = include_str!("../../../samples/state/manifest.yaml");
        Manifest::parse(text.as_bytes(), &["TEST", "PROD"])
            .unwrap()
            .resolve("TEST")
    }

    fn live(name: &str, version: &str) -> LiveApplication {
        LiveApplication {
            name: name.into(),
            deployment_id: format!("dep-{name}"),
            asset_version: Some(version.into()),
            replicas: Some(1),
            v_cores: Some(0.1),
            runtime_version: Some("4.9.0:12e-java17".into()),
            properties: None,
            secure_property_names: None,
            status: "APPLIED".into(),
        }
    }

    #[test]
    fn runtime_versions_match_the_tags_the_platform_reports() {
        assert!(same_runtime("4.6.0:40e-java17", "4.6.0"));
        assert!(same_runtime("4.6.0", "4.6.0"));
        assert!(same_runtime("4.6.0:40e-java17", "4.6.0:40e-java17"));
        assert!(!same_runtime("4.6.0:40e-java8", "4.6.0:40e-java17"));
        assert!(!same_runtime("4.6.10:2e-java17", "4.6.1"));
        assert!(!same_runtime("4.9.0:12e-java17", "4.6.0"));
        let mut tagged = live("patient-api", "1.4.2");
        tagged.runtime_version = Some("4.9.0:12e-java17".into());
        let want = desired();
        let p = plan(&want[..1], &[tagged]);
        assert!(
            matches!(&p.actions[0], AppAction::Unchanged { .. }),
            "4.9.0 runs as its tag: {:?}",
            p.actions
        );
    }

    #[test]
    fn an_empty_environment_creates_everything() {
        let p = plan(&desired(), &[]);
        assert_eq!(p.actions.len(), 2);
        assert!(p.actions.iter().all(|a| matches!(a, AppAction::Create { .. })));
        assert_eq!(p.changed().count(), 2);
    }

    #[test]
    fn versions_and_sizes_are_diffed_and_orphans_reported() {
        let mut admissions = live("admissions-api", "2.1.0");
        admissions.replicas = Some(3);
        let p = plan(
            &desired(),
            &[live("patient-api", "1.4.2"), admissions, live("legacy-api", "0.9.0")],
        );
        assert_eq!(
            p.actions[0],
            AppAction::Unchanged {
                name: "patient-api".into(),
                version: "1.4.2".into(),
                deployment_id: "dep-patient-api".into()
            }
        );
        match &p.actions[1] {
            AppAction::Update {
                changes, deployment_id, ..
            } => {
                assert_eq!(changes, &vec!["replicas 3 -> 1".to_string()]);
                assert_eq!(deployment_id, "dep-admissions-api");
            }
            other => panic!("expected an update, got {other:?}"),
        }
        assert_eq!(
            p.actions[2],
            AppAction::Orphaned {
                name: "legacy-api".into()
            }
        );
        assert_eq!(p.changed().count(), 1);
        assert!(p.summary()["legacy-api"].contains("left alone"));
    }

    #[test]
    fn a_new_asset_version_is_an_update_and_a_failed_one_is_retried() {
        let p = plan(
            &desired(),
            &[live("patient-api", "1.4.1"), live("admissions-api", "2.1.0")],
        );
        assert!(
            matches!(&p.actions[0], AppAction::Update { changes, .. } if changes == &vec!["asset 1.4.1 -> 1.4.2".to_string()])
        );
        let mut failed = live("admissions-api", "2.1.0");
        failed.status = "FAILED".into();
        let p = plan(&desired(), &[live("patient-api", "1.4.2"), failed]);
        assert!(matches!(&p.actions[1], AppAction::Update { .. }));
    }

    /// `app` running exactly as desired: version, runtime, replicas and vCores.
    fn running_as_desired(app: &ResolvedApplication) -> LiveApplication {
        let mut have = live(&app.name, &app.asset.version);
        have.runtime_version = Some(app.runtime_version.clone());
        have.replicas = Some(app.replicas);
        have.v_cores = Some(app.v_cores);
        have
    }

    #[test]
    fn a_property_only_change_is_an_update_named_field_by_field() {
        let want = desired();
        let patient = &want[0];
        let mut have = running_as_desired(patient);
        let mut live_properties = patient.properties.clone();
        live_properties.remove("admissions.url");
        live_properties.insert("http.port".into(), "9090".into());
        live_properties.insert("old.flag".into(), "true".into());
        have.properties = Some(live_properties);
        have.secure_property_names = Some(["legacy.token".to_string()].into_iter().collect());
        let plan = plan(&want[..1], &[have]);
        let AppAction::Update { changes, .. } = &plan.actions[0] else {
            panic!("a property change is an update: {plan:?}")
        };
        assert_eq!(
            changes,
            &vec![
                "property admissions.url added (https://admissions-api.example.cloudhub.io)".to_string(),
                "property http.port changed (9090 -> 8081)".to_string(),
                "property old.flag removed".to_string(),
                "secure property db.password added".to_string(),
                "secure property legacy.token removed".to_string(),
            ]
        );
    }

    #[test]
    fn the_same_properties_leave_an_application_unchanged() {
        let want = desired();
        let patient = &want[0];
        let mut have = running_as_desired(patient);
        have.properties = Some(patient.properties.clone());
        have.secure_property_names = Some(patient.secure_properties.keys().cloned().collect());
        assert!(matches!(
            plan(&want[..1], &[have]).actions[0],
            AppAction::Unchanged { .. }
        ));
    }

    #[test]
    fn a_rotated_secret_makes_an_otherwise_unchanged_application_an_update() {
        let want = desired();
        let patient = &want[0];
        let have = running_as_desired(patient);
        let unchanged = plan(&want[..1], &[have]);
        assert!(matches!(unchanged.actions[0], AppAction::Unchanged { .. }));
        let now = BTreeMap::from([(patient.name.clone(), "v2".to_string())]);
        let same = BTreeMap::from([(patient.name.clone(), "v2".to_string())]);
        let before = BTreeMap::from([(patient.name.clone(), "v1".to_string())]);
        let kept = unchanged.clone().with_secure_fingerprints(&want, &now, &same);
        assert_eq!(kept, unchanged);
        let unknown = unchanged
            .clone()
            .with_secure_fingerprints(&want, &now, &BTreeMap::new());
        assert_eq!(unknown, unchanged, "no record: nothing to compare with");
        let rotated = unchanged.with_secure_fingerprints(&want, &now, &before);
        let AppAction::Update {
            changes,
            deployment_id,
            desired,
        } = &rotated.actions[0]
        else {
            panic!("{rotated:?}")
        };
        assert_eq!(
            changes,
            &vec!["secure properties changed (a secret has a new version)".to_string()]
        );
        assert_eq!(deployment_id, "dep-patient-api");
        assert_eq!(desired.name, "patient-api", "the update deploys the application itself");
    }

    #[test]
    fn a_rotated_secret_adds_to_an_update_already_planned_and_sizes_are_compared() {
        let want = desired();
        let mut have = running_as_desired(&want[0]);
        have.v_cores = Some(0.2);
        let now = BTreeMap::from([(want[0].name.clone(), "v2".to_string())]);
        let before = BTreeMap::from([(want[0].name.clone(), "v1".to_string())]);
        let rotated = plan(&want[..1], &[have]).with_secure_fingerprints(&want, &now, &before);
        let AppAction::Update { changes, .. } = &rotated.actions[0] else {
            panic!("{rotated:?}")
        };
        assert_eq!(
            changes,
            &vec![
                "vCores 0.2 -> 0.1".to_string(),
                "secure properties changed (a secret has a new version)".to_string()
            ]
        );
    }
}
