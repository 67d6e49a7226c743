use super::*;

fn config() -> BatonConfig {
    BatonConfig::from_yaml(include_str!("../../../../infra/config/baton.local.yaml")).unwrap()
}

fn pkg(component: &str, version: &str, sha: &str) -> PackageRef {
    PackageRef {
        component: component.into(),
        version: Version::parse(version).unwrap(),
        sha256: sha.into(),
        object_key: format!("packages/{component}/{version}/f"),
        s3_version_id: None,
    }
}

fn snap(items: &[PackageRef]) -> Snapshot {
    items.iter().map(|p| (p.component.clone(), p.clone())).collect()
}

#[test]
fn waits_until_every_component_has_a_package() {
    let plan = plan_release(&config(), &snap(&[pkg("web", "1.0.0", "a")]), &ReleaseCursor::default());
    assert_eq!(
        plan,
        ReleasePlan::Waiting {
            missing: vec!["state".into()]
        }
    );
}

#[test]
fn the_first_release_takes_every_head() {
    let heads = snap(&[pkg("web", "1.0.0", "a"), pkg("state", "2.0.0", "b")]);
    let ReleasePlan::New {
        number,
        snapshot,
        changes,
    } = plan_release(&config(), &heads, &ReleaseCursor::default())
    else {
        panic!("expected a new release")
    };
    assert_eq!(number, 1);
    assert_eq!(snapshot, heads);
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c.from.is_none()));
}

#[test]
fn an_unchanged_head_set_makes_no_release() {
    let heads = snap(&[pkg("web", "1.0.0", "a"), pkg("state", "2.0.0", "b")]);
    let cursor = ReleaseCursor {
        number: 4,
        release: Some(ReleaseId::from_number(4)),
        snapshot: heads.clone(),
    };
    assert_eq!(plan_release(&config(), &heads, &cursor), ReleasePlan::UpToDate);
}

#[test]
fn a_release_never_goes_back_in_version() {
    // The last release already holds web 1.2.0; a stale head of 1.1.0 must not win.
    let cursor = ReleaseCursor {
        number: 7,
        release: Some(ReleaseId::from_number(7)),
        snapshot: snap(&[pkg("web", "1.2.0", "w2"), pkg("state", "2.0.0", "s")]),
    };
    let heads = snap(&[pkg("web", "1.1.0", "w1"), pkg("state", "2.1.0", "s2")]);
    let ReleasePlan::New {
        number,
        snapshot,
        changes,
    } = plan_release(&config(), &heads, &cursor)
    else {
        panic!("new release")
    };
    assert_eq!(number, 8);
    assert_eq!(snapshot["web"].version.to_string(), "1.2.0");
    assert_eq!(
        changes,
        vec![ComponentChange {
            component: "state".into(),
            from: Some(Version::parse("2.0.0").unwrap()),
            to: Version::parse("2.1.0").unwrap()
        }]
    );
}

#[test]
fn content_hash_depends_on_versions_and_bytes() {
    let a = snap(&[pkg("web", "1.0.0", "a"), pkg("state", "1.0.0", "b")]);
    let b = snap(&[pkg("web", "1.0.0", "a"), pkg("state", "1.0.0", "c")]);
    assert_ne!(content_hash(&a), content_hash(&b));
    assert_eq!(content_hash(&a), content_hash(&a.clone()));
    assert_eq!(content_hash(&a).len(), 64);
}
