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

fn package(component: &str, version: &str, notes: &str) -> Package {
    Package {
        component: component.into(),
        version: Version::parse(version).unwrap(),
        kind: crate::config::ComponentKind::Web,
        object_key: format!("packages/{component}/{version}/site.zip"),
        s3_version_id: None,
        size: 1,
        sha256: format!("sha-{component}-{version}"),
        metadata: PackageMetadata {
            notes: Some(notes.into()),
            ..PackageMetadata::default()
        },
        contents: crate::package::PackageContents::Web { files: 1, bytes: 1 },
        registered_at: chrono::Utc::now(),
    }
}

fn versions(notes: &[ReleaseNote]) -> Vec<String> {
    notes.iter().map(|n| n.version.to_string()).collect()
}

#[test]
fn the_notes_between_what_is_live_and_what_comes_are_those_after_live_up_to_next_oldest_first() {
    let packages = [
        package("web", "1.3.0", "d"),
        package("web", "1.0.0", "a"),
        package("web", "1.2.0", "c"),
        package("web", "1.1.0", "b"),
    ];
    let next = Version::parse("1.2.0").unwrap();
    let live = Version::parse("1.0.0").unwrap();
    assert_eq!(
        versions(&notes_between(&packages, Some(&live), &next)),
        ["1.1.0", "1.2.0"]
    );
    assert_eq!(
        versions(&notes_between(&packages, None, &next)),
        ["1.0.0", "1.1.0", "1.2.0"]
    );
    assert_eq!(
        notes_between(&packages, Some(&live), &next)[0]
            .metadata
            .notes
            .as_deref(),
        Some("b")
    );
    // Nothing between a version and itself.
    assert!(notes_between(&packages, Some(&next), &next).is_empty());
}

#[test]
fn a_new_version_of_the_same_bytes_is_a_change_and_an_untouched_component_is_not() {
    let before = snap(&[pkg("web", "1.0.0", "a"), pkg("state", "2.0.0", "b")]);
    let cursor = ReleaseCursor {
        number: 1,
        release: Some(ReleaseId::from_number(1)),
        snapshot: before,
    };
    let heads = snap(&[pkg("web", "1.1.0", "a"), pkg("state", "2.0.0", "b")]);
    let ReleasePlan::New { number, changes, .. } = plan_release(&config(), &heads, &cursor) else {
        panic!("expected a new release")
    };
    assert_eq!(number, 2);
    assert_eq!(
        changes,
        [ComponentChange {
            component: "web".into(),
            from: Some(Version::parse("1.0.0").unwrap()),
            to: Version::parse("1.1.0").unwrap(),
        }]
    );
}

#[test]
fn a_release_carries_the_notes_of_exactly_the_packages_it_changes_to() {
    let changes = vec![ComponentChange {
        component: "web".into(),
        from: Some(Version::parse("1.0.0").unwrap()),
        to: Version::parse("1.1.0").unwrap(),
    }];
    let changed = [
        package("web", "1.0.0", "the old one"),
        package("state", "1.1.0", "another component"),
        package("web", "1.1.0", "the new one"),
    ];
    let release = Release::assemble(
        2,
        snap(&[pkg("web", "1.1.0", "a"), pkg("state", "2.0.0", "b")]),
        changes,
        &changed,
        &ReleaseCursor::default(),
        "upload",
        chrono::Utc::now(),
    );
    let notes: Vec<(&str, String, Option<&str>)> = release
        .notes
        .iter()
        .map(|n| (n.component.as_str(), n.version.to_string(), n.metadata.notes.as_deref()))
        .collect();
    assert_eq!(notes, [("web", "1.1.0".to_string(), Some("the new one"))]);
}

#[test]
fn an_upload_raises_its_components_head_only_when_first_or_higher() {
    let state = ReleaseState {
        heads: snap(&[pkg("web", "1.2.0", "a"), pkg("state", "2.0.0", "b")]),
        cursor: ReleaseCursor::default(),
    };
    let (heads, raises) = state.heads_with(&pkg("web", "1.3.0", "c"));
    assert!(raises);
    assert_eq!(heads["web"], pkg("web", "1.3.0", "c"));
    assert_eq!(heads["state"], pkg("state", "2.0.0", "b"), "other heads stay");

    let (heads, raises) = state.heads_with(&pkg("web", "1.1.0", "d"));
    assert!(!raises, "a lower version leaves the head");
    assert_eq!(heads, state.heads);
    let (_, raises) = state.heads_with(&pkg("web", "1.2.0", "a"));
    assert!(!raises, "the head itself (a repeated event) is not written again");

    let (heads, raises) = ReleaseState::default().heads_with(&pkg("web", "1.0.0", "e"));
    assert!(raises, "the first package of a component makes its head");
    assert_eq!(heads, snap(&[pkg("web", "1.0.0", "e")]));
}
