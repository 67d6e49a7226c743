//! The weekly trends behind the overview's small charts.

use super::*;

fn looked(deployments: Vec<ComponentDeployment>, packages: Vec<Package>) -> LookedUp {
    LookedUp {
        environments: vec![environment("TEST", None, None), environment("PROD", None, None)],
        deployments,
        packages,
    }
}

#[test]
fn trends_put_each_production_deployment_and_wait_in_its_week() {
    let now = t0() + Duration::days(84);
    // Release 1 two and a half weeks ago: 10 minutes to sign-off in TEST, live in PROD at +50.
    let one = now - Duration::days(17);
    // Release 2 last week, three days later: live in PROD only.
    let two = now - Duration::days(3);
    let page = ReleasePage {
        releases: vec![
            release(2, ReleaseStatus::Released, two),
            release(1, ReleaseStatus::Released, one),
        ],
        next_before: None,
        ..Default::default()
    };
    let looked = looked(
        vec![
            deployment(1, "TEST", "web", one + Duration::minutes(10), 2),
            deployment(1, "PROD", "web", one + Duration::minutes(42), 8),
            deployment(2, "TEST", "web", two + Duration::hours(1), 1),
            deployment(2, "PROD", "web", two + Duration::hours(3), 1),
        ],
        vec![
            uploaded("web", "1.0.1", one - Duration::minutes(10)),
            uploaded("web", "1.0.2", two),
        ],
    );
    let trends = StatusView::build(&config(), &page, &[], &[], &looked, now).trends;
    assert_eq!(trends.weeks.len(), TREND_WEEKS);
    assert_eq!(
        trends.weeks_known, TREND_WEEKS,
        "every release is read: all weeks are known"
    );
    assert_eq!(trends.production, "PROD");
    let per_week: Vec<usize> = trends.weeks.iter().map(|w| w.deployments).collect();
    assert_eq!(per_week, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(trends.weeks[0].starts, now - Duration::days(84));
    // Uploaded 10 minutes before creation, live in PROD at +50: one hour.
    assert_eq!(trends.weeks[9].lead_time.map(|l| l.median_seconds), Some(3_600));
    assert_eq!(
        trends.weeks[11].lead_time.map(|l| l.median_seconds),
        Some(3 * 3_600 + 60)
    );
    // Week 9: 10 minutes for TEST, 30 for PROD (ready at +12, started at +42): median 20.
    let wait = trends.weeks[9].approval_wait.unwrap();
    assert_eq!((wait.median_seconds, wait.samples), (20 * 60, 2));
    assert_eq!(trends.weeks[5].approval_wait, None);
}

#[test]
fn trends_say_which_weeks_the_releases_read_do_not_reach() {
    let now = t0() + Duration::days(84);
    // Older releases exist beyond the page read, which reaches back three weeks only.
    let page = ReleasePage {
        releases: vec![release(9, ReleaseStatus::Released, now - Duration::days(20))],
        next_before: Some(9),
        ..Default::default()
    };
    let trends = StatusView::build(&config(), &page, &[], &[], &looked(vec![], vec![]), now).trends;
    assert_eq!(trends.weeks_known, 3);
    let known: Vec<bool> = trends.weeks.iter().map(|w| w.known).collect();
    assert_eq!(&known[..9], &[false; 9]);
    assert_eq!(&known[9..], &[true; 3]);
}

#[test]
fn deployments_outside_the_twelve_weeks_are_left_out() {
    let now = t0() + Duration::days(200);
    let old = now - Duration::days(90);
    let page = ReleasePage {
        releases: vec![release(1, ReleaseStatus::Released, old)],
        next_before: None,
        ..Default::default()
    };
    let looked = looked(vec![deployment(1, "PROD", "web", old, 1)], vec![]);
    let trends = StatusView::build(&config(), &page, &[], &[], &looked, now).trends;
    assert!(
        trends
            .weeks
            .iter()
            .all(|w| w.deployments == 0 && w.approval_wait.is_none())
    );
}

#[test]
fn the_stack_drawing_gets_its_links_from_the_configuration() {
    let mut config = config();
    config.stack.depends_on = BTreeMap::from([("web".to_string(), vec!["patient-api".to_string()])]);
    let page = ReleasePage {
        releases: vec![],
        next_before: None,
        ..Default::default()
    };
    let view = StatusView::build(&config, &page, &[], &[], &looked(vec![], vec![]), t0());
    assert_eq!(view.depends_on["web"], ["patient-api"]);
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["depends_on"]["web"][0], "patient-api");
    assert_eq!(json["trends"]["weeks"].as_array().map(Vec::len), Some(TREND_WEEKS));
}
